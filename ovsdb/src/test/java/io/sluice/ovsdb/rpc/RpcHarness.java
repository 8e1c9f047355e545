package io.sluice.ovsdb.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The full RPC pipeline on an EmbeddedChannel: feed bytes in, read what the client wrote back. */
final class RpcHarness {
  final RpcStats stats = new RpcStats();
  final EmbeddedChannel ch = new EmbeddedChannel();
  final List<String> notifications = new ArrayList<>();
  final OvsdbClient client;

  RpcHarness(int maxFrame, Duration timeout) {
    client = RpcPipeline.install(ch, new RpcPipeline.Settings(maxFrame, timeout, Duration.ZERO, stats), "test",
        new NotificationListener() {
          @Override
          public void onUpdate(JsonNode monitorId, UpdateKind kind, String lastTxnId, JsonNode updates) {
            notifications.add(kind + " " + monitorId + " " + lastTxnId + " " + updates);
          }

          @Override
          public void onLocked(String lockId) {
            notifications.add("locked " + lockId);
          }

          @Override
          public void onStolen(String lockId) {
            notifications.add("stolen " + lockId);
          }
        });
  }

  RpcHarness() {
    this(1 << 20, Duration.ofSeconds(5));
  }

  void feed(String s) {
    ch.writeInbound(Unpooled.copiedBuffer(s, StandardCharsets.UTF_8));
  }

  void feed(byte[] b) {
    ch.writeInbound(Unpooled.wrappedBuffer(b));
  }

  /** Everything the client wrote, as JSON. */
  List<JsonNode> written() {
    List<JsonNode> out = new ArrayList<>();
    for (Object o; (o = ch.readOutbound()) != null; ) {
      ByteBuf b = (ByteBuf) o;
      try {
        out.add(Json.MAPPER.readTree(b.toString(StandardCharsets.UTF_8)));
      } catch (Exception e) {
        throw new AssertionError(e);
      } finally {
        b.release();
      }
    }
    return out;
  }
}
