package io.sluice.ovsdb.cache;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * OVSDB JSON values turned into Java: atoms become String, Long, Double, Boolean or UUID; sets become Set; maps
 * become Map; scalars stay atoms. Also applies the diffs of {@code update2} (section "update2 notification" of
 * ovsdb-server(7)): columns of at most one element are replaced, set elements toggled, map keys added, removed or changed.
 */
final class Values {
  private Values() {
  }

  static Object parse(JsonNode json, ColumnType type) {
    if (type.isMap()) {
      Map<Object, Object> m = new HashMap<>();
      if (!isTagged(json, "map")) {
        throw new IllegalArgumentException("expected a map, got " + json);
      }
      for (JsonNode pair : json.get(1)) {
        m.put(atom(pair.get(0), type.keyType()), atom(pair.get(1), type.valueType()));
      }
      return Collections.unmodifiableMap(m);
    }
    if (type.isSet()) {
      Set<Object> s = new HashSet<>();
      if (isTagged(json, "set")) {
        for (JsonNode e : json.get(1)) {
          s.add(atom(e, type.keyType()));
        }
      } else {
        s.add(atom(json, type.keyType()));
      }
      return Collections.unmodifiableSet(s);
    }
    return atom(json, type.keyType());
  }

  static Object defaultValue(ColumnType type) {
    if (type.isMap()) {
      return Map.of();
    }
    if (type.isSet()) {
      return Set.of();
    }
    return switch (type.keyType()) {
      case "integer" -> 0L;
      case "real" -> 0.0;
      case "boolean" -> false;
      case "uuid" -> new UUID(0, 0);
      default -> "";
    };
  }

  /** The new value of a column after an update2 {@code modify} diff. */
  static Object applyDiff(Object old, JsonNode diff, ColumnType type) {
    // ovsdb-server sends the new value, not a difference, for every column of at most one element (scalars and
    // optional values such as Interface ofport): ovsdb_datum_diff() in OVS, Datum.diff() in its Python IDL.
    if (type.max() == 1) {
      return parse(diff, type);
    }
    if (type.isMap()) {
      @SuppressWarnings("unchecked")
      Map<Object, Object> m = new HashMap<>((Map<Object, Object>) old);
      @SuppressWarnings("unchecked")
      Map<Object, Object> d = (Map<Object, Object>) parse(diff, type);
      d.forEach((k, v) -> {
        Object was = m.get(k);
        if (was == null) {
          m.put(k, v);
        } else if (was.equals(v)) {
          m.remove(k);
        } else {
          m.put(k, v);
        }
      });
      return Collections.unmodifiableMap(m);
    }
    @SuppressWarnings("unchecked")
    Set<Object> s = new HashSet<>((Set<Object>) old);
    @SuppressWarnings("unchecked")
    Set<Object> d = (Set<Object>) parse(diff, type);
    for (Object e : d) {
      if (!s.remove(e)) {
        s.add(e);
      }
    }
    return Collections.unmodifiableSet(s);
  }

  private static boolean isTagged(JsonNode json, String tag) {
    return json.isArray() && json.size() == 2 && json.get(0).isTextual() && json.get(0).asText().equals(tag)
        && json.get(1).isArray();
  }

  static Object atom(JsonNode json, String type) {
    switch (type) {
      case "integer":
        if (!json.canConvertToLong() || !json.isIntegralNumber()) {
          throw new IllegalArgumentException("expected an integer, got " + json);
        }
        return json.asLong();
      case "real":
        if (!json.isNumber()) {
          throw new IllegalArgumentException("expected a real, got " + json);
        }
        return json.asDouble();
      case "boolean":
        if (!json.isBoolean()) {
          throw new IllegalArgumentException("expected a boolean, got " + json);
        }
        return json.asBoolean();
      case "uuid":
        if (!isUuid(json)) {
          throw new IllegalArgumentException("expected a uuid, got " + json);
        }
        return UUID.fromString(json.get(1).asText());
      default:
        if (!json.isTextual()) {
          throw new IllegalArgumentException("expected a string, got " + json);
        }
        return json.asText();
    }
  }

  private static boolean isUuid(JsonNode json) {
    return json.isArray() && json.size() == 2 && json.get(0).asText().equals("uuid") && json.get(1).isTextual();
  }
}
