package io.sluice.ovsdb.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.ovsdb.rpc.Op.Condition;
import io.sluice.ovsdb.rpc.Op.Mutation;
import io.sluice.ovsdb.testing.PrivateOvsdbServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every RFC 7047 method and transact operation, and OVS's monitor extensions, against a real ovsdb-server. */
class OvsdbClientIT {
  private static final String DB = "Open_vSwitch";
  private PrivateOvsdbServer srv;
  private Transport transport;
  private final BlockingQueue<String> notes = new LinkedBlockingQueue<>();

  private final NotificationListener recorder = new NotificationListener() {
    @Override
    public void onUpdate(JsonNode monitorId, UpdateKind kind, String lastTxnId, JsonNode updates) {
      notes.add(kind + " " + monitorId.asText() + " " + (lastTxnId != null) + " " + updates);
    }

    @Override
    public void onLocked(String lockId) {
      notes.add("locked " + lockId);
    }

    @Override
    public void onStolen(String lockId) {
      notes.add("stolen " + lockId);
    }
  };

  @BeforeEach
  void start() {
    srv = new PrivateOvsdbServer();
    transport = new Transport(new RpcPipeline.Settings(1 << 24, Duration.ofSeconds(5), Duration.ofSeconds(5),
        new RpcStats()), 1);
  }

  @AfterEach
  void stop() {
    try {
      transport.close();
    } finally {
      srv.close();
    }
  }

  private OvsdbClient connect(NotificationListener l) throws Exception {
    return transport.connectUnix(srv.socket(), Duration.ofSeconds(2), l).get(5, TimeUnit.SECONDS);
  }

  private static ObjectNode bridgeMonitor() {
    ObjectNode req = Json.NODES.objectNode();
    req.putObject("Bridge").putArray("columns").add("name").add("external_ids");
    return req;
  }

  @Test
  void listsDatabasesAndReadsTheSchema() throws Exception {
    OvsdbClient c = connect(recorder);
    assertThat(c.listDbs().get()).contains(DB, "_Server");
    JsonNode schema = c.getSchema(DB).get();
    assertThat(schema.get("name").asText()).isEqualTo(DB);
    assertThat(schema.get("tables").has("Interface")).isTrue();
    assertThat(c.echo(Json.NODES.textNode("hi")).get().get(0).asText()).isEqualTo("hi");
  }

  @Test
  void transactRunsAllTenOperations() throws Exception {
    OvsdbClient c = connect(recorder);
    UUID root = UUID.fromString(c.transact(DB, List.of(new Op.Select("Open_vSwitch", List.of(), List.of("_uuid"))))
        .get().rows(0).get(0).get("_uuid").get(1).asText());
    List<Condition> byName = List.of(Condition.eq("name", "x0"));
    TransactResult r = c.transact(DB, List.of(
        new Op.Insert("Bridge", Map.of("name", Datum.str("x0")), "br"),
        new Op.Mutate("Open_vSwitch", List.of(Condition.eq("_uuid", Datum.uuid(root))),
            List.of(new Mutation("bridges", "insert", Datum.set(List.of(Datum.namedUuid("br")))))),
        new Op.Update("Bridge", byName, Map.of("external_ids", Datum.map(Map.of("k", "v")))),
        new Op.Mutate("Bridge", byName, List.of(new Mutation("external_ids", "insert", Datum.map(Map.of("k2", "v2"))))),
        new Op.Select("Bridge", byName, List.of("name", "external_ids")),
        new Op.Wait("Bridge", 0L, byName, List.of("name"), "==", List.of(Map.of("name", Datum.str("x0")))),
        new Op.Comment("sluice test"),
        new Op.Commit(false))).get();
    assertThat(r.error()).isEmpty();
    assertThat(r.uuid(0)).isNotNull();
    assertThat(r.count(2)).isEqualTo(1);
    assertThat(r.count(3)).isEqualTo(1);
    assertThat(r.rows(4).get(0).get("external_ids").toString()).contains("k2", "v2", "\"k\"");

    TransactResult aborted = c.transact(DB, List.of(new Op.Delete("Bridge", byName), new Op.Abort())).get();
    assertThat(aborted.errorKind()).contains("aborted");
    assertThat(srv.vsctl("list-br")).contains("x0");

    TransactResult notOwner = c.transact(DB, List.of(new Op.Assert("sluice_lock"))).get();
    assertThat(notOwner.ok()).as("assert of a lock never asked for fails").isFalse();
    assertThat(c.lock("sluice_lock").get()).isTrue();
    assertThat(c.transact(DB, List.of(new Op.Assert("sluice_lock"))).get().ok()).isTrue();

    TransactResult waitFails = c.transact(DB, List.of(
        new Op.Wait("Bridge", 0L, byName, List.of("name"), "==", List.of()))).get();
    assertThat(waitFails.errorKind()).contains("timed out");

    TransactResult deleted = c.transact(DB, List.of(
        new Op.Mutate("Open_vSwitch", List.of(), List.of(new Mutation("bridges", "delete",
            Datum.set(List.of(Datum.uuid(r.uuid(0))))))),
        new Op.Delete("Bridge", byName))).get();
    assertThat(deleted.ok()).isTrue();
    assertThat(srv.vsctl("list-br")).doesNotContain("x0");
  }

  @Test
  void rfc7047MonitorSendsInitialRowsThenUpdates() throws Exception {
    srv.vsctl("add-br", "m0");
    OvsdbClient c = connect(recorder);
    JsonNode initial = c.monitor(DB, Json.NODES.textNode("m1"), bridgeMonitor()).get();
    assertThat(initial.get("Bridge").toString()).contains("\"m0\"", "\"new\"");
    srv.vsctl("set", "bridge", "m0", "external_ids:a=b");
    String note = notes.poll(5, TimeUnit.SECONDS);
    assertThat(note).startsWith("UPDATE m1 false").contains("\"old\"", "\"a\"");
    c.monitorCancel(Json.NODES.textNode("m1")).get();
    srv.vsctl("set", "bridge", "m0", "external_ids:a=c");
    assertThat(notes.poll(300, TimeUnit.MILLISECONDS)).as("no updates after monitor_cancel").isNull();
  }

  @Test
  void monitorCondSendsUpdate2AndMonitorCondSinceUpdate3() throws Exception {
    srv.vsctl("add-br", "m0");
    OvsdbClient c = connect(recorder);
    ObjectNode cond = bridgeMonitor();
    ((ObjectNode) cond.get("Bridge")).putArray("where").add(Json.NODES.arrayNode().add("name").add("==").add("m0"));
    JsonNode initial = c.monitorCond(DB, Json.NODES.textNode("c1"), cond).get();
    assertThat(initial.get("Bridge").toString()).contains("\"initial\"");
    srv.vsctl("add-br", "other");
    srv.vsctl("set", "bridge", "m0", "external_ids:a=b");
    String note = notes.poll(5, TimeUnit.SECONDS);
    assertThat(note).startsWith("UPDATE2 c1 false").contains("\"modify\"").doesNotContain("other");

    JsonNode since = c.monitorCondSince(DB, Json.NODES.textNode("s1"), bridgeMonitor(),
        "00000000-0000-0000-0000-000000000000").get();
    assertThat(since.get(0).isBoolean()).isTrue();
    assertThat(since.get(2).get("Bridge").size()).isEqualTo(2);
    notes.clear();
    srv.vsctl("del-br", "other");
    String n3 = notes.poll(5, TimeUnit.SECONDS);
    // Both monitors hear of it: c1 does not (its condition excludes "other"), s1 does, as update3.
    assertThat(n3).startsWith("UPDATE2 s1 true").contains("\"delete\"");
  }

  @Test
  void lockIsQueuedStolenAndHandedOver() throws Exception {
    OvsdbClient a = connect(recorder);
    BlockingQueue<String> bNotes = new LinkedBlockingQueue<>();
    OvsdbClient b = connect(new NotificationListener() {
      @Override
      public void onUpdate(JsonNode monitorId, UpdateKind kind, String lastTxnId, JsonNode updates) {
      }

      @Override
      public void onLocked(String lockId) {
        bNotes.add("locked " + lockId);
      }
    });
    assertThat(a.lock("L").get()).isTrue();
    assertThat(b.lock("L").get()).isFalse();
    a.unlock("L").get();
    assertThat(bNotes.poll(5, TimeUnit.SECONDS)).isEqualTo("locked L");
    assertThat(a.steal("L").get()).isTrue();
    assertThat(b.transact(DB, List.of(new Op.Assert("L"))).get().errorKind()).contains("not owner");
    a.unlock("L").get();
  }

  @Test
  void requestsTimeOutAndTheConnectionStaysUsable() throws Exception {
    OvsdbClient c = connect(recorder);
    // A wait for a condition that never holds, for 10 s: the server holds the reply back; we give up after 300 ms.
    var f = c.call("transact", Json.NODES.arrayNode().add(DB).add(new Op.Wait("Bridge", 10_000L,
        List.of(Condition.eq("name", "never")), List.of("name"), "!=", List.of()).toJson()), Duration.ofMillis(300));
    assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(RpcException.class).hasMessageContaining("no reply in time");
    assertThat(((RpcException) f.handle((x, e) -> e.getCause() != null ? e.getCause() : e).get()).kind())
        .isEqualTo(RpcException.Kind.TIMEOUT);
    assertThat(c.echo().get(2, TimeUnit.SECONDS)).isNotNull();
  }

  @Test
  void unknownMethodFromUsIsAServerError() throws Exception {
    OvsdbClient c = connect(recorder);
    assertThatThrownBy(() -> c.call("no_such_method", Json.NODES.arrayNode()).get())
        .hasCauseInstanceOf(RpcException.class).hasMessageContaining("unknown method");
    assertThat(c.echo().get()).isNotNull();
  }
}
