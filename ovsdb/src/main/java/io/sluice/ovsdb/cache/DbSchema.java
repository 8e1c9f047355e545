package io.sluice.ovsdb.cache;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;

/** The parts of a database schema ({@code get_schema}) the cache needs: tables and their column types. */
public record DbSchema(String name, String version, Map<String, Map<String, ColumnType>> tables) {
  public DbSchema {
    Map<String, Map<String, ColumnType>> copy = new HashMap<>();
    tables.forEach((t, cols) -> copy.put(t, Map.copyOf(cols)));
    tables = Map.copyOf(copy);
  }

  public static DbSchema parse(JsonNode schema) {
    Map<String, Map<String, ColumnType>> tables = new HashMap<>();
    JsonNode ts = schema.get("tables");
    if (ts == null || !ts.isObject()) {
      throw new IllegalArgumentException("schema has no tables object");
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = ts.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> t = it.next();
      Map<String, ColumnType> cols = new HashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> c = t.getValue().get("columns").fields(); c.hasNext(); ) {
        Map.Entry<String, JsonNode> col = c.next();
        cols.put(col.getKey(), ColumnType.parse(col.getValue().get("type")));
      }
      tables.put(t.getKey(), cols);
    }
    return new DbSchema(schema.path("name").asText(), schema.path("version").asText(), tables);
  }

  public Optional<ColumnType> column(String table, String column) {
    Map<String, ColumnType> cols = tables.get(table);
    return cols == null ? Optional.empty() : Optional.ofNullable(cols.get(column));
  }
}
