package io.sluice.renderer.index;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.model.ClusterModel;
import io.sluice.model.EndpointSlice;
import io.sluice.model.LabelSelector;
import io.sluice.model.ModelEvent;
import io.sluice.model.Namespace;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.PortRef;
import io.sluice.model.Protocol;
import io.sluice.model.Service;
import io.sluice.model.Snapshot;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
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
 * changes, and keeps the identity of every list and selection that did not change; the Service lookups (equality
 * selectors, slices by service) and the memo's bound.
 */
class SelectorIndexTest {
  private static final List<String> NS = List.of("a", "b", "c");
  private static final List<String> SERVICES = List.of("s0", "s1", "s2");
  private static final long[] DPIDS = {1, 2, 3};
  private static final List<LabelSelector> POD_SELECTORS = List.of(LabelSelector.EVERYTHING,
      LabelSelector.of(Map.of("app", "web")), LabelSelector.of(Map.of("app", "db", "tier", "back")),
      new LabelSelector(Map.of(), List.of(new LabelSelector.Requirement("tier", LabelSelector.Operator.DOES_NOT_EXIST,
          List.of()))));
  private static final List<LabelSelector> NAMESPACE_SELECTORS = List.of(LabelSelector.EVERYTHING,
      LabelSelector.of(Map.of("team", "front")), LabelSelector.of(Map.of("kubernetes.io/metadata.name", "b")));
  private static final List<Map<String, String>> EQUALITY = List.of(Map.of(), Map.of("app", "web"),
      Map.of("app", "cache", "tier", "front"));

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
   * A list of a namespace (switch, service) that no event of the step touched is the very same object; so is any
   * selection whose pods are equal to the last generation's, and every pod when no pod changed.
   */
  private static void assertUnchangedPartsKeepTheirIdentity(Snapshot snap, Snapshot next, List<ModelEvent> step,
                                                            Lookups before, Lookups after) {
    Set<String> podNamespaces = new HashSet<>();
    Set<String> serviceNamespaces = new HashSet<>();
    Set<Long> dpids = new HashSet<>();
    Set<List<String>> sliceServices = new HashSet<>(); // (namespace, service name)
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
      } else if (e instanceof ModelEvent.ServiceUpserted s) {
        serviceNamespaces.add(s.service().ref().namespace());
      } else if (e instanceof ModelEvent.ServiceDeleted s) {
        serviceNamespaces.add(s.ref().namespace());
      } else if (e instanceof ModelEvent.EndpointSliceUpserted s) {
        sliceServices.add(List.of(s.slice().ref().namespace(), s.slice().serviceName()));
        sliceServices.add(serviceOf(snap, s.slice().ref()));
      } else if (e instanceof ModelEvent.EndpointSliceDeleted s) {
        sliceServices.add(serviceOf(snap, s.ref()));
      }
    }
    for (String ns : NS) {
      if (!podNamespaces.contains(ns)) {
        assertThat(after.podsIn.get(ns)).as("pods of untouched namespace %s", ns).isSameAs(before.podsIn.get(ns));
      }
      if (!serviceNamespaces.contains(ns)) {
        assertThat(after.servicesIn.get(ns)).as("services of %s", ns).isSameAs(before.servicesIn.get(ns));
      }
      for (String s : SERVICES) {
        ObjectRef svc = new ObjectRef(ns, s);
        if (!sliceServices.contains(List.of(ns, s))) {
          assertThat(after.slicesOf.get(svc)).as("slices of %s", svc).isSameAs(before.slicesOf.get(svc));
        }
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

  /** (namespace, service name) of the service a slice names in a snapshot; an empty name if it is absent. */
  private static List<String> serviceOf(Snapshot snap, ObjectRef slice) {
    EndpointSlice s = snap.endpointSlices().get(slice);
    return List.of(slice.namespace(), s == null ? "" : s.serviceName());
  }

  private static long dpidOf(Snapshot snap, ObjectRef pod) {
    PortBinding b = snap.bindings().get(pod);
    return b == null ? -1 : b.dpid();
  }

  /** Every lookup of an index over the test's small universe, each result as the index returned it. */
  record Lookups(Map<String, List<Pod>> podsIn, Map<String, List<Service>> servicesIn,
                 Map<ObjectRef, List<EndpointSlice>> slicesOf, Map<Long, List<PortBinding>> bindingsOn,
                 Map<List<Object>, List<Pod>> selections, List<Pod> allPods) {
    static Lookups of(SelectorIndex index) {
      Lookups l = new Lookups(new HashMap<>(), new HashMap<>(), new HashMap<>(), new HashMap<>(), new HashMap<>(),
          index.allPods());
      for (String ns : NS) {
        l.podsIn.put(ns, index.podsIn(ns));
        l.servicesIn.put(ns, index.servicesIn(ns));
        for (String s : SERVICES) {
          l.slicesOf.put(new ObjectRef(ns, s), index.endpointSlicesOf(new ObjectRef(ns, s)));
        }
        for (LabelSelector pods : POD_SELECTORS) {
          l.selections.put(List.of(ns, pods), index.select(ns, pods));
        }
        for (Map<String, String> eq : EQUALITY) {
          l.selections.put(List.of(ns, eq), index.selectEqual(ns, eq));
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
      return List.of(podsIn, servicesIn, slicesOf, bindingsOn, selections, allPods);
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
    assertThat(index.selectEqual("a", Map.of("app", "web"))).extracting(Pod::ref).containsExactly(new ObjectRef("a", "web"));
  }

  @Example
  void anEqualitySelectorSelectsThePodsOfItsNamespaceHoldingEveryPair() {
    Snapshot snap = new ClusterModel(1).apply(List.of(
        pod("a", "web-1", Map.of("app", "web", "tier", "front"), "10.0.0.1"),
        pod("a", "web-2", Map.of("app", "web"), "10.0.0.2"),
        pod("a", "db", Map.of("app", "db", "tier", "front"), "10.0.0.3"),
        pod("b", "web", Map.of("app", "web", "tier", "front"), "10.0.1.1")));
    SelectorIndex index = SelectorIndex.of(snap);
    assertThat(index.selectEqual("a", Map.of("app", "web", "tier", "front"))).extracting(Pod::ref)
        .containsExactly(new ObjectRef("a", "web-1"));
    assertThat(index.selectEqual("a", Map.of("app", "web"))).extracting(Pod::ref)
        .containsExactly(new ObjectRef("a", "web-1"), new ObjectRef("a", "web-2"));
    assertThat(index.selectEqual("c", Map.of("app", "web"))).isEmpty();
    // the empty selector selects every pod, as a label selector does (a Service without one must not ask)
    assertThat(index.selectEqual("a", Map.of())).hasSize(3);
  }

  @Example
  void anEqualitySelectorSharesTheSelectionOfTheSameLabelSelector() {
    Snapshot snap = new ClusterModel(1).apply(List.of(pod("a", "web", Map.of("app", "web"), "10.0.0.1")));
    SelectorIndex index = SelectorIndex.of(snap);
    List<Pod> service = index.selectEqual("a", Map.of("app", "web"));
    assertThat(index.select("a", LabelSelector.of(Map.of("app", "web")))).isSameAs(service);
    assertThat(index.selections()).isEqualTo(1);
  }

  @Example
  void endpointSlicesAreFoundByTheServiceTheyName() {
    ClusterModel model = new ClusterModel(1);
    Snapshot s1 = model.apply(List.of(slice("a", "web-abc", "web"), slice("a", "web-def", "web"),
        slice("a", "db-1", "db"), slice("b", "web-1", "web"), slice("a", "by-hand", "")));
    SelectorIndex i1 = SelectorIndex.of(s1);
    assertThat(i1.endpointSlicesOf(new ObjectRef("a", "web"))).extracting(EndpointSlice::ref)
        .containsExactly(new ObjectRef("a", "web-abc"), new ObjectRef("a", "web-def"));
    assertThat(i1.endpointSlicesOf(new ObjectRef("b", "web"))).extracting(EndpointSlice::ref)
        .containsExactly(new ObjectRef("b", "web-1"));
    assertThat(i1.endpointSlicesOf(new ObjectRef("a", "none"))).isEmpty();

    // a slice relabelled to another service moves; the services it did not concern keep their lists
    Snapshot s2 = model.apply(List.of(slice("a", "web-def", "db")));
    SelectorIndex i2 = i1.next(s2);
    assertThat(i2.endpointSlicesOf(new ObjectRef("a", "web"))).extracting(EndpointSlice::ref)
        .containsExactly(new ObjectRef("a", "web-abc"));
    assertThat(i2.endpointSlicesOf(new ObjectRef("a", "db"))).extracting(EndpointSlice::ref)
        .containsExactly(new ObjectRef("a", "db-1"), new ObjectRef("a", "web-def"));
    assertThat(i2.endpointSlicesOf(new ObjectRef("b", "web"))).isSameAs(i1.endpointSlicesOf(new ObjectRef("b", "web")));
  }

  @Example
  void servicesAreListedByNamespace() {
    ClusterModel model = new ClusterModel(1);
    Snapshot s1 = model.apply(List.of(service("a", "web", Map.of("app", "web")), service("a", "db", Map.of("app", "db")),
        service("b", "web", Map.of("app", "web"))));
    SelectorIndex i1 = SelectorIndex.of(s1);
    assertThat(i1.servicesIn("a")).extracting(Service::ref).containsExactly(new ObjectRef("a", "db"), new ObjectRef("a", "web"));
    SelectorIndex i2 = i1.next(model.apply(List.of(new ModelEvent.ServiceDeleted(new ObjectRef("a", "db")))));
    assertThat(i2.servicesIn("a")).extracting(Service::ref).containsExactly(new ObjectRef("a", "web"));
    assertThat(i2.servicesIn("b")).isSameAs(i1.servicesIn("b"));
  }

  @Example
  void aLabelChangeKeepsEveryOtherNamespacesListsAndSelections() {
    ClusterModel model = new ClusterModel(1);
    Snapshot s1 = model.apply(List.of(pod("a", "web", Map.of("app", "web"), "10.0.0.1"),
        pod("a", "db", Map.of("app", "db"), "10.0.0.2"), pod("b", "web", Map.of("app", "web"), "10.0.1.1")));
    SelectorIndex i1 = SelectorIndex.of(s1);
    List<Pod> webA = i1.selectEqual("a", Map.of("app", "web"));
    List<Pod> dbA = i1.selectEqual("a", Map.of("app", "db"));
    List<Pod> webB = i1.selectEqual("b", Map.of("app", "web"));
    List<Pod> everyWeb = i1.select(LabelSelector.EVERYTHING, LabelSelector.of(Map.of("app", "web")));

    Snapshot s2 = model.apply(List.of(pod("a", "db", Map.of("app", "cache"), "10.0.0.2")));
    SelectorIndex i2 = i1.next(s2);
    assertThat(i2.podsIn("a")).isNotSameAs(i1.podsIn("a"));
    assertThat(i2.podsIn("b")).isSameAs(i1.podsIn("b"));
    assertThat(i2.selectEqual("a", Map.of("app", "web"))).as("same pods, same list").isSameAs(webA);
    assertThat(i2.selectEqual("b", Map.of("app", "web"))).isSameAs(webB);
    assertThat(i2.select(LabelSelector.EVERYTHING, LabelSelector.of(Map.of("app", "web")))).isSameAs(everyWeb);
    assertThat(i2.selectEqual("a", Map.of("app", "db"))).isNotSameAs(dbA).isEmpty();
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
    i1.selectEqual("a", Map.of("app", "web"));
    Snapshot s2 = model.apply(second);
    SelectorIndex i2 = i1.next(s2);
    assertThat(Lookups.of(i2).values()).isEqualTo(Lookups.of(SelectorIndex.of(s2)).values());
    assertThat(i2.selectEqual("a", Map.of("app", "web"))).hasSize(750);
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
        i.selectEqual("a", Map.of("k" + k, "v"));
      }
    }
    List<Pod> strictWeb = strict.selectEqual("b", Map.of("app", "web"));
    List<Pod> lenientWeb = lenient.selectEqual("b", Map.of("app", "web"));

    Snapshot s2 = model.apply(List.of(pod("a", "db", Map.of("app", "db"), "10.0.0.2")));
    assertThat(strict.next(s2).selectEqual("b", Map.of("app", "web"))).isNotSameAs(strictWeb).isEqualTo(strictWeb);
    assertThat(lenient.next(s2).selectEqual("b", Map.of("app", "web"))).isSameAs(lenientWeb);
  }

  @Example
  void servicesGetRoomInTheMemoOfTheirOwn() {
    ClusterModel model = new ClusterModel(1);
    List<ModelEvent> ev = new ArrayList<>(List.of(pod("a", "web", Map.of("app", "web"), "10.0.0.1")));
    int services = 300;
    for (int k = 0; k < services; k++) {
      ev.add(service("a", "svc-" + k, Map.of("k" + k, "v")));
    }
    Snapshot s1 = model.apply(ev);
    SelectorIndex i1 = SelectorIndex.of(s1);
    for (Service s : i1.servicesIn("a")) {
      i1.selectEqual("a", s.selector());
    }
    for (int k = 0; k < 1_000; k++) { // 1,300 entries: more than 1,024, within 1,024 + 4 per service
      i1.select("a", LabelSelector.of(Map.of("other" + k, "v")));
    }
    List<Pod> web = i1.selectEqual("a", Map.of("app", "web"));
    SelectorIndex i2 = i1.next(model.apply(List.of(pod("b", "db", Map.of("app", "db"), "10.0.1.2"))));
    assertThat(i2.selectEqual("a", Map.of("app", "web"))).isSameAs(web);
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
    Arbitrary<ObjectRef> serviceRef = Combinators.combine(ns, Arbitraries.of(SERVICES)).as(ObjectRef::new);
    Arbitrary<ModelEvent> service = Combinators.combine(serviceRef, labels)
        .as((ref, sel) -> new ModelEvent.ServiceUpserted(service(ref, sel)));
    Arbitrary<ModelEvent> serviceDeleted = serviceRef.map(ModelEvent.ServiceDeleted::new);
    Arbitrary<ObjectRef> sliceRef = Combinators.combine(ns, Arbitraries.integers().between(0, 4))
        .as((n, i) -> new ObjectRef(n, "e" + i));
    Arbitrary<ModelEvent> slice = Combinators.combine(sliceRef, Arbitraries.of("", "s0", "s1", "s2"),
        Arbitraries.of("10.0.0.1", "10.0.0.2")).as((ref, svc, ip) -> new ModelEvent.EndpointSliceUpserted(slice(ref, svc, ip)));
    Arbitrary<ModelEvent> sliceDeleted = sliceRef.map(ModelEvent.EndpointSliceDeleted::new);
    return Arbitraries.frequencyOf(Tuple.of(6, podUpserted), Tuple.of(2, podDeleted), Tuple.of(3, bound),
        Tuple.of(1, unbound), Tuple.of(2, namespace), Tuple.of(1, namespaceDeleted), Tuple.of(2, service),
        Tuple.of(1, serviceDeleted), Tuple.of(3, slice), Tuple.of(1, sliceDeleted));
  }

  private static ModelEvent pod(String ns, String name, Map<String, String> labels, String ip) {
    return new ModelEvent.PodUpserted(new Pod(new ObjectRef(ns, name), labels, List.of(ip), List.of(), false));
  }

  private static ModelEvent service(String ns, String name, Map<String, String> selector) {
    return new ModelEvent.ServiceUpserted(service(new ObjectRef(ns, name), selector));
  }

  private static Service service(ObjectRef ref, Map<String, String> selector) {
    return new Service(ref, Service.Type.CLUSTER_IP, List.of("10.96.0.10"),
        List.of(new Service.Port("", Protocol.TCP, 80, PortRef.of(8080), 0)), selector, Service.SessionAffinity.NONE, 0);
  }

  private static ModelEvent slice(String ns, String name, String service) {
    return new ModelEvent.EndpointSliceUpserted(slice(new ObjectRef(ns, name), service, "10.0.0.1"));
  }

  private static EndpointSlice slice(ObjectRef ref, String service, String ip) {
    return new EndpointSlice(ref, service, EndpointSlice.AddressType.IPV4,
        List.of(new EndpointSlice.Endpoint(List.of(ip), true, true, false, Optional.empty(), "node-1")),
        List.of(new EndpointSlice.Port("", Protocol.TCP, OptionalInt.of(8080))));
  }
}
