package io.sluice.watcher.manifest;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.model.EndpointSlice;
import io.sluice.model.IpFamily;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortRef;
import io.sluice.model.Protocol;
import io.sluice.model.Service;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class DerivedSlicesTest {
  private static final Map<String, String> WEB = Map.of("app", "web");

  private static Pod pod(String name, Map<String, String> labels, List<String> ips, List<Pod.NamedPort> ports,
                         boolean ready, boolean terminating, boolean terminal) {
    return new Pod(new ObjectRef("shop", name), labels, ips, ports, false, List.of(), "node-1", ready, terminating,
        terminal);
  }

  private static Pod pod(String name, String ip, Pod.NamedPort... ports) {
    return pod(name, WEB, List.of(ip), List.of(ports), true, false, false);
  }

  private static Service service(String name, Service.Type type, List<String> clusterIPs, List<Service.Port> ports,
                                 Map<String, String> selector, List<IpFamily> families, boolean publishNotReady) {
    return new Service(new ObjectRef("shop", name), type, clusterIPs, ports, selector, Service.SessionAffinity.NONE, 0,
        List.of(), List.of(), Service.TrafficPolicy.CLUSTER, Service.TrafficPolicy.CLUSTER, families, publishNotReady, 0);
  }

  private static Service web(Service.Port... ports) {
    return service("web", Service.Type.CLUSTER_IP, List.of("10.96.0.10"), List.of(ports), WEB, List.of(), false);
  }

  private static Service.Port named(String name, String target) {
    return new Service.Port(name, Protocol.TCP, 80, PortRef.of(target), 0);
  }

  private static List<EndpointSlice> slices(Service s, Collection<Pod> pods) {
    List<Pod> sorted = new ArrayList<>(pods);
    sorted.sort(Comparator.comparing(p -> p.ref().name()));
    List<EndpointSlice> out = new ArrayList<>(DerivedSlices.derive(s, sorted).values());
    out.sort(Comparator.comparing(x -> x.ref().name()));
    return out;
  }

  private static List<String> podsOf(EndpointSlice slice) {
    return slice.endpoints().stream().map(e -> e.targetPod().orElseThrow().name()).toList();
  }

  private static EndpointSlice sliceWithPort(List<EndpointSlice> slices, int port) {
    return slices.stream().filter(s -> s.ports().stream().anyMatch(p -> p.port().equals(OptionalInt.of(port))))
        .findFirst().orElseThrow();
  }

  @Test
  void aNamedTargetPortResolvesPerPodAndSplitsTheSlices() {
    Service s = web(named("http", "http"), new Service.Port("metrics", Protocol.TCP, 9100, PortRef.of(9100), 0));
    List<EndpointSlice> slices = slices(s, List.of(
        pod("a", "10.0.0.1", new Pod.NamedPort("http", 8080, "TCP")),
        pod("b", "10.0.0.2", new Pod.NamedPort("http", 8080, "TCP")),
        pod("c", "10.0.0.3", new Pod.NamedPort("http", 9090, "TCP")),
        pod("d", "10.0.0.4", new Pod.NamedPort("http", 7070, "UDP")), // wrong protocol: as if it had no such port
        pod("e", "10.0.0.5")));
    assertThat(slices).hasSize(3);
    EndpointSlice p8080 = sliceWithPort(slices, 8080);
    assertThat(podsOf(p8080)).containsExactly("a", "b");
    assertThat(p8080.ports()).containsExactly(new EndpointSlice.Port("http", Protocol.TCP, OptionalInt.of(8080)),
        new EndpointSlice.Port("metrics", Protocol.TCP, OptionalInt.of(9100)));
    assertThat(podsOf(sliceWithPort(slices, 9090))).containsExactly("c");
    EndpointSlice withoutHttp = slices.stream().filter(x -> x.ports().size() == 1).findFirst().orElseThrow();
    assertThat(podsOf(withoutHttp)).containsExactly("d", "e");
    assertThat(withoutHttp.ports()).containsExactly(new EndpointSlice.Port("metrics", Protocol.TCP, OptionalInt.of(9100)));
    for (EndpointSlice x : slices) {
      assertThat(x.ref().name()).matches("web-sluice-ipv4-[0-9a-f]{8}");
      assertThat(x.ref().namespace()).isEqualTo("shop");
      assertThat(x.serviceName()).isEqualTo("web");
      assertThat(x.addressType()).isEqualTo(EndpointSlice.AddressType.IPV4);
    }
  }

  @Test
  void aPortSetKeepsItsSliceNameWhileItsEndpointsChange() {
    Service s = web(named("http", "http"));
    EndpointSlice before = slices(s, List.of(pod("a", "10.0.0.1", new Pod.NamedPort("http", 8080, "TCP")))).get(0);
    EndpointSlice after = slices(s, List.of(pod("a", "10.0.0.1", new Pod.NamedPort("http", 8080, "TCP")),
        pod("b", "10.0.0.2", new Pod.NamedPort("http", 8080, "TCP")))).get(0);
    assertThat(after.ref()).isEqualTo(before.ref());
    assertThat(podsOf(after)).containsExactly("a", "b");
  }

  @Test
  void conditionsFollowReadinessAndTermination() {
    Service s = web(new Service.Port("", Protocol.TCP, 80, PortRef.of(8080), 0));
    List<Pod> pods = List.of(
        pod("ready", WEB, List.of("10.0.0.1"), List.of(), true, false, false),
        pod("unready", WEB, List.of("10.0.0.2"), List.of(), false, false, false),
        pod("leaving", WEB, List.of("10.0.0.3"), List.of(), true, true, false),
        pod("leaving-unready", WEB, List.of("10.0.0.4"), List.of(), false, true, false),
        pod("finished", WEB, List.of("10.0.0.5"), List.of(), false, false, true),
        pod("pending", WEB, List.of(), List.of(), false, false, false));
    EndpointSlice slice = slices(s, pods).get(0);
    assertThat(slice.endpoints()).containsExactly(
        new EndpointSlice.Endpoint(List.of("10.0.0.3"), false, true, true, Optional.of(ref("leaving")), "node-1"),
        new EndpointSlice.Endpoint(List.of("10.0.0.4"), false, false, true, Optional.of(ref("leaving-unready")), "node-1"),
        new EndpointSlice.Endpoint(List.of("10.0.0.1"), true, true, false, Optional.of(ref("ready")), "node-1"),
        new EndpointSlice.Endpoint(List.of("10.0.0.2"), false, false, false, Optional.of(ref("unready")), "node-1"));

    Service publish = service("web", Service.Type.CLUSTER_IP, List.of("10.96.0.10"), s.ports(), WEB, List.of(), true);
    assertThat(slices(publish, pods).get(0).endpoints()).extracting(EndpointSlice.Endpoint::ready).containsOnly(true);
    // Serving still says whether the pod itself is ready, as upstream's controller has it.
    assertThat(slices(publish, pods).get(0).endpoints()).extracting(EndpointSlice.Endpoint::serving)
        .containsExactly(true, false, true, false);
  }

  private static ObjectRef ref(String name) {
    return new ObjectRef("shop", name);
  }

  @Test
  void eachFamilyOfTheServiceGetsItsSlicesWithAddressesAsTheApiServerPrintsThem() {
    Service dual = service("web", Service.Type.CLUSTER_IP, List.of("fd00::10", "10.96.0.10"),
        List.of(new Service.Port("", Protocol.TCP, 80, PortRef.of(8080), 0)), WEB, List.of(IpFamily.IPV6, IpFamily.IPV4),
        false);
    List<Pod> pods = List.of(
        pod("a", WEB, List.of("010.0.0.1", "FD00:0:0:0:0:0:0:1"), List.of(), true, false, false),
        pod("b", WEB, List.of("10.0.0.2"), List.of(), true, false, false),
        pod("c", WEB, List.of("::ffff:10.0.0.3"), List.of(), true, false, false));
    List<EndpointSlice> slices = slices(dual, pods);
    assertThat(slices).extracting(EndpointSlice::addressType)
        .containsExactly(EndpointSlice.AddressType.IPV4, EndpointSlice.AddressType.IPV6);
    assertThat(slices.get(0).endpoints()).extracting(EndpointSlice.Endpoint::addresses)
        .containsExactly(List.of("10.0.0.1"), List.of("10.0.0.2"), List.of("10.0.0.3"));
    assertThat(slices.get(1).endpoints()).extracting(EndpointSlice.Endpoint::addresses)
        .containsExactly(List.of("fd00::1"));
    assertThat(slices.get(1).ref().name()).startsWith("web-sluice-ipv6-");
  }

  @Test
  void aFamilyWithoutEndpointsGetsOneEmptySlice() {
    Service v6 = service("web", Service.Type.CLUSTER_IP, List.of("fd00::10"),
        List.of(new Service.Port("http", Protocol.TCP, 80, PortRef.of(8080), 0)), WEB, List.of(), false);
    List<EndpointSlice> slices = slices(v6, List.of(pod("a", "10.0.0.1")));
    assertThat(slices).singleElement().satisfies(x -> {
      assertThat(x.addressType()).isEqualTo(EndpointSlice.AddressType.IPV6);
      assertThat(x.endpoints()).isEmpty();
      assertThat(x.ports()).isEmpty();
    });
  }

  @Test
  void headlessServicesGetSlicesEvenWithoutPorts() {
    Service headless = service("web", Service.Type.CLUSTER_IP, List.of("None"), List.of(), WEB, List.of(), false);
    List<EndpointSlice> slices = slices(headless, List.of(pod("a", "10.0.0.1"), pod("b", "10.0.0.2")));
    assertThat(slices).singleElement().satisfies(x -> {
      assertThat(podsOf(x)).containsExactly("a", "b");
      assertThat(x.ports()).isEmpty();
      assertThat(x.addressType()).isEqualTo(EndpointSlice.AddressType.IPV4);
    });
  }

  @Test
  void hostNetworkPodsAreEndpointsAtTheirNodesAddress() {
    Pod host = new Pod(ref("agent"), WEB, List.of("192.168.1.4"), List.of(), true, List.of("192.168.1.4"), "node-1",
        true, false, false);
    EndpointSlice slice = slices(web(new Service.Port("", Protocol.TCP, 80, PortRef.of(8080), 0)), List.of(host)).get(0);
    assertThat(slice.endpoints()).extracting(EndpointSlice.Endpoint::addresses).containsExactly(List.of("192.168.1.4"));
  }

  @Test
  void onlyServicesWithASelectorThatAreNotExternalNameAreDerived() {
    assertThat(DerivedSlices.derives(web(named("http", "http")))).isTrue();
    assertThat(DerivedSlices.derives(service("web", Service.Type.CLUSTER_IP, List.of(), List.of(), Map.of(), List.of(),
        false))).isFalse();
    assertThat(DerivedSlices.derives(service("web", Service.Type.EXTERNAL_NAME, List.of(), List.of(), WEB, List.of(),
        false))).isFalse();
  }

  @Test
  void theSelectorNeedsEveryPairAmongThePodsLabels() {
    Service s = service("web", Service.Type.CLUSTER_IP, List.of(), List.of(), Map.of("app", "web", "tier", "front"),
        List.of(), false);
    assertThat(DerivedSlices.selects(s, pod("a", Map.of("app", "web", "tier", "front", "x", "y"), List.of(), List.of(),
        true, false, false))).isTrue();
    assertThat(DerivedSlices.selects(s, pod("a", WEB, List.of(), List.of(), true, false, false))).isFalse();
  }
}
