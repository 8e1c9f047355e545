package io.sluice.renderer.bench;

import io.sluice.model.ClusterModel;
import io.sluice.model.EndpointSlice;
import io.sluice.model.ModelEvent;
import io.sluice.model.Namespace;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.PortRef;
import io.sluice.model.Protocol;
import io.sluice.model.Service;
import io.sluice.model.Snapshot;
import io.sluice.renderer.Renderer;
import io.sluice.renderer.flow.DesiredTables;
import io.sluice.renderer.pipeline.PipelineProfile;
import io.sluice.renderer.policy.PolicyIndex;
import io.sluice.renderer.service.ServiceTables;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

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
    List<ModelEvent> ev = new ArrayList<>(services * (2 * endpoints + 2));
    ev.add(new ModelEvent.NamespaceUpserted(new Namespace("svc", Map.of(), Map.of())));
    int pod = 0;
    for (int s = 0; s < services; s++) {
      ObjectRef ref = new ObjectRef("svc", "s-" + s);
      ev.add(new ModelEvent.ServiceUpserted(new Service(ref, Service.Type.CLUSTER_IP, List.of(ip(0x0a600000 + s)),
          List.of(new Service.Port("http", Protocol.TCP, 80, PortRef.of("http"), 0)), Map.of("app", "s-" + s),
          Service.SessionAffinity.NONE, 0)));
      List<EndpointSlice.Endpoint> eps = new ArrayList<>(endpoints);
      for (int e = 0; e < endpoints; e++, pod++) {
        ObjectRef p = new ObjectRef("svc", "p-" + pod);
        String addr = ip(0x0a000000 + pod);
        ev.add(new ModelEvent.PodUpserted(new Pod(p, Map.of("app", "s-" + s), List.of(addr),
            List.of(new Pod.NamedPort("http", 8080, "TCP")), false)));
        ev.add(new ModelEvent.PortBound(new PortBinding(p, 1 + pod % switches, 1 + pod / switches,
            String.format("0a:58:%02x:%02x:%02x:%02x", (pod >>> 24) & 0xff, (pod >>> 16) & 0xff, (pod >>> 8) & 0xff, pod & 0xff))));
        eps.add(new EndpointSlice.Endpoint(List.of(addr), true, true, false, Optional.of(p), "node-" + (pod % switches)));
      }
      ev.add(new ModelEvent.EndpointSliceUpserted(new EndpointSlice(new ObjectRef("svc", "s-" + s + "-abc"), "s-" + s,
          EndpointSlice.AddressType.IPV4, eps, List.of(new EndpointSlice.Port("http", Protocol.TCP, OptionalInt.of(8080))))));
    }
    return new ClusterModel(1).apply(ev);
  }

  private static String ip(int a) {
    return ((a >>> 24) & 0xff) + "." + ((a >>> 16) & 0xff) + "." + ((a >>> 8) & 0xff) + "." + (a & 0xff);
  }
}
