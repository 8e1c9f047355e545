package io.sluice.model;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A pod as policy and services see it: labels, addresses, named container ports, host networking, the addresses
 * of the node it runs on ({@code status.hostIPs}: traffic between a pod and its own node is never governed by
 * NetworkPolicy), and what Services need to know of its life.
 *
 * @param nodeName    {@code spec.nodeName}, empty when the pod is not scheduled (or the manifest does not say)
 * @param ready       the pod's {@code Ready} condition is {@code True} (see the sources for pods without conditions)
 * @param terminating {@code metadata.deletionTimestamp} is set: the pod is shutting down
 * @param terminal    {@code status.phase} is {@code Succeeded} or {@code Failed}: its containers have ended for good,
 *                    so its addresses belong to nobody (Services never send to a terminal pod)
 */
public record Pod(ObjectRef ref, Map<String, String> labels, List<String> ips, List<NamedPort> ports, boolean hostNetwork,
                  List<String> hostIps, String nodeName, boolean ready, boolean terminating, boolean terminal) {
  public Pod {
    labels = Map.copyOf(labels);
    ips = List.copyOf(ips);
    ports = List.copyOf(ports);
    hostIps = List.copyOf(hostIps);
    Objects.requireNonNull(nodeName, "nodeName");
  }

  /** A running, ready pod not bound to a known node (nodeName ""). */
  public Pod(ObjectRef ref, Map<String, String> labels, List<String> ips, List<NamedPort> ports, boolean hostNetwork,
             List<String> hostIps) {
    this(ref, labels, ips, ports, hostNetwork, hostIps, "", true, false, false);
  }

  /** A running, ready pod whose node's name and addresses are not known. */
  public Pod(ObjectRef ref, Map<String, String> labels, List<String> ips, List<NamedPort> ports, boolean hostNetwork) {
    this(ref, labels, ips, ports, hostNetwork, List.of());
  }

  /** The same pod with other labels. */
  public Pod withLabels(Map<String, String> newLabels) {
    return new Pod(ref, newLabels, ips, ports, hostNetwork, hostIps, nodeName, ready, terminating, terminal);
  }

  /** A container port with a name. */
  public record NamedPort(String name, int port, String protocol) { }
}
