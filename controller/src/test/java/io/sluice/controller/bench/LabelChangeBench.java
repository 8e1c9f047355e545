package io.sluice.controller.bench;

import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.sync.PushResult;
import io.sluice.controller.sync.SwitchStatus;
import io.sluice.controller.testing.Ovs;
import io.sluice.model.Snapshot;
import io.sluice.renderer.scenario.ScaleScenario;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.projectfloodlight.openflow.types.DatapathId;

/**
 * One pod-label change in the NetworkPolicy scale scenario (100,000 pods, 25,000 namespaces, 75,000 policies, 1,000
 * switches of 100 pods), realized by the whole runtime on one real Open vSwitch bridge that plays the first switch:
 * from {@code ClusterModel.apply} of the change to the bridge's barrier reply confirming the bundle. The changed pod
 * sits on that bridge; the other 999 switches hold nothing the change touches. Median over 25 changes after 5
 * warm-ups, the pod flipping between a selected and an unselected label.
 *
 * <pre>deploy/bench.sh labels</pre>
 */
public final class LabelChangeBench {
  private static final long FIRST_DPID = 0x5b00000000000001L;

  private LabelChangeBench() { }

  public static void main(String[] args) throws Exception {
    int namespaces = args.length > 0 ? Integer.parseInt(args[0]) : 25_000;
    Ovs.ensureRunning();
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(5), RuntimeConfig.Role.EQUAL, 0, 2);
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      long t0 = System.nanoTime();
      rt.model().apply(ScaleScenario.events(namespaces, 100, FIRST_DPID));
      System.err.printf(Locale.ROOT, "label bench: model of %d pods loaded in %.2f s%n", rt.model().snapshot().pods().size(),
          (System.nanoTime() - t0) / 1e9);
      ovs.bridge("lbl", FIRST_DPID, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      SwitchStatus first = awaitRealized(rt, Duration.ofSeconds(60));
      System.err.printf(Locale.ROOT, "label bench: bridge connected and realized %d flows in %.2f s%n", first.flows(),
          (System.nanoTime() - t0) / 1e9);

      List<Double> millis = new ArrayList<>();
      List<Integer> flowMods = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        Snapshot before = rt.model().snapshot();
        long start = System.nanoTime();
        Snapshot after = rt.model().apply(List.of(ScaleScenario.labelFlip(before, "ns-0")));
        awaitGeneration(rt, after.generation(), Duration.ofSeconds(10));
        double ms = (System.nanoTime() - start) / 1e6;
        PushResult push = rt.switches().lastPush(FIRST_DPID);
        if (i >= 5) {
          millis.add(ms);
          flowMods.add(push.flowMods());
        }
        Thread.sleep(20);
      }
      Collections.sort(millis);
      System.err.printf(Locale.ROOT, "label bench: change-to-confirmed ms min %.2f median %.2f max %.2f; flow-mods %s%n",
          millis.get(0), millis.get(millis.size() / 2), millis.get(millis.size() - 1), flowMods);
      System.out.printf(Locale.ROOT, "BENCH netpol.label_change_to_confirmed_ms %.2f ms%n", millis.get(millis.size() / 2));
      System.out.println("BENCH netpol.label_change.flow_mods " + Collections.max(flowMods) + " flow-mods");
    }
  }

  private static SwitchStatus status(SluiceRuntime rt) {
    String name = DatapathId.of(FIRST_DPID).toString();
    return rt.switches().statuses().stream().filter(s -> s.datapathId().equals(name)).findFirst().orElse(null);
  }

  private static SwitchStatus awaitRealized(SluiceRuntime rt, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      SwitchStatus s = status(rt);
      if (s != null && s.connected() && s.realizedGeneration() == rt.model().generation()) {
        return s;
      }
      Thread.sleep(10);
    }
    throw new IllegalStateException("bridge did not realize generation " + rt.model().generation() + ": " + status(rt));
  }

  /** Polls every 50 µs (a longer sleep would round the figure up) until the switch confirmed {@code generation}. */
  private static void awaitGeneration(SluiceRuntime rt, long generation, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      SwitchStatus s = status(rt);
      if (s != null && s.realizedGeneration() >= generation) {
        return;
      }
      java.util.concurrent.locks.LockSupport.parkNanos(50_000);
    }
    throw new IllegalStateException("generation " + generation + " not confirmed: " + status(rt));
  }
}
