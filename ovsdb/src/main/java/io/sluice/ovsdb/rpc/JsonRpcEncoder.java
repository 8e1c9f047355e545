package io.sluice.ovsdb.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;
import java.io.OutputStream;

/** Writes one JSON-RPC message as compact JSON (no delimiter: the peer splits objects itself). */
final class JsonRpcEncoder extends MessageToByteEncoder<JsonNode> {
  @Override
  protected void encode(ChannelHandlerContext ctx, JsonNode msg, ByteBuf out) throws Exception {
    try (OutputStream os = new ByteBufOutputStream(out)) {
      Json.MAPPER.writeValue(os, msg);
    }
  }
}
