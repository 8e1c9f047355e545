package io.sluice.renderer.flow;

/**
 * Match and set-field targets the renderer may use. Each knows its ovs-ofctl name and its width in bits;
 * how it is encoded on the wire is the controller's business, not the renderer's.
 */
public enum Field {
  IN_PORT("in_port", 32),
  METADATA("metadata", 64),
  ETH_SRC("dl_src", 48),
  ETH_DST("dl_dst", 48),
  ETH_TYPE("dl_type", 16),
  VLAN_VID("dl_vlan", 12),
  IP_PROTO("nw_proto", 8),
  IPV4_SRC("nw_src", 32),
  IPV4_DST("nw_dst", 32),
  IPV6_SRC("ipv6_src", 128),
  IPV6_DST("ipv6_dst", 128),
  TCP_SRC("tp_src", 16),
  TCP_DST("tp_dst", 16),
  UDP_SRC("tp_src", 16),
  UDP_DST("tp_dst", 16),
  SCTP_SRC("tp_src", 16),
  SCTP_DST("tp_dst", 16),
  ICMPV4_TYPE("icmp_type", 8),
  ICMPV4_CODE("icmp_code", 8),
  ICMPV6_TYPE("icmp_type", 8),
  ICMPV6_CODE("icmp_code", 8),
  ARP_OP("arp_op", 16),
  ARP_SPA("arp_spa", 32),
  ARP_TPA("arp_tpa", 32),
  TCP_FLAGS("tcp_flags", 12),
  REG0("reg0", 32), REG1("reg1", 32), REG2("reg2", 32), REG3("reg3", 32),
  REG4("reg4", 32), REG5("reg5", 32), REG6("reg6", 32), REG7("reg7", 32),
  REG8("reg8", 32), REG9("reg9", 32), REG10("reg10", 32), REG11("reg11", 32),
  REG12("reg12", 32), REG13("reg13", 32), REG14("reg14", 32), REG15("reg15", 32),
  CT_STATE("ct_state", 32),
  CT_ZONE("ct_zone", 16),
  CT_MARK("ct_mark", 32),
  CT_LABEL("ct_label", 128),
  CONJ_ID("conj_id", 32),
  /** The target address of an IPv6 neighbour solicitation or advertisement (OXM {@code ipv6_nd_target}). */
  IPV6_ND_TARGET("nd_target", 128);

  private final String ofctlName;
  private final int bits;

  Field(String ofctlName, int bits) {
    this.ofctlName = ofctlName;
    this.bits = bits;
  }

  /** The name ovs-ofctl uses in matches. */
  public String ofctlName() {
    return ofctlName;
  }

  public int bits() {
    return bits;
  }

  /** Register index 0..15, or -1 when this is not a register. */
  public int registerIndex() {
    return ordinal() >= REG0.ordinal() && ordinal() <= REG15.ordinal() ? ordinal() - REG0.ordinal() : -1;
  }

  public static Field register(int index) {
    if (index < 0 || index > 15) {
      throw new IllegalArgumentException("register index must be 0..15, got " + index);
    }
    return values()[REG0.ordinal() + index];
  }

  static {
    if (values().length > Long.SIZE) {
      throw new AssertionError("Field bit sets hold at most 64 fields");
    }
  }

  /** This field's bit in a field set held as a long. */
  public static long bit(Field f) {
    return 1L << f.ordinal();
  }
}
