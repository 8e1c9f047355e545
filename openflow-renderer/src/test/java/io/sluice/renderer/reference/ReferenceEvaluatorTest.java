package io.sluice.renderer.reference;

import static io.sluice.model.Protocol.SCTP;
import static io.sluice.model.Protocol.TCP;
import static io.sluice.model.Protocol.UDP;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.model.LabelSelector;
import io.sluice.model.LabelSelector.Operator;
import io.sluice.model.LabelSelector.Requirement;
import io.sluice.model.Namespace;
import io.sluice.model.NetworkPolicy;
import io.sluice.model.NetworkPolicy.Peer;
import io.sluice.model.NetworkPolicy.PolicyType;
import io.sluice.model.NetworkPolicy.Rule;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.Pod.NamedPort;
import io.sluice.model.PortRef;
import io.sluice.model.Protocol;
import io.sluice.model.Snapshot;
import io.sluice.renderer.reference.Verdict.Isolation;
import io.sluice.renderer.reference.Verdict.RuleRef;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The upstream e2e world: namespaces x, y, z (labelled ns=x …), each with pods a, b, c (labelled pod=a …);
 * x/a is 10.0.1.1, y/b is 10.0.2.2 and so on.
 */
class ReferenceEvaluatorTest {
  private static final LabelSelector ALL = LabelSelector.EVERYTHING;
  private static final String DEFAULT_DENY = "{\"ingress\": {\"isolation\": \"DefaultDeny\"}}";

  private final Map<String, Namespace> namespaces = new HashMap<>();
  private final Map<ObjectRef, Pod> pods = new HashMap<>();
  private final Map<ObjectRef, NetworkPolicy> policies = new HashMap<>();
  private ReferenceEvaluator evaluator = new ReferenceEvaluator();

  @BeforeEach
  void world() {
    String[] nss = {"x", "y", "z"};
    for (int n = 0; n < nss.length; n++) {
      namespace(nss[n], Map.of("ns", nss[n]));
      String[] names = {"a", "b", "c"};
      for (int p = 0; p < names.length; p++) {
        pod(nss[n], names[p], Map.of("pod", names[p]), "10.0." + (n + 1) + "." + (p + 1));
      }
    }
  }

  // ---- isolation ----

  @Test
  void withoutPoliciesEverythingIsAllowed() {
    Verdict v = check("x/a", "y/b", TCP, 80);
    assertThat(v.allowed()).isTrue();
    assertThat(v.egress().isolation()).isEqualTo(Isolation.NOT_ISOLATED);
    assertThat(v.ingress().isolation()).isEqualTo(Isolation.NOT_ISOLATED);
  }

  @Test
  void denyAllIngressIsolatesEveryPodOfItsNamespaceOnly() {
    policy(ingress("x", "deny-all", ALL));
    assertThat(allowed("x/b", "x/a", TCP, 80)).isFalse();
    assertThat(allowed("y/b", "x/a", TCP, 80)).isFalse();
    assertThat(allowed("x/a", "y/a", TCP, 80)).isTrue();
    Verdict v = check("y/b", "x/a", TCP, 80);
    assertThat(v.ingress().isolatingPolicies()).containsExactly(ref("x", "deny-all"));
    assertThat(v.ingress().allowedBy()).isEmpty();
  }

  @Test
  void aPodMayAlwaysReachItself() {
    policy(new NetworkPolicy(ref("x", "deny-all"), ALL, EnumSet.allOf(PolicyType.class), List.of(), List.of()));
    Verdict v = check("x/a", "x/a", TCP, 80);
    assertThat(v.allowed()).isTrue();
    assertThat(v.egress().isolation()).isEqualTo(Isolation.SAME_POD);
    assertThat(v.ingress().isolation()).isEqualTo(Isolation.SAME_POD);
    assertThat(allowed("10.0.1.1", "x/a", TCP, 80)).as("its own address is the pod").isTrue();
  }

  @Test
  void trafficBetweenAPodAndItsOwnNodeIsNotGoverned() {
    Pod a = pods.get(ref("x", "a"));
    pods.put(a.ref(), new Pod(a.ref(), a.labels(), a.ips(), a.ports(), false, List.of("192.168.7.1")));
    hostPod("kube-system", "node-1", Map.of(), "192.168.7.1");
    hostPod("kube-system", "node-2", Map.of(), "192.168.7.2");
    policy(new NetworkPolicy(ref("x", "deny-all"), ALL, EnumSet.allOf(PolicyType.class), List.of(), List.of()));
    Verdict probe = check("192.168.7.1", "x/a", TCP, 8080);
    assertThat(probe.allowed()).isTrue();
    assertThat(probe.ingress().isolation()).isEqualTo(Isolation.OWN_NODE);
    assertThat(allowed("kube-system/node-1", "x/a", TCP, 8080)).as("a hostNetwork pod of its node").isTrue();
    Verdict toNode = check("x/a", "192.168.7.1", UDP, 53);
    assertThat(toNode.allowed()).isTrue();
    assertThat(toNode.egress().isolation()).isEqualTo(Isolation.OWN_NODE);
    assertThat(allowed("192.168.7.2", "x/a", TCP, 8080)).as("another node").isFalse();
    assertThat(allowed("x/a", "kube-system/node-2", TCP, 80)).as("another node").isFalse();
    assertThat(allowed("x/b", "x/a", TCP, 80)).isFalse();
    assertThat(allowed("192.168.7.1", "x/b", TCP, 80)).as("x/b's node is not known").isFalse();
  }

  @Test
  void egressOnlyPolicyLeavesIngressOpenAndItsIngressRulesCountForNothing() {
    // An ingress rule that would allow only pod=b, in a policy whose policyTypes say Egress only.
    policy(new NetworkPolicy(ref("x", "egress-only"), selector("pod", "a"), Set.of(PolicyType.EGRESS),
        List.of(rule(List.of(pods(selector("pod", "b"))), List.of())), List.of()));
    assertThat(allowed("y/c", "x/a", TCP, 80)).isTrue();
    assertThat(check("y/c", "x/a", TCP, 80).ingress().isolation()).isEqualTo(Isolation.NOT_ISOLATED);
    assertThat(allowed("x/a", "x/b", TCP, 80)).isFalse();
    assertThat(check("x/a", "x/b", TCP, 80).egress().isolatingPolicies()).containsExactly(ref("x", "egress-only"));
  }

  @Test
  void ingressAndEgressTogetherIsolateBothWays() {
    policy(new NetworkPolicy(ref("x", "both"), selector("pod", "a"), EnumSet.allOf(PolicyType.class),
        List.of(rule(List.of(pods(selector("pod", "b"))), List.of())),
        List.of(rule(List.of(pods(selector("pod", "c"))), List.of()))));
    assertThat(allowed("x/b", "x/a", TCP, 80)).isTrue();
    assertThat(allowed("x/c", "x/a", TCP, 80)).isFalse();
    assertThat(allowed("x/a", "x/c", TCP, 80)).isTrue();
    assertThat(allowed("x/a", "x/b", TCP, 80)).isFalse();
  }

  @Test
  void bothTheSourcesEgressAndTheDestinationsIngressMustAllow() {
    policy(ingress("y", "allow-all-in", ALL, rule(List.of(), List.of())));
    policy(egress("x", "deny-out", selector("pod", "a")));
    Verdict v = check("x/a", "y/a", TCP, 80);
    assertThat(v.ingress().allows()).isTrue();
    assertThat(v.egress().allows()).isFalse();
    assertThat(v.allowed()).isFalse();
  }

  @Test
  void aPolicyInAnotherNamespaceSelectsNothingHere() {
    policy(ingress("y", "deny-all", ALL));
    assertThat(allowed("z/a", "x/a", TCP, 80)).isTrue();
  }

  @Test
  void podSelectorExpressionsChooseWhichPodsAreIsolated() {
    pod("x", "d", Map.of("pod", "d", "tier", "web"), "10.0.1.4");
    assertThat(isolatedIngressPods(new Requirement("pod", Operator.IN, List.of("a", "b")))).containsExactly("a", "b");
    assertThat(isolatedIngressPods(new Requirement("pod", Operator.NOT_IN, List.of("a", "b")))).containsExactly("c", "d");
    assertThat(isolatedIngressPods(new Requirement("tier", Operator.EXISTS, List.of()))).containsExactly("d");
    assertThat(isolatedIngressPods(new Requirement("tier", Operator.DOES_NOT_EXIST, List.of())))
        .containsExactly("a", "b", "c");
  }

  @Test
  void matchLabelsAndExpressionsMustAllHold() {
    pod("x", "d", Map.of("pod", "d", "tier", "web"), "10.0.1.4");
    pod("x", "e", Map.of("pod", "e", "tier", "db"), "10.0.1.5");
    LabelSelector s = new LabelSelector(Map.of("tier", "web"),
        List.of(new Requirement("pod", Operator.NOT_IN, List.of("e"))));
    policy(ingress("x", "web", s));
    assertThat(allowed("y/a", "x/d", TCP, 80)).isFalse();
    assertThat(allowed("y/a", "x/e", TCP, 80)).isTrue();
  }

  // ---- peers ----

  @Test
  void podSelectorPeerMeansPodsOfThePolicysNamespace() {
    policy(ingress("x", "same-ns", selector("pod", "a"), rule(List.of(pods(ALL)), List.of())));
    assertThat(allowed("x/b", "x/a", TCP, 80)).isTrue();
    assertThat(allowed("y/b", "x/a", TCP, 80)).isFalse();
  }

  @Test
  void namespaceSelectorPeerMeansAllPodsOfTheSelectedNamespaces() {
    policy(ingress("x", "from-y", selector("pod", "a"),
        rule(List.of(new Peer.Pods(Optional.of(selector("ns", "y")), ALL)), List.of())));
    assertThat(allowed("y/b", "x/a", TCP, 80)).isTrue();
    assertThat(allowed("z/b", "x/a", TCP, 80)).isFalse();
    assertThat(allowed("x/b", "x/a", TCP, 80)).as("own namespace is not labelled ns=y").isFalse();
  }

  @Test
  void emptyNamespaceSelectorSelectsEveryNamespace() {
    policy(ingress("x", "b-anywhere", selector("pod", "a"),
        rule(List.of(new Peer.Pods(Optional.of(ALL), selector("pod", "b"))), List.of())));
    assertThat(allowed("z/b", "x/a", TCP, 80)).isTrue();
    assertThat(allowed("x/b", "x/a", TCP, 80)).isTrue();
    assertThat(allowed("z/c", "x/a", TCP, 80)).isFalse();
  }

  @Test
  void podAndNamespaceSelectorInOnePeerMustBothMatch() {
    policy(ingress("x", "and", selector("pod", "a"),
        rule(List.of(new Peer.Pods(Optional.of(selector("ns", "y")), selector("pod", "b"))), List.of())));
    assertThat(allowed("y/b", "x/a", TCP, 80)).isTrue();
    assertThat(allowed("y/c", "x/a", TCP, 80)).isFalse();
    assertThat(allowed("x/b", "x/a", TCP, 80)).isFalse();
    assertThat(allowed("z/b", "x/a", TCP, 80)).isFalse();
  }

  @Test
  void podAndNamespaceSelectorsInSeparatePeersEitherMatches() {
    policy(ingress("x", "or", selector("pod", "a"), rule(List.of(
        new Peer.Pods(Optional.of(selector("ns", "y")), ALL),
        pods(selector("pod", "b"))), List.of())));
    assertThat(allowed("y/c", "x/a", TCP, 80)).as("any pod of ns y").isTrue();
    assertThat(allowed("x/b", "x/a", TCP, 80)).as("pod=b of the policy's own namespace").isTrue();
    assertThat(allowed("z/b", "x/a", TCP, 80)).as("pod=b elsewhere").isFalse();
    assertThat(allowed("x/c", "x/a", TCP, 80)).isFalse();
  }

  @Test
  void aNamespaceWithoutManifestStillHasItsNameLabel() {
    pod("w", "a", Map.of("pod", "a"), "10.0.9.1");
    policy(ingress("x", "from-w", selector("pod", "a"), rule(List.of(new Peer.Pods(
        Optional.of(selector(ReferenceEvaluator.NAMESPACE_NAME_LABEL, "w")), ALL)), List.of())));
    assertThat(allowed("w/a", "x/a", TCP, 80)).isTrue();
  }

  @Test
  void emptyFromAllowsEverySourceIncludingAddressesOutsideTheCluster() {
    policy(ingress("x", "open-80", selector("pod", "a"), rule(List.of(), List.of(port(TCP, 80)))));
    assertThat(allowed("203.0.113.7", "x/a", TCP, 80)).isTrue();
    assertThat(allowed("z/c", "x/a", TCP, 80)).isTrue();
    assertThat(allowed("z/c", "x/a", TCP, 81)).isFalse();
  }

  @Test
  void ipBlockAllowsItsCidrButNotItsExceptions() {
    policy(egress("x", "to-net", selector("pod", "a"),
        rule(List.of(new Peer.IpBlock("203.0.113.0/24", List.of("203.0.113.128/25"))), List.of())));
    assertThat(allowed("x/a", "203.0.113.5", TCP, 443)).isTrue();
    assertThat(allowed("x/a", "203.0.113.200", TCP, 443)).isFalse();
    assertThat(allowed("x/a", "198.51.100.1", TCP, 443)).isFalse();
  }

  @Test
  void ipBlockMatchesPodAddressesToo() {
    policy(ingress("x", "from-y-net", selector("pod", "a"),
        rule(List.of(new Peer.IpBlock("10.0.2.0/24", List.of("10.0.2.3/32"))), List.of())));
    assertThat(allowed("y/b", "x/a", TCP, 80)).isTrue();
    assertThat(allowed("y/c", "x/a", TCP, 80)).as("excepted").isFalse();
    assertThat(allowed("z/b", "x/a", TCP, 80)).isFalse();
  }

  @Test
  void anExceptInOneBlockDoesNotTakeAwayWhatAnotherRuleAllows() {
    // e2e: "should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed".
    policy(egress("x", "except-b", selector("pod", "a"),
        rule(List.of(new Peer.IpBlock("10.0.2.0/24", List.of("10.0.2.2/32"))), List.of())));
    assertThat(allowed("x/a", "y/b", TCP, 80)).isFalse();
    policy(egress("x", "allow-b", selector("pod", "a"),
        rule(List.of(new Peer.IpBlock("10.0.2.2/32", List.of())), List.of())));
    Verdict v = check("x/a", "y/b", TCP, 80);
    assertThat(v.allowed()).isTrue();
    assertThat(v.egress().allowedBy()).containsExactly(new RuleRef(ref("x", "allow-b"), PolicyType.EGRESS, 0));
  }

  @Test
  void ipBlocksWorkForIpv6AndNeverMatchTheOtherFamily() {
    pod("x", "v6", Map.of("pod", "v6"), "fd00:1::5");
    policy(egress("x", "to-doc", selector("pod", "v6"), rule(List.of(
        new Peer.IpBlock("2001:db8::/32", List.of("2001:db8:ffff::/48")),
        new Peer.IpBlock("0.0.0.0/0", List.of())), List.of())));
    assertThat(allowed("x/v6", "2001:db8:1::9", TCP, 443)).isTrue();
    assertThat(allowed("x/v6", "2001:0DB8:FFFF:0:0:0:0:1", TCP, 443)).isFalse();
    assertThat(allowed("x/v6", "2001:db9::1", TCP, 443)).as("0.0.0.0/0 is IPv4 only").isFalse();
  }

  @Test
  void ipv4MappedAndEmbeddedFormsAreIpv6() {
    pod("x", "v6", Map.of("pod", "v6"), "fd00:1::5");
    policy(egress("x", "to-mapped", selector("pod", "v6"),
        rule(List.of(new Peer.IpBlock("::ffff:0:0/96", List.of())), List.of())));
    assertThat(allowed("x/v6", "::ffff:203.0.113.1", TCP, 443)).isTrue();
  }

  @Test
  void aDualStackPodUsesItsAddressOfTheConnectionsFamily() {
    pod("x", "dual", Map.of("pod", "dual"), "10.0.1.9", "fd00:1::9");
    policy(ingress("x", "v6-only", selector("pod", "dual"),
        rule(List.of(new Peer.IpBlock("2001:db8::/32", List.of())), List.of())));
    assertThat(allowed("2001:db8::1", "x/dual", TCP, 80)).isTrue();
    assertThat(check("2001:db8::1", "x/dual", TCP, 80).to().address()).isEqualTo("fd00:1::9");
    assertThat(allowed("203.0.113.1", "x/dual", TCP, 80)).isFalse();
  }

  @Test
  void anIpBlockThatDoesNotParseMatchesNothing() {
    policy(egress("x", "bad", selector("pod", "a"), rule(List.of(
        new Peer.IpBlock("10.0.0.0/8", List.of("10.1.0.0/99"))), List.of())));
    assertThat(allowed("x/a", "10.2.0.1", TCP, 80)).isFalse();
  }

  // ---- ports ----

  @Test
  void egressToADnsLikePortAllowsThatPortOnly() {
    namespace("kube-system", Map.of());
    pod("kube-system", "dns", Map.of("k8s-app", "kube-dns"), "10.0.0.10");
    policy(egress("x", "dns-only", ALL, rule(
        List.of(new Peer.Pods(Optional.of(ALL), selector("k8s-app", "kube-dns"))),
        List.of(port(UDP, 53), port(TCP, 53)))));
    assertThat(allowed("x/a", "kube-system/dns", UDP, 53)).isTrue();
    assertThat(allowed("x/a", "kube-system/dns", TCP, 53)).isTrue();
    assertThat(allowed("x/a", "kube-system/dns", UDP, 54)).isFalse();
    assertThat(allowed("x/a", "y/a", UDP, 53)).isFalse();
  }

  @Test
  void missingPortsMeanEveryPortOfEveryProtocol() {
    policy(ingress("x", "from-b", selector("pod", "a"), rule(List.of(pods(selector("pod", "b"))), List.of())));
    assertThat(allowed("x/b", "x/a", TCP, 1)).isTrue();
    assertThat(allowed("x/b", "x/a", UDP, 65535)).isTrue();
    assertThat(allowed("x/b", "x/a", SCTP, 9)).isTrue();
  }

  @Test
  void aPortWithoutNumberMeansEveryPortOfItsProtocolOnly() {
    policy(ingress("x", "any-udp", selector("pod", "a"),
        rule(List.of(), List.of(new NetworkPolicy.Port(UDP, Optional.empty(), OptionalInt.empty())))));
    assertThat(allowed("y/a", "x/a", UDP, 5000)).isTrue();
    assertThat(allowed("y/a", "x/a", TCP, 5000)).isFalse();
  }

  @Test
  void sctpIsAProtocolOfItsOwn() {
    policy(ingress("x", "sctp-80", selector("pod", "a"), rule(List.of(), List.of(port(SCTP, 80)))));
    assertThat(allowed("y/a", "x/a", SCTP, 80)).isTrue();
    assertThat(allowed("y/a", "x/a", TCP, 80)).isFalse();
    assertThat(allowed("y/a", "x/a", UDP, 80)).isFalse();
  }

  @Test
  void endPortRangesIncludeBothEnds() {
    policy(ingress("x", "range", selector("pod", "a"), rule(List.of(),
        List.of(new NetworkPolicy.Port(TCP, Optional.of(PortRef.of(8000)), OptionalInt.of(8080))))));
    assertThat(allowed("y/a", "x/a", TCP, 7999)).isFalse();
    assertThat(allowed("y/a", "x/a", TCP, 8000)).isTrue();
    assertThat(allowed("y/a", "x/a", TCP, 8042)).isTrue();
    assertThat(allowed("y/a", "x/a", TCP, 8080)).isTrue();
    assertThat(allowed("y/a", "x/a", TCP, 8081)).isFalse();
  }

  @Test
  void namedIngressPortMeansEachSelectedPodsOwnNumber() {
    pod("x", "web1", Map.of("app", "web"), List.of(new NamedPort("http", 80, "TCP")), "10.0.1.21");
    pod("x", "web2", Map.of("app", "web"), List.of(new NamedPort("http", 8080, "TCP")), "10.0.1.22");
    policy(ingress("x", "http", selector("app", "web"), rule(List.of(), List.of(named(TCP, "http")))));
    assertThat(allowed("y/a", "x/web1", TCP, 80)).isTrue();
    assertThat(allowed("y/a", "x/web1", TCP, 8080)).isFalse();
    assertThat(allowed("y/a", "x/web2", TCP, 8080)).isTrue();
    assertThat(allowed("y/a", "x/web2", TCP, 80)).isFalse();
  }

  @Test
  void namedEgressPortMeansThePeerPodsNumber() {
    pod("y", "web1", Map.of("app", "web"), List.of(new NamedPort("http", 80, "TCP")), "10.0.2.21");
    pod("y", "web2", Map.of("app", "web"), List.of(new NamedPort("http", 8080, "TCP")), "10.0.2.22");
    // The source also names a port "http", with another number: it must not count.
    pod("x", "client", Map.of("app", "client"), List.of(new NamedPort("http", 9090, "TCP")), "10.0.1.30");
    policy(egress("x", "to-http", selector("app", "client"),
        rule(List.of(new Peer.Pods(Optional.of(ALL), ALL)), List.of(named(TCP, "http")))));
    assertThat(allowed("x/client", "y/web1", TCP, 80)).isTrue();
    assertThat(allowed("x/client", "y/web2", TCP, 8080)).isTrue();
    assertThat(allowed("x/client", "y/web2", TCP, 80)).isFalse();
    assertThat(allowed("x/client", "y/web1", TCP, 9090)).isFalse();
  }

  @Test
  void aNamedPortMatchesNothingOnAnAddressOutsideTheCluster() {
    policy(egress("x", "http-anywhere", selector("pod", "a"),
        rule(List.of(new Peer.IpBlock("0.0.0.0/0", List.of())), List.of(named(TCP, "http")))));
    assertThat(allowed("x/a", "203.0.113.5", TCP, 80)).isFalse();
  }

  @Test
  void aNamedPortMustHaveTheRulesProtocol() {
    pod("x", "dns", Map.of("app", "dns"), List.of(new NamedPort("dns", 53, "UDP")), "10.0.1.53");
    policy(ingress("x", "dns-tcp", selector("app", "dns"), rule(List.of(), List.of(named(TCP, "dns")))));
    assertThat(allowed("y/a", "x/dns", TCP, 53)).isFalse();
    policy(ingress("x", "dns-udp", selector("app", "dns"), rule(List.of(), List.of(named(UDP, "dns")))));
    assertThat(allowed("y/a", "x/dns", UDP, 53)).isTrue();
  }

  @Test
  void aContainerPortWithoutProtocolIsTcp() {
    pod("x", "web", Map.of("app", "web"), List.of(new NamedPort("http", 80, "")), "10.0.1.80");
    policy(ingress("x", "http", selector("app", "web"), rule(List.of(), List.of(named(TCP, "http")))));
    assertThat(allowed("y/a", "x/web", TCP, 80)).isTrue();
  }

  // ---- union ----

  @Test
  void policiesAndRulesAddUp() {
    policy(ingress("x", "b-on-80", selector("pod", "a"), rule(List.of(pods(selector("pod", "b"))), List.of(port(TCP, 80)))));
    policy(ingress("x", "c-on-81", selector("pod", "a"),
        rule(List.of(pods(selector("pod", "b"))), List.of(port(TCP, 9))),
        rule(List.of(pods(selector("pod", "c"))), List.of(port(TCP, 81)))));
    assertThat(allowed("x/b", "x/a", TCP, 80)).isTrue();
    assertThat(allowed("x/b", "x/a", TCP, 81)).isFalse();
    Verdict v = check("x/c", "x/a", TCP, 81);
    assertThat(v.allowed()).isTrue();
    assertThat(v.ingress().isolatingPolicies()).containsExactly(ref("x", "b-on-80"), ref("x", "c-on-81"));
    assertThat(v.ingress().allowedBy()).containsExactly(new RuleRef(ref("x", "c-on-81"), PolicyType.INGRESS, 1));
  }

  @Test
  void anAllowAllEgressPolicyWinsOverADenyAll() {
    policy(egress("x", "deny-all", ALL));
    policy(egress("x", "allow-all", ALL, rule(List.of(), List.of())));
    assertThat(allowed("x/a", "203.0.113.5", UDP, 123)).isTrue();
  }

  // ---- hostNetwork ----

  @Test
  void hostNetworkPodsAreNeverIsolated() {
    hostPod("x", "agent", Map.of("pod", "a"), "192.168.0.10");
    policy(new NetworkPolicy(ref("x", "deny-all"), ALL, EnumSet.allOf(PolicyType.class), List.of(), List.of()));
    Verdict out = check("x/agent", "y/a", TCP, 80);
    assertThat(out.allowed()).isTrue();
    assertThat(out.egress().isolation()).isEqualTo(Isolation.HOST_NETWORK);
    assertThat(allowed("y/a", "x/agent", TCP, 80)).isTrue();
  }

  @Test
  void hostNetworkPeersMatchOnlyIpBlocks() {
    hostPod("y", "agent", Map.of("pod", "b"), "192.168.0.10");
    policy(ingress("y", "from-pods", selector("pod", "a"),
        rule(List.of(new Peer.Pods(Optional.of(ALL), ALL)), List.of())));
    assertThat(allowed("y/agent", "y/a", TCP, 80)).isFalse();
    assertThat(allowed("y/b", "y/a", TCP, 80)).isTrue();
    policy(ingress("y", "from-nodes", selector("pod", "a"),
        rule(List.of(new Peer.IpBlock("192.168.0.0/24", List.of())), List.of())));
    assertThat(allowed("y/agent", "y/a", TCP, 80)).isTrue();
  }

  @Test
  void anAddressOfHostNetworkPodsStaysAnAddress() {
    hostPod("y", "agent", Map.of(), "192.168.0.10");
    Verdict v = check("192.168.0.10", "x/a", TCP, 80);
    assertThat(v.from().pod()).isEmpty();
    assertThat(v.egress().isolation()).isEqualTo(Isolation.NOT_A_POD);
  }

  // ---- endpoints ----

  @Test
  void anAddressOfAPodIsThatPod() {
    policy(ingress("x", "from-b", selector("pod", "a"), rule(List.of(pods(selector("pod", "b"))), List.of())));
    Verdict v = check("10.0.1.2", "10.0.1.1", TCP, 80);
    assertThat(v.allowed()).isTrue();
    assertThat(v.from().pod()).contains(ref("x", "b"));
    assertThat(v.to().pod()).contains(ref("x", "a"));
    assertThat(check("010.000.001.002", "x/a", TCP, 80).from().pod()).as("leading zeros").contains(ref("x", "b"));
  }

  @Test
  void ipv6AddressesAreComparedAsAddressesNotAsText() {
    pod("x", "v6", Map.of(), "2001:db8:0:0::7");
    assertThat(check("2001:DB8::7", "2001:db8::99", TCP, 80).from().pod()).contains(ref("x", "v6"));
  }

  @Test
  void anAddressOfSeveralPodsIsAnError() {
    pod("z", "twin", Map.of(), "10.0.1.1");
    assertThatThrownBy(() -> check("y/a", "10.0.1.1", TCP, 80))
        .isInstanceOf(EndpointException.class)
        .hasMessageContaining("x/a").hasMessageContaining("z/twin");
  }

  @Test
  void aPodWithoutIpCannotBeAnEndpoint() {
    pods.put(ref("x", "pending"), new Pod(ref("x", "pending"), Map.of(), List.of(), List.of(), false));
    assertThatThrownBy(() -> check("x/pending", "y/a", TCP, 80))
        .isInstanceOfSatisfying(EndpointException.class, e -> {
          assertThat(e.source()).isTrue();
          assertThat(e.reason()).contains("no IP");
        });
    assertThatThrownBy(() -> check("y/a", "x/pending", TCP, 80))
        .isInstanceOfSatisfying(EndpointException.class, e -> assertThat(e.source()).isFalse());
  }

  @Test
  void aMissingPodIsAnError() {
    assertThatThrownBy(() -> check("x/nope", "y/a", TCP, 80))
        .isInstanceOf(EndpointException.class).hasMessage("from x/nope: no such pod");
  }

  @Test
  void endsOfDifferentFamiliesAreAnError() {
    assertThatThrownBy(() -> check("10.0.0.1", "2001:db8::1", TCP, 80)).isInstanceOf(EndpointException.class)
        .hasMessageContaining("IPv6").hasMessageContaining("IPv4");
    assertThatThrownBy(() -> check("x/a", "2001:db8::1", TCP, 80)).isInstanceOf(EndpointException.class)
        .hasMessage("from x/a: pod has no IPv6 address (it has 10.0.1.1)");
  }

  @Test
  void portsOutsideOneTo65535AreRejected() {
    assertThatThrownBy(() -> check("x/a", "y/a", TCP, 0)).hasMessageContaining("port 0");
    assertThatThrownBy(() -> check("x/a", "y/a", TCP, 65536)).hasMessageContaining("port 65536");
  }

  @Test
  void endpointsParseAsNamespaceSlashPodOrAddress() {
    assertThat(Endpoint.parse("x/a")).isEqualTo(Endpoint.pod("x", "a"));
    assertThat(Endpoint.parse("10.1.2.3")).isEqualTo(Endpoint.ip("10.1.2.3"));
    assertThat(Endpoint.parse("::1")).isEqualTo(Endpoint.ip("::1"));
    for (String bad : List.of("x/a/b", "/a", "x/", "web", "10.1.2", "10.1.2.256", "1::2::3", "fe80::1%eth0",
        "1:2:3:4:5:6:7:8:9", "10.0.0.0/8")) {
      assertThatThrownBy(() -> Endpoint.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
    }
  }

  // ---- legacy annotation ----

  @Test
  void legacyDefaultDenyIsolatesIngressOnlyWhenEnabled() {
    namespace("x", Map.of("ns", "x"), Map.of(ReferenceEvaluator.LEGACY_ISOLATION_ANNOTATION, DEFAULT_DENY));
    assertThat(allowed("y/a", "x/a", TCP, 80)).as("flag off").isTrue();
    evaluator = new ReferenceEvaluator(true);
    Verdict v = check("y/a", "x/a", TCP, 80);
    assertThat(v.allowed()).isFalse();
    assertThat(v.ingress().byNamespaceAnnotation()).isTrue();
    assertThat(v.ingress().isolatingPolicies()).isEmpty();
    assertThat(allowed("x/a", "y/a", TCP, 80)).as("egress is not isolated").isTrue();
  }

  @Test
  void legacyDefaultDenyCombinesWithPolicies() {
    namespace("x", Map.of("ns", "x"), Map.of(ReferenceEvaluator.LEGACY_ISOLATION_ANNOTATION, DEFAULT_DENY));
    evaluator = new ReferenceEvaluator(true);
    policy(ingress("x", "from-b", selector("pod", "a"), rule(List.of(pods(selector("pod", "b"))), List.of())));
    assertThat(allowed("x/b", "x/a", TCP, 80)).isTrue();
    assertThat(allowed("x/c", "x/a", TCP, 80)).isFalse();
    assertThat(allowed("x/c", "x/b", TCP, 80)).isFalse();
  }

  @Test
  void aPreV1PolicyHasNoEffectWithoutTheAnnotationAndAllowsWithIt() {
    evaluator = new ReferenceEvaluator(true);
    policy(ingress("x", "from-b", selector("pod", "a"), rule(List.of(pods(selector("pod", "b"))), List.of()))
        .asAllowOnly());
    assertThat(allowed("x/c", "x/a", TCP, 80)).as("no DefaultDeny: the policy isolates nothing").isTrue();
    assertThat(check("x/c", "x/a", TCP, 80).ingress().isolation()).isEqualTo(Verdict.Isolation.NOT_ISOLATED);
    namespace("x", Map.of("ns", "x"), Map.of(ReferenceEvaluator.LEGACY_ISOLATION_ANNOTATION, DEFAULT_DENY));
    assertThat(allowed("x/b", "x/a", TCP, 80)).isTrue();
    assertThat(allowed("x/c", "x/a", TCP, 80)).isFalse();
    assertThat(allowed("x/c", "x/b", TCP, 80)).as("isolated by the annotation alone").isFalse();
  }

  @Test
  void legacyAnnotationIsReadAsKubernetesReadIt() {
    evaluator = new ReferenceEvaluator(true);
    Map<String, Boolean> cases = Map.of(
        "{\"ingress\":{\"isolation\":\"DefaultDeny\"},\"other\":[1,2.5e3,true,null]}", true,
        " { \"Ingress\" : { \"ISOLATION\" : \"DefaultDeny\" } } ", true,
        "{\"ingress\": {\"isolation\": \"\\u0044efaultDeny\"}}", true,
        "{\"ingress\": {\"isolation\": \"None\"}}", false,
        "{\"ingress\": {\"isolation\": \"defaultdeny\"}}", false,
        "{\"egress\": {\"isolation\": \"DefaultDeny\"}}", false,
        "{\"ingress\": {\"isolation\": \"DefaultDeny\"}", false,
        "DefaultDeny", false,
        "", false);
    cases.forEach((value, isolates) -> {
      namespace("x", Map.of("ns", "x"), Map.of(ReferenceEvaluator.LEGACY_ISOLATION_ANNOTATION, value));
      assertThat(check("y/a", "x/a", TCP, 80).ingress().isolated()).as(value).isEqualTo(isolates);
    });
  }

  // ---- explanation ----

  @Test
  void theExplanationNamesThePoliciesAndTheRuleThatAllowed() {
    policy(ingress("y", "db-allow", selector("pod", "b"),
        rule(List.of(new Peer.Pods(Optional.of(selector("ns", "x")), ALL)), List.of(port(TCP, 5432)))));
    assertThat(check("x/a", "y/b", TCP, 5432).toString()).isEqualTo("""
        ALLOWED
        egress of x/a: not isolated (no policy with Egress selects it)
        ingress of y/b: isolated by y/db-allow (rule 0 allows from x/a on TCP 5432)""");
    policy(ingress("y", "deny-all", ALL));
    assertThat(check("x/a", "y/b", TCP, 5433).explanation()).containsExactly(
        "egress of x/a: not isolated (no policy with Egress selects it)",
        "ingress of y/b: isolated by y/db-allow, y/deny-all (no rule allows from x/a on TCP 5433)");
    assertThat(check("x/a", "y/b", TCP, 5432).explanation().get(1))
        .isEqualTo("ingress of y/b: isolated by y/db-allow, y/deny-all (y/db-allow rule 0 allows from x/a on TCP 5432)");
    assertThat(check("203.0.113.1", "x/a", UDP, 53).explanation().get(0))
        .isEqualTo("egress of 203.0.113.1: not isolated (an address, not a pod: policies govern pods only)");
  }

  // ---- fixture ----

  private boolean allowed(String from, String to, Protocol protocol, int port) {
    return check(from, to, protocol, port).allowed();
  }

  private Verdict check(String from, String to, Protocol protocol, int port) {
    Snapshot s = new Snapshot(1, namespaces, pods, Map.of(), policies, Map.of(), Map.of());
    return evaluator.evaluate(s, Endpoint.parse(from), Endpoint.parse(to), protocol, port);
  }

  /** Which of x/a, x/b, x/c, x/d a deny-all ingress policy with this one requirement isolates. */
  private List<String> isolatedIngressPods(Requirement requirement) {
    policies.clear();
    policy(ingress("x", "p", new LabelSelector(Map.of(), List.of(requirement))));
    return List.of("a", "b", "c", "d").stream().filter(p -> check("y/a", "x/" + p, TCP, 80).ingress().isolated())
        .toList();
  }

  private void namespace(String name, Map<String, String> labels) {
    namespace(name, labels, Map.of());
  }

  private void namespace(String name, Map<String, String> labels, Map<String, String> annotations) {
    Map<String, String> all = new HashMap<>(labels);
    all.put(ReferenceEvaluator.NAMESPACE_NAME_LABEL, name);
    namespaces.put(name, new Namespace(name, all, annotations));
  }

  private void pod(String ns, String name, Map<String, String> labels, String... ips) {
    pod(ns, name, labels, List.of(), ips);
  }

  private void pod(String ns, String name, Map<String, String> labels, List<NamedPort> ports, String... ips) {
    pods.put(ref(ns, name), new Pod(ref(ns, name), labels, Arrays.asList(ips), ports, false));
  }

  private void hostPod(String ns, String name, Map<String, String> labels, String ip) {
    pods.put(ref(ns, name), new Pod(ref(ns, name), labels, List.of(ip), List.of(), true));
  }

  private void policy(NetworkPolicy p) {
    policies.put(p.ref(), p);
  }

  private static NetworkPolicy ingress(String ns, String name, LabelSelector selector, Rule... rules) {
    return new NetworkPolicy(ref(ns, name), selector, Set.of(PolicyType.INGRESS), List.of(rules), List.of());
  }

  private static NetworkPolicy egress(String ns, String name, LabelSelector selector, Rule... rules) {
    return new NetworkPolicy(ref(ns, name), selector, Set.of(PolicyType.EGRESS), List.of(), List.of(rules));
  }

  private static Rule rule(List<Peer> peers, List<NetworkPolicy.Port> ports) {
    return new Rule(peers, ports);
  }

  private static Peer pods(LabelSelector podSelector) {
    return new Peer.Pods(Optional.empty(), podSelector);
  }

  private static NetworkPolicy.Port port(Protocol protocol, int number) {
    return NetworkPolicy.Port.of(protocol, number);
  }

  private static NetworkPolicy.Port named(Protocol protocol, String name) {
    return new NetworkPolicy.Port(protocol, Optional.of(PortRef.of(name)), OptionalInt.empty());
  }

  private static LabelSelector selector(String key, String value) {
    return LabelSelector.of(Map.of(key, value));
  }

  private static ObjectRef ref(String ns, String name) {
    return new ObjectRef(ns, name);
  }
}
