package io.sluice.renderer.service;

import static io.sluice.renderer.service.ServiceTablesTest.ep;
import static io.sluice.renderer.service.ServiceTablesTest.port;
import static io.sluice.renderer.service.ServiceTablesTest.slice;
import static io.sluice.renderer.service.ServiceTablesTest.slicePort;
import static io.sluice.renderer.service.ServiceTablesTest.text;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.model.ClusterModel;
import io.sluice.model.EndpointSlice;
import io.sluice.model.ModelEvent;
import io.sluice.model.Namespace;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.PortRef;
import io.sluice.model.Protocol;
import io.sluice.model.Service;
import io.sluice.model.Snapshot;
import io.sluice.renderer.DocsExamples;
import io.sluice.renderer.Renderer;
import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.flow.DesiredTables;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.Group;
import io.sluice.renderer.pipeline.PipelineProfile;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code sessionAffinity: ClientIP}: a learn action in each bucket, tables 14 and 15. */
class ServiceAffinityTest {
  private static final PipelineProfile OVS = PipelineProfile.ovs();
  private static final long DPID = 1;

  static Service web(Service.SessionAffinity affinity, int timeout, List<String> ips) {
    return new Service(new ObjectRef("shop", "web"), Service.Type.CLUSTER_IP, ips,
        List.of(port("http", Protocol.TCP, 80, PortRef.of("http"))), Map.of("app", "web"), affinity, timeout);
  }

  /** The affinity example of docs/pipeline.md: shop/web with ClientIP affinity (600 s), web-1 and web-2 ready. */
  static List<ModelEvent> example(Service svc) {
    List<ModelEvent> ev = new ArrayList<>();
    ev.add(new ModelEvent.NamespaceUpserted(new Namespace("shop", Map.of(), Map.of())));
    String[][] pods = {{"web-1", "10.0.0.11", "02:00:00:00:00:11", "1"}, {"web-2", "10.0.0.12", "02:00:00:00:00:12", "2"}};
    for (String[] p : pods) {
      ObjectRef ref = new ObjectRef("shop", p[0]);
      ev.add(new ModelEvent.PodUpserted(new Pod(ref, Map.of("app", "web"), List.of(p[1]),
          List.of(new Pod.NamedPort("http", 8080, "TCP")), false)));
      ev.add(new ModelEvent.PortBound(new PortBinding(ref, DPID, Long.parseLong(p[3]), p[2])));
    }
    ev.add(new ModelEvent.ServiceUpserted(svc));
    ev.add(new ModelEvent.EndpointSliceUpserted(slice("web-abc", "web", EndpointSlice.AddressType.IPV4,
        List.of(slicePort("http", Protocol.TCP, 8080)), ep("10.0.0.12", true, "web-2"), ep("10.0.0.11", true, "web-1"))));
    return ev;
  }

  static Snapshot snapshot(Service svc) {
    return new ClusterModel(1).apply(example(svc));
  }

  private static final Service AFFINITY = web(Service.SessionAffinity.CLIENT_IP, 600, List.of("10.96.0.10"));

  @Test
  void theAffinityExampleOfTheDocsIsWhatTheCompilerPrints() throws Exception {
    ServiceTables t = ServiceTables.of(OVS, snapshot(AFFINITY), 1);
    text(t).forEach(System.out::println);
    assertThat(text(t)).containsExactlyElementsOf(DocsExamples.block("affinity"));
  }

  @Test
  void withoutAffinityNothingLearnsAndTablesFourteenAndFifteenStayEmpty() {
    ServiceTables none = ServiceTables.of(OVS, snapshot(web(Service.SessionAffinity.NONE, 0, List.of("10.96.0.10"))), 1);
    assertThat(none.flows()).noneMatch(f -> f.table() == PipelineProfile.SERVICE_AFFINITY
        || f.table() == PipelineProfile.SERVICE_AFFINITY_ENDPOINT);
    assertThat(none.flows()).allSatisfy(f -> assertThat(f.actions()).noneMatch(a -> a instanceof Action.Learn));
    assertThat(none.flows()).filteredOn(f -> f.table() == PipelineProfile.SERVICE_LB).extracting(Flow::toString)
        .containsExactly(" cookie=0x5c03000100fcfac3, table=11, priority=200,ct_state=+new+trk,tcp,nw_dst=10.96.0.10,tp_dst=80"
            + " actions=group:1560083139");
    // the same Service with affinity keeps its group number; each endpoint's DNAT moves from its bucket to its
    // table-15 flow, behind the learn
    ServiceTables with = ServiceTables.of(OVS, snapshot(AFFINITY), 1);
    Group g0 = none.groups().get(0);
    Group g1 = with.groups().get(0);
    assertThat(g1.id()).isEqualTo(g0.id());
    List<Flow> chosen = with.flows().stream().filter(f -> f.table() == PipelineProfile.SERVICE_AFFINITY_ENDPOINT
        && f.priority() == 200).toList();
    assertThat(chosen).hasSameSizeAs(g0.buckets());
    for (int i = 0; i < g0.buckets().size(); i++) {
      assertThat(chosen.get(i).actions().get(0)).isInstanceOf(Action.Learn.class);
      assertThat(chosen.get(i).actions().subList(1, chosen.get(i).actions().size())).isEqualTo(g0.buckets().get(i).actions());
      assertThat(g1.buckets().get(i).actions()).last().isEqualTo(new Action.Resubmit(PipelineProfile.SERVICE_AFFINITY_ENDPOINT));
    }
  }

  private static List<Action.Learn> learns(ServiceTables t) {
    List<Action.Learn> out = new ArrayList<>();
    for (Flow f : t.flows()) {
      f.actions().stream().filter(a -> a instanceof Action.Learn).forEach(a -> out.add((Action.Learn) a));
    }
    return out;
  }

  @Test
  void learnedFlowsCarryACookieSyncLeavesAlone() {
    ServiceTables t = ServiceTables.of(OVS, snapshot(AFFINITY), 1);
    Group g = t.groups().get(0);
    assertThat(learns(t)).hasSize(2).allSatisfy(learn -> {
      assertThat(new Cookie(learn.cookie()).category()).isEqualTo(Cookie.Category.LEARNED);
      assertThat(new Cookie(learn.cookie()).objectId()).isEqualTo(g.id() & 0xffffff);
      assertThat(Cookie.isOwned(learn.cookie())).isTrue();
      assertThat(Cookie.isSynced(learn.cookie())).isFalse();
    });
    assertThat(Cookie.isSynced(Cookie.of(Cookie.Category.SERVICE, 1, 5).value())).isTrue();
  }

  @Test
  void theTimeoutIsTheServicesWithKubernetesDefaultAndAtMostWhatOvsHolds() {
    assertThat(idleTimeouts(web(Service.SessionAffinity.CLIENT_IP, 2, List.of("10.96.0.10")))).containsOnly(2);
    assertThat(idleTimeouts(web(Service.SessionAffinity.CLIENT_IP, 0, List.of("10.96.0.10")))).containsOnly(10_800);
    assertThat(idleTimeouts(web(Service.SessionAffinity.CLIENT_IP, 86_400, List.of("10.96.0.10")))).containsOnly(65_535);
    assertThat(learns(ServiceTables.of(OVS, snapshot(AFFINITY), 1))).as("no hard timeout")
        .allSatisfy(l -> assertThat(l.hardTimeout()).isZero());
  }

  private static List<Integer> idleTimeouts(Service s) {
    return learns(ServiceTables.of(OVS, snapshot(s), 1)).stream().map(Action.Learn::idleTimeout).toList();
  }

  @Test
  void aTimeoutChangeRewritesOnlyTheLearningFlowsAndEqualsAFreshCompile() {
    ClusterModel model = new ClusterModel(1);
    Snapshot first = model.apply(example(AFFINITY));
    ServiceTables t600 = ServiceTables.of(OVS, first, 1);
    Snapshot second = model.apply(List.of(new ModelEvent.ServiceUpserted(
        web(Service.SessionAffinity.CLIENT_IP, 30, List.of("10.96.0.10")))));
    ServiceTables t30 = t600.next(second);
    assertThat(t30.groups()).isEqualTo(t600.groups());
    assertThat(text(t30)).isEqualTo(text(ServiceTables.of(OVS, second, 1)));
    assertThat(String.join("\n", text(t30))).contains("idle_timeout=30,").doesNotContain("idle_timeout=600");
    List<String> changed = new ArrayList<>(text(t30));
    changed.removeAll(text(t600));
    assertThat(changed).as("only the two learning flows change").hasSize(2)
        .allSatisfy(l -> assertThat(l).contains("table=15, priority=200,", "idle_timeout=30,"));
    // ClientIP -> None: tables 14 and 15 empty again, the table-11 flow applies the group
    Snapshot third = model.apply(List.of(new ModelEvent.ServiceUpserted(web(Service.SessionAffinity.NONE, 0,
        List.of("10.96.0.10")))));
    ServiceTables none = t30.next(third);
    assertThat(text(none)).isEqualTo(text(ServiceTables.of(OVS, third, 1)));
    assertThat(none.flows()).noneMatch(f -> f.table() == PipelineProfile.SERVICE_AFFINITY_ENDPOINT);
  }

  @Test
  void ipv6AffinityLoadsTheAddressIntoFourRegisters() {
    List<ModelEvent> ev = new ArrayList<>();
    ev.add(new ModelEvent.ServiceUpserted(new Service(new ObjectRef("shop", "v6"), Service.Type.CLUSTER_IP,
        List.of("fd00:96::10"), List.of(port("dns", Protocol.UDP, 53, PortRef.of(5353))), Map.of("app", "v6"),
        Service.SessionAffinity.CLIENT_IP, 5)));
    ev.add(new ModelEvent.EndpointSliceUpserted(slice("v6-1", "v6", EndpointSlice.AddressType.IPV6,
        List.of(slicePort("dns", Protocol.UDP, 5353)), ep("fd00:1::b", true, null))));
    ServiceTables t = ServiceTables.of(OVS, new ClusterModel(1).apply(ev), 1);
    String all = String.join("\n", text(t));
    assertThat(all).contains("learn(table=14,idle_timeout=5,priority=200,cookie=0x5c04", "eth_type=0x86dd,nw_proto=17,"
        + "NXM_NX_IPV6_SRC[],NXM_NX_IPV6_DST[],NXM_OF_UDP_DST[],load:0xfd000001->NXM_NX_REG0[],load:0->NXM_NX_REG1[],"
        + "load:0->NXM_NX_REG2[],load:0xb->NXM_NX_REG3[],load:0x114e9->NXM_NX_REG4[0..16])");
    assertThat(all).contains("table=15, priority=200,udp6,reg0=0xfd000001,reg1=0,reg2=0,reg3=0xb,reg4=0x114e9/0x1ffff,"
        + "ipv6_dst=fd00:96::10,tp_dst=53 actions=learn(", "),ct(commit,table=12,zone=NXM_NX_CT_ZONE[],nat(dst=[fd00:1::b]:5353)");
    assertThat(all).contains("bucket=bucket_id:0,weight:100,actions=set_field:0xfd000001->reg0,set_field:0->reg1,"
        + "set_field:0->reg2,set_field:0xb->reg3,set_field:0x114e9/0x1ffff->reg4,resubmit(,15)");
  }

  @Test
  void aServiceWithoutEndpointsRefusesWhateverItsAffinity() {
    List<ModelEvent> ev = new ArrayList<>(example(AFFINITY));
    ev.add(new ModelEvent.EndpointSliceDeleted(new ObjectRef("shop", "web-abc")));
    ServiceTables t = ServiceTables.of(OVS, new ClusterModel(1).apply(ev), 1);
    assertThat(t.groups()).isEmpty();
    assertThat(t.flows()).extracting(Flow::toString).containsExactly(" cookie=0x5c03000100fcfac3, table=11, "
        + "priority=200,ct_state=+new+trk,tcp,nw_dst=10.96.0.10,tp_dst=80 actions=meter:23552,CONTROLLER:128");
  }

  @Test
  void theRenderedSwitchHasTheAffinityTablesAndEveryFlowFitsTheProfile() {
    DesiredTables d = new Renderer(OVS, 1).render(snapshot(AFFINITY), DPID);
    assertThat(OVS.tables()).containsKeys(PipelineProfile.SERVICE_AFFINITY, PipelineProfile.SERVICE_AFFINITY_ENDPOINT);
    assertThat(d.flows().values()).filteredOn(f -> f.table() == PipelineProfile.SERVICE_AFFINITY)
        .extracting(Flow::toString).containsExactly(" cookie=0x5c0100010000000e, table=14, priority=0 actions=drop");
    assertThat(d.flows().values()).filteredOn(f -> f.table() == PipelineProfile.SERVICE_AFFINITY_ENDPOINT).hasSize(4);
    d.flows().values().forEach(OVS::check);
  }
}
