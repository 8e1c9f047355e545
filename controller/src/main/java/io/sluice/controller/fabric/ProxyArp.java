package io.sluice.controller.fabric;

import java.util.Arrays;
import java.util.Map;

/**
 * Answers an ARP request for a known endpoint (proxy ARP, issue 12): the stateless pipeline sends the controller a
 * broadcast request whose target is a known endpoint's IPv4 address, and this builds the reply that endpoint would
 * send. Pure and strict: the packet is attacker-controlled, so anything but a well-formed Ethernet/IPv4 request (one
 * optional 802.1Q/802.1ad tag) is refused with a reason, as is a gratuitous request, a probe, a request whose target
 * is not known (any more), and one whose asker is the target itself.
 */
public final class ProxyArp {
  /** Why a request is not answered: each a bounded label value of {@code sluice_fabric_proxy_arp_unanswered_total}. */
  public enum Refusal {
    /** Cut short, not Ethernet/IPv4 ARP, a sender MAC that is not the frame's source or not unicast. */
    MALFORMED,
    /** Not a request (a reply, or another opcode), or not to broadcast or the target's MAC. */
    NOT_REQUEST,
    /** Sender and target the same address: it tells the others, it asks nobody. */
    GRATUITOUS,
    /** Sender 0.0.0.0 (RFC 5227): a host checking that an address is free. */
    PROBE,
    /** The target is not a known endpoint's address (now). */
    UNKNOWN_TARGET,
    /** The target's MAC is the asker's own. */
    OWN_ADDRESS;

    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** A reply to send back out of the request's port, or why there is none. */
  public record Answer(byte[] frame, Refusal refusal) {
    static Answer refused(Refusal r) {
      return new Answer(null, r);
    }
  }

  static final int ETH_ARP = 0x0806;
  static final int ARP_LEN = 28;
  /** Ethernet frames are at least 60 bytes without the FCS: the reply is padded with zeros to that. */
  static final int MIN_FRAME = 60;

  private ProxyArp() { }

  /**
   * The reply to {@code request} (an Ethernet frame as the switch sent it), answering for the MAC {@code targets} maps
   * the requested address to (unsigned 32-bit IPv4 address to lower-case MAC), or why there is none.
   */
  public static Answer answer(byte[] request, Map<Long, String> targets) {
    byte[] p = request;
    if (p == null || p.length < 14) {
      return Answer.refused(Refusal.MALFORMED);
    }
    int off = 12;
    int type = u16(p, off);
    if (type == 0x8100 || type == 0x88a8) {
      if (p.length < 18) {
        return Answer.refused(Refusal.MALFORMED);
      }
      off += 4;
      type = u16(p, off);
    }
    off += 2;
    if (type != ETH_ARP || p.length < off + ARP_LEN || u16(p, off) != 1 || u16(p, off + 2) != 0x0800
        || p[off + 4] != 6 || p[off + 5] != 4) {
      return Answer.refused(Refusal.MALFORMED);
    }
    byte[] sha = Arrays.copyOfRange(p, off + 8, off + 14);
    if (!Arrays.equals(sha, Arrays.copyOfRange(p, 6, 12)) || (sha[0] & 1) != 0 || isZero(sha)) {
      return Answer.refused(Refusal.MALFORMED);
    }
    if (u16(p, off + 6) != 1) {
      return Answer.refused(Refusal.NOT_REQUEST);
    }
    long spa = u32(p, off + 14);
    long tpa = u32(p, off + 24);
    if (spa == tpa) {
      return Answer.refused(Refusal.GRATUITOUS);
    }
    if (spa == 0) {
      return Answer.refused(Refusal.PROBE);
    }
    String mac = targets.get(tpa);
    byte[] tha = mac == null ? null : mac(mac);
    if (tha == null) {
      return Answer.refused(Refusal.UNKNOWN_TARGET);
    }
    byte[] dst = Arrays.copyOfRange(p, 0, 6);
    if (!isBroadcast(dst) && !Arrays.equals(dst, tha)) {
      return Answer.refused(Refusal.NOT_REQUEST);
    }
    if (Arrays.equals(tha, sha)) {
      return Answer.refused(Refusal.OWN_ADDRESS);
    }
    byte[] out = new byte[Math.max(MIN_FRAME, off + ARP_LEN)];
    System.arraycopy(sha, 0, out, 0, 6); // to the asker
    System.arraycopy(tha, 0, out, 6, 6); // from the target
    System.arraycopy(p, 12, out, 12, off - 12); // the request's tag, if any, and the ethertype
    put16(out, off, 1); // Ethernet
    put16(out, off + 2, 0x0800); // IPv4
    out[off + 4] = 6;
    out[off + 5] = 4;
    put16(out, off + 6, 2); // reply
    System.arraycopy(tha, 0, out, off + 8, 6); // sender: the target's MAC and address
    System.arraycopy(p, off + 24, out, off + 14, 4);
    System.arraycopy(sha, 0, out, off + 18, 6); // target: the asker
    System.arraycopy(p, off + 14, out, off + 24, 4);
    return new Answer(out, null);
  }

  static boolean isZero(byte[] a) {
    for (byte b : a) {
      if (b != 0) {
        return false;
      }
    }
    return true;
  }

  private static boolean isBroadcast(byte[] a) {
    for (byte b : a) {
      if (b != (byte) 0xff) {
        return false;
      }
    }
    return true;
  }

  /** A lower-case xx:xx:xx:xx:xx:xx unicast MAC as bytes, or null. */
  static byte[] mac(String m) {
    if (m == null || !m.matches("([0-9a-f]{2}:){5}[0-9a-f]{2}")) {
      return null;
    }
    byte[] b = new byte[6];
    for (int i = 0; i < 6; i++) {
      b[i] = (byte) Integer.parseInt(m.substring(3 * i, 3 * i + 2), 16);
    }
    return (b[0] & 1) != 0 || isZero(b) ? null : b;
  }

  static int u16(byte[] p, int at) {
    return (p[at] & 0xff) << 8 | p[at + 1] & 0xff;
  }

  private static long u32(byte[] p, int at) {
    return (long) u16(p, at) << 16 | u16(p, at + 2);
  }

  static void put16(byte[] p, int at, int v) {
    p[at] = (byte) (v >> 8);
    p[at + 1] = (byte) v;
  }
}
