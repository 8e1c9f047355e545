package io.sluice.controller.audit;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * One audit log entry: a new connection (or the same connection attempt repeated within a second, {@code count}
 * times) that a switch denied or that a logged rule allowed.
 *
 * @param time      when the first of the merged packets reached Sluice (ISO-8601, UTC)
 * @param direction {@code ingress} or {@code egress}: the side of the policy that decided
 * @param verdict   {@code deny} or {@code allow}
 * @param policy    {@code namespace/name} of the allowing policy, or {@code isolation} for a default deny
 * @param rule      the allowing rule's index in its direction, or null for a deny
 * @param length    the first packet's length on the wire, bytes
 * @param count     packets merged into this entry (repeats within 1 s: retransmitted SYNs, other source ports)
 */
@JsonPropertyOrder({"time", "switch", "direction", "verdict", "policy", "rule", "protocol", "source", "destination",
    "length", "count"})
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AuditEvent(String time, String switchName, String direction, String verdict, String policy, Integer rule,
                         String protocol, Peer source, Peer destination, int length, long count) {
  /** One end: the pod that has the address (namespace and name), or only the address; the port when there is one. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonPropertyOrder({"namespace", "pod", "ip", "port"})
  public record Peer(String namespace, String pod, String ip, Integer port) { }

  @com.fasterxml.jackson.annotation.JsonProperty("switch")
  @Override
  public String switchName() {
    return switchName;
  }

  AuditEvent withCount(long n) {
    return new AuditEvent(time, switchName, direction, verdict, policy, rule, protocol, source, destination, length, n);
  }

  /** Whether the entry concerns this namespace, pod ({@code ns/name}) and policy (each null: any). */
  public boolean matches(String namespace, String pod, String policyName) {
    if (namespace != null && !namespace.equals(source.namespace()) && !namespace.equals(destination.namespace())) {
      return false;
    }
    if (pod != null && !pod.equals(ref(source)) && !pod.equals(ref(destination))) {
      return false;
    }
    return policyName == null || policyName.equals(policy);
  }

  private static String ref(Peer p) {
    return p.namespace() == null ? null : p.namespace() + "/" + p.pod();
  }
}
