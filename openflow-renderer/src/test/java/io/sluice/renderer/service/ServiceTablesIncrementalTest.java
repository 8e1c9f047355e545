package io.sluice.renderer.service;

import static io.sluice.renderer.service.ServiceTablesTest.clusterIp;
import static io.sluice.renderer.service.ServiceTablesTest.ep;
import static io.sluice.renderer.service.ServiceTablesTest.port;
import static io.sluice.renderer.service.ServiceTablesTest.slice;
import static io.sluice.renderer.service.ServiceTablesTest.slicePort;
import static org.assertj.core.api.Assertions.assertThat;

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
import io.sluice.renderer.flow.SharedTables;
import io.sluice.renderer.pipeline.PipelineProfile;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * {@link ServiceTables#next} updates the shared tables entry by entry; whatever the sequence of changes, the result must
 * be exactly what compiling the same snapshot from scratch gives: every flow, group, meter and UDP backend.
 */
class ServiceTablesIncrementalTest {
  private static final PipelineProfile OVS = PipelineProfile.ovs();
  private static final String[] SERVICES = {"a", "b", "c", "d"};
  private static final int PODS = 6;

  /** One change: {@code kind} picks what, the other numbers pick which and how. */
  record Op(int kind, int which, int variant, int mask) { }

  @Provide
  Arbitrary<List<Op>> ops() {
    return Arbitraries.integers().between(0, 5).flatMap(kind -> Arbitraries.integers().between(0, 15).flatMap(which ->
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
    for (Op op : ops) {
      snap = model.apply(List.of(event(op)));
      ServiceTables before = t;
      t = t.next(snap);
      ServiceTables fresh = ServiceTables.of(OVS, snap, 1);
      assertSame(t.shared(), fresh.shared(), op);
      assertThat(t.flows()).as("flows after %s", op).isEqualTo(fresh.flows());
      assertThat(t.groups()).as("groups after %s", op).isEqualTo(fresh.groups());
      if (t.shared().flows().equals(before.shared().flows()) && t.shared().groups().equals(before.shared().groups())
          && t.shared().meters().equals(before.shared().meters())) {
        assertThat(t.sameAs(before)).as("an ineffective change keeps the very tables (%s)", op).isTrue();
      }
    }
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
      case 0 -> new ModelEvent.ServiceUpserted(service(svc, op.variant()));
      case 1 -> new ModelEvent.ServiceDeleted(new ObjectRef("shop", svc));
      case 2, 3 -> new ModelEvent.EndpointSliceUpserted(slice(svc + "-" + (op.variant() % 2), svc,
          EndpointSlice.AddressType.IPV4, List.of(slicePort("http", Protocol.TCP, 8080), slicePort("dns", Protocol.UDP, 53)),
          endpoints(op.mask())));
      case 4 -> new ModelEvent.EndpointSliceDeleted(new ObjectRef("shop", svc + "-" + (op.variant() % 2)));
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

  /** Endpoints of the pods whose bit is set; bit 5 turns the odd ones not ready. */
  private static EndpointSlice.Endpoint[] endpoints(int mask) {
    List<EndpointSlice.Endpoint> out = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      if ((mask & (1 << i)) != 0) {
        out.add(ep(address(i), (mask & 32) == 0 || i % 2 == 0, "p" + i));
      }
    }
    return out.toArray(EndpointSlice.Endpoint[]::new);
  }
}
