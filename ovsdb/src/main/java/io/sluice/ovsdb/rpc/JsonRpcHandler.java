package io.sluice.ovsdb.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JSON-RPC 1.0 peer of one connection (RFC 7047 section 4): matches responses to pending requests by id, with a
 * timeout each; answers the server's {@code echo}; hands notifications to a listener; answers unknown methods with an
 * error. Nothing a peer sends can make this handler throw: bad messages are counted, logged and dropped.
 */
final class JsonRpcHandler extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(JsonRpcHandler.class);

  private record Pending(String method, CompletableFuture<JsonNode> future, ScheduledFuture<?> timeout) { }

  private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
  private final AtomicLong nextId = new AtomicLong(1);
  private final RpcStats stats;
  private final Duration probeTimeout;
  private volatile NotificationListener listener;
  private volatile Channel channel;
  private volatile String peer;

  JsonRpcHandler(RpcStats stats, NotificationListener listener, Duration probeTimeout) {
    this.stats = stats;
    this.listener = listener;
    this.probeTimeout = probeTimeout;
  }

  void peer(String name) {
    this.peer = name;
  }

  void listener(NotificationListener l) {
    this.listener = l;
  }

  int pendingCount() {
    return pending.size();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    channel = ctx.channel();
  }

  /** Sends a request; the future completes with its result, or fails with {@link RpcException}. */
  CompletableFuture<JsonNode> call(String method, ArrayNode params, Duration timeout) {
    Channel ch = channel;
    CompletableFuture<JsonNode> future = new CompletableFuture<>();
    if (ch == null || !ch.isActive()) {
      future.completeExceptionally(new RpcException(RpcException.Kind.CLOSED, method + ": not connected"));
      return future;
    }
    long id = nextId.getAndIncrement();
    ObjectNode msg = Json.NODES.objectNode();
    msg.put("method", method);
    msg.set("params", params);
    msg.put("id", id);
    ScheduledFuture<?> t = ch.eventLoop().schedule(() -> timeOut(id), timeout.toNanos(), TimeUnit.NANOSECONDS);
    pending.put(id, new Pending(method, future, t));
    ch.writeAndFlush(msg).addListener(f -> {
      if (!f.isSuccess()) {
        fail(id, new RpcException(RpcException.Kind.CLOSED, method + ": write failed: " + f.cause()));
      }
    });
    return future;
  }

  /** Sends a notification (no id, no answer). */
  void notify(String method, ArrayNode params) {
    Channel ch = channel;
    if (ch != null && ch.isActive()) {
      ObjectNode msg = Json.NODES.objectNode();
      msg.put("method", method);
      msg.set("params", params);
      msg.putNull("id");
      ch.writeAndFlush(msg);
    }
  }

  private void timeOut(long id) {
    Pending p = pending.remove(id);
    if (p != null) {
      stats.timeouts.increment();
      p.future.completeExceptionally(new RpcException(RpcException.Kind.TIMEOUT,
          p.method + " (id " + id + ") got no reply in time from " + remote()));
    }
  }

  private void fail(long id, RpcException e) {
    Pending p = pending.remove(id);
    if (p != null) {
      p.timeout.cancel(false);
      p.future.completeExceptionally(e);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    for (Long id : new ArrayList<>(pending.keySet())) {
      fail(id, new RpcException(RpcException.Kind.CLOSED, "connection to " + remote() + " closed"));
    }
    super.channelInactive(ctx);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof IdleStateEvent) {
      // Inactivity probe, as OVS does: an echo that must come back, or the peer is gone.
      call("echo", Json.NODES.arrayNode().add("sluice-probe"), probeTimeout).whenComplete((r, e) -> {
        if (e != null && ctx.channel().isActive()) {
          LOG.warn("{}: no reply to inactivity probe ({}); closing the connection", remote(), e.getMessage());
          ctx.close();
        }
      });
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ObjectNode node)) {
      io.netty.util.ReferenceCountUtil.release(msg);
      return;
    }
    try {
      dispatch(ctx, node);
    } catch (RuntimeException e) {
      // A listener bug or an unforeseen shape: never let it reach the pipeline's end and close the connection.
      stats.malformedMessages.increment();
      LOG.warn("{}: could not handle JSON-RPC message: {}", remote(), e.toString());
    }
  }

  private void dispatch(ChannelHandlerContext ctx, ObjectNode node) {
    JsonNode method = node.get("method");
    JsonNode id = node.get("id");
    if (method != null && !method.isNull()) {
      if (!method.isTextual()) {
        malformed(ctx, id, "method is not a string");
        return;
      }
      JsonNode params = node.get("params");
      if (params == null || params.isNull()) {
        params = Json.NODES.arrayNode();
      }
      if (!params.isArray()) {
        malformed(ctx, id, "params of " + method.asText() + " is not an array");
        return;
      }
      boolean request = id != null && !id.isNull();
      onMethod(ctx, method.asText(), (ArrayNode) params, request ? id : null);
      return;
    }
    if (node.has("result") || node.has("error")) {
      onResponse(node, id);
      return;
    }
    malformed(ctx, id, "neither a request nor a response");
  }

  private void onResponse(ObjectNode node, JsonNode id) {
    if (id == null || !id.canConvertToExactIntegral() || !id.canConvertToLong()) {
      stats.unknownIds.increment();
      LOG.warn("{}: dropped response with unknown id {}", remote(), abbreviate(id));
      return;
    }
    Pending p = pending.remove(id.asLong());
    if (p == null) {
      stats.unknownIds.increment();
      LOG.warn("{}: dropped response with unknown id {} (late or never asked)", remote(), id.asLong());
      return;
    }
    p.timeout.cancel(false);
    JsonNode error = node.get("error");
    if (error != null && !error.isNull()) {
      p.future.completeExceptionally(new RpcException(RpcException.Kind.SERVER_ERROR, errorText(error)));
    } else {
      JsonNode result = node.get("result");
      p.future.complete(result == null ? Json.NODES.nullNode() : result);
    }
  }

  static String errorText(JsonNode error) {
    if (error.isTextual()) {
      return error.asText();
    }
    if (error.isObject() && error.has("error")) {
      JsonNode details = error.get("details");
      return error.get("error").asText() + (details != null && !details.isNull() ? ": " + details.asText() : "");
    }
    return abbreviate(error);
  }

  private void onMethod(ChannelHandlerContext ctx, String method, ArrayNode params, JsonNode id) {
    switch (method) {
      case "echo" -> {
        if (id != null) {
          reply(ctx, id, params, null);
        }
      }
      case "update", "update2" -> {
        if (params.size() != 2 || !params.get(1).isObject()) {
          malformed(ctx, id, method + " needs [monitor-id, table-updates]");
          return;
        }
        listener.onUpdate(params.get(0), method.equals("update") ? UpdateKind.UPDATE : UpdateKind.UPDATE2, null,
            params.get(1));
      }
      case "update3" -> {
        if (params.size() != 3 || !params.get(1).isTextual() || !params.get(2).isObject()) {
          malformed(ctx, id, "update3 needs [monitor-id, last-txn-id, table-updates2]");
          return;
        }
        listener.onUpdate(params.get(0), UpdateKind.UPDATE2, params.get(1).asText(), params.get(2));
      }
      case "locked", "stolen" -> {
        if (params.size() != 1 || !params.get(0).isTextual()) {
          malformed(ctx, id, method + " needs [lock-id]");
          return;
        }
        if (method.equals("locked")) {
          LOG.info("{}: lock {} acquired", remote(), params.get(0).asText());
          listener.onLocked(params.get(0).asText());
        } else {
          LOG.warn("{}: lock {} stolen by another client", remote(), params.get(0).asText());
          listener.onStolen(params.get(0).asText());
        }
      }
      default -> {
        stats.unknownMethods.increment();
        LOG.warn("{}: unknown JSON-RPC method {}{}", remote(), abbreviate(Json.NODES.textNode(method)),
            id != null ? ", answered with an error" : ", dropped");
        if (id != null) {
          reply(ctx, id, null, "unknown method");
        }
      }
    }
  }

  private void malformed(ChannelHandlerContext ctx, JsonNode id, String why) {
    stats.malformedMessages.increment();
    LOG.warn("{}: dropped malformed JSON-RPC message: {}", remote(), why);
    if (id != null && !id.isNull() && !id.isContainerNode()) {
      reply(ctx, id, null, "invalid request: " + why);
    }
  }

  private void reply(ChannelHandlerContext ctx, JsonNode id, JsonNode result, String error) {
    ObjectNode msg = Json.NODES.objectNode();
    msg.set("result", result == null ? Json.NODES.nullNode() : result);
    if (error == null) {
      msg.putNull("error");
    } else {
      msg.put("error", error);
    }
    msg.set("id", id);
    ctx.writeAndFlush(msg);
  }

  private String remote() {
    if (peer != null) {
      return peer;
    }
    Channel ch = channel;
    return ch == null ? "(unconnected)" : String.valueOf(ch.remoteAddress());
  }

  static String abbreviate(JsonNode n) {
    String s = String.valueOf(n);
    return s.length() > 80 ? s.substring(0, 80) + "..." : s;
  }
}
