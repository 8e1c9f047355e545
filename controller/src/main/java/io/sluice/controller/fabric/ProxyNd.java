package io.sluice.controller.fabric;

import static io.sluice.controller.fabric.ProxyArp.isZero;
import static io.sluice.controller.fabric.ProxyArp.put16;
import static io.sluice.controller.fabric.ProxyArp.u16;

import io.sluice.controller.wire.InetChecksum;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.Map;

/**
 * Answers an IPv6 neighbour solicitation for a known endpoint (proxy ND, issue 12) with the neighbour advertisement
 * that endpoint would send (RFC 4861 section 7.2.4): solicited and override flags, the target's link-layer address
 * option, hop limit 255, to the soliciting address. Pure and strict, as {@link ProxyArp}: only a well-formed
 * solicitation (ICMPv6 right after the IPv6 header, hop limit 255, code 0, a correct checksum over the whole message,
 * options that fit, a source link-layer address that is the frame's source) to the target's solicited-node multicast
 * address or to the target itself, not for duplicate address detection, for a known target that is not the asker.
 */
public final class ProxyNd {
  static final int ETH_IPV6 = 0x86dd;
  static final int ICMPV6 = 58;
  static final int SOLICITATION = 135;
  static final int ADVERTISEMENT = 136;
  /** Solicited and override (RFC 4861 4.4); not a router. */
  static final int FLAGS = 0x60000000;
  static final int NA_LEN = 32;

  private ProxyNd() { }

  /**
   * The advertisement answering {@code request} (an Ethernet frame as the switch sent it) for the MAC {@code targets}
   * maps the solicited address to (unsigned 128-bit IPv6 address to lower-case MAC), or why there is none.
   */
  public static ProxyArp.Answer answer(byte[] request, Map<BigInteger, String> targets) {
    byte[] p = request;
    if (p == null || p.length < 14) {
      return refused(ProxyArp.Refusal.MALFORMED);
    }
    int off = 12;
    int type = u16(p, off);
    if (type == 0x8100 || type == 0x88a8) {
      if (p.length < 18) {
        return refused(ProxyArp.Refusal.MALFORMED);
      }
      off += 4;
      type = u16(p, off);
    }
    off += 2;
    int icmp = off + 40;
    if (type != ETH_IPV6 || p.length < icmp + 24 || (p[off] & 0xf0) != 0x60 || (p[off + 6] & 0xff) != ICMPV6
        || (p[off + 7] & 0xff) != 255) {
      return refused(ProxyArp.Refusal.MALFORMED);
    }
    int len = u16(p, off + 4);
    if (len < 24 || icmp + len > p.length) {
      return refused(ProxyArp.Refusal.MALFORMED); // cut short: the checksum cannot be checked
    }
    if ((p[icmp] & 0xff) != SOLICITATION) {
      return refused(ProxyArp.Refusal.NOT_REQUEST);
    }
    byte[] src = Arrays.copyOfRange(p, off + 8, off + 24);
    byte[] dst = Arrays.copyOfRange(p, off + 24, off + 40);
    byte[] target = Arrays.copyOfRange(p, icmp + 8, icmp + 24);
    if (p[icmp + 1] != 0 || checksum(p, off, icmp, len) != 0 || (target[0] & 0xff) == 0xff) {
      return refused(ProxyArp.Refusal.MALFORMED);
    }
    byte[] asker = Arrays.copyOfRange(p, 6, 12);
    if ((asker[0] & 1) != 0 || isZero(asker) || (src[0] & 0xff) == 0xff) {
      return refused(ProxyArp.Refusal.MALFORMED);
    }
    // options: each at least 8 bytes and within the message; a source link-layer address must be the frame's source
    boolean slla = false;
    for (int o = icmp + 24; o < icmp + len; ) {
      if (o + 2 > icmp + len) {
        return refused(ProxyArp.Refusal.MALFORMED);
      }
      int olen = 8 * (p[o + 1] & 0xff);
      if (olen == 0 || o + olen > icmp + len) {
        return refused(ProxyArp.Refusal.MALFORMED);
      }
      if (p[o] == 1) {
        if (olen != 8 || !Arrays.equals(Arrays.copyOfRange(p, o + 2, o + 8), asker)) {
          return refused(ProxyArp.Refusal.MALFORMED);
        }
        slla = true;
      }
      o += olen;
    }
    if (isZero(src)) {
      // duplicate address detection: must not carry a source link-layer address (RFC 4861 7.1.1)
      return refused(slla ? ProxyArp.Refusal.MALFORMED : ProxyArp.Refusal.PROBE);
    }
    if (Arrays.equals(src, target)) {
      return refused(ProxyArp.Refusal.OWN_ADDRESS);
    }
    String mac = targets.get(new BigInteger(1, target));
    byte[] targetMac = mac == null ? null : ProxyArp.mac(mac);
    if (targetMac == null) {
      return refused(ProxyArp.Refusal.UNKNOWN_TARGET);
    }
    byte[] ethDst = Arrays.copyOfRange(p, 0, 6);
    boolean toSolicitedNode = Arrays.equals(dst, solicitedNode(target)) && ethDst[0] == 0x33 && ethDst[1] == 0x33
        && Arrays.equals(Arrays.copyOfRange(ethDst, 2, 6), Arrays.copyOfRange(dst, 12, 16));
    boolean toTarget = Arrays.equals(dst, target) && Arrays.equals(ethDst, targetMac);
    if (!toSolicitedNode && !toTarget) {
      return refused(ProxyArp.Refusal.NOT_REQUEST);
    }
    if (Arrays.equals(targetMac, asker)) {
      return refused(ProxyArp.Refusal.OWN_ADDRESS);
    }
    byte[] out = new byte[off + 40 + NA_LEN];
    System.arraycopy(asker, 0, out, 0, 6);
    System.arraycopy(targetMac, 0, out, 6, 6);
    System.arraycopy(p, 12, out, 12, off - 12); // the request's tag, if any, and the ethertype
    put32(out, off, 0x60000000); // version 6, traffic class 0, flow label 0
    put16(out, off + 4, NA_LEN);
    out[off + 6] = (byte) ICMPV6;
    out[off + 7] = (byte) 255;
    System.arraycopy(target, 0, out, off + 8, 16); // from the target
    System.arraycopy(src, 0, out, off + 24, 16); // to the soliciting address
    int na = off + 40;
    out[na] = (byte) ADVERTISEMENT;
    put32(out, na + 4, FLAGS);
    System.arraycopy(target, 0, out, na + 8, 16);
    out[na + 24] = 2; // target link-layer address
    out[na + 25] = 1;
    System.arraycopy(targetMac, 0, out, na + 26, 6);
    put16(out, na + 2, checksum(out, off, na, NA_LEN));
    return new ProxyArp.Answer(out, null);
  }

  /** ff02::1:ffXX:XXXX for the low 24 bits of the address. */
  static byte[] solicitedNode(byte[] a) {
    byte[] s = new byte[16];
    s[0] = (byte) 0xff;
    s[1] = 2;
    s[11] = 1;
    s[12] = (byte) 0xff;
    System.arraycopy(a, 13, s, 13, 3);
    return s;
  }

  /** The ICMPv6 checksum over the pseudo-header and {@code len} bytes at {@code icmp} (0 when a packet's is right). */
  static int checksum(byte[] p, int ip, int icmp, int len) {
    byte[] pseudo = new byte[40];
    System.arraycopy(p, ip + 8, pseudo, 0, 32);
    put32(pseudo, 32, len);
    pseudo[39] = (byte) ICMPV6;
    return InetChecksum.of(p, icmp, len, InetChecksum.sum(pseudo));
  }

  private static ProxyArp.Answer refused(ProxyArp.Refusal r) {
    return new ProxyArp.Answer(null, r);
  }

  private static void put32(byte[] p, int at, int v) {
    put16(p, at, v >>> 16);
    put16(p, at + 2, v);
  }
}
