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
import io.sluice.renderer.policy.PolicyCompiler;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * NetworkPolicy compiler figures ({@code make bench}). Today: the flow count of one rule with 100 peers x 10 ports
 * on a switch holding the selected pod (a cross product would be 1,000).
 */
public final class NetpolBench {
  private NetpolBench() { }

  public static void main(String[] args) {
    System.out.println("BENCH netpol.rule_100x10.flows " + rule100x10() + " flows");
  }

  /** Policy flows (rule, isolation, self) for one rule of 100 pod peers and 10 ports, one selected local pod. */
  static int rule100x10() {
    List<ModelEvent> ev = new ArrayList<>();
    ev.add(new ModelEvent.NamespaceUpserted(new Namespace("bench", Map.of())));
    Pod target = new Pod(new ObjectRef("bench", "target"), Map.of("role", "target"), List.of("10.0.0.1"), List.of(), false);
    ev.add(new ModelEvent.PodUpserted(target));
    ev.add(new ModelEvent.PortBound(new PortBinding(target.ref(), 1, 1, null)));
    List<NetworkPolicy.Peer> peers = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      Pod p = new Pod(new ObjectRef("bench", "peer-" + i), Map.of("peer", "p" + i), List.of("10.1." + (i / 200) + "." + (i % 200 + 1)),
          List.of(), false);
      ev.add(new ModelEvent.PodUpserted(p));
      peers.add(new NetworkPolicy.Peer.Pods(java.util.Optional.empty(), LabelSelector.of(Map.of("peer", "p" + i))));
    }
    List<NetworkPolicy.Port> ports = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      ports.add(NetworkPolicy.Port.of(Protocol.TCP, 8000 + 7 * i));
    }
    ev.add(new ModelEvent.NetworkPolicyUpserted(new NetworkPolicy(new ObjectRef("bench", "p100x10"),
        LabelSelector.of(Map.of("role", "target")), Set.of(NetworkPolicy.PolicyType.INGRESS),
        List.of(new NetworkPolicy.Rule(peers, ports)), List.of())));
    Snapshot s = new ClusterModel(1).apply(ev);
    return PolicyCompiler.compile(s, 1, 1).size();
  }
}
