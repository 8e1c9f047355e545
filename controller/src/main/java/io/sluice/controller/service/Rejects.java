package io.sluice.controller.service;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Optional;

/**
 * Builds the answer a refused client gets, from the first packet it sent: for TCP a RST (acknowledging the SYN), for
 * UDP and SCTP an ICMP (IPv4: type 3 code 3) or ICMPv6 (type 1 code 4) port unreachable quoting the packet, from the
 * address and port it tried to reach, to the MAC it came from. Empty for anything else (not IP, fragments, a RST).
 * Pure.
 */
final class Rejects {
  private Rejects() { }

  private static final int ETH = 14;

  static Optional<byte[]> answer(byte[] pkt) {
    if (pkt.length < ETH + 20) {
      return Optional.empty();
    }
    int ethType = u16(pkt, 12);
    if (ethType == 0x0800) {
      return v4(pkt);
    }
    if (ethType == 0x86dd && pkt.length >= ETH + 40) {
      return v6(pkt);
    }
    return Optional.empty();
  }

  private static Optional<byte[]> v4(byte[] pkt) {
    int ihl = (pkt[ETH] & 0x0f) * 4;
    int proto = pkt[ETH + 9] & 0xff;
    boolean fragment = (u16(pkt, ETH + 6) & 0x1fff) != 0;
    if (ihl < 20 || fragment || pkt.length < ETH + ihl + 8) {
      return Optional.empty();
    }
    byte[] src = Arrays.copyOfRange(pkt, ETH + 12, ETH + 16);
    byte[] dst = Arrays.copyOfRange(pkt, ETH + 16, ETH + 20);
    int l4 = ETH + ihl;
    if (proto == 6) {
      if (pkt.length < l4 + 20 || (pkt[l4 + 13] & 0x04) != 0) {
        return Optional.empty(); // never answer a RST
      }
      byte[] tcp = rst(pkt, l4, pkt.length - l4);
      ByteBuffer b = ethernet(pkt, 0x0800, 20 + tcp.length);
      ipv4Header(b, 6, dst, src, 20 + tcp.length);
      putChecksummed(b, tcp, 16, pseudo4(dst, src, 6, tcp.length));
      return Optional.of(b.array());
    }
    if (proto == 17 || proto == 132) {
      int quoted = Math.min(pkt.length - ETH, ihl + 8);
      byte[] icmp = new byte[8 + quoted];
      icmp[0] = 3;
      icmp[1] = 3;
      System.arraycopy(pkt, ETH, icmp, 8, quoted);
      ByteBuffer b = ethernet(pkt, 0x0800, 20 + icmp.length);
      ipv4Header(b, 1, dst, src, 20 + icmp.length);
      putChecksummed(b, icmp, 2, 0);
      return Optional.of(b.array());
    }
    return Optional.empty();
  }

  private static Optional<byte[]> v6(byte[] pkt) {
    int next = pkt[ETH + 6] & 0xff; // extension headers are not followed: such packets are not answered
    byte[] src = Arrays.copyOfRange(pkt, ETH + 8, ETH + 24);
    byte[] dst = Arrays.copyOfRange(pkt, ETH + 24, ETH + 40);
    int l4 = ETH + 40;
    if (next == 6) {
      if (pkt.length < l4 + 20 || (pkt[l4 + 13] & 0x04) != 0) {
        return Optional.empty();
      }
      byte[] tcp = rst(pkt, l4, pkt.length - l4);
      ByteBuffer b = ethernet(pkt, 0x86dd, 40 + tcp.length);
      ipv6Header(b, 6, dst, src, tcp.length);
      putChecksummed(b, tcp, 16, pseudo6(dst, src, 6, tcp.length));
      return Optional.of(b.array());
    }
    if (next == 17 || next == 132) {
      int quoted = pkt.length - ETH; // as much of the packet as the switch sent (well under the 1280-byte minimum MTU)
      byte[] icmp = new byte[8 + quoted];
      icmp[0] = 1;
      icmp[1] = 4;
      System.arraycopy(pkt, ETH, icmp, 8, quoted);
      ByteBuffer b = ethernet(pkt, 0x86dd, 40 + icmp.length);
      ipv6Header(b, 58, dst, src, icmp.length);
      putChecksummed(b, icmp, 2, pseudo6(dst, src, 58, icmp.length));
      return Optional.of(b.array());
    }
    return Optional.empty();
  }

  /** A RST for the segment at pkt[l4..l4+len): ports swapped; ACK of its sequence space, or seq = its ack. */
  private static byte[] rst(byte[] pkt, int l4, int len) {
    int dataOffset = ((pkt[l4 + 12] & 0xf0) >> 4) * 4;
    int flags = pkt[l4 + 13] & 0xff;
    long seq = u32(pkt, l4 + 4);
    long ack = u32(pkt, l4 + 8);
    int payload = Math.max(0, len - dataOffset); // may be cut by the controller max_len: SYNs carry none
    long consumed = payload + ((flags & 0x02) != 0 ? 1 : 0) + ((flags & 0x01) != 0 ? 1 : 0);
    ByteBuffer t = ByteBuffer.allocate(20);
    t.putShort((short) u16(pkt, l4 + 2)).putShort((short) u16(pkt, l4));
    boolean hadAck = (flags & 0x10) != 0;
    t.putInt((int) (hadAck ? ack : 0));
    t.putInt((int) ((seq + consumed) & 0xffffffffL));
    t.put((byte) 0x50).put((byte) (hadAck ? 0x04 : 0x14)); // RST, or RST|ACK
    t.putShort((short) 0).putShort((short) 0).putShort((short) 0);
    return t.array();
  }

  static ByteBuffer ethernet(byte[] pkt, int type, int l3Length) {
    ByteBuffer b = ByteBuffer.allocate(ETH + l3Length);
    b.put(pkt, 6, 6).put(pkt, 0, 6).putShort((short) type);
    return b;
  }

  static void ipv4Header(ByteBuffer b, int proto, byte[] src, byte[] dst, int total) {
    int at = b.position();
    b.put((byte) 0x45).put((byte) 0).putShort((short) total).putShort((short) 0).putShort((short) 0x4000)
        .put((byte) 64).put((byte) proto).putShort((short) 0).put(src).put(dst);
    b.putShort(at + 10, (short) checksum(b.array(), at, 20, 0));
  }

  static void ipv6Header(ByteBuffer b, int next, byte[] src, byte[] dst, int payload) {
    b.putInt(0x60000000).putShort((short) payload).put((byte) next).put((byte) 64).put(src).put(dst);
  }

  /** Appends a transport segment with its checksum (at offset {@code at} within it) over it and a pseudo-header sum. */
  static void putChecksummed(ByteBuffer b, byte[] seg, int at, long pseudo) {
    int start = b.position();
    b.put(seg);
    b.putShort(start + at, (short) checksum(b.array(), start, seg.length, pseudo));
  }

  static long pseudo4(byte[] src, byte[] dst, int proto, int len) {
    return sum(src) + sum(dst) + proto + len;
  }

  static long pseudo6(byte[] src, byte[] dst, int next, int len) {
    return sum(src) + sum(dst) + len + next;
  }

  private static long sum(byte[] a) {
    return io.sluice.controller.wire.InetChecksum.sum(a);
  }

  /** The Internet checksum of buf[off..off+len) plus an initial sum. */
  static int checksum(byte[] buf, int off, int len, long initial) {
    return io.sluice.controller.wire.InetChecksum.of(buf, off, len, initial);
  }

  static int u16(byte[] a, int i) {
    return ((a[i] & 0xff) << 8) | (a[i + 1] & 0xff);
  }

  static long u32(byte[] a, int i) {
    return ((long) u16(a, i) << 16) | u16(a, i + 2);
  }
}
