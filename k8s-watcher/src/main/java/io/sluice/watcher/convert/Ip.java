package io.sluice.watcher.convert;

/**
 * IP and CIDR literal parsing with the API server's (legacy, "sloppy") rules: dotted-quad IPv4 whose octets may have
 * leading zeros, RFC 4291 IPv6 text with an optional trailing dotted quad, no zones, CIDR = address "/" decimal
 * prefix; host bits after the prefix are allowed. Never resolves names.
 */
public final class Ip {
  private Ip() { }

  /**
   * The address as the API server's Go code prints a parsed IP ({@code net.IP.String()}): IPv4 dotted decimal without
   * leading zeros; IPv6 in RFC 5952 form (lower case, the longest run of two or more zero groups as {@code ::});
   * an IPv4-mapped IPv6 address as plain IPv4. Null if {@code s} is no IP literal.
   */
  public static String canonical(String s) {
    byte[] ip = parse(s);
    return ip == null ? null : format(ip);
  }

  /** Whether 16 bytes are an IPv4-mapped address (::ffff:a.b.c.d), which Go counts as IPv4. */
  static boolean v4Mapped(byte[] ip) {
    if (ip.length != 16 || ip[10] != (byte) 0xff || ip[11] != (byte) 0xff) {
      return false;
    }
    for (int i = 0; i < 10; i++) {
      if (ip[i] != 0) {
        return false;
      }
    }
    return true;
  }

  static String format(byte[] ip) {
    if (ip.length == 4 || v4Mapped(ip)) {
      int o = ip.length - 4;
      return (ip[o] & 0xff) + "." + (ip[o + 1] & 0xff) + "." + (ip[o + 2] & 0xff) + "." + (ip[o + 3] & 0xff);
    }
    int[] groups = new int[8];
    for (int i = 0; i < 8; i++) {
      groups[i] = (ip[2 * i] & 0xff) << 8 | ip[2 * i + 1] & 0xff;
    }
    int bestFrom = -1;
    int bestLen = 1; // a single zero group is never shortened
    for (int i = 0; i < 8; ) {
      if (groups[i] != 0) {
        i++;
        continue;
      }
      int j = i;
      while (j < 8 && groups[j] == 0) {
        j++;
      }
      if (j - i > bestLen) {
        bestFrom = i;
        bestLen = j - i;
      }
      i = j;
    }
    StringBuilder b = new StringBuilder(39);
    for (int i = 0; i < 8; i++) {
      if (i == bestFrom) {
        b.append("::");
        i += bestLen - 1;
        continue;
      }
      if (b.length() > 0 && b.charAt(b.length() - 1) != ':') {
        b.append(':');
      }
      b.append(Integer.toHexString(groups[i]));
    }
    return b.toString();
  }

  /** A network: address with host bits cleared, and its prefix length. */
  record Cidr(byte[] network, int prefix) {
    boolean contains(byte[] address) {
      if (address.length != network.length) {
        return false;
      }
      for (int bit = 0; bit < prefix; bit += 8) {
        int take = Math.min(8, prefix - bit);
        int mask = (0xff << (8 - take)) & 0xff;
        if (((address[bit / 8] ^ network[bit / 8]) & mask) != 0) {
          return false;
        }
      }
      return true;
    }
  }

  /** 4 or 16 bytes, or null if {@code s} is no IP literal. */
  static byte[] parse(String s) {
    byte[] v4 = parseV4(s);
    return v4 != null ? v4 : parseV6(s);
  }

  static Cidr parseCidr(String s) {
    int slash = s.indexOf('/');
    if (slash < 0) {
      return null;
    }
    byte[] ip = parse(s.substring(0, slash));
    String p = s.substring(slash + 1);
    if (ip == null || p.isEmpty() || p.length() > 5 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return null;
    }
    int prefix = Integer.parseInt(p);
    if (prefix > ip.length * 8) {
      return null;
    }
    byte[] net = ip.clone();
    for (int bit = prefix; bit < net.length * 8; bit++) {
      net[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
    }
    return new Cidr(net, prefix);
  }

  static byte[] parseV4(String s) {
    byte[] out = new byte[4];
    int part = 0;
    int i = 0;
    while (part < 4) {
      int start = i;
      int v = 0;
      while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9' && i - start < 4) {
        v = v * 10 + (s.charAt(i) - '0');
        i++;
      }
      if (i == start || v > 255) {
        return null;
      }
      out[part++] = (byte) v;
      if (part < 4) {
        if (i >= s.length() || s.charAt(i) != '.') {
          return null;
        }
        i++;
      }
    }
    return i == s.length() ? out : null;
  }

  static byte[] parseV6(String s) {
    byte[] out = new byte[16];
    int len = 0;
    int ellipsis = -1;
    int i = 0;
    if (s.startsWith("::")) {
      ellipsis = 0;
      i = 2;
      if (i == s.length()) {
        return out;
      }
    }
    while (len < 16) {
      int start = i;
      int v = 0;
      while (i < s.length() && Character.digit(s.charAt(i), 16) >= 0 && i - start < 5) {
        v = v * 16 + Character.digit(s.charAt(i), 16);
        i++;
      }
      if (i == start || i - start > 4) {
        return null;
      }
      if (i < s.length() && s.charAt(i) == '.') {
        // Trailing dotted quad: the last 32 bits.
        if (ellipsis < 0 && len != 12 || len + 4 > 16) {
          return null;
        }
        byte[] v4 = parseV4(s.substring(start));
        if (v4 == null) {
          return null;
        }
        System.arraycopy(v4, 0, out, len, 4);
        len += 4;
        i = s.length();
        break;
      }
      out[len++] = (byte) (v >> 8);
      out[len++] = (byte) v;
      if (i == s.length()) {
        break;
      }
      if (s.charAt(i) != ':' || i + 1 == s.length()) {
        return null;
      }
      i++;
      if (s.charAt(i) == ':') {
        if (ellipsis >= 0) {
          return null;
        }
        ellipsis = len;
        i++;
        if (i == s.length()) {
          break;
        }
      }
    }
    if (i != s.length()) {
      return null;
    }
    if (len < 16) {
      if (ellipsis < 0) {
        return null;
      }
      int n = len - ellipsis;
      System.arraycopy(out, ellipsis, out, 16 - n, n);
      java.util.Arrays.fill(out, ellipsis, 16 - n, (byte) 0);
    } else if (ellipsis >= 0) {
      return null;
    }
    return out;
  }
}
