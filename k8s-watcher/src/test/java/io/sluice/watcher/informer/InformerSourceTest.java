package io.sluice.watcher.informer;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.sluice.model.ModelEvent;
import io.sluice.model.ObjectRef;
import io.sluice.model.source.SourceError;
import io.sluice.watcher.testing.MockApiServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The informer source against fabric8's mock API server in CRUD mode (a real HTTP API with watches). */
class InformerSourceTest {
  private MockApiServer server;
  private KubernetesClient client;
  private InformerSource source;
  private final BlockingQueue<List<ModelEvent>> batches = new LinkedBlockingQueue<>();
  private final List<ObjectEvents.Refusal> refusals = new java.util.concurrent.CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() {
    server = new MockApiServer();
    client = server.client();
  }

  @AfterEach
  void tearDown() {
    if (source != null) {
      source.stop();
    }
    client.close();
    server.close();
  }

  private void start() {
    source = new InformerSource(client, InformerSource.Settings.DEFAULT, refusals::add);
    source.start(batches::add);
  }

  private List<ModelEvent> nextBatch() throws InterruptedException {
    List<ModelEvent> b = batches.poll(10, TimeUnit.SECONDS);
    assertThat(b).as("a batch within 10 s").isNotNull();
    return b;
  }

  /** Waits for a batch with an event matching, skipping others (each skipped batch is returned too). */
  private List<ModelEvent> awaitEvent(Predicate<ModelEvent> p) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      List<ModelEvent> b = batches.poll(200, TimeUnit.MILLISECONDS);
      if (b != null && b.stream().anyMatch(p)) {
        return b;
      }
    }
    throw new AssertionError("no matching event within 10 s");
  }

  static Namespace ns(String name) {
    return new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build();
  }

  static Pod pod(String ns, String name, String ip, Map<String, String> labels) {
    return new PodBuilder().withNewMetadata().withNamespace(ns).withName(name).withLabels(labels)
        .withAnnotations(Map.of("big", "x".repeat(1000))).endMetadata()
        .withNewSpec().withNodeName("node-1").addNewContainer().withName("c").withImage("registry/image:1")
        .endContainer().endSpec()
        .withNewStatus().withPhase("Running").addNewPodIP(ip).withPodIP(ip).endStatus().build();
  }

  static NetworkPolicy denyAll(String ns, String name) {
    return new NetworkPolicyBuilder().withNewMetadata().withNamespace(ns).withName(name).endMetadata()
        .withNewSpec().withNewPodSelector().endPodSelector().withPolicyTypes("Ingress").endSpec().build();
  }

  @Test
  void firstBatchIsTheWholeListedState() throws Exception {
    client.resource(ns("a")).create();
    for (int i = 0; i < 50; i++) {
      client.resource(pod("a", "p" + i, "10.0.0." + (i + 1), Map.of("app", "x"))).create();
    }
    client.resource(denyAll("a", "deny")).create();
    start();
    List<ModelEvent> first = nextBatch();
    assertThat(source.ready()).isTrue();
    assertThat(first.stream().filter(e -> e instanceof ModelEvent.PodUpserted)).hasSize(50);
    assertThat(first.stream().filter(e -> e instanceof ModelEvent.NetworkPolicyUpserted)).hasSize(1);
    assertThat(first.get(0)).isInstanceOf(ModelEvent.NamespaceUpserted.class); // namespaces first
    assertThat(source.status()).allMatch(InformerSource.InformerStatus::synced).hasSize(6);
    assertThat(source.notReadyReason()).isNull();
  }

  @Test
  void anEmptyClusterStillGivesOneFirstBatch() throws Exception {
    start();
    assertThat(nextBatch()).isEmpty();
    assertThat(source.ready()).isTrue();
  }

  @Test
  void changesArriveAsEventsAndUnchangedObjectsYieldNone() throws Exception {
    client.resource(ns("a")).create();
    client.resource(pod("a", "web", "10.0.0.1", Map.of("app", "web"))).create();
    start();
    nextBatch();
    // A label change is an upsert with the new labels.
    client.pods().inNamespace("a").withName("web").edit(p -> new PodBuilder(p).editMetadata()
        .addToLabels("tier", "front").endMetadata().build());
    List<ModelEvent> b = nextBatch();
    assertThat(b).singleElement().isInstanceOfSatisfying(ModelEvent.PodUpserted.class,
        e -> assertThat(e.pod().labels()).containsEntry("tier", "front"));
    // An annotation change does not change what the compiler reads: no event at all.
    client.pods().inNamespace("a").withName("web").edit(p -> new PodBuilder(p).editMetadata()
        .addToAnnotations("note", "hello").endMetadata().build());
    client.resource(denyAll("a", "deny")).create();
    b = nextBatch();
    assertThat(b).singleElement().isInstanceOf(ModelEvent.NetworkPolicyUpserted.class);
    client.pods().inNamespace("a").withName("web").delete();
    b = awaitEvent(e -> e instanceof ModelEvent.PodDeleted);
    assertThat(b).contains(new ModelEvent.PodDeleted(new ObjectRef("a", "web")));
  }

  @Test
  void theInformerCacheHoldsNamesOnly() throws Exception {
    client.resource(ns("a")).create();
    client.resource(pod("a", "web", "10.0.0.1", Map.of("app", "web"))).create();
    start();
    nextBatch();
    assertThat(source.status()).filteredOn(s -> s.resource().equals("pods")).singleElement()
        .satisfies(s -> assertThat(s.objects()).isEqualTo(1));
    StubStore<Pod> stubs = new StubStore<>(Pod.class);
    Pod full = pod("a", "web", "10.0.0.1", Map.of("app", "web"));
    full.getMetadata().setResourceVersion("7");
    stubs.put("a/web", full);
    Pod kept = stubs.get("a/web");
    assertThat(kept.getMetadata().getName()).isEqualTo("web");
    assertThat(kept.getMetadata().getResourceVersion()).isEqualTo("7");
    assertThat(kept.getMetadata().getLabels()).isNullOrEmpty();
    assertThat(kept.getMetadata().getAnnotations()).isNullOrEmpty();
    assertThat(kept.getSpec()).isNull();
    assertThat(kept.getStatus()).isNull();
  }

  @Test
  void anInvalidObjectIsReportedAndTheRestApplies() throws Exception {
    client.resource(ns("a")).create();
    // The mock server does not validate: an except outside its cidr, as a lax API server could let through.
    NetworkPolicy bad = new NetworkPolicyBuilder().withNewMetadata().withNamespace("a").withName("bad").endMetadata()
        .withNewSpec().withNewPodSelector().endPodSelector().addNewIngress().addNewFrom().withNewIpBlock()
        .withCidr("10.0.0.0/16").withExcept("10.1.0.0/24").endIpBlock().endFrom().endIngress().endSpec().build();
    client.resource(bad).create();
    client.resource(denyAll("a", "good")).create();
    start();
    List<ModelEvent> first = nextBatch();
    assertThat(first).filteredOn(e -> e instanceof ModelEvent.NetworkPolicyUpserted).singleElement()
        .satisfies(e -> assertThat(((ModelEvent.NetworkPolicyUpserted) e).policy().ref().name()).isEqualTo("good"));
    assertThat(source.errors()).singleElement().satisfies(e -> {
      assertThat(e.file()).isEqualTo("informer:networkpolicies");
      assertThat(e.object()).isEqualTo("NetworkPolicy a/bad");
      assertThat(e.field()).isEqualTo("spec.ingress[0].from[0].ipBlock.except[0]");
    });
    assertThat(refusals).singleElement().satisfies(r -> {
      assertThat(r.name()).isEqualTo("bad");
      assertThat(r.message()).isEqualTo(source.errors().get(0).message());
    });
    // Fixed through the API: the error goes and the policy applies.
    client.network().v1().networkPolicies().inNamespace("a").withName("bad").edit(np -> new NetworkPolicyBuilder(np)
        .editSpec().editFirstIngress().editFirstFrom().editIpBlock().withExcept("10.0.1.0/24").endIpBlock()
        .endFrom().endIngress().endSpec().build());
    awaitEvent(e -> e instanceof ModelEvent.NetworkPolicyUpserted u && u.policy().ref().name().equals("bad"));
    assertThat(source.errors()).isEmpty();
  }

  @Test
  void refusalsBecomeKubernetesEventsOnTheObject() throws Exception {
    ObjectEvents events = new ObjectEvents(client, Duration.ofMinutes(5), 50, java.time.Clock.systemUTC());
    client.resource(ns("a")).create();
    NetworkPolicy bad = new NetworkPolicyBuilder().withNewMetadata().withNamespace("a").withName("bad").endMetadata()
        .withNewSpec().withNewPodSelector().endPodSelector().addNewIngress().addNewPort().withProtocol("ICMP")
        .endPort().endIngress().endSpec().build();
    client.resource(bad).create();
    source = new InformerSource(client, InformerSource.Settings.DEFAULT, events::report);
    source.start(batches::add);
    nextBatch();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    List<io.fabric8.kubernetes.api.model.Event> found = List.of();
    while (found.isEmpty() && System.nanoTime() < deadline) {
      found = client.v1().events().inNamespace("a").list().getItems();
      Thread.sleep(50);
    }
    assertThat(found).singleElement().satisfies(e -> {
      assertThat(e.getType()).isEqualTo("Warning");
      assertThat(e.getReason()).isEqualTo(ObjectEvents.REASON);
      assertThat(e.getInvolvedObject().getKind()).isEqualTo("NetworkPolicy");
      assertThat(e.getInvolvedObject().getName()).isEqualTo("bad");
      assertThat(e.getInvolvedObject().getUid()).isNotEmpty();
      assertThat(e.getMessage()).isEqualTo(source.errors().get(0).message()).contains("spec.ingress[0].ports[0].protocol");
    });
    // The same refusal again within the interval is not written twice.
    events.report(new ObjectEvents.Refusal(io.sluice.watcher.convert.ObjectKind.NETWORK_POLICY, "a", "bad", "u", "1",
        source.errors().get(0).message()));
    assertThat(events.suppressed()).isEqualTo(1);
    events.close();
  }

  @Test
  void theApiServerRestartingKeepsStateAndAppliesOnlyTheDifference() throws Exception {
    client.resource(ns("a")).create();
    client.resource(pod("a", "web", "10.0.0.1", Map.of("app", "web"))).create();
    client.resource(pod("a", "db", "10.0.0.2", Map.of("app", "db"))).create();
    start();
    nextBatch();
    // Meanwhile, written to "etcd" through another API server: db goes, api comes.
    restartApiServerAfter(other -> {
      other.pods().inNamespace("a").withName("db").delete();
      other.resource(pod("a", "api", "10.0.0.3", Map.of("app", "api"))).create();
    });
    List<ModelEvent> seen = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (System.nanoTime() < deadline && !(seen.contains(new ModelEvent.PodDeleted(new ObjectRef("a", "db")))
        && seen.stream().anyMatch(e -> e instanceof ModelEvent.PodUpserted u && u.pod().ref().name().equals("api")))) {
      List<ModelEvent> b = batches.poll(200, TimeUnit.MILLISECONDS);
      if (b != null) {
        seen.addAll(b);
      }
    }
    assertThat(seen).contains(new ModelEvent.PodDeleted(new ObjectRef("a", "db")));
    assertThat(seen).anyMatch(e -> e instanceof ModelEvent.PodUpserted u && u.pod().ref().name().equals("api"));
    // web did not change: re-listing it yields no event
    assertThat(seen).noneMatch(e -> e instanceof ModelEvent.PodUpserted u && u.pod().ref().name().equals("web"));
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (source.notReadyReason() != null && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(source.notReadyReason()).isNull();
    assertThat(source.errors()).extracting(SourceError::toString).isEmpty();
  }

  @Test
  void aDeleteAloneWhileTheApiServerIsDownIsStillApplied() throws Exception {
    client.resource(ns("a")).create();
    client.resource(pod("a", "web", "10.0.0.1", Map.of("app", "web"))).create();
    client.resource(pod("a", "db", "10.0.0.2", Map.of("app", "db"))).create();
    start();
    nextBatch();
    // a delete does not move the resource version: the informer's watch is from the newest version there is
    restartApiServerAfter(other -> other.pods().inNamespace("a").withName("db").delete());
    List<ModelEvent> b = awaitEvent(e -> e instanceof ModelEvent.PodDeleted);
    assertThat(b).containsExactly(new ModelEvent.PodDeleted(new ObjectRef("a", "db")));
  }

  /**
   * Stops the API server, waits until the source says the watch is lost (keeping its state), makes {@code change}
   * through another API server in front of the same objects, and starts this one again.
   */
  private void restartApiServerAfter(java.util.function.Consumer<KubernetesClient> change) throws Exception {
    server.stop();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (source.notReadyReason() == null && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(source.notReadyReason()).contains("watch lost");
    assertThat(batches).isEmpty(); // the last state stays: nothing is deleted while the API is gone
    server.whileStopped(change);
    assertThat(batches).isEmpty();
    server.start();
  }
}
