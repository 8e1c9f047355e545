package io.sluice.renderer.flow;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Where a switch's Service groups send new connections: an endpoint's address (as ovs-ofctl prints it), its target
 * port and the IP protocol number. {@link DesiredTables#natBackends()} holds the UDP and SCTP ones, so that sync can
 * clear a backend's conntrack entries once it is no longer a destination (a UDP "connection" whose client keeps sending
 * never expires and would keep going to an endpoint that left the Service).
 */
public record NatBackend(String address, int port, int ipProto) implements Comparable<NatBackend> {
  public static final int UDP = 17;
  public static final int SCTP = 132;

  public NatBackend {
    address = OfctlFormat.address(parse(address));
    if (port < 1 || port > 0xffff) {
      throw new IllegalArgumentException("backend " + address + ": port " + port + " is not in 1..65535");
    }
    if (ipProto < 0 || ipProto > 0xff) {
      throw new IllegalArgumentException("backend " + address + ": IP protocol " + ipProto + " is not in 0..255");
    }
  }

  /** A backend from an address's 4 or 16 bytes. */
  public static NatBackend of(byte[] address, int port, int ipProto) {
    return new NatBackend(OfctlFormat.address(address), port, ipProto);
  }

  /** The address's 4 (IPv4) or 16 (IPv6) bytes. */
  public byte[] addressBytes() {
    return parse(address);
  }

  public boolean ipv6() {
    return address.indexOf(':') >= 0;
  }

  private static byte[] parse(String text) {
    boolean v6 = text != null && text.indexOf(':') >= 0;
    boolean dotted = text != null && !text.isEmpty() && text.chars().allMatch(c -> c == '.' || c >= '0' && c <= '9');
    if (!v6 && !dotted) { // InetAddress would otherwise look the name up
      throw new IllegalArgumentException("not an IP address: " + text);
    }
    try {
      return InetAddress.getByName(text).getAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IP address: " + text, e);
    }
  }

  /** Address family (IPv4 first), then address bytes, port and protocol: a stable order for logs and tests. */
  @Override
  public int compareTo(NatBackend o) {
    byte[] a = addressBytes();
    byte[] b = o.addressBytes();
    int c = a.length != b.length ? Integer.compare(a.length, b.length) : java.util.Arrays.compareUnsigned(a, b);
    if (c == 0) {
      c = Integer.compare(port, o.port);
    }
    return c != 0 ? c : Integer.compare(ipProto, o.ipProto);
  }

  /** As ovs-ofctl's ct-flush reply tuple would name it, e.g. {@code udp 10.0.0.11:5353}. */
  @Override
  public String toString() {
    String proto = ipProto == UDP ? "udp" : ipProto == SCTP ? "sctp" : "proto " + ipProto;
    return proto + " " + (ipv6() ? "[" + address + "]" : address) + ":" + port;
  }
}
