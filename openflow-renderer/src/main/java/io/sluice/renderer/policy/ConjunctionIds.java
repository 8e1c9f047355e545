package io.sluice.renderer.policy;

import io.sluice.model.NetworkPolicy;
import io.sluice.model.ObjectRef;
import io.sluice.model.PersistentMap;
import java.nio.charset.StandardCharsets;
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
  private final PersistentMap<String, Long> ids;
  private final PersistentMap<Long, String> used;

  private ConjunctionIds(PersistentMap<String, Long> ids, PersistentMap<Long, String> used) {
    this.ids = ids;
    this.used = used;
  }

  static ConjunctionIds of(List<NetworkPolicy> sortedPolicies) {
    Map<String, Long> ids = new HashMap<>();
    Map<Long, String> used = new HashMap<>();
    used.put(0L, ""); // 0 is the isolation cookie
    for (NetworkPolicy np : sortedPolicies) {
      for (String key : keys(np)) {
        long id = fnv(key) & 0x7fffffffL;
        while (used.putIfAbsent(id, key) != null) {
          id = (id + 1) & 0x7fffffffL;
        }
        ids.put(key, id);
      }
    }
    return new ConjunctionIds(PersistentMap.build(ids), PersistentMap.build(used));
  }

  /** The ids after some policies changed: {@code before} are the old versions, {@code after} the new ones. */
  ConjunctionIds next(Collection<NetworkPolicy> before, Collection<NetworkPolicy> after) {
    java.util.Set<String> keep = new java.util.HashSet<>();
    for (NetworkPolicy np : after) {
      keep.addAll(keys(np));
    }
    PersistentMap<String, Long> i = ids;
    PersistentMap<Long, String> u = used;
    for (NetworkPolicy np : before) {
      for (String key : keys(np)) {
        Long id = i.get(key);
        if (id != null && !keep.contains(key)) {
          i = i.without(key);
          u = u.without(id);
        }
      }
    }
    for (NetworkPolicy np : after) {
      for (String key : keys(np)) {
        if (!i.containsKey(key)) {
          long id = fnv(key) & 0x7fffffffL;
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

  private static List<String> keys(NetworkPolicy np) {
    List<String> out = new java.util.ArrayList<>(PARTS * (np.ingress().size() + np.egress().size()));
    for (PolicyCompiler.Direction dir : PolicyCompiler.Direction.values()) {
      int rules = dir == PolicyCompiler.Direction.INGRESS ? np.ingress().size() : np.egress().size();
      for (int r = 0; r < rules; r++) {
        for (int part = 0; part < PARTS; part++) {
          out.add(key(np.ref(), dir, r, part));
        }
      }
    }
    return out;
  }

  long id(ObjectRef ref, PolicyCompiler.Direction dir, int rule, int part) {
    Long id = ids.get(key(ref, dir, rule, part));
    if (id == null) {
      throw new IllegalStateException("no conjunction id reserved for " + key(ref, dir, rule, part));
    }
    return id;
  }

  private static String key(ObjectRef ref, PolicyCompiler.Direction dir, int rule, int part) {
    return ref + "|" + dir + "|" + rule + "|" + part;
  }

  private static long fnv(String s) {
    long h = 0xcbf29ce484222325L;
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    return h ^ (h >>> 32);
  }
}
