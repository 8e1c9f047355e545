package io.sluice.renderer.index;

import io.sluice.model.PersistentMap;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Objects of one kind grouped by a key (pods by namespace, bindings by switch, slices by service), each group an
 * immutable list in a fixed order. {@link #regroup} rebuilds only the groups a change touches and shares every other
 * list, so a list keeps its identity for as long as no object of its group changes.
 *
 * @param groupOf  the group of an object (it may change between versions: a binding that moves to another switch)
 * @param keyOf    the object's identity across versions (its ref)
 * @param member   whether an object belongs in its group at all (a pod without an address does not)
 * @param order    the order of each list
 */
record Groups<G, K, V>(Function<V, G> groupOf, Function<V, K> keyOf, Predicate<V> member, Comparator<V> order) {
  /** One object's versions before and after a change; null where it did not exist. */
  record Change<V>(V before, V after) { }

  /** The groups of {@code objects}, built from scratch. */
  PersistentMap<G, List<V>> of(Collection<V> objects) {
    Map<G, List<V>> groups = new HashMap<>();
    for (V v : objects) {
      if (member.test(v)) {
        groups.computeIfAbsent(groupOf.apply(v), k -> new ArrayList<>()).add(v);
      }
    }
    groups.replaceAll((g, list) -> sorted(list));
    return PersistentMap.build(groups);
  }

  /**
   * {@code groups} after {@code changes}: each group a change touches (the old version's and the new one's) gets a
   * new list, or is dropped when nothing is left in it; every other list is shared.
   */
  PersistentMap<G, List<V>> regroup(PersistentMap<G, List<V>> groups, Collection<Change<V>> changes) {
    Map<G, List<Change<V>>> touched = new LinkedHashMap<>();
    for (Change<V> c : changes) {
      G before = c.before() == null ? null : groupOf.apply(c.before());
      if (before != null) {
        touched.computeIfAbsent(before, k -> new ArrayList<>()).add(c);
      }
      if (c.after() != null) {
        G after = groupOf.apply(c.after());
        if (!after.equals(before)) {
          touched.computeIfAbsent(after, k -> new ArrayList<>()).add(c);
        }
      }
    }
    PersistentMap<G, List<V>> out = groups;
    for (Map.Entry<G, List<Change<V>>> e : touched.entrySet()) {
      G group = e.getKey();
      Map<K, V> list = new LinkedHashMap<>();
      for (V v : out.getOrDefault(group, List.of())) {
        list.put(keyOf.apply(v), v);
      }
      for (Change<V> c : e.getValue()) {
        K key = keyOf.apply(c.before() != null ? c.before() : c.after());
        list.remove(key);
        if (c.after() != null && member.test(c.after()) && groupOf.apply(c.after()).equals(group)) {
          list.put(key, c.after());
        }
      }
      out = list.isEmpty() ? out.without(group) : out.with(group, sorted(list.values()));
    }
    return out;
  }

  private List<V> sorted(Collection<V> values) {
    List<V> l = new ArrayList<>(values);
    l.sort(order);
    return List.copyOf(l);
  }
}
