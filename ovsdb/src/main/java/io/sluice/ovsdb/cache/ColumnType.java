package io.sluice.ovsdb.cache;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A column's type from the schema (RFC 7047 section 3.2): key atom type, optional value atom type (a map), and the
 * min/max number of elements. A column holding exactly one element is a scalar; anything else is a set or a map.
 */
public record ColumnType(String keyType, String valueType, int min, long max) {
  public static final long UNLIMITED = Long.MAX_VALUE;

  public boolean isMap() {
    return valueType != null;
  }

  public boolean isScalar() {
    return valueType == null && min == 1 && max == 1;
  }

  public boolean isSet() {
    return !isMap() && !isScalar();
  }

  static ColumnType parse(JsonNode type) {
    if (type.isTextual()) {
      return new ColumnType(type.asText(), null, 1, 1);
    }
    String key = atomicType(type.get("key"));
    String value = type.has("value") ? atomicType(type.get("value")) : null;
    int min = type.has("min") ? type.get("min").asInt() : 1;
    long max = 1;
    if (type.has("max")) {
      JsonNode m = type.get("max");
      max = m.isTextual() && m.asText().equals("unlimited") ? UNLIMITED : m.asLong();
    }
    return new ColumnType(key, value, min, max);
  }

  private static String atomicType(JsonNode base) {
    if (base == null) {
      throw new IllegalArgumentException("column type without key");
    }
    return base.isTextual() ? base.asText() : base.get("type").asText();
  }
}
