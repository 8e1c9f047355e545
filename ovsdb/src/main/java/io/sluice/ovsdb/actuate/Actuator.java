package io.sluice.ovsdb.actuate;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.ovsdb.rpc.Datum;
import io.sluice.ovsdb.rpc.Op;
import io.sluice.ovsdb.rpc.Op.Condition;
import io.sluice.ovsdb.rpc.Op.Mutation;
import io.sluice.ovsdb.rpc.OvsdbClient;
import io.sluice.ovsdb.rpc.RpcException;
import io.sluice.ovsdb.rpc.TransactResult;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes one node's OVSDB look as Sluice wants: bridges, pod ports, flow-restore-wait. Each call reads what is there
 * (one {@code transact} of selects), computes the difference and, only if there is one, sends it in one transaction
 * guarded by {@code wait} operations on what was read. If another client changed those rows in between, the wait
 * fails, nothing is written, and the call reads again (up to {@value #ATTEMPTS} times). Running a call twice therefore
 * sends one write at most: the second run finds nothing to do.
 */
public final class Actuator {
  private static final Logger LOG = LoggerFactory.getLogger(Actuator.class);
  private static final String DB = "Open_vSwitch";
  static final int ATTEMPTS = 3;

  /** Whether a call had to write. */
  public enum Outcome { CHANGED, UNCHANGED }

  private final String node;
  private final Supplier<OvsdbClient> client;
  private final AtomicLong writes = new AtomicLong();

  /** {@code node} names the server in logs; {@code client} gives its current connection (null when down). */
  public Actuator(String node, Supplier<OvsdbClient> client) {
    this.node = node;
    this.client = client;
  }

  /** Write transactions sent so far (reads not counted). */
  public long writes() {
    return writes.get();
  }

  /** The plan a read produced: operations to send (empty: nothing to do) and a line for the log. */
  private record Plan(List<Op> ops, String what) {
    static Plan none() {
      return new Plan(List.of(), "");
    }
  }

  public CompletableFuture<Outcome> ensureBridge(BridgeSpec spec) {
    List<Op> read = List.of(
        new Op.Select("Open_vSwitch", List.of(), List.of("_uuid")),
        new Op.Select("Bridge", List.of(Condition.eq("name", spec.name())),
            List.of("_uuid", "datapath_type", "protocols", "fail_mode", "controller", "other_config")),
        new Op.Select("Controller", List.of(), List.of("_uuid", "target")));
    return run("bridge " + spec.name(), read, r -> planBridge(spec, r));
  }

  private Plan planBridge(BridgeSpec spec, TransactResult r) {
    List<JsonNode> roots = r.rows(0);
    if (roots.size() != 1) {
      throw new IllegalStateException(node + ": expected one Open_vSwitch row, found " + roots.size());
    }
    UUID root = uuid(roots.get(0).get("_uuid"));
    List<JsonNode> found = r.rows(1);
    Map<UUID, String> targets = new HashMap<>();
    r.rows(2).forEach(c -> targets.put(uuid(c.get("_uuid")), c.get("target").asText()));
    Map<String, String> wantedOther = spec.wantedOtherConfig();
    List<Op> ops = new ArrayList<>();
    if (found.isEmpty()) {
      ops.add(new Op.Wait("Bridge", 0L, List.of(Condition.eq("name", spec.name())), List.of("name"), "==",
          List.of()));
      List<JsonNode> ctls = new ArrayList<>();
      for (int i = 0; i < spec.controllers().size(); i++) {
        ops.add(new Op.Insert("Controller", Map.of("target", Datum.str(spec.controllers().get(i))), "ctl" + i));
        ctls.add(Datum.namedUuid("ctl" + i));
      }
      ops.add(new Op.Insert("Interface", Map.of("name", Datum.str(spec.name()), "type", Datum.str("internal")),
          "iface"));
      ops.add(new Op.Insert("Port", Map.of("name", Datum.str(spec.name()), "interfaces", Datum.namedUuid("iface")),
          "port"));
      Map<String, JsonNode> row = new HashMap<>();
      row.put("name", Datum.str(spec.name()));
      row.put("ports", Datum.namedUuid("port"));
      row.put("datapath_type", Datum.str(spec.datapathType()));
      row.put("protocols", Datum.strings(spec.protocols()));
      row.put("fail_mode", Datum.str(spec.failMode()));
      row.put("controller", Datum.set(ctls));
      row.put("other_config", Datum.map(wantedOther));
      ops.add(new Op.Insert("Bridge", row, "br"));
      ops.add(new Op.Mutate("Open_vSwitch", List.of(Condition.eq("_uuid", Datum.uuid(root))),
          List.of(new Mutation("bridges", "insert", Datum.set(List.of(Datum.namedUuid("br")))))));
      ops.add(new Op.Comment("sluice: create bridge " + spec.name()));
      return new Plan(ops, "created bridge " + spec.name() + " (" + spec.datapathType() + ", "
          + String.join(",", new TreeSet<>(spec.protocols())) + ", controller " + spec.controllers() + ")");
    }
    JsonNode br = found.get(0);
    UUID uuid = uuid(br.get("_uuid"));
    Map<String, JsonNode> update = new HashMap<>();
    List<String> changes = new ArrayList<>();
    if (!br.get("datapath_type").asText().equals(spec.datapathType())) {
      update.put("datapath_type", Datum.str(spec.datapathType()));
      changes.add("datapath_type=" + spec.datapathType());
    }
    if (!strings(br.get("protocols")).equals(spec.protocols())) {
      update.put("protocols", Datum.strings(spec.protocols()));
      changes.add("protocols=" + new TreeSet<>(spec.protocols()));
    }
    if (!strings(br.get("fail_mode")).equals(Set.of(spec.failMode()))) {
      update.put("fail_mode", Datum.str(spec.failMode()));
      changes.add("fail_mode=" + spec.failMode());
    }
    List<String> haveTargets = new ArrayList<>();
    uuids(br.get("controller")).forEach(u -> haveTargets.add(targets.getOrDefault(u, "?")));
    List<Op> inserts = new ArrayList<>();
    if (!new HashSet<>(haveTargets).equals(new HashSet<>(spec.controllers()))
        || haveTargets.size() != spec.controllers().size()) {
      List<JsonNode> ctls = new ArrayList<>();
      for (int i = 0; i < spec.controllers().size(); i++) {
        inserts.add(new Op.Insert("Controller", Map.of("target", Datum.str(spec.controllers().get(i))), "ctl" + i));
        ctls.add(Datum.namedUuid("ctl" + i));
      }
      update.put("controller", Datum.set(ctls));
      changes.add("controller=" + spec.controllers());
    }
    Map<String, String> other = stringMap(br.get("other_config"));
    Map<String, String> otherChanges = new HashMap<>();
    wantedOther.forEach((k, v) -> {
      if (!v.equals(other.get(k))) {
        otherChanges.put(k, v);
      }
    });
    if (update.isEmpty() && otherChanges.isEmpty()) {
      return Plan.none();
    }
    List<Condition> me = List.of(Condition.eq("_uuid", Datum.uuid(uuid)));
    Map<String, JsonNode> asRead = new HashMap<>();
    for (Iterator<String> it = br.fieldNames(); it.hasNext(); ) {
      String c = it.next();
      if (!c.equals("_uuid")) {
        asRead.put(c, br.get(c));
      }
    }
    ops.add(new Op.Wait("Bridge", 0L, me, new ArrayList<>(asRead.keySet()), "==", List.of(asRead)));
    ops.addAll(inserts);
    if (!update.isEmpty()) {
      ops.add(new Op.Update("Bridge", me, update));
    }
    if (!otherChanges.isEmpty()) {
      ops.add(setKeys("Bridge", me, "other_config", otherChanges));
      otherChanges.forEach((k, v) -> changes.add("other_config:" + k + "=" + v));
    }
    ops.add(new Op.Comment("sluice: update bridge " + spec.name()));
    return new Plan(ops, "updated bridge " + spec.name() + ": " + String.join(", ", changes));
  }

  public CompletableFuture<Outcome> addPodPort(String bridge, PodPortSpec port) {
    List<Op> read = List.of(
        new Op.Select("Bridge", List.of(Condition.eq("name", bridge)), List.of("_uuid", "ports")),
        new Op.Select("Port", List.of(Condition.eq("name", port.name())), List.of("_uuid", "interfaces")),
        new Op.Select("Interface", List.of(Condition.eq("name", port.name())),
            List.of("_uuid", "type", "external_ids")));
    return run("port " + port.name() + " of pod " + port.pod() + " on bridge " + bridge, read,
        r -> planAddPort(bridge, port, r));
  }

  private Plan planAddPort(String bridge, PodPortSpec port, TransactResult r) {
    if (r.rows(0).isEmpty()) {
      throw new IllegalStateException(node + ": bridge " + bridge + " does not exist; ensure it before adding port "
          + port.name());
    }
    JsonNode br = r.rows(0).get(0);
    List<Condition> brWhere = List.of(Condition.eq("_uuid", br.get("_uuid")));
    List<JsonNode> ports = r.rows(1);
    List<JsonNode> ifaces = r.rows(2);
    Map<String, String> wanted = port.externalIds();
    if (ports.isEmpty()) {
      List<Op> ops = new ArrayList<>();
      ops.add(new Op.Wait("Port", 0L, List.of(Condition.eq("name", port.name())), List.of("name"), "==", List.of()));
      Map<String, JsonNode> iface = new HashMap<>();
      iface.put("name", Datum.str(port.name()));
      iface.put("type", Datum.str(port.type()));
      iface.put("external_ids", Datum.map(wanted));
      ops.add(new Op.Insert("Interface", iface, "iface"));
      ops.add(new Op.Insert("Port", Map.of("name", Datum.str(port.name()), "interfaces", Datum.namedUuid("iface")),
          "port"));
      ops.add(new Op.Mutate("Bridge", brWhere,
          List.of(new Mutation("ports", "insert", Datum.set(List.of(Datum.namedUuid("port")))))));
      ops.add(new Op.Comment("sluice: add port " + port.name() + " for pod " + port.pod()));
      return new Plan(ops, "added port " + port.name() + " for pod " + port.pod() + " to bridge " + bridge);
    }
    UUID portUuid = uuid(ports.get(0).get("_uuid"));
    if (!uuids(br.get("ports")).contains(portUuid)) {
      throw new IllegalStateException(node + ": port " + port.name() + " exists on another bridge than " + bridge
          + "; remove it there first");
    }
    if (ifaces.isEmpty()) {
      throw new IllegalStateException(node + ": port " + port.name() + " has no interface of the same name");
    }
    JsonNode iface = ifaces.get(0);
    Map<String, String> have = stringMap(iface.get("external_ids"));
    Map<String, String> setKeys = new HashMap<>();
    Set<String> dropKeys = new HashSet<>();
    for (String k : PodPortSpec.OWNED_KEYS) {
      String w = wanted.get(k);
      String h = have.get(k);
      if (w == null && h != null) {
        dropKeys.add(k);
      } else if (w != null && !w.equals(h)) {
        setKeys.put(k, w);
      }
    }
    boolean typeDiffers = !iface.get("type").asText().equals(port.type());
    if (setKeys.isEmpty() && dropKeys.isEmpty() && !typeDiffers) {
      return Plan.none();
    }
    List<Condition> me = List.of(Condition.eq("_uuid", iface.get("_uuid")));
    List<Op> ops = new ArrayList<>();
    ops.add(new Op.Wait("Interface", 0L, me, List.of("type", "external_ids"), "==",
        List.of(Map.of("type", iface.get("type"), "external_ids", iface.get("external_ids")))));
    if (typeDiffers) {
      ops.add(new Op.Update("Interface", me, Map.of("type", Datum.str(port.type()))));
    }
    Set<String> touched = new HashSet<>(setKeys.keySet());
    touched.addAll(dropKeys);
    ops.add(new Op.Mutate("Interface", me, List.of(new Mutation("external_ids", "delete", Datum.strings(touched)))));
    if (!setKeys.isEmpty()) {
      ops.add(new Op.Mutate("Interface", me, List.of(new Mutation("external_ids", "insert", Datum.map(setKeys)))));
    }
    ops.add(new Op.Comment("sluice: relabel port " + port.name() + " for pod " + port.pod()));
    return new Plan(ops, "relabelled port " + port.name() + " on bridge " + bridge + " for pod " + port.pod());
  }

  public CompletableFuture<Outcome> removePodPort(String bridge, String portName) {
    List<Op> read = List.of(
        new Op.Select("Bridge", List.of(Condition.eq("name", bridge)), List.of("_uuid", "ports")),
        new Op.Select("Port", List.of(Condition.eq("name", portName)), List.of("_uuid")));
    return run("port " + portName + " on bridge " + bridge, read, r -> {
      if (r.rows(0).isEmpty() || r.rows(1).isEmpty()) {
        return Plan.none();
      }
      JsonNode br = r.rows(0).get(0);
      JsonNode port = r.rows(1).get(0).get("_uuid");
      if (!uuids(br.get("ports")).contains(uuid(port))) {
        LOG.warn("{}: port {} is not on bridge {}; left alone", node, portName, bridge);
        return Plan.none();
      }
      return new Plan(List.of(
          new Op.Mutate("Bridge", List.of(Condition.eq("_uuid", br.get("_uuid"))),
              List.of(new Mutation("ports", "delete", Datum.set(List.of(port))))),
          new Op.Comment("sluice: remove port " + portName)),
          "removed port " + portName + " from bridge " + bridge);
    });
  }

  /**
   * Sets ({@code true}) or clears {@code other_config:flow-restore-wait}: while set, ovs-vswitchd keeps its datapath
   * flows and does not add default flows, so a restarting controller can restore its flows first.
   */
  public CompletableFuture<Outcome> setFlowRestoreWait(boolean on) {
    List<Op> read = List.of(new Op.Select("Open_vSwitch", List.of(), List.of("_uuid", "other_config")));
    return run("flow-restore-wait", read, r -> {
      JsonNode root = r.rows(0).get(0);
      String have = stringMap(root.get("other_config")).get("flow-restore-wait");
      boolean isOn = "true".equals(have);
      if (isOn == on) {
        return Plan.none();
      }
      List<Condition> me = List.of(Condition.eq("_uuid", root.get("_uuid")));
      List<Op> ops = new ArrayList<>();
      ops.add(new Op.Mutate("Open_vSwitch", me,
          List.of(new Mutation("other_config", "delete", Datum.strings(Set.of("flow-restore-wait"))))));
      if (on) {
        ops.add(new Op.Mutate("Open_vSwitch", me,
            List.of(new Mutation("other_config", "insert", Datum.map(Map.of("flow-restore-wait", "true"))))));
      }
      ops.add(new Op.Comment("sluice: flow-restore-wait=" + on));
      return new Plan(ops, (on ? "set" : "cleared") + " other_config:flow-restore-wait");
    });
  }

  private static Op setKeys(String table, List<Condition> where, String column, Map<String, String> kv) {
    return new Op.Mutate(table, where, List.of(
        new Mutation(column, "delete", Datum.strings(kv.keySet())),
        new Mutation(column, "insert", Datum.map(kv))));
  }

  private CompletableFuture<Outcome> run(String what, List<Op> read, Function<TransactResult, Plan> planner) {
    return attempt(what, read, planner, 1);
  }

  private CompletableFuture<Outcome> attempt(String what, List<Op> read, Function<TransactResult, Plan> planner,
      int n) {
    OvsdbClient c = client.get();
    if (c == null || !c.isActive()) {
      return CompletableFuture.failedFuture(new RpcException(RpcException.Kind.CLOSED,
          node + ": not connected; cannot change " + what));
    }
    return c.transact(DB, read).thenCompose(r -> {
      r.error().ifPresent(e -> {
        throw new IllegalStateException(node + ": reading " + what + " failed: " + e);
      });
      Plan plan = planner.apply(r);
      if (plan.ops().isEmpty()) {
        LOG.debug("{}: {} already as wanted", node, what);
        return CompletableFuture.completedFuture(Outcome.UNCHANGED);
      }
      writes.incrementAndGet();
      return c.transact(DB, plan.ops()).thenCompose(w -> {
        if (w.ok()) {
          LOG.info("{}: {}", node, plan.what());
          return CompletableFuture.completedFuture(Outcome.CHANGED);
        }
        String kind = w.errorKind().orElse("");
        if ((kind.equals("timed out") || kind.equals("constraint violation")) && n < ATTEMPTS) {
          LOG.info("{}: {} changed under us ({}); reading again", node, what, w.error().orElse(""));
          return attempt(what, read, planner, n + 1);
        }
        throw new CompletionException(new IllegalStateException(
            node + ": changing " + what + " failed: " + w.error().orElse("?")));
      });
    });
  }

  static UUID uuid(JsonNode n) {
    Objects.requireNonNull(n, "uuid");
    return UUID.fromString(n.get(1).asText());
  }

  static Set<UUID> uuids(JsonNode n) {
    Set<UUID> out = new HashSet<>();
    if (n != null && n.isArray() && n.size() == 2 && n.get(0).asText().equals("set")) {
      n.get(1).forEach(x -> out.add(uuid(x)));
    } else if (n != null && n.isArray() && n.size() == 2 && n.get(0).asText().equals("uuid")) {
      out.add(uuid(n));
    }
    return out;
  }

  static Set<String> strings(JsonNode n) {
    Set<String> out = new HashSet<>();
    if (n != null && n.isArray() && n.size() == 2 && n.get(0).asText().equals("set")) {
      n.get(1).forEach(x -> out.add(x.asText()));
    } else if (n != null && n.isTextual()) {
      out.add(n.asText());
    }
    return out;
  }

  static Map<String, String> stringMap(JsonNode n) {
    Map<String, String> out = new HashMap<>();
    if (n != null && n.isArray() && n.size() == 2 && n.get(0).asText().equals("map")) {
      n.get(1).forEach(p -> out.put(p.get(0).asText(), p.get(1).asText()));
    }
    return out;
  }
}
