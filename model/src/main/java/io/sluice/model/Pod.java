package io.sluice.model;

import java.util.List;
import java.util.Map;

/**
 * A pod as policy and services see it: labels, addresses, named container ports, host networking, and the addresses
 * of the node it runs on ({@code status.hostIPs}: traffic between a pod and its own node is never governed by
 * NetworkPolicy).
 */
public record Pod(ObjectRef ref, Map<String, String> labels, List<String> ips, List<NamedPort> ports, boolean hostNetwork,
                  List<String> hostIps) {
  public Pod {
    labels = Map.copyOf(labels);
    ips = List.copyOf(ips);
    ports = List.copyOf(ports);
    hostIps = List.copyOf(hostIps);
  }

  /** A pod whose node's addresses are not known. */
  public Pod(ObjectRef ref, Map<String, String> labels, List<String> ips, List<NamedPort> ports, boolean hostNetwork) {
    this(ref, labels, ips, ports, hostNetwork, List.of());
  }

  /** The same pod with other labels. */
  public Pod withLabels(Map<String, String> newLabels) {
    return new Pod(ref, newLabels, ips, ports, hostNetwork, hostIps);
  }

  /** A container port with a name. */
  public record NamedPort(String name, int port, String protocol) { }
}
