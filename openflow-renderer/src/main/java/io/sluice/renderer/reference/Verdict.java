package io.sluice.renderer.reference;

import io.sluice.model.NetworkPolicy.PolicyType;
import io.sluice.model.ObjectRef;
import io.sluice.model.Protocol;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Whether a new connection {@code from → to} on {@code protocol}/{@code port} is allowed, and why: the source's egress
 * side and the destination's ingress side must both allow it.
 */
public record Verdict(Party from, Party to, Protocol protocol, int port, Side egress, Side ingress) {
  public Verdict {
    Objects.requireNonNull(from, "from");
    Objects.requireNonNull(to, "to");
    Objects.requireNonNull(protocol, "protocol");
    Objects.requireNonNull(egress, "egress");
    Objects.requireNonNull(ingress, "ingress");
    if (egress.direction() != PolicyType.EGRESS || ingress.direction() != PolicyType.INGRESS) {
      throw new IllegalArgumentException("egress and ingress sides are swapped");
    }
  }

  public boolean allowed() {
    return egress.allows() && ingress.allows();
  }

  /** Two lines: the egress side of the source, then the ingress side of the destination. */
  public List<String> explanation() {
    return List.of(
        "egress of " + from + ": " + egress.describe("to " + to, protocol, port),
        "ingress of " + to + ": " + ingress.describe("from " + from, protocol, port));
  }

  /** {@code ALLOWED} or {@code DENIED}, then the explanation, one item per line. */
  @Override
  public String toString() {
    return (allowed() ? "ALLOWED" : "DENIED") + "\n" + String.join("\n", explanation());
  }

  /**
   * An endpoint as evaluated: the pod (absent for an address outside the cluster or a node's address) and the one
   * address the connection uses.
   */
  public record Party(Optional<ObjectRef> pod, String address, boolean hostNetwork) {
    public Party {
      Objects.requireNonNull(pod, "pod");
      Objects.requireNonNull(address, "address");
    }

    @Override
    public String toString() {
      return pod.map(ObjectRef::toString).orElse(address);
    }
  }

  /** Why a side is or is not subject to policy. */
  public enum Isolation {
    /** The endpoint is an address, not a pod (outside the cluster or a node): no policy governs it. */
    NOT_A_POD,
    /** Source and destination are the same pod: a pod may always reach itself. */
    SAME_POD,
    /** A hostNetwork pod: never isolated, in either direction. */
    HOST_NETWORK,
    /** The other end is the node this pod runs on (its status.hostIPs): kubelet probes and the like are not governed. */
    OWN_NODE,
    /** A pod that no policy (and no legacy annotation) isolates in this direction. */
    NOT_ISOLATED,
    /** A pod isolated in this direction: only what some rule allows may pass. */
    ISOLATED
  }

  /** A rule of a policy: its index within the policy's ingress or egress list. */
  public record RuleRef(ObjectRef policy, PolicyType direction, int index) {
    public RuleRef {
      Objects.requireNonNull(policy, "policy");
      Objects.requireNonNull(direction, "direction");
    }

    @Override
    public String toString() {
      return policy + " " + direction.kubernetesName().toLowerCase(Locale.ROOT) + " rule " + index;
    }
  }

  /**
   * One direction of one endpoint. {@code isolatingPolicies} are the policies that select the pod and have this
   * direction in their policyTypes (sorted); {@code byNamespaceAnnotation} says the legacy namespace annotation
   * isolates it too; {@code allowedBy} lists every rule of those policies that allows the connection.
   */
  public record Side(PolicyType direction, Isolation isolation, List<ObjectRef> isolatingPolicies,
                     boolean byNamespaceAnnotation, List<RuleRef> allowedBy) {
    public Side {
      Objects.requireNonNull(direction, "direction");
      Objects.requireNonNull(isolation, "isolation");
      isolatingPolicies = List.copyOf(isolatingPolicies);
      allowedBy = List.copyOf(allowedBy);
      boolean isolated = isolation == Isolation.ISOLATED;
      if (isolated != (byNamespaceAnnotation || !isolatingPolicies.isEmpty())) {
        throw new IllegalArgumentException("a side is isolated exactly when a policy or the annotation isolates it");
      }
      if (!isolated && !allowedBy.isEmpty()) {
        throw new IllegalArgumentException("only an isolated side lists allowing rules");
      }
    }

    static Side unisolated(PolicyType direction, Isolation why) {
      return new Side(direction, why, List.of(), false, List.of());
    }

    public boolean isolated() {
      return isolation == Isolation.ISOLATED;
    }

    /** Not isolated, or isolated and some rule allows the connection. */
    public boolean allows() {
      return !isolated() || !allowedBy.isEmpty();
    }

    /** E.g. {@code isolated by backend/db-allow (rule 0 allows from frontend/web-1 on TCP 5432)}. */
    String describe(String peer, Protocol protocol, int port) {
      String type = direction.kubernetesName();
      return switch (isolation) {
        case NOT_A_POD -> "not isolated (an address, not a pod: policies govern pods only)";
        case SAME_POD -> "not isolated (a pod may always reach itself)";
        case HOST_NETWORK -> "not isolated (hostNetwork pods are never isolated)";
        case OWN_NODE -> "not isolated (traffic between a pod and its own node is never governed)";
        case NOT_ISOLATED -> "not isolated (no policy with " + type + " selects it)";
        case ISOLATED -> "isolated by " + isolators() + " (" + allowance(peer, protocol, port) + ")";
      };
    }

    private String isolators() {
      List<String> names = new ArrayList<>();
      isolatingPolicies.forEach(p -> names.add(p.toString()));
      if (byNamespaceAnnotation) {
        names.add("namespace annotation " + LegacyIsolation.ANNOTATION + " (" + LegacyIsolation.DEFAULT_DENY + ")");
      }
      return String.join(", ", names);
    }

    private String allowance(String peer, Protocol protocol, int port) {
      String what = peer + " on " + protocol + " " + port;
      if (allowedBy.isEmpty()) {
        return "no rule allows " + what;
      }
      boolean onePolicy = isolatingPolicies.size() == 1 && !byNamespaceAnnotation;
      List<String> rules = new ArrayList<>();
      for (RuleRef r : allowedBy) {
        rules.add((onePolicy ? "" : r.policy() + " ") + "rule " + r.index());
      }
      return String.join(" and ", rules) + (rules.size() == 1 ? " allows " : " allow ") + what;
    }
  }
}
