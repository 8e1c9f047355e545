package io.sluice.model;

/** A change of the world, as any source (informers, manifest directory, OVSDB) reports it. */
public sealed interface ModelEvent {
  record NamespaceUpserted(Namespace namespace) implements ModelEvent { }

  record NamespaceDeleted(String name) implements ModelEvent { }

  record PodUpserted(Pod pod) implements ModelEvent { }

  record PodDeleted(ObjectRef ref) implements ModelEvent { }

  record PortBound(PortBinding binding) implements ModelEvent { }

  record PortUnbound(ObjectRef pod) implements ModelEvent { }
}
