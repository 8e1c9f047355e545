package io.sluice.model;

import java.util.Map;

/** An immutable view of the model at one generation. */
public record Snapshot(long generation, Map<String, Namespace> namespaces, Map<ObjectRef, Pod> pods,
                       Map<ObjectRef, PortBinding> bindings) {
  public static final Snapshot EMPTY = new Snapshot(0, Map.of(), Map.of(), Map.of());

  public Snapshot {
    namespaces = Map.copyOf(namespaces);
    pods = Map.copyOf(pods);
    bindings = Map.copyOf(bindings);
  }
}
