package io.sluice.controller.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.Sh;
import io.sluice.controller.testing.TestController;
import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Flow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Restarts reconcile without flushing: the switch keeps forwarding, and flows already right are not touched. */
class ReconcileIT {
  private static final Pattern DURATION = Pattern.compile("duration=([0-9.]+)s");
  private static final Pattern PACKETS = Pattern.compile("n_packets=(\\d+)");

  @Test
  void controllerRestartLosesAtMostOnePingAndReconcilesWithoutFlowMods() throws Exception {
    long dpid = 0xc1;
    try (Ovs ovs = new Ovs()) {
      TestController first = new TestController(0, Duration.ofMillis(500), null, 1);
      int port = first.port();
      String br = ovs.bridge("r", dpid, "OpenFlow13,OpenFlow14,OpenFlow15", port);
      ovs.host(br, "a", "10.77.0.1/24", "aa:00:00:00:77:01", "ns", "a");
      ovs.host(br, "b", "10.77.0.2/24", "aa:00:00:00:77:02", "ns", "b");
      List<Flow> extra = new ArrayList<>();
      for (int i = 1; i <= 20; i++) {
        extra.add(BundleIT.toHost(i, List.of(new Action.GotoTable(90))));
      }
      first.setFlows(dpid, extra);
      first.awaitRealized(dpid, Duration.ofSeconds(15));
      // a flow Sluice does not own: it must survive everything
      Sh.run("ovs-ofctl", "-O", "OpenFlow15", "add-flow", br, "cookie=0x1234,priority=5,arp,arp_tpa=192.0.2.1,actions=drop");
      assertThat(ovs.inHost("a", 10, "ping", "-c", "1", "-W", "2", "10.77.0.2").code()).as("ping before restart").isZero();

      CompletableFuture<Sh.Result> ping = CompletableFuture.supplyAsync(
          () -> ovs.inHost("a", 60, "ping", "-i", "0.05", "-c", "160", "-W", "1", "10.77.0.2"));
      Ovs.sleep(1500);
      Map<String, double[]> beforeStats = stats(ovs.flowsWithStats(br));
      first.close();
      Ovs.sleep(1000);
      try (TestController second = new TestController(port, Duration.ofMillis(500), null, 2)) {
        second.setFlows(dpid, extra);
        second.awaitRealized(dpid, Duration.ofSeconds(15));
        Sh.Result r = ping.get();
        Matcher m = Pattern.compile("(\\d+) packets transmitted, (\\d+) received").matcher(r.out());
        assertThat(m.find()).as("ping summary in: %s", r.out()).isTrue();
        int lost = Integer.parseInt(m.group(1)) - Integer.parseInt(m.group(2));
        System.out.println("controller restart: " + lost + " of " + m.group(1) + " pings lost");
        assertThat(lost).as("pings lost across a controller restart").isLessThanOrEqualTo(1);

        SwitchManager.ReconcileReport reconcile = second.manager().lastReconcile(dpid);
        assertThat(reconcile.flowMods()).as("flow-mods to reconcile an in-sync switch").isZero();
        Map<String, double[]> afterStats = stats(ovs.flowsWithStats(br));
        assertThat(afterStats.keySet()).isEqualTo(beforeStats.keySet());
        for (Map.Entry<String, double[]> e : beforeStats.entrySet()) {
          double[] after = afterStats.get(e.getKey());
          assertThat(after[0]).as("duration of %s survives (not re-added)", e.getKey()).isGreaterThan(e.getValue()[0]);
          assertThat(after[1]).as("packets of %s survive", e.getKey()).isGreaterThanOrEqualTo(e.getValue()[1]);
        }
        assertThat(ovs.flows(br)).anyMatch(l -> l.contains("cookie=0x1234"));
      }
    }
  }

  @Test
  void aRestartRepairsChangedMissingAndExtraFlowsAcrossAManyPartDumpAndLeavesForeignOnes() throws Exception {
    long dpid = 0xc2;
    try (Ovs ovs = new Ovs()) {
      TestController first = new TestController(0, Duration.ofMillis(500), null, 1);
      int port = first.port();
      String br = ovs.bridge("x", dpid, "OpenFlow13,OpenFlow14,OpenFlow15", port);
      List<Flow> extra = new ArrayList<>();
      for (int i = 1; i <= 3000; i++) { // several flow-stats reply parts
        extra.add(BundleIT.toHost(i, List.of(new Action.GotoTable(90))));
      }
      first.setFlows(dpid, extra);
      first.awaitRealized(dpid, Duration.ofSeconds(30));
      List<String> desired = withoutCookies(ovs.flows(br));
      first.close();

      // while no controller is connected: one flow lost, one changed, one stray Sluice flow, one foreign flow
      String[] of = {"ovs-ofctl", "-O", "OpenFlow15"};
      Sh.run(concat(of, "del-flows", "--strict", br, "priority=100,ip,nw_dst=10.0.0.7"));
      Sh.run(concat(of, "mod-flows", "--strict", br, "priority=100,ip,nw_dst=10.0.0.8,actions=drop"));
      long stray = io.sluice.renderer.flow.Cookie.of(io.sluice.renderer.flow.Cookie.Category.BENCH, 1, 99_999).value();
      Sh.run(concat(of, "add-flow", br, "cookie=0x" + Long.toHexString(stray) + ",priority=100,ip,nw_dst=10.9.9.9,actions=drop"));
      Sh.run(concat(of, "add-flow", br, "cookie=0x1234,priority=5,arp,arp_tpa=192.0.2.1,actions=drop"));
      assertThat(withoutCookies(ovs.flows(br))).isNotEqualTo(desired);

      try (TestController second = new TestController(port, Duration.ofMillis(500), null, 2)) {
        second.setFlows(dpid, extra);
        second.awaitRealized(dpid, Duration.ofSeconds(30));
        // the generation is confirmed inside the reconcile, a moment before its report is recorded
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (second.manager().lastReconcile(dpid) == null && System.nanoTime() < deadline) {
          Ovs.sleep(5);
        }
        SwitchManager.ReconcileReport reconcile = second.manager().lastReconcile(dpid);
        assertThat(reconcile).as("reconcile report").isNotNull();
        assertThat(reconcile.flowMods()).as("re-add, modify, delete").isEqualTo(3);
        assertThat(reconcile.foreign()).isEqualTo(1);
        List<String> now = ovs.flows(br);
        assertThat(now).anyMatch(l -> l.contains("cookie=0x1234"));
        List<String> ours = new ArrayList<>(withoutCookies(now));
        ours.removeIf(l -> l.contains("arp_tpa=192.0.2.1"));
        assertThat(ours).isEqualTo(desired);
      }
    }
  }

  private static String[] concat(String[] head, String... tail) {
    String[] all = java.util.Arrays.copyOf(head, head.length + tail.length);
    System.arraycopy(tail, 0, all, head.length, tail.length);
    return all;
  }

  private static List<String> withoutCookies(List<String> lines) {
    return lines.stream().map(l -> l.replaceAll("cookie=0x[0-9a-f]+, ", "").trim()).sorted().toList();
  }

  /** flow text without stats -> {duration, packets}. */
  static Map<String, double[]> stats(List<String> lines) {
    Map<String, double[]> m = new TreeMap<>();
    for (String l : lines) {
      Matcher d = DURATION.matcher(l);
      Matcher p = PACKETS.matcher(l);
      if (d.find() && p.find()) {
        String key = l.replaceAll(" duration=[0-9.]+s,", "").replaceAll(" n_packets=\\d+,", "")
            .replaceAll(" n_bytes=\\d+,", "").replaceAll(" idle_age=\\d+,", "").replaceAll(" hard_age=\\d+,", "");
        m.put(key, new double[] {Double.parseDouble(d.group(1)), Double.parseDouble(p.group(1))});
      }
    }
    return m;
  }
}
