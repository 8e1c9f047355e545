package io.sluice.renderer.fabric;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.model.ClusterModel;
import io.sluice.model.Host;
import io.sluice.model.Link;
import io.sluice.model.ModelEvent;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.Snapshot;
import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Group;
import io.sluice.renderer.pipeline.Capabilities;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A leaf-spine fabric: spines 0x1 and 0x2, leaves 0x11, 0x12, 0x13; each leaf's port 1 goes to spine 0x1 and port 2
 * to spine 0x2, each spine's port N to leaf 0x1N. A pod on each leaf's port 3, a learned host on 0x13 port 4.
 */
class FabricForwardingTest {
  static final Capabilities SELECT = new Capabilities(false, false, false, true, false, Set.of("all", "select", "fast_failover"));
  static final Capabilities NO_SELECT = new Capabilities(false, false, false, false, false, Set.of("all", "fast_failover"));

  static Snapshot leafSpine(boolean withoutLink) {
    ClusterModel m = new ClusterModel(1);
    List<ModelEvent> ev = new ArrayList<>();
    for (int leaf = 1; leaf <= 3; leaf++) {
      long l = 0x10 + leaf;
      if (!(withoutLink && leaf == 1)) {
        ev.add(new ModelEvent.LinkUp(Link.of(l, 1, 0x1, leaf)));
      }
      ev.add(new ModelEvent.LinkUp(Link.of(l, 2, 0x2, leaf)));
      Pod p = new Pod(new ObjectRef("f", "p" + leaf), Map.of(), List.of("10.9.0." + leaf), List.of(), false);
      ev.add(new ModelEvent.PodUpserted(p));
      ev.add(new ModelEvent.PortBound(new PortBinding(p.ref(), l, 3, "0a:00:00:00:00:0" + leaf)));
    }
    ev.add(new ModelEvent.HostUpserted(new Host("0a:00:00:00:01:00", List.of("10.9.1.1"), 0x13, 4, 0)));
    return m.apply(ev);
  }

  @Test
  void aLeafSpreadsRemoteEndpointsOverBothSpinesAndWatchesEachUplink() {
    FabricForwarding f = FabricForwarding.of(leafSpine(false), 0x11, SELECT);
    assertThat(f.towards(f.endpoints().get("0a:00:00:00:00:01"))).containsExactly(new Action.Output(3));
    List<Action> toP2 = f.towards(f.endpoints().get("0a:00:00:00:00:02"));
    assertThat(toP2).hasSize(1).first().isInstanceOf(Action.Group.class);
    assertThat(f.towards(f.endpoints().get("0a:00:00:00:01:00"))).isEqualTo(toP2); // one group per next-hop set
    assertThat(f.groups()).singleElement().satisfies(g -> {
      assertThat(g.type()).isEqualTo(Group.Type.SELECT);
      assertThat(g.buckets()).containsExactly(new Group.Bucket(1, List.of(new Action.Output(1)), 1),
          new Group.Bucket(1, List.of(new Action.Output(2)), 2));
    });
  }

  @Test
  void withoutSelectGroupsTheUplinksFailOverInOrder() {
    FabricForwarding f = FabricForwarding.of(leafSpine(false), 0x11, NO_SELECT);
    f.towards(f.endpoints().get("0a:00:00:00:00:02"));
    assertThat(f.groups()).singleElement().satisfies(g -> assertThat(g.type()).isEqualTo(Group.Type.FAST_FAILOVER));
  }

  @Test
  void aSpineSendsStraightDownAndAGoneLinkIsRoutedAround() {
    FabricForwarding spine = FabricForwarding.of(leafSpine(false), 0x1, SELECT);
    assertThat(spine.towards(spine.endpoints().get("0a:00:00:00:00:02"))).containsExactly(new Action.Output(2));
    // leaf 0x11 lost its link to spine 0x1: the spine reaches p1 through a leaf and the other spine (4 hops)
    FabricForwarding after = FabricForwarding.of(leafSpine(true), 0x1, SELECT);
    List<Action> a = after.towards(after.endpoints().get("0a:00:00:00:00:01"));
    assertThat(a).hasSize(1);
    // and leaf 0x12 sends to p1 only by spine 0x2
    FabricForwarding leaf = FabricForwarding.of(leafSpine(true), 0x12, SELECT);
    assertThat(leaf.towards(leaf.endpoints().get("0a:00:00:00:00:01"))).containsExactly(new Action.Output(2));
  }

  @Test
  void floodsFollowOneSpanningTreeBothEndsOfEachLinkAgreeOn() {
    Snapshot s = leafSpine(false);
    // tree from 0x1 (lowest): 0x1 to every leaf, then 0x2 through leaf 0x11's port 2
    assertThat(FabricForwarding.of(s, 0x1, SELECT).blockedFloodPorts()).isEmpty();
    assertThat(FabricForwarding.of(s, 0x11, SELECT).blockedFloodPorts()).isEmpty();
    assertThat(FabricForwarding.of(s, 0x12, SELECT).blockedFloodPorts()).containsExactly(2L);
    assertThat(FabricForwarding.of(s, 0x13, SELECT).blockedFloodPorts()).containsExactly(2L);
    assertThat(FabricForwarding.of(s, 0x2, SELECT).blockedFloodPorts()).containsExactly(2L, 3L);
    assertThat(FabricForwarding.of(s, 0x2, SELECT).treePorts()).containsExactly(1L);
  }

  @Test
  void parallelLinksAgreeOnWhichOneIsOnTheTree() {
    ClusterModel m = new ClusterModel(1);
    // two links between 0x1 and 0x2, their ports crossed: (1:1 - 2:9) and (1:2 - 2:3)
    Snapshot s = m.apply(List.of(new ModelEvent.LinkUp(Link.of(0x1, 1, 0x2, 9)), new ModelEvent.LinkUp(Link.of(0x1, 2, 0x2, 3))));
    assertThat(FabricForwarding.of(s, 0x1, SELECT).treePorts()).containsExactly(1L);
    assertThat(FabricForwarding.of(s, 0x2, SELECT).treePorts()).containsExactly(9L);
    assertThat(FabricForwarding.of(s, 0x2, SELECT).blockedFloodPorts()).containsExactly(3L);
  }
}
