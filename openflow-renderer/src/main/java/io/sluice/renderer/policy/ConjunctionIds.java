package io.sluice.renderer.policy;

import io.sluice.model.NetworkPolicy;
import io.sluice.model.ObjectRef;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Conjunction ids (also the object ids in rule cookies), one per part of a rule. They come from a hash of the rule's
 * name, so adding or removing one policy does not renumber the others' flows; the rare collision is resolved by
 * probing to the next free id. Immutable: {@link #next} derives the ids of the following generation, keeping every
 * id of a rule that still exists and reserving ids only for new rules. (A full rebuild probes in policy order, so
 * after a restart a rule that once collided may get a different id than the incremental path gave it; reconcile
 * then rewrites that rule's few flows.)
 */
final class ConjunctionIds {
  private static final int PARTS = 2;
  /** Holds id 0, the cookie object id of isolation flows. */
  private static final Key ISOLATION = new Key(new ObjectRef("", "isolation"), PolicyCompiler.Direction.INGRESS, -1, -1);
  private final LayeredMap<Key, Long> ids;
  private final LayeredMap<Long, Key> used;

  private ConjunctionIds(LayeredMap<Key, Long> ids, LayeredMap<Long, Key> used) {
    this.ids = ids;
    this.used = used;
  }

  static ConjunctionIds of(List<NetworkPolicy> sortedPolicies) {
    Map<Key, Long> ids = new HashMap<>();
    Map<Long, Key> used = new HashMap<>();
    used.put(0L, ISOLATION); // 0: the isolation cookie
    for (NetworkPolicy np : sortedPolicies) {
      for (Key key : keys(np)) {
        long id = key.hash() & 0x7fffffffL;
        while (used.putIfAbsent(id, key) != null) {
          id = (id + 1) & 0x7fffffffL;
        }
        ids.put(key, id);
      }
    }
    return new ConjunctionIds(LayeredMap.over(ids), LayeredMap.over(used));
  }

  /** The ids after some policies changed: {@code before} are the old versions, {@code after} the new ones. */
  ConjunctionIds next(Collection<NetworkPolicy> before, Collection<NetworkPolicy> after) {
    java.util.Set<Key> keep = new java.util.HashSet<>();
    for (NetworkPolicy np : after) {
      keep.addAll(keys(np));
    }
    LayeredMap<Key, Long> i = ids;
    LayeredMap<Long, Key> u = used;
    for (NetworkPolicy np : before) {
      for (Key key : keys(np)) {
        Long id = i.get(key);
        if (id != null && !keep.contains(key)) {
          i = i.without(key);
          u = u.without(id);
        }
      }
    }
    for (NetworkPolicy np : after) {
      for (Key key : keys(np)) {
        if (!i.containsKey(key)) {
          long id = key.hash() & 0x7fffffffL;
          while (u.containsKey(id)) {
            id = (id + 1) & 0x7fffffffL;
          }
          i = i.with(key, id);
          u = u.with(id, key);
        }
      }
    }
    return new ConjunctionIds(i, u);
  }

  private static List<Key> keys(NetworkPolicy np) {
    List<Key> out = new java.util.ArrayList<>(PARTS * (np.ingress().size() + np.egress().size()));
    for (PolicyCompiler.Direction dir : PolicyCompiler.Direction.values()) {
      int rules = dir == PolicyCompiler.Direction.INGRESS ? np.ingress().size() : np.egress().size();
      for (int r = 0; r < rules; r++) {
        for (int part = 0; part < PARTS; part++) {
          out.add(new Key(np.ref(), dir, r, part));
        }
      }
    }
    return out;
  }

  long id(ObjectRef ref, PolicyCompiler.Direction dir, int rule, int part) {
    Long id = ids.get(new Key(ref, dir, rule, part));
    if (id == null) {
      throw new IllegalStateException("no conjunction id reserved for " + new Key(ref, dir, rule, part));
    }
    return id;
  }

  /** One part of one rule: {@code namespace/name|DIRECTION|rule|part}. */
  record Key(ObjectRef ref, PolicyCompiler.Direction dir, int rule, int part) {
    /** FNV-1a of the key's text (its characters taken as bytes: Kubernetes names are ASCII), folded to 32 bits. */
    long hash() {
      long h = 0xcbf29ce484222325L;
      h = fnv(h, ref.namespace());
      h = fnv(h, ref.namespace().isEmpty() ? "" : "/");
      h = fnv(h, ref.name());
      h = fnv(h, "|");
      h = fnv(h, dir.name());
      h = fnv(h, "|");
      h = fnv(h, Integer.toString(rule));
      h = fnv(h, "|");
      h = fnv(h, Integer.toString(part));
      return h ^ (h >>> 32);
    }

    private static long fnv(long h, String s) {
      for (int i = 0; i < s.length(); i++) {
        h ^= s.charAt(i) & 0xff;
        h *= 0x100000001b3L;
      }
      return h;
    }

    @Override
    public String toString() {
      return ref + "|" + dir + "|" + rule + "|" + part;
    }
  }
}
