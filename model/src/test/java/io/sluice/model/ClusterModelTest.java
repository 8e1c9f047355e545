package io.sluice.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ClusterModelTest {
  private final Pod web = new Pod(new ObjectRef("shop", "web"), Map.of("app", "web"), List.of("10.0.0.2"), List.of(), false);
  private final NetworkPolicy denyAll = new NetworkPolicy(new ObjectRef("shop", "deny-all"), LabelSelector.EVERYTHING,
      Set.of(NetworkPolicy.PolicyType.INGRESS), List.of(), List.of());

  @Test
  void eachChangingBatchIsOneGeneration() {
    ClusterModel m = new ClusterModel(1);
    Snapshot s = m.apply(List.of(new ModelEvent.NamespaceUpserted(new Namespace("shop", Map.of())), new ModelEvent.PodUpserted(web)));
    assertThat(s.generation()).isEqualTo(2);
    assertThat(s.pods()).containsKey(web.ref());
  }

  @Test
  void aBatchThatChangesNothingKeepsTheGeneration() {
    ClusterModel m = new ClusterModel(1);
    m.apply(List.of(new ModelEvent.PodUpserted(web)));
    Snapshot again = m.apply(List.of(new ModelEvent.PodUpserted(web)));
    assertThat(again.generation()).isEqualTo(2);
  }

  @Test
  void snapshotsDoNotSeeLaterChanges() {
    ClusterModel m = new ClusterModel(1);
    Snapshot before = m.apply(List.of(new ModelEvent.PodUpserted(web)));
    m.apply(List.of(new ModelEvent.PodDeleted(web.ref())));
    assertThat(before.pods()).containsKey(web.ref());
    assertThat(m.snapshot().pods()).isEmpty();
    assertThat(m.generation()).isEqualTo(3);
  }

  @Test
  void policiesServicesAndSlicesAreUpsertedAndDeleted() {
    ClusterModel m = new ClusterModel(1);
    Service svc = new Service(new ObjectRef("shop", "web"), Service.Type.CLUSTER_IP, List.of("10.96.0.10"),
        List.of(new Service.Port("http", Protocol.TCP, 80, PortRef.of("http"), 0)), Map.of("app", "web"),
        Service.SessionAffinity.NONE, 0);
    EndpointSlice slice = new EndpointSlice(new ObjectRef("shop", "web-abc"), "web", EndpointSlice.AddressType.IPV4,
        List.of(new EndpointSlice.Endpoint(List.of("10.0.0.2"), true, true, false, Optional.of(web.ref()), "")),
        List.of(new EndpointSlice.Port("http", Protocol.TCP, OptionalInt.of(8080))));
    Snapshot s = m.apply(List.of(new ModelEvent.NetworkPolicyUpserted(denyAll), new ModelEvent.ServiceUpserted(svc),
        new ModelEvent.EndpointSliceUpserted(slice)));
    assertThat(s.networkPolicies()).containsEntry(denyAll.ref(), denyAll);
    assertThat(s.services()).containsEntry(svc.ref(), svc);
    assertThat(s.endpointSlices()).containsEntry(slice.ref(), slice);

    Snapshot t = m.apply(List.of(new ModelEvent.NetworkPolicyDeleted(denyAll.ref()), new ModelEvent.ServiceDeleted(svc.ref()),
        new ModelEvent.EndpointSliceDeleted(slice.ref())));
    assertThat(t.generation()).isEqualTo(s.generation() + 1);
    assertThat(t.networkPolicies()).isEmpty();
    assertThat(t.services()).isEmpty();
    assertThat(t.endpointSlices()).isEmpty();
  }

  @Test
  void nodesAreUpsertedAndDeletedByName() {
    ClusterModel m = new ClusterModel(1);
    Node n1 = new Node("n1", Map.of("zone", "a"), List.of("192.168.1.1", "fd01::1"));
    Snapshot s = m.apply(List.of(new ModelEvent.NodeUpserted(n1)));
    assertThat(s.nodes()).containsExactly(Map.entry("n1", n1));
    assertThat(m.apply(List.of(new ModelEvent.NodeUpserted(n1))).generation()).isEqualTo(s.generation());
    Node moved = new Node("n1", Map.of("zone", "b"), List.of("192.168.1.1"));
    assertThat(m.apply(List.of(new ModelEvent.NodeUpserted(moved))).nodes().get("n1")).isEqualTo(moved);
    Snapshot t = m.apply(List.of(new ModelEvent.NodeDeleted("n1")));
    assertThat(t.nodes()).isEmpty();
    assertThat(t.generation()).isEqualTo(s.generation() + 2);
    assertThat(m.apply(List.of(new ModelEvent.NodeDeleted("n1"))).generation()).isEqualTo(t.generation());
  }

  @Test
  void olderSnapshotConstructorsHaveNoNodes() {
    Snapshot seven = new Snapshot(3, Map.of(), Map.of(web.ref(), web), Map.of(), Map.of(), Map.of(), Map.of());
    Snapshot eight = new Snapshot(3, Map.of(), Map.of(), Map.of(), Map.of(), Map.of(), Map.of(), Map.of());
    assertThat(seven.nodes()).isEmpty();
    assertThat(eight.nodes()).isEmpty();
    assertThat(Snapshot.EMPTY.nodes()).isEmpty();
    assertThat(seven.pods()).containsKey(web.ref());
  }

  @Test
  void unchangedKindsAreSharedBetweenGenerations() {
    ClusterModel m = new ClusterModel(1);
    Snapshot s = m.apply(List.of(new ModelEvent.PodUpserted(web), new ModelEvent.NetworkPolicyUpserted(denyAll)));
    Snapshot t = m.apply(List.of(new ModelEvent.PodDeleted(web.ref())));
    assertThat(t.networkPolicies()).isSameAs(s.networkPolicies());
  }

  @Test
  void subscribersHearEachNewGeneration() {
    ClusterModel m = new ClusterModel(1);
    List<Long> heard = new java.util.ArrayList<>();
    m.subscribe(snap -> heard.add(snap.generation()));
    m.apply(List.of(new ModelEvent.PodUpserted(web)));
    m.apply(List.of(new ModelEvent.PodUpserted(web)));
    m.bump();
    assertThat(heard).containsExactly(2L, 3L);
  }

  @Test
  void selectorsThatSelectAlikeAreEqual() {
    LabelSelector a = new LabelSelector(Map.of("app", "web"), List.of(
        new LabelSelector.Requirement("tier", LabelSelector.Operator.IN, List.of("b", "a", "a")),
        new LabelSelector.Requirement("env", LabelSelector.Operator.EXISTS, List.of())));
    LabelSelector b = new LabelSelector(Map.of("app", "web"), List.of(
        new LabelSelector.Requirement("env", LabelSelector.Operator.EXISTS, List.of()),
        new LabelSelector.Requirement("tier", LabelSelector.Operator.IN, List.of("a", "b"))));
    assertThat(a).isEqualTo(b);
    assertThat(a.matches(Map.of("app", "web", "tier", "a", "env", "x"))).isTrue();
    assertThat(a.matches(Map.of("app", "web", "tier", "c", "env", "x"))).isFalse();
    assertThat(a.matches(Map.of("app", "web", "tier", "a"))).isFalse();
  }

  @Test
  void aLargeFirstBatchGivesWhatEventByEventGives() {
    List<ModelEvent> events = new java.util.ArrayList<>();
    for (int i = 0; i < 3_000; i++) {
      String ns = "ns-" + (i % 50);
      events.add(new ModelEvent.NamespaceUpserted(new Namespace(ns, Map.of("i", "" + (i % 7)))));
      events.add(new ModelEvent.NodeUpserted(new Node("node-" + (i % 40), Map.of("i", "" + (i % 5)),
          List.of("192.168.0." + (i % 40)))));
      if (i % 17 == 0) {
        events.add(new ModelEvent.NodeDeleted("node-" + (i % 23)));
      }
      events.add(new ModelEvent.PodUpserted(new Pod(new ObjectRef(ns, "p" + (i % 1_000)), Map.of("app", "a" + (i % 3)),
          List.of("10.0." + (i % 200) + ".1"), List.of(), false)));
      if (i % 11 == 0) {
        events.add(new ModelEvent.PodDeleted(new ObjectRef(ns, "p" + (i % 997))));
      }
      if (i % 13 == 0) {
        events.add(new ModelEvent.NamespaceDeleted("ns-" + (i % 17)));
      }
    }
    ClusterModel bulk = new ClusterModel(5);
    Snapshot a = bulk.apply(events);
    Snapshot b = new ClusterModel(5).snapshot();
    ClusterModel oneByOne = new ClusterModel(5);
    for (ModelEvent e : events) {
      b = oneByOne.apply(List.of(e));
    }
    assertThat(a.generation()).isEqualTo(6);
    assertThat(a.namespaces()).isEqualTo(b.namespaces());
    assertThat(a.pods()).isEqualTo(b.pods());
    assertThat(a.networkPolicies()).isEqualTo(b.networkPolicies());
    assertThat(a.nodes()).isEqualTo(b.nodes()).isNotEmpty();
    // And a large first batch that changes nothing is no generation.
    ClusterModel m = new ClusterModel(5);
    List<ModelEvent> deletes = new java.util.ArrayList<>();
    for (int i = 0; i < 2_000; i++) {
      deletes.add(new ModelEvent.PodDeleted(new ObjectRef("x", "p" + i)));
    }
    assertThat(m.apply(deletes).generation()).isEqualTo(5);
    // Changes after a bulk load apply as usual.
    Snapshot c = bulk.apply(List.of(new ModelEvent.PodDeleted(a.pods().keySet().iterator().next())));
    assertThat(c.pods()).hasSize(a.pods().size() - 1);
  }

  @Test
  void linksAndHostsAreTopologyInTheSnapshot() {
    ClusterModel m = new ClusterModel(1);
    Link l = Link.of(0x22, 3, 0x11, 1);
    assertThat(l.a()).isEqualTo(new Link.End(0x11, 1));
    Snapshot s = m.apply(List.of(new ModelEvent.LinkUp(l), new ModelEvent.HostUpserted(
        new Host("0a:00:00:00:00:01", List.of("10.0.0.9"), 0x11, 4, 1000))));
    assertThat(s.links()).containsEntry(l.a(), l);
    assertThat(s.hosts()).containsKey("0a:00:00:00:00:01");
    long g = s.generation();
    // heard again at the same place: no new generation
    assertThat(m.apply(List.of(new ModelEvent.HostUpserted(new Host("0a:00:00:00:00:01", List.of("10.0.0.9"), 0x11, 4,
        2000)))).generation()).isEqualTo(g);
    // a link seen the other way round is the same link
    assertThat(m.apply(List.of(new ModelEvent.LinkUp(Link.of(0x11, 1, 0x22, 3)))).generation()).isEqualTo(g);
    // moved
    assertThat(m.apply(List.of(new ModelEvent.HostUpserted(new Host("0a:00:00:00:00:01", List.of("10.0.0.9"), 0x22, 7,
        3000)))).hosts().get("0a:00:00:00:00:01").dpid()).isEqualTo(0x22);
    Snapshot down = m.apply(List.of(new ModelEvent.LinkDown(l), new ModelEvent.HostDeleted("0a:00:00:00:00:01")));
    assertThat(down.links()).isEmpty();
    assertThat(down.hosts()).isEmpty();
  }

  @Test
  void podsOfANodeWithAnAttachmentSitBehindItsPortUnlessOvsdbPlacesThem() {
    ClusterModel m = new ClusterModel(1);
    Pod a = new Pod(new ObjectRef("shop", "a"), Map.of(), List.of("10.0.0.3"), List.of(), false, List.of("192.168.1.4"),
        "tor-1", true, false, false);
    Pod b = new Pod(new ObjectRef("shop", "b"), Map.of(), List.of("10.0.0.4"), List.of(), false, List.of("192.168.1.4"),
        "tor-1", true, false, false);
    Node plain = new Node("tor-1", Map.of(), List.of("192.168.1.4"));
    Node attached = new Node("tor-1", Map.of(), List.of("192.168.1.4"), Set.of(), new Node.Attachment(0x5c01, 7));
    Snapshot s = m.apply(List.of(new ModelEvent.PodUpserted(a), new ModelEvent.PodUpserted(b),
        new ModelEvent.NodeUpserted(plain)));
    assertThat(s.bindings()).isEmpty();
    s = m.apply(List.of(new ModelEvent.NodeUpserted(attached)));
    assertThat(s.bindings()).containsEntry(a.ref(), new PortBinding(a.ref(), 0x5c01, 7, null, true))
        .containsEntry(b.ref(), new PortBinding(b.ref(), 0x5c01, 7, null, true));
    // OVSDB's binding wins, and the attachment is back when OVSDB forgets it
    PortBinding own = new PortBinding(a.ref(), 0x1, 3, "0a:58:0a:00:00:03");
    assertThat(m.apply(List.of(new ModelEvent.PortBound(own))).bindings()).containsEntry(a.ref(), own);
    assertThat(m.apply(List.of(new ModelEvent.PortUnbound(a.ref()))).bindings())
        .containsEntry(a.ref(), new PortBinding(a.ref(), 0x5c01, 7, null, true));
    // a pod that moves to another node leaves the port; a deleted pod too; a node's new port takes its pods along
    Pod moved = new Pod(b.ref(), Map.of(), List.of("10.0.0.4"), List.of(), false, List.of(), "other", true, false, false);
    assertThat(m.apply(List.of(new ModelEvent.PodUpserted(moved))).bindings()).doesNotContainKey(b.ref());
    s = m.apply(List.of(new ModelEvent.NodeUpserted(new Node("tor-1", Map.of(), List.of("192.168.1.4"), Set.of(),
        new Node.Attachment(0x5c01, 8)))));
    assertThat(s.bindings()).containsOnlyKeys(a.ref()).containsEntry(a.ref(), new PortBinding(a.ref(), 0x5c01, 8, null, true));
    long generation = s.generation();
    assertThat(m.apply(List.of(new ModelEvent.NodeUpserted(new Node("tor-1", Map.of("x", "y"), List.of("192.168.1.4"),
        Set.of(), new Node.Attachment(0x5c01, 8))))).bindings()).isSameAs(s.bindings());
    assertThat(m.apply(List.of(new ModelEvent.NodeDeleted("tor-1"))).bindings()).isEmpty();
    assertThat(m.generation()).isEqualTo(generation + 2);
  }

  @Test
  void theFirstLoadInBulkPlacesAttachedPodsAsEventByEventDoes() {
    List<ModelEvent> events = new java.util.ArrayList<>();
    events.add(new ModelEvent.NodeUpserted(new Node("tor-1", Map.of(), List.of("192.168.1.4"), Set.of(),
        new Node.Attachment(0x5c01, 7))));
    for (int i = 0; i < 2000; i++) {
      ObjectRef ref = new ObjectRef("shop", "p" + i);
      events.add(new ModelEvent.PodUpserted(new Pod(ref, Map.of(), List.of("10.1." + (i / 250) + "." + (i % 250)),
          List.of(), false, List.of(), i % 2 == 0 ? "tor-1" : "other", true, false, false)));
      if (i % 3 == 0) {
        events.add(new ModelEvent.PortBound(new PortBinding(ref, 0x1, i + 1, null)));
      }
    }
    Snapshot bulk = new ClusterModel(1).apply(events);
    ClusterModel one = new ClusterModel(1);
    events.forEach(e -> one.apply(List.of(e)));
    assertThat(bulk.bindings()).hasSize(1000 + 667 - 334).isEqualTo(one.snapshot().bindings());
  }
}
