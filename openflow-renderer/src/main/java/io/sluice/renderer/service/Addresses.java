package io.sluice.renderer.service;

import io.sluice.renderer.flow.OfctlFormat;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** IP address text to bytes and back, without name lookups; text as OVS prints it. */
final class Addresses {
  private Addresses() { }

  static byte[] parse(String s) {
    boolean v6 = s.indexOf(':') >= 0;
    boolean dotted = !s.isEmpty() && s.chars().allMatch(c -> c == '.' || c >= '0' && c <= '9');
    if (!v6 && !dotted) { // InetAddress would otherwise look the name up
      throw new IllegalArgumentException("not an IP address: " + s);
    }
    try {
      return InetAddress.getByName(s).getAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IP address: " + s, e);
    }
  }

  static String text(byte[] raw) {
    return OfctlFormat.address(raw);
  }
}
