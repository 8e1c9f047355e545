package io.sluice.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A v1 Service after API-server defaulting (type ClusterIP, protocol TCP, targetPort = port, sessionAffinity None,
 * traffic policies Cluster). {@code clusterIPs} is as the manifest gives it: empty if not yet allocated,
 * {@code ["None"]} for a headless service. An empty selector means the endpoints are managed by hand (EndpointSlices
 * without a controller).
 *
 * @param externalIPs              {@code spec.externalIPs}: addresses nodes also accept the service's ports on
 * @param loadBalancerIngressIPs   {@code status.loadBalancer.ingress[].ip}, in order (entries with only a hostname
 *                                 are left out); only LoadBalancer services have them
 * @param externalTrafficPolicy    for NodePorts, external IPs and load-balancer IPs: Local keeps traffic on the
 *                                 node's own endpoints (and the client's source address); Cluster for every other
 *                                 service, where it means nothing
 * @param internalTrafficPolicy    for traffic from inside the cluster to the cluster IPs: Local sends only to
 *                                 endpoints on the client's node
 * @param ipFamilies               {@code spec.ipFamilies} as given (may be empty; see {@link #effectiveIpFamilies})
 * @param publishNotReadyAddresses endpoints count as ready whether or not their pods are
 * @param healthCheckNodePort      the node port a load balancer probes for Local services; 0 when none
 */
public record Service(ObjectRef ref, Type type, List<String> clusterIPs, List<Port> ports, Map<String, String> selector,
                      SessionAffinity sessionAffinity, int sessionAffinityTimeoutSeconds, List<String> externalIPs,
                      List<String> loadBalancerIngressIPs, TrafficPolicy externalTrafficPolicy,
                      TrafficPolicy internalTrafficPolicy, List<IpFamily> ipFamilies, boolean publishNotReadyAddresses,
                      int healthCheckNodePort) {
  public Service {
    Objects.requireNonNull(ref, "ref");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(sessionAffinity, "sessionAffinity");
    Objects.requireNonNull(externalTrafficPolicy, "externalTrafficPolicy");
    Objects.requireNonNull(internalTrafficPolicy, "internalTrafficPolicy");
    clusterIPs = List.copyOf(clusterIPs);
    ports = List.copyOf(ports);
    selector = Map.copyOf(selector);
    externalIPs = List.copyOf(externalIPs);
    loadBalancerIngressIPs = List.copyOf(loadBalancerIngressIPs);
    ipFamilies = List.copyOf(ipFamilies);
    if (sessionAffinityTimeoutSeconds < 0) {
      throw new IllegalArgumentException("sessionAffinityTimeoutSeconds must not be negative");
    }
    if (healthCheckNodePort < 0 || healthCheckNodePort > 65535) {
      throw new IllegalArgumentException("healthCheckNodePort " + healthCheckNodePort
          + " must be between 0 and 65535, inclusive");
    }
  }

  /**
   * A service without external IPs or load-balancer addresses, with both traffic policies Cluster, no IP families
   * given, not publishing unready addresses and without a health-check node port.
   */
  public Service(ObjectRef ref, Type type, List<String> clusterIPs, List<Port> ports, Map<String, String> selector,
                 SessionAffinity sessionAffinity, int sessionAffinityTimeoutSeconds) {
    this(ref, type, clusterIPs, ports, selector, sessionAffinity, sessionAffinityTimeoutSeconds, List.of(), List.of(),
        TrafficPolicy.CLUSTER, TrafficPolicy.CLUSTER, List.of(), false, 0);
  }

  public boolean headless() {
    return clusterIPs.size() == 1 && clusterIPs.get(0).equals("None");
  }

  /**
   * The families the service serves: {@code ipFamilies} if given; else the families of its cluster IPs, in order;
   * else IPv4 (what the API server gives a service on a single-stack IPv4 cluster).
   */
  public List<IpFamily> effectiveIpFamilies() {
    if (!ipFamilies.isEmpty()) {
      return ipFamilies;
    }
    List<IpFamily> out = new ArrayList<>(2);
    if (!headless()) {
      for (String ip : clusterIPs) {
        IpFamily f = IpFamily.of(ip);
        if (!out.contains(f)) {
          out.add(f);
        }
      }
    }
    return out.isEmpty() ? List.of(IpFamily.IPV4) : List.copyOf(out);
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

  /** {@code spec.externalTrafficPolicy} and {@code spec.internalTrafficPolicy}. */
  public enum TrafficPolicy {
    CLUSTER("Cluster"), LOCAL("Local");

    private final String kubernetesName;

    TrafficPolicy(String kubernetesName) {
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
