package io.sluice.watcher.manifest;

import static io.sluice.watcher.manifest.Manifests.docs;
import static io.sluice.watcher.manifest.Manifests.namespace;
import static io.sluice.watcher.manifest.Manifests.pod;
import static io.sluice.watcher.manifest.Manifests.policy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
    out.add(file("c/x.yaml", docs(namespace("bank"), pod("bank", "p3", "web", "10.0.0.3"))));
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
}
