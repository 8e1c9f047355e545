package io.sluice.controller.bench;

import io.sluice.controller.sync.SwitchManager;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.Sh;
import io.sluice.controller.testing.TestController;
import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.flow.Field;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.Match;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@code make bench}: pushes N flows through Sluice onto a real bridge (desired state to barrier confirmed) and, in
 * the same run and alternating with it (each going first in every other round), the same flows with
 * {@code ovs-ofctl --bundle add-flows}, and reports medians; then reconciles a
 * 100,000-flow switch that is already in sync. Prints one {@code BENCH <name> <value> <unit>} line per figure.
 */
public final class Bench {
  private Bench() { }

  public static void main(String[] args) throws Exception {
    Ovs.ensureRunning();
    // one unreported round first: a running controller is JIT-warm, a fresh JVM is not
    push(10_000, 1, null);
    // medians of several alternating rounds: a 10k push takes ~0.1-0.3 s, so one disturbed round moves a mean a lot
    push(10_000, 7, "10k");
    push(100_000, 3, "100k");
    System.exit(0);
  }

  /** Distinct flows of the shape a policy pipeline has: an IPv4 5-tuple-ish match in table 0. */
  static List<Flow> flows(int n) {
    List<Flow> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Match m = Match.builder().ipv4().exact(Field.IP_PROTO, 6)
          .exact(Field.IPV4_SRC, 0x0a000000L + (i >>> 4)).exact(Field.TCP_DST, 1000 + (i & 15)).build();
      out.add(new Flow(0, 200, m, List.of(new Action.GotoTable(90)), Cookie.of(Cookie.Category.BENCH, 1, i)));
    }
    return out;
  }

  static void push(int n, int rounds, String label) throws Exception {
    List<Flow> flows = flows(n);
    Path file = Files.createTempFile("sluice-bench", ".flows");
    StringBuilder sb = new StringBuilder(n * 96);
    for (Flow f : flows) {
      sb.append(f.toString().trim()).append('\n');
    }
    Files.writeString(file, sb);
    double[] sluice = new double[rounds];
    double[] ofctl = new double[rounds];
    double reconcileS = -1;
    int reconcileMods = -1;
    try (Ovs ovs = new Ovs()) {
      for (int r = 0; r < rounds; r++) {
        // alternate which goes first, so neither is always the one measured on a freshly disturbed machine
        if (r % 2 == 0) {
          ofctl[r] = ofctl(ovs, r, file);
        }
        // Sluice onto a fresh bridge
        long dpid = 0xf000 + r;
        try (TestController c = new TestController(0, Duration.ofSeconds(2))) {
          String sb2 = ovs.bridge("s" + r, dpid, "OpenFlow13,OpenFlow14,OpenFlow15", c.port());
          c.awaitRealized(dpid, Duration.ofSeconds(30));
          long t1 = System.nanoTime();
          c.setFlows(dpid, flows);
          c.awaitRealized(dpid, Duration.ofMinutes(5));
          sluice[r] = (System.nanoTime() - t1) / 1e9;
          if (r == rounds - 1 && n == 100_000) {
            // restart the controller: reconcile a switch that is already in sync
            int port = c.port();
            c.close();
            try (TestController again = new TestController(port, Duration.ofSeconds(2), null, 2)) {
              again.setFlows(dpid, flows);
              again.awaitRealized(dpid, Duration.ofMinutes(2));
              SwitchManager.ReconcileReport rep = null;
              for (int i = 0; i < 200 && (rep = again.manager().lastReconcile(dpid)) == null; i++) {
                Ovs.sleep(10);
              }
              reconcileS = rep.elapsed().toNanos() / 1e9;
              reconcileMods = rep.flowMods();
            }
          }
          Sh.run("ovs-vsctl", "del-br", sb2);
        }
        if (r % 2 == 1) {
          ofctl[r] = ofctl(ovs, r, file);
        }
      }
    } finally {
      Files.deleteIfExists(file);
    }
    if (label == null) {
      return;
    }
    double s = median(sluice);
    double o = median(ofctl);
    System.err.printf(Locale.ROOT, "push %s: sluice %s s, ovs-ofctl %s s%n", label, Arrays.toString(sluice), Arrays.toString(ofctl));
    print("push." + label + ".sluice_s", s, "s");
    print("push." + label + ".ofctl_s", o, "s");
    print("push." + label + ".ratio_vs_ofctl", s / o, "x");
    if (reconcileS >= 0) {
      print("reconcile.100k.in_sync_s", reconcileS, "s");
      System.out.println("BENCH reconcile.100k.flow_mods " + reconcileMods + " flow_mods");
    }
  }

  /** ovs-ofctl onto a fresh bridge (no controller: nothing else touches it); seconds. */
  static double ofctl(Ovs ovs, int r, Path file) {
    String ob = ovs.bridge("o" + r, 0xe000 + r, "OpenFlow13,OpenFlow14,OpenFlow15", 0);
    long t0 = System.nanoTime();
    Sh.run("ovs-ofctl", "-O", "OpenFlow15", "--bundle", "add-flows", ob, file.toString());
    double s = (System.nanoTime() - t0) / 1e9;
    Sh.run("ovs-vsctl", "del-br", ob);
    return s;
  }

  static double median(double[] v) {
    double[] c = v.clone();
    Arrays.sort(c);
    return c.length % 2 == 1 ? c[c.length / 2] : (c[c.length / 2 - 1] + c[c.length / 2]) / 2;
  }

  static void print(String name, double value, String unit) {
    System.out.printf(Locale.ROOT, "BENCH %s %.3f %s%n", name, value, unit);
  }
}
