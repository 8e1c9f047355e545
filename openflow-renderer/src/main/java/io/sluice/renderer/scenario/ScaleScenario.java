package io.sluice.renderer.scenario;

import io.sluice.model.LabelSelector;
import io.sluice.model.ModelEvent;
import io.sluice.model.Namespace;
import io.sluice.model.NetworkPolicy;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.Protocol;
import io.sluice.model.Snapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A synthetic cluster in the shape of Antrea's NetworkPolicy scale test, for benchmarks ({@code make bench}) and
 * load experiments: no I/O, just model events.
 */
public final class ScaleScenario {
  private ScaleScenario() { }

  /**
   * The scale scenario's events: {@code namespaces} namespaces of 4 pods (app=a0..a3, a named port "http") and 3
   * policies each (allow-same-ns, a0-from-a1 on TCP 80, a1-to-a2 on the named port), pods bound
   * {@code podsPerSwitch} to a switch, switch dpids from {@code firstDpid}. Pod i of the cluster is ns-(i/4)/pod-(i%4).
   */
  public static List<ModelEvent> events(int namespaces, int podsPerSwitch, long firstDpid) {
    List<ModelEvent> ev = new ArrayList<>(namespaces * 12);
    int pod = 0;
    for (int n = 0; n < namespaces; n++) {
      String ns = "ns-" + n;
      ev.add(new ModelEvent.NamespaceUpserted(new Namespace(ns, Map.of("team", "t" + (n % 50), "kubernetes.io/metadata.name", ns))));
      for (int j = 0; j < 4; j++, pod++) {
        Pod p = new Pod(new ObjectRef(ns, "pod-" + j), Map.of("app", "a" + j), List.of(ip(pod)),
            List.of(new Pod.NamedPort("http", 8080, "TCP")), false);
        ev.add(new ModelEvent.PodUpserted(p));
        ev.add(new ModelEvent.PortBound(new PortBinding(p.ref(), firstDpid + pod / podsPerSwitch, 1 + pod % podsPerSwitch, null)));
      }
      LabelSelector all = LabelSelector.EVERYTHING;
      ev.add(new ModelEvent.NetworkPolicyUpserted(new NetworkPolicy(new ObjectRef(ns, "allow-same-ns"), all,
          Set.of(NetworkPolicy.PolicyType.INGRESS),
          List.of(new NetworkPolicy.Rule(List.of(new NetworkPolicy.Peer.Pods(java.util.Optional.empty(), all)), List.of())), List.of())));
      ev.add(new ModelEvent.NetworkPolicyUpserted(new NetworkPolicy(new ObjectRef(ns, "a0-from-a1"),
          LabelSelector.of(Map.of("app", "a0")), Set.of(NetworkPolicy.PolicyType.INGRESS),
          List.of(new NetworkPolicy.Rule(List.of(new NetworkPolicy.Peer.Pods(java.util.Optional.empty(),
              LabelSelector.of(Map.of("app", "a1")))), List.of(NetworkPolicy.Port.of(Protocol.TCP, 80)))), List.of())));
      ev.add(new ModelEvent.NetworkPolicyUpserted(new NetworkPolicy(new ObjectRef(ns, "a1-to-a2"),
          LabelSelector.of(Map.of("app", "a1")), Set.of(NetworkPolicy.PolicyType.EGRESS), List.of(),
          List.of(new NetworkPolicy.Rule(List.of(new NetworkPolicy.Peer.Pods(java.util.Optional.empty(),
              LabelSelector.of(Map.of("app", "a2")))), List.of(new NetworkPolicy.Port(Protocol.TCP,
              java.util.Optional.of(io.sluice.model.PortRef.of("http")), java.util.OptionalInt.empty())))))));
    }
    return ev;
  }

  /** The label change the benches make: pod-1 of a namespace flips between app=a1 (selected) and app=a1-off. */
  public static ModelEvent labelFlip(Snapshot snap, String namespace) {
    Pod p = snap.pods().get(new ObjectRef(namespace, "pod-1"));
    String app = "a1".equals(p.labels().get("app")) ? "a1-off" : "a1";
    return new ModelEvent.PodUpserted(p.withLabels(Map.of("app", app)));
  }

  /** The address of the i-th pod: 10.x.y.z. */
  public static String ip(int i) {
    return "10." + (i >> 16 & 0xff) + "." + (i >> 8 & 0xff) + "." + (i & 0xff);
  }
}
