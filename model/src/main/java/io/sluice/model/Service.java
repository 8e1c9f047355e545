package io.sluice.model;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A v1 Service after API-server defaulting (type ClusterIP, protocol TCP, targetPort = port, sessionAffinity None).
 * {@code clusterIPs} is as the manifest gives it: empty if not yet allocated, {@code ["None"]} for a headless service.
 * An empty selector means the endpoints are managed by hand (EndpointSlices without a controller).
 */
public record Service(ObjectRef ref, Type type, List<String> clusterIPs, List<Port> ports, Map<String, String> selector,
                      SessionAffinity sessionAffinity, int sessionAffinityTimeoutSeconds) {
  public Service {
    Objects.requireNonNull(ref, "ref");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(sessionAffinity, "sessionAffinity");
    clusterIPs = List.copyOf(clusterIPs);
    ports = List.copyOf(ports);
    selector = Map.copyOf(selector);
    if (sessionAffinityTimeoutSeconds < 0) {
      throw new IllegalArgumentException("sessionAffinityTimeoutSeconds must not be negative");
    }
  }

  public boolean headless() {
    return clusterIPs.size() == 1 && clusterIPs.get(0).equals("None");
  }

  public enum Type {
    CLUSTER_IP("ClusterIP"), NODE_PORT("NodePort"), LOAD_BALANCER("LoadBalancer"), EXTERNAL_NAME("ExternalName");

    private final String kubernetesName;

    Type(String kubernetesName) {
      this.kubernetesName = kubernetesName;
    }

    public String kubernetesName() {
      return kubernetesName;
    }
  }

  public enum SessionAffinity {
    NONE("None"), CLIENT_IP("ClientIP");

    private final String kubernetesName;

    SessionAffinity(String kubernetesName) {
      this.kubernetesName = kubernetesName;
    }

    public String kubernetesName() {
      return kubernetesName;
    }
  }

  /** A service port; name may be empty when the service has one port; nodePort is 0 when none. */
  public record Port(String name, Protocol protocol, int port, PortRef targetPort, int nodePort) {
    public Port {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(protocol, "protocol");
      Objects.requireNonNull(targetPort, "targetPort");
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("port " + port + " must be between 1 and 65535, inclusive");
      }
      if (nodePort < 0 || nodePort > 65535) {
        throw new IllegalArgumentException("nodePort " + nodePort + " must be between 0 and 65535, inclusive");
      }
    }
  }
}
