package io.sluice.renderer.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.model.ClusterModel;
import io.sluice.model.LabelSelector;
import io.sluice.model.ModelEvent;
import io.sluice.model.Namespace;
import io.sluice.model.NetworkPolicy;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.PortRef;
import io.sluice.model.Protocol;
import io.sluice.model.Snapshot;
import io.sluice.renderer.Renderer;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.pipeline.PipelineProfile;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PolicyCompilerTest {
  static final long DPID = 0x5d01;

  static Pod pod(String ns, String name, String ip, Map<String, String> labels, Pod.NamedPort... ports) {
    return new Pod(new ObjectRef(ns, name), labels, List.of(ip), List.of(ports), false);
  }

  static Snapshot cluster(List<NetworkPolicy> policies) {
    ClusterModel m = new ClusterModel(1);
    List<ModelEvent> ev = new ArrayList<>();
    ev.add(new ModelEvent.NamespaceUpserted(new Namespace("shop", Map.of("team", "shop"))));
    ev.add(new ModelEvent.NamespaceUpserted(new Namespace("ops", Map.of("team", "ops"))));
    Pod web = pod("shop", "web", "10.0.0.1", Map.of("app", "web"));
    Pod db = pod("shop", "db", "10.0.0.2", Map.of("app", "db"), new Pod.NamedPort("pg", 5432, "TCP"));
    Pod probe = pod("ops", "probe", "10.0.1.1", Map.of("app", "probe"));
    long port = 1;
    for (Pod p : List.of(web, db, probe)) {
      ev.add(new ModelEvent.PodUpserted(p));
      ev.add(new ModelEvent.PortBound(new PortBinding(p.ref(), DPID, port++, "0a:58:00:00:00:0" + port)));
    }
    for (NetworkPolicy np : policies) {
      ev.add(new ModelEvent.NetworkPolicyUpserted(np));
    }
    return m.apply(ev);
  }

  static NetworkPolicy dbAllowsWebOnPg() {
    NetworkPolicy.Peer web = new NetworkPolicy.Peer.Pods(Optional.empty(), LabelSelector.of(Map.of("app", "web")));
    NetworkPolicy.Peer ops = new NetworkPolicy.Peer.Pods(Optional.of(LabelSelector.of(Map.of("team", "ops"))), LabelSelector.EVERYTHING);
    NetworkPolicy.Port pg = new NetworkPolicy.Port(Protocol.TCP, Optional.of(PortRef.of("pg")), OptionalInt.empty());
    NetworkPolicy.Port range = new NetworkPolicy.Port(Protocol.TCP, Optional.of(PortRef.of(9000)), OptionalInt.of(9007));
    return new NetworkPolicy(new ObjectRef("shop", "db-allow"), LabelSelector.of(Map.of("app", "db")),
        Set.of(NetworkPolicy.PolicyType.INGRESS),
        List.of(new NetworkPolicy.Rule(List.of(web), List.of(pg)), new NetworkPolicy.Rule(List.of(web, ops), List.of(range))),
        List.of());
  }

  @Test
  void theWorkedExampleOfTheDocsIsWhatTheCompilerPrints() throws Exception {
    List<Flow> flows = PolicyCompiler.compile(cluster(List.of(dbAllowsWebOnPg())), DPID, 1);
    flows.forEach(System.out::println);
    assertThat(flows).extracting(Flow::toString)
        .containsExactlyInAnyOrderElementsOf(io.sluice.renderer.DocsExamples.block("policy"));
  }

  /**
   * A policy annotated {@code sluice.io/log: "true"}: each of its allowing flows marks the packet (reg6 bit 1) and
   * names the rule (reg8 for ingress), and nothing else changes; the base pipeline forwards such a packet, then sends
   * a copy through the allow meter to the controller.
   */
  @Test
  void aLoggedPolicysAllowingFlowsNameTheirRuleForTheAuditLog() {
    List<String> plain = PolicyCompiler.compile(cluster(List.of(dbAllowsWebOnPg())), DPID, 1).stream()
        .map(Flow::toString).toList();
    List<String> logged = PolicyCompiler.compile(cluster(List.of(dbAllowsWebOnPg().withLog(true))), DPID, 1).stream()
        .map(Flow::toString).toList();
    assertThat(logged).hasSameSizeAs(plain).contains(
        " cookie=0x5c02000171de9e12, table=40, priority=200,conj_id=1910414866"
            + " actions=set_field:0x2/0x2->reg6,set_field:0x71de9e12->reg8,goto_table:50",
        " cookie=0x5c0200017ce66dda, table=40, priority=200,conj_id=2095476186"
            + " actions=set_field:0x2/0x2->reg6,set_field:0x7ce66dda->reg8,goto_table:50");
    // everything but the two allowing flows is the same
    assertThat(logged.stream().filter(plain::contains)).hasSize(plain.size() - 2);
    List<String> base = PipelineProfile.ovs().baseFlows(DPID, 1).stream().map(Flow::toString).toList();
    assertThat(base).contains(
        " cookie=0x5c08000100000000, table=90, priority=50,reg6=0x2/0x2 actions=NORMAL,resubmit(,95)",
        " cookie=0x5c08000100000001, table=95, priority=100 actions=meter:23555,CONTROLLER:128");
  }

  @Test
  void aRuleWithPPeersAndQPortsCostsAboutPPlusQFlows() {
    List<NetworkPolicy.Peer> peers = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      peers.add(new NetworkPolicy.Peer.IpBlock("192.168." + i + ".0/24", List.of()));
    }
    List<NetworkPolicy.Port> ports = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      ports.add(NetworkPolicy.Port.of(Protocol.TCP, 8000 + i));
    }
    NetworkPolicy np = new NetworkPolicy(new ObjectRef("shop", "wide"), LabelSelector.of(Map.of("app", "db")),
        Set.of(NetworkPolicy.PolicyType.INGRESS), List.of(new NetworkPolicy.Rule(peers, ports)), List.of());
    List<Flow> flows = PolicyCompiler.compile(cluster(List.of(np)), DPID, 1);
    assertThat(flows.size()).isLessThanOrEqualTo(120);
  }

  @Test
  void theLegacyDefaultDenyAnnotationIsolatesOnlyBehindTheFlag() {
    Snapshot s = cluster(List.of());
    s = new ClusterModel(1).apply(List.of(
        new ModelEvent.NamespaceUpserted(new Namespace("shop", Map.of(), Map.of(PolicyCompiler.LEGACY_ANNOTATION,
            "{\"ingress\": {\"isolation\": \"DefaultDeny\"}}"))),
        new ModelEvent.PodUpserted(s.pods().get(new ObjectRef("shop", "db"))),
        new ModelEvent.PortBound(s.bindings().get(new ObjectRef("shop", "db")))));
    assertThat(PolicyCompiler.compile(s, DPID, 1, false)).isEmpty();
    assertThat(PolicyCompiler.compile(s, DPID, 1, true)).extracting(Flow::toString)
        .contains(" cookie=0x5c05000100000000, table=40, priority=100,ip,nw_dst=10.0.0.2 actions=meter:23554,CONTROLLER:128");
    assertThat(PolicyCompiler.legacyDefaultDeny(new Namespace("x", Map.of(), Map.of(PolicyCompiler.LEGACY_ANNOTATION,
        "{\"ingress\": {\"isolation\": \"Allow\"}}")))).isFalse();
  }

  @Test
  void aPreV1PolicyIsolatesNothingByItselfAndAllowsUnderTheAnnotation() {
    NetworkPolicy beta = dbAllowsWebOnPg().asAllowOnly();
    String isolation = " cookie=0x5c05000100000000, table=40, priority=100,ip,nw_dst=10.0.0.2 actions=meter:23554,CONTROLLER:128";
    // Without the namespace's DefaultDeny, it has no effect: no isolation drop for db.
    assertThat(PolicyCompiler.compile(cluster(List.of(beta)), DPID, 1, true)).extracting(Flow::toString)
        .doesNotContain(isolation);
    // With it, db is isolated by the annotation and the policy's rule is what gets through.
    Snapshot plain = cluster(List.of(beta));
    List<ModelEvent> events = new ArrayList<>();
    events.add(new ModelEvent.NamespaceUpserted(new Namespace("shop", Map.of("team", "shop"),
        Map.of(PolicyCompiler.LEGACY_ANNOTATION, "{\"ingress\": {\"isolation\": \"DefaultDeny\"}}"))));
    events.add(new ModelEvent.NamespaceUpserted(plain.namespaces().get("ops")));
    plain.pods().values().forEach(p -> events.add(new ModelEvent.PodUpserted(p)));
    plain.bindings().values().forEach(b -> events.add(new ModelEvent.PortBound(b)));
    events.add(new ModelEvent.NetworkPolicyUpserted(beta));
    Snapshot s = new ClusterModel(1).apply(events);
    List<String> annotated = PolicyCompiler.compile(s, DPID, 1, true).stream().map(Flow::toString).toList();
    assertThat(annotated).contains(isolation);
    // The same rules as the v1 policy's, under the same cookie: only the isolation's origin differs.
    List<String> v1 = PolicyCompiler.compile(cluster(List.of(dbAllowsWebOnPg())), DPID, 1, false).stream()
        .map(Flow::toString).filter(f -> !f.contains("0x5c05000100000000")).toList();
    assertThat(annotated).containsAll(v1);
    // A v1 policy of the same shape beside it still isolates (the shapes are told apart).
    NetworkPolicy v1Twin = new NetworkPolicy(new ObjectRef("shop", "z-v1"), beta.podSelector(), beta.policyTypes(),
        beta.ingress(), beta.egress());
    assertThat(PolicyCompiler.compile(cluster(List.of(beta, v1Twin)), DPID, 1, true)).extracting(Flow::toString)
        .contains(isolation);
  }

  @Test
  void everyFlowFitsTheDeclaredPipeline() {
    List<Flow> flows = new Renderer(PipelineProfile.ovs(), 1).render(cluster(List.of(dbAllowsWebOnPg())), DPID).flows().values().stream().toList();
    assertThat(flows).isNotEmpty();
  }

  @Test
  void identicalPoliciesShareOneSetOfFlowsAndOneConjunction() {
    NetworkPolicy one = dbAllowsWebOnPg();
    List<NetworkPolicy> copies = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      copies.add(new NetworkPolicy(new ObjectRef("shop", "copy-" + i), one.podSelector(), one.policyTypes(), one.ingress(),
          one.egress()));
    }
    List<Flow> single = PolicyCompiler.compile(cluster(List.of(one)), DPID, 1);
    List<Flow> many = PolicyCompiler.compile(cluster(copies), DPID, 1);
    assertThat(many).hasSameSizeAs(single);
    // the same matches and priorities; only the ids naming the (first) rule differ
    java.util.function.Function<Flow, String> shape = f -> (f.table() + "/" + f.priority() + "/" + f.match())
        .replaceAll("conj_id=\\d+", "conj_id=N");
    assertThat(many.stream().map(shape).sorted().toList()).isEqualTo(single.stream().map(shape).sorted().toList());
    assertThat(many).allSatisfy(f -> assertThat(f.actions().stream().filter(a -> a instanceof io.sluice.renderer.flow.Action.Conjunction).count())
        .isLessThanOrEqualTo(2));
    // a copy with a different rule still gets its own conjunction
    NetworkPolicy other = new NetworkPolicy(new ObjectRef("shop", "other"), one.podSelector(), one.policyTypes(),
        List.of(one.ingress().get(0), new NetworkPolicy.Rule(List.of(), List.of(NetworkPolicy.Port.of(Protocol.UDP, 53)))), List.of());
    List<NetworkPolicy> mixed = new ArrayList<>(copies);
    mixed.add(other);
    assertThat(PolicyCompiler.compile(cluster(mixed), DPID, 1).size()).isGreaterThan(single.size());
    PolicyIndex index = PolicyIndex.of(cluster(mixed));
    assertThat(index.sharesFlowsWith(copies.get(0), true, 0)).isEmpty();
    assertThat(index.sharesFlowsWith(copies.get(7), true, 1)).contains("shop/copy-0 Ingress rule 1");
    assertThat(index.sharesFlowsWith(other, true, 0)).contains("shop/copy-0 Ingress rule 0");
    assertThat(index.sharesFlowsWith(other, true, 1)).isEmpty();
  }

  @Test
  void aManagedSwitchAdmitsOnlyKnownPodsItsNonPodPortsAndLocal() {
    Snapshot s = cluster(List.of());
    assertThat(PolicyCompiler.compile(s, DPID, 1)).as("unmanaged: no admission flows").isEmpty();
    Pod noIp = new Pod(new ObjectRef("shop", "pending"), Map.of(), List.of(), List.of(), false);
    s = new ClusterModel(1).apply(List.of(
        new ModelEvent.PodUpserted(s.pods().get(new ObjectRef("shop", "web"))),
        new ModelEvent.PortBound(s.bindings().get(new ObjectRef("shop", "web"))),
        new ModelEvent.PodUpserted(noIp),
        new ModelEvent.PortBound(new PortBinding(noIp.ref(), DPID, 7, "0a:58:00:00:00:07")),
        new ModelEvent.PortBound(new PortBinding(new ObjectRef("shop", "unknown"), DPID, 8, "")),
        new ModelEvent.SwitchPortsUpserted(new io.sluice.model.SwitchPorts(DPID, Set.of(20L, 21L)))));
    assertThat(PolicyCompiler.compile(s, DPID, 1)).extracting(Flow::toString).containsExactlyInAnyOrder(
        " cookie=0x5c07000100000000, priority=100,ip,in_port=1,nw_src=10.0.0.1 actions=goto_table:10",
        " cookie=0x5c07000100000000, priority=90,ip,in_port=1 actions=drop",
        " cookie=0x5c07000100000000, priority=90,ipv6,in_port=1 actions=drop",
        " cookie=0x5c07000100000000, priority=80,in_port=1 actions=goto_table:10",
        " cookie=0x5c07000100000000, priority=100,in_port=20 actions=goto_table:10",
        " cookie=0x5c07000100000000, priority=100,in_port=21 actions=goto_table:10",
        " cookie=0x5c07000100000000, priority=100,in_port=LOCAL actions=goto_table:10",
        " cookie=0x5c07000100000000, priority=10 actions=drop",
        " cookie=0x5c07000100000000, table=90, priority=100,dl_dst=0a:58:00:00:00:07 actions=drop");
  }

  @Test
  void aBindingForAPodTheModelDoesNotKnowClosesOnlyItsOwnMac() {
    Snapshot s = cluster(List.of());
    List<ModelEvent> known = List.of(
        new ModelEvent.PodUpserted(s.pods().get(new ObjectRef("shop", "web"))),
        new ModelEvent.PortBound(s.bindings().get(new ObjectRef("shop", "web"))),
        new ModelEvent.SwitchPortsUpserted(new io.sluice.model.SwitchPorts(DPID, Set.of(20L))));
    List<ModelEvent> withGhost = new java.util.ArrayList<>(known);
    withGhost.add(new ModelEvent.PortBound(new PortBinding(new ObjectRef("ghost-ns", "nobody"), DPID, 9,
        "0a:58:0a:00:00:99")));
    List<String> without = PolicyCompiler.compile(new ClusterModel(1).apply(known), DPID, 1).stream()
        .map(Object::toString).toList();
    List<String> with = PolicyCompiler.compile(new ClusterModel(1).apply(withGhost), DPID, 1).stream()
        .map(Object::toString).toList();
    // a port not yet reported by the cluster is closed both ways: nothing it sends passes table 0 (the catch-all),
    // nothing reaches its MAC
    assertThat(with).containsAll(without).hasSize(without.size() + 1)
        .contains(" cookie=0x5c07000100000000, table=90, priority=100,dl_dst=0a:58:0a:00:00:99 actions=drop");
  }

  @Test
  void aBindingForAPodTheModelDoesNotKnowCannotCloseTheMacOfAnAdmittedPod() {
    Snapshot s = cluster(List.of());
    List<ModelEvent> known = List.of(
        new ModelEvent.PodUpserted(s.pods().get(new ObjectRef("shop", "web"))),
        new ModelEvent.PortBound(s.bindings().get(new ObjectRef("shop", "web"))),
        new ModelEvent.SwitchPortsUpserted(new io.sluice.model.SwitchPorts(DPID, Set.of(20L))));
    List<ModelEvent> withGhost = new java.util.ArrayList<>(known);
    withGhost.add(new ModelEvent.PortBound(new PortBinding(new ObjectRef("ghost-ns", "nobody"), DPID, 9,
        s.bindings().get(new ObjectRef("shop", "web")).mac())));
    assertThat(PolicyCompiler.compile(new ClusterModel(1).apply(withGhost), DPID, 1))
        .isEqualTo(PolicyCompiler.compile(new ClusterModel(1).apply(known), DPID, 1));
  }
}
