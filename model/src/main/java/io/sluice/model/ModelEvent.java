package io.sluice.model;

/**
 * A change of the world, as any source (informers, manifest directory, OVSDB) reports it. Upserts carry the whole
 * new object; deletes carry its name.
 */
public sealed interface ModelEvent {
  record NamespaceUpserted(Namespace namespace) implements ModelEvent { }

  record NamespaceDeleted(String name) implements ModelEvent { }

  record NodeUpserted(Node node) implements ModelEvent { }

  record NodeDeleted(String name) implements ModelEvent { }

  record PodUpserted(Pod pod) implements ModelEvent { }

  record PodDeleted(ObjectRef ref) implements ModelEvent { }

  record PortBound(PortBinding binding) implements ModelEvent { }

  record PortUnbound(ObjectRef pod) implements ModelEvent { }

  record NetworkPolicyUpserted(NetworkPolicy policy) implements ModelEvent { }

  record NetworkPolicyDeleted(ObjectRef ref) implements ModelEvent { }

  record ServiceUpserted(Service service) implements ModelEvent { }

  record ServiceDeleted(ObjectRef ref) implements ModelEvent { }

  record EndpointSliceUpserted(EndpointSlice slice) implements ModelEvent { }

  record EndpointSliceDeleted(ObjectRef ref) implements ModelEvent { }

  /** The non-pod ports of a switch (OVSDB); the switch becomes managed (see {@link SwitchPorts}). */
  record SwitchPortsUpserted(SwitchPorts ports) implements ModelEvent { }

  /** The switch's bridge is gone from OVSDB: it is no longer managed. */
  record SwitchPortsDeleted(long dpid) implements ModelEvent { }

  /** A link between two switch ports is up (LLDP saw it, or it was declared). */
  record LinkUp(Link link) implements ModelEvent { }

  /** A link is gone (a port went down, LLDP stopped seeing it). */
  record LinkDown(Link link) implements ModelEvent { }

  /** A host was seen (or seen again somewhere else, or with other addresses). */
  record HostUpserted(Host host) implements ModelEvent { }

  /** A host is gone (aged out, or its port went away). */
  record HostDeleted(String mac) implements ModelEvent { }
}
