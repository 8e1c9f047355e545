package io.sluice.ovsdb.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.channel.Channel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The RFC 7047 methods over one connection. Every call returns a future that completes with the result or fails
 * with {@link RpcException} (server error, timeout after {@code timeout}, or closed connection). Thread-safe.
 */
public final class OvsdbClient {
  private final Channel channel;
  private final JsonRpcHandler handler;
  private final Duration timeout;
  private final String name;

  OvsdbClient(Channel channel, JsonRpcHandler handler, Duration timeout, String name) {
    this.channel = channel;
    this.handler = handler;
    this.timeout = timeout;
    this.name = name;
    handler.peer(name);
  }

  /** The endpoint or peer this client talks to, for logs. */
  public String name() {
    return name;
  }

  public Channel channel() {
    return channel;
  }

  public boolean isActive() {
    return channel.isActive();
  }

  public void listener(NotificationListener l) {
    handler.listener(l);
  }

  public CompletableFuture<Void> close() {
    CompletableFuture<Void> f = new CompletableFuture<>();
    channel.close().addListener(x -> f.complete(null));
    return f;
  }

  /** Any method, for what this class does not name. */
  public CompletableFuture<JsonNode> call(String method, ArrayNode params, Duration timeout) {
    return handler.call(method, params, timeout);
  }

  public CompletableFuture<JsonNode> call(String method, ArrayNode params) {
    return handler.call(method, params, timeout);
  }

  public CompletableFuture<List<String>> listDbs() {
    return call("list_dbs", Json.NODES.arrayNode()).thenApply(r -> {
      if (!r.isArray()) {
        throw new RpcException(RpcException.Kind.PROTOCOL, "list_dbs reply is not an array: " + r);
      }
      List<String> dbs = new ArrayList<>();
      r.forEach(n -> dbs.add(n.asText()));
      return dbs;
    });
  }

  public CompletableFuture<JsonNode> getSchema(String db) {
    return call("get_schema", Json.NODES.arrayNode().add(db));
  }

  public CompletableFuture<TransactResult> transact(String db, List<? extends Op> ops) {
    ArrayNode params = Json.NODES.arrayNode().add(db);
    ops.forEach(op -> params.add(op.toJson()));
    return call("transact", params).thenApply(TransactResult::of);
  }

  /** RFC 7047 {@code monitor}: the result is the initial {@code <table-updates>}; later changes come as update. */
  public CompletableFuture<JsonNode> monitor(String db, JsonNode monitorId, ObjectNode requests) {
    return call("monitor", Json.NODES.arrayNode().add(db).add(monitorId).add(requests));
  }

  /** OVS {@code monitor_cond}: like monitor, with {@code where} clauses; result and changes come as update2. */
  public CompletableFuture<JsonNode> monitorCond(String db, JsonNode monitorId, ObjectNode requests) {
    return call("monitor_cond", Json.NODES.arrayNode().add(db).add(monitorId).add(requests));
  }

  /**
   * OVS {@code monitor_cond_since}: result is {@code [found, last-txn-id, table-updates2]}; when {@code found}, the
   * updates are only what changed after {@code lastTxnId}. Changes then come as update3.
   */
  public CompletableFuture<JsonNode> monitorCondSince(String db, JsonNode monitorId, ObjectNode requests,
      String lastTxnId) {
    return call("monitor_cond_since",
        Json.NODES.arrayNode().add(db).add(monitorId).add(requests).add(lastTxnId));
  }

  public CompletableFuture<JsonNode> monitorCancel(JsonNode monitorId) {
    return call("monitor_cancel", Json.NODES.arrayNode().add(monitorId));
  }

  public CompletableFuture<JsonNode> echo(JsonNode... args) {
    ArrayNode params = Json.NODES.arrayNode();
    for (JsonNode a : args) {
      params.add(a);
    }
    return call("echo", params);
  }

  /** True if the lock was granted at once; otherwise a {@code locked} notification comes when it is. */
  public CompletableFuture<Boolean> lock(String lockId) {
    return call("lock", Json.NODES.arrayNode().add(lockId)).thenApply(r -> r.path("locked").asBoolean(false));
  }

  public CompletableFuture<Boolean> steal(String lockId) {
    return call("steal", Json.NODES.arrayNode().add(lockId)).thenApply(r -> r.path("locked").asBoolean(false));
  }

  public CompletableFuture<JsonNode> unlock(String lockId) {
    return call("unlock", Json.NODES.arrayNode().add(lockId));
  }

  /** Requests waiting for a reply (for tests and status). */
  public int pendingRequests() {
    return handler.pendingCount();
  }

  @Override
  public String toString() {
    return "OvsdbClient{" + name + "}";
  }
}
