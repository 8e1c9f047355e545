package io.sluice.controller.trace;

import io.sluice.model.Protocol;
import io.sluice.renderer.flow.Field;
import io.sluice.renderer.flow.FieldValue;
import io.sluice.renderer.flow.Match;
import io.sluice.renderer.pipeline.PipelineProfile;
import java.math.BigInteger;
import java.util.EnumMap;
import java.util.Map;

/**
 * Whether a flow could have matched a probe, from the header fields the probe is known to carry in a table: a flow
 * whose counter grew but whose match contradicts them counted other packets, however much it grew. This is what
 * sets the probes apart from the packets they cause: the destination's answers (a SYN-ACK or RST per probe, as many
 * as there are probes) enter by another port, from the other address, and are {@code +est} in conntrack.
 *
 * <p>Known: the Ethernet type, the IP protocol, both addresses, the destination port, TCP's SYN flag; the in_port on
 * the source's switch (on another switch the probes arrive by a link or patch port); and the connection state, which
 * the probes are built to have: untracked before the conntrack table, then {@code +trk+new} (each probe is a new
 * connection; a probe is never a Service's, so no NAT bits). Everything else (registers, metadata, marks, labels,
 * conjunction ids, source ports) may hold anything. A match not decoded (a field the renderer does not know) could
 * match. Pure.
 */
public final class ProbeMatch {
  private final Map<Field, BigInteger> known;
  private final BigInteger inPort;

  /**
   * @param inPort the probes' in_port where known (the source's switch), else null
   */
  public ProbeMatch(Protocol protocol, String srcIp, String dstIp, int dstPort, Long inPort) {
    Map<Field, BigInteger> k = new EnumMap<>(Field.class);
    byte[] src = ProbePackets.address(srcIp);
    byte[] dst = ProbePackets.address(dstIp);
    boolean v6 = src.length == 16;
    k.put(Field.ETH_TYPE, BigInteger.valueOf(v6 ? 0x86dd : 0x0800));
    k.put(v6 ? Field.IPV6_SRC : Field.IPV4_SRC, new BigInteger(1, src));
    k.put(v6 ? Field.IPV6_DST : Field.IPV4_DST, new BigInteger(1, dst));
    switch (protocol) {
      case TCP -> {
        k.put(Field.IP_PROTO, BigInteger.valueOf(6));
        k.put(Field.TCP_DST, BigInteger.valueOf(dstPort));
        k.put(Field.TCP_FLAGS, BigInteger.valueOf(0x002));
      }
      case UDP -> {
        k.put(Field.IP_PROTO, BigInteger.valueOf(17));
        k.put(Field.UDP_DST, BigInteger.valueOf(dstPort));
      }
      case SCTP -> {
        k.put(Field.IP_PROTO, BigInteger.valueOf(132));
        k.put(Field.SCTP_DST, BigInteger.valueOf(dstPort));
      }
      default -> throw new IllegalArgumentException("protocol " + protocol);
    }
    this.known = k;
    this.inPort = inPort == null ? null : BigInteger.valueOf(inPort);
  }

  /** The same probe on another switch: its in_port there is not known. */
  public ProbeMatch elsewhere() {
    ProbeMatch m = new ProbeMatch(known, null);
    return m;
  }

  private ProbeMatch(Map<Field, BigInteger> known, BigInteger inPort) {
    this.known = known;
    this.inPort = inPort;
  }

  /** Whether a flow of {@code table} with this match could have matched the probe (null match: it could). */
  public boolean couldMatch(int table, Match match) {
    if (match == null) {
      return true;
    }
    for (FieldValue v : match.fields().values()) {
      BigInteger have;
      if (v.field() == Field.CT_STATE) {
        have = BigInteger.valueOf(table > PipelineProfile.CT_ZONE ? PipelineProfile.CT_TRK | PipelineProfile.CT_NEW : 0);
      } else if (v.field() == Field.IN_PORT) {
        have = inPort;
      } else {
        have = known.get(v.field());
      }
      if (have == null) {
        continue;
      }
      BigInteger masked = v.mask() == null ? have : have.and(v.mask());
      if (!masked.equals(v.value())) {
        return false;
      }
    }
    return true;
  }
}
