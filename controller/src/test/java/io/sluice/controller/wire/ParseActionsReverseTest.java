package io.sluice.controller.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.sluice.controller.wire.GoldenFlows.Case;
import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.OfctlFormat;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.projectfloodlight.openflow.protocol.OFVersion;

/**
 * The reverse check: our action bytes, fed to {@code ovs-ofctl parse-actions}, must read back as OfctlFormat's
 * text of the same actions.
 */
class ParseActionsReverseTest {
  @BeforeAll
  static void needOvs() {
    OfctlCapture.requireOvsOfctl();
  }

  /** Actions whose OVS text differs from OfctlFormat's in this version, and why. */
  static boolean textDiffers(List<Action> actions, OFVersion v) {
    for (Action a : actions) {
      // before OF1.5 a partial load is reg_load, which OVS prints as load:V->NXM_..[a..b], not set_field:V/M->f
      if (v != OFVersion.OF_15 && a instanceof Action.Ct ct && ct.exec().stream().anyMatch(ParseActionsReverseTest::partial)) {
        return true;
      }
      if (v != OFVersion.OF_15 && partial(a)) {
        return true;
      }
      // OfctlFormat prints set_field targets by their match names (dl_dst, nw_src, tp_dst) and the value of
      // tp_dst in hex; OVS's action printer says eth_dst, ip_src, tcp_dst and 8080. Both parse to the same bytes.
      if (a instanceof Action.SetField s && SET_FIELD_NAMES_DIFFER.contains(s.value().field())) {
        return true;
      }
    }
    return false;
  }

  static final java.util.Set<io.sluice.renderer.flow.Field> SET_FIELD_NAMES_DIFFER = java.util.EnumSet.of(
      io.sluice.renderer.flow.Field.ETH_SRC, io.sluice.renderer.flow.Field.ETH_DST,
      io.sluice.renderer.flow.Field.IPV4_SRC, io.sluice.renderer.flow.Field.IPV4_DST,
      io.sluice.renderer.flow.Field.TCP_SRC, io.sluice.renderer.flow.Field.TCP_DST,
      io.sluice.renderer.flow.Field.UDP_SRC, io.sluice.renderer.flow.Field.UDP_DST);

  static boolean partial(Action a) {
    return a instanceof Action.Load l && !(l.ofs() == 0 && l.nBits() == l.field().bits());
  }

  static byte[] actionBytes(List<Action> actions, OFVersion v) {
    ByteBuf b = Unpooled.buffer();
    FlowEncoder.writeActions(b, actions, v);
    byte[] out = new byte[b.readableBytes()];
    b.readBytes(out);
    return out;
  }

  void check(OFVersion v) {
    List<List<Action>> lists = new ArrayList<>();
    for (Case c : GoldenFlows.all()) {
      List<Action> acts = c.flow().actions().stream().filter(a -> !(a instanceof Action.GotoTable)).toList();
      boolean meterInstruction = !acts.isEmpty() && acts.get(0) instanceof Action.Meter && v != OFVersion.OF_15;
      if (!acts.isEmpty() && !textDiffers(acts, v) && !meterInstruction) {
        lists.add(acts);
      }
    }
    List<String> ovs = OfctlCapture.parseActions(v, lists.stream().map(l -> actionBytes(l, v)).toList());
    assertThat(ovs).hasSize(lists.size());
    List<String> ours = lists.stream().map(l -> "actions=" + OfctlFormat.actions(l)).toList();
    assertThat(ovs).containsExactlyElementsOf(ours);
  }

  @Test
  void openFlow13() {
    check(OFVersion.OF_13);
  }

  @Test
  void openFlow15() {
    check(OFVersion.OF_15);
  }

  @Test
  void aPortSetFieldPrintsAsOvsPrintsIt() {
    List<Action> l = List.of(
        new Action.SetField(io.sluice.renderer.flow.FieldValue.exact(io.sluice.renderer.flow.Field.TCP_DST, 8080)),
        new Action.Output(0xfffffffeL));
    assertThat(OfctlFormat.actions(l)).isEqualTo("set_field:8080->tcp_dst,LOCAL");
    assertThat(OfctlCapture.parseActions(OFVersion.OF_13, List.of(actionBytes(l, OFVersion.OF_13))))
        .containsExactly("actions=set_field:8080->tcp_dst,LOCAL");
  }

  @Test
  void partialLoadInOpenFlow13ReadsBackAsLoad() {
    List<Action> l = List.of(new Action.Load(io.sluice.renderer.flow.Field.REG3, 4, 8, 5));
    List<String> ovs = OfctlCapture.parseActions(OFVersion.OF_13, List.of(actionBytes(l, OFVersion.OF_13)));
    assertThat(ovs).containsExactly("actions=load:0x5->NXM_NX_REG3[4..11]");
  }
}
