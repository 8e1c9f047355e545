package io.sluice.ovsdb.cache;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

/** One row as the monitor reported it: column → value (see {@link Values} for the Java types). */
record Row(UUID uuid, Map<String, Object> columns) {
  Row {
    columns = Collections.unmodifiableMap(new HashMap<>(columns));
  }

  String string(String column) {
    Object v = columns.get(column);
    if (v instanceof Set<?> s) {
      return s.isEmpty() ? "" : String.valueOf(s.iterator().next());
    }
    return v == null ? "" : String.valueOf(v);
  }

  boolean bool(String column) {
    Object v = columns.get(column);
    if (v instanceof Set<?> s) {
      return !s.isEmpty() && Boolean.TRUE.equals(s.iterator().next());
    }
    return Boolean.TRUE.equals(v);
  }

  OptionalLong optionalLong(String column) {
    Object v = columns.get(column);
    if (v instanceof Set<?> s) {
      v = s.isEmpty() ? null : s.iterator().next();
    }
    return v instanceof Long l ? OptionalLong.of(l) : OptionalLong.empty();
  }

  Set<UUID> uuids(String column) {
    Object v = columns.get(column);
    if (v instanceof Set<?> s) {
      return s.stream().filter(UUID.class::isInstance).map(UUID.class::cast).collect(Collectors.toUnmodifiableSet());
    }
    return v instanceof UUID u ? Set.of(u) : Set.of();
  }

  Set<String> strings(String column) {
    Object v = columns.get(column);
    if (v instanceof Set<?> s) {
      return s.stream().map(String::valueOf).collect(Collectors.toUnmodifiableSet());
    }
    return v == null ? Set.of() : Set.of(String.valueOf(v));
  }

  Map<String, String> stringMap(String column) {
    Object v = columns.get(column);
    if (v instanceof Map<?, ?> m) {
      Map<String, String> out = new HashMap<>();
      m.forEach((k, x) -> out.put(String.valueOf(k), String.valueOf(x)));
      return Map.copyOf(out);
    }
    return Map.of();
  }
}
