package io.sluice.controller.wire;

import io.netty.buffer.ByteBuf;
import io.sluice.controller.wire.FlowStatsParser.MalformedStatsException;
import org.projectfloodlight.openflow.protocol.OFVersion;

/** The multipart-reply header checks the tolerant reply parsers share. */
final class Replies {
  private Replies() { }

  static final int OFPT_MULTIPART_REPLY = 19;
  static final int HEADER = 16;

  /**
   * Checks that {@code msg}'s readable bytes start with a whole OFPT_MULTIPART_REPLY of type {@code mpType} of a
   * supported version; returns the message's length.
   */
  static int check(ByteBuf msg, int mpType, String what) {
    int at = msg.readerIndex();
    int avail = msg.readableBytes();
    if (avail < HEADER) {
      throw new MalformedStatsException("multipart reply shorter than its 16-byte header: " + avail + " bytes");
    }
    version(msg.getUnsignedByte(at));
    int type = msg.getUnsignedByte(at + 1);
    int len = msg.getUnsignedShort(at + 2);
    if (type != OFPT_MULTIPART_REPLY) {
      throw new MalformedStatsException("not a multipart reply: message type " + type);
    }
    if (len > avail || len < HEADER) {
      throw new MalformedStatsException("multipart reply truncated: header says " + len + " bytes, " + avail + " present");
    }
    int got = msg.getUnsignedShort(at + 8);
    if (got != mpType) {
      throw new MalformedStatsException("not a " + what + " reply: multipart type " + got);
    }
    return len;
  }

  static OFVersion version(ByteBuf msg) {
    return version(msg.getUnsignedByte(msg.readerIndex()));
  }

  static OFVersion version(int wire) {
    return switch (wire) {
      case 4 -> OFVersion.OF_13;
      case 5 -> OFVersion.OF_14;
      case 6 -> OFVersion.OF_15;
      default -> throw new MalformedStatsException("unsupported OpenFlow wire version " + wire);
    };
  }

  /** The reply's body (after the multipart header) as an array; copied only when the buffer has none. */
  static byte[] body(ByteBuf msg, int len, int[] offset) {
    int at = msg.readerIndex();
    if (msg.hasArray()) {
      offset[0] = msg.arrayOffset() + at + HEADER;
      return msg.array();
    }
    byte[] b = new byte[len - HEADER];
    msg.getBytes(at + HEADER, b);
    offset[0] = 0;
    return b;
  }
}
