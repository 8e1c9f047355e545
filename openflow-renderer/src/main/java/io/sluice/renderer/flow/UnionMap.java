package io.sluice.renderer.flow;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/** A read-only view of two maps whose keys are disjoint (the caller checks): lookups try both, iteration runs both. */
final class UnionMap<K, V> extends AbstractMap<K, V> {
  private final Map<K, V> first;
  private final Map<K, V> second;

  UnionMap(Map<K, V> first, Map<K, V> second) {
    this.first = first;
    this.second = second;
  }

  Map<K, V> first() {
    return first;
  }

  Map<K, V> second() {
    return second;
  }

  @Override
  public V get(Object key) {
    V v = first.get(key);
    return v != null ? v : second.get(key);
  }

  @Override
  public boolean containsKey(Object key) {
    return first.containsKey(key) || second.containsKey(key);
  }

  @Override
  public int size() {
    return first.size() + second.size();
  }

  @Override
  public Set<Entry<K, V>> entrySet() {
    return new AbstractSet<>() {
      @Override
      public Iterator<Entry<K, V>> iterator() {
        Iterator<Entry<K, V>> a = first.entrySet().iterator();
        Iterator<Entry<K, V>> b = second.entrySet().iterator();
        return new Iterator<>() {
          @Override
          public boolean hasNext() {
            return a.hasNext() || b.hasNext();
          }

          @Override
          public Entry<K, V> next() {
            if (a.hasNext()) {
              return a.next();
            }
            if (b.hasNext()) {
              return b.next();
            }
            throw new NoSuchElementException();
          }
        };
      }

      @Override
      public int size() {
        return UnionMap.this.size();
      }
    };
  }
}
