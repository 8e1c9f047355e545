package io.sluice.renderer.policy;

import io.sluice.model.LabelSelector;
import io.sluice.model.Namespace;
import io.sluice.model.NetworkPolicy;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.PortRef;
import io.sluice.model.Protocol;
import io.sluice.model.Snapshot;
import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.flow.Field;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.FieldValue;
import io.sluice.renderer.flow.Match;
import io.sluice.renderer.pipeline.PipelineProfile;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Compiles the NetworkPolicies of a snapshot into the EgressRule and IngressRule tables of one switch.
 *
 * <p>Egress is enforced on the switch of the source pod (matched by its port), ingress on the switch of the
 * destination pod (matched by its address). A rule becomes a conjunctive match with one clause per dimension —
 * the local pods it protects, the peer addresses, the ports — so P peers and Q ports cost about P + Q flows; flows
 * with identical matches carry one {@code conjunction()} action per rule. A named port is resolved per destination
 * pod, so it joins the dimension of that pod (a (pod address, port) pair per flow). ipBlock {@code except} becomes a
 * CIDR difference before rendering. A pod that some policy isolates for a direction and no rule allows is dropped by
 * a default flow below the rules.
 */
public final class PolicyCompiler {
  /** Allow rules (conjunctions and their conj_id flows). */
  static final int RULE_PRIORITY = 200;
  /** Rules with a single dimension are plain flows, kept off the conjunctions' priority. */
  static final int DIRECT_PRIORITY = 210;
  /** Default deny of isolated pods. */
  static final int ISOLATION_PRIORITY = 100;
  /** A pod talking to itself is never governed by policy. */
  static final int SELF_PRIORITY = 300;
  /** Table 0 of a managed switch: the ports that may send (known pods, non-pod ports, LOCAL). */
  static final int ADMIT_PRIORITY = 100;
  /** Table 0 of a managed switch: IP from a pod port with a source address not the pod's is dropped. */
  static final int SPOOF_PRIORITY = 90;
  /** Table 0 of a managed switch: what else a known pod sends (not IP: not governed by policy). */
  static final int NON_IP_PRIORITY = 80;
  /** Table 0 of a managed switch: anything else is dropped (a new pod port until its flows are in). */
  static final int CLOSED_PRIORITY = 10;
  private static final long OFPP_LOCAL = 0xfffffffeL;

  private final Snapshot snap;
  private final long dpid;
  private final int round;
  private final Map<ObjectRef, PortBinding> local = new TreeMap<>();
  private final Map<ObjectRef, Pod> localPods = new TreeMap<>();
  /** Local pods by namespace, in name order. */
  private final Map<String, List<Pod>> localByNamespace = new TreeMap<>();
  /** Local targets of a (namespace, podSelector), shared by every policy with that selector. */
  private final Map<List<Object>, List<Pod>> targetsBySelector = new HashMap<>();
  /** Shape ids ({@link PolicyIndex.Shape}) of policy directions already compiled: an identical one adds nothing. */
  private final java.util.BitSet seenDirections = new java.util.BitSet();
  /** Shape ids of rules already compiled: an identical rule shares the first one's flows. */
  private final java.util.BitSet seenRules = new java.util.BitSet();
  private final PolicyIndex index;
  private final Map<FlowSlot, FlowBody> flows = new LinkedHashMap<>();
  private final Set<ObjectRef> ingressIsolated = new LinkedHashSet<>();
  private final Set<ObjectRef> egressIsolated = new LinkedHashSet<>();
  /**
   * Ports that carry more than one local pod, or a node's attachment (its other pods and its own addresses): what a
   * pod sends there is told apart by its source address as well as the port.
   */
  private final Set<Long> sharedPorts = new java.util.HashSet<>();
  private boolean legacyIsolation;

  private final Inputs inputs;

  private PolicyCompiler(PolicyIndex index, long dpid, int round, Inputs inputs) {
    this.index = index;
    this.snap = index.snapshot();
    this.inputs = inputs;
    this.dpid = dpid;
    this.round = round;
    // inputs: the switch's bindings, then the pod list of each namespace with a local pod (a changed pod is a new
    // list), and each bound pod that is absent or not eligible itself (it may become eligible)
    for (PortBinding b : inputs.note(i -> i.bindingsOn(dpid), index.bindingsOn(dpid))) {
      ObjectRef ref = b.pod();
      Pod p = snap.pods().get(ref);
      if (p != null && !p.ips().isEmpty() && !p.hostNetwork()) {
        local.put(b.pod(), b);
        localPods.put(b.pod(), p);
      } else {
        inputs.note(i -> i.snapshot().pods().get(ref), p);
      }
    }
    Map<Long, Integer> perPort = new HashMap<>();
    for (PortBinding b : local.values()) {
      perPort.merge(b.ofport(), 1, Integer::sum);
    }
    for (PortBinding b : local.values()) {
      if (b.attached() || perPort.get(b.ofport()) > 1) {
        sharedPorts.add(b.ofport());
      }
    }
    for (Pod p : localPods.values()) {
      localByNamespace.computeIfAbsent(p.ref().namespace(), k -> new ArrayList<>()).add(p);
    }
    for (String ns : localByNamespace.keySet()) {
      inputs.note(i -> i.podsIn(ns), index.podsIn(ns));
    }
  }

  /** What a rule id (conjunction id, cookie object id) stands for. */
  public record RuleRef(long id, ObjectRef policy, String direction, int rule) { }

  /** Every rule id of a snapshot's policies (both parts of each rule), for reading per-rule counters back. */
  public static List<RuleRef> rules(Snapshot snap) {
    return PolicyIndex.of(snap).rules();
  }

  /** The rule ids of an index's policies (both parts of each rule). */
  static List<RuleRef> rules(PolicyIndex index, List<NetworkPolicy> sortedPolicies) {
    List<RuleRef> out = new ArrayList<>();
    for (NetworkPolicy np : sortedPolicies) {
      for (Direction d : Direction.values()) {
        int n = d == Direction.INGRESS ? np.ingress().size() : np.egress().size();
        for (int i = 0; i < n; i++) {
          for (int part = 0; part < 2; part++) {
            out.add(new RuleRef(index.ids().id(np.ref(), d, i, part), np.ref(), d == Direction.INGRESS ? "Ingress" : "Egress", i));
          }
        }
      }
    }
    return out;
  }

  /** The policy flows of one switch. */
  public static List<Flow> compile(Snapshot snap, long dpid, int round) {
    return compile(snap, dpid, round, false);
  }

  /**
   * The policy flows of one switch; with {@code legacyIsolation}, a Namespace annotated
   * {@code net.beta.kubernetes.io/network-policy: {"ingress": {"isolation": "DefaultDeny"}}} (the oldest
   * NetworkPolicy API) isolates every pod of the namespace for ingress, on top of any policies.
   */
  public static List<Flow> compile(Snapshot snap, long dpid, int round, boolean legacyIsolation) {
    return compile(PolicyIndex.of(snap), dpid, round, legacyIsolation);
  }

  /** The policy flows of one switch, sharing the index (address sets) with the other switches' compiles. */
  public static List<Flow> compile(PolicyIndex index, long dpid, int round, boolean legacyIsolation) {
    return compile(index, dpid, round, legacyIsolation, new Inputs());
  }

  /** As {@link #compile(PolicyIndex, long, int, boolean)}, recording into {@code inputs} everything it read. */
  public static List<Flow> compile(PolicyIndex index, long dpid, int round, boolean legacyIsolation, Inputs inputs) {
    PolicyCompiler c = new PolicyCompiler(index, dpid, round, inputs);
    c.legacyIsolation = legacyIsolation;
    return c.run();
  }

  static final String LEGACY_ANNOTATION = "net.beta.kubernetes.io/network-policy";
  private static final java.util.regex.Pattern LEGACY_DENY = java.util.regex.Pattern.compile(
      "\\{\\s*\"(?i:ingress)\"\\s*:\\s*\\{[^{}]*\"(?i:isolation)\"\\s*:\\s*\"DefaultDeny\"[^{}]*}");

  /** Whether a namespace carries the legacy DefaultDeny ingress annotation. */
  static boolean legacyDefaultDeny(Namespace ns) {
    String v = ns == null ? null : ns.annotations().get(LEGACY_ANNOTATION);
    return v != null && LEGACY_DENY.matcher(v).find();
  }

  private List<Flow> run() {
    List<NetworkPolicy> policies = new ArrayList<>();
    localByNamespace.keySet().forEach(ns -> policies.addAll(inputs.note(i -> i.policiesIn(ns), index.policiesIn(ns))));
    for (NetworkPolicy np : policies) {
      List<Pod> targets = localTargets(np);
      if (targets.isEmpty()) {
        continue;
      }
      PolicyIndex.Shape shape = index.shape(np);
      if (np.isolatesIngress()) {
        direction(np, Direction.INGRESS, np.ingress(), shape.ingress(), shape.ingressRules(), targets, ingressIsolated);
      }
      if (np.isolatesEgress()) {
        direction(np, Direction.EGRESS, np.egress(), shape.egress(), shape.egressRules(), targets, egressIsolated);
      }
    }
    if (legacyIsolation) {
      for (ObjectRef ref : local.keySet()) {
        String ns = ref.namespace();
        if (legacyDefaultDeny(inputs.note(i -> i.snapshot().namespaces().get(ns), snap.namespaces().get(ns)))) {
          ingressIsolated.add(ref);
        }
      }
    }
    Cookie isolation = Cookie.of(Cookie.Category.ISOLATION, round, 0);
    Cookie exemption = Cookie.of(Cookie.Category.EXEMPTION, round, 0);
    // an isolated pod's default drop: the new connection goes nowhere but, metered, to the audit log
    for (ObjectRef ref : egressIsolated) {
      for (Match m : sentBy(ref)) {
        put(PipelineProfile.EGRESS_RULE, ISOLATION_PRIORITY, m, PipelineProfile.AUDITED_DROP, isolation);
      }
    }
    for (ObjectRef ref : ingressIsolated) {
      for (String ip : localPods.get(ref).ips()) {
        put(PipelineProfile.INGRESS_RULE, ISOLATION_PRIORITY, index.hostMatch(index.cidr(ip), false),
            PipelineProfile.AUDITED_DROP, isolation);
      }
    }
    for (ObjectRef ref : local.keySet()) {
      if (egressIsolated.contains(ref) || ingressIsolated.contains(ref)) {
        for (String ip : localPods.get(ref).ips()) {
          Match.Builder m = family(index.cidr(ip).v6()).exact(Field.IN_PORT, local.get(ref).ofport());
          addAddress(m, index.cidr(ip), false);
          for (Match n : narrowed(ref, m.build())) {
            put(PipelineProfile.EGRESS_RULE, SELF_PRIORITY, n, List.of(new Action.GotoTable(PipelineProfile.CT_COMMIT)), exemption);
          }
        }
      }
    }
    // traffic between an isolated pod and its own node (status.hostIPs: kubelet probes, node-local agents) is not
    // governed: the pod may open connections to its node, and its node to it, whatever port the node uses
    Action commit = new Action.GotoTable(PipelineProfile.CT_COMMIT);
    for (ObjectRef ref : local.keySet()) {
      Pod p = localPods.get(ref);
      for (String hostIp : p.hostIps()) {
        Cidr node = index.cidr(hostIp);
        if (egressIsolated.contains(ref)) {
          Match.Builder m = family(node.v6()).exact(Field.IN_PORT, local.get(ref).ofport());
          addAddress(m, node, false);
          for (Match n : narrowed(ref, m.build())) {
            put(PipelineProfile.EGRESS_RULE, SELF_PRIORITY, n, List.of(commit), exemption);
          }
        }
        if (ingressIsolated.contains(ref)) {
          for (String ip : p.ips()) {
            Cidr pod = index.cidr(ip);
            if (pod.v6() == node.v6()) {
              Match.Builder m = family(node.v6());
              addAddress(m, node, true);
              addAddress(m, pod, false);
              put(PipelineProfile.INGRESS_RULE, SELF_PRIORITY, m.build(), List.of(commit), exemption);
            }
          }
        }
      }
    }
    admission(Cookie.of(Cookie.Category.ADMISSION, round, 0));
    // isolation, exemption and admission flows first: where a switch takes only part (a table limit),
    // default-deny gets in first
    List<Flow> out = new ArrayList<>(flows.size());
    List<Flow> rules = new ArrayList<>(flows.size());
    for (Map.Entry<FlowSlot, FlowBody> e : flows.entrySet()) {
      FlowSlot s = e.getKey();
      Flow f = new Flow(s.table, s.priority, s.match, e.getValue().actions, e.getValue().cookie);
      (f.cookie().isRuleAllow() ? rules : out).add(f);
    }
    out.addAll(rules);
    return out;
  }

  enum Direction { INGRESS, EGRESS }

  /**
   * What a local pod sends: its port, or, on a shared port ({@link #sharedPorts}), its port and each of its own
   * source addresses.
   */
  private List<Match> sentBy(ObjectRef ref) {
    long port = local.get(ref).ofport();
    if (!sharedPorts.contains(port)) {
      return List.of(Match.builder().exact(Field.IN_PORT, port).build());
    }
    List<Match> out = new ArrayList<>();
    for (String ip : localPods.get(ref).ips()) {
      Cidr c = index.cidr(ip);
      Match.Builder m = family(c.v6()).exact(Field.IN_PORT, port);
      addAddress(m, c, true);
      out.add(m.build());
    }
    return out;
  }

  /** A match from a local pod's port, narrowed to what the pod itself sends ({@link #sentBy}). */
  private List<Match> narrowed(ObjectRef ref, Match m) {
    List<Match> out = new ArrayList<>();
    for (Match s : sentBy(ref)) {
      Match n = io.sluice.renderer.flow.Matches.intersect(s, m);
      if (n != null) {
        out.add(n);
      }
    }
    return out;
  }

  private static final java.util.regex.Pattern MAC = java.util.regex.Pattern.compile("(?i)([0-9a-f]{2}:){5}[0-9a-f]{2}");

  private static long macValue(String mac) {
    return Long.parseLong(mac.replace(":", ""), 16);
  }

  /**
   * On a managed switch (OVSDB reported its non-pod ports), table 0 lets through only LOCAL, those ports and the
   * ports of pods Sluice knows with an address (or hostNetwork ones); everything else but ARP and neighbour
   * discovery is dropped. A pod port that appears on the bridge is therefore closed until the bundle that admits it
   * also brings its policy flows: fail closed, whatever the order in which OVSDB and the cluster report the pod.
   */
  private void admission(Cookie cookie) {
    io.sluice.model.SwitchPorts ports = inputs.note(i -> i.snapshot().switchPorts().get(dpid), snap.switchPorts().get(dpid));
    if (ports == null) {
      return; // not managed: every port is open, as on a plain learning switch
    }
    Action next = new Action.GotoTable(PipelineProfile.CT_ZONE);
    java.util.SortedSet<Long> open = new java.util.TreeSet<>(ports.openPorts());
    open.add(OFPP_LOCAL);
    // the MACs of the pods this switch admits: a closed port's MAC drop never touches them (OVSDB external_ids can
    // name anything, a MAC a real pod has included)
    Set<String> admittedMacs = new java.util.HashSet<>();
    for (PortBinding b : index.bindingsOn(dpid)) {
      Pod p = snap.pods().get(b.pod());
      if (p != null && (p.hostNetwork() || !p.ips().isEmpty()) && b.mac() != null) {
        admittedMacs.add(b.mac().toLowerCase(java.util.Locale.ROOT));
      }
    }
    for (PortBinding b : index.bindingsOn(dpid)) {
      Pod p = snap.pods().get(b.pod());
      if (b.attached()) {
        // a node's attachment: the node's own addresses and its pods share the port, which the Node names: open
        open.add(b.ofport());
        continue;
      }
      if (p == null) {
        // a pod the model does not know: its port stays closed by the catch-all below, and unicast to its MAC is
        // dropped, unless an admitted pod has that MAC
        closedMac(b, admittedMacs, cookie);
        continue;
      }
      if (p.hostNetwork()) {
        open.add(b.ofport());
      } else if (p != null && !p.ips().isEmpty()) {
        // a pod sends IP only from its own addresses: policy (and the own-node exemption) trust source addresses
        for (String ip : p.ips()) {
          Cidr c = index.cidr(ip);
          Match.Builder m = family(c.v6()).exact(Field.IN_PORT, b.ofport());
          addAddress(m, c, true);
          put(PipelineProfile.CLASSIFIER, ADMIT_PRIORITY, m.build(), List.of(next), cookie);
        }
        for (boolean v6 : List.of(false, true)) {
          put(PipelineProfile.CLASSIFIER, SPOOF_PRIORITY, family(v6).exact(Field.IN_PORT, b.ofport()).build(), List.of(), cookie);
        }
        put(PipelineProfile.CLASSIFIER, NON_IP_PRIORITY, Match.builder().exact(Field.IN_PORT, b.ofport()).build(),
            List.of(next), cookie);
      } else {
        closedMac(b, admittedMacs, cookie);
      }
    }
    for (long port : open) {
      put(PipelineProfile.CLASSIFIER, ADMIT_PRIORITY, Match.builder().exact(Field.IN_PORT, port).build(), List.of(next), cookie);
    }
    put(PipelineProfile.CLASSIFIER, CLOSED_PRIORITY, Match.ALL, List.of(), cookie);
  }

  /** Nothing may reach a closed pod port either: unicast to its MAC (attached-mac) is dropped before forwarding. */
  private void closedMac(PortBinding b, Set<String> admittedMacs, Cookie cookie) {
    if (b.mac() != null && MAC.matcher(b.mac()).matches()
        && !admittedMacs.contains(b.mac().toLowerCase(java.util.Locale.ROOT))) {
      put(PipelineProfile.L2_FORWARDING, ADMIT_PRIORITY,
          Match.builder().exact(Field.ETH_DST, macValue(b.mac())).build(), List.of(), cookie);
    }
  }

  /**
   * One direction of a policy on this switch: its targets become isolated and each rule is compiled. Policies are
   * additive, so a policy direction identical to one already compiled (same namespace, podSelector and rules) adds
   * nothing, and a rule identical to one already compiled for the same targets reuses that rule's conjunction (its
   * cookie names the first such rule, in policy order). Ten thousand copies of a policy cost one set of flows.
   */
  private void direction(NetworkPolicy np, Direction dir, List<NetworkPolicy.Rule> rules, int directionId, int[] ruleIds,
                         List<Pod> targets, Set<ObjectRef> isolated) {
    if (seenDirections.get(directionId)) {
      return;
    }
    seenDirections.set(directionId);
    if (!np.allowOnly()) { // a pre-v1 policy only allows; isolation comes from elsewhere (the namespace annotation)
      targets.forEach(p -> isolated.add(p.ref()));
    }
    for (int i = 0; i < rules.size(); i++) {
      if (!seenRules.get(ruleIds[i])) {
        seenRules.set(ruleIds[i]);
        rule(np, dir, i, rules.get(i), targets);
      }
    }
  }

  // ------------------------------------------------------------------ one rule

  private void rule(NetworkPolicy np, Direction dir, int ruleIndex, NetworkPolicy.Rule rule, List<Pod> targets) {
    String ns = np.ref().namespace();
    for (NetworkPolicy.Peer peer : rule.peers()) {
      if (peer instanceof NetworkPolicy.Peer.Pods pods) {
        inputs.note(i -> i.select(ns, pods), index.select(ns, pods));
      }
    }
    boolean anyPeer = rule.peers().isEmpty();
    List<Cidr> peerAddrs = anyPeer ? List.of() : peerAddresses(np, rule);
    List<NetworkPolicy.Port> numeric = new ArrayList<>();
    List<NetworkPolicy.Port> named = new ArrayList<>();
    for (NetworkPolicy.Port p : rule.ports()) {
      (p.port().orElse(null) instanceof PortRef.Named ? named : numeric).add(p);
    }
    boolean anyPort = rule.ports().isEmpty();
    int table = dir == Direction.EGRESS ? PipelineProfile.EGRESS_RULE : PipelineProfile.INGRESS_RULE;
    Action next = new Action.GotoTable(dir == Direction.EGRESS ? PipelineProfile.INGRESS_RULE : PipelineProfile.CT_COMMIT);
    java.util.function.LongFunction<List<Action>> allow = id -> !np.log() ? List.of(next) : List.of(
        new Action.Load(PipelineProfile.LOG_REG, 1, 1, 1),
        new Action.Load(dir == Direction.EGRESS ? PipelineProfile.EGRESS_RULE_REG : PipelineProfile.INGRESS_RULE_REG, 0, 32, id),
        next);

    if (anyPort || !numeric.isEmpty()) {
      long id = index.ids().id(np.ref(), dir, ruleIndex, 0);
      Cookie cookie = Cookie.of(Cookie.Category.POLICY, round, id);
      List<List<Match>> clauses = new ArrayList<>();
      Set<Boolean> families = anyPeer ? Set.of(false, true) : familiesOf(peerAddrs);
      clauses.add(targetClause(dir, targets, families));
      if (!anyPeer) {
        if (peerAddrs.isEmpty()) {
          return; // peers given but none exists: the rule allows nothing (yet)
        }
        clauses.add(peerClause(np, rule, peerAddrs, dir == Direction.INGRESS));
      }
      if (!anyPort) {
        List<Match> q = new ArrayList<>();
        for (boolean v6 : families) {
          for (NetworkPolicy.Port p : numeric) {
            q.addAll(index.portMatches(v6, p, PolicyCompiler::portMatches));
          }
        }
        clauses.add(q);
      }
      emit(table, clauses, allow.apply(id), id, cookie);
    }
    if (!named.isEmpty()) {
      long id = index.ids().id(np.ref(), dir, ruleIndex, 1);
      Cookie cookie = Cookie.of(Cookie.Category.POLICY, round, id);
      List<List<Match>> clauses = new ArrayList<>();
      if (dir == Direction.INGRESS) {
        // (local target address, its port for the name) pairs, and the peers
        clauses.add(namedPortPairs(targets, named, c -> true));
        if (!anyPeer) {
          if (peerAddrs.isEmpty()) {
            return;
          }
          clauses.add(peerClause(np, rule, peerAddrs, true));
        }
      } else {
        clauses.add(targetClause(dir, targets, Set.of(false, true)));
        List<Pod> destinations = anyPeer ? allPods() : podsWithin(np, rule, peerAddrs);
        // only the destination addresses the peers cover: an ipBlock of one family does not reach the pod's other one
        clauses.add(namedPortPairs(destinations, named, c -> anyPeer || peerAddrs.stream().anyMatch(p -> p.contains(c))));
      }
      emit(table, clauses, allow.apply(id), id, cookie);
    }
  }

  /** Writes a rule: plain flows when one dimension is left, else a conjunction and its conj_id flow. */
  private void emit(int table, List<List<Match>> clauses, List<Action> allow, long id, Cookie cookie) {
    if (clauses.isEmpty() || clauses.stream().anyMatch(List::isEmpty)) {
      // a dimension that matches nothing (no target of the peers' family, no pod with the named port): the rule
      // allows nothing. Dropping the empty clause instead would leave the others as an allow of everything they match.
      return;
    }
    if (clauses.size() == 1) {
      for (Match m : clauses.get(0)) {
        put(table, DIRECT_PRIORITY, m, allow, cookie);
      }
      return;
    }
    int n = clauses.size();
    for (int k = 0; k < n; k++) {
      for (Match m : clauses.get(k)) {
        addConjunction(table, m, new Action.Conjunction(id, k + 1, n), cookie);
      }
    }
    put(table, RULE_PRIORITY, Match.builder().exact(Field.CONJ_ID, id).build(), allow, cookie);
  }

  private List<Match> targetClause(Direction dir, List<Pod> targets, Set<Boolean> families) {
    List<Match> out = new ArrayList<>();
    for (Pod p : targets) {
      if (dir == Direction.EGRESS) {
        out.addAll(sentBy(p.ref()));
      } else {
        for (String ip : p.ips()) {
          Cidr c = index.cidr(ip);
          if (families.contains(c.v6())) {
            out.add(index.hostMatch(c, false));
          }
        }
      }
    }
    return out;
  }

  /** (pod address, protocol, port number of the name on that pod) for each pod that has the name, at the addresses taken. */
  private List<Match> namedPortPairs(List<Pod> pods, List<NetworkPolicy.Port> named, java.util.function.Predicate<Cidr> take) {
    List<Match> out = new ArrayList<>();
    for (Pod p : pods) {
      for (NetworkPolicy.Port port : named) {
        String name = ((PortRef.Named) port.port().orElseThrow()).name();
        for (Pod.NamedPort cp : p.ports()) {
          if (name.equals(cp.name()) && protocolOf(cp) == port.protocol()) {
            for (String ip : p.ips()) {
              Cidr c = index.cidr(ip);
              if (!take.test(c)) {
                continue;
              }
              Match.Builder m = family(c.v6()).exact(Field.IP_PROTO, ipProto(port.protocol()));
              addAddress(m, c, false);
              m.exact(dstField(port.protocol()), cp.port());
              out.add(m.build());
            }
          }
        }
      }
    }
    return out;
  }

  /** The container port's protocol as the API spells it (TCP when absent); anything else matches no rule. */
  private static Protocol protocolOf(Pod.NamedPort cp) {
    if (cp.protocol() == null || cp.protocol().isEmpty()) {
      return Protocol.TCP;
    }
    for (Protocol p : Protocol.values()) {
      if (p.name().equals(cp.protocol())) {
        return p;
      }
    }
    return null;
  }

  // ------------------------------------------------------------------ selection

  /** Pods on this switch that the policy selects. */
  private List<Pod> localTargets(NetworkPolicy np) {
    String ns = np.ref().namespace();
    return targetsBySelector.computeIfAbsent(List.of(ns, np.podSelector()), k -> {
      List<Pod> out = new ArrayList<>();
      for (Pod p : localByNamespace.getOrDefault(ns, List.of())) {
        if (np.podSelector().matches(p.labels())) {
          out.add(p);
        }
      }
      return out;
    });
  }

  private List<Pod> allPods() {
    return inputs.note(PolicyIndex::allPods, index.allPods());
  }

  private List<Pod> select(String policyNamespace, NetworkPolicy.Peer.Pods peer) {
    return index.select(policyNamespace, peer);
  }

  /**
   * Every address the rule's peers stand for, as disjoint-enough prefixes (identical ones once). Computed once per
   * generation for each distinct (namespace, peers) and shared by every switch's compile.
   */
  private List<Cidr> peerAddresses(NetworkPolicy np, NetworkPolicy.Rule rule) {
    return index.peerAddresses(np.ref().namespace(), rule.peers(), this::computePeerAddresses);
  }

  /** The peers' address clause (each address as a source or destination match), shared like {@link #peerAddresses}. */
  private List<Match> peerClause(NetworkPolicy np, NetworkPolicy.Rule rule, List<Cidr> addrs, boolean source) {
    return index.peerMatches(np.ref().namespace(), rule.peers(), source, addrs,
        () -> addrs.stream().map(c -> index.hostMatch(c, source)).toList());
  }

  private List<Cidr> computePeerAddresses(String namespace, List<NetworkPolicy.Peer> peers) {
    Set<Cidr> out = new LinkedHashSet<>();
    for (NetworkPolicy.Peer peer : peers) {
      if (peer instanceof NetworkPolicy.Peer.Pods pods) {
        for (Pod p : select(namespace, pods)) {
          p.ips().forEach(ip -> out.add(index.cidr(ip)));
        }
      } else if (peer instanceof NetworkPolicy.Peer.IpBlock block) {
        List<Cidr> holes = block.except().stream().map(Cidr::parse).toList();
        out.addAll(Cidr.parse(block.cidr()).subtract(holes));
      }
    }
    List<Cidr> sorted = new ArrayList<>(out);
    sorted.sort(Cidr.ORDER);
    return sorted;
  }

  /** Destination pods of an egress rule with named ports: selected pods, and pods whose address an ipBlock covers. */
  private List<Pod> podsWithin(NetworkPolicy np, NetworkPolicy.Rule rule, List<Cidr> peerAddrs) {
    Set<Pod> out = new LinkedHashSet<>();
    for (NetworkPolicy.Peer peer : rule.peers()) {
      if (peer instanceof NetworkPolicy.Peer.Pods pods) {
        out.addAll(select(np.ref().namespace(), pods));
      }
    }
    if (rule.peers().stream().anyMatch(p -> p instanceof NetworkPolicy.Peer.IpBlock)) {
      List<Cidr> blocks = new ArrayList<>();
      for (NetworkPolicy.Peer peer : rule.peers()) {
        if (peer instanceof NetworkPolicy.Peer.IpBlock block) {
          blocks.addAll(Cidr.parse(block.cidr()).subtract(block.except().stream().map(Cidr::parse).toList()));
        }
      }
      for (Pod p : allPods()) {
        for (String ip : p.ips()) {
          Cidr host = index.cidr(ip);
          if (blocks.stream().anyMatch(c -> c.contains(host))) {
            out.add(p);
          }
        }
      }
    }
    return new ArrayList<>(out);
  }

  // ------------------------------------------------------------------ matches

  private static Set<Boolean> familiesOf(List<Cidr> cidrs) {
    Set<Boolean> f = new LinkedHashSet<>();
    cidrs.forEach(c -> f.add(c.v6()));
    return f;
  }

  private static Match.Builder family(boolean v6) {
    return v6 ? Match.builder().ipv6() : Match.builder().ipv4();
  }

  static Match hostMatch(Cidr c, boolean source) {
    Match.Builder m = family(c.v6());
    addAddress(m, c, source);
    return m.build();
  }

  private static void addAddress(Match.Builder m, Cidr c, boolean source) {
    Field f = c.v6() ? (source ? Field.IPV6_SRC : Field.IPV6_DST) : (source ? Field.IPV4_SRC : Field.IPV4_DST);
    if (c.prefix() == 0) {
      return; // the whole family: the eth_type says it all
    }
    BigInteger mask = c.prefix() == c.bits() ? null : c.mask();
    m.put(new FieldValue(f, c.base(), mask));
  }

  static List<Match> portMatches(boolean v6, NetworkPolicy.Port p) {
    List<Match> out = new ArrayList<>();
    Field dst = dstField(p.protocol());
    if (p.port().isEmpty()) {
      out.add(family(v6).exact(Field.IP_PROTO, ipProto(p.protocol())).build());
      return out;
    }
    int from = ((PortRef.Numbered) p.port().get()).number();
    int to = p.endPort().orElse(from);
    for (PortRanges.Masked r : PortRanges.cover(from, to)) {
      Match.Builder m = family(v6).exact(Field.IP_PROTO, ipProto(p.protocol()));
      if (r.mask() == 0xffff) {
        m.exact(dst, r.value());
      } else {
        m.masked(dst, r.value(), r.mask());
      }
      out.add(m.build());
    }
    return out;
  }

  static int ipProto(Protocol p) {
    return switch (p) {
      case TCP -> 6;
      case UDP -> 17;
      case SCTP -> 132;
    };
  }

  private static Field dstField(Protocol p) {
    return switch (p) {
      case TCP -> Field.TCP_DST;
      case UDP -> Field.UDP_DST;
      case SCTP -> Field.SCTP_DST;
    };
  }

  // ------------------------------------------------------------------ flow accumulation

  private record FlowSlot(int table, int priority, Match match) { }

  private static final class FlowBody {
    List<Action> actions;
    final Cookie cookie;

    FlowBody(List<Action> actions, Cookie cookie) {
      this.actions = actions;
      this.cookie = cookie;
    }
  }

  /** A plain flow; the first writer of a slot wins (identical allows from several rules are one flow). */
  private void put(int table, int priority, Match m, List<Action> actions, Cookie cookie) {
    flows.putIfAbsent(new FlowSlot(table, priority, m), new FlowBody(actions, cookie));
  }

  /** A conjunction clause flow: identical matches of several rules carry one conjunction action each. */
  private void addConjunction(int table, Match m, Action.Conjunction c, Cookie cookie) {
    FlowBody body = flows.computeIfAbsent(new FlowSlot(table, RULE_PRIORITY, m), k -> new FlowBody(new ArrayList<>(), cookie));
    if (!body.actions.contains(c)) {
      List<Action> a = new ArrayList<>(body.actions);
      a.add(c);
      a.sort(Comparator.comparingLong(x -> ((Action.Conjunction) x).id()));
      body.actions = a;
    }
  }
}
