package io.sluice.renderer.policy;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** An IPv4 or IPv6 prefix, normalised (host bits cleared). */
record Cidr(boolean v6, BigInteger base, int prefix) {
  static final Comparator<Cidr> ORDER = Comparator.comparing(Cidr::v6).thenComparing(Cidr::base).thenComparingInt(Cidr::prefix);

  Cidr {
    int bits = v6 ? 128 : 32;
    if (prefix < 0 || prefix > bits) {
      throw new IllegalArgumentException("prefix length " + prefix + " out of range");
    }
    base = base.and(mask(bits, prefix));
  }

  int bits() {
    return v6 ? 128 : 32;
  }

  BigInteger mask() {
    return mask(bits(), prefix);
  }

  static BigInteger mask(int bits, int prefix) {
    BigInteger all = BigInteger.ONE.shiftLeft(bits).subtract(BigInteger.ONE);
    return all.xor(BigInteger.ONE.shiftLeft(bits - prefix).subtract(BigInteger.ONE));
  }

  /** Parses {@code a.b.c.d/n}, {@code x::y/n}, or a bare address (a host prefix). */
  static Cidr parse(String text) {
    int slash = text.indexOf('/');
    String addr = slash < 0 ? text : text.substring(0, slash);
    byte[] raw = address(addr);
    boolean v6 = raw.length == 16;
    int prefix = slash < 0 ? raw.length * 8 : Integer.parseInt(text.substring(slash + 1));
    return new Cidr(v6, new BigInteger(1, raw), prefix);
  }

  static byte[] address(String addr) {
    if (addr.indexOf(':') < 0 && !digitsAndDots(addr)) {
      // InetAddress would otherwise try a name lookup
      throw new IllegalArgumentException("not an IP address: " + addr);
    }
    try {
      return InetAddress.getByName(addr).getAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IP address: " + addr, e);
    }
  }

  private static boolean digitsAndDots(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c != '.' && (c < '0' || c > '9')) {
        return false;
      }
    }
    return true;
  }

  boolean contains(Cidr other) {
    return v6 == other.v6 && other.prefix >= prefix && other.base.and(mask()).equals(base);
  }

  boolean overlaps(Cidr other) {
    return contains(other) || other.contains(this);
  }

  /** This prefix minus the given ones, as a minimal list of disjoint prefixes. */
  List<Cidr> subtract(List<Cidr> holes) {
    List<Cidr> out = new ArrayList<>();
    subtract(this, holes, out);
    out.sort(ORDER);
    return out;
  }

  private static void subtract(Cidr c, List<Cidr> holes, List<Cidr> out) {
    boolean touched = false;
    for (Cidr h : holes) {
      if (h.contains(c)) {
        return; // entirely removed
      }
      if (c.contains(h)) {
        touched = true;
      }
    }
    if (!touched) {
      out.add(c);
      return;
    }
    // split in halves and recurse: at most (prefix difference) levels per hole
    int p = c.prefix + 1;
    BigInteger half = BigInteger.ONE.shiftLeft(c.bits() - p);
    subtract(new Cidr(c.v6, c.base, p), holes, out);
    subtract(new Cidr(c.v6, c.base.add(half), p), holes, out);
  }

  @Override
  public String toString() {
    byte[] raw = base.toByteArray();
    byte[] b = new byte[v6 ? 16 : 4];
    int n = Math.min(raw.length, b.length);
    System.arraycopy(raw, raw.length - n, b, b.length - n, n);
    try {
      return InetAddress.getByAddress(b).getHostAddress() + "/" + prefix;
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }
}
