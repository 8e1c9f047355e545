package io.sluice.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServiceTest {
  private final ObjectRef ref = new ObjectRef("shop", "web");
  private final List<Service.Port> http = List.of(new Service.Port("http", Protocol.TCP, 80, PortRef.of(8080), 0));

  private Service withFamilies(List<String> clusterIPs, List<IpFamily> families) {
    return new Service(ref, Service.Type.CLUSTER_IP, clusterIPs, http, Map.of("app", "web"), Service.SessionAffinity.NONE,
        0, List.of(), List.of(), Service.TrafficPolicy.CLUSTER, Service.TrafficPolicy.CLUSTER, families, false, 0);
  }

  @Test
  void theSevenArgumentConstructorUsesTheApiServersDefaults() {
    Service s = new Service(ref, Service.Type.NODE_PORT, List.of("10.96.0.10"), http, Map.of("app", "web"),
        Service.SessionAffinity.NONE, 0);
    assertThat(s.externalIPs()).isEmpty();
    assertThat(s.loadBalancerIngressIPs()).isEmpty();
    assertThat(s.externalTrafficPolicy()).isEqualTo(Service.TrafficPolicy.CLUSTER);
    assertThat(s.internalTrafficPolicy()).isEqualTo(Service.TrafficPolicy.CLUSTER);
    assertThat(s.ipFamilies()).isEmpty();
    assertThat(s.publishNotReadyAddresses()).isFalse();
    assertThat(s.healthCheckNodePort()).isZero();
  }

  @Test
  void effectiveFamiliesComeFromIpFamiliesThenClusterIpsThenIpv4() {
    assertThat(withFamilies(List.of("10.96.0.10"), List.of(IpFamily.IPV6, IpFamily.IPV4)).effectiveIpFamilies())
        .containsExactly(IpFamily.IPV6, IpFamily.IPV4);
    assertThat(withFamilies(List.of("fd00::10", "10.96.0.10"), List.of()).effectiveIpFamilies())
        .containsExactly(IpFamily.IPV6, IpFamily.IPV4);
    assertThat(withFamilies(List.of("None"), List.of()).effectiveIpFamilies()).containsExactly(IpFamily.IPV4);
    assertThat(withFamilies(List.of(), List.of()).effectiveIpFamilies()).containsExactly(IpFamily.IPV4);
  }

  @Test
  void aHealthCheckNodePortIsAPortNumber() {
    assertThatThrownBy(() -> new Service(ref, Service.Type.LOAD_BALANCER, List.of(), http, Map.of(),
        Service.SessionAffinity.NONE, 0, List.of(), List.of(), Service.TrafficPolicy.LOCAL,
        Service.TrafficPolicy.CLUSTER, List.of(), false, 70000))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("healthCheckNodePort 70000");
  }

  @Test
  void ipFamilyOfALiteral() {
    assertThat(IpFamily.of("10.0.0.1")).isEqualTo(IpFamily.IPV4);
    assertThat(IpFamily.of("fd00::1")).isEqualTo(IpFamily.IPV6);
    assertThat(IpFamily.of("::1.2.3.4")).isEqualTo(IpFamily.IPV6);
    assertThat(IpFamily.of("1::ffff:1.2.3.4")).isEqualTo(IpFamily.IPV6);
    assertThat(IpFamily.of("2001:db8:0:0:0:ffff:1:2")).isEqualTo(IpFamily.IPV6);
    // IPv4-mapped addresses are IPv4 to Kubernetes (net.IP.To4), in any spelling.
    assertThat(IpFamily.of("::ffff:10.0.0.1")).isEqualTo(IpFamily.IPV4);
    assertThat(IpFamily.of("::FFFF:a00:1")).isEqualTo(IpFamily.IPV4);
    assertThat(IpFamily.of("0:0:0:0:0:ffff:10.0.0.1")).isEqualTo(IpFamily.IPV4);
    assertThat(IpFamily.IPV6.kubernetesName()).isEqualTo("IPv6");
  }
}
