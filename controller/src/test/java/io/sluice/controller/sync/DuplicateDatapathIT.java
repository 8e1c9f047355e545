package io.sluice.controller.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.Sh;
import io.sluice.controller.testing.TestController;
import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Flow;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A second peer claiming the datapath id of a connected switch (here a second real bridge configured with the same
 * id) is refused while the first is up and answering: the real switch keeps receiving every change. Once the first
 * is gone, the other connects, takes over and is reconciled.
 */
class DuplicateDatapathIT {
  private static final long DPID = 0xd0d1;

  @Test
  void aSecondPeerWithAConnectedDatapathIdIsRefusedUntilTheFirstIsGone() throws Exception {
    try (Ovs ovs = new Ovs(); TestController c = new TestController(0, Duration.ofMillis(500))) {
      String real = ovs.bridge("dr", DPID, "OpenFlow13,OpenFlow14,OpenFlow15", c.port());
      c.setFlows(DPID, List.of(BundleIT.toHost(1, List.of(new Action.GotoTable(90)))));
      c.awaitRealized(DPID, Duration.ofSeconds(15));

      String impostor = ovs.bridge("di", DPID, "OpenFlow13,OpenFlow14,OpenFlow15", c.port());
      long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
      while (c.manager().refusedDuplicates() < 2 && System.nanoTime() < deadline) { // it retries: refused each time
        Ovs.sleep(20);
      }
      assertThat(c.manager().refusedDuplicates()).as("connections claiming a connected datapath id, refused").isGreaterThanOrEqualTo(2);
      // the real switch still receives changes; the impostor none
      c.setFlows(DPID, List.of(BundleIT.toHost(2, List.of(new Action.GotoTable(90)))));
      c.awaitRealized(DPID, Duration.ofSeconds(15));
      assertThat(ovs.flows(real)).anyMatch(l -> l.contains("nw_dst=10.0.0.2")).noneMatch(l -> l.contains("nw_dst=10.0.0.1"));
      assertThat(ovs.flows(impostor)).as("flows of the refused bridge").noneMatch(l -> l.contains("nw_dst=10.0.0."));
      assertThat(c.manager().connectedCount()).isEqualTo(1);

      // the first goes away for good: the other one gets in and is reconciled to the current tables
      Sh.run("ovs-vsctl", "del-br", real);
      deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (!ovs.flows(impostor).stream().anyMatch(l -> l.contains("nw_dst=10.0.0.2")) && System.nanoTime() < deadline) {
        Ovs.sleep(50);
      }
      assertThat(ovs.flows(impostor)).as("flows of the bridge that took over").anyMatch(l -> l.contains("nw_dst=10.0.0.2"));
      c.awaitRealized(DPID, Duration.ofSeconds(15));
      assertThat(c.manager().connectedCount()).isEqualTo(1);
    }
  }
}
