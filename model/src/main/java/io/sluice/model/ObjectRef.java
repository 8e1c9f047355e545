package io.sluice.model;

import java.util.Objects;

/** A namespaced object's name ({@code namespace/name}); namespace is empty for cluster-scoped kinds. */
public record ObjectRef(String namespace, String name) implements Comparable<ObjectRef> {
  public ObjectRef {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("name must not be empty");
    }
  }

  @Override
  public int compareTo(ObjectRef o) {
    int c = namespace.compareTo(o.namespace);
    return c != 0 ? c : name.compareTo(o.name);
  }

  @Override
  public String toString() {
    return namespace.isEmpty() ? name : namespace + "/" + name;
  }
}
