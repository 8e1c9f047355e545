package io.sluice.renderer.service;

import static io.sluice.renderer.service.ServiceTablesTest.clusterIp;
import static io.sluice.renderer.service.ServiceTablesTest.port;
import static io.sluice.renderer.service.ServiceTablesTest.slice;
import static io.sluice.renderer.service.ServiceTablesTest.slicePort;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.model.ClusterModel;
import io.sluice.model.EndpointSlice;
import io.sluice.model.ModelEvent;
import io.sluice.model.Namespace;
import io.sluice.model.Node;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.PortRef;
import io.sluice.model.Protocol;
import io.sluice.model.Service;
import io.sluice.model.Snapshot;
import io.sluice.renderer.flow.SharedTables;
import io.sluice.renderer.pipeline.PipelineProfile;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/**
 * {@link ServiceTables#next} updates the shared tables entry by entry; whatever the sequence of changes, the result must
 * be exactly what compiling the same snapshot from scratch gives: every flow, group, meter and UDP backend, and every
 * node's own flows. Services switch session affinity on and off and change its timeout, become NodePorts with either
 * external traffic policy or get internal traffic policy Local, and Nodes come, go and change addresses, among the
 * other changes.
 */
class ServiceTablesIncrementalTest {
  private static final PipelineProfile OVS = PipelineProfile.ovs();
  private static final String[] SERVICES = {"a", "b", "c", "d"};
  private static final int PODS = 6;

  /** One change: {@code kind} picks what, the other numbers pick which and how. */
  record Op(int kind, int which, int variant, int mask) { }

  @Provide
  Arbitrary<List<Op>> ops() {
    return Arbitraries.integers().between(0, 9).flatMap(kind -> Arbitraries.integers().between(0, 15).flatMap(which ->
        Arbitraries.integers().between(0, 3).flatMap(variant -> Arbitraries.integers().between(0, 63)
            .map(mask -> new Op(kind, which, variant, mask))))).list().ofMinSize(1).ofMaxSize(40);
  }

  @Property(tries = 200)
  void everyStepEqualsACompileFromScratch(@ForAll("ops") List<Op> ops) {
    ClusterModel model = new ClusterModel(1);
    List<ModelEvent> start = new ArrayList<>();
    start.add(new ModelEvent.NamespaceUpserted(new Namespace("shop", Map.of(), Map.of())));
    for (int i = 0; i < PODS; i++) {
      start.add(new ModelEvent.PodUpserted(new Pod(new ObjectRef("shop", "p" + i), Map.of("app", "x"),
          List.of(address(i)), List.of(), false)));
    }
    Snapshot snap = model.apply(start);
    ServiceTables t = ServiceTables.of(OVS, snap, 1);
    boolean affinityFlows = false;
    boolean nodeFlows = false;
    for (Op op : ops) {
      snap = model.apply(List.of(event(op)));
      ServiceTables before = t;
      t = t.next(snap);
      ServiceTables fresh = ServiceTables.of(OVS, snap, 1);
      assertSame(t.shared(), fresh.shared(), op);
      assertThat(t.flows()).as("flows after %s", op).isEqualTo(fresh.flows());
      assertThat(t.groups()).as("groups after %s", op).isEqualTo(fresh.groups());
      for (String node : List.of("", "node-0", "node-1", "node-2", "node-9")) {
        assertThat(t.nodeFlows(node)).as("flows of node '%s' after %s", node, op).isEqualTo(fresh.nodeFlows(node));
        nodeFlows |= !t.nodeFlows(node).isEmpty() && !node.isEmpty();
        affinityFlows |= t.nodeFlows(node).stream().anyMatch(f -> f.table() == PipelineProfile.SERVICE_AFFINITY_ENDPOINT);
      }
      for (long dpid = 0; dpid < 4; dpid++) {
        assertThat(t.nodeOf(dpid)).as("node of %d after %s", dpid, op).isEqualTo(fresh.nodeOf(dpid));
      }
      affinityFlows |= t.flows().stream().anyMatch(f -> f.table() == PipelineProfile.SERVICE_AFFINITY_ENDPOINT);
      if (t.shared().flows().equals(before.shared().flows()) && t.shared().groups().equals(before.shared().groups())
          && t.shared().meters().equals(before.shared().meters())
          && sameNodeFlows(t, before) && op.kind() != 6 && op.kind() != 7) { // (a Node change recompiles what has per-node flows)
        assertThat(t.sameAs(before)).as("an ineffective change keeps the very tables (%s)", op).isTrue();
      }
    }
    // the sequences must exercise session affinity with endpoints (table-15 flows), not only Services without it
    Statistics.label("affinity with endpoints").collect(affinityFlows);
    Statistics.label("affinity with endpoints").coverage(c -> c.check(true).percentage(p -> p >= 15));
    // and NodePorts or Local traffic policies on known nodes (per-node flows)
    Statistics.label("per-node flows").collect(nodeFlows);
    Statistics.label("per-node flows").coverage(c -> c.check(true).percentage(p -> p >= 15));
  }

  private static boolean sameNodeFlows(ServiceTables now, ServiceTables before) {
    return List.of("", "node-0", "node-1", "node-2").stream().allMatch(n -> now.nodeFlows(n).equals(before.nodeFlows(n)));
  }

  private static void assertSame(SharedTables got, SharedTables want, Op op) {
    assertThat(new HashMap<>(got.flows())).as("shared flows after %s", op).isEqualTo(new HashMap<>(want.flows()));
    assertThat(new HashMap<>(got.groups())).as("shared groups after %s", op).isEqualTo(new HashMap<>(want.groups()));
    assertThat(new HashMap<>(got.meters())).as("shared meters after %s", op).isEqualTo(new HashMap<>(want.meters()));
    assertThat(List.copyOf(got.natBackends())).as("UDP backends after %s", op).isEqualTo(List.copyOf(want.natBackends()));
  }

  private static String address(int pod) {
    return "10.0.0." + (10 + pod);
  }

  private static ModelEvent event(Op op) {
    String svc = SERVICES[op.which() % SERVICES.length];
    int pod = op.which() % PODS;
    return switch (op.kind()) {
      case 0, 8, 9 -> new ModelEvent.ServiceUpserted(withTraffic(withAffinity(service(svc, op.variant()), op.mask() % 4),
          op.mask() / 4 % 4));
      case 1 -> new ModelEvent.ServiceDeleted(new ObjectRef("shop", svc));
      case 2, 3 -> new ModelEvent.EndpointSliceUpserted(slice(svc + "-" + (op.variant() % 2), svc,
          EndpointSlice.AddressType.IPV4, List.of(slicePort("http", Protocol.TCP, 8080), slicePort("dns", Protocol.UDP, 53)),
          endpoints(op.mask())));
      case 4 -> new ModelEvent.EndpointSliceDeleted(new ObjectRef("shop", svc + "-" + (op.variant() % 2)));
      case 6 -> new ModelEvent.NodeUpserted(new Node("node-" + op.which() % 3, Map.of(),
          op.variant() == 3 ? List.of() : List.of("192.168.1." + (op.which() % 3 + 10 * op.variant())),
          op.mask() % 3 == 0 ? Set.of() : Set.of((long) (op.which() + op.mask()) % 4)));
      case 7 -> new ModelEvent.NodeDeleted("node-" + op.which() % 3);
      default -> op.variant() < 2
          ? new ModelEvent.PortBound(new PortBinding(new ObjectRef("shop", "p" + pod), 1, 10 + pod,
              String.format("02:00:00:00:00:%02x", pod + op.variant())))
          : new ModelEvent.PortUnbound(new ObjectRef("shop", "p" + pod));
    };
  }

  /** Variants of a Service: ports and addresses change, and two Services may claim one address (variant 3). */
  private static Service service(String name, int variant) {
    int n = name.charAt(0) - 'a';
    String ip = variant == 3 ? "10.96.0.200" : "10.96.0." + (10 + n);
    return switch (variant) {
      case 0 -> clusterIp("shop", name, List.of(ip), port("http", Protocol.TCP, 80, PortRef.of("http")));
      case 1 -> clusterIp("shop", name, List.of(ip), port("http", Protocol.TCP, 80, PortRef.of(8080)),
          port("dns", Protocol.UDP, 53, PortRef.of(53)));
      case 2 -> clusterIp("shop", name, List.of(ip), port("web", Protocol.TCP, 8080, PortRef.of(8080)));
      default -> clusterIp("shop", name, List.of(ip), port("dns", Protocol.UDP, 53 + n, PortRef.of("dns")));
    };
  }

  /**
   * Session affinity: 0 None, 1 ClientIP for 2 s, 2 ClientIP for 600 s, 3 ClientIP without a timeout (the default);
   * a timeout change is a Service change too.
   */
  private static Service withAffinity(Service s, int affinity) {
    if (affinity == 0) {
      return s;
    }
    return new Service(s.ref(), s.type(), s.clusterIPs(), s.ports(), s.selector(), Service.SessionAffinity.CLIENT_IP,
        affinity == 1 ? 2 : affinity == 2 ? 600 : 0);
  }

  /**
   * Traffic: 0 as given; 1 a NodePort (30000 + port), external policy Cluster; 2 the same with policy Local and an
   * external IP; 3 internal traffic policy Local.
   */
  private static Service withTraffic(Service s, int traffic) {
    if (traffic == 0) {
      return s;
    }
    List<Service.Port> ports = s.ports().stream().map(p -> new Service.Port(p.name(), p.protocol(), p.port(),
        p.targetPort(), 30000 + p.port())).toList();
    return new Service(s.ref(), traffic == 3 ? Service.Type.CLUSTER_IP : Service.Type.NODE_PORT, s.clusterIPs(), ports,
        s.selector(), s.sessionAffinity(), s.sessionAffinityTimeoutSeconds(),
        traffic == 2 ? List.of("203.0.113." + (int) s.ref().name().charAt(0)) : List.of(), List.of(),
        traffic == 2 ? Service.TrafficPolicy.LOCAL : Service.TrafficPolicy.CLUSTER,
        traffic == 3 ? Service.TrafficPolicy.LOCAL : Service.TrafficPolicy.CLUSTER, List.of(), false, 0);
  }

  /** Endpoints of the pods whose bit is set; bit 5 turns the odd ones not ready. */
  private static EndpointSlice.Endpoint[] endpoints(int mask) {
    List<EndpointSlice.Endpoint> out = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      if ((mask & (1 << i)) != 0) {
        boolean ready = (mask & 32) == 0 || i % 2 == 0;
        // pods 0-3 on node-0 and node-1 by turns (bit 4 swaps them), pod 4 on no node
        String node = i == 4 ? "" : "node-" + ((i + (mask >> 4 & 1)) % 2);
        out.add(new EndpointSlice.Endpoint(List.of(address(i)), ready, ready, false,
            java.util.Optional.of(new ObjectRef("shop", "p" + i)), node));
      }
    }
    return out.toArray(EndpointSlice.Endpoint[]::new);
  }
}
