package io.sluice.renderer.service;

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
import io.sluice.renderer.flow.DesiredTables;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.Group;
import io.sluice.renderer.flow.NatBackend;
import io.sluice.renderer.pipeline.PipelineProfile;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class ServiceTablesTest {
  private static final PipelineProfile OVS = PipelineProfile.ovs();
  private static final long DPID = 1;

  static Service clusterIp(String ns, String name, List<String> ips, Service.Port... ports) {
    return new Service(new ObjectRef(ns, name), Service.Type.CLUSTER_IP, ips, List.of(ports), Map.of("app", name),
        Service.SessionAffinity.NONE, 0);
  }

  static Service.Port port(String name, Protocol p, int port, PortRef target) {
    return new Service.Port(name, p, port, target, 0);
  }

  static EndpointSlice.Endpoint ep(String ip, boolean ready, String pod) {
    return new EndpointSlice.Endpoint(List.of(ip), ready, ready, false,
        pod == null ? Optional.empty() : Optional.of(new ObjectRef("shop", pod)), "node-a");
  }

  static EndpointSlice slice(String name, String service, EndpointSlice.AddressType t, List<EndpointSlice.Port> ports,
                             EndpointSlice.Endpoint... eps) {
    return new EndpointSlice(new ObjectRef("shop", name), service, t, List.of(eps), ports);
  }

  static EndpointSlice.Port slicePort(String name, Protocol p, int n) {
    return new EndpointSlice.Port(name, p, OptionalInt.of(n));
  }

  /** The worked example of docs/pipeline.md: shop/web, two ready endpoints and one that is not. */
  static Snapshot workedExample() {
    List<ModelEvent> ev = new ArrayList<>();
    ev.add(new ModelEvent.NamespaceUpserted(new Namespace("shop", Map.of(), Map.of())));
    String[][] pods = {{"web-1", "10.0.0.11", "02:00:00:00:00:11", "1"}, {"web-2", "10.0.0.12", "02:00:00:00:00:12", "2"},
        {"web-3", "10.0.0.13", "02:00:00:00:00:13", "3"}};
    for (String[] p : pods) {
      ObjectRef ref = new ObjectRef("shop", p[0]);
      ev.add(new ModelEvent.PodUpserted(new Pod(ref, Map.of("app", "web"), List.of(p[1]),
          List.of(new Pod.NamedPort("http", 8080, "TCP")), false)));
      ev.add(new ModelEvent.PortBound(new PortBinding(ref, DPID, Long.parseLong(p[3]), p[2])));
    }
    ev.add(new ModelEvent.ServiceUpserted(clusterIp("shop", "web", List.of("10.96.0.10"),
        port("http", Protocol.TCP, 80, PortRef.of("http")), port("dns", Protocol.UDP, 53, PortRef.of(5353)))));
    ev.add(new ModelEvent.EndpointSliceUpserted(slice("web-abc", "web", EndpointSlice.AddressType.IPV4,
        List.of(slicePort("http", Protocol.TCP, 8080), slicePort("dns", Protocol.UDP, 5353)),
        ep("10.0.0.12", true, "web-2"), ep("10.0.0.11", true, "web-1"), ep("10.0.0.13", false, "web-3"))));
    return new ClusterModel(1).apply(ev);
  }

  static List<String> text(ServiceTables t) {
    List<String> out = new ArrayList<>();
    t.flows().forEach(f -> out.add(f.toString()));
    t.groups().forEach(g -> out.add(g.toString()));
    return out;
  }

  @Test
  void theWorkedExampleOfTheDocsIsWhatTheCompilerPrints() throws Exception {
    ServiceTables t = ServiceTables.of(OVS, workedExample(), 1);
    text(t).forEach(System.out::println);
    assertThat(text(t)).containsExactlyElementsOf(DocsExamples.block("services"));
  }

  @Test
  void theRenderedSwitchCarriesTheGroupsAndTheirFlowsFitTheProfile() {
    DesiredTables d = new Renderer(OVS, 1).render(workedExample(), DPID);
    assertThat(d.groups()).hasSize(2);
    assertThat(d.flows().values()).filteredOn(f -> f.table() == PipelineProfile.SERVICE_LB && f.priority() == 200).hasSize(2);
  }

  @Test
  void aNamedTargetPortResolvesPerSliceAndPortsDifferByProtocol() {
    List<ModelEvent> ev = new ArrayList<>();
    ev.add(new ModelEvent.ServiceUpserted(clusterIp("shop", "mixed", List.of("10.96.0.20"),
        port("tcp", Protocol.TCP, 53, PortRef.of("dns-tcp")), port("udp", Protocol.UDP, 53, PortRef.of("dns")))));
    ev.add(new ModelEvent.EndpointSliceUpserted(slice("mixed-1", "mixed", EndpointSlice.AddressType.IPV4,
        List.of(slicePort("tcp", Protocol.TCP, 1053), slicePort("udp", Protocol.UDP, 2053)), ep("10.0.0.1", true, null))));
    ev.add(new ModelEvent.EndpointSliceUpserted(slice("mixed-2", "mixed", EndpointSlice.AddressType.IPV4,
        List.of(slicePort("tcp", Protocol.TCP, 9053)), ep("10.0.0.2", true, null))));
    ServiceTables t = ServiceTables.of(OVS, new ClusterModel(1).apply(ev), 1);
    assertThat(t.flows()).extracting(Flow::toString).anySatisfy(s -> assertThat(s).contains("tcp,nw_dst=10.96.0.20,tp_dst=53"))
        .anySatisfy(s -> assertThat(s).contains("udp,nw_dst=10.96.0.20,tp_dst=53"));
    assertThat(t.groups()).hasSize(2);
    String all = String.join("\n", text(t));
    assertThat(all).contains("nat(dst=10.0.0.1:1053)", "nat(dst=10.0.0.2:9053)", "nat(dst=10.0.0.1:2053)")
        .doesNotContain("10.0.0.2:2053"); // mixed-2 does not carry the udp port
  }

  @Test
  void withoutReadyEndpointsServingTerminatingOnesTakeOver() {
    EndpointSlice.Endpoint draining = new EndpointSlice.Endpoint(List.of("10.0.0.5"), false, true, true, Optional.empty(), "n");
    EndpointSlice.Endpoint gone = new EndpointSlice.Endpoint(List.of("10.0.0.6"), false, false, true, Optional.empty(), "n");
    EndpointSlice.Endpoint ready = new EndpointSlice.Endpoint(List.of("10.0.0.7"), true, true, false, Optional.empty(), "n");
    Service s = clusterIp("shop", "db", List.of("10.96.0.30"), port("", Protocol.TCP, 5432, PortRef.of(5432)));
    List<EndpointSlice.Port> ports = List.of(slicePort("", Protocol.TCP, 5432));
    Snapshot onlyDraining = new ClusterModel(1).apply(List.of(new ModelEvent.ServiceUpserted(s),
        new ModelEvent.EndpointSliceUpserted(slice("db-1", "db", EndpointSlice.AddressType.IPV4, ports, draining, gone))));
    assertThat(String.join("\n", text(ServiceTables.of(OVS, onlyDraining, 1)))).contains("10.0.0.5:5432").doesNotContain("10.0.0.6");
    Snapshot withReady = new ClusterModel(1).apply(List.of(new ModelEvent.ServiceUpserted(s),
        new ModelEvent.EndpointSliceUpserted(slice("db-1", "db", EndpointSlice.AddressType.IPV4, ports, draining, gone, ready))));
    assertThat(String.join("\n", text(ServiceTables.of(OVS, withReady, 1)))).contains("10.0.0.7:5432").doesNotContain("10.0.0.5");
    Snapshot none = new ClusterModel(1).apply(List.of(new ModelEvent.ServiceUpserted(s),
        new ModelEvent.EndpointSliceUpserted(slice("db-1", "db", EndpointSlice.AddressType.IPV4, ports, gone))));
    ServiceTables refused = ServiceTables.of(OVS, none, 1);
    assertThat(refused.groups()).isEmpty();
    assertThat(refused.flows()).extracting(Flow::toString).containsExactly(" cookie=0x5c030001002c1afc, table=11, "
        + "priority=200,ct_state=+new+trk,tcp,nw_dst=10.96.0.30,tp_dst=5432 actions=meter:23552,CONTROLLER:128");
    assertThat(refused.shared().meters()).containsOnlyKeys(ServiceTables.REJECT_METER.id());
    assertThat(ServiceTables.of(OVS, withReady, 1).shared().meters()).isEmpty();
  }

  @Test
  void headlessAndExternalNameServicesGetNoFlows() {
    Service headless = clusterIp("shop", "h", List.of("None"), port("", Protocol.TCP, 80, PortRef.of(80)));
    Service ext = new Service(new ObjectRef("shop", "x"), Service.Type.EXTERNAL_NAME, List.of(), List.of(), Map.of(),
        Service.SessionAffinity.NONE, 0);
    List<EndpointSlice.Port> ports = List.of(slicePort("", Protocol.TCP, 80));
    Snapshot s = new ClusterModel(1).apply(List.of(new ModelEvent.ServiceUpserted(headless), new ModelEvent.ServiceUpserted(ext),
        new ModelEvent.EndpointSliceUpserted(slice("h-1", "h", EndpointSlice.AddressType.IPV4, ports, ep("10.0.0.1", true, null)))));
    ServiceTables t = ServiceTables.of(OVS, s, 1);
    assertThat(t.flows()).isEmpty();
    assertThat(t.groups()).isEmpty();
  }

  @Test
  void aDualStackServiceGetsOneGroupPerFamily() {
    Service s = clusterIp("shop", "dual", List.of("10.96.0.40", "fd00:96::40"), port("", Protocol.TCP, 80, PortRef.of(8080)));
    List<EndpointSlice.Port> ports = List.of(slicePort("", Protocol.TCP, 8080));
    Snapshot snap = new ClusterModel(1).apply(List.of(new ModelEvent.ServiceUpserted(s),
        new ModelEvent.EndpointSliceUpserted(slice("d-4", "dual", EndpointSlice.AddressType.IPV4, ports, ep("10.0.0.1", true, null))),
        new ModelEvent.EndpointSliceUpserted(slice("d-6", "dual", EndpointSlice.AddressType.IPV6, ports, ep("fd00::1", true, null)))));
    ServiceTables t = ServiceTables.of(OVS, snap, 1);
    assertThat(t.groups()).hasSize(2);
    String all = String.join("\n", text(t));
    assertThat(all).contains("tcp,nw_dst=10.96.0.40,tp_dst=80", "tcp6,ipv6_dst=fd00:96::40,tp_dst=80",
        "nat(dst=10.0.0.1:8080)", "nat(dst=[fd00::1]:8080)");
  }

  @Test
  void aChangeRecompilesOnlyTheServiceItTouchesAndKeepsGroupIds() {
    Snapshot s1 = workedExample();
    ServiceTables t1 = ServiceTables.of(OVS, s1, 1);
    // an unrelated change (a namespace) keeps the very same flow and group lists
    Snapshot s2 = withEvents(s1, new ModelEvent.NamespaceUpserted(new Namespace("other", Map.of(), Map.of())));
    assertThat(t1.next(s2).sameAs(t1)).isTrue();
    // a second Service: the first keeps its group ids and compiled groups
    Snapshot s3 = withEvents(s1, new ModelEvent.ServiceUpserted(clusterIp("shop", "api", List.of("10.96.0.11"),
        port("", Protocol.TCP, 80, PortRef.of(80)))), new ModelEvent.EndpointSliceUpserted(slice("api-1", "api",
        EndpointSlice.AddressType.IPV4, List.of(slicePort("", Protocol.TCP, 80)), ep("10.0.0.21", true, null))));
    ServiceTables t3 = t1.next(s3);
    assertThat(t3.sameAs(t1)).isFalse();
    for (Group g : t1.groups()) {
      assertThat(t3.groups()).anySatisfy(h -> assertThat(h).isSameAs(g));
    }
    assertThat(t3.groups()).hasSize(3);
    assertThat(ServiceTables.of(OVS, s3, 1).groups()).isEqualTo(t3.groups());
  }

  @Test
  void externalAndLoadBalancerAddressesAreTranslatedLikeTheClusterIp() {
    Service s = new Service(new ObjectRef("shop", "lb"), Service.Type.LOAD_BALANCER, List.of("10.96.0.50"),
        List.of(port("", Protocol.TCP, 443, PortRef.of(8443))), Map.of("app", "lb"), Service.SessionAffinity.NONE, 0,
        List.of("192.0.2.10", "10.96.0.50"), List.of("198.51.100.7"), Service.TrafficPolicy.CLUSTER,
        Service.TrafficPolicy.CLUSTER, List.of(), false, 0);
    Snapshot snap = new ClusterModel(1).apply(List.of(new ModelEvent.ServiceUpserted(s),
        new ModelEvent.EndpointSliceUpserted(slice("lb-1", "lb", EndpointSlice.AddressType.IPV4,
            List.of(slicePort("", Protocol.TCP, 8443)), ep("10.0.0.9", true, null)))));
    ServiceTables t = ServiceTables.of(OVS, snap, 1);
    assertThat(t.groups()).hasSize(1);
    assertThat(t.flows()).extracting(Flow::toString).filteredOn(f -> f.contains("table=11"))
        .hasSize(3) // the cluster IP once though also listed as an externalIP
        .allSatisfy(f -> assertThat(f).endsWith("group:" + t.groups().get(0).id()))
        .anySatisfy(f -> assertThat(f).contains("nw_dst=10.96.0.50,tp_dst=443 actions=group:"))
        // external traffic under externalTrafficPolicy Cluster: table 50 is told to masquerade it (reg6 bit 0)
        .anySatisfy(f -> assertThat(f).contains("nw_dst=192.0.2.10,tp_dst=443 actions=set_field:0x1/0x1->reg6,group:"))
        .anySatisfy(f -> assertThat(f).contains("nw_dst=198.51.100.7,tp_dst=443 actions=set_field:0x1/0x1->reg6,group:"));
  }

  @Test
  void theUdpAndSctpBackendsOfEveryGroupAreCarriedToEverySwitch() {
    // the worked example: web-1 and web-2 behind a TCP and a UDP port; only the UDP ones are listed
    Snapshot s1 = workedExample();
    ServiceTables t1 = ServiceTables.of(OVS, s1, 1);
    assertThat(t1.natBackends()).containsExactly(new NatBackend("10.0.0.11", 5353, NatBackend.UDP),
        new NatBackend("10.0.0.12", 5353, NatBackend.UDP));
    DesiredTables d = new Renderer(OVS, 1).render(s1, DPID);
    DesiredTables other = new Renderer(OVS, 1).render(s1, 2);
    assertThat(d.natBackends()).isEqualTo(t1.natBackends()).isEqualTo(other.natBackends());
    assertThat(d.atGeneration(99).natBackends()).isEqualTo(d.natBackends());
    assertThat(d.withFlows(d.flows().values()).natBackends()).isEqualTo(d.natBackends());

    // an SCTP and a dual-stack UDP Service add theirs; a TCP-only one adds none
    Snapshot s2 = withEvents(s1,
        new ModelEvent.ServiceUpserted(clusterIp("shop", "sig", List.of("10.96.0.60", "fd00:96::60"),
            port("", Protocol.SCTP, 3868, PortRef.of(3868)), port("q", Protocol.UDP, 443, PortRef.of(8443)))),
        new ModelEvent.EndpointSliceUpserted(slice("sig-4", "sig", EndpointSlice.AddressType.IPV4,
            List.of(slicePort("", Protocol.SCTP, 3868), slicePort("q", Protocol.UDP, 8443)), ep("10.0.0.31", true, null))),
        new ModelEvent.EndpointSliceUpserted(slice("sig-6", "sig", EndpointSlice.AddressType.IPV6,
            List.of(slicePort("q", Protocol.UDP, 8443)), ep("fd00::31", true, null))),
        new ModelEvent.ServiceUpserted(clusterIp("shop", "api", List.of("10.96.0.11"), port("", Protocol.TCP, 80, PortRef.of(80)))),
        new ModelEvent.EndpointSliceUpserted(slice("api-1", "api", EndpointSlice.AddressType.IPV4,
            List.of(slicePort("", Protocol.TCP, 80)), ep("10.0.0.21", true, null))));
    assertThat(t1.next(s2).natBackends()).containsExactly(new NatBackend("10.0.0.11", 5353, NatBackend.UDP),
        new NatBackend("10.0.0.12", 5353, NatBackend.UDP), new NatBackend("10.0.0.31", 3868, NatBackend.SCTP),
        new NatBackend("10.0.0.31", 8443, NatBackend.UDP), new NatBackend("fd00::31", 8443, NatBackend.UDP));

    // web-2 leaves the slice: it is no longer a backend; a not-ready endpoint never was
    Snapshot s3 = withEvents(s1, new ModelEvent.EndpointSliceUpserted(slice("web-abc", "web", EndpointSlice.AddressType.IPV4,
        List.of(slicePort("http", Protocol.TCP, 8080), slicePort("dns", Protocol.UDP, 5353)),
        ep("10.0.0.11", true, "web-1"), ep("10.0.0.13", false, "web-3"))));
    assertThat(t1.next(s3).natBackends()).containsExactly(new NatBackend("10.0.0.11", 5353, NatBackend.UDP));
    assertThat(new Renderer(OVS, 1).render(s3, DPID).natBackends()).containsExactly(
        new NatBackend("10.0.0.11", 5353, NatBackend.UDP));
  }

  private static Snapshot withEvents(Snapshot base, ModelEvent... more) {
    List<ModelEvent> ev = new ArrayList<>();
    base.namespaces().values().forEach(n -> ev.add(new ModelEvent.NamespaceUpserted(n)));
    base.pods().values().forEach(p -> ev.add(new ModelEvent.PodUpserted(p)));
    base.bindings().values().forEach(b -> ev.add(new ModelEvent.PortBound(b)));
    base.services().values().forEach(s -> ev.add(new ModelEvent.ServiceUpserted(s)));
    base.endpointSlices().values().forEach(s -> ev.add(new ModelEvent.EndpointSliceUpserted(s)));
    ev.addAll(List.of(more));
    return new ClusterModel(1).apply(ev);
  }
}
