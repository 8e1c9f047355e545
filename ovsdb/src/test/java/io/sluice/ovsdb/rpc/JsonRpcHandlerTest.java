package io.sluice.ovsdb.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class JsonRpcHandlerTest {
  private final RpcHarness h = new RpcHarness();

  @Test
  void requestGetsAnIdAndItsResponseCompletesTheFuture() throws Exception {
    CompletableFuture<List<String>> dbs = h.client.listDbs();
    List<JsonNode> out = h.written();
    assertThat(out).hasSize(1);
    assertThat(out.get(0).get("method").asText()).isEqualTo("list_dbs");
    assertThat(out.get(0).get("params").isArray()).isTrue();
    long id = out.get(0).get("id").asLong();
    h.feed("{\"id\":" + id + ",\"result\":[\"Open_vSwitch\",\"_Server\"],\"error\":null}");
    assertThat(dbs.get(1, TimeUnit.SECONDS)).containsExactly("Open_vSwitch", "_Server");
    assertThat(h.client.pendingRequests()).isZero();
  }

  @Test
  void responsesMayArriveOutOfOrder() throws Exception {
    CompletableFuture<JsonNode> a = h.client.echo(Json.NODES.textNode("a"));
    CompletableFuture<JsonNode> b = h.client.echo(Json.NODES.textNode("b"));
    List<JsonNode> out = h.written();
    h.feed("{\"id\":" + out.get(1).get("id") + ",\"result\":[\"b\"],\"error\":null}"
        + "{\"id\":" + out.get(0).get("id") + ",\"result\":[\"a\"],\"error\":null}");
    assertThat(a.get().get(0).asText()).isEqualTo("a");
    assertThat(b.get().get(0).asText()).isEqualTo("b");
  }

  @Test
  void serverErrorFailsTheFutureWithItsText() {
    CompletableFuture<JsonNode> f = h.client.getSchema("nope");
    long id = h.written().get(0).get("id").asLong();
    h.feed("{\"id\":" + id + ",\"result\":null,\"error\":{\"error\":\"unknown database\",\"details\":\"nope\"}}");
    assertThatThrownBy(f::get).isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(RpcException.class).hasMessageContaining("unknown database: nope");
  }

  @Test
  void serverEchoIsAnsweredWithItsParams() {
    h.feed("{\"method\":\"echo\",\"params\":[\"x\",1],\"id\":\"echo\"}");
    JsonNode reply = h.written().get(0);
    assertThat(reply.get("id").asText()).isEqualTo("echo");
    assertThat(reply.get("result").toString()).isEqualTo("[\"x\",1]");
    assertThat(reply.get("error").isNull()).isTrue();
  }

  @Test
  void unknownMethodRequestIsAnsweredWithAnErrorAndTheConnectionStays() {
    h.feed("{\"method\":\"frobnicate\",\"params\":[],\"id\":7}");
    JsonNode reply = h.written().get(0);
    assertThat(reply.get("id").asInt()).isEqualTo(7);
    assertThat(reply.get("error").asText()).isEqualTo("unknown method");
    assertThat(h.ch.isActive()).isTrue();
    assertThat(h.stats.unknownMethods()).isEqualTo(1);
  }

  @Test
  void unknownMethodNotificationIsDroppedSilently() {
    h.feed("{\"method\":\"frobnicate\",\"params\":[],\"id\":null}");
    assertThat(h.written()).isEmpty();
    assertThat(h.stats.unknownMethods()).isEqualTo(1);
  }

  @Test
  void responseWithUnknownIdIsDropped() {
    h.feed("{\"id\":424242,\"result\":[],\"error\":null}{\"id\":\"str\",\"result\":[],\"error\":null}");
    assertThat(h.written()).isEmpty();
    assertThat(h.stats.unknownIds()).isEqualTo(2);
    assertThat(h.ch.isActive()).isTrue();
  }

  @Test
  void wrongTypesAreDroppedAndRequestsAmongThemAnsweredWithAnError() {
    h.feed("{\"method\":5,\"params\":[],\"id\":1}{\"method\":\"echo\",\"params\":{},\"id\":2}"
        + "{\"method\":\"update\",\"params\":[1],\"id\":null}{\"id\":1}[1,2]\"str\"");
    List<JsonNode> out = h.written();
    assertThat(out).extracting(n -> n.get("id").asInt()).containsExactly(1, 2, 1);
    assertThat(out).allSatisfy(n -> assertThat(n.get("error").asText()).startsWith("invalid request"));
    assertThat(h.notifications).isEmpty();
  }

  @Test
  void notificationsReachTheListener() {
    h.feed("{\"method\":\"update\",\"params\":[\"m\",{\"T\":{}}],\"id\":null}"
        + "{\"method\":\"update2\",\"params\":[\"m\",{}],\"id\":null}"
        + "{\"method\":\"update3\",\"params\":[\"m\",\"txn-1\",{}],\"id\":null}"
        + "{\"method\":\"locked\",\"params\":[\"l\"],\"id\":null}"
        + "{\"method\":\"stolen\",\"params\":[\"l\"],\"id\":null}");
    assertThat(h.notifications).containsExactly("UPDATE \"m\" null {\"T\":{}}", "UPDATE2 \"m\" null {}",
        "UPDATE2 \"m\" txn-1 {}", "locked l", "stolen l");
  }

  @Test
  void requestWithoutReplyTimesOut() {
    RpcHarness slow = new RpcHarness(1 << 20, Duration.ofMillis(500));
    slow.ch.freezeTime();
    CompletableFuture<JsonNode> f = slow.client.echo();
    long id = slow.written().get(0).get("id").asLong();
    slow.ch.advanceTimeBy(400, TimeUnit.MILLISECONDS);
    slow.ch.runScheduledPendingTasks();
    assertThat(f).isNotDone();
    slow.ch.advanceTimeBy(200, TimeUnit.MILLISECONDS);
    slow.ch.runScheduledPendingTasks();
    assertThat(f).isCompletedExceptionally();
    assertThatThrownBy(f::get).hasCauseInstanceOf(RpcException.class).hasMessageContaining("no reply in time");
    assertThat(slow.stats.timeouts()).isEqualTo(1);
    // The late reply is then an unknown id: dropped, nothing breaks.
    slow.feed("{\"id\":" + id + ",\"result\":[],\"error\":null}");
    assertThat(slow.stats.unknownIds()).isEqualTo(1);
    assertThat(slow.ch.isActive()).isTrue();
  }

  @Test
  void closingTheConnectionFailsPendingRequests() {
    CompletableFuture<JsonNode> f = h.client.echo();
    h.ch.close();
    assertThatThrownBy(f::get).hasCauseInstanceOf(RpcException.class).hasMessageContaining("closed");
    assertThat(h.client.echo()).isCompletedExceptionally();
  }

  @Test
  void transactSendsEveryOperationAndReadsPerOperationResults() throws Exception {
    CompletableFuture<TransactResult> f = h.client.transact("Open_vSwitch", List.of(
        new Op.Comment("hi"), new Op.Select("Bridge", List.of(), List.of("name"))));
    JsonNode req = h.written().get(0);
    assertThat(req.get("params").toString())
        .isEqualTo("[\"Open_vSwitch\",{\"op\":\"comment\",\"comment\":\"hi\"},"
            + "{\"op\":\"select\",\"table\":\"Bridge\",\"where\":[],\"columns\":[\"name\"]}]");
    h.feed("{\"id\":" + req.get("id") + ",\"result\":[{},{\"rows\":[{\"name\":\"br0\"}]}],\"error\":null}");
    TransactResult r = f.get();
    assertThat(r.ok()).isTrue();
    assertThat(r.rows(1)).hasSize(1);
  }
}
