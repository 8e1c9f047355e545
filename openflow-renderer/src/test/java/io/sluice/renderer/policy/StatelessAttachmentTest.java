package io.sluice.renderer.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.model.ClusterModel;
import io.sluice.model.LabelSelector;
import io.sluice.model.ModelEvent;
import io.sluice.model.Namespace;
import io.sluice.model.NetworkPolicy;
import io.sluice.model.Node;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.Snapshot;
import io.sluice.renderer.StatelessRenderer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A node behind a switch port (its attachment): its pods share the port, told apart by their source addresses. */
class StatelessAttachmentTest {
  static final long DPID = 0x7e93;

  static Snapshot cluster() {
    ClusterModel m = new ClusterModel(1);
    Pod a = new Pod(new ObjectRef("tor", "a"), Map.of("app", "a"), List.of("10.73.0.11"), List.of(), false,
        List.of("10.73.0.100"), "tor-node", true, false, false);
    Pod b = new Pod(new ObjectRef("tor", "b"), Map.of("app", "b"), List.of("10.73.0.12"), List.of(), false,
        List.of("10.73.0.100"), "tor-node", true, false, false);
    Pod web = new Pod(new ObjectRef("tor", "web"), Map.of("app", "web"), List.of("10.73.0.20"), List.of(), false);
    NetworkPolicy bSendsNothing = new NetworkPolicy(new ObjectRef("tor", "b-sends-nothing"),
        new LabelSelector(Map.of("app", "b"), List.of()), Set.of(NetworkPolicy.PolicyType.EGRESS), List.of(), List.of());
    return m.apply(List.of(new ModelEvent.NamespaceUpserted(new Namespace("tor", Map.of())),
        new ModelEvent.NodeUpserted(new Node("tor-node", Map.of(), List.of("10.73.0.100"), Set.of(),
            new Node.Attachment(DPID, 1))),
        new ModelEvent.PodUpserted(a), new ModelEvent.PodUpserted(b), new ModelEvent.PodUpserted(web),
        new ModelEvent.PortBound(new PortBinding(web.ref(), DPID, 2, "0a:58:0a:49:00:14")),
        new ModelEvent.NetworkPolicyUpserted(bSendsNothing)));
  }

  @Test
  void podsOnTheNodesPortAreJudgedByTheirAddressAndTheNodeAsFromOutside() {
    var flows = new StatelessRenderer(StatelessRendererTest.singleTable(), 1, false).render(cluster(), DPID).flows().values();
    List<String> printed = StatelessRendererTest.printed(List.copyOf(flows));
    // a (open) sends anything; the node's own address is judged as from outside: to web by web's side (open), and
    // to anywhere else not here at all
    assertThat(printed).anyMatch(f -> f.endsWith("priority=200,ip,in_port=1,nw_src=10.73.0.11 actions=ALL"))
        .anyMatch(f -> f.endsWith("priority=450,ip,in_port=1,nw_src=10.73.0.100,nw_dst=10.73.0.20 actions=output:2"))
        .anyMatch(f -> f.endsWith("priority=200,ip,in_port=1,nw_src=10.73.0.100 actions=ALL"))
        .anyMatch(f -> f.endsWith("priority=100,ip,in_port=1 actions=drop"));
    // nothing from the shared port is allowed by the port alone
    assertThat(printed).filteredOn(f -> f.contains("in_port=1") && !f.contains("drop"))
        .allMatch(f -> f.contains("nw_src=") || f.contains("ipv6_src=") || !f.contains(",ip"));
    // b (egress isolated, no rule) sends only replies, to itself and to its node
    assertThat(printed).filteredOn(f -> f.contains("in_port=1,nw_src=10.73.0.12") && !f.contains("drop"))
        .isNotEmpty()
        .allMatch(f -> f.contains("tcp_flags=0x10/0x10") || f.contains("tp_dst=0x8000/0x8000")
            || f.matches(".*icmp_type=(0|3|11) .*") || f.contains("nw_dst=10.73.0.12") || f.contains("nw_dst=10.73.0.100"),
            "reply-shaped, or to itself or its node");
  }
}
