package io.sluice.controller.runtime;

import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.Protocol;
import io.sluice.model.Snapshot;
import io.sluice.renderer.policy.PolicyCompiler;
import io.sluice.renderer.reference.Endpoint;
import io.sluice.renderer.reference.EndpointException;
import io.sluice.renderer.reference.ReferenceEvaluator;
import io.sluice.renderer.reference.Verdict;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The connectivity matrix of one namespace for {@code /api/v1/matrix}: every pod of the namespace as a source (row)
 * against every pod of it as a destination (column), judged by {@link ReferenceEvaluator}, with the rule counters
 * Sluice read from the switches as evidence. No policy logic of its own: verdicts and allowing rules are the
 * evaluator's, rule ids are the renderer's {@link PolicyCompiler.RuleRef}s.
 *
 * <p>Ports: with {@code port=N[/PROTO]} every cell is judged on that port. Without it, each cell is judged on every
 * named container port its destination declares (protocol as declared, TCP if none; the model keeps only named
 * container ports, the ones policies can refer to), or on {@link #DEFAULT_PORT} TCP when it declares none; a cell is
 * {@code allowed} when every port is, {@code denied} when none is, else {@code partial}.
 *
 * <p>Evidence: a cell has evidence when a rule that allows it (egress or ingress) has counted packets on some switch.
 * A rule's counter counts all its traffic, not only this pair's, so evidence says "the rule that lets this through has
 * been used", not "these two pods talked". A rule whose flows are shared with an identical rule of another policy is
 * counted there (see {@code flowsSharedWith} in /api/v1/policies) and shows no evidence of its own. Denied cells carry
 * no per-cell evidence: every isolated pod's default-deny drop shares one cookie, so only the total of
 * {@code isolationDrops} is known.
 */
final class MatrixView {
  /** The port a cell is judged on when neither the query nor the destination pod names one. */
  static final int DEFAULT_PORT = 80;
  /**
   * The most pods a matrix has (the first in name order; {@code truncated} says when there were more): the page polls
   * it every 2 s and every cell is an evaluation that reads the namespace's policies.
   */
  static final int MAX_PODS = 100;

  private MatrixView() { }

  /**
   * The matrix of {@code namespace}.
   *
   * @param rules every policy rule id of {@code snap} (both parts of each rule)
   * @param counters per-rule packet and byte counters keyed by {@link SluiceRuntime#ruleCookie}, and isolation drops by
   *     their cookie; null when no switch has been read yet
   * @throws IllegalArgumentException for a missing or unknown namespace or a bad port (the message names the parameter)
   */
  static Map<String, Object> of(Snapshot snap, boolean legacyIsolation, List<PolicyCompiler.RuleRef> rules,
                                Map<Long, long[]> counters, String namespace, String port) {
    if (namespace == null || namespace.isBlank()) {
      throw new IllegalArgumentException("namespace: required (namespace=NS; /api/v1/namespaces lists them)");
    }
    if (!namespaces(snap).contains(namespace)) {
      throw new IllegalArgumentException("namespace: no namespace " + namespace + " (neither a Namespace nor a pod's "
          + "namespace; /api/v1/namespaces lists them)");
    }
    List<Probe> asked = null;
    if (port != null) {
      if (port.isBlank()) {
        throw new IllegalArgumentException("port: empty; give N[/PROTO], e.g. 8080/TCP, or leave it out");
      }
      asked = List.of(new Probe(TraceContext.protocol(port), TraceContext.portNumber(port)));
    }
    List<Pod> all = snap.pods().values().stream()
        .filter(p -> p.ref().namespace().equals(namespace))
        .sorted(java.util.Comparator.comparing(Pod::ref))
        .toList();
    List<Pod> pods = all.size() > MAX_PODS ? all.subList(0, MAX_PODS) : all;
    Map<String, long[]> packets = packetsPerRule(rules, counters);
    ReferenceEvaluator oracle = new ReferenceEvaluator(legacyIsolation);
    List<Object> rows = new ArrayList<>();
    for (Pod from : pods) {
      List<Object> cells = new ArrayList<>();
      for (Pod to : pods) {
        cells.add(cell(snap, oracle, packets, counters != null, from, to, asked != null ? asked : declared(to)));
      }
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("from", from.ref().name());
      row.put("cells", cells);
      rows.add(row);
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("generation", snap.generation());
    body.put("namespace", namespace);
    body.put("port", asked == null ? "declared" : asked.get(0).toString());
    body.put("countersRead", counters != null);
    body.put("isolationDrops", counters == null ? null : isolationDrops(counters));
    body.put("pods", pods.stream().map(p -> p.ref().name()).toList());
    body.put("truncated", all.size() > pods.size() ? all.size() : null);
    body.put("rows", rows);
    return body;
  }

  /** The namespaces the snapshot knows: those with a manifest and those its pods are in, sorted. */
  static List<String> namespaces(Snapshot snap) {
    TreeSet<String> out = new TreeSet<>(snap.namespaces().keySet());
    snap.pods().keySet().forEach(r -> out.add(r.namespace()));
    return List.copyOf(out);
  }

  /** A protocol and port a cell is judged on. */
  private record Probe(Protocol protocol, int port) {
    @Override
    public String toString() {
      return port + "/" + protocol.name();
    }
  }

  /** The destination's named container ports (deduplicated), or the default when it declares none. */
  private static List<Probe> declared(Pod to) {
    java.util.Set<Probe> out = new java.util.LinkedHashSet<>();
    for (Pod.NamedPort p : to.ports()) {
      Protocol protocol = protocolOf(p.protocol());
      if (protocol != null && p.port() >= 1 && p.port() <= 65535) {
        out.add(new Probe(protocol, p.port()));
      }
    }
    return out.isEmpty() ? List.of(new Probe(Protocol.TCP, DEFAULT_PORT)) : List.copyOf(out);
  }

  /** A container port's protocol (absent: TCP, as the API server defaults it); null for one Sluice does not know. */
  private static Protocol protocolOf(String text) {
    if (text == null || text.isEmpty()) {
      return Protocol.TCP;
    }
    for (Protocol p : Protocol.values()) {
      if (p.name().equals(text.toUpperCase(Locale.ROOT))) {
        return p;
      }
    }
    return null;
  }

  private static Map<String, Object> cell(Snapshot snap, ReferenceEvaluator oracle, Map<String, long[]> packets,
                                          boolean countersRead, Pod from, Pod to, List<Probe> probes) {
    Map<String, Object> cell = new LinkedHashMap<>();
    cell.put("to", to.ref().name());
    List<Object> results = new ArrayList<>();
    int allowed = 0;
    boolean evidence = false;
    String error = null;
    for (Probe probe : probes) {
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("port", probe.toString());
      Verdict v;
      try {
        v = oracle.evaluate(snap, Endpoint.pod(from.ref()), Endpoint.pod(to.ref()), probe.protocol(), probe.port());
      } catch (EndpointException e) {
        error = (e.source() ? "from " : "to ") + e.endpoint() + ": " + e.reason();
        break;
      }
      r.put("allowed", v.allowed());
      List<String> by = new ArrayList<>();
      long counted = 0;
      boolean governed = false;
      for (Verdict.RuleRef rule : allowing(v)) {
        by.add(rule.toString());
        long[] c = packets.get(key(rule.policy(), rule.direction().kubernetesName(), rule.index()));
        if (c != null) {
          counted += c[0];
        }
        governed = true;
      }
      r.put("allowedBy", by);
      // packets through the allowing rules: null when no rule is involved (not isolated) or nothing was read yet
      r.put("packets", v.allowed() && governed && countersRead ? counted : null);
      r.put("explanation", v.explanation());
      if (v.allowed()) {
        allowed++;
      }
      evidence |= v.allowed() && counted > 0;
      results.add(r);
    }
    if (error != null) {
      cell.put("verdict", "unknown");
      cell.put("error", error);
    } else {
      cell.put("verdict", allowed == probes.size() ? "allowed" : allowed == 0 ? "denied" : "partial");
    }
    cell.put("evidence", evidence);
    cell.put("ports", results);
    return cell;
  }

  /** The rules that let the connection through: the isolated sides' allowing rules (none for a side not isolated). */
  private static List<Verdict.RuleRef> allowing(Verdict v) {
    List<Verdict.RuleRef> out = new ArrayList<>();
    if (v.egress().isolated()) {
      out.addAll(v.egress().allowedBy());
    }
    if (v.ingress().isolated()) {
      out.addAll(v.ingress().allowedBy());
    }
    return out;
  }

  /** Packets and bytes per rule (policy, direction, index), summed over the rule's ids (its parts). */
  private static Map<String, long[]> packetsPerRule(List<PolicyCompiler.RuleRef> rules, Map<Long, long[]> counters) {
    Map<String, long[]> out = new TreeMap<>();
    if (counters == null) {
      return out;
    }
    for (PolicyCompiler.RuleRef r : rules) {
      long[] c = counters.get(SluiceRuntime.ruleCookie(r.id()));
      if (c != null) {
        long[] t = out.computeIfAbsent(key(r.policy(), r.direction(), r.rule()), k -> new long[2]);
        t[0] += c[0];
        t[1] += c[1];
      }
    }
    return out;
  }

  private static long isolationDrops(Map<Long, long[]> counters) {
    long dropped = 0;
    for (Map.Entry<Long, long[]> e : counters.entrySet()) {
      if (new io.sluice.renderer.flow.Cookie(e.getKey()).isIsolationDrop()) {
        dropped += e.getValue()[0];
      }
    }
    return dropped;
  }

  /** {@code Ingress}/{@code Egress} as both PolicyCompiler and the API spell the direction. */
  private static String key(ObjectRef policy, String direction, int index) {
    return policy + " " + direction + " " + index;
  }
}
