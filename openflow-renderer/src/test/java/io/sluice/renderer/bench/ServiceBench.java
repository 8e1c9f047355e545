package io.sluice.renderer.bench;

import io.sluice.model.ClusterModel;
import io.sluice.model.ModelEvent;
import io.sluice.model.Snapshot;
import io.sluice.renderer.Renderer;
import io.sluice.renderer.flow.DesiredTables;
import io.sluice.renderer.pipeline.PipelineProfile;
import io.sluice.renderer.policy.PolicyIndex;
import io.sluice.renderer.scenario.ServiceScenario;
import io.sluice.renderer.service.ServiceTables;
import java.util.Locale;

/**
 * Service compiler figures ({@code make bench}): 10,000 ClusterIP Services with 10 ready endpoints each, the 100,000
 * endpoint pods spread over 1,000 switches (nodes). {@code svc.compile_10k_s} is the time to compile the Service
 * tables and render every switch's desired tables from them (median of 3 after one cold run), and the per-switch
 * counts of flows and groups that the Services add.
 */
public final class ServiceBench {
  private ServiceBench() { }

  public static void main(String[] args) {
    int services = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int endpoints = 10;
    int switches = 1_000;
    Snapshot snap = cluster(services, endpoints, switches);
    Renderer renderer = new Renderer(PipelineProfile.ovs(), 1);
    double cold = run(renderer, snap, switches, null);
    double[] warm = new double[3];
    long[] counts = new long[2];
    for (int i = 0; i < warm.length; i++) {
      warm[i] = run(renderer, snap, switches, counts);
    }
    java.util.Arrays.sort(warm);
    DesiredTables empty = renderer.render(new ClusterModel(1).snapshot(), 1);
    System.err.printf(Locale.ROOT, "svc: %d services x %d endpoints over %d switches; cold %.3f s, warm %.3f/%.3f/%.3f s%n",
        services, endpoints, switches, cold, warm[0], warm[1], warm[2]);
    System.out.printf(Locale.ROOT, "BENCH svc.compile_10k_s %.3f s%n", warm[1]);
    System.out.println("BENCH svc.flows_per_switch_10k " + (counts[0] - empty.size()) + " flows");
    System.out.println("BENCH svc.groups_per_switch_10k " + counts[1] + " groups");
  }

  /** Seconds to compile the Service tables once and render every switch; counts: flows and groups of the last. */
  private static double run(Renderer renderer, Snapshot snap, int switches, long[] counts) {
    System.gc();
    long t0 = System.nanoTime();
    PolicyIndex index = PolicyIndex.of(snap);
    long t1 = System.nanoTime();
    ServiceTables services = renderer.services(snap);
    long t2 = System.nanoTime();
    DesiredTables last = null;
    for (long dpid = 1; dpid <= switches; dpid++) {
      last = renderer.render(index, services, dpid, null).tables();
    }
    double s = (System.nanoTime() - t0) / 1e9;
    System.err.printf(Locale.ROOT, "svc: policy index %.3f s, Service tables %.3f s, %d switches rendered %.3f s%n",
        (t1 - t0) / 1e9, (t2 - t1) / 1e9, switches, (System.nanoTime() - t2) / 1e9);
    if (counts != null) {
      counts[0] = last.size();
      counts[1] = last.groups().size();
    }
    return s;
  }

  static Snapshot cluster(int services, int endpoints, int switches) {
    return new ClusterModel(1).apply(ServiceScenario.events(services, endpoints, switches, 1));
  }
}
