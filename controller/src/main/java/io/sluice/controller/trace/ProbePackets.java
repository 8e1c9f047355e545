package io.sluice.controller.trace;

import io.sluice.model.Protocol;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The probes of a packet-out trace: the first packet of a new connection from the source pod (its MAC and address)
 * to the destination, as the pod would send it, so the switch's pipeline judges it as it judges the real one. A TCP
 * SYN, or a UDP datagram whose payload names the trace. IPv4 and IPv6; every checksum right (conntrack marks a packet
 * with a bad one invalid, and the pipeline would drop it for that reason, not for policy).
 *
 * <p>The marker that makes the probes recognisable (in a capture at the destination, in conntrack): the source port,
 * one per probe from a block chosen per trace above Linux's default ephemeral range (61000-65535, so a probe does not
 * fall into a connection the pod itself has open), and the trace's id in the IPv4 identification or the IPv6 flow
 * label. Pure.
 */
public final class ProbePackets {
  private ProbePackets() { }

  /** Source ports of probes lie in [FIRST_PORT, 65535]: above Linux's default ip_local_port_range (32768-60999). */
  public static final int FIRST_PORT = 61000;
  private static final int ETH = 14;

  /**
   * One probe frame.
   *
   * @param dstMac the destination's MAC, or null: all zeros (as ofproto/trace's flow without {@code dl_dst})
   * @param marker the trace's id: the IPv4 identification (16 bits) or the IPv6 flow label (20 bits)
   * @throws IllegalArgumentException for SCTP, mixed address families, or a bad MAC
   */
  public static byte[] frame(Protocol protocol, String srcMac, String dstMac, String srcIp, String dstIp,
                             int srcPort, int dstPort, int marker) {
    byte[] src = address(srcIp);
    byte[] dst = address(dstIp);
    if (src.length != dst.length) {
      throw new IllegalArgumentException("source " + srcIp + " and destination " + dstIp + " are not of one family");
    }
    boolean v6 = src.length == 16;
    int proto;
    byte[] segment;
    switch (protocol) {
      case TCP -> {
        proto = 6;
        segment = tcpSyn(srcPort, dstPort, marker);
      }
      case UDP -> {
        proto = 17;
        segment = udp(srcPort, dstPort, ("sluice trace " + Integer.toHexString(marker) + "\n")
            .getBytes(StandardCharsets.US_ASCII));
      }
      default -> throw new IllegalArgumentException(protocol + " probes are not built by packet-out tracing (TCP and "
          + "UDP only); trace SCTP with --method ovs-appctl");
    }
    long pseudo = sum(src) + sum(dst) + proto + segment.length;
    int checksumAt = proto == 6 ? 16 : 6;
    int l3 = (v6 ? 40 : 20) + segment.length;
    ByteBuffer b = ByteBuffer.allocate(Math.max(ETH + l3, 60)); // Ethernet's minimum frame (padding after the IP packet)
    b.put(dstMac == null ? new byte[6] : mac(dstMac)).put(mac(srcMac)).putShort((short) (v6 ? 0x86dd : 0x0800));
    if (v6) {
      b.putInt(0x60000000 | (marker & 0xfffff)).putShort((short) segment.length).put((byte) proto).put((byte) 64)
          .put(src).put(dst);
    } else {
      int at = b.position();
      b.put((byte) 0x45).put((byte) 0).putShort((short) l3).putShort((short) marker).putShort((short) 0x4000)
          .put((byte) 64).put((byte) proto).putShort((short) 0).put(src).put(dst);
      b.putShort(at + 10, (short) checksum(b.array(), at, 20, 0));
    }
    int start = b.position();
    b.put(segment);
    int c = checksum(b.array(), start, segment.length, pseudo);
    b.putShort(start + checksumAt, (short) (proto == 17 && c == 0 ? 0xffff : c)); // UDP sends a zero sum as all ones
    return b.array();
  }

  /** A SYN with an MSS option, its sequence number derived from the marker. */
  private static byte[] tcpSyn(int sport, int dport, int marker) {
    ByteBuffer t = ByteBuffer.allocate(24);
    t.putShort((short) sport).putShort((short) dport).putInt(0x5c000000 | (marker & 0xffffff) ^ sport).putInt(0);
    t.put((byte) (6 << 4)).put((byte) 0x02).putShort((short) 64_240).putShort((short) 0).putShort((short) 0);
    t.put((byte) 2).put((byte) 4).putShort((short) 1460);
    return t.array();
  }

  private static byte[] udp(int sport, int dport, byte[] payload) {
    ByteBuffer u = ByteBuffer.allocate(8 + payload.length);
    u.putShort((short) sport).putShort((short) dport).putShort((short) (8 + payload.length)).putShort((short) 0)
        .put(payload);
    return u.array();
  }

  static byte[] address(String ip) {
    if (ip == null || !(ip.indexOf(':') >= 0 || ip.matches("[0-9.]+"))) {
      throw new IllegalArgumentException("not an IP address: " + ip);
    }
    try {
      return InetAddress.getByName(ip).getAddress(); // a literal: never a name lookup (checked above)
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IP address: " + ip, e);
    }
  }

  static byte[] mac(String text) {
    if (text == null || !text.matches("(?i)[0-9a-f]{2}(:[0-9a-f]{2}){5}")) {
      throw new IllegalArgumentException("not a MAC address: " + text);
    }
    byte[] m = new byte[6];
    String[] parts = text.split(":");
    for (int i = 0; i < 6; i++) {
      m[i] = (byte) Integer.parseInt(parts[i], 16);
    }
    return m;
  }

  private static long sum(byte[] a) {
    return io.sluice.controller.wire.InetChecksum.sum(a);
  }

  /** The Internet checksum of buf[off..off+len) plus an initial sum. */
  static int checksum(byte[] buf, int off, int len, long initial) {
    return io.sluice.controller.wire.InetChecksum.of(buf, off, len, initial);
  }
}
