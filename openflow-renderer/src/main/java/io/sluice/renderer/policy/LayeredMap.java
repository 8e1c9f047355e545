package io.sluice.renderer.policy;

import io.sluice.model.PersistentMap;
import java.util.HashMap;
import java.util.Map;

/**
 * An immutable map for large tables that a generation changes only a little: a plain hash map built once (cheap to
 * build and to read) under a small persistent layer of the changes since ({@link #with}, {@link #without}). When
 * the layer grows to half the base, the next change folds it into a new base, so each change costs O(log n)
 * amortized and reads stay one or two hash lookups.
 */
final class LayeredMap<K, V> {
  private static final Object REMOVED = new Object();
  private final Map<K, V> base;
  private final PersistentMap<K, Object> changes;

  private LayeredMap(Map<K, V> base, PersistentMap<K, Object> changes) {
    this.base = base;
    this.changes = changes;
  }

  /** Takes ownership of {@code base}: the caller must not change it afterwards. */
  static <K, V> LayeredMap<K, V> over(Map<K, V> base) {
    return new LayeredMap<>(base, PersistentMap.empty());
  }

  @SuppressWarnings("unchecked")
  V get(K key) {
    Object c = changes.get(key);
    if (c == REMOVED) {
      return null;
    }
    return c != null ? (V) c : base.get(key);
  }

  boolean containsKey(K key) {
    return get(key) != null;
  }

  LayeredMap<K, V> with(K key, V value) {
    return fold(new LayeredMap<>(base, changes.with(key, value)));
  }

  LayeredMap<K, V> without(K key) {
    if (!base.containsKey(key)) {
      PersistentMap<K, Object> c = changes.without(key);
      return c == changes ? this : new LayeredMap<>(base, c);
    }
    return fold(new LayeredMap<>(base, changes.with(key, REMOVED)));
  }

  @SuppressWarnings("unchecked")
  private static <K, V> LayeredMap<K, V> fold(LayeredMap<K, V> m) {
    if (m.changes.size() < Math.max(1024, m.base.size() / 2)) {
      return m;
    }
    Map<K, V> b = new HashMap<>(m.base);
    m.changes.forEach((k, v) -> {
      if (v == REMOVED) {
        b.remove(k);
      } else {
        b.put(k, (V) v);
      }
    });
    return over(b);
  }
}
