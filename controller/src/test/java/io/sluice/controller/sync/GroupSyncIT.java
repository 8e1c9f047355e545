package io.sluice.controller.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.testing.OpenFlowTap;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.Sh;
import io.sluice.controller.testing.TestController;
import io.sluice.controller.wire.GoldenGroups;
import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.flow.Field;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.Group;
import io.sluice.renderer.flow.Match;
import io.sluice.renderer.flow.Meter;
import io.sluice.renderer.flow.OfctlFormat;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Groups and meters on real OVS, through Sluice's sessions and sync: what goes out in which order (seen by a relay
 * between the bridge and the controller), what the switch then holds (ovs-ofctl), and reconciliation after restarts.
 */
class GroupSyncIT {
  static final Duration T = Duration.ofSeconds(20);
  static final long SVC = Group.ownedId(0x51);
  static final long SVC2 = Group.ownedId(0x52);
  static final Meter METER = new Meter(0x5c07, true, 100, 20);

  static Group select(long id, int... endpoints) {
    List<Group.Bucket> b = new ArrayList<>();
    for (int e : endpoints) {
      b.add(GoldenGroups.endpoint(e));
    }
    return new Group(id, Group.Type.SELECT, b);
  }

  static int[] range(int from, int to) {
    int[] r = new int[to - from];
    Arrays.setAll(r, i -> from + i);
    return r;
  }

  /** A Service's VIP flow: ip to 10.96.0.N goes to a group. */
  static Flow vip(int n, long group) {
    return new Flow(0, 150, Match.builder().ipv4().exact(Field.IPV4_DST, 0x0a600000L + n).build(),
        List.of(new Action.Group(group)), Cookie.of(Cookie.Category.SERVICE, 1, n));
  }

  static final String ANY_VERSION = "OpenFlow13,OpenFlow14,OpenFlow15";

  /** dump-groups lines in the bridge's best version, sorted, bucket ids left out (OF1.3 and 1.4 print none). */
  static List<String> groups(String br) {
    return dumpGroups(br, ANY_VERSION).stream().map(GroupSyncIT::withoutBucketIds).sorted().toList();
  }

  /** dump-groups lines in OpenFlow 1.5 (bucket ids included), sorted. */
  static List<String> groups15(String br) {
    return dumpGroups(br, "OpenFlow15").stream().sorted().toList();
  }

  private static List<String> dumpGroups(String br, String versions) {
    List<String> out = new ArrayList<>();
    for (String l : Sh.run("ovs-ofctl", "-O", versions, "dump-groups", br).split("\n")) {
      if (!l.isBlank() && !l.startsWith("OFPST_GROUP_DESC")) {
        out.add(l);
      }
    }
    return out;
  }

  /** A group as dump-groups prints it, bucket ids left out. */
  static String text(Group g) {
    return withoutBucketIds(OfctlFormat.group(g));
  }

  static String withoutBucketIds(String line) {
    return line.replaceAll("bucket_id:\\d+,", "");
  }

  static String meters(String br) {
    return Sh.run("ovs-ofctl", "-O", ANY_VERSION, "dump-meters", br);
  }

  /** What the controller sent that changes the switch, in order (no echoes, no requests). */
  /**
   * What changed the switch since the tap was cleared, and the barriers among it. Barriers before the first change are
   * left out: the previous push's closing barrier can pass the tap just after a clear (seen in a loaded run).
   */
  static List<String> changes(OpenFlowTap tap) {
    List<String> out = new java.util.ArrayList<>(tap.sent().stream().filter(m -> m.startsWith("BUNDLE")
        || m.startsWith("[") || m.startsWith("FLOW_MOD") || m.startsWith("GROUP_MOD") || m.startsWith("METER_MOD")
        || m.equals("BARRIER")).toList());
    while (!out.isEmpty() && out.get(0).equals("BARRIER")) {
      out.remove(0);
    }
    return out;
  }

  static long dpid(String protocol, int n) {
    return 0x6000 + n * 16L + protocol.charAt(protocol.length() - 1) - '0';
  }

  @ParameterizedTest
  @ValueSource(strings = {"OpenFlow13", "OpenFlow14", "OpenFlow15"})
  void aSelectGroupAndTheFlowPointingAtItLandInOneBundleAndABundleWithARefusalLandsNothing(String protocol) throws Exception {
    long dpid = dpid(protocol, 1);
    try (Ovs ovs = new Ovs(); TestController c = new TestController(0, Duration.ofSeconds(1));
         OpenFlowTap tap = new OpenFlowTap(c.port())) {
      String br = ovs.bridge("g", dpid, protocol, tap.port());
      c.awaitRealized(dpid, T);
      tap.clear();
      Group g = select(SVC, 1, 2, 3);
      c.setTables(dpid, List.of(vip(1, SVC)), List.of(g), List.of());
      c.awaitRealized(dpid, T);
      assertThat(changes(tap)).containsExactly("BUNDLE OPEN", "[GROUP_MOD ADD]", "[FLOW_MOD ADD]", "BARRIER",
          "BUNDLE COMMIT", "BARRIER");
      PushResult r = c.manager().lastPush(dpid);
      assertThat(r.atomic()).isTrue();
      assertThat(r.sent()).isEqualTo(new PushResult.Sent(1, 1, 0, 0, 0));
      assertThat(groups(br)).containsExactly(text(g));
      assertThat(ovs.flows(br)).contains(vip(1, SVC).toString());
      assertThat(c.status(dpid).groups()).isEqualTo(1);

      // a second Service and a flow the switch refuses, in one generation: nothing of it lands
      List<String> before = groups(br);
      Flow refused = new Flow(0, 150, Match.builder().ipv4().exact(Field.IPV4_DST, 0x0a6000ffL).build(),
          List.of(new Action.Output(0xffffff01L)), Cookie.of(Cookie.Category.SERVICE, 1, 0xff));
      long gen = c.setTables(dpid, List.of(vip(1, SVC), vip(2, SVC2), refused), List.of(g, select(SVC2, 4)), List.of());
      SwitchStatus s = c.await(dpid, T, x -> x.lastError() != null, "a refusal");
      assertThat(s.realizedGeneration()).isLessThan(gen);
      assertThat(s.lastError()).contains("BAD_OUT_PORT");
      assertThat(groups(br)).isEqualTo(before);
      assertThat(ovs.flows(br)).noneMatch(l -> l.contains("nw_dst=10.96.0.2"));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"OpenFlow13", "OpenFlow15"})
  void removingAFlowAndTheGroupsItUsesTogetherWorksWhicheverGroupHasTheLowerId(String protocol) throws Exception {
    long dpid = dpid(protocol, 2);
    try (Ovs ovs = new Ovs(); TestController c = new TestController(0, Duration.ofSeconds(1));
         OpenFlowTap tap = new OpenFlowTap(c.port())) {
      String br = ovs.bridge("r", dpid, protocol, tap.port());
      c.awaitRealized(dpid, T);
      // a Service's VIP points at an indirect group whose bucket points at the endpoints' select group; first the
      // referring group has the lower id, then the higher: id order alone would be wrong one way or the other
      for (long[] ids : new long[][] {{Group.ownedId(1), Group.ownedId(2)}, {Group.ownedId(4), Group.ownedId(3)}}) {
        long top = ids[0];
        long endpoints = ids[1];
        Group sel = select(endpoints, 1, 2);
        Group ind = new Group(top, Group.Type.INDIRECT, List.of(new Group.Bucket(1, List.of(new Action.Group(endpoints)))));
        tap.clear();
        c.setTables(dpid, List.of(vip(3, top)), List.of(ind, sel), List.of());
        c.awaitRealized(dpid, T);
        assertThat(groups(br)).hasSize(2);
        assertThat(changes(tap)).containsExactly("BUNDLE OPEN", "[GROUP_MOD ADD]", "[GROUP_MOD ADD]", "[FLOW_MOD ADD]",
            "BARRIER", "BUNDLE COMMIT", "BARRIER");
        tap.clear();
        c.setTables(dpid, List.of(), List.of(), List.of());
        c.awaitRealized(dpid, T);
        assertThat(changes(tap)).containsExactly("BUNDLE OPEN", "[FLOW_MOD DELETE_STRICT]", "[GROUP_MOD DELETE]",
            "[GROUP_MOD DELETE]", "BARRIER", "BUNDLE COMMIT", "BARRIER");
        assertThat(groups(br)).isEmpty();
        assertThat(ovs.flows(br)).noneMatch(l -> l.contains("group:"));
        assertThat(c.status(dpid).lastError()).isNull();
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"OpenFlow13", "OpenFlow15"})
  void aMeterGoesOutBeforeTheBundleOfTheFlowUsingItAndIsDeletedAfterTheFlow(String protocol) throws Exception {
    long dpid = dpid(protocol, 3);
    try (Ovs ovs = new Ovs(); TestController c = new TestController(0, Duration.ofSeconds(1));
         OpenFlowTap tap = new OpenFlowTap(c.port())) {
      String br = ovs.bridge("m", dpid, protocol, tap.port());
      c.awaitRealized(dpid, T);
      Flow punt = new Flow(0, 120, Match.builder().arp().build(), List.of(new Action.Meter(METER.id()),
          new Action.Controller(128)), Cookie.of(Cookie.Category.SERVICE, 1, 9));
      tap.clear();
      c.setTables(dpid, List.of(punt), List.of(), List.of(METER));
      c.awaitRealized(dpid, T);
      assertThat(changes(tap)).containsExactly("METER_MOD ADD", "BARRIER", "BUNDLE OPEN", "[FLOW_MOD ADD]", "BARRIER",
          "BUNDLE COMMIT", "BARRIER");
      assertThat(c.manager().lastPush(dpid).sent()).isEqualTo(new PushResult.Sent(1, 0, 0, 0, 1));
      assertThat(meters(br)).contains(OfctlFormat.meter(METER));
      assertThat(ovs.flows(br)).contains(punt.toString());
      assertThat(c.status(dpid).meters()).as("this one and the audit log's").isEqualTo(
          1 + io.sluice.renderer.pipeline.PipelineProfile.ovs().baseMeters().size());

      Meter faster = new Meter(METER.id(), true, 500, 50);
      tap.clear();
      c.setTables(dpid, List.of(punt), List.of(), List.of(faster));
      c.awaitRealized(dpid, T);
      assertThat(changes(tap)).startsWith("METER_MOD MODIFY", "BARRIER").doesNotContain("[FLOW_MOD ADD]");
      assertThat(meters(br)).contains(OfctlFormat.meter(faster));

      tap.clear();
      c.setTables(dpid, List.of(), List.of(), List.of());
      c.awaitRealized(dpid, T);
      assertThat(changes(tap)).containsExactly("BUNDLE OPEN", "[FLOW_MOD DELETE_STRICT]", "BARRIER", "BUNDLE COMMIT",
          "BARRIER", "METER_MOD DELETE", "BARRIER");
      assertThat(meters(br)).doesNotContain("meter=" + METER.id());
      assertThat(ovs.flows(br)).noneMatch(l -> l.contains("meter:" + METER.id()));
    }
  }

  @Test
  void aSelectGroupChangeIsOneModifyAndTheBucketsItKeepsKeepTheirIds() throws Exception {
    long dpid = dpid("OpenFlow15", 4);
    try (Ovs ovs = new Ovs(); TestController c = new TestController(0, Duration.ofSeconds(1));
         OpenFlowTap tap = new OpenFlowTap(c.port())) {
      String br = ovs.bridge("i", dpid, "OpenFlow15", tap.port());
      c.awaitRealized(dpid, T);
      c.setTables(dpid, List.of(vip(1, SVC)), List.of(select(SVC, 1, 2, 3)), List.of());
      c.awaitRealized(dpid, T);
      tap.clear();
      c.setTables(dpid, List.of(vip(1, SVC)), List.of(select(SVC, 1, 2, 3, 4)), List.of());
      c.awaitRealized(dpid, T);
      assertThat(c.manager().lastPush(dpid).sent()).isEqualTo(new PushResult.Sent(0, 1, 0, 0, 0));
      assertThat(changes(tap)).containsExactly("BUNDLE OPEN", "[GROUP_MOD MODIFY]", "BARRIER", "BUNDLE COMMIT",
          "BARRIER");
      assertThat(groups15(br)).containsExactly(OfctlFormat.group(select(SVC, 1, 2, 3, 4)));

      // endpoint 2 goes: its bucket (id 1) is gone, the others keep ids 0, 2, 3
      tap.clear();
      c.setTables(dpid, List.of(vip(1, SVC)), List.of(select(SVC, 1, 3, 4)), List.of());
      c.awaitRealized(dpid, T);
      assertThat(c.manager().lastPush(dpid).sent()).isEqualTo(new PushResult.Sent(0, 1, 0, 0, 0));
      assertThat(groups15(br)).singleElement().satisfies(l -> assertThat(l)
          .contains("bucket=bucket_id:0,actions=set_field:0xa000001->reg3")
          .contains("bucket=bucket_id:2,actions=set_field:0xa000003->reg3")
          .contains("bucket=bucket_id:3,actions=set_field:0xa000004->reg3")
          .doesNotContain("bucket_id:1,"));
    }
  }

  @Test
  void beforeOpenFlow15OneBucketMoreIsAModify() throws Exception {
    long dpid = dpid("OpenFlow13", 5);
    try (Ovs ovs = new Ovs(); TestController c = new TestController(0, Duration.ofSeconds(1))) {
      String br = ovs.bridge("j", dpid, "OpenFlow13", c.port());
      c.awaitRealized(dpid, T);
      c.setTables(dpid, List.of(vip(1, SVC)), List.of(select(SVC, 1, 2, 3)), List.of());
      c.awaitRealized(dpid, T);
      c.setTables(dpid, List.of(vip(1, SVC)), List.of(select(SVC, 1, 2, 3, 4)), List.of());
      c.awaitRealized(dpid, T);
      assertThat(c.manager().lastPush(dpid).sent()).isEqualTo(new PushResult.Sent(0, 1, 0, 0, 0));
      assertThat(groups(br)).containsExactly(text(select(SVC, 1, 2, 3, 4)));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"OpenFlow13", "OpenFlow15"})
  void aRestartLeavesRightGroupsAloneRepairsSluicesAndNeverTouchesForeignOnes(String protocol) throws Exception {
    long dpid = dpid(protocol, 6);
    String[] of = {"ovs-ofctl", "-O", protocol};
    List<Group> groups = List.of(select(SVC, 1, 2, 3), select(SVC2, 4, 5));
    List<Flow> flows = List.of(vip(1, SVC), vip(2, SVC2));
    try (Ovs ovs = new Ovs()) {
      TestController first = new TestController(0, Duration.ofMillis(500), null, 1);
      int port = first.port();
      String br = ovs.bridge("x", dpid, protocol, port);
      first.setTables(dpid, flows, groups, List.of(METER));
      first.awaitRealized(dpid, T);
      List<String> right = groups(br);
      first.close();

      try (TestController second = new TestController(port, Duration.ofMillis(500), null, 2)) {
        second.setTables(dpid, flows, groups, List.of(METER));
        SwitchManager.ReconcileReport rep = awaitReconcile(second, dpid);
        assertThat(rep.groupMods()).as("group-mods to reconcile an in-sync switch").isZero();
        assertThat(rep.meterMods()).isZero();
        assertThat(rep.flowMods()).isZero();
        assertThat(rep.groupsRead()).isEqualTo(2);
      }
      assertThat(groups(br)).isEqualTo(right);

      // while no controller is connected: a bucket of SVC lost, a stray Sluice group and meter, foreign ones
      if (protocol.equals("OpenFlow15")) {
        Sh.run(concat(of, "remove-buckets", br, "group_id=" + SVC + ",command_bucket_id=1"));
      } else {
        Sh.run(concat(of, "mod-group", br, OfctlFormat.group(select(SVC, 1, 3)).trim()));
      }
      Sh.run(concat(of, "add-group", br, OfctlFormat.group(select(Group.ownedId(0x99), 7)).trim()));
      Sh.run(concat(of, "add-group", br, "group_id=7,type=all,bucket=actions=output:1"));
      Sh.run(concat(of, "add-meter", br, "meter=" + 0x5c10 + ",pktps,burst,band=type=drop,rate=5,burst_size=5"));
      Sh.run(concat(of, "add-meter", br, "meter=7,pktps,burst,band=type=drop,rate=5,burst_size=5"));
      java.util.function.Function<String, List<String>> dump = protocol.equals("OpenFlow15") ? GroupSyncIT::groups15
          : GroupSyncIT::groups;
      String foreignGroup = dump.apply(br).stream().filter(l -> l.startsWith(" group_id=7,")).findFirst().orElseThrow();

      try (TestController third = new TestController(port, Duration.ofMillis(500), null, 3)) {
        third.setTables(dpid, flows, groups, List.of(METER));
        SwitchManager.ReconcileReport rep = awaitReconcile(third, dpid);
        assertThat(rep.flowMods()).isZero();
        assertThat(rep.foreignGroups()).isEqualTo(1);
        assertThat(rep.meterMods()).as("the stray meter deleted").isEqualTo(1);
        assertThat(rep.groupMods()).as("SVC repaired, the stray group deleted").isEqualTo(2);
        PushResult push = third.manager().lastPush(dpid);
        assertThat(push.sent()).isEqualTo(new PushResult.Sent(0, 2, 0, 0, 1)); // a select group is always modified whole
        List<String> now = dump.apply(br);
        assertThat(now).contains(foreignGroup).hasSize(3).noneMatch(l -> l.contains("group_id=" + Group.ownedId(0x99)));
        String svc = now.stream().filter(l -> l.startsWith(" group_id=" + SVC + ",")).findFirst().orElseThrow();
        if (protocol.equals("OpenFlow15")) {
          // the buckets left alone keep their ids; the lost one comes back after them
          assertThat(svc).contains("bucket_id:0,actions=set_field:0xa000001->reg3")
              .contains("bucket_id:2,actions=set_field:0xa000003->reg3")
              .contains("bucket_id:3,actions=set_field:0xa000002->reg3");
        } else {
          assertThat(svc).isEqualTo(text(select(SVC, 1, 2, 3)));
        }
        String m = meters(br);
        assertThat(m).contains("meter=7 ").contains(OfctlFormat.meter(METER)).doesNotContain("meter=" + 0x5c10 + " ");
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"OpenFlow13", "OpenFlow15"})
  void aServiceWith5000EndpointsLandsInOneBundleAsASelectGroupOfSelectGroupsAndReadsBackEqual(String protocol)
      throws Exception {
    long dpid = dpid(protocol, 7);
    long top = Group.ownedId(0x500);
    List<Group> groups = new ArrayList<>();
    List<Group.Bucket> topBuckets = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      long sub = Group.ownedId(0x501 + i);
      groups.add(select(sub, range(i * 1000, (i + 1) * 1000)));
      topBuckets.add(new Group.Bucket(1000, List.of(new Action.Group(sub))));
    }
    groups.add(new Group(top, Group.Type.SELECT, topBuckets));
    try (Ovs ovs = new Ovs()) {
      TestController first = new TestController(0, Duration.ofSeconds(1), null, 1);
      int port = first.port();
      try (OpenFlowTap tap = new OpenFlowTap(port)) {
        String br = ovs.bridge("s", dpid, protocol, tap.port());
        first.awaitRealized(dpid, T);
        tap.clear();
        first.setTables(dpid, List.of(vip(5, top)), groups, List.of());
        first.awaitRealized(dpid, Duration.ofSeconds(60));
        PushResult r = first.manager().lastPush(dpid);
        System.out.printf(Locale.ROOT, "%s: 5,000 endpoints as 5 x 1,000-bucket groups + 1 top group + 1 flow: pushed in "
            + "%d ms (%s)%n", protocol, r.elapsed().toMillis(), r.sent());
        assertThat(r.atomic()).isTrue();
        assertThat(r.sent()).isEqualTo(new PushResult.Sent(1, 6, 0, 0, 0));
        assertThat(changes(tap).stream().filter(m -> m.equals("BUNDLE OPEN")).count()).isEqualTo(1);
        List<String> dumped = groups(br);
        assertThat(dumped).hasSize(6).contains(text(groups.get(5)));
        for (int i = 0; i < 5; i++) {
          assertThat(dumped).contains(text(groups.get(i)));
        }

        if (protocol.equals("OpenFlow15")) {
          // one endpoint more in a 1,000-bucket group: one GROUP_MOD (a select group is rewritten whole, see GroupDiff)
          List<Group> more = new ArrayList<>(groups);
          more.set(0, select(groups.get(0).id(), range(0, 1001)));
          first.setTables(dpid, List.of(vip(5, top)), more, List.of());
          first.awaitRealized(dpid, T);
          PushResult one = first.manager().lastPush(dpid);
          System.out.printf(Locale.ROOT, "%s: one endpoint added to a 1,000-bucket group: %d ms (%s)%n", protocol,
              one.elapsed().toMillis(), one.sent());
          assertThat(one.sent()).isEqualTo(new PushResult.Sent(0, 1, 0, 0, 0));
          groups = more;
        }
        first.close();
        // read back: a restarted controller finds every group equal to what it wants
        try (TestController second = new TestController(port, Duration.ofSeconds(1), null, 2)) {
          second.setTables(dpid, List.of(vip(5, top)), groups, List.of());
          SwitchManager.ReconcileReport rep = awaitReconcile(second, dpid);
          System.out.printf(Locale.ROOT, "%s: reconcile of 6 groups / 5,000 buckets: %d ms%n", protocol,
              rep.elapsed().toMillis());
          assertThat(rep.groupsRead()).isEqualTo(6);
          assertThat(rep.groupMods()).as("every group read back equal").isZero();
          assertThat(rep.flowMods()).isZero();
        }
      }
    }
  }

  @Test
  void aGroupOneMessageCannotHoldIsRefusedNamingItAndNothingIsSent() throws Exception {
    long dpid = dpid("OpenFlow15", 8);
    long big = Group.ownedId(0xb16);
    try (Ovs ovs = new Ovs(); TestController c = new TestController(0, Duration.ofSeconds(1));
         OpenFlowTap tap = new OpenFlowTap(c.port())) {
      String br = ovs.bridge("b", dpid, "OpenFlow15", tap.port());
      c.awaitRealized(dpid, T);
      tap.clear();
      long gen = c.setTables(dpid, List.of(vip(6, big)), List.of(select(big, range(0, 5000))), List.of());
      SwitchStatus s = c.await(dpid, T, x -> x.lastError() != null, "the refusal");
      assertThat(s.lastError()).contains("group 0x5c000b16 (5000 buckets").contains("split it");
      assertThat(s.realizedGeneration()).isLessThan(gen);
      assertThat(changes(tap)).isEmpty();
      assertThat(groups(br)).isEmpty();
    }
  }

  static SwitchManager.ReconcileReport awaitReconcile(TestController c, long dpid) {
    c.awaitRealized(dpid, Duration.ofSeconds(60));
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (c.manager().lastReconcile(dpid) == null && System.nanoTime() < deadline) {
      Ovs.sleep(5);
    }
    SwitchManager.ReconcileReport r = c.manager().lastReconcile(dpid);
    assertThat(r).as("reconcile report").isNotNull();
    return r;
  }

  static String[] concat(String[] head, String... tail) {
    String[] all = Arrays.copyOf(head, head.length + tail.length);
    System.arraycopy(tail, 0, all, head.length, tail.length);
    return all;
  }
}
