package io.sluice.model;

import java.util.List;
import java.util.Map;

/** A pod as policy and services see it: labels, addresses, named container ports, host networking. */
public record Pod(ObjectRef ref, Map<String, String> labels, List<String> ips, List<NamedPort> ports, boolean hostNetwork) {
  public Pod {
    labels = Map.copyOf(labels);
    ips = List.copyOf(ips);
    ports = List.copyOf(ports);
  }

  /** A container port with a name. */
  public record NamedPort(String name, int port, String protocol) { }
}
