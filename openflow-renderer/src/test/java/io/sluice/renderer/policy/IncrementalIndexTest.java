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
import io.sluice.model.PortRef;
import io.sluice.model.Protocol;
import io.sluice.model.Snapshot;
import io.sluice.renderer.Renderer;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.pipeline.PipelineProfile;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * {@link PolicyIndex#next} and the renderer's reuse of unchanged switches give exactly the tables a from-scratch
 * index and render give, over random clusters and random sequences of changes.
 */
class IncrementalIndexTest {
  private static final List<String> NS = List.of("a", "b", "c", "d");
  private static final List<String> APPS = List.of("web", "db", "cache");
  private static final List<String> TIERS = List.of("front", "back");
  private static final long[] DPIDS = {1, 2, 3};

  private final Renderer renderer = new Renderer(PipelineProfile.ovs(), 7);
  private final Renderer legacy = new Renderer(PipelineProfile.ovs(), 7, true);

  @Test
  void incrementalIndexAndReusedRendersEqualAFullRecompute() {
    int reused = 0;
    int rendered = 0;
    for (long seed = 1; seed <= 60; seed++) {
      Random rnd = new Random(seed);
      Renderer r = seed % 3 == 0 ? legacy : renderer;
      ClusterModel model = new ClusterModel(1);
      Snapshot snap = model.apply(initial(rnd));
      PolicyIndex index = PolicyIndex.of(snap);
      Map<Long, Renderer.Rendered> last = new HashMap<>();
      for (long d : DPIDS) {
        last.put(d, r.render(index, d, null));
      }
      for (int step = 0; step < 30; step++) {
        List<ModelEvent> change = new ArrayList<>();
        for (int k = rnd.nextInt(3); k >= 0; k--) {
          change.add(randomChange(rnd, snap));
        }
        Snapshot next = model.apply(change);
        if (next == snap) {
          continue;
        }
        snap = next;
        index = index.next(snap);
        PolicyIndex full = PolicyIndex.of(snap);
        for (long d : DPIDS) {
          Renderer.Rendered before = last.get(d);
          Renderer.Rendered now = r.render(index, d, before);
          if (now.inputs() == before.inputs()) {
            reused++;
          } else {
            rendered++;
          }
          assertThat(now.tables().generation()).isEqualTo(snap.generation());
          assertThat(text(now.tables().flows().values()))
              .as("seed %d step %d switch %d after %s", seed, step, d, change)
              .isEqualTo(text(r.render(full, d).flows().values()));
          last.put(d, now);
        }
      }
    }
    // both paths were exercised
    assertThat(reused).isGreaterThan(100);
    assertThat(rendered).isGreaterThan(100);
  }

  @Test
  void aLabelChangeRerendersOnlyTheSwitchesItTouches() {
    List<ModelEvent> ev = new ArrayList<>();
    for (String ns : List.of("a", "b")) {
      ev.add(new ModelEvent.NamespaceUpserted(new Namespace(ns, Map.of("kubernetes.io/metadata.name", ns))));
      LabelSelector web = LabelSelector.of(Map.of("app", "web"));
      ev.add(new ModelEvent.NetworkPolicyUpserted(new NetworkPolicy(new ObjectRef(ns, "web-from-db"), web,
          Set.of(NetworkPolicy.PolicyType.INGRESS), List.of(new NetworkPolicy.Rule(
          List.of(new NetworkPolicy.Peer.Pods(Optional.empty(), LabelSelector.of(Map.of("app", "db")))),
          List.of(NetworkPolicy.Port.of(Protocol.TCP, 80)))), List.of())));
    }
    // namespace a on switch 1, namespace b on switch 2
    ev.addAll(podOn("a", "web", "10.0.0.1", "web", 1));
    ev.addAll(podOn("a", "db", "10.0.0.2", "db", 1));
    ev.addAll(podOn("b", "web", "10.0.1.1", "web", 2));
    ev.addAll(podOn("b", "db", "10.0.1.2", "db", 2));
    ClusterModel model = new ClusterModel(1);
    Snapshot s1 = model.apply(ev);
    PolicyIndex i1 = PolicyIndex.of(s1);
    Renderer.Rendered sw1 = renderer.render(i1, 1, null);
    Renderer.Rendered sw2 = renderer.render(i1, 2, null);

    Pod db = s1.pods().get(new ObjectRef("a", "db"));
    Snapshot s2 = model.apply(List.of(new ModelEvent.PodUpserted(new Pod(db.ref(), Map.of("app", "other"), db.ips(),
        db.ports(), false))));
    PolicyIndex i2 = i1.next(s2);
    Renderer.Rendered sw1b = renderer.render(i2, 1, sw1);
    Renderer.Rendered sw2b = renderer.render(i2, 2, sw2);
    assertThat(sw2b.inputs()).as("switch 2 holds nothing of namespace a").isSameAs(sw2.inputs());
    assertThat(sw2b.tables().flows()).isSameAs(sw2.tables().flows());
    assertThat(sw2b.tables().generation()).isEqualTo(s2.generation());
    assertThat(sw1b.inputs()).isNotSameAs(sw1.inputs());
    assertThat(text(sw1b.tables().flows().values())).doesNotContain("nw_src=10.0.0.2");
    assertThat(text(sw1.tables().flows().values())).anyMatch(f -> f.contains("nw_src=10.0.0.2"));
    // namespace b's lists are shared between the two indexes
    assertThat(i2.podsIn("b")).isSameAs(i1.podsIn("b"));
    assertThat(i2.policiesIn("b")).isSameAs(i1.policiesIn("b"));
    assertThat(i2.podsIn("a")).isNotSameAs(i1.podsIn("a"));
  }

  private static List<ModelEvent> podOn(String ns, String name, String ip, String app, long dpid) {
    Pod p = new Pod(new ObjectRef(ns, name), Map.of("app", app), List.of(ip), List.of(), false);
    return List.of(new ModelEvent.PodUpserted(p), new ModelEvent.PortBound(new PortBinding(p.ref(), dpid, 10 + name.length(), null)));
  }

  private static TreeSet<String> text(java.util.Collection<Flow> flows) {
    TreeSet<String> out = new TreeSet<>();
    flows.forEach(f -> out.add(f.toString()));
    return out;
  }

  // ------------------------------------------------------------------ random clusters

  private static List<ModelEvent> initial(Random rnd) {
    List<ModelEvent> ev = new ArrayList<>();
    for (String ns : NS) {
      ev.add(new ModelEvent.NamespaceUpserted(namespace(rnd, ns)));
    }
    for (int i = 0; i < 16; i++) {
      Pod p = pod(rnd, NS.get(rnd.nextInt(NS.size())), "p" + i);
      ev.add(new ModelEvent.PodUpserted(p));
      if (rnd.nextInt(5) > 0) {
        ev.add(new ModelEvent.PortBound(new PortBinding(p.ref(), DPIDS[rnd.nextInt(DPIDS.length)], 1 + i, null)));
      }
    }
    for (int i = 0; i < 5; i++) {
      ev.add(new ModelEvent.NetworkPolicyUpserted(policy(rnd, NS.get(rnd.nextInt(NS.size())), "np" + i)));
    }
    return ev;
  }

  private static ModelEvent randomChange(Random rnd, Snapshot snap) {
    List<Pod> pods = new ArrayList<>(new java.util.TreeMap<>(snap.pods()).values());
    List<NetworkPolicy> policies = new ArrayList<>(new java.util.TreeMap<>(snap.networkPolicies()).values());
    switch (rnd.nextInt(11)) {
      case 0, 1, 2 -> {
        if (!pods.isEmpty()) {
          Pod p = pods.get(rnd.nextInt(pods.size()));
          return new ModelEvent.PodUpserted(new Pod(p.ref(), labels(rnd), p.ips(), p.ports(), p.hostNetwork()));
        }
      }
      case 3 -> {
        return new ModelEvent.PodUpserted(pod(rnd, NS.get(rnd.nextInt(NS.size())), "p" + rnd.nextInt(24)));
      }
      case 4 -> {
        if (!pods.isEmpty()) {
          return new ModelEvent.PodDeleted(pods.get(rnd.nextInt(pods.size())).ref());
        }
      }
      case 5 -> {
        if (!pods.isEmpty()) {
          ObjectRef ref = pods.get(rnd.nextInt(pods.size())).ref();
          return rnd.nextInt(4) == 0 ? new ModelEvent.PortUnbound(ref)
              : new ModelEvent.PortBound(new PortBinding(ref, DPIDS[rnd.nextInt(DPIDS.length)], 1 + rnd.nextInt(30), null));
        }
      }
      case 6, 7 -> {
        return new ModelEvent.NetworkPolicyUpserted(policy(rnd, NS.get(rnd.nextInt(NS.size())), "np" + rnd.nextInt(7)));
      }
      case 8 -> {
        if (!policies.isEmpty()) {
          return new ModelEvent.NetworkPolicyDeleted(policies.get(rnd.nextInt(policies.size())).ref());
        }
      }
      case 9 -> {
        long d = DPIDS[rnd.nextInt(DPIDS.length)];
        return rnd.nextInt(3) == 0 ? new ModelEvent.SwitchPortsDeleted(d)
            : new ModelEvent.SwitchPortsUpserted(new io.sluice.model.SwitchPorts(d, Set.of(100L + rnd.nextInt(3))));
      }
      default -> {
        return new ModelEvent.NamespaceUpserted(namespace(rnd, NS.get(rnd.nextInt(NS.size()))));
      }
    }
    return new ModelEvent.NamespaceUpserted(namespace(rnd, NS.get(0)));
  }

  private static Namespace namespace(Random rnd, String name) {
    Map<String, String> labels = new HashMap<>(Map.of("kubernetes.io/metadata.name", name));
    if (rnd.nextBoolean()) {
      labels.put("team", TIERS.get(rnd.nextInt(TIERS.size())));
    }
    Map<String, String> annotations = rnd.nextInt(4) == 0
        ? Map.of(PolicyCompiler.LEGACY_ANNOTATION, "{\"ingress\": {\"isolation\": \"DefaultDeny\"}}") : Map.of();
    return new Namespace(name, labels, annotations);
  }

  private static Map<String, String> labels(Random rnd) {
    Map<String, String> m = new HashMap<>();
    m.put("app", APPS.get(rnd.nextInt(APPS.size())));
    if (rnd.nextBoolean()) {
      m.put("tier", TIERS.get(rnd.nextInt(TIERS.size())));
    }
    return m;
  }

  private static int ipCounter;

  private static Pod pod(Random rnd, String ns, String name) {
    int n = ++ipCounter % 250 + 1;
    List<String> ips = switch (rnd.nextInt(6)) {
      case 0 -> List.of();
      case 1 -> List.of("10.1.0." + n, "fd00::" + Integer.toHexString(n));
      default -> List.of("10.1.0." + n);
    };
    List<Pod.NamedPort> ports = rnd.nextBoolean() ? List.of(new Pod.NamedPort("http", 8000 + rnd.nextInt(3), "TCP"))
        : List.of();
    List<String> node = rnd.nextBoolean() ? List.of("192.168.0." + (1 + rnd.nextInt(2))) : List.of();
    return new Pod(new ObjectRef(ns, name), labels(rnd), ips, ports, rnd.nextInt(10) == 0, node);
  }

  private static NetworkPolicy policy(Random rnd, String ns, String name) {
    Set<NetworkPolicy.PolicyType> types = switch (rnd.nextInt(3)) {
      case 0 -> Set.of(NetworkPolicy.PolicyType.INGRESS);
      case 1 -> Set.of(NetworkPolicy.PolicyType.EGRESS);
      default -> Set.of(NetworkPolicy.PolicyType.INGRESS, NetworkPolicy.PolicyType.EGRESS);
    };
    return new NetworkPolicy(new ObjectRef(ns, name), selector(rnd), types, rules(rnd), rules(rnd));
  }

  private static LabelSelector selector(Random rnd) {
    return switch (rnd.nextInt(4)) {
      case 0 -> LabelSelector.EVERYTHING;
      case 1 -> LabelSelector.of(Map.of("tier", TIERS.get(rnd.nextInt(TIERS.size()))));
      default -> LabelSelector.of(Map.of("app", APPS.get(rnd.nextInt(APPS.size()))));
    };
  }

  private static List<NetworkPolicy.Rule> rules(Random rnd) {
    List<NetworkPolicy.Rule> out = new ArrayList<>();
    for (int i = rnd.nextInt(3); i > 0; i--) {
      List<NetworkPolicy.Peer> peers = new ArrayList<>();
      for (int j = rnd.nextInt(3); j > 0; j--) {
        peers.add(switch (rnd.nextInt(4)) {
          case 0 -> rnd.nextBoolean()
              ? new NetworkPolicy.Peer.IpBlock("10.1.0.0/24", rnd.nextBoolean() ? List.of() : List.of("10.1.0.0/28"))
              : new NetworkPolicy.Peer.IpBlock("fd00::/64", rnd.nextBoolean() ? List.of() : List.of("fd00::/120"));
          case 1 -> new NetworkPolicy.Peer.Pods(Optional.of(rnd.nextBoolean() ? LabelSelector.EVERYTHING
              : LabelSelector.of(Map.of("team", TIERS.get(rnd.nextInt(TIERS.size()))))), selector(rnd));
          default -> new NetworkPolicy.Peer.Pods(Optional.empty(), selector(rnd));
        });
      }
      List<NetworkPolicy.Port> ports = new ArrayList<>();
      for (int j = rnd.nextInt(3); j > 0; j--) {
        ports.add(switch (rnd.nextInt(4)) {
          case 0 -> new NetworkPolicy.Port(Protocol.TCP, Optional.of(PortRef.of("http")), OptionalInt.empty());
          case 1 -> new NetworkPolicy.Port(Protocol.UDP, Optional.of(PortRef.of(5000)), OptionalInt.of(5007));
          default -> NetworkPolicy.Port.of(rnd.nextBoolean() ? Protocol.TCP : Protocol.SCTP, 80 + rnd.nextInt(3));
        });
      }
      out.add(new NetworkPolicy.Rule(peers, ports));
    }
    return out;
  }
}
