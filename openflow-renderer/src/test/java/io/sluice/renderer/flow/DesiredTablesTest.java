package io.sluice.renderer.flow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class DesiredTablesTest {
  private static final Cookie C = Cookie.of(Cookie.Category.SERVICE, 1, 7);
  private static final long G = Group.ownedId(7);

  private static Group select(long id, Action... perBucket) {
    List<Group.Bucket> buckets = new java.util.ArrayList<>();
    for (Action a : perBucket) {
      buckets.add(new Group.Bucket(100, List.of(a)));
    }
    return new Group(id, Group.Type.SELECT, buckets);
  }

  @Test
  void groupsPrintAsOvsDumpGroupsDoes() {
    // captured from ovs-ofctl 3.1.0 -O OpenFlow15 dump-groups after add-group of the same text
    Group g = new Group(7 | 0x5c000000L, Group.Type.SELECT, List.of(
        new Group.Bucket(100, List.of(new Action.Load(Field.REG3, 0, 32, 0x0a000001L),
            new Action.Load(Field.REG4, 0, 32, 0x50), new Action.Resubmit(12))),
        new Group.Bucket(100, List.of(new Action.Output(1)))));
    assertThat(OfctlFormat.group(g)).isEqualTo(" group_id=1543503879,type=select,"
        + "bucket=bucket_id:0,weight:100,actions=set_field:0xa000001->reg3,set_field:0x50->reg4,resubmit(,12),"
        + "bucket=bucket_id:1,weight:100,actions=output:1");
    assertThat(OfctlFormat.group(new Group(G, Group.Type.SELECT, List.of()))).isEqualTo(" group_id=1543503879,type=select");
    assertThat(OfctlFormat.meter(new Meter(0x5c00, true, 100, 20)))
        .isEqualTo("meter=23552 pktps burst bands=\ntype=drop rate=100 burst_size=20");
  }

  @Test
  void aFlowMayUseOnlyGroupsAndMetersThatAreDesired() {
    Flow usesGroup = new Flow(11, 100, Match.builder().ipv4().build(), List.of(new Action.Group(G)), C);
    assertThatThrownBy(() -> DesiredTables.of(1, 1, List.of(usesGroup)))
        .hasMessageContaining("group " + G + " is used but not desired");
    DesiredTables t = DesiredTables.of(1, 1, List.of(usesGroup), List.of(select(G, new Action.Resubmit(12))), List.of());
    assertThat(t.groups()).containsOnlyKeys(G);

    Flow usesMeter = new Flow(11, 90, Match.ALL, List.of(new Action.Meter(0x5c00), new Action.Controller(128)), C);
    assertThatThrownBy(() -> DesiredTables.of(1, 1, List.of(usesMeter), List.of(), List.of()))
        .hasMessageContaining("meter 23552 is used but not desired");
    Group nested = select(Group.ownedId(8), new Action.Group(Group.ownedId(9)));
    assertThatThrownBy(() -> DesiredTables.of(1, 1, List.of(), List.of(nested), List.of()))
        .hasMessageContaining("group " + Group.ownedId(9) + " is used but not desired");
  }

  @Test
  void idsOutsideSluicesRangeAreRefused() {
    assertThatThrownBy(() -> new Group(7, Group.Type.SELECT, List.of())).hasMessageContaining("not in Sluice's range");
    assertThatThrownBy(() -> new Meter(1, true, 10, 10)).hasMessageContaining("not in Sluice's range");
    assertThatThrownBy(() -> new Group.Bucket(1, List.of(new Action.GotoTable(20)))).hasMessageContaining("may not carry");
    assertThatThrownBy(() -> DesiredTables.of(1, 1, List.of(), List.of(select(G), select(G, new Action.Output(1))), List.of()))
        .hasMessageContaining("two groups share id");
  }

  @Test
  void whatOvsWouldRefuseOrHoldOtherwiseIsRefusedWhenBuilt() {
    assertThatThrownBy(() -> new Flow(11, 90, Match.ALL, List.of(new Action.Controller(128), new Action.Meter(0x5c00)), C))
        .hasMessageContaining("meter must be the first action");
    assertThatThrownBy(() -> new Flow(11, 90, Match.ALL, List.of(new Action.Meter(0x5c00), new Action.Meter(0x5c01)), C))
        .hasMessageContaining("meter must be the first action");
    assertThatThrownBy(() -> new Group(G, Group.Type.FAST_FAILOVER, List.of(new Group.Bucket(1, List.of(new Action.Output(1))))))
        .hasMessageContaining("needs a watch_port");
    assertThat(new Group(G, Group.Type.FAST_FAILOVER, List.of()).buckets()).isEmpty();
    assertThatThrownBy(() -> new Meter(0x5c00, false, 1000, 0)).hasMessageContaining("out of range");
  }

  @Test
  void withFlowsKeepsGroupsAndAtGenerationKeepsEverything() {
    Flow usesGroup = new Flow(11, 100, Match.builder().ipv4().build(), List.of(new Action.Group(G)), C);
    DesiredTables t = DesiredTables.of(1, 1, List.of(usesGroup), List.of(select(G, new Action.Resubmit(12))),
        List.of(new Meter(0x5c00, true, 100, 20)));
    assertThat(t.withFlows(List.of()).groups()).isEqualTo(t.groups());
    assertThat(t.withFlows(List.of()).size()).isZero();
    assertThat(t.atGeneration(5).meters()).isEqualTo(t.meters());
    assertThat(t.atGeneration(5).generation()).isEqualTo(5);
  }

  @Test
  void aBackendIsCanonicalAndOrderedByFamilyAddressPortAndProtocol() {
    assertThat(new NatBackend("fd00:0:0::1", 53, NatBackend.UDP).address()).isEqualTo("fd00::1");
    assertThat(NatBackend.of(new byte[] {10, 0, 0, 7}, 53, NatBackend.UDP)).isEqualTo(new NatBackend("10.0.0.7", 53, 17));
    assertThat(new java.util.TreeSet<>(java.util.List.of(new NatBackend("fd00::1", 53, 17), new NatBackend("10.0.0.9", 53, 132),
        new NatBackend("10.0.0.9", 53, 17), new NatBackend("10.0.0.10", 1, 17)))).extracting(NatBackend::toString)
        .containsExactly("udp 10.0.0.9:53", "sctp 10.0.0.9:53", "udp 10.0.0.10:1", "udp [fd00::1]:53");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new NatBackend("web-1", 53, 17))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not an IP address: web-1");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new NatBackend("10.0.0.1", 0, 17))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("port 0");
  }

  @Test
  void sharedBackendsReachEverySwitchAndTablesWithoutSharedOnesHaveNone() {
    java.util.Set<NatBackend> b = java.util.Set.of(new NatBackend("10.0.0.7", 53, NatBackend.UDP));
    SharedTables shared = SharedTables.of(java.util.List.of(), java.util.List.of(), java.util.List.of(), b);
    assertThat(shared).isNotSameAs(SharedTables.EMPTY);
    assertThat(DesiredTables.of(1, 1, java.util.List.of(), shared).natBackends()).isEqualTo(b);
    assertThat(DesiredTables.of(2, 1, java.util.List.of(), shared).natBackends()).isEqualTo(b);
    assertThat(DesiredTables.of(1, 1, java.util.List.of()).natBackends()).isEmpty();
    assertThat(SharedTables.EMPTY.natBackends()).isEmpty();
  }
}
