package io.sluice.ovsdb.cache;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.ovsdb.cache.OvsRows.Bridge;
import io.sluice.ovsdb.cache.OvsRows.Controller;
import io.sluice.ovsdb.cache.OvsRows.Interface;
import io.sluice.ovsdb.cache.OvsRows.OpenVSwitch;
import io.sluice.ovsdb.cache.OvsRows.Port;
import io.sluice.ovsdb.rpc.Json;
import io.sluice.ovsdb.rpc.UpdateKind;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local mirror of one ovsdb-server's Open_vSwitch, Bridge, Port, Interface and Controller tables, kept by
 * applying monitor updates (RFC 7047 {@code update} or OVS {@code update2}). Mutated by one thread at a time
 * (the connection's event loop); {@link #snapshot()} hands out immutable copies to anyone.
 */
public final class OvsdbCache {
  private static final Logger LOG = LoggerFactory.getLogger(OvsdbCache.class);

  /** What Sluice monitors: table → columns. Columns missing from a server's schema are left out. */
  public static final Map<String, List<String>> MONITORED = monitored();

  private static Map<String, List<String>> monitored() {
    Map<String, List<String>> m = new LinkedHashMap<>();
    m.put("Open_vSwitch", List.of("bridges", "external_ids", "other_config", "ovs_version"));
    m.put("Bridge", List.of("name", "ports", "datapath_id", "datapath_type", "protocols", "controller", "fail_mode",
        "other_config", "external_ids"));
    m.put("Port", List.of("name", "interfaces", "external_ids"));
    m.put("Interface", List.of("name", "type", "ofport", "mac_in_use", "external_ids", "error"));
    m.put("Controller", List.of("target", "is_connected"));
    return Collections.unmodifiableMap(m);
  }

  private final String name;
  private DbSchema schema;
  private final Map<String, Map<UUID, Row>> rows = new HashMap<>();
  private final Map<UUID, OpenVSwitch> switches = new HashMap<>();
  private final Map<UUID, Bridge> bridges = new HashMap<>();
  private final Map<UUID, Port> ports = new HashMap<>();
  private final Map<UUID, Interface> interfaces = new HashMap<>();
  private final Map<UUID, Controller> controllers = new HashMap<>();
  private long version;
  private CacheSnapshot snapshot;
  private long badRows;

  /** {@code name} names the server in logs. */
  public OvsdbCache(String name) {
    this.name = name;
    MONITORED.keySet().forEach(t -> rows.put(t, new HashMap<>()));
  }

  public synchronized void schema(DbSchema s) {
    this.schema = s;
  }

  public synchronized DbSchema schema() {
    return schema;
  }

  /** The monitor requests for this schema: {@code {table: {"columns": [...]}}}, all changes selected. */
  public synchronized ObjectNode monitorRequests() {
    if (schema == null) {
      throw new IllegalStateException("no schema yet for " + name);
    }
    ObjectNode req = Json.NODES.objectNode();
    MONITORED.forEach((table, cols) -> {
      if (!schema.tables().containsKey(table)) {
        return;
      }
      ArrayNode columns = Json.NODES.arrayNode();
      cols.stream().filter(c -> schema.column(table, c).isPresent()).forEach(columns::add);
      ObjectNode r = req.putObject(table);
      r.set("columns", columns);
    });
    return req;
  }

  /** Forgets every row (before loading a full initial state again). */
  public synchronized void clear() {
    rows.values().forEach(Map::clear);
    switches.clear();
    bridges.clear();
    ports.clear();
    interfaces.clear();
    controllers.clear();
    changed();
  }

  /**
   * Applies one {@code <table-updates>} (kind UPDATE) or {@code <table-updates2>} (UPDATE2). Rows that cannot be
   * read are logged and skipped. Returns whether anything changed.
   */
  public synchronized boolean apply(JsonNode tableUpdates, UpdateKind kind) {
    if (schema == null) {
      throw new IllegalStateException("no schema yet for " + name);
    }
    if (tableUpdates == null || !tableUpdates.isObject()) {
      return false;
    }
    boolean changed = false;
    for (Iterator<Map.Entry<String, JsonNode>> t = tableUpdates.fields(); t.hasNext(); ) {
      Map.Entry<String, JsonNode> tu = t.next();
      Map<UUID, Row> table = rows.get(tu.getKey());
      Map<String, ColumnType> types = schema.tables().get(tu.getKey());
      if (table == null || types == null || !tu.getValue().isObject()) {
        continue;
      }
      for (Iterator<Map.Entry<String, JsonNode>> r = tu.getValue().fields(); r.hasNext(); ) {
        Map.Entry<String, JsonNode> ru = r.next();
        try {
          UUID uuid = UUID.fromString(ru.getKey());
          Row next = kind == UpdateKind.UPDATE
              ? applyUpdate1(tu.getKey(), table.get(uuid), uuid, ru.getValue(), types)
              : applyUpdate2(tu.getKey(), table.get(uuid), uuid, ru.getValue(), types);
          if (next == null) {
            changed |= table.remove(uuid) != null;
          } else {
            table.put(uuid, next);
            changed = true;
          }
          retype(tu.getKey(), uuid, next);
        } catch (RuntimeException e) {
          badRows++;
          LOG.warn("{}: skipped unreadable {} row {}: {}", name, tu.getKey(), ru.getKey(), e.getMessage());
        }
      }
    }
    if (changed) {
      changed();
    }
    return changed;
  }

  private Row applyUpdate1(String table, Row old, UUID uuid, JsonNode ru, Map<String, ColumnType> types) {
    JsonNode nw = ru.get("new");
    if (nw == null || nw.isNull()) {
      return null;
    }
    Map<String, Object> cols = old == null ? defaults(table, types) : new HashMap<>(old.columns());
    readColumns(nw, types, cols);
    return new Row(uuid, cols);
  }

  private Row applyUpdate2(String table, Row old, UUID uuid, JsonNode ru, Map<String, ColumnType> types) {
    if (!ru.isObject() || ru.size() != 1) {
      throw new IllegalArgumentException("row update2 must have exactly one of initial/insert/modify/delete");
    }
    String what = ru.fieldNames().next();
    JsonNode body = ru.get(what);
    switch (what) {
      case "initial", "insert" -> {
        Map<String, Object> cols = defaults(table, types);
        readColumns(body, types, cols);
        return new Row(uuid, cols);
      }
      case "modify" -> {
        if (old == null) {
          throw new IllegalArgumentException("modify of a row we do not have");
        }
        Map<String, Object> cols = new HashMap<>(old.columns());
        for (Iterator<Map.Entry<String, JsonNode>> c = body.fields(); c.hasNext(); ) {
          Map.Entry<String, JsonNode> col = c.next();
          ColumnType type = types.get(col.getKey());
          if (type != null) {
            Object was = cols.getOrDefault(col.getKey(), Values.defaultValue(type));
            cols.put(col.getKey(), Values.applyDiff(was, col.getValue(), type));
          }
        }
        return new Row(uuid, cols);
      }
      case "delete" -> {
        return null;
      }
      default -> throw new IllegalArgumentException("unknown row update2 kind " + what);
    }
  }

  private static void readColumns(JsonNode body, Map<String, ColumnType> types, Map<String, Object> cols) {
    if (!body.isObject()) {
      throw new IllegalArgumentException("row is not an object");
    }
    for (Iterator<Map.Entry<String, JsonNode>> c = body.fields(); c.hasNext(); ) {
      Map.Entry<String, JsonNode> col = c.next();
      ColumnType type = types.get(col.getKey());
      if (type != null) {
        cols.put(col.getKey(), Values.parse(col.getValue(), type));
      }
    }
  }

  private static Map<String, Object> defaults(String table, Map<String, ColumnType> types) {
    Map<String, Object> cols = new HashMap<>();
    for (String c : MONITORED.getOrDefault(table, List.of())) {
      ColumnType t = types.get(c);
      if (t != null) {
        cols.put(c, Values.defaultValue(t));
      }
    }
    return cols;
  }

  private void retype(String table, UUID uuid, Row row) {
    switch (table) {
      case "Open_vSwitch" -> put(switches, uuid, row, OpenVSwitch::of);
      case "Bridge" -> put(bridges, uuid, row, Bridge::of);
      case "Port" -> put(ports, uuid, row, Port::of);
      case "Interface" -> put(interfaces, uuid, row, Interface::of);
      case "Controller" -> put(controllers, uuid, row, Controller::of);
      default -> { }
    }
  }

  private static <T> void put(Map<UUID, T> map, UUID uuid, Row row, Function<Row, T> typed) {
    if (row == null) {
      map.remove(uuid);
    } else {
      map.put(uuid, typed.apply(row));
    }
  }

  private void changed() {
    version++;
    snapshot = null;
  }

  public synchronized long version() {
    return version;
  }

  public synchronized int interfaceCount() {
    return interfaces.size();
  }

  public synchronized long badRows() {
    return badRows;
  }

  /** Live read-only views: only for the thread that applies updates (bindings are computed there). */
  public Map<UUID, Bridge> bridgesView() {
    return Collections.unmodifiableMap(bridges);
  }

  public Map<UUID, Port> portsView() {
    return Collections.unmodifiableMap(ports);
  }

  public Map<UUID, Interface> interfacesView() {
    return Collections.unmodifiableMap(interfaces);
  }

  public Map<UUID, OpenVSwitch> switchesView() {
    return Collections.unmodifiableMap(switches);
  }

  public synchronized CacheSnapshot snapshot() {
    if (snapshot == null) {
      snapshot = new CacheSnapshot(version, switches, bridges, ports, interfaces, controllers);
    }
    return snapshot;
  }
}
