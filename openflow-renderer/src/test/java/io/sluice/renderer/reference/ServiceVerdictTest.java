package io.sluice.renderer.reference;

import static io.sluice.model.Protocol.TCP;
import static io.sluice.model.Protocol.UDP;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.model.EndpointSlice;
import io.sluice.model.LabelSelector;
import io.sluice.model.Namespace;
import io.sluice.model.NetworkPolicy;
import io.sluice.model.NetworkPolicy.Peer;
import io.sluice.model.NetworkPolicy.PolicyType;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortRef;
import io.sluice.model.Service;
import io.sluice.model.Snapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Namespace shop: client 10.0.0.5, web-1 10.0.0.11 and web-2 10.0.0.12 (container port http = 8080, labelled
 * app=web); Service shop/web 10.96.0.10 with port http TCP 80 → targetPort http, whose slice lists web-1 and web-2
 * ready on 8080, and port dns UDP 53 whose slice port is missing.
 */
class ServiceVerdictTest {
  private static final String VIP = "10.96.0.10";
  private static final Endpoint CLIENT = Endpoint.pod("shop", "client");
  private final ReferenceEvaluator evaluator = new ReferenceEvaluator();
  private final List<NetworkPolicy> policies = new ArrayList<>();
  private List<EndpointSlice.Endpoint> endpoints = List.of(ready("10.0.0.12", "web-2"), ready("10.0.0.11", "web-1"));

  @Test
  void aConnectionToAnAddressThatIsNoServicePortIsNotTranslated() {
    assertThat(verdict("10.0.0.11", TCP, 8080)).isEmpty();
    assertThat(verdict(VIP, TCP, 81)).isEmpty();
    assertThat(verdict(VIP, UDP, 80)).isEmpty();
  }

  @Test
  void withoutPoliciesEveryEndpointIsReachedAtItsTargetPort() {
    ServiceVerdict v = verdict(VIP, TCP, 80).orElseThrow();
    assertThat(v.refused()).isFalse();
    assertThat(v.translations()).extracting(t -> t.backend().toString())
        .containsExactly("10.0.0.12:8080 (shop/web-2)", "10.0.0.11:8080 (shop/web-1)");
    assertThat(v.translations()).allMatch(t -> t.verdict().allowed());
    assertThat(v.translations()).extracting(t -> t.verdict().port()).containsOnly(8080);
    assertThat(v.to("10.0.0.11", 8080)).isPresent();
    assertThat(v.to("10.0.0.11", 80)).isEmpty();
  }

  @Test
  void aPortWithoutUsableEndpointsRefusesTheClient() {
    assertThat(verdict(VIP, UDP, 53).orElseThrow().refused()).isTrue();
    endpoints = List.of(new EndpointSlice.Endpoint(List.of("10.0.0.11"), false, false, true, Optional.empty(), "n"));
    assertThat(verdict(VIP, TCP, 80).orElseThrow().refused()).isTrue();
  }

  @Test
  void servingTerminatingEndpointsAreUsedOnlyWhenNoneIsReady() {
    endpoints = List.of(ready("10.0.0.12", "web-2"),
        new EndpointSlice.Endpoint(List.of("10.0.0.11"), false, true, true, Optional.empty(), "n"));
    assertThat(verdict(VIP, TCP, 80).orElseThrow().translations()).extracting(t -> t.backend().address())
        .containsExactly("10.0.0.12");
    endpoints = List.of(new EndpointSlice.Endpoint(List.of("10.0.0.11"), false, true, true, Optional.empty(), "n"));
    assertThat(verdict(VIP, TCP, 80).orElseThrow().translations()).extracting(t -> t.backend().address())
        .containsExactly("10.0.0.11");
  }

  @Test
  void theEndpointsIngressJudgesEachTranslationOnItsOwn() {
    policies.add(new NetworkPolicy(new ObjectRef("shop", "web-2-from-nobody"), LabelSelector.of(Map.of("name", "web-2")),
        Set.of(PolicyType.INGRESS), List.of(), List.of()));
    ServiceVerdict v = verdict(VIP, TCP, 80).orElseThrow();
    assertThat(v.to("10.0.0.11", 8080).orElseThrow().verdict().allowed()).isTrue();
    Verdict denied = v.to("10.0.0.12", 8080).orElseThrow().verdict();
    assertThat(denied.allowed()).isFalse();
    assertThat(denied.ingress().isolatingPolicies()).containsExactly(new ObjectRef("shop", "web-2-from-nobody"));
  }

  @Test
  void theClientsEgressIsJudgedTowardTheEndpointNotTheVirtualAddress() {
    policies.add(egress("to-vip", new Peer.IpBlock("10.96.0.0/16", List.of()), NetworkPolicy.Port.of(TCP, 80)));
    assertThat(verdict(VIP, TCP, 80).orElseThrow().translations()).noneMatch(t -> t.verdict().allowed());
    policies.clear();
    policies.add(egress("to-web-1", new Peer.IpBlock("10.0.0.11/32", List.of()),
        new NetworkPolicy.Port(TCP, Optional.of(PortRef.of("http")), OptionalInt.empty())));
    ServiceVerdict v = verdict(VIP, TCP, 80).orElseThrow();
    assertThat(v.to("10.0.0.11", 8080).orElseThrow().verdict().allowed()).isTrue();
    assertThat(v.to("10.0.0.12", 8080).orElseThrow().verdict().allowed()).isFalse();
  }

  @Test
  void anEndpointReachingItselfThroughTheServiceIsNotGoverned() {
    policies.add(new NetworkPolicy(new ObjectRef("shop", "deny-all"), LabelSelector.EVERYTHING,
        Set.of(PolicyType.INGRESS, PolicyType.EGRESS), List.of(), List.of()));
    ServiceVerdict v = ServiceVerdict.of(evaluator, snapshot(), Endpoint.pod("shop", "web-1"), VIP, TCP, 80).orElseThrow();
    assertThat(v.to("10.0.0.11", 8080).orElseThrow().verdict().allowed()).isTrue();
    assertThat(v.to("10.0.0.12", 8080).orElseThrow().verdict().allowed()).isFalse();
  }

  private Optional<ServiceVerdict> verdict(String address, io.sluice.model.Protocol protocol, int port) {
    return ServiceVerdict.of(evaluator, snapshot(), CLIENT, address, protocol, port);
  }

  private static NetworkPolicy egress(String name, Peer to, NetworkPolicy.Port port) {
    return new NetworkPolicy(new ObjectRef("shop", name), LabelSelector.of(Map.of("name", "client")),
        Set.of(PolicyType.EGRESS), List.of(), List.of(new NetworkPolicy.Rule(List.of(to), List.of(port))));
  }

  private static EndpointSlice.Endpoint ready(String address, String pod) {
    return new EndpointSlice.Endpoint(List.of(address), true, true, false, Optional.of(new ObjectRef("shop", pod)), "n");
  }

  private Snapshot snapshot() {
    Map<ObjectRef, Pod> pods = new TreeMap<>();
    List<Pod.NamedPort> http = List.of(new Pod.NamedPort("http", 8080, "TCP"));
    pods.put(new ObjectRef("shop", "client"), new Pod(new ObjectRef("shop", "client"), Map.of("name", "client"),
        List.of("10.0.0.5"), List.of(), false));
    for (int i = 1; i <= 2; i++) {
      ObjectRef ref = new ObjectRef("shop", "web-" + i);
      pods.put(ref, new Pod(ref, Map.of("app", "web", "name", "web-" + i), List.of("10.0.0.1" + i), http, false));
    }
    Service web = new Service(new ObjectRef("shop", "web"), Service.Type.CLUSTER_IP, List.of(VIP),
        List.of(new Service.Port("http", TCP, 80, PortRef.of("http"), 0), new Service.Port("dns", UDP, 53, PortRef.of(5353), 0)),
        Map.of("app", "web"), Service.SessionAffinity.NONE, 0);
    EndpointSlice slice = new EndpointSlice(new ObjectRef("shop", "web-abc"), "web", EndpointSlice.AddressType.IPV4,
        endpoints, List.of(new EndpointSlice.Port("http", TCP, OptionalInt.of(8080))));
    Map<ObjectRef, NetworkPolicy> nps = new TreeMap<>();
    policies.forEach(p -> nps.put(p.ref(), p));
    return new Snapshot(1, Map.of("shop", new Namespace("shop", Map.of(ReferenceEvaluator.NAMESPACE_NAME_LABEL, "shop"))),
        pods, Map.of(), nps, Map.of(web.ref(), web), Map.of(slice.ref(), slice));
  }
}
