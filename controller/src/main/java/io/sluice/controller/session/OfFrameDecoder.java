package io.sluice.controller.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.CorruptedFrameException;
import java.util.List;

/**
 * Cuts the byte stream into whole OpenFlow messages by the header's length field, and nothing else: each frame
 * is decoded on its own afterwards, so one message OpenFlowJ cannot read never desynchronises the stream.
 */
final class OfFrameDecoder extends ByteToMessageDecoder {
  static final int HEADER = 8;

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    while (in.readableBytes() >= HEADER) {
      int start = in.readerIndex();
      int length = in.getUnsignedShort(start + 2);
      if (length < HEADER) {
        throw new CorruptedFrameException("OpenFlow header length " + length + " < 8 (version " + in.getUnsignedByte(start) + ")");
      }
      if (in.readableBytes() < length) {
        return;
      }
      out.add(in.readRetainedSlice(length));
    }
  }
}
