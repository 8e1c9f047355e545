package io.sluice.renderer.advisor;

import io.sluice.model.NetworkPolicy;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortRef;
import io.sluice.model.Protocol;
import io.sluice.model.Snapshot;
import io.sluice.renderer.reference.Addresses;
import io.sluice.renderer.reference.Endpoint;
import io.sluice.renderer.reference.ReferenceEvaluator;
import io.sluice.renderer.reference.Verdict;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a candidate set of NetworkPolicies would break or newly allow, as {@code sluice explain --diff} reports it,
 * judged by the {@link ReferenceEvaluator} before and after.
 *
 * <p>Against the manifests: only connections a changed policy (added, modified or removed) can decide are judged (a
 * verdict depends only on the policies that select its two ends): every pair of pods where either end is selected by
 * a changed policy, old or new version, in both directions, on each destination port that matters: the destination's
 * named container ports, the numeric ports of the changed policies' rules (a range by its edges and the ports just
 * outside them), the observed ports, and one TCP port none of these names, standing for all such ports. Against observed connections: each one, judged as it was seen (through
 * its Service, if it went to a virtual address). Pure: no I/O.
 */
public final class PolicyDiff {
  private PolicyDiff() { }

  /** One connection whose verdict changes: who to whom, and the verdicts before and after. */
  public record Change(String from, String to, Protocol protocol, int port, Verdict before, Verdict after,
                       long seen) {
    public boolean nowAllowed() {
      return after.allowed();
    }

    @Override
    public String toString() {
      return from + " -> " + to + " " + port + "/" + protocol + (seen > 0 ? " (seen " + seen + " time(s))" : "");
    }
  }

  /**
   * @param changed        the policies that differ, each with {@code added}, {@code modified} or {@code removed}
   * @param newlyDenied    connections between pods that were allowed and would be denied
   * @param newlyAllowed   connections between pods that were denied and would be allowed
   * @param observedBroken observed connections (allowed before) that the candidate would deny
   * @param checked        connections judged
   */
  public record Result(Map<ObjectRef, String> changed, List<Change> newlyDenied, List<Change> newlyAllowed,
                       List<Change> observedBroken, long checked) {
    public Result {
      changed = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(changed));
      newlyDenied = List.copyOf(newlyDenied);
      newlyAllowed = List.copyOf(newlyAllowed);
      observedBroken = List.copyOf(observedBroken);
    }
  }

  /**
   * @param current   the manifests as they are
   * @param candidate the candidate's NetworkPolicies
   * @param replace   the candidate replaces every current policy (a whole new policy set); otherwise its policies
   *                  are added to the current ones, replacing those of the same namespace and name
   * @param observed  connections seen (may be empty)
   */
  public static Result diff(Snapshot current, Collection<NetworkPolicy> candidate, boolean replace,
                            Collection<Connection> observed, boolean legacyIsolation) {
    Objects.requireNonNull(current, "current");
    Map<ObjectRef, NetworkPolicy> after = new HashMap<>(replace ? Map.of() : current.networkPolicies());
    for (NetworkPolicy p : candidate) {
      after.put(p.ref(), p);
    }
    Snapshot next = new Snapshot(current.generation() + 1, current.namespaces(), current.pods(), current.bindings(),
        after, current.services(), current.endpointSlices(), current.switchPorts(), current.nodes());
    Map<ObjectRef, String> changed = new LinkedHashMap<>();
    List<NetworkPolicy> changedPolicies = new ArrayList<>();
    Set<ObjectRef> refs = new TreeSet<>(Comparator.comparing(ObjectRef::toString));
    refs.addAll(current.networkPolicies().keySet());
    refs.addAll(after.keySet());
    for (ObjectRef r : refs) {
      NetworkPolicy was = current.networkPolicies().get(r);
      NetworkPolicy now = after.get(r);
      if (Objects.equals(was, now)) {
        continue;
      }
      changed.put(r, was == null ? "added" : now == null ? "removed" : "modified");
      if (was != null) {
        changedPolicies.add(was);
      }
      if (now != null) {
        changedPolicies.add(now);
      }
    }
    ReferenceEvaluator evaluator = new ReferenceEvaluator(legacyIsolation);
    List<Change> denied = new ArrayList<>();
    List<Change> allowed = new ArrayList<>();
    long checked = 0;

    List<Pod> pods = current.pods().values().stream()
        .filter(p -> !p.terminal() && !p.hostNetwork() && !p.ips().isEmpty())
        .sorted(Comparator.comparing(p -> p.ref().toString())).toList();
    Set<ObjectRef> affected = new HashSet<>();
    for (Pod p : pods) {
      for (NetworkPolicy np : changedPolicies) {
        if (np.ref().namespace().equals(p.ref().namespace()) && np.podSelector().matches(p.labels())) {
          affected.add(p.ref());
        }
      }
    }
    Map<ObjectRef, List<PortKey>> observedPorts = observedPorts(current, observed);
    for (Pod to : pods) {
      Set<PortKey> ports = ports(to, changedPolicies, observedPorts.getOrDefault(to.ref(), List.of()));
      for (Pod from : pods) {
        if (from == to || !affected.contains(from.ref()) && !affected.contains(to.ref())) {
          continue;
        }
        for (PortKey k : ports) {
          Verdict b;
          Verdict a;
          try {
            b = evaluator.evaluate(current, Endpoint.pod(from.ref()), Endpoint.pod(to.ref()), k.protocol(), k.port());
            a = evaluator.evaluate(next, Endpoint.pod(from.ref()), Endpoint.pod(to.ref()), k.protocol(), k.port());
          } catch (IllegalArgumentException e) {
            continue; // no common address family
          }
          checked++;
          if (b.allowed() != a.allowed()) {
            Change c = new Change(from.ref().toString(), to.ref().toString(), k.protocol(), k.port(), b, a, 0);
            (a.allowed() ? allowed : denied).add(c);
          }
        }
      }
    }

    List<Change> broken = new ArrayList<>();
    for (Map.Entry<Connection, Long> e : Observed.distinct(observed).entrySet()) {
      Connection c = e.getKey();
      if (Addresses.canonical(c.source()) == null || Addresses.canonical(c.destination()) == null) {
        continue;
      }
      for (Observed.Target t : Observed.targets(current, c)) {
        String address = t.address();
        int port = t.port();
        Verdict b;
        Verdict a;
        try {
          b = evaluator.evaluate(current, Endpoint.ip(c.source()), Endpoint.ip(address), c.protocol(), port);
          a = evaluator.evaluate(next, Endpoint.ip(c.source()), Endpoint.ip(address), c.protocol(), port);
        } catch (IllegalArgumentException ex) {
          continue;
        }
        checked++;
        if (b.allowed() && !a.allowed()) {
          broken.add(new Change(b.from().toString(), a.to() + (a.to().pod().isPresent() ? " " + address : ""),
              c.protocol(), port, b, a, e.getValue()));
        }
      }
    }
    return new Result(changed, denied, allowed, broken, checked);
  }

  private record PortKey(Protocol protocol, int port) { }

  /** Per destination pod, the (protocol, port) it was observed on. */
  private static Map<ObjectRef, List<PortKey>> observedPorts(Snapshot snap, Collection<Connection> observed) {
    Map<String, Pod> byAddress = Observed.podsByAddress(snap);
    Map<ObjectRef, List<PortKey>> out = new HashMap<>();
    for (Connection c : observed) {
      for (Observed.Target t : Observed.targets(snap, c)) {
        Pod p = byAddress.get(Addresses.canonical(t.address()));
        if (p != null) {
          out.computeIfAbsent(p.ref(), k -> new ArrayList<>()).add(new PortKey(c.protocol(), t.port()));
        }
      }
    }
    return out;
  }

  /** The ports that matter for a destination (see the class comment). */
  private static Set<PortKey> ports(Pod to, List<NetworkPolicy> changed, List<PortKey> observed) {
    Set<PortKey> out = new LinkedHashSet<>();
    for (Pod.NamedPort p : to.ports()) {
      Protocol protocol = protocol(p.protocol());
      if (protocol != null && p.port() >= 1 && p.port() <= 65535) {
        out.add(new PortKey(protocol, p.port()));
      }
    }
    for (NetworkPolicy np : changed) {
      for (List<NetworkPolicy.Rule> rules : List.of(np.ingress(), np.egress())) {
        for (NetworkPolicy.Rule r : rules) {
          for (NetworkPolicy.Port port : r.ports()) {
            if (port.port().orElse(null) instanceof PortRef.Numbered n) {
              // a range's edges and the ports just outside them, where an old and a new range can differ
              int end = port.endPort().orElse(n.number());
              int[] edges = port.endPort().isPresent() ? new int[] {n.number() - 1, n.number(), end, end + 1}
                  : new int[] {n.number()};
              for (int p : edges) {
                if (p >= 1 && p <= 65535) {
                  out.add(new PortKey(port.protocol(), p));
                }
              }
            }
          }
        }
      }
    }
    out.addAll(observed);
    // one port no rule names and the pod does not declare stands for all such ports (a policy that isolates a pod
    // or allows every port is judged there, also for a pod without declared ports)
    int probe = 1;
    while (out.contains(new PortKey(Protocol.TCP, probe))) {
      probe++;
    }
    out.add(new PortKey(Protocol.TCP, probe));
    return out;
  }

  private static Protocol protocol(String text) {
    for (Protocol p : Protocol.values()) {
      if (p.name().equalsIgnoreCase(text)) {
        return p;
      }
    }
    return text == null || text.isEmpty() ? Protocol.TCP : null;
  }
}
