package io.sluice.model;

import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A networking.k8s.io/v1 NetworkPolicy after API-server defaulting: {@code policyTypes} is never empty, every port
 * has a protocol. The policy selects pods in its own namespace with {@code podSelector}; for each policy type the
 * selected pods are isolated and the rules list what is allowed.
 *
 * <p>{@code allowOnly}: the pre-v1 meaning (an {@code extensions/v1beta1} policy of Kubernetes 1.3–1.6, read only
 * with {@code --legacy-isolation}): the policy isolates nothing by itself, its rules only allow traffic to pods that
 * something else isolates (their namespace's DefaultDeny annotation, or a v1 policy). So in a namespace without the
 * annotation it has no effect, as that API's documentation states.
 *
 * <p>{@code log}: the annotation {@value #LOG_ANNOTATION} is {@code "true"}: new connections its rules allow are
 * written to the audit log (denied ones always are).
 */
public record NetworkPolicy(ObjectRef ref, LabelSelector podSelector, Set<PolicyType> policyTypes, List<Rule> ingress,
                            List<Rule> egress, boolean allowOnly, boolean log) {
  /** The annotation that asks for the connections a policy allows to be logged. */
  public static final String LOG_ANNOTATION = "sluice.io/log";

  /** A v1 policy: it isolates the pods it selects. */
  public NetworkPolicy(ObjectRef ref, LabelSelector podSelector, Set<PolicyType> policyTypes, List<Rule> ingress,
                       List<Rule> egress) {
    this(ref, podSelector, policyTypes, ingress, egress, false, false);
  }

  public NetworkPolicy(ObjectRef ref, LabelSelector podSelector, Set<PolicyType> policyTypes, List<Rule> ingress,
                       List<Rule> egress, boolean allowOnly) {
    this(ref, podSelector, policyTypes, ingress, egress, allowOnly, false);
  }

  /** The same policy with its allowed connections logged, or not. */
  public NetworkPolicy withLog(boolean log) {
    return new NetworkPolicy(ref, podSelector, policyTypes, ingress, egress, allowOnly, log);
  }

  public NetworkPolicy {
    Objects.requireNonNull(ref, "ref");
    Objects.requireNonNull(podSelector, "podSelector");
    if (policyTypes.isEmpty()) {
      throw new IllegalArgumentException(ref + ": policyTypes must not be empty (default it to Ingress)");
    }
    policyTypes = Set.copyOf(EnumSet.copyOf(policyTypes));
    ingress = List.copyOf(ingress);
    egress = List.copyOf(egress);
  }

  /** The same policy with the pre-v1 meaning: it only allows (see the class comment). */
  public NetworkPolicy asAllowOnly() {
    return new NetworkPolicy(ref, podSelector, policyTypes, ingress, egress, true, log);
  }

  public boolean isolatesIngress() {
    return policyTypes.contains(PolicyType.INGRESS);
  }

  public boolean isolatesEgress() {
    return policyTypes.contains(PolicyType.EGRESS);
  }

  public enum PolicyType {
    INGRESS("Ingress"), EGRESS("Egress");

    private final String kubernetesName;

    PolicyType(String kubernetesName) {
      this.kubernetesName = kubernetesName;
    }

    public String kubernetesName() {
      return kubernetesName;
    }
  }

  /**
   * One ingress or egress rule: traffic matching any peer and any port is allowed. No peers means every peer; no
   * ports means every port.
   */
  public record Rule(List<Peer> peers, List<Port> ports) {
    public static final Rule ALLOW_ALL = new Rule(List.of(), List.of());

    public Rule {
      peers = List.copyOf(peers);
      ports = List.copyOf(ports);
    }
  }

  /** The other end of a connection: pods chosen by selectors, or an address block. */
  public sealed interface Peer {
    /**
     * Pods matching {@code podSelector} in the namespaces matching {@code namespaceSelector}; an absent namespace
     * selector means the policy's own namespace, {@link LabelSelector#EVERYTHING} means all namespaces.
     */
    record Pods(Optional<LabelSelector> namespaceSelector, LabelSelector podSelector) implements Peer {
      public Pods {
        Objects.requireNonNull(namespaceSelector, "namespaceSelector");
        Objects.requireNonNull(podSelector, "podSelector");
      }
    }

    /** Addresses in {@code cidr} but in none of {@code except} (each a strict subset of cidr). */
    record IpBlock(String cidr, List<String> except) implements Peer {
      public IpBlock {
        Objects.requireNonNull(cidr, "cidr");
        if (cidr.isEmpty()) {
          throw new IllegalArgumentException("ipBlock cidr must not be empty");
        }
        except = List.copyOf(except);
      }
    }
  }

  /** A port or port range; an absent port means every port of the protocol. endPort needs a numeric port. */
  public record Port(Protocol protocol, Optional<PortRef> port, OptionalInt endPort) {
    public Port {
      Objects.requireNonNull(protocol, "protocol");
      Objects.requireNonNull(port, "port");
      Objects.requireNonNull(endPort, "endPort");
      if (endPort.isPresent()) {
        if (!(port.orElse(null) instanceof PortRef.Numbered n)) {
          throw new IllegalArgumentException("endPort may only be given with a numeric port");
        }
        if (endPort.getAsInt() < n.number() || endPort.getAsInt() > 65535) {
          throw new IllegalArgumentException("endPort " + endPort.getAsInt() + " must be between port "
              + n.number() + " and 65535");
        }
      }
    }

    public static Port of(Protocol protocol, int port) {
      return new Port(protocol, Optional.of(PortRef.of(port)), OptionalInt.empty());
    }
  }
}
