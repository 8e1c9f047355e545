package io.sluice.controller.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.sync.SwitchStatus;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.TestController;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.pipeline.PipelineProfile;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Real ovs-vswitchd (userspace datapath) connecting to Sluice's sessions. */
class HandshakeIT {

  @Test
  void severalBridgesAtOnceNegotiateTheirVersionsAndGetTheBasePipeline() throws Exception {
    try (Ovs ovs = new Ovs(); TestController c = new TestController(0, Duration.ofSeconds(1))) {
      String b1 = ovs.bridge("h1", 0xa1, "OpenFlow13,OpenFlow14,OpenFlow15", c.port());
      String b2 = ovs.bridge("h2", 0xa2, "OpenFlow13", c.port());
      String b3 = ovs.bridge("h3", 0xa3, "OpenFlow14", c.port());
      SwitchStatus s1 = c.awaitRealized(0xa1, Duration.ofSeconds(15));
      SwitchStatus s2 = c.awaitRealized(0xa2, Duration.ofSeconds(15));
      SwitchStatus s3 = c.awaitRealized(0xa3, Duration.ofSeconds(15));
      assertThat(s1.version()).isEqualTo("OF_15");
      assertThat(s2.version()).isEqualTo("OF_13");
      assertThat(s3.version()).isEqualTo("OF_14");
      long[] dpids = {0xa1, 0xa2, 0xa3};
      String[] bridges = {b1, b2, b3};
      for (int i = 0; i < 3; i++) {
        List<String> expected = PipelineProfile.ovs().baseFlows(dpids[i], 1).stream().map(Flow::toString).sorted().toList();
        if (i == 0) {
          assertThat(ovs.flows(bridges[i])).as("flows of %s, as ovs-ofctl prints them", bridges[i]).isEqualTo(expected);
        } else {
          assertThat(ovs.flows(bridges[i])).as("flows of %s", bridges[i]).hasSize(expected.size());
        }
      }
    }
  }

  @Test
  void aBridgeOfferingOnlyOpenFlow10IsRefusedCleanly() throws Exception {
    try (Ovs ovs = new Ovs(); TestController c = new TestController(0, Duration.ofSeconds(1))) {
      ovs.bridge("h0", 0xa0, "OpenFlow10", c.port());
      String good = ovs.bridge("h4", 0xa4, "OpenFlow13,OpenFlow14,OpenFlow15", c.port());
      c.awaitRealized(0xa4, Duration.ofSeconds(15));
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (c.metrics.refusedHandshakes() == 0 && System.nanoTime() < deadline) {
        Ovs.sleep(20);
      }
      assertThat(c.metrics.refusedHandshakes()).isPositive();
      assertThat(c.status(0xa0)).as("an OpenFlow 1.0 bridge never becomes a switch").isNull();
      assertThat(ovs.flows(good)).isNotEmpty();
    }
  }
}
