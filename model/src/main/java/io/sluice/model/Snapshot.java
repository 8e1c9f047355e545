package io.sluice.model;

import java.util.Map;

/**
 * An immutable view of the model at one generation. {@code links} are keyed by their first end ({@link Link#a}),
 * {@code hosts} by MAC. The maps are {@link PersistentMap}s shared with neighbouring
 * generations, so taking a snapshot costs nothing per object.
 */
public record Snapshot(long generation, Map<String, Namespace> namespaces, Map<ObjectRef, Pod> pods,
                       Map<ObjectRef, PortBinding> bindings, Map<ObjectRef, NetworkPolicy> networkPolicies,
                       Map<ObjectRef, Service> services, Map<ObjectRef, EndpointSlice> endpointSlices,
                       Map<Long, SwitchPorts> switchPorts, Map<String, Node> nodes, Map<Link.End, Link> links,
                       Map<String, Host> hosts) {
  public static final Snapshot EMPTY = new Snapshot(0, Map.of(), Map.of(), Map.of());

  public Snapshot {
    namespaces = PersistentMap.copyOf(namespaces);
    pods = PersistentMap.copyOf(pods);
    bindings = PersistentMap.copyOf(bindings);
    networkPolicies = PersistentMap.copyOf(networkPolicies);
    services = PersistentMap.copyOf(services);
    endpointSlices = PersistentMap.copyOf(endpointSlices);
    switchPorts = PersistentMap.copyOf(switchPorts);
    nodes = PersistentMap.copyOf(nodes);
    links = PersistentMap.copyOf(links);
    hosts = PersistentMap.copyOf(hosts);
  }

  /** A snapshot without fabric topology (links, learned hosts). */
  public Snapshot(long generation, Map<String, Namespace> namespaces, Map<ObjectRef, Pod> pods,
                  Map<ObjectRef, PortBinding> bindings, Map<ObjectRef, NetworkPolicy> networkPolicies,
                  Map<ObjectRef, Service> services, Map<ObjectRef, EndpointSlice> endpointSlices,
                  Map<Long, SwitchPorts> switchPorts, Map<String, Node> nodes) {
    this(generation, namespaces, pods, bindings, networkPolicies, services, endpointSlices, switchPorts, nodes, Map.of(),
        Map.of());
  }

  /** A snapshot without nodes. */
  public Snapshot(long generation, Map<String, Namespace> namespaces, Map<ObjectRef, Pod> pods,
                  Map<ObjectRef, PortBinding> bindings, Map<ObjectRef, NetworkPolicy> networkPolicies,
                  Map<ObjectRef, Service> services, Map<ObjectRef, EndpointSlice> endpointSlices,
                  Map<Long, SwitchPorts> switchPorts) {
    this(generation, namespaces, pods, bindings, networkPolicies, services, endpointSlices, switchPorts, Map.of());
  }

  /** A snapshot without managed switches (no OVSDB port lists) and without nodes. */
  public Snapshot(long generation, Map<String, Namespace> namespaces, Map<ObjectRef, Pod> pods,
                  Map<ObjectRef, PortBinding> bindings, Map<ObjectRef, NetworkPolicy> networkPolicies,
                  Map<ObjectRef, Service> services, Map<ObjectRef, EndpointSlice> endpointSlices) {
    this(generation, namespaces, pods, bindings, networkPolicies, services, endpointSlices, Map.of(), Map.of());
  }

  /** A snapshot with no policies, services, endpoint slices, managed switches or nodes. */
  public Snapshot(long generation, Map<String, Namespace> namespaces, Map<ObjectRef, Pod> pods,
                  Map<ObjectRef, PortBinding> bindings) {
    this(generation, namespaces, pods, bindings, Map.of(), Map.of(), Map.of(), Map.of(), Map.of());
  }
}
