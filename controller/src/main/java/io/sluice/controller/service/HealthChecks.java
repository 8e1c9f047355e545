package io.sluice.controller.service;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;

/**
 * A stateless HTTP responder for {@code healthCheckNodePort} probes, answering each TCP segment a switch sends up on
 * its own (no connection is kept, so a flood of probes costs no memory): a SYN gets a SYN-ACK whose sequence number is a
 * keyed hash of the connection's addresses and ports; a segment with data (the probe's request, whatever it says) gets
 * the HTTP response with FIN, acknowledging the data; a FIN gets its ACK; anything else (a bare ACK, a RST) nothing.
 * Our sequence numbers after the SYN-ACK are taken from what the client acknowledges. The response is kube-proxy's:
 * {@code 200} with {@code {"service":{"namespace":..,"name":..},"localEndpoints":N,"serviceProxyHealthy":true}} when
 * the node has ready endpoints, {@code 503} with the same body when it has none. Packets come and go with the
 * addresses swapped, to the MAC they came from. Pure but for the key.
 */
final class HealthChecks {
  private HealthChecks() { }

  private static final int ETH = 14;
  private static final int SYN = 0x02;
  private static final int FIN = 0x01;
  private static final int RST = 0x04;
  private static final int ACK = 0x10;
  private static final int PSH = 0x08;
  /** The window we announce; a probe's request is far smaller. */
  private static final int WINDOW = 65_535;
  /** MSS option on the SYN-ACK: the answer is one segment well below it. */
  private static final int MSS = 1_400;
  private static final long KEY = new java.security.SecureRandom().nextLong();

  /** The TCP destination port of an IPv4 or IPv6 TCP packet, or -1. */
  static int destinationPort(byte[] pkt) {
    int l4 = l4(pkt);
    return l4 < 0 ? -1 : Rejects.u16(pkt, l4 + 2);
  }

  /**
   * The answer to one probe segment, given the body's fields; empty when the segment needs none. {@code service}
   * is {@code namespace/name}.
   */
  static Optional<byte[]> answer(byte[] pkt, String namespace, String name, int localEndpoints) {
    int l4 = l4(pkt);
    if (l4 < 0 || pkt.length < l4 + 20) {
      return Optional.empty();
    }
    boolean v6 = Rejects.u16(pkt, 12) == 0x86dd;
    int dataOffset = ((pkt[l4 + 12] & 0xf0) >> 4) * 4;
    int flags = pkt[l4 + 13] & 0xff;
    long seq = Rejects.u32(pkt, l4 + 4);
    long ack = Rejects.u32(pkt, l4 + 8);
    // from the IP length, not the frame's: a short frame may carry Ethernet padding after the segment
    int ipEnd = v6 ? ETH + 40 + Rejects.u16(pkt, ETH + 4) : ETH + Rejects.u16(pkt, ETH + 2);
    int payload = Math.min(ipEnd, pkt.length) - l4 - dataOffset;
    if (dataOffset < 20 || payload < 0 || (flags & RST) != 0) {
      return Optional.empty();
    }
    byte[] src = v6 ? Arrays.copyOfRange(pkt, ETH + 8, ETH + 24) : Arrays.copyOfRange(pkt, ETH + 12, ETH + 16);
    byte[] dst = v6 ? Arrays.copyOfRange(pkt, ETH + 24, ETH + 40) : Arrays.copyOfRange(pkt, ETH + 16, ETH + 20);
    int sport = Rejects.u16(pkt, l4);
    int dport = Rejects.u16(pkt, l4 + 2);
    byte[] segment;
    if ((flags & SYN) != 0 && (flags & ACK) == 0) {
      segment = tcp(dport, sport, isn(src, dst, sport, dport), seq + 1, SYN | ACK, new byte[0], true);
    } else if (payload > 0 && (flags & ACK) != 0) {
      byte[] http = response(namespace, name, localEndpoints);
      segment = tcp(dport, sport, ack, seq + payload + ((flags & FIN) != 0 ? 1 : 0), PSH | ACK | FIN, http, false);
    } else if ((flags & FIN) != 0 && (flags & ACK) != 0) {
      segment = tcp(dport, sport, ack, seq + 1, ACK, new byte[0], false);
    } else {
      return Optional.empty();
    }
    // the frame around it as Rejects builds its answers: addresses and MACs swapped, checksums over the segment
    ByteBuffer b = Rejects.ethernet(pkt, v6 ? 0x86dd : 0x0800, (v6 ? 40 : 20) + segment.length);
    if (v6) {
      Rejects.ipv6Header(b, 6, dst, src, segment.length);
      Rejects.putChecksummed(b, segment, 16, Rejects.pseudo6(dst, src, 6, segment.length));
    } else {
      Rejects.ipv4Header(b, 6, dst, src, 20 + segment.length);
      Rejects.putChecksummed(b, segment, 16, Rejects.pseudo4(dst, src, 6, segment.length));
    }
    return Optional.of(b.array());
  }

  /** kube-proxy's health check answer. */
  static byte[] response(String namespace, String name, int localEndpoints) {
    String body = "{\"service\":{\"namespace\":\"" + json(namespace) + "\",\"name\":\"" + json(name)
        + "\"},\"localEndpoints\":" + localEndpoints + ",\"serviceProxyHealthy\":true}";
    String status = localEndpoints > 0 ? "200 OK" : "503 Service Unavailable";
    String head = "HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nX-Content-Type-Options: nosniff\r\n"
        + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\nConnection: close\r\n\r\n";
    return (head + body).getBytes(StandardCharsets.UTF_8);
  }

  private static String json(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\""); // Kubernetes names hold neither; kept safe anyway
  }

  private static byte[] tcp(int sport, int dport, long seq, long ack, int flags, byte[] data, boolean mss) {
    int header = mss ? 24 : 20;
    ByteBuffer t = ByteBuffer.allocate(header + data.length);
    t.putShort((short) sport).putShort((short) dport).putInt((int) seq).putInt((int) (ack & 0xffffffffL));
    t.put((byte) ((header / 4) << 4)).put((byte) flags).putShort((short) WINDOW).putShort((short) 0).putShort((short) 0);
    if (mss) {
      t.put((byte) 2).put((byte) 4).putShort((short) MSS);
    }
    t.put(data);
    return t.array();
  }

  /** Our initial sequence number for a connection: a keyed hash, so it is neither guessable nor remembered. */
  private static long isn(byte[] src, byte[] dst, int sport, int dport) {
    long h = KEY;
    for (byte[] a : new byte[][] {src, dst}) {
      for (byte x : a) {
        h = (h ^ (x & 0xff)) * 0x100000001b3L;
      }
    }
    h = (h ^ sport) * 0x100000001b3L;
    h = (h ^ dport) * 0x100000001b3L;
    h ^= h >>> 29;
    return h & 0xffffffffL;
  }

  /** Offset of the TCP header in an Ethernet frame carrying IPv4 (unfragmented) or IPv6 (no extension headers). */
  private static int l4(byte[] pkt) {
    if (pkt.length < ETH + 20) {
      return -1;
    }
    int type = Rejects.u16(pkt, 12);
    if (type == 0x0800) {
      int ihl = (pkt[ETH] & 0x0f) * 4;
      boolean fragment = (Rejects.u16(pkt, ETH + 6) & 0x3fff) != 0; // more fragments, or an offset
      return ihl >= 20 && !fragment && (pkt[ETH + 9] & 0xff) == 6 && pkt.length >= ETH + ihl + 20 ? ETH + ihl : -1;
    }
    if (type == 0x86dd && pkt.length >= ETH + 60 && (pkt[ETH + 6] & 0xff) == 6) {
      return ETH + 40;
    }
    return -1;
  }
}
