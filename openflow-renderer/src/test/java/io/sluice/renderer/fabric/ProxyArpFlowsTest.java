package io.sluice.renderer.fabric;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.model.ClusterModel;
import io.sluice.model.Host;
import io.sluice.model.ModelEvent;
import io.sluice.model.Snapshot;
import io.sluice.renderer.StatelessRenderer;
import io.sluice.renderer.flow.Field;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.pipeline.Capabilities;
import io.sluice.renderer.pipeline.PipelineProfile;
import io.sluice.renderer.pipeline.Table;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Proxy ARP flows of the stateless pipeline on the leaf-spine of {@link FabricForwardingTest}, seen from leaf 0x12
 * (port 1 to spine 0x1, on the spanning tree; port 2 to spine 0x2, off it: the tree reaches spine 0x2 through leaf
 * 0x11; its pod on port 3).
 */
class ProxyArpFlowsTest {
  static final EnumSet<Field> STANDARD = EnumSet.of(Field.IN_PORT, Field.ETH_SRC, Field.ETH_DST, Field.ETH_TYPE,
      Field.IP_PROTO, Field.IPV4_SRC, Field.IPV4_DST, Field.IPV6_SRC, Field.IPV6_DST, Field.TCP_SRC, Field.TCP_DST,
      Field.UDP_SRC, Field.UDP_DST, Field.SCTP_SRC, Field.SCTP_DST, Field.ICMPV4_TYPE, Field.ICMPV6_TYPE, Field.TCP_FLAGS);
  static final Capabilities NO_METERS = new Capabilities(false, false, false, false, false,
      Set.of("all", "indirect", "fast_failover"));
  static final Capabilities METERS = new Capabilities(false, false, false, true, false,
      Set.of("all", "select", "indirect", "fast_failover"));

  static EnumSet<Field> withArp(EnumSet<Field> f) {
    EnumSet<Field> out = EnumSet.copyOf(f);
    out.addAll(List.of(Field.ARP_OP, Field.ARP_SPA, Field.ARP_TPA));
    return out;
  }

  static PipelineProfile single(Set<Field> fields, int size) {
    return PipelineProfile.of("one", List.of(new Table(0, "Single", fields, Table.MISS_DROP, size)), NO_METERS);
  }

  static PipelineProfile threeTables() {
    return PipelineProfile.of("three", List.of(
        new Table(0, "Classifier", withArp(EnumSet.of(Field.IN_PORT, Field.ETH_SRC, Field.ETH_TYPE)), 1, 1024),
        new Table(1, "Policy", STANDARD, 2, 2048),
        new Table(2, "Forwarding", EnumSet.of(Field.IN_PORT, Field.ETH_DST), Table.MISS_DROP, 8192)), METERS);
  }

  static List<String> arpFlows(PipelineProfile p, Snapshot s) {
    return new StatelessRenderer(p, 1, false).render(s, 0x12).flows().values().stream()
        .filter(f -> f.match().has(Field.ETH_TYPE) && f.match().get(Field.ETH_TYPE).longValue() == 0x0806)
        .map(f -> f.toString().strip()).sorted().toList();
  }

  @Test
  void aBroadcastRequestForAKnownAddressGoesToTheControllerOnlyAndTheRestKeepsFlooding() {
    List<String> flows = arpFlows(single(withArp(STANDARD), 4096), FabricForwardingTest.leafSpine(false));
    String proxy = "cookie=0x5c0100010000fff3, priority=1020,arp,dl_dst=ff:ff:ff:ff:ff:ff,arp_op=1,arp_tpa=";
    String base = "cookie=0x5c0100010000fff0, priority=1030,arp,";
    assertThat(flows).contains(
        // every pod (10.9.0.1-3, one on each leaf) and the learned host (10.9.1.1, on leaf 0x13)
        proxy + "10.9.0.1 actions=CONTROLLER:128",
        proxy + "10.9.0.2 actions=CONTROLLER:128",
        proxy + "10.9.0.3 actions=CONTROLLER:128",
        proxy + "10.9.1.1 actions=CONTROLLER:128",
        // what it must not take: requests over the link on the spanning tree (the one off it drops them above),
        // gratuitous requests, probes
        base + "in_port=1 actions=CONTROLLER:128,ALL",
        base + "arp_op=1,arp_spa=10.9.0.2,arp_tpa=10.9.0.2 actions=CONTROLLER:128,ALL",
        base + "arp_op=1,arp_spa=0.0.0.0 actions=CONTROLLER:128,ALL",
        // unknown targets: as before, flooded with a copy to the controller
        "cookie=0x5c0100010000fff0, priority=1000,arp actions=CONTROLLER:128,ALL");
    assertThat(flows).filteredOn(f -> f.contains("priority=1020")).hasSize(4);
    assertThat(flows).noneMatch(f -> f.contains("priority=1030") && f.contains("in_port=2"));
    assertThat(flows).filteredOn(f -> f.contains("priority=1050") || f.contains("priority=1040"))
        .allMatch(f -> f.contains("in_port=2") && f.endsWith("actions=drop"));
  }

  @Test
  void onThreeTablesTheProxyIsInTheClassifierMeteredAndEveryLinkPortIsExempt() {
    List<String> flows = arpFlows(threeTables(), FabricForwardingTest.leafSpine(false));
    // the Classifier cannot match dl_dst: every request for the address goes to the controller (answered the same)
    assertThat(flows).contains(
        "cookie=0x5c0100010000fff3, priority=1020,arp,arp_op=1,arp_tpa=10.9.0.3 actions=meter:23556,CONTROLLER:128",
        "cookie=0x5c0100010000fff0, priority=1030,arp,in_port=1 actions=CONTROLLER:128,goto_table:2",
        "cookie=0x5c0100010000fff0, priority=1030,arp,in_port=2 actions=CONTROLLER:128,goto_table:2");
  }

  @Test
  void aProfileThatCannotMatchArpTpaKeepsFloodingEveryRequest() {
    Snapshot s = FabricForwardingTest.leafSpine(false);
    List<String> without = arpFlows(single(STANDARD, 4096), s);
    assertThat(without).noneMatch(f -> f.contains("arp_tpa") || f.contains("arp_op") || f.contains("fff3"))
        .contains("cookie=0x5c0100010000fff0, priority=1000,arp actions=CONTROLLER:128,ALL");
    // exactly today's ARP flows: the profile with the fields adds flows and removes none
    assertThat(arpFlows(single(withArp(STANDARD), 4096), s)).containsAll(without);
  }

  @Test
  void anAddressTwoMacsClaimIsNotAnswered() {
    Snapshot s = new ClusterModel(1).apply(List.of(new ModelEvent.HostUpserted(new Host("0a:00:00:00:01:01", List.of("10.9.2.1"), 0x11, 5, 0)),
        new ModelEvent.HostUpserted(new Host("0a:00:00:00:01:02", List.of("10.9.2.1", "10.9.2.2"), 0x11, 6, 0))));
    assertThat(NeighbourProxy.ipv4Targets(s)).containsOnlyKeys(NeighbourProxy.ipv4("10.9.2.2"));
    assertThat(arpFlows(single(withArp(STANDARD), 4096), s)).noneMatch(f -> f.contains("arp_tpa=10.9.2.1 "))
        .anyMatch(f -> f.contains("arp_tpa=10.9.2.2 actions=CONTROLLER:128"));
  }

  @Test
  void theProxyTakesAtMostAQuarterOfTheTableAndTheAddressesBeyondFlood() {
    // 32 flows: room for 32 / 4 / 2 = 4 addresses (a proxy flow and a gratuitous exemption each)
    List<String> flows = arpFlows(single(withArp(STANDARD), 32), many(10));
    assertThat(flows).filteredOn(f -> f.contains("priority=1020")).hasSize(4)
        .allMatch(f -> f.matches(".*arp_tpa=10\\.9\\.3\\.[0-3] .*"));
  }

  static EnumSet<Field> withNd(EnumSet<Field> f) {
    EnumSet<Field> out = EnumSet.copyOf(f);
    out.add(Field.IPV6_ND_TARGET);
    return out;
  }

  static List<String> ndFlows(PipelineProfile p, Snapshot s) {
    return new StatelessRenderer(p, 1, false).render(s, 0x12).flows().values().stream()
        .filter(f -> f.match().has(Field.ICMPV6_TYPE) && f.match().get(Field.ICMPV6_TYPE).longValue() == 135)
        .map(f -> f.toString().strip()).sorted().toList();
  }

  /** The leaf-spine with a dual-stack host on leaf 0x12 port 5 (and one claiming its IPv6 address twice over). */
  static Snapshot dualStack() {
    ClusterModel m = new ClusterModel(1);
    m.apply(List.of());
    List<ModelEvent> ev = new java.util.ArrayList<>();
    FabricForwardingTest.leafSpine(false).links().values().forEach(l -> ev.add(new ModelEvent.LinkUp(l)));
    ev.add(new ModelEvent.HostUpserted(new Host("0a:00:00:00:04:01", List.of("10.9.4.1", "fd00::4:1", "fe80::1"), 0x12,
        5, 0)));
    ev.add(new ModelEvent.HostUpserted(new Host("0a:00:00:00:04:02", List.of("fd00::4:2"), 0x11, 5, 0)));
    ev.add(new ModelEvent.HostUpserted(new Host("0a:00:00:00:04:03", List.of("fd00::4:2", "ff02::1"), 0x13, 5, 0)));
    return m.apply(ev);
  }

  @Test
  void aSolicitationForAKnownIpv6AddressGoesToTheControllerOnly() {
    List<String> flows = ndFlows(single(withNd(withArp(STANDARD)), 4096), dualStack());
    String proxy = "cookie=0x5c0100010000fff3, priority=1020,icmp6,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,"
        + "icmp_type=135,nd_target=";
    assertThat(flows).contains(
        proxy + "fd00::4:1 actions=CONTROLLER:128",
        proxy + "fe80::1 actions=CONTROLLER:128",
        // over the link on the spanning tree, and duplicate address detection: as before
        "cookie=0x5c0100010000fff0, priority=1030,icmp6,in_port=1,icmp_type=135 actions=CONTROLLER:128,ALL",
        "cookie=0x5c0100010000fff0, priority=1030,icmp6,ipv6_src=::,icmp_type=135 actions=CONTROLLER:128,ALL",
        "cookie=0x5c0100010000fff0, priority=1000,icmp6,icmp_type=135 actions=CONTROLLER:128,ALL");
    // fd00::4:2 is claimed by two MACs, ff02::1 is multicast: neither is answered
    assertThat(flows).filteredOn(f -> f.contains("priority=1020")).hasSize(2);
  }

  @Test
  void onThreeTablesTheProxyIsInThePolicyTableAndMetered() {
    PipelineProfile p = PipelineProfile.of("three", List.of(
        new Table(0, "Classifier", EnumSet.of(Field.IN_PORT, Field.ETH_TYPE), 1, 1024),
        new Table(1, "Policy", withNd(STANDARD), 2, 2048),
        new Table(2, "Forwarding", EnumSet.of(Field.IN_PORT, Field.ETH_DST), Table.MISS_DROP, 8192)), METERS);
    // (without arp_tpa in the Classifier: ARP floods, while ND is proxied)
    assertThat(ndFlows(p, dualStack())).contains("cookie=0x5c0100010000fff3, table=1, priority=1020,icmp6,"
        + "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,icmp_type=135,nd_target=fd00::4:1 "
        + "actions=meter:23556,CONTROLLER:128",
        "cookie=0x5c0100010000fff0, table=1, priority=1030,icmp6,in_port=2,icmp_type=135 "
        + "actions=CONTROLLER:128,goto_table:2");
    assertThat(arpFlows(p, dualStack())).noneMatch(f -> f.contains("arp_tpa"));
  }

  @Test
  void aProfileThatCannotMatchNdTargetKeepsFloodingSolicitations() {
    List<String> without = ndFlows(single(withArp(STANDARD), 4096), dualStack());
    assertThat(without).noneMatch(f -> f.contains("nd_target") || f.contains("fff3"))
        .contains("cookie=0x5c0100010000fff0, priority=1000,icmp6,icmp_type=135 actions=CONTROLLER:128,ALL");
    assertThat(ndFlows(single(withNd(withArp(STANDARD)), 4096), dualStack())).containsAll(without);
  }

  static Snapshot many(int n) {
    ClusterModel m = new ClusterModel(1);
    List<ModelEvent> ev = new java.util.ArrayList<>();
    for (int i = 0; i < n; i++) {
      ev.add(new ModelEvent.HostUpserted(new Host(String.format("0a:00:00:00:03:%02x", i), List.of("10.9.3." + i), 0x11,
          10 + i, 0)));
    }
    return m.apply(ev);
  }
}
