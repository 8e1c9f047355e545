package io.sluice.renderer.fabric;

import io.sluice.model.Host;
import io.sluice.model.Link;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.Snapshot;
import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Group;
import io.sluice.renderer.pipeline.Capabilities;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Forwarding across a fabric of switches, for one switch: where each known endpoint (a pod bound to a switch port
 * with its MAC, or a host learned by host tracking) is, and how to reach it from here. Pure: computed from a
 * snapshot's links, bindings and hosts.
 *
 * <ul>
 *   <li>An endpoint on this switch: out of its port.</li>
 *   <li>An endpoint elsewhere: out of the links that start a shortest path to its switch (hop count). Several such
 *   links share the load by a {@code select} group (ECMP; the switch hashes each flow to one bucket), or, where the
 *   profile has no select groups, a {@code fast_failover} group (the first live one); each bucket watches its port,
 *   so a link that goes down is left by the switch at once, before the controller hears of it.</li>
 *   <li>Broadcast, multicast and unknown unicast: flooded ({@code ALL}) along a spanning tree of the fabric (breadth
 *   first from the lowest datapath id): what arrives on a link outside the tree and is not for a known endpoint is
 *   dropped, so every switch gets one copy and nothing loops.</li>
 * </ul>
 * A switch with no links is a fabric of one: its endpoints out of their ports, the rest flooded.
 */
public final class FabricForwarding {
  /** Group numbers (24-bit, under Sluice's group tag) of fabric next-hop groups start here. */
  static final long GROUP_BASE = 0xfa0000L;
  private static final long OFPP_ALL = 0xfffffffcL;

  /** An endpoint: a MAC at a switch port. */
  public record Endpoint(String mac, long dpid, long port) { }

  private final long dpid;
  private final Map<String, Endpoint> endpoints = new TreeMap<>();
  /** This switch's ports that carry a link, by the neighbour's datapath id (several links to one neighbour: all). */
  private final Map<Long, List<Long>> portsTo = new TreeMap<>(Long::compareUnsigned);
  /** Hop counts from each switch an endpoint sits on (computed once per switch). */
  private final Map<Long, Map<Long, Integer>> hopsFrom = new HashMap<>();
  private final Set<Long> linkPorts = new TreeSet<>();
  private final Set<Long> treePorts = new TreeSet<>();
  private final Map<Long, Integer> hopsFromHere;
  private final Map<Long, Map<Long, List<long[]>>> adjacency;
  private final Map<List<Long>, Group> groups = new LinkedHashMap<>();
  private final Capabilities capabilities;

  private FabricForwarding(long dpid, Map<Long, Map<Long, List<long[]>>> adjacency, Capabilities capabilities) {
    this.dpid = dpid;
    this.adjacency = adjacency;
    this.capabilities = capabilities;
    this.hopsFromHere = bfs(adjacency, dpid);
  }

  /** The forwarding of switch {@code dpid} in {@code snapshot}'s fabric. */
  public static FabricForwarding of(Snapshot snapshot, long dpid, Capabilities capabilities) {
    Map<Long, Map<Long, List<long[]>>> adjacency = new TreeMap<>(Long::compareUnsigned); // dpid -> neighbour -> ports
    for (Link l : snapshot.links().values()) {
      if (l.a().dpid() == l.b().dpid()) {
        continue; // a loop on one switch carries nothing
      }
      adjacency.computeIfAbsent(l.a().dpid(), k -> new TreeMap<>(Long::compareUnsigned))
          .computeIfAbsent(l.b().dpid(), k -> new ArrayList<>()).add(new long[] {l.a().port(), l.b().port()});
      adjacency.computeIfAbsent(l.b().dpid(), k -> new TreeMap<>(Long::compareUnsigned))
          .computeIfAbsent(l.a().dpid(), k -> new ArrayList<>()).add(new long[] {l.b().port(), l.a().port()});
    }
    adjacency.values().forEach(m -> m.values().forEach(pairs -> pairs.sort((x, y) -> Long.compareUnsigned(x[0], y[0]))));
    FabricForwarding f = new FabricForwarding(dpid, adjacency, capabilities);
    adjacency.getOrDefault(dpid, Map.of()).forEach((n, pairs) -> {
      List<Long> ports = new ArrayList<>();
      pairs.forEach(pair -> ports.add(pair[0]));
      f.portsTo.put(n, ports);
      f.linkPorts.addAll(ports);
    });
    f.treePorts.addAll(spanningTreePorts(adjacency, dpid));
    // endpoints: pods with a MAC on a port without a link, then learned hosts (a pod's binding wins)
    Set<String> linkEnds = new java.util.HashSet<>();
    for (Link l : snapshot.links().values()) {
      linkEnds.add(l.a().dpid() + "/" + l.a().port());
      linkEnds.add(l.b().dpid() + "/" + l.b().port());
    }
    for (PortBinding b : snapshot.bindings().values()) {
      Pod p = snapshot.pods().get(b.pod());
      String mac = mac(b.mac());
      if (p != null && mac != null && !linkEnds.contains(b.dpid() + "/" + b.ofport())) {
        f.endpoints.putIfAbsent(mac, new Endpoint(mac, b.dpid(), b.ofport()));
      }
    }
    for (Host h : snapshot.hosts().values()) {
      if (!linkEnds.contains(h.dpid() + "/" + h.port())) {
        f.endpoints.putIfAbsent(h.mac(), new Endpoint(h.mac(), h.dpid(), h.port()));
      }
    }
    return f;
  }

  private static String mac(String m) {
    return m != null && m.matches("(?i)([0-9a-f]{2}:){5}[0-9a-f]{2}") ? m.toLowerCase(java.util.Locale.ROOT) : null;
  }

  /** Hop counts from {@code from} to every switch it reaches. */
  private static Map<Long, Integer> bfs(Map<Long, Map<Long, List<long[]>>> adjacency, long from) {
    Map<Long, Integer> hops = new HashMap<>();
    hops.put(from, 0);
    Deque<Long> queue = new ArrayDeque<>(List.of(from));
    while (!queue.isEmpty()) {
      long x = queue.poll();
      for (long n : adjacency.getOrDefault(x, Map.of()).keySet()) {
        if (!hops.containsKey(n)) {
          hops.put(n, hops.get(x) + 1);
          queue.add(n);
        }
      }
    }
    return hops;
  }

  /**
   * This switch's ports on the spanning tree of its part of the fabric: breadth first from the lowest datapath id,
   * each switch joined to the first switch that reached it by the link on that switch's lowest port (both ends of one
   * link, so both sides agree).
   */
  static Set<Long> spanningTreePorts(Map<Long, Map<Long, List<long[]>>> adjacency, long dpid) {
    Set<Long> out = new TreeSet<>();
    if (!adjacency.containsKey(dpid)) {
      return out;
    }
    Map<Long, Integer> reach = bfs(adjacency, dpid);
    long root = reach.keySet().stream().min(Long::compareUnsigned).orElseThrow();
    Set<Long> seen = new java.util.HashSet<>(List.of(root));
    Deque<Long> queue = new ArrayDeque<>(List.of(root));
    while (!queue.isEmpty()) {
      long x = queue.poll();
      for (Map.Entry<Long, List<long[]>> e : adjacency.get(x).entrySet()) {
        long n = e.getKey();
        if (seen.add(n)) {
          queue.add(n);
          long[] link = e.getValue().get(0); // {port on x, port on n}
          if (x == dpid) {
            out.add(link[0]);
          }
          if (n == dpid) {
            out.add(link[1]);
          }
        }
      }
    }
    return out;
  }

  /** Whether this switch is part of a fabric (has links). */
  public boolean hasLinks() {
    return !linkPorts.isEmpty();
  }

  public Map<String, Endpoint> endpoints() {
    return endpoints;
  }

  /** Ports of this switch that carry a link but are not on the spanning tree: floods arriving there are dropped. */
  public Set<Long> blockedFloodPorts() {
    Set<Long> out = new TreeSet<>(linkPorts);
    out.removeAll(treePorts);
    return out;
  }

  public Set<Long> treePorts() {
    return treePorts;
  }

  /** The actions that send a frame for this endpoint on its way, or an empty list when it cannot be reached. */
  public List<Action> towards(Endpoint e) {
    if (e.dpid() == dpid) {
      return List.of(new Action.Output(e.port()));
    }
    Integer here = hopsFromHere.get(e.dpid());
    if (here == null) {
      return List.of(); // not reachable from this part of the fabric
    }
    Map<Long, Integer> fromThere = hopsFrom.computeIfAbsent(e.dpid(), d -> bfs(adjacency, d));
    List<Long> next = new ArrayList<>();
    portsTo.forEach((n, ports) -> {
      Integer h = fromThere.get(n);
      if (h != null && h == here - 1) {
        next.addAll(ports);
      }
    });
    next.sort(Long::compareUnsigned);
    if (next.size() == 1 || !capabilities.groupTypes().contains("select")
        && !capabilities.groupTypes().contains("fast_failover")) {
      return List.of(new Action.Output(next.get(0)));
    }
    return List.of(new Action.Group(group(next).id()));
  }

  /** The next-hop group of a set of ports: select where the profile has it, else fast-failover. */
  private Group group(List<Long> ports) {
    return groups.computeIfAbsent(List.copyOf(ports), k -> {
      Group.Type type = capabilities.groupTypes().contains("select") ? Group.Type.SELECT : Group.Type.FAST_FAILOVER;
      List<Group.Bucket> buckets = new ArrayList<>();
      for (long p : k) {
        buckets.add(new Group.Bucket(1, List.of(new Action.Output(p)), p));
      }
      return new Group(Group.ownedId(GROUP_BASE + groups.size()), type, buckets);
    });
  }

  /** The next-hop groups the actions {@link #towards} returned use. */
  public List<Group> groups() {
    return List.copyOf(groups.values());
  }

  /** Flooding: every port but the one it came in by (blocked link ports drop what arrives first). */
  public static List<Action> flood() {
    return List.of(new Action.Output(OFPP_ALL));
  }
}
