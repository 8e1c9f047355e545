package io.sluice.renderer.fabric;

import io.sluice.model.Host;
import io.sluice.model.Link;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.Snapshot;
import java.math.BigInteger;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The addresses the controller answers ARP requests and IPv6 neighbour solicitations for (proxy ARP/ND, issue 12):
 * every address of a known endpoint,
 * the same endpoints {@link FabricForwarding} forwards to (a pod bound to a port without a link, with its MAC; a host
 * learned on a port without a link; a pod's binding wins over a host with the same MAC). An address two endpoints
 * claim (two MACs) is nobody's: requests for it keep being flooded, and the owner answers. Pure: computed from a
 * snapshot; the renderer and the controller compute the same map.
 */
public final class NeighbourProxy {
  private NeighbourProxy() { }

  /** IPv4 address (as an unsigned 32-bit value) to the MAC that answers for it, in address order. */
  public static Map<Long, String> ipv4Targets(Snapshot snapshot) {
    Map<Long, String> out = new TreeMap<>();
    targets(snapshot, ip -> {
      long a = ipv4(ip);
      return a >= 0 && unicast(a) ? a : null;
    }, out);
    return out;
  }

  /**
   * IPv6 address (as an unsigned 128-bit value) to the MAC that answers neighbour solicitations for it, in address
   * order: unicast addresses only (not unspecified, loopback, multicast, IPv4-mapped).
   */
  public static Map<BigInteger, String> ipv6Targets(Snapshot snapshot) {
    Map<BigInteger, String> out = new TreeMap<>();
    targets(snapshot, ip -> {
      byte[] a = ipv6(ip);
      return a == null || !unicast6(a) ? null : new BigInteger(1, a);
    }, out);
    return out;
  }

  private static <K> void targets(Snapshot snapshot, Function<String, K> parse, Map<K, String> out) {
    Set<String> linkEnds = new HashSet<>();
    for (Link l : snapshot.links().values()) {
      linkEnds.add(l.a().dpid() + "/" + l.a().port());
      linkEnds.add(l.b().dpid() + "/" + l.b().port());
    }
    Map<String, java.util.List<String>> ipsByMac = new HashMap<>();
    for (PortBinding b : snapshot.bindings().values()) {
      Pod p = snapshot.pods().get(b.pod());
      String mac = mac(b.mac());
      if (p != null && mac != null && !p.hostNetwork() && !linkEnds.contains(b.dpid() + "/" + b.ofport())) {
        ipsByMac.putIfAbsent(mac, p.ips());
      }
    }
    for (Host h : snapshot.hosts().values()) {
      if (!linkEnds.contains(h.dpid() + "/" + h.port())) {
        ipsByMac.putIfAbsent(h.mac(), h.ips());
      }
    }
    Set<K> ambiguous = new HashSet<>();
    ipsByMac.forEach((mac, ips) -> {
      for (String ip : ips) {
        K a = parse.apply(ip);
        if (a == null) {
          continue;
        }
        String was = out.putIfAbsent(a, mac);
        if (was != null && !was.equals(mac)) {
          ambiguous.add(a);
        }
      }
    });
    ambiguous.forEach(out::remove);
  }

  static boolean unicast6(byte[] a) {
    if ((a[0] & 0xff) == 0xff) {
      return false; // multicast
    }
    boolean zeroTo10 = true;
    for (int i = 0; i < 10; i++) {
      zeroTo10 &= a[i] == 0;
    }
    if (zeroTo10 && (a[10] == 0 && a[11] == 0 || a[10] == (byte) 0xff && a[11] == (byte) 0xff)) {
      return false; // unspecified, loopback, IPv4-compatible or IPv4-mapped
    }
    return true;
  }

  /** An IPv6 literal as 16 bytes, or null (never a name lookup: only hex digits, colons and dots are read). */
  public static byte[] ipv6(String s) {
    if (s == null || s.indexOf(':') < 0 || s.length() > 45 || !s.chars().allMatch(c -> c == ':' || c == '.'
        || Character.digit(c, 16) >= 0)) {
      return null;
    }
    try {
      byte[] a = java.net.InetAddress.getByName(s).getAddress();
      return a.length == 16 ? a : null;
    } catch (java.net.UnknownHostException e) {
      return null;
    }
  }

  /** Not 0/8, loopback, multicast, the limited broadcast or class E: addresses a host may hold and be asked for. */
  static boolean unicast(long a) {
    long first = a >>> 24;
    return first != 0 && first != 127 && first < 224;
  }

  /** A dotted-quad IPv4 address as an unsigned 32-bit value, or -1 when the text is not one. */
  public static long ipv4(String s) {
    if (s == null) {
      return -1;
    }
    String[] p = s.split("\\.", -1);
    if (p.length != 4) {
      return -1;
    }
    long v = 0;
    for (String x : p) {
      if (x.isEmpty() || x.length() > 3 || !x.chars().allMatch(Character::isDigit)) {
        return -1;
      }
      int o = Integer.parseInt(x);
      if (o > 255) {
        return -1;
      }
      v = v << 8 | o;
    }
    return v;
  }

  private static String mac(String m) {
    return m != null && m.matches("(?i)([0-9a-f]{2}:){5}[0-9a-f]{2}")
        && (Integer.parseInt(m.substring(0, 2), 16) & 1) == 0 ? m.toLowerCase(Locale.ROOT) : null;
  }
}
