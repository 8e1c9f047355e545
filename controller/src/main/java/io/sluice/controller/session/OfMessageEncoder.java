package io.sluice.controller.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;
import org.projectfloodlight.openflow.protocol.OFMessage;

/** Writes OpenFlowJ messages; raw ByteBufs pass through untouched. */
final class OfMessageEncoder extends MessageToByteEncoder<OFMessage> {
  @Override
  protected void encode(ChannelHandlerContext ctx, OFMessage msg, ByteBuf out) {
    msg.writeTo(out);
  }
}
