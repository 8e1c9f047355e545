package io.sluice.watcher.convert;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.sluice.model.EndpointSlice;
import io.sluice.model.IpFamily;
import io.sluice.model.LabelSelector;
import io.sluice.model.Namespace;
import io.sluice.model.NetworkPolicy;
import io.sluice.model.NetworkPolicy.PolicyType;
import io.sluice.model.Node;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortRef;
import io.sluice.model.Protocol;
import io.sluice.model.Service;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ObjectConverterTest {
  private static final YAMLMapper YAML = YAMLMapper.builder()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false).build();
  private final ObjectConverter converter = new ObjectConverter();

  private Converted convert(Class<? extends HasMetadata> type, String yaml) {
    try {
      return converter.convert(YAML.readValue(yaml, type));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private Converted policy(String spec) {
    return convert(io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy.class, """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {namespace: shop, name: p}
        spec:
        """ + spec.indent(2));
  }

  private NetworkPolicy validPolicy(String spec) {
    Converted c = policy(spec);
    assertThat(c.errors()).isEmpty();
    return (NetworkPolicy) c.value();
  }

  private List<String> policyErrors(String spec) {
    Converted c = policy(spec);
    assertThat(c.valid()).isFalse();
    assertThat(c.key()).isEqualTo(new ObjectKey(ObjectKind.NETWORK_POLICY, new ObjectRef("shop", "p")));
    return c.errors().stream().map(FieldError::toString).toList();
  }

  // ---- defaulting ----

  @Test
  void namespaceGetsItsNameAsLabel() {
    Converted c = convert(io.fabric8.kubernetes.api.model.Namespace.class, """
        apiVersion: v1
        kind: Namespace
        metadata: {name: shop, labels: {team: a, kubernetes.io/metadata.name: spoofed}}
        """);
    assertThat(c.value()).isEqualTo(new Namespace("shop", Map.of("team", "a", "kubernetes.io/metadata.name", "shop")));
    assertThat(c.key()).isEqualTo(new ObjectKey(ObjectKind.NAMESPACE, new ObjectRef("", "shop")));
  }

  @Test
  void policyTypesDefaultToIngressOnly() {
    NetworkPolicy p = validPolicy("podSelector: {}\ningress: [{}]\n");
    assertThat(p.policyTypes()).containsExactly(PolicyType.INGRESS);
    assertThat(p.ingress()).containsExactly(NetworkPolicy.Rule.ALLOW_ALL);
  }

  @Test
  void policyTypesDefaultToIngressAndEgressWhenEgressRulesExist() {
    NetworkPolicy p = validPolicy("podSelector: {}\negress: [{}]\n");
    assertThat(p.policyTypes()).containsExactlyInAnyOrder(PolicyType.INGRESS, PolicyType.EGRESS);
  }

  @Test
  void explicitPolicyTypesAreKept() {
    NetworkPolicy p = validPolicy("podSelector: {}\npolicyTypes: [Egress]\n");
    assertThat(p.policyTypes()).containsExactly(PolicyType.EGRESS);
    assertThat(p.ingress()).isEmpty();
    assertThat(p.egress()).isEmpty();
  }

  @Test
  void portProtocolDefaultsToTcp() {
    NetworkPolicy p = validPolicy("""
        podSelector: {matchLabels: {app: web}}
        ingress:
        - ports: [{port: 80}, {protocol: UDP, port: dns}, {port: 8000, endPort: 8080}]
        """);
    assertThat(p.ingress().get(0).ports()).containsExactly(
        NetworkPolicy.Port.of(Protocol.TCP, 80),
        new NetworkPolicy.Port(Protocol.UDP, Optional.of(PortRef.of("dns")), OptionalInt.empty()),
        new NetworkPolicy.Port(Protocol.TCP, Optional.of(PortRef.of(8000)), OptionalInt.of(8080)));
  }

  @Test
  void peersBecomePodSelectionsOrIpBlocks() {
    NetworkPolicy p = validPolicy("""
        podSelector: {}
        ingress:
        - from:
          - podSelector: {matchLabels: {app: a}}
          - namespaceSelector: {matchExpressions: [{key: env, operator: In, values: [prod, dev]}]}
          - namespaceSelector: {}
            podSelector: {matchExpressions: [{key: app, operator: Exists}]}
          - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
        """);
    assertThat(p.ingress().get(0).peers()).containsExactly(
        new NetworkPolicy.Peer.Pods(Optional.empty(), LabelSelector.of(Map.of("app", "a"))),
        new NetworkPolicy.Peer.Pods(Optional.of(new LabelSelector(Map.of(), List.of(new LabelSelector.Requirement("env",
            LabelSelector.Operator.IN, List.of("dev", "prod"))))), LabelSelector.EVERYTHING),
        new NetworkPolicy.Peer.Pods(Optional.of(LabelSelector.EVERYTHING), new LabelSelector(Map.of(),
            List.of(new LabelSelector.Requirement("app", LabelSelector.Operator.EXISTS, List.of())))),
        new NetworkPolicy.Peer.IpBlock("10.0.0.0/8", List.of("10.1.0.0/16")));
  }

  // ---- NetworkPolicy validation: label selectors ----

  @Test
  void selectorKeyMustBeAQualifiedName() {
    assertThat(policyErrors("podSelector: {matchExpressions: [{key: -bad, operator: Exists}]}")).containsExactly(
        "spec.podSelector.matchExpressions[0].key: Invalid value: \"-bad\": name part must consist of alphanumeric "
            + "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
            + "'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
  }

  @Test
  void selectorKeyPrefixMustBeADnsSubdomain() {
    assertThat(policyErrors("podSelector: {matchLabels: {Example.com/app: web}}")).containsExactly(
        "spec.podSelector.matchLabels: Invalid value: \"Example.com/app\": prefix part a lowercase RFC 1123 subdomain "
            + "must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an "
            + "alphanumeric character (e.g. 'example.com', regex used for validation is "
            + "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
  }

  @Test
  void selectorKeyWithTwoSlashesIsRejected() {
    assertThat(policyErrors("podSelector: {matchLabels: {a/b/c: web}}")).containsExactly(
        "spec.podSelector.matchLabels: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric "
            + "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
            + "'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with "
            + "an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
  }

  @Test
  void selectorKeyNamePartIsAtMost63Characters() {
    String key = "k".repeat(64);
    assertThat(policyErrors("podSelector: {matchLabels: {" + key + ": v}}")).containsExactly(
        "spec.podSelector.matchLabels: Invalid value: \"" + key + "\": name part must be no more than 63 characters");
  }

  @Test
  void matchLabelValuesMustBeLabelValues() {
    assertThat(policyErrors("podSelector: {matchLabels: {app: 'bad value'}}")).containsExactly(
        "spec.podSelector.matchLabels: Invalid value: \"bad value\": a valid label must be an empty string or consist "
            + "of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
            + "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
            + "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
  }

  @Test
  void labelValuesAreAtMost63Characters() {
    String v = "v".repeat(64);
    assertThat(policyErrors("podSelector: {matchExpressions: [{key: app, operator: In, values: [" + v + "]}]}"))
        .containsExactly("spec.podSelector.matchExpressions[0].values[0]: Invalid value: \"" + v
            + "\": must be no more than 63 characters");
  }

  @Test
  void inAndNotInNeedValues() {
    assertThat(policyErrors("""
        podSelector: {}
        ingress:
        - from: [{podSelector: {matchExpressions: [{key: app, operator: In}, {key: app, operator: NotIn, values: []}]}}]
        """)).containsExactly(
        "spec.ingress[0].from[0].podSelector.matchExpressions[0].values: Required value: must be specified when "
            + "`operator` is 'In' or 'NotIn'",
        "spec.ingress[0].from[0].podSelector.matchExpressions[1].values: Required value: must be specified when "
            + "`operator` is 'In' or 'NotIn'");
  }

  @Test
  void existsAndDoesNotExistTakeNoValues() {
    assertThat(policyErrors("""
        podSelector: {}
        egress:
        - to: [{namespaceSelector: {matchExpressions: [{key: env, operator: DoesNotExist, values: [x]}]}}]
        """)).containsExactly(
        "spec.egress[0].to[0].namespaceSelector.matchExpressions[0].values: Forbidden: may not be specified when "
            + "`operator` is 'Exists' or 'DoesNotExist'");
  }

  @Test
  void unknownOperatorIsRejected() {
    assertThat(policyErrors("podSelector: {matchExpressions: [{key: app, operator: Equals, values: [a]}]}"))
        .containsExactly("spec.podSelector.matchExpressions[0].operator: Invalid value: \"Equals\": "
            + "not a valid selector operator");
  }

  // ---- NetworkPolicy validation: peers and ipBlocks ----

  @Test
  void aPeerMustSaySomething() {
    assertThat(policyErrors("podSelector: {}\ningress: [{from: [{}]}]")).containsExactly(
        "spec.ingress[0].from[0]: Required value: must specify a peer");
  }

  @Test
  void ipBlockExcludesOtherPeerTypes() {
    assertThat(policyErrors("podSelector: {}\ningress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]"))
        .containsExactly("spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer");
  }

  @Test
  void ipBlockNeedsACidr() {
    assertThat(policyErrors("podSelector: {}\negress: [{to: [{ipBlock: {except: [10.0.0.0/8]}}]}]"))
        .containsExactly("spec.egress[0].to[0].ipBlock.cidr: Required value");
  }

  @ParameterizedTest
  @CsvSource({"10.0.0.0/33", "10.0.0/8", "256.0.0.0/8", "10.0.0.0", "10.0.0.0/-1", "2001:db8::/129", "2001:db8:::/64",
      "2001:db8::g/64", "fe80::1%eth0/64", "1:2:3:4:5:6:7:8:9/64"})
  void cidrMustBeAValidIpv4OrIpv6Cidr(String cidr) {
    assertThat(policyErrors("podSelector: {}\ningress: [{from: [{ipBlock: {cidr: '" + cidr + "'}}]}]"))
        .containsExactly("spec.ingress[0].from[0].ipBlock.cidr: Invalid value: \"" + cidr + "\": must be a valid CIDR "
            + "value, (e.g. 10.9.8.0/24 or 2001:db8::/64)");
  }

  @ParameterizedTest
  @CsvSource({"10.0.0.0/8, 10.1.0.0/16", "0.0.0.0/0, 192.168.1.1/32", "2001:db8::/32, 2001:db8:1::/48",
      "::/0, ::ffff:0:0/96", "10.1.2.3/8, 10.255.0.0/16", "2001:db8::/32, 2001:db8:0:0:0:0:0:1/128"})
  void exceptInsideCidrIsAccepted(String cidr, String except) {
    NetworkPolicy p = validPolicy("podSelector: {}\ningress: [{from: [{ipBlock: {cidr: '" + cidr + "', except: ['"
        + except + "']}}]}]");
    assertThat(p.ingress().get(0).peers()).containsExactly(new NetworkPolicy.Peer.IpBlock(cidr, List.of(except)));
  }

  @ParameterizedTest
  @CsvSource({"10.0.0.0/16, 10.1.0.0/16", "10.0.0.0/16, 10.0.0.0/16", "10.0.0.0/16, 10.0.0.0/8",
      "10.0.0.0/16, 2001:db8::/64", "2001:db8::/32, 2001:db9::/48", "2001:db8::/48, 2001:db8::/48"})
  void exceptMustBeAStrictSubsetOfCidr(String cidr, String except) {
    assertThat(policyErrors("podSelector: {}\ningress: [{from: [{ipBlock: {cidr: '" + cidr + "', except: ['"
        + except + "']}}]}]")).containsExactly("spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: \""
        + except + "\": must be a strict subset of `cidr`");
  }

  @Test
  void exceptMustBeAValidCidr() {
    assertThat(policyErrors("podSelector: {}\ningress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0]}}]}]"))
        .containsExactly("spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: \"10.1.0.0\": must be a valid "
            + "CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)");
  }

  // ---- NetworkPolicy validation: ports ----

  @ParameterizedTest
  @CsvSource({"0", "65536", "-1"})
  void portNumbersAreBetween1And65535(int port) {
    assertThat(policyErrors("podSelector: {}\ningress: [{ports: [{port: " + port + "}]}]")).containsExactly(
        "spec.ingress[0].ports[0].port: Invalid value: " + port + ": must be between 1 and 65535, inclusive");
  }

  @Test
  void endPortMustNotBeBelowPort() {
    // The API server reports the port's value, not endPort's.
    assertThat(policyErrors("podSelector: {}\negress: [{ports: [{port: 8080, endPort: 80}]}]")).containsExactly(
        "spec.egress[0].ports[0].endPort: Invalid value: 8080: must be greater than or equal to `port`");
  }

  @Test
  void endPortMustBeAPortNumber() {
    assertThat(policyErrors("podSelector: {}\ningress: [{ports: [{port: 80, endPort: 70000}]}]")).containsExactly(
        "spec.ingress[0].ports[0].endPort: Invalid value: 70000: must be between 1 and 65535, inclusive");
  }

  @Test
  void endPortNeedsANumericPort() {
    assertThat(policyErrors("podSelector: {}\ningress: [{ports: [{port: http, endPort: 9000}]}]")).containsExactly(
        "spec.ingress[0].ports[0].endPort: Invalid value: 9000: may not be specified when `port` is non-numeric");
  }

  @Test
  void endPortNeedsAPort() {
    assertThat(policyErrors("podSelector: {}\ningress: [{ports: [{endPort: 9000}]}]")).containsExactly(
        "spec.ingress[0].ports[0].endPort: Invalid value: 9000: may not be specified when `port` is not specified");
  }

  @Test
  void protocolMustBeTcpUdpOrSctp() {
    assertThat(policyErrors("podSelector: {}\ningress: [{ports: [{protocol: ICMP, port: 1}]}]")).containsExactly(
        "spec.ingress[0].ports[0].protocol: Unsupported value: \"ICMP\": supported values: \"TCP\", \"UDP\", \"SCTP\"");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "Web|must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
      "web_port|must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
      "a-very-long-port1|must be no more than 15 characters",
      "'1234'|must contain at least one letter (a-z)",
      "web--x|must not contain consecutive hyphens",
      "-web|must not begin or end with a hyphen",
      "web-|must not begin or end with a hyphen"})
  void namedPortsAreIanaServiceNames(String name, String message) {
    String quoted = name.replace("'", "");
    assertThat(policyErrors("podSelector: {}\ningress: [{ports: [{port: '" + quoted + "'}]}]")).containsExactly(
        "spec.ingress[0].ports[0].port: Invalid value: \"" + quoted + "\": " + message);
  }

  @Test
  void aPortNameBreakingSeveralRulesGetsEveryMessage() {
    assertThat(policyErrors("podSelector: {}\ningress: [{ports: [{port: '-'}]}]")).containsExactly(
        "spec.ingress[0].ports[0].port: Invalid value: \"-\": must contain at least one letter (a-z)",
        "spec.ingress[0].ports[0].port: Invalid value: \"-\": must not begin or end with a hyphen");
  }

  // ---- NetworkPolicy validation: policyTypes and metadata ----

  @Test
  void policyTypesAreIngressOrEgress() {
    assertThat(policyErrors("podSelector: {}\npolicyTypes: [ingress]")).containsExactly(
        "spec.policyTypes[0]: Unsupported value: \"ingress\": supported values: \"Ingress\", \"Egress\"");
  }

  @Test
  void atMostTwoPolicyTypes() {
    assertThat(policyErrors("podSelector: {}\npolicyTypes: [Ingress, Egress, Ingress]")).containsExactly(
        "spec.policyTypes: Invalid value: []networking.PolicyType{\"Ingress\", \"Egress\", \"Ingress\"}: "
            + "may not specify more than two policyTypes");
  }

  @Test
  void nameIsRequired() {
    Converted c = convert(io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy.class,
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {namespace: shop}\nspec: {podSelector: {}}");
    assertThat(c.key()).isNull();
    assertThat(c.errors()).map(FieldError::toString)
        .containsExactly("metadata.name: Required value: name or generateName is required");
  }

  @Test
  void nameMustBeADnsSubdomain() {
    Converted c = convert(io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy.class,
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: Deny_All}\nspec: {podSelector: {}}");
    assertThat(c.errors()).map(FieldError::toString).containsExactly("metadata.name: Invalid value: \"Deny_All\": a "
        + "lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start "
        + "and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
        + "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
  }

  @Test
  void missingNamespaceMeansDefault() {
    Converted c = convert(io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy.class,
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec: {podSelector: {}}");
    assertThat(((NetworkPolicy) c.value()).ref()).isEqualTo(new ObjectRef("default", "p"));
  }

  // ---- other kinds ----

  @Test
  void podTakesIpsNamedPortsAndHostNetwork() {
    Converted c = convert(io.fabric8.kubernetes.api.model.Pod.class, """
        apiVersion: v1
        kind: Pod
        metadata: {namespace: shop, name: web-1, labels: {app: web}}
        spec:
          hostNetwork: true
          initContainers:
          - {name: proxy, restartPolicy: Always, ports: [{name: admin, containerPort: 9901}]}
          - {name: migrate, ports: [{name: ignored, containerPort: 1}]}
          containers:
          - name: web
            ports: [{name: http, containerPort: 8080}, {containerPort: 9090}, {name: dns, containerPort: 53, protocol: UDP}]
        status:
          podIP: 10.0.0.5
          podIPs: [{ip: 10.0.0.5}, {ip: 'fd00::5'}]
        """);
    assertThat(c.value()).isEqualTo(new Pod(new ObjectRef("shop", "web-1"), Map.of("app", "web"),
        List.of("10.0.0.5", "fd00::5"), List.of(new Pod.NamedPort("http", 8080, "TCP"),
        new Pod.NamedPort("dns", 53, "UDP"), new Pod.NamedPort("admin", 9901, "TCP")), true));
  }

  @Test
  void podWithOnlyPodIpAndNoStatusIsFine() {
    Converted c = convert(io.fabric8.kubernetes.api.model.Pod.class,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nstatus: {podIP: 10.0.0.9}");
    assertThat(((Pod) c.value()).ips()).containsExactly("10.0.0.9");
    Converted none = convert(io.fabric8.kubernetes.api.model.Pod.class, "apiVersion: v1\nkind: Pod\nmetadata: {name: b}");
    assertThat(((Pod) none.value()).ips()).isEmpty();
  }

  @Test
  void podIpMustBeAnIp() {
    Converted c = convert(io.fabric8.kubernetes.api.model.Pod.class,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nstatus: {podIPs: [{ip: 10.0.0.300}]}");
    assertThat(c.errors()).map(FieldError::toString).containsExactly(
        "status.podIPs[0].ip: Invalid value: \"10.0.0.300\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
  }

  @Test
  void podHostIpsAreTheNodesAddresses() {
    Converted c = convert(io.fabric8.kubernetes.api.model.Pod.class, "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"
        + "status: {podIP: 10.0.0.9, hostIP: 192.168.1.4, hostIPs: [{ip: 192.168.1.4}, {ip: 'fd01::4'}]}");
    assertThat(((Pod) c.value()).hostIps()).containsExactly("192.168.1.4", "fd01::4");
    Converted only = convert(io.fabric8.kubernetes.api.model.Pod.class,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nstatus: {podIP: 10.0.0.9, hostIP: 192.168.1.4}");
    assertThat(((Pod) only.value()).hostIps()).containsExactly("192.168.1.4");
    Converted bad = convert(io.fabric8.kubernetes.api.model.Pod.class,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nstatus: {hostIP: node-1}");
    assertThat(bad.errors()).map(FieldError::toString).containsExactly(
        "status.hostIP: Invalid value: \"node-1\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
    Converted mismatch = convert(io.fabric8.kubernetes.api.model.Pod.class,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nstatus: {hostIP: 192.168.1.4, hostIPs: [{ip: 192.168.1.5}]}");
    assertThat(mismatch.errors()).map(FieldError::toString).containsExactly(
        "status.hostIPs[0].ip: Invalid value: \"192.168.1.5\": must match status.hostIP");
  }

  @Test
  void serviceIsDefaultedLikeTheApiServer() {
    Converted c = convert(io.fabric8.kubernetes.api.model.Service.class, """
        apiVersion: v1
        kind: Service
        metadata: {namespace: shop, name: web}
        spec:
          clusterIP: 10.96.0.10
          selector: {app: web}
          ports: [{name: http, port: 80, targetPort: http}, {name: metrics, port: 9090}]
        """);
    assertThat(c.value()).isEqualTo(new Service(new ObjectRef("shop", "web"), Service.Type.CLUSTER_IP,
        List.of("10.96.0.10"), List.of(new Service.Port("http", Protocol.TCP, 80, PortRef.of("http"), 0),
        new Service.Port("metrics", Protocol.TCP, 9090, PortRef.of(9090), 0)), Map.of("app", "web"),
        Service.SessionAffinity.NONE, 0));
  }

  @Test
  void serviceClientIpAffinityDefaultsToThreeHours() {
    Converted c = convert(io.fabric8.kubernetes.api.model.Service.class, """
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec: {type: NodePort, sessionAffinity: ClientIP, ports: [{port: 80, nodePort: 30080}]}
        """);
    Service s = (Service) c.value();
    assertThat(s.type()).isEqualTo(Service.Type.NODE_PORT);
    assertThat(s.sessionAffinityTimeoutSeconds()).isEqualTo(10800);
    assertThat(s.ports().get(0).nodePort()).isEqualTo(30080);
  }

  @Test
  void servicePortsAreValidated() {
    Converted c = convert(io.fabric8.kubernetes.api.model.Service.class, """
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec: {type: Magic, ports: [{port: 0}, {name: b, port: 80, protocol: ICMP}]}
        """);
    assertThat(c.errors()).map(FieldError::toString).containsExactly(
        "spec.type: Unsupported value: \"Magic\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", "
            + "\"NodePort\"",
        "spec.ports[0].name: Required value",
        "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
        "spec.ports[1].protocol: Unsupported value: \"ICMP\": supported values: \"TCP\", \"UDP\", \"SCTP\"");
  }

  @Test
  void podTakesItsNodeReadinessAndLifecycle() {
    Pod p = (Pod) convert(io.fabric8.kubernetes.api.model.Pod.class, """
        apiVersion: v1
        kind: Pod
        metadata: {namespace: shop, name: web-1, deletionTimestamp: "2024-05-01T10:00:00Z"}
        spec: {nodeName: node-1.example, containers: [{name: web}]}
        status:
          phase: Running
          podIP: 10.0.0.5
          conditions: [{type: Initialized, status: "True"}, {type: Ready, status: "False"}]
        """).value();
    assertThat(p.nodeName()).isEqualTo("node-1.example");
    assertThat(p.ready()).isFalse();
    assertThat(p.terminating()).isTrue();
    assertThat(p.terminal()).isFalse();

    Pod ready = (Pod) convert(io.fabric8.kubernetes.api.model.Pod.class, "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"
        + "status: {phase: Running, conditions: [{type: Ready, status: \"True\"}]}").value();
    assertThat(ready.ready()).isTrue();
    assertThat(ready.terminating()).isFalse();
    assertThat(ready.nodeName()).isEmpty();

    Pod done = (Pod) convert(io.fabric8.kubernetes.api.model.Pod.class,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nstatus: {phase: Succeeded}").value();
    assertThat(done.terminal()).isTrue();
    assertThat(done.ready()).isFalse();
    Pod failed = (Pod) convert(io.fabric8.kubernetes.api.model.Pod.class,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nstatus: {phase: Failed}").value();
    assertThat(failed.terminal()).isTrue();
  }

  @Test
  void aPodWithoutAReadyConditionIsReadyWhenRunningOrWithoutPhase() {
    // Hand-written manifests have no kubelet to report readiness: they describe running pods.
    String pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n";
    assertThat(((Pod) convert(io.fabric8.kubernetes.api.model.Pod.class, pod).value()).ready()).isTrue();
    assertThat(((Pod) convert(io.fabric8.kubernetes.api.model.Pod.class, pod + "status: {phase: Running}").value()).ready())
        .isTrue();
    assertThat(((Pod) convert(io.fabric8.kubernetes.api.model.Pod.class, pod + "status: {phase: Pending}").value()).ready())
        .isFalse();
    assertThat(((Pod) convert(io.fabric8.kubernetes.api.model.Pod.class,
        pod + "status: {phase: Running, conditions: [{type: PodScheduled, status: \"True\"}]}").value()).ready()).isTrue();
  }

  @Test
  void podNodeNameMustBeADnsSubdomain() {
    Converted c = convert(io.fabric8.kubernetes.api.model.Pod.class,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {nodeName: Node_1}");
    assertThat(c.errors()).map(FieldError::toString).containsExactly("spec.nodeName: Invalid value: \"Node_1\": a lowercase "
        + "RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with "
        + "an alphanumeric character (e.g. 'example.com', regex used for validation is "
        + "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
  }

  @Test
  void serviceTakesExternalAddressesPoliciesAndFamilies() {
    Converted c = convert(io.fabric8.kubernetes.api.model.Service.class, """
        apiVersion: v1
        kind: Service
        metadata: {namespace: shop, name: web}
        spec:
          type: LoadBalancer
          clusterIPs: ['fd00::10', 10.96.0.10]
          ipFamilies: [IPv6, IPv4]
          externalIPs: [192.0.2.7]
          externalTrafficPolicy: Local
          internalTrafficPolicy: Local
          healthCheckNodePort: 31999
          publishNotReadyAddresses: true
          selector: {app: web}
          ports: [{port: 80, nodePort: 30080}]
        status:
          loadBalancer:
            ingress: [{ip: 198.51.100.1}, {hostname: lb.example.com}, {ip: '2001:db8::1', ipMode: Proxy}]
        """);
    assertThat(c.errors()).isEmpty();
    assertThat(c.value()).isEqualTo(new Service(new ObjectRef("shop", "web"), Service.Type.LOAD_BALANCER,
        List.of("fd00::10", "10.96.0.10"), List.of(new Service.Port("", Protocol.TCP, 80, PortRef.of(80), 30080)),
        Map.of("app", "web"), Service.SessionAffinity.NONE, 0, List.of("192.0.2.7"),
        List.of("198.51.100.1", "2001:db8::1"), Service.TrafficPolicy.LOCAL, Service.TrafficPolicy.LOCAL,
        List.of(IpFamily.IPV6, IpFamily.IPV4), true, 31999));
  }

  @Test
  void serviceTrafficPoliciesDefaultToCluster() {
    Service s = (Service) convert(io.fabric8.kubernetes.api.model.Service.class,
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {type: NodePort, ports: [{port: 80}]}").value();
    assertThat(s.externalTrafficPolicy()).isEqualTo(Service.TrafficPolicy.CLUSTER);
    assertThat(s.internalTrafficPolicy()).isEqualTo(Service.TrafficPolicy.CLUSTER);
    assertThat(s.healthCheckNodePort()).isZero();
    assertThat(s.publishNotReadyAddresses()).isFalse();
    assertThat(s.ipFamilies()).isEmpty();
    // A ClusterIP service with external IPs is externally accessible: it may say Local.
    Service withExternal = (Service) convert(io.fabric8.kubernetes.api.model.Service.class, "apiVersion: v1\nkind: Service\n"
        + "metadata: {name: web}\nspec: {externalIPs: [192.0.2.7], externalTrafficPolicy: Local, ports: [{port: 80}]}")
        .value();
    assertThat(withExternal.externalTrafficPolicy()).isEqualTo(Service.TrafficPolicy.LOCAL);
  }

  private List<String> serviceErrors(String spec) {
    Converted c = convert(io.fabric8.kubernetes.api.model.Service.class,
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n" + spec);
    assertThat(c.valid()).isFalse();
    return c.errors().stream().map(FieldError::toString).toList();
  }

  @Test
  void trafficPoliciesAndHealthCheckPortAreValidatedLikeTheApiServer() {
    assertThat(serviceErrors("spec: {type: NodePort, externalTrafficPolicy: Global, ports: [{port: 80}]}")).containsExactly(
        "spec.externalTrafficPolicy: Unsupported value: \"Global\": supported values: \"Cluster\", \"Local\"");
    assertThat(serviceErrors("spec: {externalTrafficPolicy: Local, ports: [{port: 80}]}")).containsExactly(
        "spec.externalTrafficPolicy: Invalid value: \"Local\": may only be set for externally-accessible services");
    assertThat(serviceErrors("spec: {internalTrafficPolicy: Node, ports: [{port: 80}]}")).containsExactly(
        "spec.internalTrafficPolicy: Unsupported value: \"Node\": supported values: \"Cluster\", \"Local\"");
    assertThat(serviceErrors("spec: {type: NodePort, externalTrafficPolicy: Local, healthCheckNodePort: 30001, "
        + "ports: [{port: 80}]}")).containsExactly("spec.healthCheckNodePort: Invalid value: 30001: may only be set "
        + "when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'");
    assertThat(serviceErrors("spec: {type: LoadBalancer, externalTrafficPolicy: Local, healthCheckNodePort: 70000, "
        + "ports: [{port: 80}]}")).containsExactly(
        "spec.healthCheckNodePort: Invalid value: 70000: must be between 1 and 65535, inclusive");
  }

  @Test
  void externalIpsMustBeOrdinaryUnicastAddresses() {
    assertThat(serviceErrors("spec: {externalIPs: [10.0.0.300, 0.0.0.0, 127.0.0.2, '::1', 169.254.1.1, 'fe80::1', "
        + "224.0.0.5, 'ff02::1', '::ffff:127.0.0.1'], ports: [{port: 80}]}")).containsExactly(
        "spec.externalIPs[0]: Invalid value: \"10.0.0.300\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
        "spec.externalIPs[1]: Invalid value: \"0.0.0.0\": may not be unspecified (0.0.0.0)",
        "spec.externalIPs[2]: Invalid value: \"127.0.0.2\": may not be in the loopback range (127.0.0.0/8, ::1/128)",
        "spec.externalIPs[3]: Invalid value: \"::1\": may not be in the loopback range (127.0.0.0/8, ::1/128)",
        "spec.externalIPs[4]: Invalid value: \"169.254.1.1\": may not be in the link-local range (169.254.0.0/16, fe80::/10)",
        "spec.externalIPs[5]: Invalid value: \"fe80::1\": may not be in the link-local range (169.254.0.0/16, fe80::/10)",
        "spec.externalIPs[6]: Invalid value: \"224.0.0.5\": may not be in the link-local multicast range "
            + "(224.0.0.0/24, ff02::/10)",
        "spec.externalIPs[7]: Invalid value: \"ff02::1\": may not be in the link-local multicast range "
            + "(224.0.0.0/24, ff02::/10)",
        "spec.externalIPs[8]: Invalid value: \"::ffff:127.0.0.1\": may not be in the loopback range "
            + "(127.0.0.0/8, ::1/128)");
  }

  @Test
  void ipFamiliesAreValidatedAgainstEachOtherAndTheClusterIps() {
    assertThat(serviceErrors("spec: {ipFamilies: [IPv5, IPv4, IPv4], ports: [{port: 80}]}")).containsExactly(
        "spec.ipFamilies[0]: Unsupported value: \"IPv5\": supported values: \"IPv4\", \"IPv6\"",
        "spec.ipFamilies[2]: Duplicate value: \"IPv4\"");
    assertThat(serviceErrors("spec: {clusterIP: 10.96.0.10, ipFamilies: [IPv6], ports: [{port: 80}]}")).containsExactly(
        "spec.clusterIPs[0]: Invalid value: \"10.96.0.10\": expected an IPv6 value as indicated by `ipFamilies[0]`");
    assertThat(serviceErrors("spec: {clusterIPs: [10.96.0.10, 10.96.0.11], ports: [{port: 80}]}")).containsExactly(
        "spec.clusterIPs: Invalid value: []string{\"10.96.0.10\", \"10.96.0.11\"}: may specify no more than one IP for "
            + "each IP family");
    assertThat(serviceErrors("spec: {type: ExternalName, externalName: db.example.com, ipFamilies: [IPv4]}"))
        .containsExactly("spec.ipFamilies: Forbidden: may not be set for ExternalName services");
    // A headless service's families are not checked against "None".
    Service headless = (Service) convert(io.fabric8.kubernetes.api.model.Service.class, "apiVersion: v1\nkind: Service\n"
        + "metadata: {name: web}\nspec: {clusterIP: None, ipFamilies: [IPv6], selector: {app: web}}").value();
    assertThat(headless.effectiveIpFamilies()).containsExactly(IpFamily.IPV6);
  }

  @Test
  void loadBalancerIngressIsForLoadBalancersAndHoldsIps() {
    assertThat(serviceErrors("spec: {type: NodePort, ports: [{port: 80}]}\nstatus: {loadBalancer: {ingress: [{ip: 1.2.3.4}]}}"))
        .containsExactly("status.loadBalancer.ingress: Forbidden: may only be used when `spec.type` is 'LoadBalancer'");
    assertThat(serviceErrors("spec: {type: LoadBalancer, ports: [{port: 80}]}\n"
        + "status: {loadBalancer: {ingress: [{ip: 1.2.3.4}, {ip: lb-1}]}}")).containsExactly(
        "status.loadBalancer.ingress[1].ip: Invalid value: \"lb-1\": must be a valid IP address, (e.g. 10.9.8.7 or "
            + "2001:db8::ffff)");
  }

  @Test
  void nodeTakesLabelsAndInternalIps() {
    Converted c = convert(io.fabric8.kubernetes.api.model.Node.class, """
        apiVersion: v1
        kind: Node
        metadata: {name: node-1, labels: {topology.kubernetes.io/zone: a}}
        status:
          addresses:
          - {type: Hostname, address: node-1}
          - {type: InternalIP, address: 192.168.1.4}
          - {type: ExternalIP, address: 203.0.113.4}
          - {type: InternalIP, address: 'fd01::4'}
        """);
    assertThat(c.value()).isEqualTo(new Node("node-1", Map.of("topology.kubernetes.io/zone", "a"),
        List.of("192.168.1.4", "fd01::4")));
    assertThat(c.key()).isEqualTo(new ObjectKey(ObjectKind.NODE, new ObjectRef("", "node-1")));
  }

  @Test
  void nodeNamesItsSwitchesInAnAnnotation() {
    Converted c = convert(io.fabric8.kubernetes.api.model.Node.class, """
        apiVersion: v1
        kind: Node
        metadata: {name: node-1, annotations: {sluice.io/datapath-ids: '0x5c00000000000001, 42,00005c00000000ab'}}
        status: {addresses: [{type: InternalIP, address: 192.168.1.4}]}
        """);
    assertThat(((Node) c.value()).datapathIds()).containsExactlyInAnyOrder(0x5c00000000000001L, 42L, 0x5c00000000abL);
    Converted bad = convert(io.fabric8.kubernetes.api.model.Node.class, """
        apiVersion: v1
        kind: Node
        metadata: {name: node-1, annotations: {sluice.io/datapath-ids: 'br-int'}}
        """);
    assertThat(bad.errors()).map(FieldError::toString).containsExactly(
        "metadata.annotations[sluice.io/datapath-ids]: Invalid value: \"br-int\": each comma-separated entry must be a "
            + "datapath id, hex with 0x (e.g. 0x00005c0000000001) or decimal");
  }

  @Test
  void nodeNamesThePortItSitsBehindInAnAnnotation() {
    Converted c = convert(io.fabric8.kubernetes.api.model.Node.class, """
        apiVersion: v1
        kind: Node
        metadata: {name: node-1, annotations: {sluice.io/attachment: '0x5c00000000000001/7'}}
        status: {addresses: [{type: InternalIP, address: 192.168.1.4}]}
        """);
    assertThat(((Node) c.value()).attachment()).isEqualTo(new Node.Attachment(0x5c00000000000001L, 7));
    assertThat(((Node) convert(io.fabric8.kubernetes.api.model.Node.class, """
        apiVersion: v1
        kind: Node
        metadata: {name: node-1, annotations: {sluice.io/attachment: '00005c00000000ab/12'}}
        """).value()).attachment()).isEqualTo(new Node.Attachment(0x5c00000000abL, 12));
    for (String bad : List.of("0x5c01", "0x5c01/", "/7", "0x5c01/0", "0x5c01/65280", "1,2/7", "br-int/7", "0x5c01/eth0")) {
      Converted refused = convert(io.fabric8.kubernetes.api.model.Node.class, """
          apiVersion: v1
          kind: Node
          metadata: {name: node-1, annotations: {sluice.io/attachment: '%s'}}
          """.formatted(bad));
      assertThat(refused.errors()).as(bad).map(FieldError::toString).containsExactly(
          "metadata.annotations[sluice.io/attachment]: Invalid value: \"" + bad + "\": must be <datapath id>/<port>: "
              + "one datapath id, hex with 0x (e.g. 0x00005c0000000001) or decimal, and an OpenFlow port number "
              + "1-65279 (e.g. 0x00005c0000000001/7)");
    }
  }

  @Test
  void nodeInternalIpsMustBeIpsAndNodesHaveNoNamespace() {
    Converted c = convert(io.fabric8.kubernetes.api.model.Node.class, """
        apiVersion: v1
        kind: Node
        metadata: {name: node-1, namespace: shop}
        status: {addresses: [{type: InternalIP, address: node-1.local}]}
        """);
    assertThat(c.errors()).map(FieldError::toString).containsExactly(
        "metadata.namespace: Forbidden: not allowed on this type",
        "status.addresses[0].address: Invalid value: \"node-1.local\": must be a valid IP address, (e.g. 10.9.8.7 or "
            + "2001:db8::ffff)");
  }

  @Test
  void endpointSliceNamesItsServiceAndPods() {
    Converted c = convert(io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice.class, """
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {namespace: shop, name: web-x1, labels: {kubernetes.io/service-name: web}}
        addressType: IPv4
        endpoints:
        - addresses: [10.0.0.5]
          targetRef: {kind: Pod, name: web-1}
          nodeName: n1
        - addresses: [10.0.0.6]
          conditions: {ready: false, terminating: true}
        ports: [{name: http, port: 8080}]
        """);
    assertThat(c.value()).isEqualTo(new EndpointSlice(new ObjectRef("shop", "web-x1"), "web",
        EndpointSlice.AddressType.IPV4, List.of(
        new EndpointSlice.Endpoint(List.of("10.0.0.5"), true, true, false, Optional.of(new ObjectRef("shop", "web-1")), "n1"),
        new EndpointSlice.Endpoint(List.of("10.0.0.6"), false, false, true, Optional.empty(), "")),
        List.of(new EndpointSlice.Port("http", Protocol.TCP, OptionalInt.of(8080)))));
  }

  @Test
  void endpointSliceAddressesMatchTheirType() {
    Converted c = convert(io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice.class, """
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: web-x1}
        addressType: IPv4
        endpoints: [{addresses: ['fd00::1']}]
        """);
    assertThat(c.errors()).map(FieldError::toString).containsExactly(
        "endpoints[0].addresses[0]: Invalid value: \"fd00::1\": must be a valid IPv4 address");
  }

  @Test
  void policyTypesSetIsImmutableAndComplete() {
    NetworkPolicy p = validPolicy("podSelector: {}\npolicyTypes: [Ingress, Egress]");
    assertThat(p.policyTypes()).isEqualTo(Set.of(PolicyType.INGRESS, PolicyType.EGRESS));
  }
}
