package io.sluice.model;

import java.util.Set;

/**
 * The ports of one switch that are not pods (uplinks, patch ports, tunnels, the node's own interfaces), learnt from
 * OVSDB: an Interface on the switch's bridge with an ofport and without {@code pod-namespace}/{@code pod-name}.
 * A switch that has this record is <em>managed</em>: only these ports, LOCAL and the ports of known pods may send
 * anything but ARP and IPv6 neighbour discovery, so a new pod's port is closed until its policy flows are in.
 */
public record SwitchPorts(long dpid, Set<Long> openPorts) {
  public SwitchPorts {
    openPorts = Set.copyOf(openPorts);
    for (long p : openPorts) {
      if (p < 1 || p >= 0xff00) {
        throw new IllegalArgumentException("switch " + Long.toHexString(dpid) + ": port " + p
            + " is not a physical OpenFlow port (1-65279)");
      }
    }
  }
}
