package io.sluice.controller.fabric;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Reads who a host says it is from the ARP and IPv6 neighbour discovery packets switches copy to the controller: ARP
 * requests and replies give the sender's MAC and IPv4 address; neighbour solicitations the Ethernet source and the IPv6
 * source (not the unspecified address of duplicate address detection), advertisements the Ethernet source and the
 * target address. One 802.1Q/802.1ad tag is skipped. Anything else, cut short, or claiming a multicast or zero MAC or
 * address, is not a host: {@link #read} answers null.
 */
public final class HostPackets {
  /** A host's MAC (lower case) and the address it claimed. */
  public record Sighting(String mac, String ip) { }

  private HostPackets() { }

  public static Sighting read(byte[] p) {
    if (p == null || p.length < 14) {
      return null;
    }
    int off = 12;
    int type = u16(p, off);
    if ((type == 0x8100 || type == 0x88a8) && p.length >= 18) {
      off += 4;
      type = u16(p, off);
    }
    off += 2;
    if (type == 0x0806) {
      return arp(p, off);
    }
    if (type == 0x86dd) {
      return neighbour(p, off);
    }
    return null;
  }

  private static Sighting arp(byte[] p, int off) {
    if (p.length < off + 28 || u16(p, off) != 1 || u16(p, off + 2) != 0x0800 || p[off + 4] != 6 || p[off + 5] != 4) {
      return null;
    }
    int op = u16(p, off + 6);
    if (op != 1 && op != 2) {
      return null;
    }
    String mac = mac(p, off + 8);
    byte[] ip = java.util.Arrays.copyOfRange(p, off + 14, off + 18);
    if (mac == null || ip[0] == 0 || (ip[0] & 0xf0) == 0xe0 || (ip[0] & 0xff) == 0xff || (ip[0] & 0xff) == 127) {
      return null; // a probe (0.0.0.0), multicast, broadcast or loopback claim
    }
    return new Sighting(mac, text(ip));
  }

  private static Sighting neighbour(byte[] p, int off) {
    int icmp = off + 40;
    if (p.length < icmp + 24 || (p[off] & 0xf0) != 0x60 || (p[off + 6] & 0xff) != 58 || (p[off + 7] & 0xff) != 255) {
      return null; // ND is ICMPv6 right after the IPv6 header, hop limit 255 (RFC 4861), or not ND
    }
    int kind = p[icmp] & 0xff;
    if (p[icmp + 1] != 0 || kind != 135 && kind != 136) {
      return null;
    }
    byte[] addr = kind == 135 ? java.util.Arrays.copyOfRange(p, off + 8, off + 24)
        : java.util.Arrays.copyOfRange(p, icmp + 8, icmp + 24);
    if (isZero(addr) || (addr[0] & 0xff) == 0xff || isLoopback(addr)) {
      return null;
    }
    String mac = mac(p, 6);
    return mac == null ? null : new Sighting(mac, text(addr));
  }

  /** The MAC at {@code at}, or null for a multicast/broadcast or all-zero one. */
  private static String mac(byte[] p, int at) {
    if ((p[at] & 1) != 0) {
      return null;
    }
    boolean zero = true;
    StringBuilder s = new StringBuilder(17);
    for (int i = 0; i < 6; i++) {
      zero &= p[at + i] == 0;
      if (i > 0) {
        s.append(':');
      }
      s.append(Character.forDigit(p[at + i] >> 4 & 0xf, 16)).append(Character.forDigit(p[at + i] & 0xf, 16));
    }
    return zero ? null : s.toString();
  }

  private static boolean isZero(byte[] a) {
    for (byte b : a) {
      if (b != 0) {
        return false;
      }
    }
    return true;
  }

  private static boolean isLoopback(byte[] a) {
    for (int i = 0; i < 15; i++) {
      if (a[i] != 0) {
        return false;
      }
    }
    return a[15] == 1;
  }

  private static String text(byte[] a) {
    try {
      return InetAddress.getByAddress(a).getHostAddress();
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  private static int u16(byte[] p, int at) {
    return (p[at] & 0xff) << 8 | p[at + 1] & 0xff;
  }
}
