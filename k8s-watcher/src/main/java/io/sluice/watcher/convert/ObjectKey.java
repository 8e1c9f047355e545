package io.sluice.watcher.convert;

import io.sluice.model.ObjectRef;
import java.util.Comparator;
import java.util.Objects;

/** What identifies an object across sources: its kind and namespace/name. */
public record ObjectKey(ObjectKind kind, ObjectRef ref) implements Comparable<ObjectKey> {
  private static final Comparator<ObjectKey> ORDER =
      Comparator.comparing(ObjectKey::kind).thenComparing(ObjectKey::ref);

  public ObjectKey {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(ref, "ref");
  }

  @Override
  public int compareTo(ObjectKey o) {
    return ORDER.compare(this, o);
  }

  @Override
  public String toString() {
    return kind.kind() + " " + ref;
  }
}
