package io.sluice.model;

import java.util.List;
import java.util.Objects;

/**
 * A host seen on a switch port that is not a pod Sluice knows: learned from its ARP and neighbour discovery packets
 * (host tracking). Its MAC says where to forward frames for it; its addresses are what it claimed.
 *
 * @param lastSeenMillis when it was last heard from (wall clock, milliseconds), for aging and display
 */
public record Host(String mac, List<String> ips, long dpid, long port, long lastSeenMillis) {
  public Host {
    Objects.requireNonNull(mac, "mac");
    if (!mac.matches("([0-9a-f]{2}:){5}[0-9a-f]{2}")) {
      throw new IllegalArgumentException("mac must be lower-case xx:xx:xx:xx:xx:xx, got " + mac);
    }
    ips = List.copyOf(ips);
  }

  /** The same host at the same place, heard from now: equal except for the time (the model ignores such repeats). */
  public boolean samePlace(Host o) {
    return o != null && mac.equals(o.mac) && ips.equals(o.ips) && dpid == o.dpid && port == o.port;
  }
}
