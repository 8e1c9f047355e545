package io.sluice.renderer.scenario;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A synthetic cluster of Services for benchmarks: {@code services} ClusterIP Services (namespace {@code svc},
 * {@code s-N}, cluster IP 10.96.x.y, port 80 to the named port http = 8080), each with one EndpointSlice of
 * {@code endpoints} ready pods; pod i (10.x.y.z, MAC 0a:58:..) bound to switch {@code firstDpid + i % switches}.
 * No I/O, just model events.
 */
public final class ServiceScenario {
  private ServiceScenario() { }

  public static List<ModelEvent> events(int services, int endpoints, int switches, long firstDpid) {
    List<ModelEvent> ev = new ArrayList<>(services * (2 * endpoints + 2) + 1);
    ev.add(new ModelEvent.NamespaceUpserted(new Namespace("svc", Map.of(), Map.of())));
    int pod = 0;
    for (int s = 0; s < services; s++) {
      ev.add(new ModelEvent.ServiceUpserted(new Service(new ObjectRef("svc", "s-" + s), Service.Type.CLUSTER_IP,
          List.of(ip(0x0a600000 + s)), List.of(new Service.Port("http", Protocol.TCP, 80, PortRef.of("http"), 0)),
          Map.of("app", "s-" + s), Service.SessionAffinity.NONE, 0)));
      List<EndpointSlice.Endpoint> eps = new ArrayList<>(endpoints);
      for (int e = 0; e < endpoints; e++, pod++) {
        ObjectRef p = new ObjectRef("svc", "p-" + pod);
        String addr = ip(0x0a000000 + pod);
        ev.add(new ModelEvent.PodUpserted(new Pod(p, Map.of("app", "s-" + s), List.of(addr),
            List.of(new Pod.NamedPort("http", 8080, "TCP")), false)));
        ev.add(new ModelEvent.PortBound(new PortBinding(p, firstDpid + pod % switches, 1 + pod / switches,
            String.format("0a:58:%02x:%02x:%02x:%02x", (pod >>> 24) & 0xff, (pod >>> 16) & 0xff, (pod >>> 8) & 0xff,
                pod & 0xff))));
        eps.add(endpoint(addr, p, true));
      }
      ev.add(new ModelEvent.EndpointSliceUpserted(slice(s, eps)));
    }
    return ev;
  }

  /** Service s's slice with its first endpoint made ready or not (the others as they are): one endpoint change. */
  public static ModelEvent flipFirstEndpoint(Snapshot snap, int s) {
    EndpointSlice old = snap.endpointSlices().get(new ObjectRef("svc", "s-" + s + "-abc"));
    List<EndpointSlice.Endpoint> eps = new ArrayList<>(old.endpoints());
    EndpointSlice.Endpoint first = eps.get(0);
    eps.set(0, endpoint(first.addresses().get(0), first.targetPod().orElseThrow(), !first.ready()));
    return new ModelEvent.EndpointSliceUpserted(slice(s, eps));
  }

  private static EndpointSlice.Endpoint endpoint(String addr, ObjectRef pod, boolean ready) {
    return new EndpointSlice.Endpoint(List.of(addr), ready, ready, false, Optional.of(pod), "");
  }

  private static EndpointSlice slice(int s, List<EndpointSlice.Endpoint> eps) {
    return new EndpointSlice(new ObjectRef("svc", "s-" + s + "-abc"), "s-" + s, EndpointSlice.AddressType.IPV4, eps,
        List.of(new EndpointSlice.Port("http", Protocol.TCP, OptionalInt.of(8080))));
  }

  private static String ip(int a) {
    return ((a >>> 24) & 0xff) + "." + ((a >>> 16) & 0xff) + "." + ((a >>> 8) & 0xff) + "." + (a & 0xff);
  }
}
