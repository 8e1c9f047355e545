package io.sluice.controller.service;

import io.netty.buffer.ByteBuf;

/**
 * The parts of an OpenFlow 1.3–1.5 PACKET_IN Sluice uses, read from the raw frame (OVS's matches carry fields
 * OpenFlowJ cannot read): the table and cookie of the flow that sent it, the ingress port from the match, and the
 * packet bytes (as many as the switch sent).
 */
record PacketIn(int tableId, long cookie, long inPort, byte[] data) {
  private static final int OXM_OF_IN_PORT = 0x80000004;

  /**
   * Reads a PACKET_IN frame (header included).
   *
   * @throws IllegalArgumentException if it is not one, or is cut short
   */
  static PacketIn read(ByteBuf f) {
    int at = f.readerIndex();
    int len = f.readableBytes();
    if (len < 32 || f.getUnsignedByte(at + 1) != 10 || f.getUnsignedByte(at) < 4) {
      throw new IllegalArgumentException("not an OpenFlow 1.3+ PACKET_IN");
    }
    int tableId = f.getUnsignedByte(at + 15);
    long cookie = f.getLong(at + 16);
    int matchLen = f.getUnsignedShort(at + 26); // ofp_match: type, length (without padding), fields
    if (matchLen < 4 || 24 + ((matchLen + 7) & ~7) + 2 > len) {
      throw new IllegalArgumentException("PACKET_IN match length " + matchLen + " does not fit the message");
    }
    long inPort = -1;
    for (int p = at + 28; p + 4 <= at + 24 + matchLen; ) {
      int header = f.getInt(p);
      int fieldLen = header & 0xff;
      if (header == OXM_OF_IN_PORT && fieldLen == 4) {
        inPort = f.getUnsignedInt(p + 4);
      }
      p += 4 + fieldLen;
    }
    if (inPort < 0) {
      throw new IllegalArgumentException("PACKET_IN without in_port");
    }
    int dataAt = at + 24 + ((matchLen + 7) & ~7) + 2;
    byte[] data = new byte[at + len - dataAt];
    f.getBytes(dataAt, data);
    return new PacketIn(tableId, cookie, inPort, data);
  }
}
