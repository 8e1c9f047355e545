package io.sluice.renderer.bench;

import io.sluice.model.ClusterModel;
import io.sluice.model.LabelSelector;
import io.sluice.model.ModelEvent;
import io.sluice.model.Namespace;
import io.sluice.model.NetworkPolicy;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.Protocol;
import io.sluice.model.Snapshot;
import io.sluice.renderer.Renderer;
import io.sluice.renderer.StatelessRenderer;
import io.sluice.renderer.pipeline.Capabilities;
import io.sluice.renderer.pipeline.PipelineProfile;
import io.sluice.renderer.pipeline.Table;
import io.sluice.renderer.policy.PolicyIndex;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Flows per switch for one intent on the three built-in profiles ({@code deploy/bench.sh fabric}): Antrea's
 * one-namespace scenario (every pod selected by every policy, ingress from every pod) scaled to fit a top-of-rack
 * switch (60 pods, 10 per switch, 60 identical policies: the Policy table of openflow13-generic holds 2,048 flows), plus Antrea's 100 peers x 10 ports rule on one pod of the
 * first switch. Printed: the most flows any switch holds, per profile, and each part alone.
 */
public final class FabricBench {
  private FabricBench() { }

  static final int PODS = 60;
  static final int PER_SWITCH = 10;

  public static void main(String[] args) {
    Snapshot both = snapshot(true, true);
    Snapshot oneNamespace = snapshot(true, false);
    Snapshot rule = snapshot(false, true);
    for (String profile : List.of("ovs", "of13_generic", "of13_single_table")) {
      System.out.println("BENCH fabric.flows_per_switch." + profile + " " + maxFlows(both, profile) + " flows");
      System.out.println("BENCH fabric.flows_per_switch." + profile + ".one_namespace " + maxFlows(oneNamespace, profile)
          + " flows");
      System.out.println("BENCH fabric.flows_per_switch." + profile + ".rule_100x10 " + maxFlows(rule, profile) + " flows");
    }
  }

  static long maxFlows(Snapshot s, String profile) {
    PolicyIndex index = PolicyIndex.of(s);
    long max = 0;
    for (long dpid = 1; dpid <= PODS / PER_SWITCH + 1; dpid++) {
      int flows = switch (profile) {
        case "ovs" -> new Renderer(PipelineProfile.ovs(), 1).render(index, dpid).flows().size();
        case "of13_generic" -> new StatelessRenderer(generic(), 1, false).render(index, dpid).flows().size();
        default -> new StatelessRenderer(singleTable(), 1, false).render(index, dpid).flows().size();
      };
      max = Math.max(max, flows);
    }
    return max;
  }

  static final Capabilities HARDWARE = new Capabilities(false, false, false, true, false,
      Set.of("all", "select", "indirect", "fast_failover"));
  static final EnumSet<io.sluice.renderer.flow.Field> STANDARD = EnumSet.of(io.sluice.renderer.flow.Field.IN_PORT,
      io.sluice.renderer.flow.Field.ETH_SRC, io.sluice.renderer.flow.Field.ETH_DST, io.sluice.renderer.flow.Field.ETH_TYPE,
      io.sluice.renderer.flow.Field.IP_PROTO, io.sluice.renderer.flow.Field.IPV4_SRC, io.sluice.renderer.flow.Field.IPV4_DST,
      io.sluice.renderer.flow.Field.IPV6_SRC, io.sluice.renderer.flow.Field.IPV6_DST, io.sluice.renderer.flow.Field.TCP_SRC,
      io.sluice.renderer.flow.Field.TCP_DST, io.sluice.renderer.flow.Field.UDP_SRC, io.sluice.renderer.flow.Field.UDP_DST,
      io.sluice.renderer.flow.Field.SCTP_SRC, io.sluice.renderer.flow.Field.SCTP_DST,
      io.sluice.renderer.flow.Field.ICMPV4_TYPE, io.sluice.renderer.flow.Field.ICMPV6_TYPE,
      io.sluice.renderer.flow.Field.TCP_FLAGS);

  /** The built-in profiles' layouts, without their sizes (the bench counts; budgets are sync's business). */
  static PipelineProfile generic() {
    return PipelineProfile.of("openflow13-generic", List.of(
        new Table(0, "Classifier", EnumSet.of(io.sluice.renderer.flow.Field.IN_PORT, io.sluice.renderer.flow.Field.ETH_TYPE), 1),
        new Table(1, "Policy", STANDARD, 2),
        new Table(2, "Forwarding", EnumSet.of(io.sluice.renderer.flow.Field.IN_PORT, io.sluice.renderer.flow.Field.ETH_DST),
            Table.MISS_DROP)), HARDWARE);
  }

  static PipelineProfile singleTable() {
    return PipelineProfile.of("openflow13-single-table", List.of(new Table(0, "Single", STANDARD, Table.MISS_DROP)),
        new Capabilities(false, false, false, false, false, Set.of("all", "indirect", "fast_failover")));
  }

  static Snapshot snapshot(boolean oneNamespace, boolean rule100x10) {
    List<ModelEvent> ev = new ArrayList<>();
    ev.add(new ModelEvent.NamespaceUpserted(new Namespace("scale", Map.of())));
    if (oneNamespace) {
      Map<String, String> labels = Map.of("app-1", "scale-1");
      for (int i = 0; i < PODS; i++) {
        Pod p = new Pod(new ObjectRef("scale", "pod-" + i), labels, List.of("10.2." + (i / 250) + "." + (i % 250 + 1)),
            List.of(), false);
        ev.add(new ModelEvent.PodUpserted(p));
        ev.add(new ModelEvent.PortBound(new PortBinding(p.ref(), 1 + i / PER_SWITCH, 1 + i % PER_SWITCH,
            String.format("0a:58:0a:02:%02x:%02x", i / 250, i % 250 + 1))));
      }
      LabelSelector sel = LabelSelector.of(labels);
      for (int i = 0; i < PODS; i++) {
        ev.add(new ModelEvent.NetworkPolicyUpserted(new NetworkPolicy(new ObjectRef("scale", "np-" + i), sel,
            Set.of(NetworkPolicy.PolicyType.INGRESS),
            List.of(new NetworkPolicy.Rule(List.of(new NetworkPolicy.Peer.Pods(Optional.empty(), sel)), List.of())),
            List.of())));
      }
    }
    if (rule100x10) {
      Pod target = new Pod(new ObjectRef("scale", "target"), Map.of("role", "target"), List.of("10.0.0.1"), List.of(), false);
      ev.add(new ModelEvent.PodUpserted(target));
      ev.add(new ModelEvent.PortBound(new PortBinding(target.ref(), 1, 100, "0a:58:0a:00:00:01")));
      List<NetworkPolicy.Peer> peers = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        Pod p = new Pod(new ObjectRef("scale", "peer-" + i), Map.of("peer", "p" + i),
            List.of("10.1." + (i / 200) + "." + (i % 200 + 1)), List.of(), false);
        ev.add(new ModelEvent.PodUpserted(p));
        peers.add(new NetworkPolicy.Peer.Pods(Optional.empty(), LabelSelector.of(Map.of("peer", "p" + i))));
      }
      List<NetworkPolicy.Port> ports = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        ports.add(NetworkPolicy.Port.of(Protocol.TCP, 8000 + 7 * i));
      }
      ev.add(new ModelEvent.NetworkPolicyUpserted(new NetworkPolicy(new ObjectRef("scale", "p100x10"),
          LabelSelector.of(Map.of("role", "target")), Set.of(NetworkPolicy.PolicyType.INGRESS),
          List.of(new NetworkPolicy.Rule(peers, ports)), List.of())));
    }
    return new ClusterModel(1).apply(ev);
  }
}
