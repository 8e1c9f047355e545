package io.sluice.model;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A Kubernetes node: its name, labels and the addresses of its {@code InternalIP} entries in
 * {@code status.addresses} (IPv4 or IPv6 literals, in the order given). Services need them for NodePorts and for
 * traffic a node sends to a Service on behalf of itself.
 */
public record Node(String name, Map<String, String> labels, List<String> internalIPs) {
  public Node {
    Objects.requireNonNull(name, "name");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("name must not be empty");
    }
    labels = Map.copyOf(labels);
    internalIPs = List.copyOf(internalIPs);
  }
}
