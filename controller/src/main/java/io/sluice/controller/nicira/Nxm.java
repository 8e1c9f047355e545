package io.sluice.controller.nicira;

import io.sluice.renderer.flow.Field;
import org.projectfloodlight.openflow.protocol.OFVersion;

/**
 * NXM/OXM headers (class u16, field u7, hasmask u1, length u8) of the renderer's fields, chosen as OVS 3.1 chooses
 * them. Three views exist because OVS uses three:
 * <ul>
 *   <li>{@link #matchHeader}: what {@code nx_put_raw} puts in a flow match (OF1.5 registers are the 64-bit packet
 *       registers instead, see {@link #xregHeader}; tcp_flags is ONF experimenter OXM before OF1.5);</li>
 *   <li>{@link #oxmHeader}: what set_field and OF1.5 copy_field carry ({@code mf_oxm_header(field, version)});</li>
 *   <li>{@link #nxmHeader}: what reg_load, reg_move and ct's zone source carry ({@code mf_nxm_header}: the NXM header
 *       when the field has one, e.g. {@code NXM_OF_ETH_SRC} rather than {@code OXM_OF_ETH_SRC}).</li>
 * </ul>
 */
public final class Nxm {
  private Nxm() { }

  public static final int CLASS_NXM0 = 0x0000;
  public static final int CLASS_NXM1 = 0x0001;
  public static final int CLASS_OPENFLOW_BASIC = 0x8000;
  public static final int CLASS_PACKET_REGS = 0x8001;
  public static final int CLASS_EXPERIMENTER = 0xffff;
  /** ONF's experimenter id, used by OVS for tcp_flags in OF1.3/1.4 matches. */
  public static final int ONF_EXPERIMENTER = 0x4f4e4600;
  /** ONFOXM_ET_TCP_FLAGS, unmasked: length 6 = 4 (experimenter id) + 2. Followed by {@link #ONF_EXPERIMENTER}. */
  public static final int ONF_TCP_FLAGS = header(CLASS_EXPERIMENTER, 42, 6);

  public static final int CONJ_ID = header(CLASS_NXM1, 37, 4);
  public static final int CT_STATE = header(CLASS_NXM1, 105, 4);
  public static final int CT_ZONE = header(CLASS_NXM1, 106, 2);
  public static final int CT_MARK = header(CLASS_NXM1, 107, 4);
  public static final int CT_LABEL = header(CLASS_NXM1, 108, 16);

  /** OFPVID_PRESENT: OXM vlan_vid carries this bit for a tagged packet. */
  public static final int VLAN_PRESENT = 0x1000;

  private static final int[] OXM = new int[Field.values().length];
  private static final int[] NXM = new int[Field.values().length];

  static {
    oxm(Field.IN_PORT, 0, 4);
    oxm(Field.METADATA, 2, 8);
    oxm(Field.ETH_DST, 3, 6);
    oxm(Field.ETH_SRC, 4, 6);
    oxm(Field.ETH_TYPE, 5, 2);
    oxm(Field.VLAN_VID, 6, 2);
    oxm(Field.IP_PROTO, 10, 1);
    oxm(Field.IPV4_SRC, 11, 4);
    oxm(Field.IPV4_DST, 12, 4);
    oxm(Field.TCP_SRC, 13, 2);
    oxm(Field.TCP_DST, 14, 2);
    oxm(Field.UDP_SRC, 15, 2);
    oxm(Field.UDP_DST, 16, 2);
    oxm(Field.SCTP_SRC, 17, 2);
    oxm(Field.SCTP_DST, 18, 2);
    oxm(Field.ICMPV4_TYPE, 19, 1);
    oxm(Field.ICMPV4_CODE, 20, 1);
    oxm(Field.ARP_OP, 21, 2);
    oxm(Field.ARP_SPA, 22, 4);
    oxm(Field.ARP_TPA, 23, 4);
    oxm(Field.IPV6_SRC, 26, 16);
    oxm(Field.IPV6_DST, 27, 16);
    oxm(Field.ICMPV6_TYPE, 29, 1);
    oxm(Field.ICMPV6_CODE, 30, 1);
    oxm(Field.IPV6_ND_TARGET, 31, 16);
    oxm(Field.TCP_FLAGS, 42, 2); // OF1.5's OXM_OF_TCP_FLAGS
    for (int i = 0; i < 16; i++) {
      both(Field.register(i), header(CLASS_NXM1, i, 4));
    }
    both(Field.CT_STATE, CT_STATE);
    both(Field.CT_ZONE, CT_ZONE);
    both(Field.CT_MARK, CT_MARK);
    both(Field.CT_LABEL, CT_LABEL);
    both(Field.CONJ_ID, CONJ_ID);
    // NXM headers preferred by mf_nxm_header; fields without one keep their OXM header.
    nxm(Field.IN_PORT, header(CLASS_NXM0, 0, 2)); // 16-bit NXM_OF_IN_PORT: width differs, see isWritable
    nxm(Field.ETH_DST, header(CLASS_NXM0, 1, 6));
    nxm(Field.ETH_SRC, header(CLASS_NXM0, 2, 6));
    nxm(Field.ETH_TYPE, header(CLASS_NXM0, 3, 2));
    nxm(Field.IP_PROTO, header(CLASS_NXM0, 6, 1));
    nxm(Field.IPV4_SRC, header(CLASS_NXM0, 7, 4));
    nxm(Field.IPV4_DST, header(CLASS_NXM0, 8, 4));
    nxm(Field.TCP_SRC, header(CLASS_NXM0, 9, 2));
    nxm(Field.TCP_DST, header(CLASS_NXM0, 10, 2));
    nxm(Field.UDP_SRC, header(CLASS_NXM0, 11, 2));
    nxm(Field.UDP_DST, header(CLASS_NXM0, 12, 2));
    nxm(Field.ICMPV4_TYPE, header(CLASS_NXM0, 13, 1));
    nxm(Field.ICMPV4_CODE, header(CLASS_NXM0, 14, 1));
    nxm(Field.ARP_OP, header(CLASS_NXM0, 15, 2));
    nxm(Field.ARP_SPA, header(CLASS_NXM0, 16, 4));
    nxm(Field.ARP_TPA, header(CLASS_NXM0, 17, 4));
    nxm(Field.IPV6_SRC, header(CLASS_NXM1, 19, 16));
    nxm(Field.IPV6_DST, header(CLASS_NXM1, 20, 16));
    nxm(Field.ICMPV6_TYPE, header(CLASS_NXM1, 21, 1));
    nxm(Field.ICMPV6_CODE, header(CLASS_NXM1, 22, 1));
    nxm(Field.IPV6_ND_TARGET, header(CLASS_NXM1, 23, 16));
    nxm(Field.TCP_FLAGS, header(CLASS_NXM1, 34, 2));
  }

  private static void oxm(Field f, int field, int len) {
    OXM[f.ordinal()] = header(CLASS_OPENFLOW_BASIC, field, len);
    NXM[f.ordinal()] = OXM[f.ordinal()];
  }

  private static void nxm(Field f, int header) {
    NXM[f.ordinal()] = header;
  }

  private static void both(Field f, int header) {
    OXM[f.ordinal()] = header;
    NXM[f.ordinal()] = header;
  }

  /** An unmasked header. */
  public static int header(int oxmClass, int field, int length) {
    return oxmClass << 16 | field << 9 | length;
  }

  public static int oxmClass(int header) {
    return header >>> 16;
  }

  public static int field(int header) {
    return (header >>> 9) & 0x7f;
  }

  public static boolean hasMask(int header) {
    return (header & 0x100) != 0;
  }

  public static int length(int header) {
    return header & 0xff;
  }

  /** The masked form of an unmasked non-experimenter header (hasmask set, length doubled). */
  public static int masked(int header) {
    return (header & 0xffff_fe00) | 0x100 | (header & 0xff) * 2;
  }

  /** Bytes of the field's value on the wire (12-bit fields take 2). */
  public static int valueBytes(Field f) {
    return (f.bits() + 7) / 8;
  }

  /** OF1.5 packet register OXM_OF_PKT_REG&lt;xreg&gt; (= reg[2*xreg] &lt;&lt; 32 | reg[2*xreg+1]), unmasked. */
  public static int xregHeader(int xreg) {
    return header(CLASS_PACKET_REGS, xreg, 8);
  }

  /** The header OVS puts in a match for this field, or 0 when the version needs a special form (see class doc). */
  public static int matchHeader(Field f, OFVersion v) {
    if (f == Field.TCP_FLAGS && v.getWireVersion() < OFVersion.OF_15.getWireVersion()) {
      return 0;
    }
    if (f.registerIndex() >= 0 && v.getWireVersion() >= OFVersion.OF_15.getWireVersion()) {
      return 0;
    }
    return OXM[f.ordinal()];
  }

  /** The header set_field and copy_field use for this field in OF1.2+ (the version does not change it here). */
  public static int oxmHeader(Field f) {
    return OXM[f.ordinal()];
  }

  /** The header reg_load, reg_move and ct(zone=FIELD[..]) use: the NXM one when the field has one. */
  public static int nxmHeader(Field f) {
    return NXM[f.ordinal()];
  }

  /**
   * Whether OVS lets a flow write this field with set_field/load/move. in_port is refused here because OVS's
   * writable in_port is the 16-bit NXM_OF_IN_PORT while the renderer's is 32 bits; ct fields are writable only in
   * ct's exec (the caller checks that).
   */
  public static boolean isWritable(Field f) {
    return switch (f) {
      case IN_PORT, ETH_TYPE, VLAN_VID, IP_PROTO, TCP_FLAGS, CT_STATE, CT_ZONE, CONJ_ID -> false;
      default -> true;
    };
  }
}
