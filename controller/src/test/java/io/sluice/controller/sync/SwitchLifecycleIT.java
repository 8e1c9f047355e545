package io.sluice.controller.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.Sh;
import io.sluice.controller.testing.TestController;
import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Flow;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The switch process itself stops, hangs and comes back. These tests touch the shared ovs-vswitchd. */
class SwitchLifecycleIT {
  private static final Path PIDFILE = Path.of("/var/run/openvswitch/ovs-vswitchd.pid");

  private static List<Flow> someFlows() {
    List<Flow> extra = new ArrayList<>();
    for (int i = 1; i <= 200; i++) {
      extra.add(BundleIT.toHost(i, List.of(new Action.GotoTable(90))));
    }
    return extra;
  }

  @Test
  void aSwitchThatStopsAnsweringIsDeclaredGoneWithinThreeEchoIntervalsAndComesBack() throws Exception {
    long dpid = 0xd1;
    Duration echo = Duration.ofMillis(300);
    try (Ovs ovs = new Ovs(); TestController c = new TestController(0, echo)) {
      String br = ovs.bridge("s", dpid, "OpenFlow13,OpenFlow14,OpenFlow15", c.port());
      c.setFlows(dpid, someFlows());
      c.awaitRealized(dpid, Duration.ofSeconds(15));
      List<String> flows = ovs.flows(br);
      String pid = Files.readString(PIDFILE).trim();
      long stopped;
      long goneAfterMs;
      Sh.run("kill", "-STOP", pid);
      try {
        stopped = System.nanoTime();
        c.await(dpid, Duration.ofSeconds(5), s -> !s.connected(), "disconnected");
        goneAfterMs = (System.nanoTime() - stopped) / 1_000_000;
      } finally {
        Sh.run("kill", "-CONT", pid);
      }
      System.out.println("switch declared gone " + goneAfterMs + " ms after SIGSTOP (echo interval " + echo.toMillis() + " ms)");
      assertThat(goneAfterMs).as("declared gone within 3 echo intervals").isLessThanOrEqualTo(3 * echo.toMillis());
      c.awaitRealized(dpid, Duration.ofSeconds(15));
      assertThat(ovs.flows(br)).as("flows intact after SIGCONT").isEqualTo(flows);
      assertThat(c.manager().lastReconcile(dpid).flowMods()).as("flow-mods to reconcile after SIGCONT").isZero();
    }
  }

  @Test
  void anOvsRestartGetsItsFlowsBackWithinTwoSecondsOfReconnecting() throws Exception {
    long dpid = 0xd2;
    try (Ovs ovs = new Ovs(); TestController c = new TestController(0, Duration.ofMillis(500))) {
      String br = ovs.bridge("o", dpid, "OpenFlow13,OpenFlow14,OpenFlow15", c.port());
      c.setFlows(dpid, someFlows());
      c.awaitRealized(dpid, Duration.ofSeconds(15));
      List<String> flows = ovs.flows(br);

      Sh.run("ovs-appctl", "-t", "ovs-vswitchd", "exit");
      c.await(dpid, Duration.ofSeconds(10), s -> !s.connected(), "disconnected");
      long start = System.nanoTime();
      Sh.run("/usr/share/openvswitch/scripts/ovs-ctl", "--no-ovsdb-server", "--no-monitor", "--system-id=random", "start");
      SwitchStatus back = c.await(dpid, Duration.ofSeconds(20), SwitchStatus::connected, "reconnected");
      long reconnectedMs = (System.nanoTime() - start) / 1_000_000;
      long t0 = System.nanoTime();
      c.awaitRealized(dpid, Duration.ofSeconds(10));
      long restoredMs = (System.nanoTime() - t0) / 1_000_000;
      SwitchManager.ReconcileReport r = c.manager().lastReconcile(dpid);
      System.out.println("OVS restart: switch reconnected " + reconnectedMs + " ms after vswitchd start; flows restored "
          + restoredMs + " ms after reconnecting (" + r.flowMods() + " flow-mods, reconcile " + r.elapsed().toMillis() + " ms)");
      assertThat(r.flowMods()).as("the restarted switch had lost its flows").isGreaterThanOrEqualTo(flows.size());
      assertThat(back).isNotNull();
      assertThat(restoredMs).as("flows restored within 2 s of reconnecting").isLessThan(2000);
      assertThat(ovs.flows(br)).isEqualTo(flows);
    } finally {
      Ovs.ensureRunning();
    }
  }
}
