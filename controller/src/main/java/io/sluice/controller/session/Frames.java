package io.sluice.controller.session;

import io.netty.buffer.ByteBuf;

/** Raw messages the session handles itself because OpenFlowJ cannot read them (all keep their frame). */
public final class Frames {
  private Frames() { }

  /** Any message left undecoded: its version, type and xid come from the header. */
  public record Raw(int version, int type, long xid, ByteBuf frame) { }

  static final int OFPT_MULTIPART_REPLY = 19;

  static int version(ByteBuf f) {
    return f.getUnsignedByte(f.readerIndex());
  }

  static int type(ByteBuf f) {
    return f.getUnsignedByte(f.readerIndex() + 1);
  }

  static long xid(ByteBuf f) {
    return f.getUnsignedInt(f.readerIndex() + 4);
  }

  /** The multipart flags of a multipart reply (bit 0: more to come). */
  static boolean moreFollows(ByteBuf f) {
    return (f.getUnsignedShort(f.readerIndex() + 10) & 1) != 0;
  }
}
