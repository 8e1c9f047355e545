package io.sluice.controller.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.TestController;
import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.flow.Field;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.Match;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Changes go out as one bundle: all of it lands, or (one flow refused) none of it, and the refusal is named. */
class BundleIT {
  static Flow toHost(int i, List<Action> actions) {
    Match m = Match.builder().ipv4().exact(Field.IPV4_DST, 0x0a000000L + i).build();
    return new Flow(0, 100, m, actions, Cookie.of(Cookie.Category.BENCH, 1, i));
  }

  @ParameterizedTest
  @ValueSource(strings = {"OpenFlow13", "OpenFlow14", "OpenFlow15"})
  void aBundleInstallsAndABundleWithOneInvalidFlowChangesNothing(String protocol) throws Exception {
    long dpid = 0xb1 + protocol.hashCode() % 7 + 7;
    try (Ovs ovs = new Ovs(); TestController c = new TestController(0, Duration.ofSeconds(1))) {
      String br = ovs.bridge("b", dpid, protocol, c.port());
      c.awaitRealized(dpid, Duration.ofSeconds(15));

      List<Flow> good = new ArrayList<>();
      for (int i = 1; i <= 50; i++) {
        good.add(toHost(i, List.of(new Action.GotoTable(90))));
      }
      c.setFlows(dpid, good);
      SwitchStatus ok = c.awaitRealized(dpid, Duration.ofSeconds(15));
      List<String> before = ovs.flows(br);
      int base = io.sluice.renderer.pipeline.PipelineProfile.ovs().baseFlows(dpid, 1).size();
      assertThat(before).hasSize(base + 50).contains(good.get(0).toString());
      assertThat(ok.atomic()).isTrue();

      // change ten flows and add one that outputs to a port number no switch has (above OFPP_MAX); a flow using a
      // group the switch lacks, which this test used before, can no longer be desired (DesiredTables checks that)
      List<Flow> bad = new ArrayList<>();
      for (int i = 1; i <= 50; i++) {
        bad.add(toHost(i, i <= 10 ? List.of(new Action.Normal()) : List.of(new Action.GotoTable(90))));
      }
      Flow invalid = toHost(77, List.of(new Action.Output(0xffffff01L)));
      bad.add(invalid);
      long g = c.setFlows(dpid, bad);
      SwitchStatus refused = c.await(dpid, Duration.ofSeconds(15), s -> s.lastError() != null, "a refusal");
      assertThat(refused.realizedGeneration()).isLessThan(g);
      assertThat(refused.lastError()).contains("nw_dst=10.0.0.77").contains("BAD_OUT_PORT");
      assertThat(ovs.flows(br)).as("the switch is exactly as before").isEqualTo(before);
      PushResult r = c.manager().lastPush(dpid);
      assertThat(r.applied()).isFalse();
      assertThat(r.refused()).singleElement().satisfies(x -> assertThat(x.what()).contains("nw_dst=10.0.0.77"));

      // a flow the switch refuses as soon as it is added (in_port=65534 is not a valid OXM value): OVS would commit
      // the rest of the bundle, so Sluice discards it
      bad.remove(invalid);
      Flow undecodable = new Flow(0, 100, Match.builder().exact(Field.IN_PORT, 65534).build(), List.of(new Action.Normal()),
          Cookie.of(Cookie.Category.BENCH, 1, 78));
      bad.add(undecodable);
      long g2 = c.setFlows(dpid, bad);
      SwitchStatus refused2 = c.await(dpid, Duration.ofSeconds(15),
          s -> s.lastError() != null && s.lastError().contains("in_port=65534"), "a refusal at add");
      assertThat(refused2.realizedGeneration()).isLessThan(g2);
      assertThat(ovs.flows(br)).as("nothing of the discarded bundle landed").isEqualTo(before);
      bad.remove(undecodable);

      // fixing the model realizes the next generation
      c.setFlows(dpid, bad);
      c.awaitRealized(dpid, Duration.ofSeconds(15));
      assertThat(ovs.flows(br)).contains(bad.get(0).toString()).hasSize(base + 50);
    }
  }
}
