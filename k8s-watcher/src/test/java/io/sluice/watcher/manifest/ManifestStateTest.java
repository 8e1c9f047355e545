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

import io.sluice.model.EndpointSlice;
import io.sluice.model.ModelEvent;
import io.sluice.model.ObjectRef;
import io.sluice.watcher.convert.ObjectConverter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ManifestStateTest {
  private final ManifestParser parser = new ManifestParser(new ObjectConverter());

  private ManifestState.Change file(String rel, String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    return new ManifestState.Change(rel, text.hashCode(), parser.parse("root/" + rel, bytes, false));
  }

  /** Files in path order; b copies an object of a (a wins), d holds an invalid policy. */
  private List<ManifestState.Change> files() {
    List<ManifestState.Change> out = new ArrayList<>();
    out.add(file("a.yaml", docs(namespace("shop"), pod("shop", "p1", "web", "10.0.0.1"))));
    out.add(file("b.yaml", docs(pod("shop", "p1", "db", "10.0.0.9"), pod("shop", "p2", "db", "10.0.0.2"))));
    out.add(file("c/x.yaml", docs(namespace("bank"), pod("bank", "p3", "web", "10.0.0.3"),
        service("bank", "web", "selector: {app: web}\nports: [{port: 80, targetPort: http}]"))));
    out.add(file("d.yaml", docs(policy("bank", "bad", "10.0.0.0/16", "10.1.0.0/16"),
        pod("bank", "p4", "web", "10.0.0.4"))));
    return out;
  }

  @Test
  void aBatchStagedInPartsInPathOrderEqualsOneApply() {
    ManifestState whole = new ManifestState("root");
    List<ManifestState.Change> all = files();
    List<io.sluice.model.ModelEvent> once = whole.apply(new ArrayList<>(all));

    ManifestState parted = new ManifestState("root");
    ManifestState.Staging staging = parted.begin();
    staging.add(all.subList(0, 1));
    staging.add(List.of());
    staging.add(List.of(all.get(2), all.get(1))); // a part need not be sorted itself
    staging.add(all.subList(3, 4));
    assertThat(staging.finish()).isEqualTo(once);
    // p3 and p4 (a later part) are in the derived slice of bank/web.
    assertThat(once).filteredOn(e -> e instanceof ModelEvent.EndpointSliceUpserted).singleElement()
        .satisfies(e -> assertThat(((ModelEvent.EndpointSliceUpserted) e).slice().endpoints()).hasSize(2));
    assertThat(parted.errors()).isEqualTo(whole.errors()).isNotEmpty();
    assertThat(parted.counts()).isEqualTo(whole.counts());
  }

  @Test
  void partsOutOfPathOrderAreRefused() {
    ManifestState.Staging staging = new ManifestState("root").begin();
    List<ManifestState.Change> all = files();
    staging.add(all.subList(2, 3));
    assertThatThrownBy(() -> staging.add(all.subList(0, 1))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("out of path order");
  }

  private static final String WEB = "selector: {app: web}\nports: [{name: http, port: 80, targetPort: http}]";

  private static String webPod(String name, String app, String ip) {
    return servedPod("shop", name, "{app: " + app + "}", "[{name: http, containerPort: 8080}]", ip, true, false);
  }

  private static List<ModelEvent> slicesOf(List<ModelEvent> events) {
    return events.stream().filter(e -> e instanceof ModelEvent.EndpointSliceUpserted
        || e instanceof ModelEvent.EndpointSliceDeleted).toList();
  }

  @Test
  void derivedSlicesFollowTheirServiceInTheSameBatch() {
    ManifestState state = new ManifestState("root");
    List<ModelEvent> events = state.apply(List.of(file("shop.yaml", docs(namespace("shop"), service("shop", "web", WEB),
        webPod("a", "web", "10.0.0.1"), webPod("b", "web", "10.0.0.2")))));
    assertThat(events).hasSize(5);
    assertThat(events.get(3)).isInstanceOf(ModelEvent.ServiceUpserted.class);
    EndpointSlice slice = ((ModelEvent.EndpointSliceUpserted) events.get(4)).slice();
    assertThat(slice.serviceName()).isEqualTo("web");
    assertThat(slice.endpoints()).extracting(e -> e.targetPod().orElseThrow().name()).containsExactly("a", "b");
    assertThat(state.derivedSlices()).isEqualTo(1);
    assertThat(state.counts()).doesNotContainKey(io.sluice.watcher.convert.ObjectKind.ENDPOINT_SLICE);
  }

  @Test
  void onlyTheSlicesOfServicesAPodChangeTouchesAreEmitted() {
    ManifestState state = new ManifestState("root");
    state.apply(List.of(
        file("a.yaml", docs(namespace("shop"), service("shop", "web", WEB),
            service("shop", "db", WEB.replace("app: web", "app: db")), service("shop", "all", "selector: {tier: x}\n"
            + "ports: [{port: 80}]"))),
        file("pods.yaml", docs(webPod("a", "web", "10.0.0.1"), webPod("d", "db", "10.0.0.9")))));
    // A label no selector reads: the pod changes, no slice does.
    List<ModelEvent> quiet = state.apply(List.of(file("pods.yaml", docs(
        servedPod("shop", "a", "{app: web, version: v2}", "[{name: http, containerPort: 8080}]", "10.0.0.1", true, false),
        webPod("d", "db", "10.0.0.9")))));
    assertThat(quiet).singleElement().isInstanceOf(ModelEvent.PodUpserted.class);
    // a moves from web to db: db's slice changes; web's slice goes and its empty placeholder comes; "all" (whose
    // placeholder stays as it was) is not touched.
    List<ModelEvent> moved = state.apply(List.of(file("pods.yaml", docs(webPod("a", "db", "10.0.0.1"),
        webPod("d", "db", "10.0.0.9")))));
    assertThat(moved).hasSize(4);
    assertThat(moved.get(0)).isInstanceOf(ModelEvent.PodUpserted.class);
    EndpointSlice db = ((ModelEvent.EndpointSliceUpserted) moved.get(1)).slice();
    assertThat(db.serviceName()).isEqualTo("db");
    assertThat(db.endpoints()).extracting(x -> x.targetPod().orElseThrow().name()).containsExactly("a", "d");
    EndpointSlice placeholder = ((ModelEvent.EndpointSliceUpserted) moved.get(2)).slice();
    assertThat(placeholder.serviceName()).isEqualTo("web");
    assertThat(placeholder.endpoints()).isEmpty();
    assertThat(placeholder.ports()).isEmpty();
    assertThat(moved.get(3)).isInstanceOf(ModelEvent.EndpointSliceDeleted.class);
    assertThat(((ModelEvent.EndpointSliceDeleted) moved.get(3)).ref().name()).startsWith("web-sluice-ipv4-")
        .isNotEqualTo(placeholder.ref().name());
  }

  @Test
  void aDirectorySliceOfTheSameNameHidesTheDerivedOneUntilItGoes() {
    ManifestState state = new ManifestState("root");
    List<ModelEvent> first = state.apply(List.of(file("a.yaml", docs(namespace("shop"), service("shop", "web", WEB),
        webPod("a", "web", "10.0.0.1")))));
    EndpointSlice derived = ((ModelEvent.EndpointSliceUpserted) slicesOf(first).get(0)).slice();
    // A slice under the derived one's name but for another service: the directory's object is what the model holds.
    String impostor = slice("shop", derived.ref().name(), "other", "10.0.0.50");
    List<ModelEvent> hidden = state.apply(List.of(file("b.yaml", impostor)));
    assertThat(hidden).singleElement().satisfies(e ->
        assertThat(((ModelEvent.EndpointSliceUpserted) e).slice().serviceName()).isEqualTo("other"));
    List<ModelEvent> back = state.apply(List.of(new ManifestState.Change("b.yaml", 0, null)));
    assertThat(back).containsExactly(new ModelEvent.EndpointSliceUpserted(derived));
  }

  @Test
  void aNamespaceThatGetsItsFirstServiceLaterFindsItsPods() {
    ManifestState state = new ManifestState("root");
    state.apply(List.of(file("pods.yaml", docs(namespace("shop"), webPod("a", "web", "10.0.0.1")))));
    List<ModelEvent> events = state.apply(List.of(file("svc.yaml", service("shop", "web", WEB))));
    assertThat(slicesOf(events)).singleElement().satisfies(e -> assertThat(((ModelEvent.EndpointSliceUpserted) e)
        .slice().endpoints()).extracting(x -> x.targetPod().orElseThrow()).containsExactly(new ObjectRef("shop", "a")));
    // And the last service going deletes its slices.
    List<ModelEvent> gone = state.apply(List.of(new ManifestState.Change("svc.yaml", 0, null)));
    assertThat(gone).hasSize(2).allSatisfy(e -> assertThat(e).isInstanceOfAny(ModelEvent.ServiceDeleted.class,
        ModelEvent.EndpointSliceDeleted.class));
    assertThat(state.derivedSlices()).isZero();
  }
}
