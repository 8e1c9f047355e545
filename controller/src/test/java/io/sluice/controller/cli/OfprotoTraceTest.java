package io.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The ofproto/trace reader on traces OVS 3.1 printed in {@code TraceIT} (src/test/resources/trace): an allowed TCP SYN
 * (a conjunction in table 40, forwarded), a denied one (table 40's isolation drop to the controller), and one a
 * foreign flow let through; plus how each step is named and what counts as output to a port.
 */
class OfprotoTraceTest {
  private static String resource(String name) throws IOException {
    try (InputStream in = OfprotoTraceTest.class.getResourceAsStream("/trace/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void anAllowedTraceHasTwoPassesTheRuleAndTheOutput() throws IOException {
    OfprotoTrace t = OfprotoTrace.parse(resource("allowed.txt"));
    assertThat(t.passes()).hasSize(2);
    assertThat(t.passes().get(0).resumed()).isNull();
    assertThat(t.passes().get(0).steps()).extracting(OfprotoTrace.Step::table).containsExactly(0, 10);
    assertThat(t.passes().get(0).datapathActions()).startsWith("ct(zone=").contains("recirc(");
    assertThat(t.passes().get(1).resumed()).startsWith("recirc(").contains("ct_state=new|trk");
    assertThat(t.passes().get(1).steps()).extracting(OfprotoTrace.Step::table)
        .containsExactly(11, 12, 20, 30, 40, 50, 90);
    OfprotoTrace.Step rule = t.passes().get(1).steps().get(4);
    assertThat(rule.match()).startsWith("conj_id=");
    assertThat(rule.priority()).isEqualTo(200);
    assertThat(Long.toHexString(rule.cookie())).startsWith("5c02");
    assertThat(rule.actions()).containsExactly("goto_table:50");
    assertThat(rule.bridge()).isNotBlank();
    OfprotoTrace.Step commit = t.passes().get(1).steps().get(5);
    assertThat(commit.actions()).first().asString().startsWith("ct(commit,zone=");
    assertThat(commit.actions()).contains("goto_table:90").noneMatch(a -> a.startsWith("->"));
    assertThat(t.finalActions()).startsWith("ct(commit,zone=");
    assertThat(OfprotoTrace.outputs(t.finalActions())).hasSize(1);
  }

  @Test
  void aDeniedTraceEndsInTheIsolationDropToTheController() throws IOException {
    OfprotoTrace t = OfprotoTrace.parse(resource("denied.txt"));
    OfprotoTrace.Step last = t.steps().get(t.steps().size() - 1);
    assertThat(last.table()).isEqualTo(40);
    assertThat(last.priority()).isEqualTo(100);
    assertThat(Long.toHexString(last.cookie())).startsWith("5c05");
    assertThat(t.finalActions()).contains("userspace(").contains("controller(")
        .contains("rule_cookie=0x" + Long.toHexString(last.cookie()));
    assertThat(OfprotoTrace.outputs(t.finalActions())).as("nothing leaves by a port").isEmpty();
  }

  @Test
  void stepsAreNamedFromTheirCookieAndTheContext() throws IOException {
    JsonNode ctx = new ObjectMapper().readTree("""
        {"from": {"pod": "trc/probe", "ip": "10.75.0.3"}, "to": {"pod": "trc/db", "ip": "10.75.0.2"},
         "reference": {"allowed": false, "ingress": {"isolation": "ISOLATED", "isolatingPolicies": ["trc/db-allow"],
           "byNamespaceAnnotation": false, "allowedBy": []}, "egress": {"isolation": "NOT_ISOLATED",
           "isolatingPolicies": [], "byNamespaceAnnotation": false, "allowedBy": []}}}""");
    OfprotoTrace denied = OfprotoTrace.parse(resource("denied.txt"));
    List<OfprotoTrace.Step> steps = denied.steps();
    JsonNode none = new ObjectMapper().createObjectNode();
    assertThat(TraceCommand.meaning(steps.get(steps.size() - 1), ctx, none).text())
        .isEqualTo("dropped: ingress isolation of trc/db (by trc/db-allow), no rule allowed it");
    assertThat(TraceCommand.meaning(steps.get(0), ctx, none).text()).isEqualTo("admitted: the pod's port, sending from its own address");

    OfprotoTrace allowed = OfprotoTrace.parse(resource("allowed.txt"));
    OfprotoTrace.Step rule = allowed.passes().get(1).steps().get(4);
    String cookie = "0x" + Long.toHexString(rule.cookie());
    JsonNode rules = new ObjectMapper().readTree(
        "{\"" + cookie + "\": {\"policy\": \"trc/db-allow\", \"direction\": \"ingress\", \"rule\": 0}}");
    assertThat(TraceCommand.meaning(rule, ctx, rules).text()).isEqualTo("allowed by trc/db-allow ingress rule 0");
    assertThat(TraceCommand.meaning(rule, ctx, none).text()).contains("the controller's model no longer has");
    assertThat(TraceCommand.meaning(rule, ctx, rules).foreign()).isFalse();

    OfprotoTrace forged = OfprotoTrace.parse(resource("disagreement.txt"));
    OfprotoTrace.Step foreign = forged.steps().stream().filter(s -> s.table() == 40).findFirst().orElseThrow();
    assertThat(foreign.cookie()).isEqualTo(0x1234L);
    TraceCommand.Meaning m = TraceCommand.meaning(foreign, ctx, none);
    assertThat(m.foreign()).isTrue();
    assertThat(m.text()).startsWith("NOT SLUICE'S").contains("0x1234").contains("nw_src=10.75.0.3");
    assertThat(OfprotoTrace.outputs(forged.finalActions())).hasSize(1);
  }

  @Test
  void aPacketThroughAPatchPortIsJudgedOnTheSecondBridgeAfterItsResumption() throws IOException {
    OfprotoTrace t = OfprotoTrace.parse(resource("patch.txt"));
    assertThat(t.passes()).hasSize(3);
    String first = t.passes().get(0).steps().get(0).bridge();
    List<OfprotoTrace.Step> pass2 = t.passes().get(1).steps();
    String second = pass2.get(pass2.size() - 1).bridge();
    assertThat(second).as("the patch port's peer bridge, nested in the trace").isNotEqualTo(first).startsWith(first);
    assertThat(pass2.get(pass2.size() - 1).table()).isEqualTo(10);
    // OVS heads the third pass with the first bridge; it ran on the second (far's ingress rule is only there)
    List<OfprotoTrace.Step> pass3 = t.passes().get(2).steps();
    assertThat(pass3).allMatch(s -> s.bridge().equals(second));
    assertThat(pass3.stream().filter(s -> s.table() == 40).findFirst().orElseThrow().match()).startsWith("conj_id=");
    assertThat(OfprotoTrace.outputs(t.finalActions())).hasSize(1);
  }

  @Test
  void outputsAreTopLevelPortsAndClonesNotUserspaceOrConntrackArguments() {
    assertThat(OfprotoTrace.outputs("drop")).isEmpty();
    assertThat(OfprotoTrace.outputs("ct(commit,zone=32374),11")).containsExactly(11L);
    assertThat(OfprotoTrace.outputs("3,4,userspace(pid=0,controller(reason=1,recirc_id=5,max_len=128))"))
        .containsExactly(3L, 4L);
    assertThat(OfprotoTrace.outputs("meter(2),userspace(pid=0,controller(reason=1))")).isEmpty();
    assertThat(OfprotoTrace.outputs("clone(ct(commit,zone=2),7)")).containsExactly(7L);
    assertThat(OfprotoTrace.outputs(null)).isEmpty();
  }

  @Test
  void aNoMatchStepAndAMatchAllFlowAreRead() {
    String text = String.join("\n", "Flow: ip,in_port=1", "", "bridge(\"br0\")", "------------",
        " 0. priority 0, cookie 0x5c01000100000000", "    goto_table:10", "10. No match.", "    drop", "",
        "Final flow: unchanged", "Datapath actions: drop", "");
    OfprotoTrace t = OfprotoTrace.parse(text);
    assertThat(t.steps()).hasSize(2);
    assertThat(t.steps().get(0).match()).isEmpty();
    assertThat(t.steps().get(0).matched()).isTrue();
    assertThat(t.steps().get(1).matched()).isFalse();
    assertThat(t.steps().get(1).actions()).containsExactly("drop");
    assertThat(t.finalActions()).isEqualTo("drop");
  }

  @Test
  void notATraceIsRefused() {
    assertThatThrownBy(() -> OfprotoTrace.parse("ovs-appctl: cannot connect to \"/var/run/openvswitch/x.ctl\"\n"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not an ofproto/trace output");
  }

  @Test
  void dpifShowGivesEachBridgesDatapathPorts() {
    TraceCommand.DatapathPorts d = TraceCommand.DatapathPorts.parse(String.join("\n",
        "netdev@ovs-netdev: hit:2050841 missed:8847", "  audexp:", "    aud1 5/8: (tap)", "    audexp 65534/9: (tap)",
        "  sx0:", "    sx0 65534/6: (tap)", "    sx10-b 1/2: (system)", ""));
    assertThat(d.hasBridge("sx0")).isTrue();
    assertThat(d.hasBridge("sx1")).isFalse();
    assertThat(d.datapathPort("sx0", 1)).isEqualTo(2L);
    assertThat(d.datapathPort("audexp", 5)).isEqualTo(8L);
    assertThat(d.datapathPort("sx0", 5)).isNull();
  }

  @Test
  void theTracedFlowIsANewConnectionsFirstPacket() {
    assertThat(TraceCommand.flowOf("TCP", 3, "0a:58:0a:4b:00:03", "0a:58:0a:4b:00:02", "10.75.0.3", "10.75.0.2", 5432))
        .isEqualTo("tcp,in_port=3,dl_src=0a:58:0a:4b:00:03,dl_dst=0a:58:0a:4b:00:02,nw_src=10.75.0.3,"
            + "nw_dst=10.75.0.2,nw_ttl=64,tcp_src=49152,tcp_dst=5432,tcp_flags=syn");
    assertThat(TraceCommand.flowOf("UDP", 1, null, null, "fd00::1", "fd00::2", 40000, 53))
        .isEqualTo("udp6,in_port=1,ipv6_src=fd00::1,ipv6_dst=fd00::2,nw_ttl=64,udp_src=40000,udp_dst=53");
  }
}
