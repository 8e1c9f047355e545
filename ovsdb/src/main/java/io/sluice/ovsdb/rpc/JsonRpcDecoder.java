package io.sluice.ovsdb.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageDecoder;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One frame in, one JSON object out. A frame that is not a JSON object is counted, logged and dropped. */
final class JsonRpcDecoder extends MessageToMessageDecoder<ByteBuf> {
  private static final Logger LOG = LoggerFactory.getLogger(JsonRpcDecoder.class);
  private final RpcStats stats;

  JsonRpcDecoder(RpcStats stats) {
    this.stats = stats;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf frame, List<Object> out) {
    JsonNode node;
    try {
      if (frame.hasArray()) {
        node = Json.MAPPER.readTree(frame.array(), frame.arrayOffset() + frame.readerIndex(), frame.readableBytes());
      } else {
        byte[] bytes = new byte[frame.readableBytes()];
        frame.getBytes(frame.readerIndex(), bytes);
        node = Json.MAPPER.readTree(bytes);
      }
    } catch (Exception | StackOverflowError e) {
      stats.malformedMessages.increment();
      LOG.warn("{}: dropped malformed JSON-RPC message ({} bytes): {}", ctx.channel().remoteAddress(),
          frame.readableBytes(), firstLine(e.getMessage()));
      return;
    }
    if (node == null || !node.isObject()) {
      stats.malformedMessages.increment();
      LOG.warn("{}: dropped JSON-RPC message that is not an object", ctx.channel().remoteAddress());
      return;
    }
    out.add(node);
  }

  static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    String line = nl < 0 ? s : s.substring(0, nl);
    return line.length() > 200 ? line.substring(0, 200) + "..." : line;
  }
}
