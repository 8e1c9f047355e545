package io.sluice.renderer.fabric;

import io.sluice.model.Host;
import io.sluice.model.Link;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.Snapshot;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The addresses the controller answers ARP requests for (proxy ARP, issue 12): every IPv4 address of a known endpoint,
 * the same endpoints {@link FabricForwarding} forwards to (a pod bound to a port without a link, with its MAC; a host
 * learned on a port without a link; a pod's binding wins over a host with the same MAC). An address two endpoints
 * claim (two MACs) is nobody's: requests for it keep being flooded, and the owner answers. Pure: computed from a
 * snapshot; the renderer and the controller compute the same map.
 */
public final class NeighbourProxy {
  private NeighbourProxy() { }

  /** IPv4 address (as an unsigned 32-bit value) to the MAC that answers for it, in address order. */
  public static Map<Long, String> ipv4Targets(Snapshot snapshot) {
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
    Map<Long, String> out = new TreeMap<>();
    Set<Long> ambiguous = new HashSet<>();
    ipsByMac.forEach((mac, ips) -> {
      for (String ip : ips) {
        long a = ipv4(ip);
        if (a < 0 || !unicast(a)) {
          continue;
        }
        String was = out.putIfAbsent(a, mac);
        if (was != null && !was.equals(mac)) {
          ambiguous.add(a);
        }
      }
    });
    ambiguous.forEach(out::remove);
    return out;
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
