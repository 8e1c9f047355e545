package io.sluice.controller.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.wire.GoldenFlows.Case;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.OfctlFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.projectfloodlight.openflow.protocol.OFFlowModCommand;
import org.projectfloodlight.openflow.protocol.OFVersion;

/**
 * FlowEncoder's bytes against what real {@code ovs-ofctl} sends for OfctlFormat's text of the same flow.
 * Nothing here is typed in by hand: every expectation is produced by ovs-ofctl at test time.
 */
class FlowEncoderGoldenTest {
  @BeforeAll
  static void needOvs() {
    OfctlCapture.requireOvsOfctl();
  }

  static Stream<Arguments> addCases() {
    List<Arguments> a = new ArrayList<>();
    for (Case c : GoldenFlows.all()) {
      a.add(Arguments.of(OFVersion.OF_13, c));
      a.add(Arguments.of(OFVersion.OF_15, c));
    }
    // OF1.4 for a few: it has 1.3's registers, tcp_flags and meter instruction but 1.5's flow-mod header
    for (Case c : GoldenFlows.all()) {
      if (c.name().contains("tcp") || c.name().startsWith("meter") || c.name().contains("reg0-15") || c.name().startsWith("move")
          || c.name().startsWith("load") || c.name().contains("ct nat and exec") || c.name().contains("ct exec load") || c.name().contains("masquerade")) {
        a.add(Arguments.of(OFVersion.OF_14, c));
      }
    }
    return a.stream();
  }

  static String text(Flow f) {
    String t = OfctlFormat.flow(f);
    assertThat(t).startsWith(" ");
    return t.substring(1);
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("addCases")
  void addFlowMatchesOvs(OFVersion v, Case c) {
    byte[] ovs = OfctlCapture.addFlow(v, text(c.flow()));
    byte[] ours = FlowEncoder.flowMod(c.flow(), v, OFFlowModCommand.ADD, OfctlCapture.xid(ovs));
    assertThat(OfctlCapture.hex(ours)).as("flow-mod for %s", text(c.flow())).isEqualTo(OfctlCapture.hex(ovs));
  }

  static Stream<Arguments> strictCases() {
    List<Arguments> a = new ArrayList<>();
    List<Case> all = GoldenFlows.all();
    for (OFVersion v : List.of(OFVersion.OF_13, OFVersion.OF_14, OFVersion.OF_15)) {
      for (Case c : all) {
        if (c.name().startsWith("match") || c.name().startsWith("ct nat and") || c.name().startsWith("output")
            || c.name().startsWith("meter")) {
          a.add(Arguments.of(v, c));
        }
      }
    }
    return a.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("strictCases")
  void modifyStrictMatchesOvs(OFVersion v, Case c) {
    byte[] ovs = OfctlCapture.modFlowStrict(v, text(c.flow()));
    byte[] ours = FlowEncoder.flowMod(c.flow(), v, OFFlowModCommand.MODIFY_STRICT, OfctlCapture.xid(ovs));
    assertThat(OfctlCapture.hex(ours)).isEqualTo(OfctlCapture.hex(ovs));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("strictCases")
  void deleteStrictMatchesOvs(OFVersion v, Case c) {
    Flow f = c.flow();
    // ovs-ofctl del-flows takes neither a cookie to set nor actions
    String t = text(new Flow(f.table(), f.priority(), f.match(), List.of(), new Cookie(0)));
    assertThat(t).endsWith(" actions=drop");
    t = t.substring(0, t.length() - " actions=drop".length());
    if (f.table() == 0) {
      t = "table=0, " + t; // OfctlFormat leaves table 0 out, and del-flows would then mean every table
    }
    byte[] ovs = OfctlCapture.delFlowStrict(v, t);
    byte[] ours = FlowEncoder.flowMod(f, v, OFFlowModCommand.DELETE_STRICT, OfctlCapture.xid(ovs));
    assertThat(OfctlCapture.hex(ours)).isEqualTo(OfctlCapture.hex(ovs));
  }
}
