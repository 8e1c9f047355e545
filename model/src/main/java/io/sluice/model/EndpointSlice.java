package io.sluice.model;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A discovery.k8s.io/v1 EndpointSlice: the backends of the service named by its {@code kubernetes.io/service-name}
 * label ({@code serviceName}, empty if the label is absent).
 */
public record EndpointSlice(ObjectRef ref, String serviceName, AddressType addressType, List<Endpoint> endpoints,
                            List<Port> ports) {
  public EndpointSlice {
    Objects.requireNonNull(ref, "ref");
    Objects.requireNonNull(serviceName, "serviceName");
    Objects.requireNonNull(addressType, "addressType");
    endpoints = List.copyOf(endpoints);
    ports = List.copyOf(ports);
  }

  public enum AddressType {
    IPV4("IPv4"), IPV6("IPv6"), FQDN("FQDN");

    private final String kubernetesName;

    AddressType(String kubernetesName) {
      this.kubernetesName = kubernetesName;
    }

    public String kubernetesName() {
      return kubernetesName;
    }
  }

  /**
   * One backend. An absent {@code ready} condition is read as ready, as Kubernetes asks consumers to; serving
   * defaults to ready, terminating to false. targetPod is set when targetRef names a Pod.
   */
  public record Endpoint(List<String> addresses, boolean ready, boolean serving, boolean terminating,
                         Optional<ObjectRef> targetPod, String nodeName) {
    public Endpoint {
      addresses = List.copyOf(addresses);
      if (addresses.isEmpty()) {
        throw new IllegalArgumentException("an endpoint needs at least one address");
      }
      Objects.requireNonNull(targetPod, "targetPod");
      Objects.requireNonNull(nodeName, "nodeName");
    }
  }

  /** A port of every endpoint in the slice; an absent port number means all ports. */
  public record Port(String name, Protocol protocol, OptionalInt port) {
    public Port {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(protocol, "protocol");
      Objects.requireNonNull(port, "port");
      if (port.isPresent() && (port.getAsInt() < 1 || port.getAsInt() > 65535)) {
        throw new IllegalArgumentException("port " + port.getAsInt() + " must be between 1 and 65535, inclusive");
      }
    }
  }
}
