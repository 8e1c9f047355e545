package io.sluice.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PersistentMapTest {
  /** A key whose hash collides with every other key of the same bucket, to exercise collision nodes. */
  record Colliding(int id, int bucket) {
    @Override
    public int hashCode() {
      return bucket;
    }
  }

  @Test
  void behavesLikeHashMapUnderRandomPutsAndRemoves() {
    Random rnd = new Random(42);
    Map<Object, Integer> expected = new HashMap<>();
    PersistentMap<Object, Integer> actual = PersistentMap.empty();
    for (int i = 0; i < 50_000; i++) {
      Object key = rnd.nextInt(4) == 0 ? new Colliding(rnd.nextInt(200), rnd.nextInt(5)) : (Object) rnd.nextInt(5_000);
      if (rnd.nextInt(3) == 0) {
        expected.remove(key);
        actual = actual.without(key);
      } else {
        int v = rnd.nextInt(10);
        expected.put(key, v);
        actual = actual.with(key, v);
      }
    }
    assertThat(actual).hasSize(expected.size()).isEqualTo(expected);
    assertThat(actual.entrySet()).hasSize(expected.size());
    Map<Object, Integer> viaForEach = new HashMap<>();
    actual.forEach(viaForEach::put);
    assertThat(viaForEach).isEqualTo(expected);
  }

  @Test
  void olderVersionsDoNotSeeLaterChanges() {
    PersistentMap<String, Integer> v1 = PersistentMap.<String, Integer>empty().with("a", 1).with("b", 2);
    PersistentMap<String, Integer> v2 = v1.with("a", 10).without("b").with("c", 3);
    assertThat(v1).containsOnly(Map.entry("a", 1), Map.entry("b", 2));
    assertThat(v2).containsOnly(Map.entry("a", 10), Map.entry("c", 3));
  }

  @Test
  void unchangedMapIsReturnedAsIs() {
    Integer one = 1;
    PersistentMap<String, Integer> m = PersistentMap.<String, Integer>empty().with("a", one);
    assertThat(m.with("a", one)).isSameAs(m);
    assertThat(m.without("zzz")).isSameAs(m);
    assertThat(PersistentMap.copyOf(m)).isSameAs(m);
  }

  @Test
  void isReadOnly() {
    PersistentMap<String, Integer> m = PersistentMap.<String, Integer>empty().with("a", 1);
    assertThatThrownBy(() -> m.put("b", 2)).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> m.entrySet().iterator().remove()).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void aMapBuiltInOneGoIsTheSameMapAndKeepsWorking() {
    Random rnd = new Random(7);
    for (int round = 0; round < 20; round++) {
      Map<Object, Integer> entries = new java.util.LinkedHashMap<>();
      int n = rnd.nextInt(round < 5 ? 40 : 20_000);
      for (int i = 0; i < n; i++) {
        Object key = rnd.nextInt(4) == 0 ? new Colliding(rnd.nextInt(300), rnd.nextInt(7)) : (Object) rnd.nextInt();
        entries.put(key, rnd.nextInt(10));
      }
      PersistentMap<Object, Integer> built = PersistentMap.build(entries);
      assertThat(built).hasSize(entries.size()).isEqualTo(entries);
      Map<Object, Integer> viaForEach = new HashMap<>();
      built.forEach(viaForEach::put);
      assertThat(viaForEach).isEqualTo(entries);
      for (Object k : entries.keySet()) {
        assertThat(built.get(k)).isEqualTo(entries.get(k));
      }
      // Later changes on the built map behave as on any other.
      Map<Object, Integer> expected = new HashMap<>(entries);
      PersistentMap<Object, Integer> actual = built;
      for (int i = 0; i < 5_000; i++) {
        Object key = rnd.nextInt(4) == 0 ? new Colliding(rnd.nextInt(300), rnd.nextInt(7)) : (Object) rnd.nextInt(5_000);
        if (rnd.nextInt(3) == 0) {
          expected.remove(key);
          actual = actual.without(key);
        } else {
          int v = rnd.nextInt(10);
          expected.put(key, v);
          actual = actual.with(key, v);
        }
      }
      assertThat(actual).hasSize(expected.size()).isEqualTo(expected);
      assertThat(built).isEqualTo(entries);
    }
    assertThat(PersistentMap.build(Map.of())).isSameAs(PersistentMap.empty());
  }

  @Test
  void diffReportsExactlyTheKeysWhoseValuesDifferByIdentity() {
    Random rnd = new Random(7);
    for (int round = 0; round < 200; round++) {
      Map<Object, Object> plain = new HashMap<>();
      for (int i = 0; i < rnd.nextInt(3000); i++) {
        Object key = rnd.nextInt(4) == 0 ? new Colliding(rnd.nextInt(300), rnd.nextInt(6)) : (Object) rnd.nextInt(5_000);
        plain.put(key, new Object());
      }
      PersistentMap<Object, Object> before = round % 2 == 0 ? PersistentMap.build(plain) : PersistentMap.copyOf(plain);
      PersistentMap<Object, Object> after = before;
      for (int i = 0; i < rnd.nextInt(40); i++) {
        Object key = rnd.nextInt(4) == 0 ? new Colliding(rnd.nextInt(300), rnd.nextInt(6)) : (Object) rnd.nextInt(5_000);
        after = rnd.nextBoolean() ? after.without(key) : after.with(key, new Object());
      }
      Map<Object, Object[]> expected = new HashMap<>();
      for (Object k : before.keySet()) {
        if (before.get(k) != after.get(k)) {
          expected.put(k, new Object[] {before.get(k), after.get(k)});
        }
      }
      for (Object k : after.keySet()) {
        if (!before.containsKey(k)) {
          expected.put(k, new Object[] {null, after.get(k)});
        }
      }
      Map<Object, Object[]> seen = new HashMap<>();
      assertThat(PersistentMap.diff(before, after, Integer.MAX_VALUE, (k, o, n) ->
          assertThat(seen.put(k, new Object[] {o, n})).as("reported once: %s", k).isNull())).isTrue();
      assertThat(seen.keySet()).isEqualTo(expected.keySet());
      seen.forEach((k, v) -> assertThat(v).containsExactly(expected.get(k)));
      if (expected.size() > 1) {
        int[] calls = {0};
        assertThat(PersistentMap.diff(before, after, expected.size() - 1, (k, o, n) -> calls[0]++)).isFalse();
        assertThat(calls[0]).isLessThan(expected.size());
      }
    }
  }
}
