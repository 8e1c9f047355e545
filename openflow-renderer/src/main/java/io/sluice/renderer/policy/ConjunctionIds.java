package io.sluice.renderer.policy;

import io.sluice.model.NetworkPolicy;
import io.sluice.model.ObjectRef;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Conjunction ids (also the object ids in rule cookies), one per part of a rule. They come from a hash of the rule's
 * name, so adding or removing one policy does not renumber the others' flows; the rare collision is resolved by
 * probing in policy order, which is deterministic for a given set of policies.
 */
final class ConjunctionIds {
  private static final int PARTS = 2;
  private final Map<String, Long> ids = new HashMap<>();

  void reserve(List<NetworkPolicy> sortedPolicies) {
    Set<Long> used = new HashSet<>();
    used.add(0L); // 0 is the isolation cookie
    for (NetworkPolicy np : sortedPolicies) {
      reserve(np.ref(), PolicyCompiler.Direction.INGRESS, np.ingress().size(), used);
      reserve(np.ref(), PolicyCompiler.Direction.EGRESS, np.egress().size(), used);
    }
  }

  private void reserve(ObjectRef ref, PolicyCompiler.Direction dir, int rules, Set<Long> used) {
    for (int i = 0; i < rules; i++) {
      for (int part = 0; part < PARTS; part++) {
        String key = key(ref, dir, i, part);
        long id = fnv(key) & 0x7fffffffL;
        while (!used.add(id)) {
          id = (id + 1) & 0x7fffffffL;
        }
        ids.put(key, id);
      }
    }
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
