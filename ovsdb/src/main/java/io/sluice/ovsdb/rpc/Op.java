package io.sluice.ovsdb.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The ten operations of an RFC 7047 {@code transact} (section 5.2). Values are OVSDB JSON ({@link Datum} builds them);
 * rows are column → value. Each record checks its arguments and prints itself with {@link #toJson()}.
 */
public sealed interface Op {
  ObjectNode toJson();

  /** {@code column function value}, e.g. {@code name == "br0"}. */
  record Condition(String column, String function, JsonNode value) {
    public Condition {
      Objects.requireNonNull(column, "column");
      if (!List.of("<", "<=", "==", "!=", ">=", ">", "includes", "excludes").contains(function)) {
        throw new IllegalArgumentException("unknown condition function " + function + " on column " + column);
      }
      Objects.requireNonNull(value, "value");
    }

    public static Condition eq(String column, JsonNode value) {
      return new Condition(column, "==", value);
    }

    public static Condition eq(String column, String value) {
      return eq(column, Json.NODES.textNode(value));
    }

    ArrayNode toJson() {
      return Json.NODES.arrayNode().add(column).add(function).add(value);
    }
  }

  /** {@code column mutator value}, e.g. {@code ports insert ["set", [...]]}. */
  record Mutation(String column, String mutator, JsonNode value) {
    public Mutation {
      Objects.requireNonNull(column, "column");
      if (!List.of("+=", "-=", "*=", "/=", "%=", "insert", "delete").contains(mutator)) {
        throw new IllegalArgumentException("unknown mutator " + mutator + " on column " + column);
      }
      Objects.requireNonNull(value, "value");
    }

    ArrayNode toJson() {
      return Json.NODES.arrayNode().add(column).add(mutator).add(value);
    }
  }

  record Insert(String table, Map<String, JsonNode> row, String uuidName) implements Op {
    public Insert {
      Objects.requireNonNull(table, "table");
      row = Map.copyOf(row);
    }

    @Override
    public ObjectNode toJson() {
      ObjectNode o = base("insert", table);
      o.set("row", rowJson(row));
      if (uuidName != null) {
        o.put("uuid-name", uuidName);
      }
      return o;
    }
  }

  record Select(String table, List<Condition> where, List<String> columns) implements Op {
    public Select {
      Objects.requireNonNull(table, "table");
      where = List.copyOf(where);
      columns = columns == null ? null : List.copyOf(columns);
    }

    @Override
    public ObjectNode toJson() {
      ObjectNode o = base("select", table);
      o.set("where", whereJson(where));
      if (columns != null) {
        o.set("columns", stringsJson(columns));
      }
      return o;
    }
  }

  record Update(String table, List<Condition> where, Map<String, JsonNode> row) implements Op {
    public Update {
      Objects.requireNonNull(table, "table");
      where = List.copyOf(where);
      row = Map.copyOf(row);
    }

    @Override
    public ObjectNode toJson() {
      ObjectNode o = base("update", table);
      o.set("where", whereJson(where));
      o.set("row", rowJson(row));
      return o;
    }
  }

  record Mutate(String table, List<Condition> where, List<Mutation> mutations) implements Op {
    public Mutate {
      Objects.requireNonNull(table, "table");
      where = List.copyOf(where);
      mutations = List.copyOf(mutations);
    }

    @Override
    public ObjectNode toJson() {
      ObjectNode o = base("mutate", table);
      o.set("where", whereJson(where));
      ArrayNode m = o.putArray("mutations");
      mutations.forEach(x -> m.add(x.toJson()));
      return o;
    }
  }

  record Delete(String table, List<Condition> where) implements Op {
    public Delete {
      Objects.requireNonNull(table, "table");
      where = List.copyOf(where);
    }

    @Override
    public ObjectNode toJson() {
      ObjectNode o = base("delete", table);
      o.set("where", whereJson(where));
      return o;
    }
  }

  /**
   * Succeeds when the selected rows' {@code columns} are ({@code ==}) or are not ({@code !=}) exactly {@code rows};
   * waits up to {@code timeoutMs} (0 = fail at once: an optimistic-concurrency check).
   */
  record Wait(String table, Long timeoutMs, List<Condition> where, List<String> columns, String until,
      List<Map<String, JsonNode>> rows) implements Op {
    public Wait {
      Objects.requireNonNull(table, "table");
      where = List.copyOf(where);
      columns = List.copyOf(columns);
      if (!until.equals("==") && !until.equals("!=")) {
        throw new IllegalArgumentException("wait until must be == or !=, got " + until);
      }
      rows = rows.stream().map(Map::copyOf).toList();
    }

    @Override
    public ObjectNode toJson() {
      ObjectNode o = base("wait", table);
      if (timeoutMs != null) {
        o.put("timeout", timeoutMs);
      }
      o.set("where", whereJson(where));
      o.set("columns", stringsJson(columns));
      o.put("until", until);
      ArrayNode r = o.putArray("rows");
      rows.forEach(x -> r.add(rowJson(x)));
      return o;
    }
  }

  record Commit(boolean durable) implements Op {
    @Override
    public ObjectNode toJson() {
      ObjectNode o = Json.NODES.objectNode().put("op", "commit");
      o.put("durable", durable);
      return o;
    }
  }

  record Abort() implements Op {
    @Override
    public ObjectNode toJson() {
      return Json.NODES.objectNode().put("op", "abort");
    }
  }

  /** Shown in the database log ({@code ovsdb-tool show-log}): say who changed what. */
  record Comment(String comment) implements Op {
    public Comment {
      Objects.requireNonNull(comment, "comment");
    }

    @Override
    public ObjectNode toJson() {
      return Json.NODES.objectNode().put("op", "comment").put("comment", comment);
    }
  }

  /** Fails the transaction unless this client holds {@code lock}. */
  record Assert(String lock) implements Op {
    public Assert {
      Objects.requireNonNull(lock, "lock");
    }

    @Override
    public ObjectNode toJson() {
      return Json.NODES.objectNode().put("op", "assert").put("lock", lock);
    }
  }

  private static ObjectNode base(String op, String table) {
    return Json.NODES.objectNode().put("op", op).put("table", table);
  }

  private static ArrayNode whereJson(List<Condition> where) {
    ArrayNode a = Json.NODES.arrayNode();
    where.forEach(c -> a.add(c.toJson()));
    return a;
  }

  private static ObjectNode rowJson(Map<String, JsonNode> row) {
    ObjectNode o = Json.NODES.objectNode();
    row.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> o.set(e.getKey(), e.getValue()));
    return o;
  }

  private static ArrayNode stringsJson(List<String> s) {
    ArrayNode a = Json.NODES.arrayNode();
    s.forEach(a::add);
    return a;
  }
}
