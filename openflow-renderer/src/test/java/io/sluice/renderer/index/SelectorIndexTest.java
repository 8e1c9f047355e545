package io.sluice.renderer.index;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.model.ClusterModel;
import io.sluice.model.LabelSelector;
import io.sluice.model.ModelEvent;
import io.sluice.model.Namespace;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.Snapshot;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * {@link SelectorIndex#next} gives what a from-scratch index gives, over random clusters and random sequences of
 * changes, and keeps the identity of every list and selection that did not change; the memo's bound.
 */
class SelectorIndexTest {
  private static final List<String> NS = List.of("a", "b", "c");
  private static final long[] DPIDS = {1, 2, 3};
  private static final List<LabelSelector> POD_SELECTORS = List.of(LabelSelector.EVERYTHING,
      LabelSelector.of(Map.of("app", "web")), LabelSelector.of(Map.of("app", "db", "tier", "back")),
      new LabelSelector(Map.of(), List.of(new LabelSelector.Requirement("tier", LabelSelector.Operator.DOES_NOT_EXIST,
          List.of()))));
  private static final List<LabelSelector> NAMESPACE_SELECTORS = List.of(LabelSelector.EVERYTHING,
      LabelSelector.of(Map.of("team", "front")), LabelSelector.of(Map.of("kubernetes.io/metadata.name", "b")));

  // ------------------------------------------------------------------ incremental = from scratch

  @Property(tries = 300)
  void incrementalIndexEqualsOneBuiltFromScratch(@ForAll("events") List<ModelEvent> initial,
                                                 @ForAll("steps") List<List<ModelEvent>> steps) {
    ClusterModel model = new ClusterModel(1);
    Snapshot snap = model.apply(initial);
    SelectorIndex index = SelectorIndex.of(snap);
    Lookups before = Lookups.of(index);
    for (List<ModelEvent> step : steps) {
      Snapshot next = model.apply(step);
      SelectorIndex derived = index.next(next);
      Lookups after = Lookups.of(derived);
      assertThat(after.values()).as("after %s", step).isEqualTo(Lookups.of(SelectorIndex.of(next)).values());
      assertUnchangedPartsKeepTheirIdentity(snap, next, step, before, after);
      snap = next;
      index = derived;
      before = after;
    }
  }

  /**
   * A list of a namespace (switch) that no event of the step touched is the very same object; so is any
   * selection whose pods are equal to the last generation's, and every pod when no pod changed.
   */
  private static void assertUnchangedPartsKeepTheirIdentity(Snapshot snap, Snapshot next, List<ModelEvent> step,
                                                            Lookups before, Lookups after) {
    Set<String> podNamespaces = new HashSet<>();
    Set<Long> dpids = new HashSet<>();
    for (ModelEvent e : step) {
      if (e instanceof ModelEvent.PodUpserted p) {
        podNamespaces.add(p.pod().ref().namespace());
      } else if (e instanceof ModelEvent.PodDeleted p) {
        podNamespaces.add(p.ref().namespace());
      } else if (e instanceof ModelEvent.PortBound b) {
        dpids.add(b.binding().dpid());
        dpids.add(dpidOf(snap, b.binding().pod()));
      } else if (e instanceof ModelEvent.PortUnbound u) {
        dpids.add(dpidOf(snap, u.pod()));
      }
    }
    for (String ns : NS) {
      if (!podNamespaces.contains(ns)) {
        assertThat(after.podsIn.get(ns)).as("pods of untouched namespace %s", ns).isSameAs(before.podsIn.get(ns));
      }
    }
    for (long d : DPIDS) {
      if (!dpids.contains(d)) {
        assertThat(after.bindingsOn.get(d)).as("bindings of switch %d", d).isSameAs(before.bindingsOn.get(d));
      }
    }
    before.selections.forEach((key, pods) -> {
      List<Pod> now = after.selections.get(key);
      if (now.equals(pods)) {
        assertThat(now).as("selection %s", key).isSameAs(pods);
      }
    });
    if (snap.pods() == next.pods()) {
      assertThat(after.allPods).isSameAs(before.allPods);
    }
  }

  private static long dpidOf(Snapshot snap, ObjectRef pod) {
    PortBinding b = snap.bindings().get(pod);
    return b == null ? -1 : b.dpid();
  }

  /** Every lookup of an index over the test's small universe, each result as the index returned it. */
  record Lookups(Map<String, List<Pod>> podsIn, Map<Long, List<PortBinding>> bindingsOn,
                 Map<List<Object>, List<Pod>> selections, List<Pod> allPods) {
    static Lookups of(SelectorIndex index) {
      Lookups l = new Lookups(new HashMap<>(), new HashMap<>(), new HashMap<>(), index.allPods());
      for (String ns : NS) {
        l.podsIn.put(ns, index.podsIn(ns));
        for (LabelSelector pods : POD_SELECTORS) {
          l.selections.put(List.of(ns, pods), index.select(ns, pods));
        }
      }
      for (LabelSelector namespaces : NAMESPACE_SELECTORS) {
        for (LabelSelector pods : POD_SELECTORS) {
          l.selections.put(List.of(namespaces, pods), index.select(namespaces, pods));
        }
      }
      for (long d : DPIDS) {
        l.bindingsOn.put(d, index.bindingsOn(d));
      }
      return l;
    }

    /** The lookups' values, compared by equality. */
    List<Object> values() {
      return List.of(podsIn, bindingsOn, selections, allPods);
    }
  }

  // ------------------------------------------------------------------ lookups

  @Example
  void onlyPodsWithAnAddressThatAreNotHostNetworkAreIndexed() {
    Snapshot snap = new ClusterModel(1).apply(List.of(pod("a", "web", Map.of("app", "web"), "10.0.0.1"),
        new ModelEvent.PodUpserted(new Pod(new ObjectRef("a", "pending"), Map.of("app", "web"), List.of(), List.of(), false)),
        new ModelEvent.PodUpserted(new Pod(new ObjectRef("a", "host"), Map.of("app", "web"), List.of("192.168.0.1"),
            List.of(), true))));
    SelectorIndex index = SelectorIndex.of(snap);
    assertThat(index.podsIn("a")).extracting(Pod::ref).containsExactly(new ObjectRef("a", "web"));
    assertThat(index.select("a", LabelSelector.of(Map.of("app", "web")))).extracting(Pod::ref)
        .containsExactly(new ObjectRef("a", "web"));
  }

  @Example
  void aLabelChangeKeepsEveryOtherNamespacesListsAndSelections() {
    ClusterModel model = new ClusterModel(1);
    Snapshot s1 = model.apply(List.of(pod("a", "web", Map.of("app", "web"), "10.0.0.1"),
        pod("a", "db", Map.of("app", "db"), "10.0.0.2"), pod("b", "web", Map.of("app", "web"), "10.0.1.1")));
    SelectorIndex i1 = SelectorIndex.of(s1);
    List<Pod> webA = i1.select("a", LabelSelector.of(Map.of("app", "web")));
    List<Pod> dbA = i1.select("a", LabelSelector.of(Map.of("app", "db")));
    List<Pod> webB = i1.select("b", LabelSelector.of(Map.of("app", "web")));
    List<Pod> everyWeb = i1.select(LabelSelector.EVERYTHING, LabelSelector.of(Map.of("app", "web")));

    Snapshot s2 = model.apply(List.of(pod("a", "db", Map.of("app", "cache"), "10.0.0.2")));
    SelectorIndex i2 = i1.next(s2);
    assertThat(i2.podsIn("a")).isNotSameAs(i1.podsIn("a"));
    assertThat(i2.podsIn("b")).isSameAs(i1.podsIn("b"));
    assertThat(i2.select("a", LabelSelector.of(Map.of("app", "web")))).as("same pods, same list").isSameAs(webA);
    assertThat(i2.select("b", LabelSelector.of(Map.of("app", "web")))).isSameAs(webB);
    assertThat(i2.select(LabelSelector.EVERYTHING, LabelSelector.of(Map.of("app", "web")))).isSameAs(everyWeb);
    assertThat(i2.select("a", LabelSelector.of(Map.of("app", "db")))).isNotSameAs(dbA).isEmpty();
  }

  @Example
  void manyChangesAtOnceRebuildFromScratch() {
    ClusterModel model = new ClusterModel(1);
    List<ModelEvent> first = new ArrayList<>();
    List<ModelEvent> second = new ArrayList<>();
    for (int i = 0; i < 1_500; i++) {
      first.add(pod("a", "p" + i, Map.of("app", "web"), "10.0." + (i >> 8) + "." + (i & 0xff)));
      second.add(pod("a", "p" + i, Map.of("app", i % 2 == 0 ? "web" : "db"), "10.0." + (i >> 8) + "." + (i & 0xff)));
    }
    Snapshot s1 = model.apply(first);
    SelectorIndex i1 = SelectorIndex.of(s1);
    i1.select("a", LabelSelector.of(Map.of("app", "web")));
    Snapshot s2 = model.apply(second);
    SelectorIndex i2 = i1.next(s2);
    assertThat(Lookups.of(i2).values()).isEqualTo(Lookups.of(SelectorIndex.of(s2)).values());
    assertThat(i2.select("a", LabelSelector.of(Map.of("app", "web")))).hasSize(750);
  }

  // ------------------------------------------------------------------ the memo's bound

  @Example
  void aMemoBeyondItsBoundStartsAfreshAndOneWithinItIsKept() {
    ClusterModel model = new ClusterModel(1);
    Snapshot s1 = model.apply(List.of(pod("a", "web", Map.of("app", "web"), "10.0.0.1"),
        pod("b", "web", Map.of("app", "web"), "10.0.1.1")));
    SelectorIndex strict = SelectorIndex.of(s1, (snap, entries) -> false);
    SelectorIndex lenient = SelectorIndex.of(s1, (snap, entries) -> entries <= 2_000);
    int selectors = 1_100; // beyond the 1,024 entries any memo may hold
    for (SelectorIndex i : List.of(strict, lenient)) {
      for (int k = 0; k < selectors; k++) {
        i.select("a", LabelSelector.of(Map.of("k" + k, "v")));
      }
    }
    List<Pod> strictWeb = strict.select("b", LabelSelector.of(Map.of("app", "web")));
    List<Pod> lenientWeb = lenient.select("b", LabelSelector.of(Map.of("app", "web")));

    Snapshot s2 = model.apply(List.of(pod("a", "db", Map.of("app", "db"), "10.0.0.2")));
    assertThat(strict.next(s2).select("b", LabelSelector.of(Map.of("app", "web")))).isNotSameAs(strictWeb).isEqualTo(strictWeb);
    assertThat(lenient.next(s2).select("b", LabelSelector.of(Map.of("app", "web")))).isSameAs(lenientWeb);
  }

  // ------------------------------------------------------------------ random clusters

  @Provide
  Arbitrary<List<ModelEvent>> events() {
    return event().list().ofMaxSize(40);
  }

  @Provide
  Arbitrary<List<List<ModelEvent>>> steps() {
    return event().list().ofMinSize(1).ofMaxSize(3).list().ofMinSize(1).ofMaxSize(25);
  }

  private static Arbitrary<ModelEvent> event() {
    Arbitrary<String> ns = Arbitraries.of(NS);
    Arbitrary<ObjectRef> podRef = Combinators.combine(ns, Arbitraries.integers().between(0, 7))
        .as((n, i) -> new ObjectRef(n, "p" + i));
    Arbitrary<Map<String, String>> labels = Combinators.combine(Arbitraries.of("", "web", "db", "cache"),
        Arbitraries.of("", "front", "back")).as((app, tier) -> {
          Map<String, String> m = new HashMap<>();
          if (!app.isEmpty()) {
            m.put("app", app);
          }
          if (!tier.isEmpty()) {
            m.put("tier", tier);
          }
          return m;
        });
    Arbitrary<List<String>> ips = Arbitraries.of(List.of(), List.of("10.0.0.1"), List.of("10.0.0.2", "fd00::2"));
    Arbitrary<ModelEvent> podUpserted = Combinators.combine(podRef, labels, ips, Arbitraries.integers().between(0, 9))
        .as((ref, l, ip, host) -> new ModelEvent.PodUpserted(new Pod(ref, l, ip, List.of(), host == 0)));
    Arbitrary<ModelEvent> podDeleted = podRef.map(ModelEvent.PodDeleted::new);
    Arbitrary<ModelEvent> bound = Combinators.combine(podRef, Arbitraries.of(1L, 2L, 3L), Arbitraries.integers().between(1, 9))
        .as((ref, dpid, port) -> new ModelEvent.PortBound(new PortBinding(ref, dpid, port, null)));
    Arbitrary<ModelEvent> unbound = podRef.map(ModelEvent.PortUnbound::new);
    Arbitrary<ModelEvent> namespace = Combinators.combine(ns, Arbitraries.of("", "front", "back"))
        .as((n, team) -> new ModelEvent.NamespaceUpserted(new Namespace(n, team.isEmpty()
            ? Map.of("kubernetes.io/metadata.name", n) : Map.of("kubernetes.io/metadata.name", n, "team", team))));
    Arbitrary<ModelEvent> namespaceDeleted = ns.map(ModelEvent.NamespaceDeleted::new);
    return Arbitraries.frequencyOf(Tuple.of(6, podUpserted), Tuple.of(2, podDeleted), Tuple.of(3, bound),
        Tuple.of(1, unbound), Tuple.of(2, namespace), Tuple.of(1, namespaceDeleted));
  }

  private static ModelEvent pod(String ns, String name, Map<String, String> labels, String ip) {
    return new ModelEvent.PodUpserted(new Pod(new ObjectRef(ns, name), labels, List.of(ip), List.of(), false));
  }
}
