package io.sluice.controller.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.testing.Ovs;
import io.sluice.model.ModelEvent;
import io.sluice.model.ObjectRef;
import io.sluice.model.Snapshot;
import io.sluice.renderer.scenario.ServiceScenario;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.projectfloodlight.openflow.types.DatapathId;

/**
 * Pushes diffed flow by flow (from the last applied push, not the whole tables) leave a real switch exactly as
 * desired: after a run of Service changes sent that way, a reconnect's reconcile (a full dump compared with the
 * desired tables) finds nothing to change.
 */
class DeltaSyncIT {
  private static final long DPID = 0x5c000000000000d1L;

  @Test
  void serviceChangesPushedFlowByFlowLeaveNothingForAReconcileToFix() throws Exception {
    RuntimeConfig config = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0),
        new InetSocketAddress("127.0.0.1", 0), Duration.ofSeconds(5), RuntimeConfig.Role.EQUAL, 0, 2);
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(config)) {
      rt.model().apply(ServiceScenario.events(60, 4, 3, DPID));
      String br = ovs.bridge("dl", DPID, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      await(rt, rt.model().generation());
      List<ModelEvent> all = ServiceScenario.events(60, 4, 3, DPID);
      Random random = new Random(7);
      for (int i = 0; i < 40; i++) {
        Snapshot before = rt.model().snapshot();
        int s = random.nextInt(60);
        ObjectRef svc = new ObjectRef("svc", "s-" + s);
        ModelEvent change = random.nextInt(3) > 0 ? ServiceScenario.flipFirstEndpoint(before, s)
            : before.services().containsKey(svc) ? new ModelEvent.ServiceDeleted(svc) : upsertOf(all, svc);
        await(rt, rt.model().apply(List.of(change)).generation());
      }
      long delta = rt.switches().deltaPushes(DPID);
      assertThat(delta).as("pushes diffed flow by flow").isGreaterThanOrEqualTo(30);
      List<String> flowsBefore = ovs.flows(br);
      SwitchManager.ReconcileReport first = rt.switches().lastReconcile(DPID);

      ovs.setController(br, 1); // away (nothing listens on port 1) and back: a full reconcile
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (connected(rt) && System.nanoTime() < deadline) {
        Ovs.sleep(20);
      }
      ovs.setController(br, rt.openflowPort());
      deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      SwitchManager.ReconcileReport r = null;
      while (System.nanoTime() < deadline
          && ((r = rt.switches().lastReconcile(DPID)) == null || r.equals(first) || !connected(rt))) {
        Ovs.sleep(20);
      }
      assertThat(r).as("a reconcile after reconnecting").isNotNull().isNotEqualTo(first);
      assertThat(r.flowMods()).as("flow-mods a full comparison still found necessary").isZero();
      assertThat(r.groupMods()).as("group-mods a full comparison still found necessary").isZero();
      assertThat(ovs.flows(br)).containsExactlyInAnyOrderElementsOf(flowsBefore);
    }
  }

  private static ModelEvent upsertOf(List<ModelEvent> all, ObjectRef svc) {
    return all.stream().filter(e -> e instanceof ModelEvent.ServiceUpserted u && u.service().ref().equals(svc))
        .findFirst().orElseThrow();
  }

  private static boolean connected(SluiceRuntime rt) {
    String name = DatapathId.of(DPID).toString();
    return rt.switches().statuses().stream().anyMatch(s -> s.datapathId().equals(name) && s.connected());
  }

  private static void await(SluiceRuntime rt, long generation) {
    String name = DatapathId.of(DPID).toString();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      if (rt.switches().statuses().stream().anyMatch(s -> s.datapathId().equals(name) && s.connected()
          && s.realizedGeneration() >= generation)) {
        return;
      }
      Ovs.sleep(2);
    }
    throw new AssertionError("generation " + generation + " not realized on the switch");
  }
}
