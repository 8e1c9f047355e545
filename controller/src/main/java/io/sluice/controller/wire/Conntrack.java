package io.sluice.controller.wire;

import io.netty.buffer.ByteBuf;
import org.projectfloodlight.openflow.protocol.OFVersion;

/**
 * Open vSwitch's conntrack flush extensions, byte for byte as {@code ovs-ofctl} 3.1 sends them: NXT_CT_FLUSH_ZONE
 * (every entry of one zone, OVS 2.6+) and NXT_CT_FLUSH (OVS 3.1+: the entries of one zone that match a partial reply
 * tuple). Layout (Nicira experimenter message, same in OF1.3-1.5): header, experimenter {@code 0x00002320}, subtype;
 * NXT_CT_FLUSH then has the IP protocol, 7 zero bytes and properties, each {@code type u16, length u16, value}
 * zero-padded to 8: the reply tuple (1), nested (its header padded to 8), holding its source address (0: 16 bytes,
 * IPv4 as {@code ::ffff:a.b.c.d}, length 20) and source port (2: u16, length 8: OVS writes a u16 property as 2 bytes
 * and 2 of padding and counts both), then the zone (2: u16, length 8). Stateless.
 */
public final class Conntrack {
  private Conntrack() { }

  public static final long NX_EXPERIMENTER = 0x00002320L;
  public static final int NXT_CT_FLUSH_ZONE = 29;
  public static final int NXT_CT_FLUSH = 32;
  /** NXT_CT_FLUSH properties. */
  static final int PROP_ORIG_TUPLE = 0;
  static final int PROP_REPLY_TUPLE = 1;
  static final int PROP_ZONE = 2;
  /** Properties of a tuple. */
  static final int TUPLE_SRC = 0;
  static final int TUPLE_SRC_PORT = 2;

  /** Appends an NXT_CT_FLUSH_ZONE: every conntrack entry of {@code zone}. */
  public static void writeFlushZone(ByteBuf out, OFVersion v, long xid, int zone) {
    int wire = GroupCodec.checkVersion(v);
    checkZone(zone);
    out.writeByte(wire).writeByte(Bundles.OFPT_EXPERIMENTER).writeShort(24).writeInt((int) xid);
    out.writeInt((int) NX_EXPERIMENTER).writeInt(NXT_CT_FLUSH_ZONE);
    out.writeZero(6).writeShort(zone);
  }

  /**
   * Appends an NXT_CT_FLUSH of the entries in {@code zone} whose reply direction comes from {@code source} (4 or 16
   * bytes), {@code sourcePort} (0: any) with IP protocol {@code ipProto}: for a DNATed connection, the entries whose
   * endpoint is that address and port, whatever the client and the virtual address.
   */
  public static void writeFlushReplySource(ByteBuf out, OFVersion v, long xid, int zone, byte[] source, int sourcePort,
                                           int ipProto) {
    int wire = GroupCodec.checkVersion(v);
    checkZone(zone);
    if (source.length != 4 && source.length != 16) {
      throw new IllegalArgumentException("an address has 4 or 16 bytes, not " + source.length);
    }
    if (sourcePort < 0 || sourcePort > 0xffff || ipProto < 0 || ipProto > 0xff) {
      throw new IllegalArgumentException("port " + sourcePort + " or IP protocol " + ipProto + " out of range");
    }
    int tupleLen = 8 + 24 + (sourcePort != 0 ? 8 : 0); // nested header padded to 8, address, port
    int len = 24 + tupleLen + 8;
    out.writeByte(wire).writeByte(Bundles.OFPT_EXPERIMENTER).writeShort(len).writeInt((int) xid);
    out.writeInt((int) NX_EXPERIMENTER).writeInt(NXT_CT_FLUSH);
    out.writeByte(ipProto).writeZero(7);
    out.writeShort(PROP_REPLY_TUPLE).writeShort(tupleLen).writeZero(4);
    out.writeShort(TUPLE_SRC).writeShort(4 + 16);
    if (source.length == 4) {
      out.writeZero(10).writeShort(0xffff);
    }
    out.writeBytes(source).writeZero(4);
    if (sourcePort != 0) {
      out.writeShort(TUPLE_SRC_PORT).writeShort(8).writeShort(sourcePort).writeZero(2); // OVS counts the padding
    }
    out.writeShort(PROP_ZONE).writeShort(8).writeShort(zone).writeZero(2);
  }

  private static void checkZone(int zone) {
    if (zone < 0 || zone > 0xffff) {
      throw new IllegalArgumentException("conntrack zone " + zone + " is not in 0..65535");
    }
  }
}
