package io.sluice.renderer.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.model.ClusterModel;
import io.sluice.model.LabelSelector;
import io.sluice.model.ModelEvent;
import io.sluice.model.Namespace;
import io.sluice.model.NetworkPolicy;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.Snapshot;
import io.sluice.model.SwitchPorts;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.pipeline.PipelineProfile;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which policy flows get which cookie kind: only the default-deny flows count as isolation drops. */
class PolicyFlowKindsTest {
  private static final long DPID = 0x5d02;

  /** db isolated both ways (rule 0 admits web), its node 192.168.1.1, on a managed switch. */
  private static List<Flow> compiled() {
    NetworkPolicy np = new NetworkPolicy(new ObjectRef("shop", "db"), LabelSelector.of(Map.of("app", "db")),
        Set.of(NetworkPolicy.PolicyType.INGRESS, NetworkPolicy.PolicyType.EGRESS),
        List.of(new NetworkPolicy.Rule(List.of(new NetworkPolicy.Peer.Pods(
            Optional.of(LabelSelector.EVERYTHING), LabelSelector.of(Map.of("app", "web")))), List.of())),
        List.of());
    Pod web = new Pod(new ObjectRef("shop", "web"), Map.of("app", "web"), List.of("10.0.0.1"), List.of(), false,
        List.of("192.168.1.1"));
    Pod db = new Pod(new ObjectRef("shop", "db"), Map.of("app", "db"), List.of("10.0.0.2"), List.of(), false,
        List.of("192.168.1.1"));
    Snapshot s = new ClusterModel(1).apply(List.of(
        new ModelEvent.NamespaceUpserted(new Namespace("shop", Map.of())),
        new ModelEvent.PodUpserted(web), new ModelEvent.PortBound(new PortBinding(web.ref(), DPID, 1, "0a:58:00:00:00:01")),
        new ModelEvent.PodUpserted(db), new ModelEvent.PortBound(new PortBinding(db.ref(), DPID, 2, "0a:58:00:00:00:02")),
        new ModelEvent.PortBound(new PortBinding(new ObjectRef("shop", "ghost"), DPID, 3, "0a:58:00:00:00:03")),
        new ModelEvent.SwitchPortsUpserted(new SwitchPorts(DPID, Set.of(20L))),
        new ModelEvent.NetworkPolicyUpserted(np)));
    return PolicyCompiler.compile(s, DPID, 1);
  }

  @Test
  void everyPolicyFlowHasExactlyOneKind() {
    for (Flow f : compiled()) {
      Cookie c = f.cookie();
      int kinds = (c.isRuleAllow() ? 1 : 0) + (c.isIsolationDrop() ? 1 : 0) + (c.isExemption() ? 1 : 0)
          + (c.isAdmission() ? 1 : 0) + (c.isBase() ? 1 : 0);
      assertThat(kinds).as(f.toString()).isEqualTo(1);
    }
  }

  @Test
  void isolationDropsAreExactlyTheDefaultDenyFlows() {
    List<Flow> flows = compiled();
    List<Flow> drops = flows.stream().filter(f -> f.cookie().isIsolationDrop()).toList();
    // db: egress by its port (table 30), ingress by its address (table 40)
    assertThat(drops).hasSize(2).allSatisfy(f -> {
      assertThat(f.table()).isIn(PipelineProfile.EGRESS_RULE, PipelineProfile.INGRESS_RULE);
      assertThat(f.priority()).isEqualTo(PolicyCompiler.ISOLATION_PRIORITY);
      assertThat(f.actions()).as("dropped, and sent through the audit meter to the controller").isEqualTo(PipelineProfile.AUDITED_DROP);
    });
    assertThat(flows.stream().filter(f -> (f.table() == PipelineProfile.EGRESS_RULE
        || f.table() == PipelineProfile.INGRESS_RULE) && f.priority() == PolicyCompiler.ISOLATION_PRIORITY))
        .containsExactlyInAnyOrderElementsOf(drops);
  }

  @Test
  void exemptionsAndAdmissionAreNeverCountedAsDrops() {
    List<Flow> flows = compiled();
    List<Flow> exemptions = flows.stream().filter(f -> f.cookie().isExemption()).toList();
    // db with itself (egress), db to its node (egress), its node to db (ingress)
    assertThat(exemptions).hasSize(3).allSatisfy(f -> {
      assertThat(f.priority()).isEqualTo(PolicyCompiler.SELF_PRIORITY);
      assertThat(f.cookie().isIsolationDrop()).isFalse();
    });
    List<Flow> admission = flows.stream().filter(f -> f.cookie().isAdmission()).toList();
    assertThat(admission).isNotEmpty().allSatisfy(f -> {
      assertThat(f.table()).isIn(PipelineProfile.CLASSIFIER, PipelineProfile.L2_FORWARDING);
      assertThat(f.cookie().isIsolationDrop()).isFalse();
    });
    // the admission flows that drop (spoofing, closed port and MAC) are admission, not isolation
    assertThat(admission.stream().filter(f -> f.actions().isEmpty())).isNotEmpty();
    assertThat(flows.stream().filter(f -> f.cookie().isRuleAllow()))
        .isNotEmpty().allSatisfy(f -> assertThat(f.priority()).isGreaterThanOrEqualTo(PolicyCompiler.RULE_PRIORITY));
  }

  @Test
  void ruleFlowsComeAfterEveryOtherKind() {
    List<Flow> flows = compiled();
    int firstRule = 0;
    while (!flows.get(firstRule).cookie().isRuleAllow()) {
      firstRule++;
    }
    assertThat(flows.subList(firstRule, flows.size())).allSatisfy(f -> assertThat(f.cookie().isRuleAllow()).isTrue());
  }
}
