package io.sluice.renderer.advisor;

import io.sluice.model.Pod;
import io.sluice.model.Snapshot;
import io.sluice.renderer.reference.Addresses;
import io.sluice.renderer.reference.ServiceResolver;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** What the advisor and the diff both read of observed connections and of the pods they reach. */
final class Observed {
  private Observed() { }

  /** Where a connection went: an address and its port. */
  record Target(String address, int port) { }

  /** The distinct (source, destination, protocol, port) of the connections, each with its total count, in order. */
  static Map<Connection, Long> distinct(Collection<Connection> observed) {
    Map<Connection, Long> out = new LinkedHashMap<>();
    for (Connection c : observed) {
      out.merge(new Connection(c.source(), c.destination(), c.protocol(), c.port(), 1), c.count(), Long::sum);
    }
    return out;
  }

  /** Where a connection went: each endpoint when it was to a Service's virtual address (none if it has none). */
  static List<Target> targets(Snapshot snap, Connection c) {
    Optional<ServiceResolver.Resolved> vip = ServiceResolver.byVirtualAddress(snap, c.destination(), c.protocol(),
        c.port());
    List<Target> out = new ArrayList<>();
    if (vip.isPresent()) {
      for (ServiceResolver.Backend b : vip.get().backends()) {
        out.add(new Target(b.address(), b.port()));
      }
    } else {
      out.add(new Target(c.destination(), c.port()));
    }
    return out;
  }

  /**
   * The pods by their addresses in canonical text: not the terminal ones (their addresses belong to nobody) and not
   * host-network ones (their address is their node's).
   */
  static Map<String, Pod> podsByAddress(Snapshot snap) {
    Map<String, Pod> out = new HashMap<>();
    for (Pod p : snap.pods().values()) {
      if (p.terminal() || p.hostNetwork()) {
        continue;
      }
      for (String ip : p.ips()) {
        String c = Addresses.canonical(ip);
        if (c != null) {
          out.put(c, p);
        }
      }
    }
    return out;
  }
}
