package io.sluice.ovsdb.ports;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.model.ObjectRef;
import io.sluice.model.PortBinding;
import io.sluice.ovsdb.cache.OvsRows.Bridge;
import io.sluice.ovsdb.cache.OvsRows.Interface;
import io.sluice.ovsdb.cache.OvsRows.Port;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class BindingsTest {
  private final Map<UUID, Bridge> bridges = new HashMap<>();
  private final Map<UUID, Port> ports = new HashMap<>();
  private final Map<UUID, Interface> ifaces = new HashMap<>();
  private static final ObjectRef POD = new ObjectRef("ns", "a");

  private UUID bridge(String dpid, UUID... portIds) {
    UUID u = UUID.randomUUID();
    bridges.put(u, new Bridge(u, "br" + bridges.size(), Set.of(portIds), dpid, "netdev", Set.of(), Set.of(), "",
        Map.of(), Map.of()));
    return u;
  }

  private UUID port(UUID iface) {
    UUID u = UUID.randomUUID();
    ports.put(u, new Port(u, "p", Set.of(iface), Map.of()));
    return u;
  }

  private UUID iface(OptionalLong ofport, String mac, Map<String, String> ids) {
    UUID u = UUID.randomUUID();
    ifaces.put(u, new Interface(u, "i", "", ofport, mac, ids, ""));
    return u;
  }

  private Map<ObjectRef, PortBinding> compute() {
    return Bindings.compute(bridges, ports, ifaces);
  }

  @Test
  void labelledInterfaceWithOfportBindsItsPodWithTheBridgeDpid() {
    bridge("00000000000000ab", port(iface(OptionalLong.of(5), "02:00:00:00:00:01",
        Map.of("pod-namespace", "ns", "pod-name", "a"))));
    assertThat(compute()).containsExactly(Map.entry(POD, new PortBinding(POD, 0xab, 5, "02:00:00:00:00:01")));
  }

  @Test
  void anOfportNoFlowCanNameBindsNothing() {
    for (long bad : new long[] {-1, 0, 0xff00, 0xfffffffeL, 99_999_999_999L}) {
      ifaces.clear();
      bridges.clear();
      ports.clear();
      bridge("00000000000000ab", port(iface(OptionalLong.of(bad), "02:00:00:00:00:01",
          Map.of("pod-namespace", "ns", "pod-name", "a"))));
      assertThat(compute()).as("ofport %d", bad).isEmpty();
    }
    ifaces.clear();
    bridges.clear();
    ports.clear();
    bridge("00000000000000ab", port(iface(OptionalLong.of(0xfeff), "02:00:00:00:00:01",
        Map.of("pod-namespace", "ns", "pod-name", "a"))));
    assertThat(compute()).as("the highest usable ofport").containsKey(POD);
  }

  @Test
  void attachedMacWinsOverMacInUse() {
    bridge("00000000000000ab", port(iface(OptionalLong.of(5), "02:00:00:00:00:01",
        Map.of("pod-namespace", "ns", "pod-name", "a", "attached-mac", "0a:00:00:00:00:09"))));
    assertThat(compute().get(POD).mac()).isEqualTo("0a:00:00:00:00:09");
  }

  @Test
  void interfaceWithoutUsableOfportIsNotBoundYet() {
    bridge("00000000000000ab",
        port(iface(OptionalLong.empty(), "", Map.of("pod-namespace", "ns", "pod-name", "a"))),
        port(iface(OptionalLong.of(-1), "", Map.of("pod-namespace", "ns", "pod-name", "b"))));
    assertThat(compute()).isEmpty();
  }

  @Test
  void unlabelledOrHalfLabelledInterfacesAndBridgesWithoutDpidAreIgnored() {
    bridge("00000000000000ab", port(iface(OptionalLong.of(1), "", Map.of("pod-name", "a"))),
        port(iface(OptionalLong.of(2), "", Map.of())));
    bridge("", port(iface(OptionalLong.of(3), "", Map.of("pod-namespace", "ns", "pod-name", "a"))));
    assertThat(compute()).isEmpty();
  }

  @Test
  void portNotOnAnyBridgeIsIgnored() {
    port(iface(OptionalLong.of(3), "", Map.of("pod-namespace", "ns", "pod-name", "a")));
    assertThat(compute()).isEmpty();
  }

  @Test
  void twoInterfacesClaimingOnePodResolveToTheLowestPort() {
    bridge("00000000000000ab",
        port(iface(OptionalLong.of(9), "", Map.of("pod-namespace", "ns", "pod-name", "a"))),
        port(iface(OptionalLong.of(4), "", Map.of("pod-namespace", "ns", "pod-name", "a"))));
    assertThat(compute().get(POD).ofport()).isEqualTo(4);
  }

  @Test
  void openPortsAreTheBridgesInterfacesWithoutPodLabels() {
    bridge("00000000000000ab",
        port(iface(OptionalLong.of(5), "", Map.of("pod-namespace", "ns", "pod-name", "a"))),
        port(iface(OptionalLong.of(7), "", Map.of("attached-mac", "0a:00:00:00:00:07"))),
        port(iface(OptionalLong.of(65534), "", Map.of())),
        port(iface(OptionalLong.empty(), "", Map.of())),
        port(iface(OptionalLong.of(-1), "", Map.of())));
    bridge("", port(iface(OptionalLong.of(3), "", Map.of())));
    assertThat(Bindings.openPorts(bridges, ports, ifaces)).containsExactly(
        Map.entry(0xabL, new io.sluice.model.SwitchPorts(0xab, Set.of(7L))));
  }
}
