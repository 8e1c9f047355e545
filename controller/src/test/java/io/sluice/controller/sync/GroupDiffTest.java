package io.sluice.controller.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.wire.GoldenGroups;
import io.sluice.controller.wire.GroupCodec;
import io.sluice.controller.wire.WireGroup;
import io.sluice.controller.wire.WireGroup.WireBucket;
import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Group;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.projectfloodlight.openflow.protocol.OFVersion;

/** Which group-mods a change takes, in which order, and what the switch holds afterwards. */
class GroupDiffTest {
  static final OFVersion V15 = OFVersion.OF_15;
  static final long G = Group.ownedId(1);

  static Group select(long id, int... endpoints) {
    List<Group.Bucket> b = new ArrayList<>();
    for (int e : endpoints) {
      b.add(GoldenGroups.endpoint(e));
    }
    return new Group(id, Group.Type.SELECT, b);
  }

  static Group all(long id, Action... perBucket) {
    List<Group.Bucket> b = new ArrayList<>();
    for (Action a : perBucket) {
      b.add(new Group.Bucket(1, List.of(a)));
    }
    return new Group(id, Group.Type.ALL, b);
  }

  static Map<Long, WireGroup> wire(OFVersion v, Group... groups) {
    Map<Long, WireGroup> m = new HashMap<>();
    for (Group g : groups) {
      m.put(g.id(), GroupCodec.wireGroup(g, v));
    }
    return m;
  }

  static List<String> kinds(List<SwitchOp> ops) {
    return ops.stream().map(o -> o.target() + " " + o.kind()).toList();
  }

  static List<Long> ids(WireGroup g) {
    return g.buckets().stream().map(WireBucket::id).toList();
  }

  @Test
  void aGroupTheSwitchHoldsAlreadyTakesNothingEvenWithItsSelectBucketsInAnotherOrder() {
    GroupDiff.Plan p = GroupDiff.plan(wire(V15, select(G, 1, 2, 3)), wire(V15, select(G, 1, 2, 3)), V15);
    assertThat(p.isEmpty()).isTrue();
    GroupDiff.Plan q = GroupDiff.plan(wire(V15, select(G, 3, 1, 2)), wire(V15, select(G, 1, 2, 3)), V15);
    assertThat(q.isEmpty()).isTrue();
    assertThat(q.after().get(G)).isEqualTo(GroupCodec.wireGroup(select(G, 1, 2, 3), V15));
  }

  @Test
  void aSelectGroupChangeIsOneModifyInWhichKeptBucketsKeepTheirIds() {
    Map<Long, WireGroup> have = wire(V15, select(G, 1, 2, 3));
    GroupDiff.Plan p = GroupDiff.plan(wire(V15, select(G, 1, 2, 3, 4)), have, V15);
    assertThat(kinds(p.upserts())).containsExactly("GROUP MODIFY");
    assertThat(p.deletes()).isEmpty();
    assertThat(ids(p.after().get(G))).containsExactly(0L, 1L, 2L, 3L);

    // remove the middle one, add two: kept 1 and 3 keep ids 0 and 2, the new ones take fresh ids after the highest
    GroupDiff.Plan q = GroupDiff.plan(wire(V15, select(G, 5, 1, 3, 6)), p.after(), V15);
    assertThat(kinds(q.upserts())).containsExactly("GROUP MODIFY");
    WireGroup after = q.after().get(G);
    assertThat(ids(after)).containsExactly(4L, 0L, 2L, 5L);
    assertThat(after.buckets().get(0).content()).isEqualTo(GroupCodec.wireGroup(select(G, 5), V15).buckets().get(0).content());
  }

  @Test
  void beforeOpenFlow15EveryChangeIsAModify() {
    for (OFVersion v : List.of(OFVersion.OF_13, OFVersion.OF_14)) {
      GroupDiff.Plan p = GroupDiff.plan(wire(v, select(G, 1, 2, 3, 4)), wire(v, select(G, 1, 2, 3)), v);
      assertThat(kinds(p.upserts())).containsExactly("GROUP MODIFY");
      assertThat(p.after().get(G)).isEqualTo(GroupCodec.wireGroup(select(G, 1, 2, 3, 4), v));
    }
  }

  @Test
  void replacingEveryBucketOrChangingTheTypeIsAModifyThatKeepsTheIdsOfBucketsItKeeps() {
    GroupDiff.Plan p = GroupDiff.plan(wire(V15, select(G, 7, 8)), wire(V15, select(G, 1, 2)), V15);
    assertThat(kinds(p.upserts())).containsExactly("GROUP MODIFY");
    assertThat(ids(p.after().get(G))).as("new buckets never take a gone bucket's id").containsExactly(2L, 3L);

    Group asAll = new Group(G, Group.Type.ALL, select(G, 1, 2).buckets());
    Map<Long, WireGroup> have = new HashMap<>();
    WireGroup h = GroupCodec.wireGroup(select(G, 1, 2, 3), V15);
    // the switch's ids after earlier edits: 4, 9, 11
    have.put(G, new WireGroup(G, h.type(), List.of(new WireBucket(4, h.buckets().get(0).content()),
        new WireBucket(9, h.buckets().get(1).content()), new WireBucket(11, h.buckets().get(2).content())), h.properties()));
    GroupDiff.Plan q = GroupDiff.plan(wire(V15, asAll), have, V15);
    assertThat(kinds(q.upserts())).containsExactly("GROUP MODIFY");
    assertThat(q.after().get(G).type()).isEqualTo(Group.Type.ALL.wire());

    // endpoint 3 replaced by 4 in a select group: a modify in which 4 and 9 stay, the new one after the highest id
    GroupDiff.Plan r = GroupDiff.plan(wire(V15, select(G, 2, 1, 4)), have, V15);
    assertThat(kinds(r.upserts())).containsExactly("GROUP MODIFY");
    assertThat(ids(r.after().get(G))).containsExactly(9L, 4L, 12L);
  }

  @Test
  void inAnAllGroupOrderMattersSoOnlyAppendsAndRemovalsInPlaceAreEdits() {
    Action o1 = new Action.Output(1);
    Action o2 = new Action.Output(2);
    Action o3 = new Action.Output(3);
    Map<Long, WireGroup> have = wire(V15, all(G, o1, o2));
    assertThat(kinds(GroupDiff.plan(wire(V15, all(G, o1, o2, o3)), have, V15).upserts())).containsExactly("BUCKETS ADD");
    assertThat(kinds(GroupDiff.plan(wire(V15, all(G, o2)), have, V15).upserts())).containsExactly("BUCKETS DELETE");
    assertThat(kinds(GroupDiff.plan(wire(V15, all(G, o3, o1, o2)), have, V15).upserts())).containsExactly("GROUP MODIFY");
    assertThat(kinds(GroupDiff.plan(wire(V15, all(G, o2, o1)), have, V15).upserts())).containsExactly("GROUP MODIFY");
  }

  @Test
  void groupsAreAddedAfterTheGroupsTheyPointAtAndDeletedBeforeThem() {
    // the referring group has the lower id, so id order alone would be wrong both ways
    long top = Group.ownedId(1);
    long sub = Group.ownedId(2);
    long leaf = Group.ownedId(3);
    Group leafG = select(leaf, 1);
    Group subG = all(sub, new Action.Group(leaf));
    Group topG = all(top, new Action.Group(sub), new Action.Output(1));
    GroupDiff.Plan add = GroupDiff.plan(wire(V15, topG, subG, leafG), Map.of(), V15);
    assertThat(add.upserts()).extracting(o -> ((WireGroup) o.subject()).id()).containsExactly(leaf, sub, top);
    GroupDiff.Plan del = GroupDiff.plan(Map.of(), add.after(), V15);
    assertThat(del.upserts()).isEmpty();
    assertThat(del.deletes()).extracting(o -> ((WireGroup) o.subject()).id()).containsExactly(top, sub, leaf);
    assertThat(del.after()).isEmpty();
  }

  /** A Service port growing past one group's endpoints, and shrinking back (renderer.service's group of groups). */
  @Test
  void aGroupBecomingAParentOfLeavesIsModifiedAfterTheLeavesAreAddedAndBackBeforeTheyAreDeleted() {
    long parent = Group.ownedId(1); // the port's group keeps its id; its leaves get higher ones here
    long leaf1 = Group.ownedId(7);
    long leaf2 = Group.ownedId(8);
    Map<Long, WireGroup> plain = wire(V15, select(parent, 1, 2, 3));
    Group split = new Group(parent, Group.Type.SELECT, List.of(new Group.Bucket(2, List.of(new Action.Group(leaf1))),
        new Group.Bucket(1, List.of(new Action.Group(leaf2)))));
    GroupDiff.Plan grow = GroupDiff.plan(wire(V15, split, select(leaf1, 1, 3), select(leaf2, 2)), plain, V15);
    assertThat(grow.upserts()).extracting(o -> ((WireGroup) o.subject()).id()).containsExactly(leaf1, leaf2, parent);
    assertThat(kinds(grow.upserts())).containsExactly("GROUP ADD", "GROUP ADD", "GROUP MODIFY");
    assertThat(grow.deletes()).isEmpty();
    GroupDiff.Plan shrink = GroupDiff.plan(plain, grow.after(), V15);
    assertThat(kinds(shrink.upserts())).containsExactly("GROUP MODIFY");
    assertThat(shrink.deletes()).extracting(o -> ((WireGroup) o.subject()).id()).containsExactlyInAnyOrder(leaf1, leaf2);
  }

  @Test
  void anUnreadableGroupIsRewrittenWhole() {
    Map<Long, WireGroup> have = Map.of(G, WireGroup.unreadable(G));
    GroupDiff.Plan p = GroupDiff.plan(wire(V15, select(G, 1)), have, V15);
    assertThat(kinds(p.upserts())).containsExactly("GROUP MODIFY");
    assertThat(p.after().get(G)).isEqualTo(GroupCodec.wireGroup(select(G, 1), V15));
  }
}
