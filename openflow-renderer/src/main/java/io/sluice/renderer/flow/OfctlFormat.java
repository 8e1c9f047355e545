package io.sluice.renderer.flow;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;

/**
 * Prints flows exactly as {@code ovs-ofctl -O OpenFlow15 dump-flows --no-stats} does, so that golden files, logs,
 * {@code sluice compile} and a real switch can be diffed line for line.
 */
public final class OfctlFormat {
  private OfctlFormat() { }

  /** One flow, as dump-flows --no-stats prints it (with its leading space). */
  public static String flow(Flow f) {
    StringBuilder sb = new StringBuilder(" ");
    if (f.cookie().value() != 0) {
      sb.append("cookie=0x").append(Long.toHexString(f.cookie().value())).append(", ");
    }
    if (f.table() != 0) {
      sb.append("table=").append(f.table()).append(", ");
    }
    sb.append("priority=").append(f.priority());
    String m = match(f.match());
    if (!m.isEmpty()) {
      sb.append(',').append(m);
    }
    sb.append(" actions=").append(actions(f.actions()));
    return sb.toString();
  }

  /**
   * One group, as {@code ovs-ofctl -O OpenFlow15 dump-groups} prints it (with its leading space): bucket ids are
   * positions, a weight is printed when it is not 1.
   */
  public static String group(Group g) {
    StringBuilder sb = new StringBuilder(" group_id=").append(g.id()).append(",type=").append(g.type().ofctlName());
    for (int i = 0; i < g.buckets().size(); i++) {
      Group.Bucket b = g.buckets().get(i);
      sb.append(",bucket=bucket_id:").append(i).append(',');
      if (g.type() == Group.Type.SELECT && b.weight() != 1) {
        sb.append("weight:").append(b.weight()).append(',');
      }
      if (b.watchPort() >= 0) {
        sb.append("watch_port:").append(b.watchPort()).append(',');
      }
      sb.append("actions=").append(actions(b.actions()));
    }
    return sb.toString();
  }

  /** One meter, as {@code ovs-ofctl -O OpenFlow15 dump-meters} prints it (two lines). */
  public static String meter(Meter m) {
    return "meter=" + m.id() + (m.packets() ? " pktps" : " kbps") + " burst bands=\ntype=drop rate=" + m.rate()
        + " burst_size=" + m.burstSize();
  }

  private static final Field[] BEFORE_PROTOCOL = {Field.CONJ_ID, Field.CT_STATE, Field.CT_ZONE, Field.CT_MARK, Field.CT_LABEL};
  private static final Field[] AFTER_PROTOCOL = {
      Field.REG0, Field.REG1, Field.REG2, Field.REG3, Field.REG4, Field.REG5, Field.REG6, Field.REG7,
      Field.REG8, Field.REG9, Field.REG10, Field.REG11, Field.REG12, Field.REG13, Field.REG14, Field.REG15,
      Field.METADATA, Field.IN_PORT, Field.VLAN_VID, Field.ETH_SRC, Field.ETH_DST, Field.ETH_TYPE,
      Field.IPV6_SRC, Field.IPV6_DST, Field.IPV4_SRC, Field.IPV4_DST, Field.ARP_OP, Field.ARP_SPA, Field.ARP_TPA,
      Field.IP_PROTO, Field.TCP_SRC, Field.UDP_SRC, Field.SCTP_SRC, Field.TCP_DST, Field.UDP_DST, Field.SCTP_DST,
      Field.TCP_FLAGS, Field.ICMPV4_TYPE, Field.ICMPV4_CODE, Field.ICMPV6_TYPE, Field.ICMPV6_CODE,
      Field.IPV6_ND_TARGET};

  /** The match part, without priority: e.g. {@code ct_state=+trk,tcp,reg1=0x5/0xff,nw_src=10.0.0.0/8,tp_dst=80}. */
  public static String match(Match m) {
    StringBuilder sb = new StringBuilder();
    Map<Field, FieldValue> fields = m.fields();
    for (Field f : BEFORE_PROTOCOL) {
      FieldValue v = fields.get(f);
      if (v != null) {
        sep(sb).append(f.ofctlName()).append('=').append(value(v));
      }
    }
    String proto = protocol(m);
    if (proto != null) {
      sep(sb).append(proto);
    }
    for (Field f : AFTER_PROTOCOL) {
      FieldValue v = fields.get(f);
      if (v == null) {
        continue;
      }
      if (proto != null && (f == Field.ETH_TYPE || f == Field.IP_PROTO && !v.isMasked() && protocolHasProto(proto))) {
        continue;
      }
      sep(sb).append(f.ofctlName()).append('=').append(value(v));
    }
    return sb.toString();
  }

  private static boolean protocolHasProto(String proto) {
    return !proto.equals("ip") && !proto.equals("ipv6") && !proto.equals("arp");
  }

  private static String protocol(Match m) {
    FieldValue type = m.get(Field.ETH_TYPE);
    if (type == null || type.isMasked()) {
      return null;
    }
    FieldValue p = m.get(Field.IP_PROTO);
    long proto = p == null || p.isMasked() ? -1 : p.longValue();
    return switch ((int) type.longValue()) {
      case 0x0800 -> switch ((int) proto) {
        case 1 -> "icmp";
        case 6 -> "tcp";
        case 17 -> "udp";
        case 132 -> "sctp";
        default -> "ip";
      };
      case 0x86dd -> switch ((int) proto) {
        case 58 -> "icmp6";
        case 6 -> "tcp6";
        case 17 -> "udp6";
        case 132 -> "sctp6";
        default -> "ipv6";
      };
      case 0x0806 -> "arp";
      default -> null;
    };
  }

  private static StringBuilder sep(StringBuilder sb) {
    if (sb.length() > 0) {
      sb.append(',');
    }
    return sb;
  }

  static String value(FieldValue v) {
    Field f = v.field();
    switch (f) {
      case IPV4_SRC, IPV4_DST, ARP_SPA, ARP_TPA:
        return ipv4(v);
      case IPV6_SRC, IPV6_DST, IPV6_ND_TARGET:
        return ipv6(v);
      case ETH_SRC, ETH_DST:
        return mac(v.value()) + (v.isMasked() ? "/" + mac(v.mask()) : "");
      case CT_STATE:
        return ctState(v);
      case IN_PORT:
        if (!v.isMasked()) {
          String reserved = reservedPort(v.longValue());
          return reserved != null ? reserved : v.value().toString();
        }
        return hex(v.value()) + "/" + hex(v.mask());
      case IP_PROTO, ICMPV4_TYPE, ICMPV4_CODE, ICMPV6_TYPE, ICMPV6_CODE, CONJ_ID, ARP_OP, VLAN_VID,
           TCP_SRC, TCP_DST, UDP_SRC, UDP_DST, SCTP_SRC, SCTP_DST:
        if (!v.isMasked()) {
          return v.value().toString();
        }
        return hex(v.value()) + "/" + hex(v.mask());
      case ETH_TYPE:
        return String.format("0x%04x", v.longValue()) + (v.isMasked() ? "/" + hex(v.mask()) : "");
      default:
        return hex(v.value()) + (v.isMasked() ? "/" + hex(v.mask()) : "");
    }
  }

  /** OVS's names for the reserved OpenFlow ports. */
  static String reservedPort(long p) {
    if (p == 0xfffffff8L) {
      return "IN_PORT";
    } else if (p == 0xfffffffaL) {
      return "NORMAL";
    } else if (p == 0xfffffffbL) {
      return "FLOOD";
    } else if (p == 0xfffffffcL) {
      return "ALL";
    } else if (p == 0xfffffffdL) {
      return "CONTROLLER";
    } else if (p == 0xfffffffeL) {
      return "LOCAL";
    } else if (p == 0xffffffffL) {
      return "ANY";
    }
    return null;
  }

  /** As C's {@code %#x}, which OVS uses: zero is {@code 0}, not {@code 0x0}. */
  private static String hex(BigInteger b) {
    return b.signum() == 0 ? "0" : "0x" + b.toString(16);
  }

  private static String ipv4(FieldValue v) {
    String addr = ipv4(v.longValue());
    if (!v.isMasked()) {
      return addr;
    }
    int prefix = prefixLength(v.mask(), 32);
    return addr + "/" + (prefix >= 0 ? Integer.toString(prefix) : ipv4(v.mask().longValue()));
  }

  /** An IPv4 (4 bytes) or IPv6 (16 bytes) address as OVS prints it. */
  public static String address(byte[] raw) {
    if (raw.length == 4) {
      return ipv4(new BigInteger(1, raw).longValue());
    }
    if (raw.length == 16) {
      return ipv6(new BigInteger(1, raw));
    }
    throw new IllegalArgumentException("an address has 4 or 16 bytes, not " + raw.length);
  }

  static String ipv4(long a) {
    return ((a >>> 24) & 0xff) + "." + ((a >>> 16) & 0xff) + "." + ((a >>> 8) & 0xff) + "." + (a & 0xff);
  }

  private static String ipv6(FieldValue v) {
    String addr = ipv6(v.value());
    if (!v.isMasked()) {
      return addr;
    }
    int prefix = prefixLength(v.mask(), 128);
    return addr + "/" + (prefix >= 0 ? Integer.toString(prefix) : ipv6(v.mask()));
  }

  static String ipv6(BigInteger value) {
    byte[] raw = value.toByteArray();
    byte[] b = new byte[16];
    int n = Math.min(raw.length, 16);
    System.arraycopy(raw, raw.length - n, b, 16 - n, n);
    try {
      return compressIpv6(InetAddress.getByAddress(b).getHostAddress());
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Java prints every group; OVS (inet_ntop) compresses the longest run of zero groups. */
  private static String compressIpv6(String full) {
    String[] g = full.split(":");
    int bestStart = -1;
    int bestLen = 0;
    for (int i = 0; i < g.length; ) {
      if (Integer.parseInt(g[i], 16) == 0) {
        int j = i;
        while (j < g.length && Integer.parseInt(g[j], 16) == 0) {
          j++;
        }
        if (j - i > bestLen && j - i >= 2) {
          bestStart = i;
          bestLen = j - i;
        }
        i = j;
      } else {
        i++;
      }
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < g.length; i++) {
      if (i == bestStart) {
        sb.append(i == 0 ? "::" : ":");
        i += bestLen - 1;
        continue;
      }
      sb.append(Integer.toHexString(Integer.parseInt(g[i], 16)));
      if (i < g.length - 1) {
        sb.append(':');
      }
    }
    return sb.toString();
  }

  /** CIDR prefix length of a mask, or -1 when it is not contiguous. */
  static int prefixLength(BigInteger mask, int bits) {
    int ones = mask.bitCount();
    BigInteger cidr = BigInteger.ONE.shiftLeft(bits).subtract(BigInteger.ONE)
        .xor(BigInteger.ONE.shiftLeft(bits - ones).subtract(BigInteger.ONE));
    return cidr.equals(mask) ? ones : -1;
  }

  private static String mac(BigInteger v) {
    long x = v.longValue();
    StringBuilder sb = new StringBuilder();
    for (int i = 5; i >= 0; i--) {
      sb.append(String.format("%02x", (x >>> (i * 8)) & 0xff));
      if (i > 0) {
        sb.append(':');
      }
    }
    return sb.toString();
  }

  private static final String[] CT_FLAGS = {"new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat"};

  private static String ctState(FieldValue v) {
    long value = v.longValue();
    long mask = v.isMasked() ? v.mask().longValue() : 0xffffffffL;
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < CT_FLAGS.length; i++) {
      long bit = 1L << i;
      if ((mask & bit) != 0) {
        sb.append((value & bit) != 0 ? '+' : '-').append(CT_FLAGS[i]);
      }
    }
    return sb.toString();
  }

  /** An action list, as dump-flows prints it; an empty list is {@code drop}. */
  public static String actions(List<Action> actions) {
    if (actions.isEmpty()) {
      return "drop";
    }
    StringBuilder sb = new StringBuilder();
    for (Action a : actions) {
      if (sb.length() > 0) {
        sb.append(',');
      }
      action(sb, a);
    }
    return sb.toString();
  }

  private static void action(StringBuilder sb, Action a) {
    if (a instanceof Action.Output o) {
      String reserved = reservedPort(o.port());
      if (reserved != null) {
        sb.append(reserved);
      } else {
        sb.append("output:").append(o.port());
      }
    } else if (a instanceof Action.Normal) {
      sb.append("NORMAL");
    } else if (a instanceof Action.InPort) {
      sb.append("IN_PORT");
    } else if (a instanceof Action.Controller c) {
      sb.append("CONTROLLER:").append(c.maxLen());
    } else if (a instanceof Action.Group g) {
      sb.append("group:").append(g.groupId());
    } else if (a instanceof Action.Meter m) {
      sb.append("meter:").append(m.meterId());
    } else if (a instanceof Action.SetField s) {
      sb.append("set_field:").append(setValue(s.value())).append("->").append(setFieldName(s.value().field()));
    } else if (a instanceof Action.Load l) {
      BigInteger mask = BigInteger.ONE.shiftLeft(l.nBits()).subtract(BigInteger.ONE).shiftLeft(l.ofs());
      BigInteger val = FieldValue.unsigned(l.value()).shiftLeft(l.ofs());
      sb.append("set_field:").append(hex(val));
      if (l.ofs() != 0 || l.nBits() != l.field().bits()) {
        sb.append('/').append(hex(mask));
      }
      sb.append("->").append(l.field().ofctlName());
    } else if (a instanceof Action.Move m) {
      sb.append("move:").append(nxmRange(m.src(), m.srcOfs(), m.nBits()))
          .append("->").append(nxmRange(m.dst(), m.dstOfs(), m.nBits()));
    } else if (a instanceof Action.Resubmit r) {
      sb.append("resubmit(,").append(r.table()).append(')');
    } else if (a instanceof Action.Conjunction c) {
      sb.append("conjunction(").append(c.id()).append(',').append(c.clause()).append('/').append(c.nClauses()).append(')');
    } else if (a instanceof Action.Ct ct) {
      ct(sb, ct);
    } else if (a instanceof Action.Nat n) {
      nat(sb, n);
    } else if (a instanceof Action.Learn l) {
      learn(sb, l);
    } else if (a instanceof Action.CtClear) {
      sb.append("ct_clear");
    } else if (a instanceof Action.DecTtl) {
      sb.append("dec_ttl");
    } else if (a instanceof Action.GotoTable g) {
      sb.append("goto_table:").append(g.table());
    } else {
      throw new IllegalArgumentException("unknown action " + a);
    }
  }

  private static String setValue(FieldValue v) {
    return switch (v.field()) {
      case IPV4_SRC, IPV4_DST, ARP_SPA, ARP_TPA, IPV6_SRC, IPV6_DST, IPV6_ND_TARGET, ETH_SRC, ETH_DST -> value(v);
      case TCP_SRC, TCP_DST, UDP_SRC, UDP_DST, SCTP_SRC, SCTP_DST -> v.value().toString();
      case IN_PORT -> {
        String name = reservedPort(v.value().longValue());
        yield name != null ? name : v.value().toString();
      }
      default -> hex(v.value());
    };
  }

  /** The name set_field prints (OVS's field name, which differs from the match name for some fields). */
  private static String setFieldName(Field f) {
    return switch (f) {
      case ETH_SRC -> "eth_src";
      case ETH_DST -> "eth_dst";
      case IPV4_SRC -> "ip_src";
      case IPV4_DST -> "ip_dst";
      case TCP_SRC -> "tcp_src";
      case TCP_DST -> "tcp_dst";
      case UDP_SRC -> "udp_src";
      case UDP_DST -> "udp_dst";
      case SCTP_SRC -> "sctp_src";
      case SCTP_DST -> "sctp_dst";
      default -> f.ofctlName();
    };
  }

  /** The NXM/OXM name of a field slice as ovs-ofctl prints it in move and ct(zone=...). */
  public static String nxmRange(Field f, int ofs, int nBits) {
    String name = nxmName(f);
    if (ofs == 0 && nBits == f.bits()) {
      return name + "[]";
    }
    return name + "[" + ofs + ".." + (ofs + nBits - 1) + "]";
  }

  static String nxmName(Field f) {
    int reg = f.registerIndex();
    if (reg >= 0) {
      return "NXM_NX_REG" + reg;
    }
    return switch (f) {
      case METADATA -> "OXM_OF_METADATA";
      case IN_PORT -> "NXM_OF_IN_PORT";
      case ETH_SRC -> "NXM_OF_ETH_SRC";
      case ETH_DST -> "NXM_OF_ETH_DST";
      case IPV4_SRC -> "NXM_OF_IP_SRC";
      case IPV4_DST -> "NXM_OF_IP_DST";
      case CT_MARK -> "NXM_NX_CT_MARK";
      case CT_LABEL -> "NXM_NX_CT_LABEL";
      case CT_ZONE -> "NXM_NX_CT_ZONE";
      case TCP_SRC -> "NXM_OF_TCP_SRC";
      case TCP_DST -> "NXM_OF_TCP_DST";
      case UDP_SRC -> "NXM_OF_UDP_SRC";
      case UDP_DST -> "NXM_OF_UDP_DST";
      case SCTP_SRC -> "OXM_OF_SCTP_SRC";
      case SCTP_DST -> "OXM_OF_SCTP_DST";
      case IPV6_SRC -> "NXM_NX_IPV6_SRC";
      case IPV6_DST -> "NXM_NX_IPV6_DST";
      default -> throw new IllegalArgumentException("no NXM name for " + f);
    };
  }

  private static void ct(StringBuilder sb, Action.Ct ct) {
    StringBuilder in = new StringBuilder();
    if (ct.commit()) {
      in.append("commit,");
    }
    if (ct.force()) {
      in.append("force,");
    }
    if (ct.table() >= 0) {
      in.append("table=").append(ct.table()).append(',');
    }
    if (ct.zoneField() != null) {
      in.append("zone=").append(nxmRange(ct.zoneField(), ct.zoneOfs(), 16)).append(',');
    } else if (ct.zone() != 0) {
      in.append("zone=").append(ct.zone()).append(',');
    }
    if (ct.nat() != null) {
      nat(in, ct.nat());
      in.append(',');
    }
    if (!ct.exec().isEmpty()) {
      in.append("exec(").append(actions(ct.exec())).append("),");
    }
    if (in.length() > 0) {
      in.setLength(in.length() - 1);
    }
    sb.append("ct(").append(in).append(')');
  }

  /**
   * learn as OVS's learn_format prints it: table, the timeouts and priority when not the defaults (0, 0, 32768), the
   * cookie when not 0, then the specs: {@code NXM_OF_IP_SRC[]} (match the packet's own value), {@code eth_type=0x800}
   * (match a constant), {@code load:0xa00000b->NXM_NX_REG0[]} (load a constant).
   */
  private static void learn(StringBuilder sb, Action.Learn l) {
    sb.append("learn(table=").append(l.table());
    if (l.idleTimeout() != 0) {
      sb.append(",idle_timeout=").append(l.idleTimeout());
    }
    if (l.hardTimeout() != 0) {
      sb.append(",hard_timeout=").append(l.hardTimeout());
    }
    if (l.priority() != 32768) {
      sb.append(",priority=").append(l.priority());
    }
    if (l.cookie() != 0) {
      sb.append(",cookie=0x").append(Long.toHexString(l.cookie()));
    }
    for (Action.LearnSpec spec : l.specs()) {
      sb.append(',');
      if (spec instanceof Action.LearnSpec.MatchField m) {
        sb.append(nxmRange(m.field(), 0, m.field().bits()));
      } else if (spec instanceof Action.LearnSpec.MatchValue v) {
        if (v.field() == Field.ETH_TYPE) {
          sb.append("eth_type=").append(hex(FieldValue.unsigned(v.value())));
        } else {
          sb.append("nw_proto=").append(v.value());
        }
      } else if (spec instanceof Action.LearnSpec.Load ld) {
        sb.append("load:").append(hex(FieldValue.unsigned(ld.value()))).append("->")
            .append(nxmRange(ld.field(), ld.ofs(), ld.nBits()));
      }
    }
    sb.append(')');
  }

  private static void nat(StringBuilder sb, Action.Nat n) {
    sb.append("nat");
    if (n.kind() == Action.NatKind.NONE) {
      return;
    }
    sb.append('(').append(n.kind() == Action.NatKind.SRC ? "src" : "dst");
    if (n.minAddr() != null) {
      boolean v6 = n.minAddr().contains(":");
      sb.append('=');
      String min = v6 && n.minPort() != 0 ? "[" + n.minAddr() + "]" : n.minAddr();
      sb.append(min);
      if (n.maxAddr() != null && !n.maxAddr().equals(n.minAddr())) {
        sb.append('-').append(v6 && n.minPort() != 0 ? "[" + n.maxAddr() + "]" : n.maxAddr());
      }
      if (n.minPort() != 0) {
        sb.append(':').append(n.minPort());
        if (n.maxPort() != 0 && n.maxPort() != n.minPort()) {
          sb.append('-').append(n.maxPort());
        }
      }
    }
    if (n.persistent()) {
      sb.append(",persistent");
    }
    if (n.hash()) {
      sb.append(",hash");
    }
    if (n.random()) {
      sb.append(",random");
    }
    sb.append(')');
  }
}
