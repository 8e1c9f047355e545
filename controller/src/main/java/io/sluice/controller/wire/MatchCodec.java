package io.sluice.controller.wire;

import io.netty.buffer.ByteBuf;
import io.sluice.controller.nicira.Nxm;
import io.sluice.renderer.flow.Field;
import io.sluice.renderer.flow.FieldValue;
import io.sluice.renderer.flow.Match;
import java.math.BigInteger;
import java.util.Map;
import org.projectfloodlight.openflow.protocol.OFVersion;

/**
 * The OXM/NXM TLVs of a flow match: encoding in the order OVS's {@code nx_put_raw} uses, decoding back to a
 * renderer {@link Match}, and the canonical (order-independent) match key.
 */
public final class MatchCodec {
  private MatchCodec() { }

  /** OFPMT_OXM */
  public static final int OFPMT_OXM = 1;

  /** Fields in nx_put_raw's order (registers and the ct fields are handled in place). */
  private static final Field[] L2 = {Field.CONJ_ID, Field.IN_PORT, Field.ETH_SRC, Field.ETH_DST, Field.ETH_TYPE, Field.VLAN_VID};
  private static final Field[] L3 = {
      Field.IPV4_SRC, Field.IPV4_DST, Field.IPV6_SRC, Field.IPV6_DST, Field.IP_PROTO,
      Field.TCP_SRC, Field.TCP_DST, Field.TCP_FLAGS, Field.UDP_SRC, Field.UDP_DST, Field.SCTP_SRC, Field.SCTP_DST,
      Field.ICMPV4_TYPE, Field.ICMPV4_CODE, Field.ICMPV6_TYPE, Field.ICMPV6_CODE, Field.IPV6_ND_TARGET,
      Field.ARP_OP, Field.ARP_SPA, Field.ARP_TPA};
  private static final Field[] CT = {Field.CT_STATE, Field.CT_ZONE, Field.CT_MARK, Field.CT_LABEL};

  /** Writes a whole ofp_match (type OXM, length, TLVs, zero padding to 8). */
  public static void writeMatch(ByteBuf out, Match m, OFVersion v) {
    int start = out.writerIndex();
    out.writeShort(OFPMT_OXM);
    out.writeShort(0);
    writeTlvs(out, m, v);
    int len = out.writerIndex() - start;
    out.setShort(start + 2, len);
    out.writeZero((8 - (len & 7)) & 7);
  }

  /** Writes the match's TLVs in OVS's order. */
  public static void writeTlvs(ByteBuf out, Match m, OFVersion v) {
    if (m.isEmpty()) {
      return;
    }
    Map<Field, FieldValue> fields = m.fields();
    for (Field f : L2) {
      FieldValue fv = fields.get(f);
      if (fv != null) {
        if (f == Field.VLAN_VID) {
          if (fv.isMasked()) {
            throw new IllegalArgumentException("masked dl_vlan is not supported by OVS: " + fv);
          }
          out.writeInt(Nxm.oxmHeader(f));
          out.writeShort((int) fv.longValue() | Nxm.VLAN_PRESENT);
        } else {
          if (fv.isMasked() && (f == Field.IN_PORT || f == Field.CONJ_ID)) {
            throw new IllegalArgumentException(f.ofctlName() + " cannot be masked");
          }
          tlv(out, Nxm.oxmHeader(f), fv);
        }
      }
    }
    for (Field f : L3) {
      FieldValue fv = fields.get(f);
      if (fv != null) {
        if (f == Field.TCP_FLAGS && v.getWireVersion() < OFVersion.OF_15.getWireVersion()) {
          onfTcpFlags(out, fv);
        } else {
          if (f == Field.IP_PROTO && fv.isMasked()) {
            throw new IllegalArgumentException("nw_proto cannot be masked in OVS: " + fv);
          }
          tlv(out, Nxm.oxmHeader(f), fv);
        }
      }
    }
    if (v.getWireVersion() >= OFVersion.OF_15.getWireVersion()) {
      for (int x = 0; x < 8; x++) {
        FieldValue hi = fields.get(Field.register(2 * x));
        FieldValue lo = fields.get(Field.register(2 * x + 1));
        if (hi == null && lo == null) {
          continue;
        }
        long value = (hi == null ? 0 : hi.longValue() << 32) | (lo == null ? 0 : lo.longValue());
        long mask = regMask(hi) << 32 | regMask(lo);
        if (mask == 0) {
          continue;
        }
        if (mask == -1L) {
          out.writeInt(Nxm.xregHeader(x));
          out.writeLong(value);
        } else {
          out.writeInt(Nxm.masked(Nxm.xregHeader(x)));
          out.writeLong(value & mask);
          out.writeLong(mask);
        }
      }
    } else {
      for (int r = 0; r < 16; r++) {
        FieldValue fv = fields.get(Field.register(r));
        if (fv != null) {
          tlv(out, Nxm.oxmHeader(fv.field()), fv);
        }
      }
    }
    for (Field f : CT) {
      FieldValue fv = fields.get(f);
      if (fv != null) {
        tlv(out, Nxm.oxmHeader(f), fv);
      }
    }
    FieldValue md = fields.get(Field.METADATA);
    if (md != null) {
      tlv(out, Nxm.oxmHeader(Field.METADATA), md);
    }
  }

  private static long regMask(FieldValue fv) {
    if (fv == null) {
      return 0;
    }
    return fv.isMasked() ? fv.mask().longValue() & 0xffffffffL : 0xffffffffL;
  }

  private static void onfTcpFlags(ByteBuf out, FieldValue fv) {
    if (fv.isMasked()) {
      long mask = fv.mask().longValue();
      if (mask == 0) {
        return;
      }
      out.writeInt(Nxm.ONF_TCP_FLAGS & 0xffff_fe00 | 0x100 | 8);
      out.writeInt(Nxm.ONF_EXPERIMENTER);
      out.writeShort((int) fv.longValue());
      out.writeShort((int) mask);
    } else {
      out.writeInt(Nxm.ONF_TCP_FLAGS);
      out.writeInt(Nxm.ONF_EXPERIMENTER);
      out.writeShort((int) fv.longValue());
    }
  }

  /** One TLV as nxm_put_*m writes it: omitted for a zero mask, unmasked for an exact value. */
  static void tlv(ByteBuf out, int header, FieldValue fv) {
    int n = Nxm.length(header);
    if (!fv.isMasked()) {
      out.writeInt(header);
      writeValue(out, fv.value(), n);
      return;
    }
    BigInteger mask = fv.mask();
    if (mask.signum() == 0) {
      return;
    }
    out.writeInt(Nxm.masked(header));
    writeValue(out, fv.value(), n);
    writeValue(out, mask, n);
  }

  /** Writes an unsigned value in n bytes, big-endian (n = 1, 2, 4, 6, 8 or 16). */
  static void writeValue(ByteBuf out, BigInteger value, int n) {
    if (n == 16) {
      out.writeLong(value.shiftRight(64).longValue());
      out.writeLong(value.longValue());
    } else {
      writeLong(out, value.longValue(), n);
    }
  }

  static void writeLong(ByteBuf out, long v, int n) {
    switch (n) {
      case 1 -> out.writeByte((int) v);
      case 2 -> out.writeShort((int) v);
      case 4 -> out.writeInt((int) v);
      case 6 -> {
        out.writeShort((int) (v >>> 32));
        out.writeInt((int) v);
      }
      case 8 -> out.writeLong(v);
      default -> throw new IllegalArgumentException("field width " + n);
    }
  }

  // ---------------------------------------------------------------- canonical key

  /**
   * The TLVs in {@code b[off, off+len)} sorted by their bytes and concatenated: equal for equal sets of TLVs in any
   * order. Returns null when the bytes are not a sequence of whole TLVs.
   */
  public static Bytes canonicalKey(byte[] b, int off, int len) {
    int end = off + len;
    int count = 0;
    int[] starts = new int[8];
    int[] lens = new int[8];
    int p = off;
    while (p < end) {
      if (end - p < 4) {
        return null;
      }
      int tl = 4 + (b[p + 3] & 0xff);
      if (tl > end - p) {
        return null;
      }
      if (count == starts.length) {
        starts = java.util.Arrays.copyOf(starts, count * 2);
        lens = java.util.Arrays.copyOf(lens, count * 2);
      }
      starts[count] = p;
      lens[count] = tl;
      count++;
      p += tl;
    }
    boolean sorted = true;
    for (int i = 1; i < count && sorted; i++) {
      sorted = java.util.Arrays.compareUnsigned(b, starts[i - 1], starts[i - 1] + lens[i - 1], b, starts[i], starts[i] + lens[i]) <= 0;
    }
    if (sorted) {
      return Bytes.of(b, off, len);
    }
    // insertion sort: matches have a handful of TLVs
    for (int i = 1; i < count; i++) {
      int s = starts[i];
      int l = lens[i];
      int j = i - 1;
      while (j >= 0 && java.util.Arrays.compareUnsigned(b, starts[j], starts[j] + lens[j], b, s, s + l) > 0) {
        starts[j + 1] = starts[j];
        lens[j + 1] = lens[j];
        j--;
      }
      starts[j + 1] = s;
      lens[j + 1] = l;
    }
    byte[] out = new byte[len];
    int q = 0;
    for (int i = 0; i < count; i++) {
      System.arraycopy(b, starts[i], out, q, lens[i]);
      q += lens[i];
    }
    return Bytes.wrap(out);
  }

  // ---------------------------------------------------------------- decoding

  /**
   * Decodes match TLVs (as in a flow-mod or flow-stats match, without the ofp_match header) into a renderer match.
   *
   * @throws IllegalArgumentException when a TLV is malformed or not a field the renderer knows
   */
  public static Match decode(byte[] b, int off, int len, OFVersion v) {
    Match.Builder mb = Match.builder();
    int end = off + len;
    int p = off;
    while (p < end) {
      if (end - p < 4) {
        throw new IllegalArgumentException("match TLV header truncated at " + (p - off));
      }
      int header = getInt(b, p);
      int tl = Nxm.length(header);
      if (tl > end - p - 4) {
        throw new IllegalArgumentException("match TLV " + Integer.toHexString(header) + " overruns the match");
      }
      int body = p + 4;
      p = body + tl;
      boolean masked = Nxm.hasMask(header);
      int oxmClass = Nxm.oxmClass(header);
      if (oxmClass == Nxm.CLASS_EXPERIMENTER) {
        if (tl >= 4 && getInt(b, body) == Nxm.ONF_EXPERIMENTER && Nxm.field(header) == 42
            && tl == (masked ? 8 : 6)) {
          put(mb, Field.TCP_FLAGS, b, body + 4, 2, masked);
          continue;
        }
        throw unknown(header);
      }
      if (oxmClass == Nxm.CLASS_PACKET_REGS) {
        int x = Nxm.field(header);
        if (x > 7 || tl != (masked ? 16 : 8)) {
          throw unknown(header);
        }
        long value = getLong(b, body);
        long mask = masked ? getLong(b, body + 8) : -1L;
        reg(mb, 2 * x, value >>> 32, mask >>> 32);
        reg(mb, 2 * x + 1, value & 0xffffffffL, mask & 0xffffffffL);
        continue;
      }
      Field f = fieldOf(header & 0xffff_fe00);
      if (f == null) {
        throw unknown(header);
      }
      int n = Nxm.length(Nxm.oxmHeader(f));
      if (tl != (masked ? 2 * n : n)) {
        throw new IllegalArgumentException("match TLV " + Integer.toHexString(header) + " has length " + tl
            + " for a " + n + "-byte field");
      }
      if (f == Field.VLAN_VID) {
        int vid = getShort(b, body);
        if (masked || (vid & Nxm.VLAN_PRESENT) == 0) {
          throw new IllegalArgumentException("vlan_vid match " + Integer.toHexString(vid) + " is not a plain dl_vlan");
        }
        mb.exact(f, vid & 0xfff);
        continue;
      }
      put(mb, f, b, body, n, masked);
    }
    return mb.build();
  }

  private static void reg(Match.Builder mb, int r, long value, long mask) {
    if (mask == 0) {
      return;
    }
    if (mask == 0xffffffffL) {
      mb.exact(Field.register(r), value);
    } else {
      mb.masked(Field.register(r), value & mask, mask);
    }
  }

  private static void put(Match.Builder mb, Field f, byte[] b, int at, int n, boolean masked) {
    if (n == 16) {
      BigInteger value = new BigInteger(1, java.util.Arrays.copyOfRange(b, at, at + 16));
      BigInteger mask = masked ? new BigInteger(1, java.util.Arrays.copyOfRange(b, at + 16, at + 32)) : null;
      mb.put(new FieldValue(f, mask == null ? value : value.and(mask), mask));
      return;
    }
    long value = getN(b, at, n);
    if (masked) {
      long mask = getN(b, at + n, n);
      mb.masked(f, value & mask, mask);
    } else {
      mb.exact(f, value);
    }
  }

  private static IllegalArgumentException unknown(int header) {
    return new IllegalArgumentException(String.format("unknown match field 0x%08x", header));
  }

  private static final Map<Integer, Field> BY_HEADER = new java.util.HashMap<>();

  static {
    for (Field f : Field.values()) {
      int h = Nxm.oxmHeader(f) & 0xffff_fe00;
      // TCP/UDP/SCTP ports share ovs-ofctl names but have distinct OXM headers, so this map is unambiguous
      BY_HEADER.putIfAbsent(h, f);
    }
  }

  private static Field fieldOf(int classAndField) {
    return BY_HEADER.get(classAndField);
  }

  static int getShort(byte[] b, int p) {
    return (b[p] & 0xff) << 8 | (b[p + 1] & 0xff);
  }

  static int getInt(byte[] b, int p) {
    return (b[p] & 0xff) << 24 | (b[p + 1] & 0xff) << 16 | (b[p + 2] & 0xff) << 8 | (b[p + 3] & 0xff);
  }

  static long getLong(byte[] b, int p) {
    return (getInt(b, p) & 0xffffffffL) << 32 | (getInt(b, p + 4) & 0xffffffffL);
  }

  static long getN(byte[] b, int p, int n) {
    long v = 0;
    for (int i = 0; i < n; i++) {
      v = v << 8 | (b[p + i] & 0xff);
    }
    return v;
  }
}
