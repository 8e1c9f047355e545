package io.sluice.ovsdb.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/** Builders for OVSDB JSON values (RFC 7047 section 5.1): atoms, uuids, named uuids, sets and maps. */
public final class Datum {
  private Datum() {
  }

  public static JsonNode str(String s) {
    return Json.NODES.textNode(s);
  }

  public static JsonNode integer(long v) {
    return Json.NODES.numberNode(v);
  }

  public static JsonNode bool(boolean v) {
    return Json.NODES.booleanNode(v);
  }

  public static JsonNode uuid(UUID u) {
    return Json.NODES.arrayNode().add("uuid").add(u.toString());
  }

  /** A row inserted earlier in the same transaction with {@code uuid-name} = {@code name}. */
  public static JsonNode namedUuid(String name) {
    return Json.NODES.arrayNode().add("named-uuid").add(name);
  }

  public static JsonNode set(Collection<? extends JsonNode> atoms) {
    ArrayNode elems = Json.NODES.arrayNode();
    atoms.forEach(elems::add);
    return Json.NODES.arrayNode().add("set").add(elems);
  }

  public static JsonNode strings(Collection<String> atoms) {
    ArrayNode elems = Json.NODES.arrayNode();
    atoms.stream().sorted().forEach(elems::add);
    return Json.NODES.arrayNode().add("set").add(elems);
  }

  public static JsonNode emptySet() {
    return Json.NODES.arrayNode().add("set").add(Json.NODES.arrayNode());
  }

  /** A string → string map, in key order so equal maps print equally. */
  public static JsonNode map(Map<String, String> m) {
    ArrayNode pairs = Json.NODES.arrayNode();
    new TreeMap<>(m).forEach((k, v) -> pairs.add(Json.NODES.arrayNode().add(k).add(v)));
    return Json.NODES.arrayNode().add("map").add(pairs);
  }
}
