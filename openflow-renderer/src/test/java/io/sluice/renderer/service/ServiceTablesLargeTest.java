package io.sluice.renderer.service;

import static io.sluice.renderer.service.ServiceTablesTest.ep;
import static io.sluice.renderer.service.ServiceTablesTest.port;
import static io.sluice.renderer.service.ServiceTablesTest.slice;
import static io.sluice.renderer.service.ServiceTablesTest.slicePort;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.model.ClusterModel;
import io.sluice.model.EndpointSlice;
import io.sluice.model.ModelEvent;
import io.sluice.model.ObjectRef;
import io.sluice.model.PortRef;
import io.sluice.model.Protocol;
import io.sluice.model.Service;
import io.sluice.model.Snapshot;
import io.sluice.renderer.Renderer;
import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.DesiredTables;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.Group;
import io.sluice.renderer.pipeline.PipelineProfile;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** A Service whose endpoints do not fit one group: a select group of select groups (see {@link Leaves}). */
class ServiceTablesLargeTest {
  private static final PipelineProfile OVS = PipelineProfile.ovs();
  private static final List<EndpointSlice.Port> PORTS = List.of(slicePort("http", Protocol.TCP, 8080));

  static Service big(Service.SessionAffinity affinity) {
    return new Service(new ObjectRef("shop", "big"), Service.Type.CLUSTER_IP, List.of("10.96.5.0"),
        List.of(port("http", Protocol.TCP, 80, PortRef.of(8080))), Map.of("app", "big"), affinity, 0);
  }

  /** Endpoint i's address: 10.1.0.0 onwards. */
  static String address(int i) {
    return "10.1." + (i >> 8) + "." + (i & 0xff);
  }

  /** {@code n} ready endpoints in slices of 100 (as the EndpointSlice controller cuts them), less those in {@code skip}. */
  static List<ModelEvent> endpoints(int n, Set<Integer> skip) {
    List<ModelEvent> ev = new ArrayList<>();
    for (int s = 0; s * 100 < n; s++) {
      List<EndpointSlice.Endpoint> eps = new ArrayList<>();
      for (int i = s * 100; i < Math.min(n, s * 100 + 100); i++) {
        if (!skip.contains(i)) {
          eps.add(ep(address(i), true, null));
        }
      }
      ev.add(new ModelEvent.EndpointSliceUpserted(slice("big-" + s, "big", EndpointSlice.AddressType.IPV4, PORTS,
          eps.toArray(EndpointSlice.Endpoint[]::new))));
    }
    return ev;
  }

  static Snapshot snapshot(Service svc, int n, Set<Integer> skip) {
    List<ModelEvent> ev = new ArrayList<>();
    ev.add(new ModelEvent.ServiceUpserted(svc));
    ev.addAll(endpoints(n, skip));
    return new ClusterModel(1).apply(ev);
  }

  private static boolean isParent(Group g) {
    return g.buckets().stream().allMatch(b -> b.actions().size() == 1 && b.actions().get(0) instanceof Action.Group);
  }

  private static long leafOf(Group.Bucket b) {
    return ((Action.Group) b.actions().get(0)).groupId();
  }

  @Test
  void fiveThousandEndpointsBecomeLeavesOfAtMostFourHundredUnderOneParentWeightedByLeafSize() {
    ServiceTables t = ServiceTables.of(OVS, snapshot(big(Service.SessionAffinity.NONE), 5_000, Set.of()), 1);
    Map<Long, Group> byId = new HashMap<>();
    t.groups().forEach(g -> byId.put(g.id(), g));
    List<Group> parents = t.groups().stream().filter(ServiceTablesLargeTest::isParent).toList();
    assertThat(parents).hasSize(1);
    Group parent = parents.get(0);
    // 5,000 / 320 rounds up to 16, so 16 leaves of about 312
    assertThat(parent.buckets()).hasSize(16);
    assertThat(t.groups()).hasSize(17);
    assertThat(parent.buckets().stream().mapToInt(Group.Bucket::weight).sum()).isEqualTo(5_000);
    Set<String> reached = new HashSet<>();
    for (Group.Bucket b : parent.buckets()) {
      Group leaf = byId.get(leafOf(b));
      assertThat(leaf.type()).isEqualTo(Group.Type.SELECT);
      // its endpoints, then one bucket of weight 1 repeating the first (keeps OVS off dp_hash within the leaf)
      assertThat(leaf.buckets()).hasSizeBetween(2, Leaves.MAX_BUCKETS + 1).hasSize(b.weight() + 1);
      List<Group.Bucket> endpoints = leaf.buckets().subList(0, b.weight());
      assertThat(endpoints).allSatisfy(x -> assertThat(x.weight()).isEqualTo(100));
      Group.Bucket last = leaf.buckets().get(b.weight());
      assertThat(last.weight()).isEqualTo(Leaves.OFF_DP_HASH_WEIGHT);
      assertThat(last.actions()).isEqualTo(endpoints.get(0).actions());
      endpoints.forEach(x -> reached.add(x.actions().toString()));
    }
    assertThat(reached).as("every endpoint in exactly one leaf").hasSize(5_000);
    // the virtual address's flow applies the parent
    assertThat(t.flows()).filteredOn(f -> f.table() == PipelineProfile.SERVICE_LB)
        .extracting(Flow::actions).containsExactly(List.of(new Action.Group(parent.id())));
    // and a switch's desired tables accept the group-to-group references
    DesiredTables d = new Renderer(OVS, 1).render(snapshot(big(Service.SessionAffinity.NONE), 5_000, Set.of()), 1);
    assertThat(d.groups()).hasSize(17);
  }

  /** The large-Service example of docs/pipeline.md: its table-11 flow, the parent, each leaf's first bucket and size. */
  @Test
  void theLargeServiceExampleOfTheDocsIsWhatTheCompilerPrints() throws Exception {
    ServiceTables t = ServiceTables.of(OVS, snapshot(big(Service.SessionAffinity.NONE), 5_000, Set.of()), 1);
    List<String> out = new ArrayList<>();
    t.flows().stream().filter(f -> f.table() == PipelineProfile.SERVICE_LB).forEach(f -> out.add(f.toString()));
    Group parent = t.groups().get(0);
    out.add(parent.toString());
    for (Group leaf : t.groups().subList(1, t.groups().size())) {
      String text = leaf.toString();
      int last = leaf.buckets().size() - 1;
      assertThat(leaf.buckets().get(last).actions()).isEqualTo(leaf.buckets().get(0).actions());
      assertThat(text).endsWith(",bucket=bucket_id:" + last + ",actions=" + text.substring(text.indexOf("actions=") + 8,
          text.indexOf(",bucket=bucket_id:1,")));
      out.add(text.substring(0, text.indexOf(",bucket=bucket_id:1,")) + ",...,bucket=bucket_id:" + last
          + ",actions=(as bucket 0)");
    }
    out.forEach(System.out::println);
    assertThat(out).containsExactlyElementsOf(io.sluice.renderer.DocsExamples.block("large-service"));
  }

  @Test
  void upToFourHundredEndpointsStayOneGroup() {
    ServiceTables t = ServiceTables.of(OVS, snapshot(big(Service.SessionAffinity.NONE), Leaves.MAX_BUCKETS, Set.of()), 1);
    assertThat(t.groups()).hasSize(1);
    assertThat(t.groups().get(0).buckets()).hasSize(Leaves.MAX_BUCKETS);
    ServiceTables more = ServiceTables.of(OVS, snapshot(big(Service.SessionAffinity.NONE), Leaves.MAX_BUCKETS + 1,
        Set.of()), 1);
    assertThat(more.groups()).hasSize(3); // two leaves of about 200
    assertThat(more.groups().get(0).id()).as("the port keeps its group number as the parent").isEqualTo(t.groups().get(0).id());
  }

  @Test
  void groupNumbersDoNotDependOnTheOrderOfSlicesOrOnCompilingAgain() {
    Snapshot a = snapshot(big(Service.SessionAffinity.NONE), 5_000, Set.of());
    List<ModelEvent> reversed = new ArrayList<>(endpoints(5_000, Set.of()));
    java.util.Collections.reverse(reversed);
    reversed.add(new ModelEvent.ServiceUpserted(big(Service.SessionAffinity.NONE)));
    Snapshot b = new ClusterModel(1).apply(reversed);
    assertThat(ServiceTables.of(OVS, b, 1).groups()).isEqualTo(ServiceTables.of(OVS, a, 1).groups());
  }

  @Test
  void anEndpointAddedOrRemovedChangesItsLeafAndTheParentsWeightsOnly() {
    Set<Integer> without = Set.of(1234);
    ServiceTables before = ServiceTables.of(OVS, snapshot(big(Service.SessionAffinity.NONE), 5_000, without), 1);
    ServiceTables after = before.next(snapshot(big(Service.SessionAffinity.NONE), 5_000, Set.of()));
    assertThat(after.groups()).isEqualTo(ServiceTables.of(OVS, snapshot(big(Service.SessionAffinity.NONE), 5_000,
        Set.of()), 1).groups());
    Map<Long, Group> b = byId(before.groups());
    Map<Long, Group> a = byId(after.groups());
    assertThat(a.keySet()).as("the same group numbers").isEqualTo(b.keySet());
    List<Long> changed = a.keySet().stream().filter(id -> !a.get(id).equals(b.get(id))).toList();
    Group parent = a.values().stream().filter(ServiceTablesLargeTest::isParent).findFirst().orElseThrow();
    assertThat(changed).hasSize(2).contains(parent.id());
    long leaf = changed.stream().filter(id -> id != parent.id()).findFirst().orElseThrow();
    assertThat(a.get(leaf).buckets()).hasSize(b.get(leaf).buckets().size() + 1);
    assertThat(a.get(leaf).toString()).contains("nat(dst=" + address(1234) + ":8080)");
    // the parent's bucket for that leaf weighs one more, the others are unchanged
    Map<Long, Integer> wb = weights(b.get(parent.id()));
    Map<Long, Integer> wa = weights(parent);
    wb.put(leaf, wb.get(leaf) + 1);
    assertThat(wa).isEqualTo(wb);

    // and back: removing it changes the same two groups
    ServiceTables again = after.next(snapshot(big(Service.SessionAffinity.NONE), 5_000, without));
    assertThat(again.groups()).isEqualTo(before.groups());
  }

  @Test
  void withClientIpAffinityTheLeavesNameTheirEndpointsAndTableFifteenHasEveryEndpoint() {
    ServiceTables t = ServiceTables.of(OVS, snapshot(big(Service.SessionAffinity.CLIENT_IP), 5_000, Set.of()), 1);
    List<Group> leaves = t.groups().stream().filter(g -> !isParent(g)).toList();
    assertThat(leaves.stream().mapToInt(g -> g.buckets().size() - 1).sum()).isEqualTo(5_000);
    assertThat(leaves).allSatisfy(g -> assertThat(g.buckets()).allSatisfy(b -> assertThat(b.actions().get(
        b.actions().size() - 1)).isEqualTo(new Action.Resubmit(PipelineProfile.SERVICE_AFFINITY_ENDPOINT))));
    assertThat(t.flows()).filteredOn(f -> f.table() == PipelineProfile.SERVICE_AFFINITY_ENDPOINT && f.priority() == 200)
        .hasSize(5_000);
  }

  @Test
  void leavesAreAPowerOfTwoAndStayUnderTheLimit() {
    for (int n : new int[] {401, 641, 1_600, 5_000, 20_000}) {
      List<Endpoints.Backend> backends = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        byte[] raw = Addresses.parse(address(i));
        backends.add(new Endpoints.Backend(raw, address(i), 8080, ep(address(i), true, null)));
      }
      List<List<Endpoints.Backend>> leaves = Leaves.of(backends);
      assertThat(Integer.bitCount(leaves.size())).as("%d endpoints", n).isEqualTo(1);
      assertThat(leaves).allSatisfy(l -> assertThat(l.size()).isBetween(1, Leaves.MAX_BUCKETS));
      assertThat(leaves.stream().mapToInt(List::size).sum()).isEqualTo(n);
      assertThat(leaves.stream().mapToInt(List::size).min().orElseThrow())
          .as("no leaf far below the average with %d endpoints", n).isGreaterThan(n / leaves.size() / 2);
    }
  }

  private static Map<Long, Group> byId(List<Group> groups) {
    Map<Long, Group> out = new TreeMap<>();
    groups.forEach(g -> out.put(g.id(), g));
    return out;
  }

  private static Map<Long, Integer> weights(Group parent) {
    Map<Long, Integer> out = new TreeMap<>();
    parent.buckets().forEach(b -> out.put(leafOf(b), b.weight()));
    return out;
  }
}
