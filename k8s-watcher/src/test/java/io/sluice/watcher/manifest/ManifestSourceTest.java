package io.sluice.watcher.manifest;

import static io.sluice.watcher.manifest.Manifests.docs;
import static io.sluice.watcher.manifest.Manifests.namespace;
import static io.sluice.watcher.manifest.Manifests.pod;
import static io.sluice.watcher.manifest.Manifests.policy;
import static io.sluice.watcher.manifest.Manifests.service;
import static io.sluice.watcher.manifest.Manifests.servedPod;
import static io.sluice.watcher.manifest.Manifests.slice;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.model.ClusterModel;
import io.sluice.model.EndpointSlice;
import io.sluice.model.ModelEvent;
import io.sluice.model.ObjectRef;
import io.sluice.model.Snapshot;
import io.sluice.model.source.SourceError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManifestSourceTest {
  private static final ObjectRef WEB = new ObjectRef("shop", "web");
  @TempDir Path dir;
  private final ClusterModel model = new ClusterModel(0);
  /** Every batch the source delivered, in order. */
  private final List<List<ModelEvent>> batches = new CopyOnWriteArrayList<>();
  private ManifestSource source;

  @AfterEach
  void stop() {
    if (source != null) {
      source.stop();
    }
  }

  private void start() {
    source = new ManifestSource(dir, Duration.ofMillis(50), 2);
    source.start(events -> {
      batches.add(events);
      model.apply(events);
    });
    assertThat(source.ready()).isTrue();
  }

  private static void write(Path p, String text) throws IOException {
    Files.createDirectories(p.getParent());
    Files.writeString(p, text);
  }

  /** Waits (at most 1 s: the promise) until the model satisfies the condition; returns the snapshot. */
  private Snapshot await(Predicate<Snapshot> condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(1).toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.test(model.snapshot())) {
        return model.snapshot();
      }
      Thread.sleep(10);
    }
    throw new AssertionError("not applied within 1 s; model at generation " + model.generation());
  }

  /** Asserts that nothing is applied for a while (well over the debounce). */
  private void assertNoNewGeneration(long generation) throws InterruptedException {
    Thread.sleep(400);
    assertThat(model.generation()).isEqualTo(generation);
  }

  private static String podIp(Snapshot s, ObjectRef ref) {
    return s.pods().get(ref).ips().get(0);
  }

  @Test
  void loadsEveryManifestBelowTheDirectoryAsOneGeneration() throws Exception {
    write(dir.resolve("ns.yaml"), namespace("shop"));
    write(dir.resolve("a/b/pods.yml"), docs(pod("shop", "web", "web", "10.0.0.2"), pod("shop", "db", "db", "10.0.0.3")));
    write(dir.resolve("a/policy.json"), "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\","
        + "\"metadata\":{\"namespace\":\"shop\",\"name\":\"deny\"},\"spec\":{\"podSelector\":{}}}");
    write(dir.resolve("README.md"), "not a manifest");
    write(dir.resolve(".hidden/x.yaml"), namespace("hidden"));
    start();
    Snapshot s = model.snapshot();
    assertThat(s.generation()).isEqualTo(1);
    assertThat(s.namespaces()).containsOnlyKeys("shop");
    assertThat(s.namespaces().get("shop").labels()).containsEntry("kubernetes.io/metadata.name", "shop");
    assertThat(s.pods()).containsOnlyKeys(WEB, new ObjectRef("shop", "db"));
    assertThat(s.networkPolicies()).containsOnlyKeys(new ObjectRef("shop", "deny"));
    assertThat(source.errors()).isEmpty();
  }

  @Test
  void aMissingDirectoryIsRefused() {
    source = new ManifestSource(dir.resolve("nope"));
    assertThatThrownBy(() -> source.start(model::apply)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nope");
    source = null;
  }

  @Test
  void aBadFileAmongGoodOnesIsReportedAndTheRestApplied() throws Exception {
    write(dir.resolve("a.yaml"), namespace("shop"));
    write(dir.resolve("b.yaml"), docs(pod("shop", "web", "web", "10.0.0.2"),
        policy("shop", "bad", "10.0.0.0/16", "10.1.0.0/16")));
    write(dir.resolve("c.yaml"), policy("shop", "good", "10.0.0.0/16", "10.0.1.0/24"));
    start();
    assertThat(model.snapshot().networkPolicies()).containsOnlyKeys(new ObjectRef("shop", "good"));
    assertThat(model.snapshot().pods()).containsOnlyKeys(WEB);
    assertThat(source.errors()).containsExactly(new SourceError(dir.resolve("b.yaml").toString(), 1, 16,
        "NetworkPolicy", "shop", "bad", "spec.ingress[0].from[0].ipBlock.except[0]",
        "Invalid value: \"10.1.0.0/16\": must be a strict subset of `cidr`"));
  }

  @Test
  void theLastValidVersionStaysWhileTheDocumentIsInvalid() throws Exception {
    write(dir.resolve("p.yaml"), policy("shop", "p", "10.0.0.0/16", "10.0.1.0/24"));
    start();
    long g = model.generation();
    write(dir.resolve("p.yaml"), policy("shop", "p", "10.0.0.0/16", "10.9.0.0/24"));
    long deadline = System.nanoTime() + Duration.ofSeconds(1).toNanos();
    while (source.errors().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(source.errors()).extracting(SourceError::field).containsExactly("spec.ingress[0].from[0].ipBlock.except[0]");
    assertThat(model.generation()).isEqualTo(g);
    assertThat(model.snapshot().networkPolicies()).containsKey(new ObjectRef("shop", "p"));

    write(dir.resolve("p.yaml"), policy("shop", "p", "10.0.0.0/16", "10.0.2.0/24"));
    Snapshot s = await(x -> x.generation() == g + 1);
    assertThat(s.networkPolicies().get(new ObjectRef("shop", "p")).ingress().get(0).peers().toString()).contains("10.0.2.0/24");
    assertThat(source.errors()).isEmpty();
  }

  @Test
  void duplicatesAcrossFilesKeepTheFirstInPathOrderAndNameBoth() throws Exception {
    write(dir.resolve("a.yaml"), pod("shop", "web", "web", "10.0.0.2"));
    write(dir.resolve("b.yaml"), pod("shop", "web", "web", "10.0.0.99"));
    start();
    assertThat(podIp(model.snapshot(), WEB)).isEqualTo("10.0.0.2");
    assertThat(source.errors()).singleElement().satisfies(e -> {
      assertThat(e.file()).isEqualTo(dir.resolve("b.yaml").toString());
      assertThat(e.object()).isEqualTo("Pod shop/web");
      assertThat(e.reason()).contains(dir.resolve("a.yaml").toString()).contains(dir.resolve("b.yaml").toString());
    });

    // Once the first copy goes, the second takes over, and the error clears.
    Files.delete(dir.resolve("a.yaml"));
    Snapshot s = await(x -> x.pods().containsKey(WEB) && podIp(x, WEB).equals("10.0.0.99"));
    assertThat(s.generation()).isEqualTo(2);
    assertThat(source.errors()).isEmpty();
  }

  @Test
  void createModifyAndDeleteAreEachOneGeneration() throws Exception {
    start();
    assertThat(model.generation()).isZero();
    write(dir.resolve("sub/web.yaml"), pod("shop", "web", "web", "10.0.0.2"));
    Snapshot created = await(s -> s.pods().containsKey(WEB));
    assertThat(created.generation()).isEqualTo(1);

    write(dir.resolve("sub/web.yaml"), pod("shop", "web", "web-v2", "10.0.0.2"));
    Snapshot modified = await(s -> s.pods().get(WEB).labels().get("app").equals("web-v2"));
    assertThat(modified.generation()).isEqualTo(2);

    Files.delete(dir.resolve("sub/web.yaml"));
    Snapshot deleted = await(s -> s.pods().isEmpty());
    assertThat(deleted.generation()).isEqualTo(3);
  }

  @Test
  void aNewDirectoryIsWatchedToo() throws Exception {
    start();
    write(dir.resolve("x/y/z/ns.yaml"), namespace("deep"));
    await(s -> s.namespaces().containsKey("deep"));
    write(dir.resolve("x/y/z/ns.yaml"), namespace("deeper"));
    await(s -> s.namespaces().containsKey("deeper") && !s.namespaces().containsKey("deep"));
    deleteTree(dir.resolve("x"));
    await(s -> s.namespaces().isEmpty());
  }

  @Test
  void aRenameMovesObjectsWithoutAGenerationAndARenameAwayDeletesThem() throws Exception {
    write(dir.resolve("web.yaml"), pod("shop", "web", "web", "10.0.0.2"));
    start();
    long g = model.generation();
    Files.move(dir.resolve("web.yaml"), dir.resolve("shop-web.yaml"));
    assertNoNewGeneration(g);
    assertThat(model.snapshot().pods()).containsKey(WEB);

    Files.move(dir.resolve("shop-web.yaml"), dir.resolve("shop-web.yaml.disabled"));
    Snapshot s = await(x -> x.pods().isEmpty());
    assertThat(s.generation()).isEqualTo(g + 1);
  }

  @Test
  void editorsWriteToATempFileAndRenameIt() throws Exception {
    write(dir.resolve("web.yaml"), pod("shop", "web", "web", "10.0.0.2"));
    start();
    long g = model.generation();
    Path tmp = dir.resolve(".web.yaml.swp");
    Files.writeString(tmp, pod("shop", "web", "web", "10.0.0.3"));
    Files.move(tmp, dir.resolve("web.yaml"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    Snapshot s = await(x -> podIp(x, WEB).equals("10.0.0.3"));
    assertThat(s.generation()).isEqualTo(g + 1);
    assertThat(source.errors()).isEmpty();
  }

  @Test
  void aKubernetesStyleDataSymlinkSwapIsApplied() throws Exception {
    // What the kubelet's atomic writer makes of a ConfigMap volume: ..data -> ..<timestamp>/, file -> ..data/file.
    write(dir.resolve("..2024_01_01_00_00_00.1/pods.yaml"), pod("shop", "web", "web", "10.0.0.2"));
    Files.createSymbolicLink(dir.resolve("..data"), Path.of("..2024_01_01_00_00_00.1"));
    Files.createSymbolicLink(dir.resolve("pods.yaml"), Path.of("..data/pods.yaml"));
    start();
    assertThat(podIp(model.snapshot(), WEB)).isEqualTo("10.0.0.2");
    assertThat(source.errors()).isEmpty();
    long g = model.generation();

    write(dir.resolve("..2024_01_01_00_01_00.2/pods.yaml"), pod("shop", "web", "web", "10.0.0.7"));
    Files.createSymbolicLink(dir.resolve("..data_tmp"), Path.of("..2024_01_01_00_01_00.2"));
    Files.move(dir.resolve("..data_tmp"), dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
    deleteTree(dir.resolve("..2024_01_01_00_00_00.1"));

    Snapshot s = await(x -> podIp(x, WEB).equals("10.0.0.7"));
    assertThat(s.generation()).isEqualTo(g + 1);
    assertThat(s.pods()).hasSize(1);
  }

  @Test
  void aTouchThatChangesNothingMakesNoGeneration() throws Exception {
    write(dir.resolve("web.yaml"), pod("shop", "web", "web", "10.0.0.2"));
    start();
    long g = model.generation();
    Files.setLastModifiedTime(dir.resolve("web.yaml"), FileTime.from(Instant.now().plusSeconds(5)));
    Files.writeString(dir.resolve("web.yaml"), pod("shop", "web", "web", "10.0.0.2"));
    assertNoNewGeneration(g);
    // Same objects, different text (a comment, reordered keys): still nothing.
    Files.writeString(dir.resolve("web.yaml"), "# edited\n" + pod("shop", "web", "web", "10.0.0.2"));
    assertNoNewGeneration(g);
  }

  @Test
  void stopEndsWatching() throws Exception {
    start();
    source.stop();
    write(dir.resolve("web.yaml"), pod("shop", "web", "web", "10.0.0.2"));
    assertNoNewGeneration(0);
  }

  /** Waits (up to 20 s: the machine may be busy; the promise is checked by the tests above) for the condition. */
  private Snapshot awaitLong(Predicate<Snapshot> condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.test(model.snapshot())) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not applied within 20 s; model at generation " + model.generation() + ", errors "
            + source.errors());
      }
      Thread.sleep(10);
    }
    return model.snapshot();
  }

  @Test
  void linksToAnAncestorMakeNoDuplicatesAndEditsStillApply() throws Exception {
    write(dir.resolve("ns.yaml"), namespace("shop"));
    write(dir.resolve("sub/web.yaml"), pod("shop", "web", "web", "10.0.0.2"));
    Files.createSymbolicLink(dir.resolve("sub/up-at-start"), Path.of(".."));
    start();
    assertThat(source.errors()).isEmpty();

    // Links made while watching: to the directory's parent, to itself, and two links that point at each other.
    Files.createSymbolicLink(dir.resolve("sub/up"), Path.of(".."));
    Files.createSymbolicLink(dir.resolve("sub/self"), Path.of("."));
    Files.createSymbolicLink(dir.resolve("sub/loop-a"), Path.of("loop-b"));
    Files.createSymbolicLink(dir.resolve("sub/loop-b"), Path.of("loop-a"));
    write(dir.resolve("sub/marker.yaml"), namespace("marker"));
    awaitLong(s -> s.namespaces().containsKey("marker"));
    assertThat(source.errors()).isEmpty();
    assertThat(model.snapshot().pods()).containsOnlyKeys(WEB);

    // Hot reload goes on, under the files' own names, at the top and below.
    write(dir.resolve("sub/web.yaml"), pod("shop", "web", "web", "10.0.0.3"));
    awaitLong(s -> podIp(s, WEB).equals("10.0.0.3"));
    write(dir.resolve("ns.yaml"), namespace("shop") + "  labels: {team: a}\n");
    awaitLong(s -> "a".equals(s.namespaces().get("shop").labels().get("team")));
    Files.delete(dir.resolve("ns.yaml"));
    awaitLong(s -> !s.namespaces().containsKey("shop"));
    assertThat(source.errors()).isEmpty();
    assertThat(source.failure()).isNull();
  }

  @Test
  void removingTheLinkADirectoryWasReadThroughKeepsItsObjects() throws Exception {
    // "a-link" sorts before "z", so z's files are read as a-link/...; when the link goes, they are z/... again.
    write(dir.resolve("z/web.yaml"), pod("shop", "web", "web", "10.0.0.2"));
    Files.createSymbolicLink(dir.resolve("a-link"), Path.of("z"));
    start();
    assertThat(source.errors()).isEmpty();
    assertThat(model.snapshot().pods()).containsOnlyKeys(WEB);

    Files.delete(dir.resolve("a-link"));
    write(dir.resolve("marker.yaml"), namespace("marker"));
    awaitLong(s -> s.namespaces().containsKey("marker"));
    assertThat(model.snapshot().pods()).containsOnlyKeys(WEB);
    write(dir.resolve("z/web.yaml"), pod("shop", "web", "web", "10.0.0.3"));
    awaitLong(s -> podIp(s, WEB).equals("10.0.0.3"));
    assertThat(source.errors()).isEmpty();
  }

  @Test
  void anUnreadableFileIsAnErrorAndWhatItHeldStays() throws Exception {
    write(dir.resolve("web.yaml"), pod("shop", "web", "web", "10.0.0.2"));
    // Tests run as root, so no permission bits make a file unreadable: a read that fails with EIO (/proc/self/mem
    // at offset 0) and a link that leads to itself are two files that exist and cannot be read.
    Files.createSymbolicLink(dir.resolve("eio.yaml"), Path.of("/proc/self/mem"));
    Files.createSymbolicLink(dir.resolve("loop.yaml"), Path.of("loop.yaml"));
    start();
    assertThat(model.snapshot().pods()).containsOnlyKeys(WEB);
    assertThat(source.errors()).satisfiesExactly(
        e -> assertThat(e).hasToString(dir.resolve("eio.yaml") + ": cannot read: Input/output error"),
        e -> assertThat(e.toString()).startsWith(dir.resolve("loop.yaml") + ": cannot read: Too many levels of "
            + "symbolic links"));

    // A file that becomes unreadable keeps its objects in force and is an error until it is readable again.
    Files.delete(dir.resolve("web.yaml"));
    Files.createSymbolicLink(dir.resolve("web.yaml"), Path.of("/proc/self/mem"));
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (source.errors().size() < 3 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(source.errors()).extracting(SourceError::file).contains(dir.resolve("web.yaml").toString());
    assertThat(model.snapshot().pods()).containsOnlyKeys(WEB);
    Files.delete(dir.resolve("eio.yaml"));
    Files.delete(dir.resolve("loop.yaml"));
    Files.delete(dir.resolve("web.yaml"));
    awaitLong(s -> s.pods().isEmpty());
    assertThat(source.errors()).isEmpty();
  }

  @Test
  void aDeletedDirectoryIsAFailureNotSilence() throws Exception {
    Path sub = dir.resolve("manifests");
    write(sub.resolve("web.yaml"), pod("shop", "web", "web", "10.0.0.2"));
    source = new ManifestSource(sub, Duration.ofMillis(50), 2);
    source.start(model::apply);
    assertThat(source.failure()).isNull();
    deleteTree(sub);
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (source.failure() == null && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(source.failure()).contains(sub.toString()).contains("no longer applied");
  }

  @Test
  void anIgnoredLegacyAnnotationIsAWarningWhileItIsThere() throws Exception {
    String annotated = namespace("shop") + "  annotations: {net.beta.kubernetes.io/network-policy: "
        + "'{\"ingress\": {\"isolation\": \"DefaultDeny\"}}'}\n";
    write(dir.resolve("ns.yaml"), annotated);
    start();
    assertThat(source.errors()).isEmpty();
    assertThat(source.warnings()).singleElement().satisfies(w -> {
      assertThat(w.object()).isEqualTo("Namespace shop");
      assertThat(w.reason()).startsWith("Ignored: ").contains("--legacy-isolation");
    });
    write(dir.resolve("ns.yaml"), namespace("shop") + "  labels: {a: b}\n");
    awaitLong(s -> "b".equals(s.namespaces().get("shop").labels().get("a")));
    assertThat(source.warnings()).isEmpty();
  }

  private static void deleteTree(Path p) throws IOException {
    try (var paths = Files.walk(p)) {
      for (Path x : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(x);
      }
    }
  }

  // ---- EndpointSlices derived from Services (no cluster, no EndpointSlice controller) ----

  private static final String WEB_SPEC = "clusterIP: 10.96.0.10\nselector: {app: web}\n"
      + "ports: [{name: http, port: 80, targetPort: http}]";

  private static String webPod(String name, String port, String ip, boolean ready, boolean terminating) {
    return servedPod("shop", name, "{app: web}", "[{name: http, containerPort: " + port + "}]", ip, ready, terminating);
  }

  private static Map<ObjectRef, EndpointSlice> slicesOf(Snapshot s, String service) {
    Map<ObjectRef, EndpointSlice> out = new java.util.TreeMap<>();
    s.endpointSlices().forEach((ref, slice) -> {
      if (slice.serviceName().equals(service)) {
        out.put(ref, slice);
      }
    });
    return out;
  }

  private static List<String> pods(EndpointSlice slice) {
    return slice.endpoints().stream().map(e -> e.targetPod().orElseThrow().name()).toList();
  }

  private static EndpointSlice onlySlice(Snapshot s, String service) {
    Map<ObjectRef, EndpointSlice> slices = slicesOf(s, service);
    assertThat(slices).hasSize(1);
    return slices.values().iterator().next();
  }

  private List<ModelEvent> lastBatch() {
    return batches.get(batches.size() - 1);
  }

  @Test
  void aNamedTargetPortSplitsAServiceIntoOneSlicePerResolvedPort() throws Exception {
    write(dir.resolve("shop.yaml"), docs(namespace("shop"), service("shop", "web", WEB_SPEC),
        service("shop", "headless", "clusterIP: None\nselector: {app: web}"),
        service("shop", "alias", "type: ExternalName\nexternalName: db.example.com\nselector: {app: web}"),
        service("shop", "manual", "ports: [{port: 80}]")));
    write(dir.resolve("pods.yaml"), docs(webPod("a", "8080", "10.0.0.1", true, false),
        webPod("b", "8080", "10.0.0.2", true, false), webPod("c", "9090", "10.0.0.3", true, false),
        servedPod("shop", "other", "{app: db}", "[{name: http, containerPort: 8080}]", "10.0.0.9", true, false)));
    start();
    Snapshot s = model.snapshot();
    Map<ObjectRef, EndpointSlice> web = slicesOf(s, "web");
    assertThat(web).hasSize(2);
    assertThat(web.values()).extracting(ManifestSourceTest::pods)
        .containsExactlyInAnyOrder(List.of("a", "b"), List.of("c"));
    for (EndpointSlice slice : web.values()) {
      assertThat(slice.ref().name()).startsWith("web-sluice-ipv4-");
      int port = pods(slice).contains("c") ? 9090 : 8080;
      assertThat(slice.ports()).containsExactly(new EndpointSlice.Port("http", io.sluice.model.Protocol.TCP,
          java.util.OptionalInt.of(port)));
      assertThat(slice.endpoints()).allSatisfy(e -> {
        assertThat(e.nodeName()).isEqualTo("node-1");
        assertThat(e.ready()).isTrue();
      });
    }
    assertThat(pods(onlySlice(s, "headless"))).containsExactly("a", "b", "c");
    assertThat(slicesOf(s, "alias")).isEmpty();
    assertThat(slicesOf(s, "manual")).isEmpty();
    assertThat(s.endpointSlices()).hasSize(3);
    assertThat(batches).hasSize(1);
  }

  @Test
  void notReadyAndTerminatingPodsAreEndpointsWithTheirConditions() throws Exception {
    write(dir.resolve("shop.yaml"), docs(namespace("shop"), service("shop", "web", WEB_SPEC)));
    write(dir.resolve("pods.yaml"), docs(webPod("ready", "8080", "10.0.0.1", true, false),
        webPod("unready", "8080", "10.0.0.2", false, false), webPod("leaving", "8080", "10.0.0.3", true, true)));
    start();
    EndpointSlice slice = onlySlice(model.snapshot(), "web");
    assertThat(pods(slice)).containsExactly("leaving", "ready", "unready");
    assertThat(slice.endpoints()).extracting(EndpointSlice.Endpoint::ready).containsExactly(false, true, false);
    assertThat(slice.endpoints()).extracting(EndpointSlice.Endpoint::serving).containsExactly(true, true, false);
    assertThat(slice.endpoints()).extracting(EndpointSlice.Endpoint::terminating).containsExactly(true, false, false);

    // The unready pod becomes ready: one batch, the pod and its slice.
    write(dir.resolve("pods.yaml"), docs(webPod("ready", "8080", "10.0.0.1", true, false),
        webPod("unready", "8080", "10.0.0.2", true, false), webPod("leaving", "8080", "10.0.0.3", true, true)));
    Snapshot s = await(x -> onlySlice(x, "web").endpoints().get(2).ready());
    assertThat(lastBatch()).hasSize(2);
    assertThat(lastBatch().get(0)).isInstanceOf(ModelEvent.PodUpserted.class);
    assertThat(lastBatch().get(1)).isEqualTo(new ModelEvent.EndpointSliceUpserted(onlySlice(s, "web")));
  }

  @Test
  void publishNotReadyAddressesMakesEveryEndpointReady() throws Exception {
    write(dir.resolve("shop.yaml"), docs(namespace("shop"),
        service("shop", "web", WEB_SPEC + "\npublishNotReadyAddresses: true")));
    write(dir.resolve("pods.yaml"), docs(webPod("ready", "8080", "10.0.0.1", true, false),
        webPod("unready", "8080", "10.0.0.2", false, false), webPod("leaving", "8080", "10.0.0.3", false, true)));
    start();
    EndpointSlice slice = onlySlice(model.snapshot(), "web");
    assertThat(pods(slice)).containsExactly("leaving", "ready", "unready");
    assertThat(slice.endpoints()).extracting(EndpointSlice.Endpoint::ready).containsOnly(true);
    // Serving and terminating still describe the pod, as the upstream controller reports them.
    assertThat(slice.endpoints()).extracting(EndpointSlice.Endpoint::serving).containsExactly(false, true, false);
    assertThat(slice.endpoints()).extracting(EndpointSlice.Endpoint::terminating).containsExactly(true, false, false);
  }

  @Test
  void aSliceGivenInTheDirectoryWinsAndTheDerivedOnesComeBackWhenItGoes() throws Exception {
    write(dir.resolve("shop.yaml"), docs(namespace("shop"), service("shop", "web", WEB_SPEC),
        webPod("a", "8080", "10.0.0.1", true, false)));
    start();
    EndpointSlice derived = onlySlice(model.snapshot(), "web");
    assertThat(pods(derived)).containsExactly("a");

    write(dir.resolve("slices/web.yaml"), slice("shop", "web-manual", "web", "10.0.0.77"));
    Snapshot s = await(x -> x.endpointSlices().containsKey(new ObjectRef("shop", "web-manual")));
    assertThat(slicesOf(s, "web")).containsOnlyKeys(new ObjectRef("shop", "web-manual"));
    assertThat(lastBatch()).containsExactly(
        new ModelEvent.EndpointSliceUpserted(s.endpointSlices().get(new ObjectRef("shop", "web-manual"))),
        new ModelEvent.EndpointSliceDeleted(derived.ref()));

    // While the given slice stands, pod changes do not bring derived slices back.
    write(dir.resolve("pods.yaml"), webPod("b", "8080", "10.0.0.2", true, false));
    await(x -> x.pods().containsKey(new ObjectRef("shop", "b")));
    assertThat(lastBatch()).containsExactly(new ModelEvent.PodUpserted(model.snapshot().pods().get(new ObjectRef("shop", "b"))));

    Files.delete(dir.resolve("slices/web.yaml"));
    Snapshot back = await(x -> !x.endpointSlices().containsKey(new ObjectRef("shop", "web-manual")));
    EndpointSlice again = onlySlice(back, "web");
    assertThat(again.ref()).isEqualTo(derived.ref());
    assertThat(pods(again)).containsExactly("a", "b");
    assertThat(lastBatch()).containsExactly(new ModelEvent.EndpointSliceUpserted(again),
        new ModelEvent.EndpointSliceDeleted(new ObjectRef("shop", "web-manual")));
  }

  @Test
  void aLabelChangeMovesAPodOutOfAService() throws Exception {
    write(dir.resolve("shop.yaml"), docs(namespace("shop"), service("shop", "web", WEB_SPEC)));
    write(dir.resolve("a.yaml"), webPod("a", "8080", "10.0.0.1", true, false));
    write(dir.resolve("b.yaml"), webPod("b", "8080", "10.0.0.2", true, false));
    start();
    assertThat(pods(onlySlice(model.snapshot(), "web"))).containsExactly("a", "b");

    write(dir.resolve("b.yaml"), servedPod("shop", "b", "{app: web-canary}", "[{name: http, containerPort: 8080}]",
        "10.0.0.2", true, false));
    Snapshot s = await(x -> pods(onlySlice(x, "web")).equals(List.of("a")));
    assertThat(lastBatch()).containsExactly(new ModelEvent.PodUpserted(s.pods().get(new ObjectRef("shop", "b"))),
        new ModelEvent.EndpointSliceUpserted(onlySlice(s, "web")));

    // The pod goes away entirely: nothing to change in the slice, only the pod's delete.
    Files.delete(dir.resolve("b.yaml"));
    await(x -> !x.pods().containsKey(new ObjectRef("shop", "b")));
    assertThat(lastBatch()).containsExactly(new ModelEvent.PodDeleted(new ObjectRef("shop", "b")));
  }
}
