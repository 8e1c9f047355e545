package io.sluice.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClusterModelTest {
  private final Pod web = new Pod(new ObjectRef("shop", "web"), Map.of("app", "web"), List.of("10.0.0.2"), List.of(), false);

  @Test
  void eachChangingBatchIsOneGeneration() {
    ClusterModel m = new ClusterModel(1);
    Snapshot s = m.apply(List.of(new ModelEvent.NamespaceUpserted(new Namespace("shop", Map.of())), new ModelEvent.PodUpserted(web)));
    assertThat(s.generation()).isEqualTo(2);
    assertThat(s.pods()).containsKey(web.ref());
  }

  @Test
  void aBatchThatChangesNothingKeepsTheGeneration() {
    ClusterModel m = new ClusterModel(1);
    m.apply(List.of(new ModelEvent.PodUpserted(web)));
    Snapshot again = m.apply(List.of(new ModelEvent.PodUpserted(web)));
    assertThat(again.generation()).isEqualTo(2);
  }

  @Test
  void snapshotsDoNotSeeLaterChanges() {
    ClusterModel m = new ClusterModel(1);
    Snapshot before = m.apply(List.of(new ModelEvent.PodUpserted(web)));
    m.apply(List.of(new ModelEvent.PodDeleted(web.ref())));
    assertThat(before.pods()).containsKey(web.ref());
    assertThat(m.snapshot().pods()).isEmpty();
    assertThat(m.generation()).isEqualTo(3);
  }
}
