package io.sluice.controller.nicira;

import io.netty.buffer.ByteBuf;

/**
 * Raw writers for the Nicira actions OpenFlowJ lacks, byte for byte as OVS 3.1 encodes them (big-endian, every
 * action padded to a multiple of 8 with zeros). Each writer appends one action to {@code out}.
 * Header of every Nicira action: {@code type=0xffff, len u16, vendor=0x00002320, subtype u16}.
 */
public final class NiciraActions {
  private NiciraActions() { }

  public static final int OFPAT_EXPERIMENTER = 0xffff;
  public static final int NX_VENDOR_ID = 0x00002320;
  /** OF1.5 OFPAT_COPY_FIELD. */
  public static final int OFPAT_COPY_FIELD = 0x1c;

  public static final int SUBTYPE_RESUBMIT = 1;
  public static final int SUBTYPE_REG_MOVE = 6;
  public static final int SUBTYPE_REG_LOAD = 7;
  public static final int SUBTYPE_RESUBMIT_TABLE = 14;
  public static final int SUBTYPE_LEARN = 16;
  public static final int SUBTYPE_REG_LOAD2 = 33;
  public static final int SUBTYPE_CONJUNCTION = 34;
  public static final int SUBTYPE_CT = 35;
  public static final int SUBTYPE_NAT = 36;
  public static final int SUBTYPE_CT_CLEAR = 43;

  /** A learn spec's source: a field of the packet (then its NXM header and offset follow). */
  public static final int LEARN_SRC_FIELD = 0;
  /** A learn spec's source: an immediate value (n_bits rounded up to 16-bit units follow). */
  public static final int LEARN_SRC_IMMEDIATE = 1 << 13;
  /** A learn spec's destination: the learned flow's match. */
  public static final int LEARN_DST_MATCH = 0;
  /** A learn spec's destination: a load action of the learned flow. */
  public static final int LEARN_DST_LOAD = 1 << 11;
  /** learn flag NX_LEARN_F_SEND_FLOW_REM. */
  public static final int LEARN_SEND_FLOW_REM = 1;
  /** learn flag NX_LEARN_F_DELETE_LEARNED. */
  public static final int LEARN_DELETE_LEARNED = 2;

  /** resubmit's in_port meaning "keep the packet's in_port" (OFPP_IN_PORT as 16 bits). */
  public static final int IN_PORT_UNCHANGED = 0xfff8;
  /** ct's recirc_table when the ct does not recirculate. */
  public static final int NO_RECIRC = 0xff;

  public static final int CT_COMMIT = 1;
  public static final int CT_FORCE = 2;

  public static final int NAT_SRC = 1;
  public static final int NAT_DST = 2;
  public static final int NAT_PERSISTENT = 4;
  public static final int NAT_PROTO_HASH = 8;
  public static final int NAT_PROTO_RANDOM = 16;

  public static final int NAT_RANGE_IPV4_MIN = 1;
  public static final int NAT_RANGE_IPV4_MAX = 2;
  public static final int NAT_RANGE_IPV6_MIN = 4;
  public static final int NAT_RANGE_IPV6_MAX = 8;
  public static final int NAT_RANGE_PROTO_MIN = 16;
  public static final int NAT_RANGE_PROTO_MAX = 32;

  /** NXM ofs_nbits: {@code ofs << 6 | (nBits - 1)}. */
  public static int ofsNbits(int ofs, int nBits) {
    return ofs << 6 | (nBits - 1);
  }

  private static int header(ByteBuf out, int len, int subtype) {
    int start = out.writerIndex();
    out.writeShort(OFPAT_EXPERIMENTER);
    out.writeShort(len);
    out.writeInt(NX_VENDOR_ID);
    out.writeShort(subtype);
    return start;
  }

  /** Pads the action that starts at {@code start} to a multiple of 8 and writes its length. */
  public static void finish(ByteBuf out, int start) {
    int len = out.writerIndex() - start;
    int pad = (8 - (len & 7)) & 7;
    out.writeZero(pad);
    out.setShort(start + 2, len + pad);
  }

  /** resubmit(IN_PORT, table) (subtype 14), 16 bytes. table 0xff means "this table". */
  public static void resubmitTable(ByteBuf out, int inPort, int table) {
    header(out, 16, SUBTYPE_RESUBMIT_TABLE);
    out.writeShort(inPort);
    out.writeByte(table);
    out.writeZero(3);
  }

  /** resubmit(,table) as OVS emits it: in_port 0xfff8. */
  public static void resubmitTable(ByteBuf out, int table) {
    resubmitTable(out, IN_PORT_UNCHANGED, table);
  }

  /** reg_load (subtype 7), 24 bytes: load {@code value} into bits [ofs, ofs+nBits) of the field {@code dstHeader}. */
  public static void regLoad(ByteBuf out, int dstHeader, int ofs, int nBits, long value) {
    header(out, 24, SUBTYPE_REG_LOAD);
    out.writeShort(ofsNbits(ofs, nBits));
    out.writeInt(dstHeader);
    out.writeLong(value);
  }

  /**
   * reg_load2 (subtype 33): an OXM/NXM TLV (the masked header {@code maskedHeader}, then value and mask, each
   * {@code value.length} bytes) right after the subtype, zero-padded to 8.
   */
  public static void regLoad2(ByteBuf out, int maskedHeader, byte[] value, byte[] mask) {
    int start = header(out, 0, SUBTYPE_REG_LOAD2);
    out.writeInt(maskedHeader);
    out.writeBytes(value);
    out.writeBytes(mask);
    finish(out, start);
  }

  /** reg_move (subtype 6), 24 bytes for two 4-byte headers. */
  public static void regMove(ByteBuf out, int srcHeader, int srcOfs, int dstHeader, int dstOfs, int nBits) {
    int start = header(out, 0, SUBTYPE_REG_MOVE);
    out.writeShort(nBits);
    out.writeShort(srcOfs);
    out.writeShort(dstOfs);
    out.writeInt(srcHeader);
    out.writeInt(dstHeader);
    finish(out, start);
  }

  /** OF1.5 OFPAT_COPY_FIELD (type 0x1c): n_bits, src_offset, dst_offset, pad 2, src and dst headers, pad to 8. */
  public static void copyField(ByteBuf out, int srcHeader, int srcOfs, int dstHeader, int dstOfs, int nBits) {
    int start = out.writerIndex();
    out.writeShort(OFPAT_COPY_FIELD);
    out.writeShort(0);
    out.writeShort(nBits);
    out.writeShort(srcOfs);
    out.writeShort(dstOfs);
    out.writeZero(2);
    out.writeInt(srcHeader);
    out.writeInt(dstHeader);
    finish(out, start);
  }

  /** conjunction(id, clause/nClauses) (subtype 34), 16 bytes; {@code clause} is 1-based as in ovs-ofctl text. */
  public static void conjunction(ByteBuf out, long id, int clause, int nClauses) {
    header(out, 16, SUBTYPE_CONJUNCTION);
    out.writeByte(clause - 1);
    out.writeByte(nClauses);
    out.writeInt((int) id);
  }

  /**
   * Starts a ct action (subtype 35): flags, zone_src (0 = immediate zone), zone or ofs_nbits, recirc_table
   * ({@link #NO_RECIRC} for none), pad 3, alg. Append nested actions (nat, set_field) next, then call
   * {@link #ctEnd}. Returns the start offset to pass to {@code ctEnd}.
   */
  public static int ctBegin(ByteBuf out, int flags, int zoneSrcHeader, int zoneImmOrOfsNbits, int recircTable, int alg) {
    int start = header(out, 0, SUBTYPE_CT);
    out.writeShort(flags);
    out.writeInt(zoneSrcHeader);
    out.writeShort(zoneImmOrOfsNbits);
    out.writeByte(recircTable);
    out.writeZero(3);
    out.writeShort(alg);
    return start;
  }

  /** Closes a ct action: its length covers the nested actions (each already a multiple of 8). */
  public static void ctEnd(ByteBuf out, int start) {
    finish(out, start);
  }

  /**
   * nat (subtype 36): pad 2, flags, range_present, then the present fields in order (IPv4 min/max or IPv6
   * min/max, proto min/max), zero-padded to 8. Addresses are 4 or 16 bytes, null when absent; ports 0 = absent.
   */
  public static void nat(ByteBuf out, int flags, byte[] minAddr, byte[] maxAddr, int minPort, int maxPort) {
    int start = header(out, 0, SUBTYPE_NAT);
    out.writeZero(2);
    out.writeShort(flags);
    int presentAt = out.writerIndex();
    out.writeShort(0);
    int present = 0;
    if (minAddr != null) {
      out.writeBytes(minAddr);
      present |= minAddr.length == 4 ? NAT_RANGE_IPV4_MIN : NAT_RANGE_IPV6_MIN;
    }
    if (maxAddr != null) {
      out.writeBytes(maxAddr);
      present |= maxAddr.length == 4 ? NAT_RANGE_IPV4_MAX : NAT_RANGE_IPV6_MAX;
    }
    if (minAddr != null || maxAddr != null) { // OVS writes ports only with an address family
      if (minPort != 0) {
        out.writeShort(minPort);
        present |= NAT_RANGE_PROTO_MIN;
      }
      if (maxPort != 0) {
        out.writeShort(maxPort);
        present |= NAT_RANGE_PROTO_MAX;
      }
    }
    out.setShort(presentAt, present);
    finish(out, start);
  }

  /**
   * Starts a learn action (subtype 16): idle_timeout, hard_timeout, priority, cookie, flags, table_id, pad,
   * fin_idle_timeout, fin_hard_timeout (32 bytes so far). Append the flow_mod_specs next with {@link #learnFieldSpec}
   * and {@link #learnImmediateSpec}, then call {@link #learnEnd}. Returns the start offset to pass to {@code learnEnd}.
   */
  public static int learnBegin(ByteBuf out, int idleTimeout, int hardTimeout, int priority, long cookie, int flags,
                               int table, int finIdleTimeout, int finHardTimeout) {
    int start = header(out, 0, SUBTYPE_LEARN);
    out.writeShort(idleTimeout);
    out.writeShort(hardTimeout);
    out.writeShort(priority);
    out.writeLong(cookie);
    out.writeShort(flags);
    out.writeByte(table);
    out.writeZero(1);
    out.writeShort(finIdleTimeout);
    out.writeShort(finHardTimeout);
    return start;
  }

  /**
   * A flow_mod_spec whose source is {@code nBits} of a packet field: header u16 ({@link #LEARN_SRC_FIELD} | dstType |
   * n_bits), source NXM header u32 and offset u16, destination (match or load) NXM header u32 and offset u16.
   */
  public static void learnFieldSpec(ByteBuf out, int dstType, int srcHeader, int srcOfs, int dstHeader, int dstOfs,
                                    int nBits) {
    out.writeShort(LEARN_SRC_FIELD | dstType | nBits);
    out.writeInt(srcHeader);
    out.writeShort(srcOfs);
    out.writeInt(dstHeader);
    out.writeShort(dstOfs);
  }

  /**
   * A flow_mod_spec whose source is an immediate {@code value} of {@code nBits} (at most 64): header u16, the value
   * right-aligned in n_bits rounded up to 16-bit units, then the destination NXM header u32 and offset u16.
   */
  public static void learnImmediateSpec(ByteBuf out, int dstType, long value, int dstHeader, int dstOfs, int nBits) {
    if (nBits < 1 || nBits > 64) {
      throw new IllegalArgumentException("learn immediate of " + nBits + " bits: 1 to 64 are written here");
    }
    out.writeShort(LEARN_SRC_IMMEDIATE | dstType | nBits);
    int bytes = 2 * ((nBits + 15) / 16);
    for (int i = bytes - 1; i >= 0; i--) {
      out.writeByte(i >= 8 ? 0 : (int) (value >>> (8 * i)));
    }
    out.writeInt(dstHeader);
    out.writeShort(dstOfs);
  }

  /** Closes a learn action: zero-padded to 8 (a zero spec header ends the specs), its length written. */
  public static void learnEnd(ByteBuf out, int start) {
    finish(out, start);
  }

  /** ct_clear (subtype 43), 16 bytes. */
  public static void ctClear(ByteBuf out) {
    header(out, 16, SUBTYPE_CT_CLEAR);
    out.writeZero(6);
  }
}
