package io.sluice.controller.service;

import io.netty.buffer.ByteBuf;

/**
 * The parts of an OpenFlow 1.3–1.5 PACKET_IN Sluice uses, read from the raw frame (OVS's matches carry fields
 * OpenFlowJ cannot read): the table and cookie of the flow that sent it, the ingress port and the registers reg0–reg15
 * from the match (OVS puts the non-zero ones there as NXM_NX_REGn; 0 when absent), the packet's length on the wire and
 * its bytes (as many as the switch sent).
 */
public record PacketIn(int tableId, long cookie, long inPort, int totalLen, int[] regs, byte[] data) {
  private static final int OXM_OF_IN_PORT = 0x80000004;
  /** NXM_NX_REG0, class 0x0001 field 0, 4 bytes (8 with a mask); REGn has field n. */
  private static final int NXM_NX_REG0 = 0x00010004;
  /**
   * OXM_OF_PKT_REG0 (OpenFlow 1.5 packet registers, as OVS sends them over 1.5), class 0x8001 field 0, 8 bytes (16
   * with a mask: OVS masks off a half that is zero): reg0 (high) and reg1 (low); PKT_REGn holds reg 2n and 2n+1.
   */
  private static final int OXM_OF_PKT_REG0 = 0x80010008;

  /** Register n (0..15) as the switch reported it. */
  public long reg(int n) {
    return regs[n] & 0xffffffffL;
  }

  /**
   * Reads a PACKET_IN frame (header included).
   *
   * @throws IllegalArgumentException if it is not one, or is cut short
   */
  public static PacketIn read(ByteBuf f) {
    int at = f.readerIndex();
    int len = f.readableBytes();
    if (len < 32 || f.getUnsignedByte(at + 1) != 10 || f.getUnsignedByte(at) < 4) {
      throw new IllegalArgumentException("not an OpenFlow 1.3+ PACKET_IN");
    }
    int totalLen = f.getUnsignedShort(at + 12);
    int tableId = f.getUnsignedByte(at + 15);
    long cookie = f.getLong(at + 16);
    int matchLen = f.getUnsignedShort(at + 26); // ofp_match: type, length (without padding), fields
    if (matchLen < 4 || 24 + ((matchLen + 7) & ~7) + 2 > len) {
      throw new IllegalArgumentException("PACKET_IN match length " + matchLen + " does not fit the message");
    }
    long inPort = -1;
    int[] regs = new int[16];
    for (int p = at + 28; p + 4 <= at + 24 + matchLen; ) {
      int header = f.getInt(p);
      int fieldLen = header & 0xff;
      if (p + 4 + fieldLen > at + 24 + matchLen) {
        break;
      }
      if (header == OXM_OF_IN_PORT && fieldLen == 4) {
        inPort = f.getUnsignedInt(p + 4);
      } else if ((header & 0xffff0000) == (NXM_NX_REG0 & 0xffff0000) && ((header >>> 9) & 0x7f) < 16
          && fieldLen == ((header & 0x100) != 0 ? 8 : 4)) {
        regs[(header >>> 9) & 0x7f] = f.getInt(p + 4); // masked (value, mask): the value's bits outside it are 0
      } else if ((header & 0xffff0000) == (OXM_OF_PKT_REG0 & 0xffff0000) && ((header >>> 9) & 0x7f) < 8
          && fieldLen == ((header & 0x100) != 0 ? 16 : 8)) {
        int n = (header >>> 9) & 0x7f;
        regs[2 * n] = f.getInt(p + 4);
        regs[2 * n + 1] = f.getInt(p + 8);
      }
      p += 4 + fieldLen;
    }
    if (inPort < 0) {
      throw new IllegalArgumentException("PACKET_IN without in_port");
    }
    int dataAt = at + 24 + ((matchLen + 7) & ~7) + 2;
    byte[] data = new byte[at + len - dataAt];
    f.getBytes(dataAt, data);
    return new PacketIn(tableId, cookie, inPort, totalLen, regs, data);
  }
}
