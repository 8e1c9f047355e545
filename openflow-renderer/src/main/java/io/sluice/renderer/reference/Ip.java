package io.sluice.renderer.reference;

import java.util.ArrayList;
import java.util.List;

/**
 * IP and CIDR literals, parsed by hand so that nothing is ever looked up (no DNS, unlike {@code InetAddress}).
 * IPv4 is a dotted quad whose octets may have leading zeros, read as decimal (the API server's legacy parser);
 * IPv6 is RFC 4291 text with at most one {@code ::} and an optional trailing dotted quad, without a zone. An IPv4
 * address is 4 bytes and an IPv6 address 16 bytes, so the two families never match each other.
 */
final class Ip {
  private Ip() { }

  /** A network: the address bytes and how many leading bits count. */
  record Cidr(byte[] address, int prefix) {
    boolean contains(byte[] ip) {
      if (ip.length != address.length) {
        return false;
      }
      for (int bit = 0; bit < prefix; bit++) {
        if (bitAt(ip, bit) != bitAt(address, bit)) {
          return false;
        }
      }
      return true;
    }

    private static int bitAt(byte[] b, int bit) {
      return (b[bit / 8] >> (7 - bit % 8)) & 1;
    }
  }

  /** 4 or 16 bytes, or null if {@code text} is not an IP literal. */
  static byte[] parse(String text) {
    if (text == null) {
      return null;
    }
    return text.indexOf(':') >= 0 ? parseV6(text) : parseV4(text);
  }

  /** {@code address/prefix} (host bits after the prefix are allowed and ignored), or null. */
  static Cidr parseCidr(String text) {
    int slash = text == null ? -1 : text.indexOf('/');
    if (slash < 0) {
      return null;
    }
    byte[] address = parse(text.substring(0, slash));
    Integer prefix = decimal(text.substring(slash + 1), 3);
    if (address == null || prefix == null || prefix > address.length * 8) {
      return null;
    }
    return new Cidr(address, prefix);
  }

  static String family(byte[] address) {
    return address.length == 4 ? "IPv4" : "IPv6";
  }

  private static byte[] parseV4(String text) {
    String[] parts = text.split("\\.", -1);
    if (parts.length != 4) {
      return null;
    }
    byte[] out = new byte[4];
    for (int i = 0; i < 4; i++) {
      Integer octet = decimal(parts[i], 3);
      if (octet == null || octet > 255) {
        return null;
      }
      out[i] = (byte) (int) octet;
    }
    return out;
  }

  private static byte[] parseV6(String text) {
    if (text.contains(":::")) {
      return null;
    }
    int ellipsis = text.indexOf("::");
    if (ellipsis >= 0 && text.indexOf("::", ellipsis + 1) >= 0) {
      return null;
    }
    List<Integer> head;
    List<Integer> tail;
    if (ellipsis < 0) {
      head = groups(text, true);
      tail = List.of();
      if (head == null || head.size() != 8) {
        return null;
      }
    } else {
      head = groups(text.substring(0, ellipsis), false);
      tail = groups(text.substring(ellipsis + 2), true);
      if (head == null || tail == null || head.size() + tail.size() > 7) {
        return null;
      }
    }
    byte[] out = new byte[16];
    for (int i = 0; i < head.size(); i++) {
      put(out, i, head.get(i));
    }
    for (int i = 0; i < tail.size(); i++) {
      put(out, 8 - tail.size() + i, tail.get(i));
    }
    return out;
  }

  /** Colon-separated 16-bit groups ("" is no group); the last may be a dotted quad (two groups) if allowed. */
  private static List<Integer> groups(String text, boolean dottedQuadLast) {
    List<Integer> out = new ArrayList<>();
    if (text.isEmpty()) {
      return out;
    }
    String[] parts = text.split(":", -1);
    for (int i = 0; i < parts.length; i++) {
      String p = parts[i];
      if (dottedQuadLast && i == parts.length - 1 && p.indexOf('.') >= 0) {
        byte[] v4 = parseV4(p);
        if (v4 == null) {
          return null;
        }
        out.add((v4[0] & 0xff) << 8 | (v4[1] & 0xff));
        out.add((v4[2] & 0xff) << 8 | (v4[3] & 0xff));
      } else {
        if (p.isEmpty() || p.length() > 4) {
          return null;
        }
        int v = 0;
        for (char c : p.toCharArray()) {
          int d = "0123456789abcdef".indexOf(Character.toLowerCase(c));
          if (d < 0) {
            return null;
          }
          v = v * 16 + d;
        }
        out.add(v);
      }
    }
    return out;
  }

  private static void put(byte[] out, int group, int value) {
    out[2 * group] = (byte) (value >> 8);
    out[2 * group + 1] = (byte) value;
  }

  /** A run of 1..maxDigits ASCII digits as a number, or null. */
  private static Integer decimal(String text, int maxDigits) {
    if (text.isEmpty() || text.length() > maxDigits) {
      return null;
    }
    int v = 0;
    for (char c : text.toCharArray()) {
      if (c < '0' || c > '9') {
        return null;
      }
      v = v * 10 + (c - '0');
    }
    return v;
  }
}
