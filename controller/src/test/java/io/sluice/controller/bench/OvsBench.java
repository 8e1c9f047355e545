package io.sluice.controller.bench;

import io.sluice.controller.testing.OvsOutage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Open vSwitch itself going away under a policy (issue 11), on a private OVS instance ({@link OvsOutage}), with a
 * 10 ms ping between two allowed pods:
 * <ul>
 *   <li>{@code ovs.restart_pings_lost}: pings lost across {@code ovs-ctl restart} (flows saved and restored);</li>
 *   <li>{@code ovs.crash_to_realized_s}: after SIGKILL of ovs-vswitchd and a fresh start with no flows, seconds from
 *       the switch's reconnection to Sluice's confirmed realization;</li>
 *   <li>{@code ovs.crash_pings_lost}, {@code ovs.restart_reconcile_flow_mods}: the pings lost across the crash, and
 *       the flow-mods Sluice sent when the restarted switch reconnected.</li>
 * </ul>
 * <pre>deploy/bench.sh ovs</pre>
 */
public final class OvsBench {
  private OvsBench() { }

  public static void main(String[] args) throws Exception {
    Path dir = Files.createTempDirectory("sluice-ovs-bench");
    OvsOutage.Result restart;
    OvsOutage.Result crash;
    try (OvsOutage o = new OvsOutage(dir)) {
      restart = o.restart();
      crash = o.crash();
    } finally {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
    System.err.printf(Locale.ROOT, "ovs bench: restart: %s%novs bench: crash: %s%n", brief(restart), brief(crash));
    System.out.printf(Locale.ROOT, "BENCH ovs.restart_pings_lost %d packets%n", restart.allowed().lost());
    System.out.printf(Locale.ROOT, "BENCH ovs.restart_reconcile_flow_mods %d flow-mods%n", restart.reconcile().flowMods());
    System.out.printf(Locale.ROOT, "BENCH ovs.crash_to_realized_s %.3f s%n", crash.reconnectToRealizedS());
    System.out.printf(Locale.ROOT, "BENCH ovs.crash_pings_lost %d packets%n", crash.allowed().lost());
    if (restart.denied().received() + crash.denied().received() > 0) {
      throw new IllegalStateException("denied pings were answered: " + restart.denied() + ", " + crash.denied());
    }
  }

  private static String brief(OvsOutage.Result r) {
    return String.format(Locale.ROOT, "%d of %d pings lost, denied %d of %d answered, switch back after %.3f s, "
            + "realized %.3f s later; %s; unanswered icmp_seq runs %s", r.allowed().lost(), r.allowed().sent(),
        r.denied().received(), r.denied().sent(), r.reconnectedS(), r.reconnectToRealizedS(), r.reconcile(),
        r.allowed().gaps());
  }
}
