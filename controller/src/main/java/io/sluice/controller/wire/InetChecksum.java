package io.sluice.controller.wire;

/** The Internet checksum (RFC 1071) of packets the controller builds: IPv4 headers, TCP, UDP, ICMP. */
public final class InetChecksum {
  private InetChecksum() { }

  /** The one's-complement sum of {@code a} as 16-bit words (an odd last byte padded), for pseudo-headers. */
  public static long sum(byte[] a) {
    long s = 0;
    for (int i = 0; i < a.length; i += 2) {
      s += ((a[i] & 0xff) << 8) | (i + 1 < a.length ? a[i + 1] & 0xff : 0);
    }
    return s;
  }

  /** The checksum of buf[off..off+len) plus an initial sum (a pseudo-header's). */
  public static int of(byte[] buf, int off, int len, long initial) {
    long s = initial;
    for (int i = 0; i < len; i += 2) {
      s += ((buf[off + i] & 0xff) << 8) | (i + 1 < len ? buf[off + i + 1] & 0xff : 0);
    }
    while ((s >> 16) != 0) {
      s = (s & 0xffff) + (s >> 16);
    }
    return (int) (~s & 0xffff);
  }
}
