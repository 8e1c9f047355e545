package io.sluice.renderer.flow;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * An OpenFlow match: at most one value (optionally masked) per field. Immutable; equal matches compare equal
 * whatever order they were built in. Prerequisites (dl_type before nw_src, nw_proto before tp_dst) are checked.
 */
public final class Match {
  public static final Match ALL = new Match(new EnumMap<>(Field.class));

  private final Map<Field, FieldValue> fields;
  private final int hash;
  private final long fieldBits;

  private Match(EnumMap<Field, FieldValue> fields) {
    this.fields = Collections.unmodifiableMap(fields);
    this.hash = hashOf(fields);
    long bits = 0;
    for (Field f : fields.keySet()) {
      bits |= Field.bit(f);
    }
    this.fieldBits = bits;
  }

  /**
   * A well-spread hash: {@code EnumMap.hashCode} sums per-entry hashes, and sums of address-like values collide
   * heavily (100,000 policy matches gave under half as many distinct hashes), turning hash maps of flows into trees.
   * Fields are visited in enum order, so equal matches hash equally.
   */
  private static int hashOf(EnumMap<Field, FieldValue> fields) {
    long h = 0x9E3779B97F4A7C15L;
    for (Field f : fields.keySet()) { // (entrySet would allocate an entry per field)
      FieldValue v = fields.get(f);
      h = (h ^ f.ordinal()) * 0xff51afd7ed558ccdL;
      h = (h ^ v.value().hashCode()) * 0xc4ceb9fe1a85ec53L;
      h = (h ^ (v.mask() == null ? 0x5bd1e995 : v.mask().hashCode())) * 0xff51afd7ed558ccdL;
      h ^= h >>> 29;
    }
    h ^= h >>> 32;
    return (int) h;
  }

  public static Builder builder() {
    return new Builder();
  }

  public Map<Field, FieldValue> fields() {
    return fields;
  }

  public FieldValue get(Field f) {
    return fields.get(f);
  }

  public boolean has(Field f) {
    return fields.containsKey(f);
  }

  /** The fields matched, one bit per {@link Field} ({@link Field#bit}). */
  public long fieldBits() {
    return fieldBits;
  }

  public boolean isEmpty() {
    return fields.isEmpty();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Match m && hash == m.hash && fields.equals(m.fields);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    return OfctlFormat.match(this);
  }

  /** Builds a match; each field may be set once. */
  public static final class Builder {
    private final EnumMap<Field, FieldValue> fields = new EnumMap<>(Field.class);

    public Builder exact(Field f, long value) {
      return put(FieldValue.exact(f, value));
    }

    public Builder masked(Field f, long value, long mask) {
      return put(FieldValue.masked(f, value, mask));
    }

    public Builder put(FieldValue v) {
      FieldValue old = fields.putIfAbsent(v.field(), v);
      if (old != null && !old.equals(v)) {
        throw new IllegalArgumentException("field " + v.field().ofctlName() + " set twice: " + old + " and " + v);
      }
      return this;
    }

    public Builder ipv4() {
      return exact(Field.ETH_TYPE, 0x0800);
    }

    public Builder ipv6() {
      return exact(Field.ETH_TYPE, 0x86dd);
    }

    public Builder arp() {
      return exact(Field.ETH_TYPE, 0x0806);
    }

    public Match build() {
      checkPrerequisites();
      return fields.isEmpty() ? ALL : new Match(fields.clone());
    }

    private void checkPrerequisites() {
      FieldValue type = fields.get(Field.ETH_TYPE);
      long ethType = type == null || type.isMasked() ? -1 : type.longValue();
      FieldValue protoV = fields.get(Field.IP_PROTO);
      long proto = protoV == null || protoV.isMasked() ? -1 : protoV.longValue();
      for (Field f : fields.keySet()) {
        switch (f) {
          case IP_PROTO -> require(f, ethType == 0x0800 || ethType == 0x86dd, "dl_type=0x0800 or 0x86dd");
          case IPV4_SRC, IPV4_DST -> require(f, ethType == 0x0800, "dl_type=0x0800");
          case IPV6_SRC, IPV6_DST -> require(f, ethType == 0x86dd, "dl_type=0x86dd");
          case ARP_OP, ARP_SPA, ARP_TPA -> require(f, ethType == 0x0806, "dl_type=0x0806");
          case TCP_SRC, TCP_DST, TCP_FLAGS -> require(f, proto == 6, "nw_proto=6");
          case UDP_SRC, UDP_DST -> require(f, proto == 17, "nw_proto=17");
          case SCTP_SRC, SCTP_DST -> require(f, proto == 132, "nw_proto=132");
          case ICMPV4_TYPE, ICMPV4_CODE -> require(f, proto == 1 && ethType == 0x0800, "icmp");
          case ICMPV6_TYPE, ICMPV6_CODE -> require(f, proto == 58 && ethType == 0x86dd, "icmp6");
          case IPV6_ND_TARGET -> require(f, proto == 58 && ethType == 0x86dd && fields.get(Field.ICMPV6_TYPE) != null
              && !fields.get(Field.ICMPV6_TYPE).isMasked() && (fields.get(Field.ICMPV6_TYPE).longValue() == 135
              || fields.get(Field.ICMPV6_TYPE).longValue() == 136), "icmp6,icmp_type=135 or 136");
          default -> { }
        }
      }
    }

    private static void require(Field f, boolean ok, String what) {
      if (!ok) {
        throw new IllegalArgumentException("match on " + f.ofctlName() + " needs " + what);
      }
    }
  }
}
