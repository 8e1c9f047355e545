package io.sluice.renderer.service;

import static io.sluice.renderer.service.ServiceTablesTest.slicePort;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.model.ClusterModel;
import io.sluice.model.EndpointSlice;
import io.sluice.model.ModelEvent;
import io.sluice.model.Namespace;
import io.sluice.model.Node;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.PortRef;
import io.sluice.model.Protocol;
import io.sluice.model.Service;
import io.sluice.model.Snapshot;
import io.sluice.renderer.DocsExamples;
import io.sluice.renderer.Renderer;
import io.sluice.renderer.flow.DesiredTables;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.pipeline.PipelineProfile;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** NodePorts and the traffic policies: the flows a switch gets for the node that names it. */
class ServiceNodePortTest {
  private static final PipelineProfile OVS = PipelineProfile.ovs();

  static Service service(Service.Type type, Service.TrafficPolicy external, Service.TrafficPolicy internal,
                         Service.SessionAffinity affinity, List<String> externalIps) {
    return new Service(new ObjectRef("shop", "web"), type, List.of("10.96.0.10"),
        List.of(new Service.Port("http", Protocol.TCP, 80, PortRef.of(8080), 30080)), Map.of("app", "web"), affinity, 0,
        externalIps, List.of(), external, internal, List.of(), false, 0);
  }

  static EndpointSlice.Endpoint ep(String ip, String pod, String node) {
    return new EndpointSlice.Endpoint(List.of(ip), true, true, false, Optional.of(new ObjectRef("shop", pod)), node);
  }

  /**
   * The NodePort example of docs/pipeline.md: nodes node-a (192.168.1.1, switch 1) and node-b (192.168.1.2, switch 2),
   * web-1 on node-a, web-2 on node-b, and the Service.
   */
  static Snapshot example(Service s) {
    List<ModelEvent> ev = new ArrayList<>();
    ev.add(new ModelEvent.NamespaceUpserted(new Namespace("shop", Map.of(), Map.of())));
    ev.add(new ModelEvent.NodeUpserted(new Node("node-a", Map.of(), List.of("192.168.1.1"), Set.of(1L))));
    ev.add(new ModelEvent.NodeUpserted(new Node("node-b", Map.of(), List.of("192.168.1.2"), Set.of(2L))));
    String[][] pods = {{"web-1", "10.0.0.11", "02:00:00:00:00:11", "1"}, {"web-2", "10.0.0.12", "02:00:00:00:00:12", "2"}};
    for (String[] p : pods) {
      ObjectRef ref = new ObjectRef("shop", p[0]);
      ev.add(new ModelEvent.PodUpserted(new Pod(ref, Map.of("app", "web"), List.of(p[1]), List.of(), false, List.of(),
          p[3].equals("1") ? "node-a" : "node-b", true, false, false)));
      ev.add(new ModelEvent.PortBound(new PortBinding(ref, Long.parseLong(p[3]), 1, p[2])));
    }
    ev.add(new ModelEvent.ServiceUpserted(s));
    ev.add(new ModelEvent.EndpointSliceUpserted(new EndpointSlice(new ObjectRef("shop", "web-abc"), "web",
        EndpointSlice.AddressType.IPV4, List.of(ep("10.0.0.11", "web-1", "node-a"), ep("10.0.0.12", "web-2", "node-b")),
        List.of(slicePort("http", Protocol.TCP, 8080)))));
    return new ClusterModel(1).apply(ev);
  }

  private static List<String> lines(List<Flow> flows) {
    return flows.stream().map(Flow::toString).toList();
  }

  private static String switchFlows(Snapshot snap, long dpid) {
    DesiredTables d = new Renderer(OVS, 1).render(snap, dpid);
    StringBuilder b = new StringBuilder();
    d.flows().values().stream().filter(f -> f.table() == PipelineProfile.SERVICE_LB
            || f.table() == PipelineProfile.SERVICE_AFFINITY_ENDPOINT)
        .forEach(f -> b.append(f).append('\n'));
    return b.toString();
  }

  private static String allFlows(Snapshot snap, long dpid) {
    StringBuilder b = new StringBuilder();
    new Renderer(OVS, 1).render(snap, dpid).flows().values().forEach(f -> b.append(f).append('\n'));
    return b.toString();
  }

  @Test
  void theNodePortExampleOfTheDocsIsWhatTheCompilerPrints() throws Exception {
    ServiceTables t = ServiceTables.of(OVS, example(service(Service.Type.NODE_PORT, Service.TrafficPolicy.LOCAL,
        Service.TrafficPolicy.CLUSTER, Service.SessionAffinity.NONE, List.of("203.0.113.7"))), 1);
    List<String> out = new ArrayList<>();
    out.addAll(lines(t.flows()).stream().filter(l -> l.contains("table=11")).toList());
    out.addAll(lines(t.nodeFlows("node-a")));
    out.addAll(lines(t.nodeFlows("node-b")));
    out.addAll(lines(t.nodeFlows("")));
    t.groups().forEach(g -> out.add(g.toString()));
    out.forEach(System.out::println);
    assertThat(out).containsExactlyElementsOf(DocsExamples.block("nodeport"));
  }

  @Test
  void aNodePortIsAnsweredOnTheAddressesOfTheSwitchsOwnNodeOnly() {
    Snapshot snap = example(service(Service.Type.NODE_PORT, Service.TrafficPolicy.CLUSTER, Service.TrafficPolicy.CLUSTER,
        Service.SessionAffinity.NONE, List.of()));
    ServiceTables t = ServiceTables.of(OVS, snap, 1);
    assertThat(t.nodeOf(1)).isEqualTo("node-a");
    assertThat(t.nodeOf(2)).isEqualTo("node-b");
    assertThat(t.nodeOf(3)).isEmpty();
    String a = allFlows(snap, 1);
    String b = allFlows(snap, 2);
    String c = allFlows(snap, 3);
    // ETP Cluster: the NodePort goes to the Service port's group of all endpoints, like the cluster IP
    String group = lines(t.flows()).stream().filter(l -> l.contains("nw_dst=10.96.0.10")).findFirst().orElseThrow()
        .replaceAll(".*actions=", "");
    // ...masqueraded to the node's address (table 11 sets reg6 bit 0 for table 50)
    String masq = "set_field:0x1/0x1->reg6,";
    assertThat(a).contains("tcp,nw_dst=192.168.1.1,tp_dst=30080 actions=" + masq + group).doesNotContain("192.168.1.2");
    assertThat(b).contains("tcp,nw_dst=192.168.1.2,tp_dst=30080 actions=" + masq + group).doesNotContain("192.168.1.1");
    assertThat(c).contains("nw_dst=10.96.0.10").doesNotContain("30080");
    assertThat(t.groups()).hasSize(1);
    // each node's switches SNAT to their own address, look replies to it up in the masquerade zone first
    assertThat(a).contains("table=10, priority=110,ct_state=-trk,ip,nw_dst=192.168.1.1 actions=ct(table=10,zone=65533,nat)")
        .contains("table=60, priority=110,ip,reg6=0x1/0x1 actions=ct(commit,zone=65533,nat(src=192.168.1.1:61000-65535),"
            + "exec(move:NXM_OF_ETH_SRC[]->NXM_NX_CT_LABEL[0..47],set_field:0x8/0x8->ct_mark)),"
            + "set_field:0e:00:c0:a8:01:01->eth_src,set_field:LOCAL->in_port,goto_table:90")
        .contains("table=20, priority=202,ct_state=+est+rpl+trk,ct_mark=0x4/0x4,ip"
            + " actions=set_field:0e:00:c0:a8:01:01->eth_src,set_field:LOCAL->in_port,goto_table:90")
        .contains("table=60, priority=100,ct_state=-rpl+trk,ct_mark=0x4/0x4,ip actions=ct(commit,zone=65533,"
            + "nat(src=192.168.1.1:61000-65535)");
    assertThat(b).contains("nat(src=192.168.1.2:61000-65535)").doesNotContain("nat(src=192.168.1.1:61000-65535)");
    assertThat(c).as("a switch no Node names has no address to masquerade to").doesNotContain("table=60, priority=1");
    // every switch's base pipeline: table 50 marks the connection, table 20 sends its later packets to 60, table 10
    // gives replies un-SNATed in zone 65533 the client's MAC before the un-DNAT
    for (String sw : List.of(a, b, c)) {
      assertThat(sw).contains("table=50, priority=115,ct_mark=0x1/0x1,ip,reg6=0x1/0x1 actions=ct(commit,zone=")
          .contains("table=20, priority=201,ct_state=+est-rpl+trk,ct_mark=0x4/0x4 actions=goto_table:60")
          .contains("table=10, priority=105,ct_state=+rpl+trk,ct_mark=0x8/0x8,ip actions=move:NXM_NX_CT_LABEL[0..47]->NXM_OF_ETH_DST[],ct(table=11,zone=");
    }
  }

  @Test
  void theMasqueradeExampleOfTheDocsIsWhatTheCompilerPrints() throws Exception {
    Snapshot snap = example(service(Service.Type.NODE_PORT, Service.TrafficPolicy.CLUSTER, Service.TrafficPolicy.CLUSTER,
        Service.SessionAffinity.NONE, List.of()));
    List<String> a = new Renderer(OVS, 1).render(snap, 1).flows().values().stream()
        .map(f -> f.toString().replaceFirst("^ cookie=0x[0-9a-f]+, ", " ")).toList();
    assertThat(a).containsAll(DocsExamples.block("masquerade"));
  }

  @Test
  void aHealthCheckNodePortGoesToTheControllerOnTheNodesAddressesAndCountsItsReadyEndpoints() {
    Service local = service(Service.Type.LOAD_BALANCER, Service.TrafficPolicy.LOCAL, Service.TrafficPolicy.CLUSTER,
        Service.SessionAffinity.NONE, List.of());
    Service lb = new Service(local.ref(), local.type(), local.clusterIPs(), local.ports(), local.selector(),
        local.sessionAffinity(), local.sessionAffinityTimeoutSeconds(), local.externalIPs(), local.loadBalancerIngressIPs(),
        local.externalTrafficPolicy(), local.internalTrafficPolicy(), local.ipFamilies(), local.publishNotReadyAddresses(),
        32000);
    Snapshot snap = example(lb);
    ServiceTables t = ServiceTables.of(OVS, snap, 1);
    assertThat(allFlows(snap, 1)).contains("table=10, priority=120,tcp,nw_dst=192.168.1.1,tp_dst=32000 "
        + "actions=meter:23553,CONTROLLER:65535").doesNotContain("nw_dst=192.168.1.2,tp_dst=32000");
    assertThat(allFlows(snap, 3)).doesNotContain("tp_dst=32000");
    assertThat(new Renderer(OVS, 1).render(snap, 1).meters()).containsKey(ServiceTables.HEALTH_METER.id());
    assertThat(t.health("node-a", 32000)).contains(new ServiceTables.Health(lb.ref(), 1));
    assertThat(t.health("node-c", 32000)).contains(new ServiceTables.Health(lb.ref(), 0));
    assertThat(t.health("node-a", 32001)).isEmpty();
    // externalTrafficPolicy Cluster: no health check (Kubernetes gives such a Service no port either)
    Snapshot cluster = example(service(Service.Type.LOAD_BALANCER, Service.TrafficPolicy.CLUSTER,
        Service.TrafficPolicy.CLUSTER, Service.SessionAffinity.NONE, List.of()));
    assertThat(allFlows(cluster, 1)).doesNotContain("table=10, priority=120");
  }

  /** The example with its slice replaced by {@code endpoints}. */
  private static Snapshot withEndpoints(Service s, List<EndpointSlice.Endpoint> endpoints) {
    return applyOn(example(s), new ModelEvent.EndpointSliceUpserted(new EndpointSlice(new ObjectRef("shop", "web-abc"),
            "web", EndpointSlice.AddressType.IPV4, endpoints, List.of(slicePort("http", Protocol.TCP, 8080)))));
  }

  private static Snapshot applyOn(Snapshot base, ModelEvent e) {
    ClusterModel m = new ClusterModel(1);
    List<ModelEvent> ev = new ArrayList<>();
    base.namespaces().values().forEach(n -> ev.add(new ModelEvent.NamespaceUpserted(n)));
    base.nodes().values().forEach(n -> ev.add(new ModelEvent.NodeUpserted(n)));
    base.pods().values().forEach(p -> ev.add(new ModelEvent.PodUpserted(p)));
    base.bindings().values().forEach(b -> ev.add(new ModelEvent.PortBound(b)));
    base.services().values().forEach(x -> ev.add(new ModelEvent.ServiceUpserted(x)));
    ev.add(e);
    return m.apply(ev);
  }

  @Test
  void aLocalPolicyFallsBackToTheNodesOwnTerminatingEndpointsWhateverOtherNodesHave() {
    Service itp = service(Service.Type.CLUSTER_IP, Service.TrafficPolicy.CLUSTER, Service.TrafficPolicy.LOCAL,
        Service.SessionAffinity.NONE, List.of());
    // web-1 on node-a is terminating but still serving; web-2 on node-b is ready
    Snapshot snap = withEndpoints(itp, List.of(
        new EndpointSlice.Endpoint(List.of("10.0.0.11"), false, true, true,
            Optional.of(new ObjectRef("shop", "web-1")), "node-a"),
        ep("10.0.0.12", "web-2", "node-b")));
    ServiceTables t = ServiceTables.of(OVS, snap, 1);
    String groupA = groupOf(t.nodeFlows("node-a"), "10.96.0.10");
    assertThat(bucketsOf(t, groupA)).as("node-a keeps its own terminating endpoint (KEP-1669, per node)")
        .contains("10.0.0.11:8080").doesNotContain("10.0.0.12");
    String groupB = groupOf(t.nodeFlows("node-b"), "10.96.0.10");
    assertThat(bucketsOf(t, groupB)).contains("10.0.0.12:8080").doesNotContain("10.0.0.11");
    assertThat(lines(t.flows())).as("a hairpin flow for the endpoint only node-a uses")
        .anyMatch(l -> l.contains("nw_src=10.0.0.11,nw_dst=10.0.0.11"));
  }

  @Test
  void aLocalPolicyRefusesWhenTheServiceHasNoEndpointAnywhereAndDropsWhenOnlyThisNodeHasNone() {
    Service itp = service(Service.Type.CLUSTER_IP, Service.TrafficPolicy.CLUSTER, Service.TrafficPolicy.LOCAL,
        Service.SessionAffinity.NONE, List.of());
    ServiceTables none = ServiceTables.of(OVS, withEndpoints(itp, List.of()), 1);
    assertThat(lines(none.nodeFlows("node-a"))).as("no endpoint anywhere: refused, as kube-proxy rejects")
        .anyMatch(l -> l.contains("nw_dst=10.96.0.10,tp_dst=80 actions=meter:23552,CONTROLLER:128"));
    assertThat(lines(none.nodeFlows(""))).anyMatch(l -> l.contains("nw_dst=10.96.0.10,tp_dst=80 actions=meter:23552"));
    ServiceTables elsewhere = ServiceTables.of(OVS, withEndpoints(itp, List.of(ep("10.0.0.12", "web-2", "node-b"))), 1);
    assertThat(lines(elsewhere.nodeFlows("node-a"))).as("endpoints only on another node: dropped here")
        .anyMatch(l -> l.endsWith("nw_dst=10.96.0.10,tp_dst=80 actions=drop"));
  }

  @Test
  void localTrafficPoliciesAloneMasqueradeNothing() {
    Snapshot snap = example(service(Service.Type.LOAD_BALANCER, Service.TrafficPolicy.LOCAL, Service.TrafficPolicy.CLUSTER,
        Service.SessionAffinity.NONE, List.of("203.0.113.7")));
    assertThat(allFlows(snap, 1)).doesNotContain("set_field:0x1/0x1->reg6").doesNotContain("table=60, priority=1")
        .doesNotContain("zone=65533,nat)");
  }

  @Test
  void aClusterIpServiceOpensNoNodePortEvenWithANumber() {
    Snapshot snap = example(service(Service.Type.CLUSTER_IP, Service.TrafficPolicy.CLUSTER, Service.TrafficPolicy.CLUSTER,
        Service.SessionAffinity.NONE, List.of()));
    assertThat(switchFlows(snap, 1)).doesNotContain("30080");
    assertThat(ServiceTables.of(OVS, snap, 1).nodeFlows("node-a")).isEmpty();
  }

  @Test
  void externalTrafficPolicyLocalSendsOnlyToTheNodesOwnEndpointsAndDropsWhereThereAreNone() {
    Snapshot snap = example(service(Service.Type.LOAD_BALANCER, Service.TrafficPolicy.LOCAL, Service.TrafficPolicy.CLUSTER,
        Service.SessionAffinity.NONE, List.of("203.0.113.7")));
    ServiceTables t = ServiceTables.of(OVS, snap, 1);
    assertThat(t.groups()).hasSize(3); // all endpoints (the cluster IP), node-a's, node-b's
    String groupA = groupOf(t.nodeFlows("node-a"), "192.168.1.1");
    String groupB = groupOf(t.nodeFlows("node-b"), "192.168.1.2");
    assertThat(groupA).isNotEqualTo(groupB);
    assertThat(bucketsOf(t, groupA)).contains("10.0.0.11:8080").doesNotContain("10.0.0.12");
    assertThat(bucketsOf(t, groupB)).contains("10.0.0.12:8080").doesNotContain("10.0.0.11");
    assertThat(groupOf(t.nodeFlows("node-a"), "203.0.113.7")).isEqualTo(groupA); // the external IP as well
    // the cluster IP keeps every endpoint (internal traffic policy Cluster), shared by every switch
    assertThat(lines(t.flows())).anySatisfy(l -> assertThat(l).contains("nw_dst=10.96.0.10"))
        .noneSatisfy(l -> assertThat(l).contains("203.0.113.7"));
    // a switch whose node has no endpoint of the Service drops (no local endpoint), no client source to preserve
    Snapshot withC = withNode(snap, new Node("node-c", Map.of(), List.of("192.168.1.3"), Set.of(3L)));
    assertThat(switchFlows(withC, 3)).contains("tcp,nw_dst=192.168.1.3,tp_dst=30080 actions=drop",
        "tcp,nw_dst=203.0.113.7,tp_dst=80 actions=drop");
    // a switch no node names has no NodePort, and drops traffic to the external IP
    assertThat(switchFlows(snap, 9)).contains("tcp,nw_dst=203.0.113.7,tp_dst=80 actions=drop").doesNotContain("30080");
  }

  @Test
  void internalTrafficPolicyLocalKeepsClusterIpTrafficOnTheClientsNode() {
    Snapshot snap = example(service(Service.Type.CLUSTER_IP, Service.TrafficPolicy.CLUSTER, Service.TrafficPolicy.LOCAL,
        Service.SessionAffinity.NONE, List.of()));
    ServiceTables t = ServiceTables.of(OVS, snap, 1);
    assertThat(lines(t.flows())).noneSatisfy(l -> assertThat(l).contains("table=11"));
    assertThat(bucketsOf(t, groupOf(t.nodeFlows("node-a"), "10.96.0.10"))).contains("10.0.0.11").doesNotContain("10.0.0.12");
    assertThat(bucketsOf(t, groupOf(t.nodeFlows("node-b"), "10.96.0.10"))).contains("10.0.0.12").doesNotContain("10.0.0.11");
    assertThat(switchFlows(snap, 9)).contains("tcp,nw_dst=10.96.0.10,tp_dst=80 actions=drop");
  }

  @Test
  void affinityWorksOnTheNodePortToo() {
    Snapshot snap = example(service(Service.Type.NODE_PORT, Service.TrafficPolicy.LOCAL, Service.TrafficPolicy.CLUSTER,
        Service.SessionAffinity.CLIENT_IP, List.of()));
    String a = switchFlows(snap, 1);
    assertThat(a).contains("tcp,nw_dst=192.168.1.1,tp_dst=30080 actions=resubmit(,14),goto_table:15")
        .contains("table=15, priority=200,tcp,reg0=0xa00000b,reg4=0x11f90/0x1ffff,nw_dst=192.168.1.1,tp_dst=30080")
        .doesNotContain("reg0=0xa00000c,reg4=0x11f90/0x1ffff,nw_dst=192.168.1.1"); // web-2 is not node-a's
  }

  @Test
  void aSwitchIsRenderedAgainWhenItsNodeChanges() {
    Snapshot snap = example(service(Service.Type.NODE_PORT, Service.TrafficPolicy.CLUSTER, Service.TrafficPolicy.CLUSTER,
        Service.SessionAffinity.NONE, List.of()));
    Renderer r = new Renderer(OVS, 1);
    var index = io.sluice.renderer.policy.PolicyIndex.of(snap);
    Renderer.Rendered first = r.render(index, 3, null);
    assertThat(first.tables().flows().values().toString()).doesNotContain("30080");
    Snapshot moved = withNode(snap, new Node("node-b", Map.of(), List.of("192.168.1.2"), Set.of(2L, 3L)));
    Renderer.Rendered second = r.render(io.sluice.renderer.policy.PolicyIndex.of(moved), 3, first);
    assertThat(second.node()).isEqualTo("node-b");
    assertThat(second.tables().flows().values().toString()).contains("nw_dst=192.168.1.2,tp_dst=30080");
  }

  @Test
  void aNodesAddressChangeMovesItsNodePort() {
    Snapshot snap = example(service(Service.Type.NODE_PORT, Service.TrafficPolicy.CLUSTER, Service.TrafficPolicy.CLUSTER,
        Service.SessionAffinity.NONE, List.of()));
    ServiceTables t = ServiceTables.of(OVS, snap, 1);
    Snapshot renumbered = withNode(snap, new Node("node-a", Map.of(), List.of("192.168.1.11"), Set.of(1L)));
    ServiceTables u = t.next(renumbered);
    assertThat(lines(u.nodeFlows("node-a"))).anySatisfy(l -> assertThat(l).contains("nw_dst=192.168.1.11,tp_dst=30080"))
        .noneSatisfy(l -> assertThat(l).contains("nw_dst=192.168.1.1,"));
    assertThat(u.sameAs(t)).isFalse();
    Snapshot relabelled = withNode(snap, new Node("node-a", Map.of("x", "y"), List.of("192.168.1.1"), Set.of(1L)));
    assertThat(t.next(relabelled).sameAs(t)).as("a label change moves nothing").isTrue();
  }

  private static Snapshot withNode(Snapshot s, Node n) {
    ClusterModel m = new ClusterModel(s.generation());
    List<ModelEvent> ev = new ArrayList<>();
    s.namespaces().values().forEach(x -> ev.add(new ModelEvent.NamespaceUpserted(x)));
    s.nodes().values().forEach(x -> ev.add(new ModelEvent.NodeUpserted(x)));
    s.pods().values().forEach(x -> ev.add(new ModelEvent.PodUpserted(x)));
    s.bindings().values().forEach(x -> ev.add(new ModelEvent.PortBound(x)));
    s.services().values().forEach(x -> ev.add(new ModelEvent.ServiceUpserted(x)));
    s.endpointSlices().values().forEach(x -> ev.add(new ModelEvent.EndpointSliceUpserted(x)));
    ev.add(new ModelEvent.NodeUpserted(n));
    return m.apply(ev);
  }

  private static String groupOf(List<Flow> flows, String address) {
    return lines(flows).stream().filter(l -> l.contains("nw_dst=" + address + ",") && l.contains("table=11"))
        .findFirst().orElseThrow(() -> new AssertionError("no flow for " + address + " in " + flows))
        .replaceAll(".*actions=group:", "");
  }

  private static String bucketsOf(ServiceTables t, String group) {
    return t.groups().stream().filter(g -> g.id() == Long.parseLong(group)).findFirst().orElseThrow().toString();
  }
}
