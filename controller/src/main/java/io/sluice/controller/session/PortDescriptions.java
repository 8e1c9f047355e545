package io.sluice.controller.session;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads port descriptions (OFPMP_PORT_DESC replies and OFPT_PORT_STATUS) straight from the frame. OpenFlowJ fails on
 * the OpenFlow 1.5 port descriptions OVS sends, and ports are too basic to be left to luck.
 */
final class PortDescriptions {
  static final int OFPT_PORT_STATUS = 12;
  static final int OFPT_MULTIPART_REPLY = 19;
  static final int OFPMP_PORT_DESC = 13;
  private static final int OFPPS_LINK_DOWN = 1;
  private static final int OFPPR_DELETE = 1;

  private PortDescriptions() { }

  static boolean isPortDescReply(ByteBuf f) {
    return Frames.type(f) == OFPT_MULTIPART_REPLY && f.readableBytes() >= 16
        && f.getUnsignedShort(f.readerIndex() + 8) == OFPMP_PORT_DESC;
  }

  /** The ports of a port-description reply part. */
  static List<SwitchPort> readReply(ByteBuf f) {
    int base = f.readerIndex();
    int end = base + f.getUnsignedShort(base + 2);
    int version = Frames.version(f);
    List<SwitchPort> ports = new ArrayList<>();
    int pos = base + 16;
    while (pos < end) {
      int len = portLength(f, pos, version);
      if (len <= 0 || pos + len > end) {
        throw new IllegalArgumentException("port description of length " + len + " at offset " + (pos - base) + " overruns the message");
      }
      ports.add(readPort(f, pos, version));
      pos += len;
    }
    return ports;
  }

  /** A port-status message: the port, and whether it was deleted. */
  record Status(SwitchPort port, boolean deleted) { }

  static Status readStatus(ByteBuf f) {
    int base = f.readerIndex();
    int reason = f.getUnsignedByte(base + 8);
    return new Status(readPort(f, base + 16, Frames.version(f)), reason == OFPPR_DELETE);
  }

  private static int portLength(ByteBuf f, int pos, int version) {
    return version <= 4 ? 64 : f.getUnsignedShort(pos + 4);
  }

  private static SwitchPort readPort(ByteBuf f, int pos, int version) {
    long portNo = f.getUnsignedInt(pos);
    int macAt = pos + 8;
    StringBuilder mac = new StringBuilder();
    for (int i = 0; i < 6; i++) {
      if (i > 0) {
        mac.append(':');
      }
      mac.append(String.format("%02x", f.getUnsignedByte(macAt + i)));
    }
    byte[] name = new byte[16];
    f.getBytes(pos + 16, name);
    int n = 0;
    while (n < 16 && name[n] != 0) {
      n++;
    }
    long state = f.getUnsignedInt(pos + 36);
    return new SwitchPort(portNo, new String(name, 0, n, StandardCharsets.US_ASCII), mac.toString(),
        (state & OFPPS_LINK_DOWN) == 0);
  }
}
