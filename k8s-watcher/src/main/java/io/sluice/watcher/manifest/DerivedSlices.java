package io.sluice.watcher.manifest;

import io.sluice.model.EndpointSlice;
import io.sluice.model.IpFamily;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortRef;
import io.sluice.model.Service;
import io.sluice.watcher.convert.Ip;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.zip.CRC32;

/**
 * The EndpointSlices a cluster's EndpointSlice controller would make for the manifest directory's Services, which no
 * controller watches when there is no cluster. For a Service with a selector (not ExternalName) and no EndpointSlice
 * of its own in the directory (label {@code kubernetes.io/service-name}, same namespace), it derives, per address
 * family the Service has ({@link Service#effectiveIpFamilies}) and per distinct set of resolved ports:
 * <ul>
 *   <li>endpoints: the namespace's pods whose labels hold every selector pair, that are not terminal, have an address,
 *       and have an address of the slice's family (all of them, printed as the API server prints addresses);
 *       ready = ready and not terminating, serving = ready, terminating as the pod; with
 *       {@code publishNotReadyAddresses} ready is always true (serving still tells the pod's own readiness, as
 *       upstream); nodeName and targetRef from the pod;</li>
 *   <li>ports: one per service port, named and with the protocol of the service port, numbered by the target port;
 *       a named target port is looked up in the pod's container ports (name and protocol), so pods that resolve it
 *       differently land in different slices, and a pod without it gets no such port;</li>
 *   <li>a family with no endpoint at all still gets one empty slice (upstream's placeholder).</li>
 * </ul>
 * Slices are named {@code <service>-sluice-<ipv4|ipv6>-<8 hex digits of the CRC-32 of the port set>}, so a port set
 * keeps its slice's name while its endpoints change. Unlike upstream, a slice is never split at 100 endpoints, and
 * pods whose node is not known are kept (upstream drops them until the node appears; manifests often give no nodes).
 *
 * <p>Changes are fed in per batch ({@link #pod}, {@link #service}, {@link #givenSlice}: each object's winner before and
 * after the batch) and {@link #finish} re-derives only the Services they touch. Pods are indexed only in namespaces
 * that have a Service to derive for. Not thread-safe: the {@link ManifestState}'s writer drives it.
 */
final class DerivedSlices {
  /** A slice whose content changed in a batch: before and after (either null). */
  record Change(EndpointSlice before, EndpointSlice after) { }

  /** Services slices are derived for, by namespace and name. */
  private final Map<String, Map<String, Service>> services = new HashMap<>();
  /** The pods of each namespace in {@link #services}, by name (sorted: endpoints in pod-name order). */
  private final Map<String, TreeMap<String, Pod>> pods = new HashMap<>();
  /** How many slices the directory gives per service (namespace, service name). */
  private final Map<ObjectRef, Integer> given = new HashMap<>();
  /** The derived slices of each service, and all of them by name. */
  private final Map<ObjectRef, Map<ObjectRef, EndpointSlice>> derived = new HashMap<>();
  private final Map<ObjectRef, EndpointSlice> bySlice = new HashMap<>();

  private final List<Object[]> podChanges = new ArrayList<>();
  private final List<Object[]> serviceChanges = new ArrayList<>();
  private final TreeSet<ObjectRef> affected = new TreeSet<>();

  /** A pod's winner changed in this batch (null: none). */
  void pod(ObjectRef ref, Pod was, Pod now) {
    podChanges.add(new Object[] {ref, was, now});
  }

  /** A service's winner changed in this batch (null: none). */
  void service(ObjectRef ref, Service was, Service now) {
    serviceChanges.add(new Object[] {ref, was, now});
  }

  /** A directory EndpointSlice's winner changed in this batch (null: none). */
  void givenSlice(ObjectRef ref, EndpointSlice was, EndpointSlice now) {
    if (was != null && !was.serviceName().isEmpty()) {
      ObjectRef svc = new ObjectRef(ref.namespace(), was.serviceName());
      given.computeIfPresent(svc, (k, n) -> n == 1 ? null : n - 1);
      affected.add(svc);
    }
    if (now != null && !now.serviceName().isEmpty()) {
      ObjectRef svc = new ObjectRef(ref.namespace(), now.serviceName());
      given.merge(svc, 1, Integer::sum);
      affected.add(svc);
    }
  }

  /** The derived slice of that name now, or null. */
  EndpointSlice get(ObjectRef slice) {
    return bySlice.get(slice);
  }

  int size() {
    return bySlice.size();
  }

  /**
   * Applies the batch's changes and re-derives the services they touch. {@code podsOf} gives the current pods of
   * namespaces that newly need an index. Returns each derived slice that changed, in service then name order.
   */
  Map<ObjectRef, Change> finish(Function<Set<String>, Collection<Pod>> podsOf) {
    Set<String> indexedBefore = new HashSet<>(services.keySet());
    for (Object[] c : serviceChanges) {
      ObjectRef ref = (ObjectRef) c[0];
      Service now = (Service) c[2];
      Map<String, Service> inNs = services.get(ref.namespace());
      if (now != null && derives(now)) {
        services.computeIfAbsent(ref.namespace(), k -> new HashMap<>()).put(ref.name(), now);
      } else if (inNs != null) {
        inNs.remove(ref.name());
        if (inNs.isEmpty()) {
          services.remove(ref.namespace());
        }
      }
      affected.add(ref);
    }
    Set<String> fresh = new HashSet<>(services.keySet());
    fresh.removeAll(indexedBefore);
    pods.keySet().retainAll(services.keySet());
    if (!fresh.isEmpty()) {
      // Every service of a freshly indexed namespace is new, hence already affected.
      for (Pod p : podsOf.apply(fresh)) {
        pods.computeIfAbsent(p.ref().namespace(), k -> new TreeMap<>()).put(p.ref().name(), p);
      }
    }
    for (Object[] c : podChanges) {
      ObjectRef ref = (ObjectRef) c[0];
      if (fresh.contains(ref.namespace())) {
        continue;
      }
      Map<String, Service> inNs = services.get(ref.namespace());
      if (inNs == null) {
        continue;
      }
      Pod was = (Pod) c[1];
      Pod now = (Pod) c[2];
      if (now == null) {
        TreeMap<String, Pod> index = pods.get(ref.namespace());
        if (index != null) {
          index.remove(ref.name());
        }
      } else {
        pods.computeIfAbsent(ref.namespace(), k -> new TreeMap<>()).put(ref.name(), now);
      }
      for (Service s : inNs.values()) {
        if (!affected.contains(s.ref()) && (was != null && selects(s, was) || now != null && selects(s, now))) {
          affected.add(s.ref());
        }
      }
    }
    Map<ObjectRef, Change> changes = new LinkedHashMap<>();
    for (ObjectRef svc : affected) {
      rederive(svc, changes);
    }
    podChanges.clear();
    serviceChanges.clear();
    affected.clear();
    return changes;
  }

  private void rederive(ObjectRef svc, Map<ObjectRef, Change> changes) {
    Map<String, Service> inNs = services.get(svc.namespace());
    Service s = inNs == null ? null : inNs.get(svc.name());
    Map<ObjectRef, EndpointSlice> want = s == null || given.containsKey(svc) ? Map.of()
        : derive(s, pods.getOrDefault(svc.namespace(), new TreeMap<>()).values());
    Map<ObjectRef, EndpointSlice> had = derived.getOrDefault(svc, Map.of());
    if (want.equals(had)) {
      return;
    }
    for (Map.Entry<ObjectRef, EndpointSlice> e : new TreeMap<>(had).entrySet()) {
      if (!want.containsKey(e.getKey())) {
        changes.put(e.getKey(), new Change(e.getValue(), null));
        bySlice.remove(e.getKey());
      }
    }
    for (Map.Entry<ObjectRef, EndpointSlice> e : new TreeMap<>(want).entrySet()) {
      EndpointSlice before = had.get(e.getKey());
      if (!e.getValue().equals(before)) {
        changes.put(e.getKey(), new Change(before, e.getValue()));
        bySlice.put(e.getKey(), e.getValue());
      }
    }
    if (want.isEmpty()) {
      derived.remove(svc);
    } else {
      derived.put(svc, want);
    }
  }

  /** Whether the EndpointSlice controller would make slices for the service at all. */
  static boolean derives(Service s) {
    return !s.selector().isEmpty() && s.type() != Service.Type.EXTERNAL_NAME;
  }

  /** The service's selector as the controller applies it: every pair must be among the pod's labels. */
  static boolean selects(Service s, Pod p) {
    for (Map.Entry<String, String> e : s.selector().entrySet()) {
      if (!e.getValue().equals(p.labels().get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }

  /** The slices for one service, given its namespace's pods in name order. */
  static Map<ObjectRef, EndpointSlice> derive(Service s, Collection<Pod> podsInNamespace) {
    List<Pod> members = new ArrayList<>();
    for (Pod p : podsInNamespace) {
      if (selects(s, p) && !p.terminal() && !p.ips().isEmpty()) {
        members.add(p);
      }
    }
    List<List<EndpointSlice.Port>> portsOf = new ArrayList<>(members.size());
    for (Pod p : members) {
      portsOf.add(ports(s, p));
    }
    Map<ObjectRef, EndpointSlice> out = new HashMap<>();
    for (IpFamily family : s.effectiveIpFamilies()) {
      // Port set → endpoints; sorted by the port set's text so that names are handed out in a fixed order.
      TreeMap<String, List<EndpointSlice.Endpoint>> groups = new TreeMap<>();
      Map<String, List<EndpointSlice.Port>> portSets = new HashMap<>();
      for (int i = 0; i < members.size(); i++) {
        Pod p = members.get(i);
        List<String> addresses = new ArrayList<>(1);
        for (String ip : p.ips()) {
          String canonical = Ip.canonical(ip);
          if (canonical != null && IpFamily.of(canonical) == family) {
            addresses.add(canonical);
          }
        }
        if (addresses.isEmpty()) {
          continue;
        }
        String key = key(portsOf.get(i));
        portSets.putIfAbsent(key, portsOf.get(i));
        // As upstream (podToEndpoint): publishNotReadyAddresses makes every endpoint ready; serving stays the pod's.
        boolean serving = p.ready();
        boolean ready = s.publishNotReadyAddresses() || serving && !p.terminating();
        groups.computeIfAbsent(key, k -> new ArrayList<>()).add(new EndpointSlice.Endpoint(addresses, ready, serving,
            p.terminating(), Optional.of(p.ref()), p.nodeName()));
      }
      if (groups.isEmpty()) {
        groups.put(key(List.of()), List.of()); // the placeholder
        portSets.put(key(List.of()), List.of());
      }
      Set<String> names = new HashSet<>();
      for (Map.Entry<String, List<EndpointSlice.Endpoint>> g : groups.entrySet()) {
        String name = name(s.ref().name(), family, g.getKey(), names);
        ObjectRef ref = new ObjectRef(s.ref().namespace(), name);
        out.put(ref, new EndpointSlice(ref, s.ref().name(), family == IpFamily.IPV4 ? EndpointSlice.AddressType.IPV4
            : EndpointSlice.AddressType.IPV6, g.getValue(), portSets.get(g.getKey())));
      }
    }
    return out;
  }

  /** getEndpointPorts: each service port whose target the pod resolves, in the service's order. */
  static List<EndpointSlice.Port> ports(Service s, Pod p) {
    List<EndpointSlice.Port> out = new ArrayList<>(s.ports().size());
    for (Service.Port sp : s.ports()) {
      int number = 0;
      if (sp.targetPort() instanceof PortRef.Numbered n) {
        number = n.number();
      } else if (sp.targetPort() instanceof PortRef.Named named) {
        for (Pod.NamedPort cp : p.ports()) {
          if (cp.name().equals(named.name()) && cp.protocol().equals(sp.protocol().name())) {
            number = cp.port();
            break;
          }
        }
      }
      if (number != 0) {
        out.add(new EndpointSlice.Port(sp.name(), sp.protocol(), OptionalInt.of(number)));
      }
    }
    return out;
  }

  private static String key(List<EndpointSlice.Port> ports) {
    StringBuilder b = new StringBuilder();
    for (EndpointSlice.Port p : ports) {
      b.append(p.name()).append('/').append(p.protocol()).append('/').append(p.port().getAsInt()).append(';');
    }
    return b.toString();
  }

  /** {@code <service>-sluice-<family>-<crc32 of the port set>}; on the (unlikely) clash within a family, rehashed. */
  private static String name(String service, IpFamily family, String portKey, Set<String> taken) {
    String prefix = service + "-sluice-" + (family == IpFamily.IPV4 ? "ipv4" : "ipv6") + "-";
    String salt = "";
    for (int round = 1; ; round++) {
      CRC32 crc = new CRC32();
      crc.update((portKey + salt).getBytes(StandardCharsets.UTF_8));
      String name = prefix + String.format("%08x", crc.getValue());
      if (taken.add(name)) {
        return name;
      }
      salt = "#" + round;
    }
  }
}
