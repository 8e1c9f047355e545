package io.sluice.ovsdb.ports;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.model.ModelEvent;
import io.sluice.model.ModelEvent.PortBound;
import io.sluice.model.ModelEvent.PortUnbound;
import io.sluice.model.ObjectRef;
import io.sluice.model.PortBinding;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BindingAggregatorTest {
  private final List<List<ModelEvent>> batches = new CopyOnWriteArrayList<>();
  private final BindingAggregator agg = new BindingAggregator(batches::add);
  private static final ObjectRef A = new ObjectRef("ns", "a");
  private static final ObjectRef B = new ObjectRef("ns", "b");

  @AfterEach
  void close() {
    agg.close();
  }

  private long seen;

  private List<ModelEvent> events() {
    long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
    while (seen + batches.stream().mapToInt(List::size).sum() < agg.emitted() && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    List<ModelEvent> all = new ArrayList<>();
    batches.forEach(all::addAll);
    batches.clear();
    seen += all.size();
    return all;
  }

  @Test
  void newChangedAndRemovedBindingsBecomeEventsOnce() {
    PortBinding a1 = new PortBinding(A, 1, 5, "m");
    PortBinding b1 = new PortBinding(B, 1, 6, "m");
    agg.update("n1", Map.of(A, a1, B, b1));
    assertThat(events()).containsExactly(new PortBound(a1), new PortBound(b1));
    agg.update("n1", Map.of(A, a1, B, b1));
    assertThat(events()).isEmpty();
    PortBinding a2 = new PortBinding(A, 1, 8, "m");
    agg.update("n1", Map.of(A, a2));
    assertThat(events()).containsExactly(new PortUnbound(B), new PortBound(a2));
  }

  @Test
  void podMovingBetweenNodesIsNeverUnboundInBetween() {
    PortBinding onN1 = new PortBinding(A, 1, 5, "m");
    PortBinding onN2 = new PortBinding(A, 2, 3, "m");
    agg.update("n1", Map.of(A, onN1));
    agg.update("n2", Map.of(A, onN2));
    assertThat(events()).containsExactly(new PortBound(onN1));
    agg.update("n1", Map.of());
    assertThat(events()).containsExactly(new PortBound(onN2));
  }

  @Test
  void ownershipSurvivesGoingFromOneSourceToTwoAndBack() {
    PortBinding onN1 = new PortBinding(A, 1, 5, "m");
    PortBinding onN2 = new PortBinding(A, 2, 3, "m");
    agg.update("n1", Map.of(A, onN1));
    assertThat(events()).containsExactly(new PortBound(onN1));
    agg.update("n2", Map.of(A, onN2, B, new PortBinding(B, 2, 4, "m")));
    assertThat(events()).containsExactly(new PortBound(new PortBinding(B, 2, 4, "m")));
    agg.update("n1", Map.of(A, new PortBinding(A, 1, 6, "m")));
    assertThat(events()).containsExactly(new PortBound(new PortBinding(A, 1, 6, "m")));
    agg.remove("n1");
    assertThat(events()).containsExactly(new PortBound(onN2));
    agg.update("n2", Map.of(A, onN2));
    assertThat(events()).containsExactly(new PortUnbound(B));
    assertThat(agg.current()).containsExactly(Map.entry(A, onN2));
  }

  @Test
  void removingASourceUnbindsOnlyItsPods() {
    agg.update("n1", Map.of(A, new PortBinding(A, 1, 5, "m")));
    agg.update("n2", Map.of(B, new PortBinding(B, 2, 5, "m")));
    events();
    agg.remove("n1");
    assertThat(events()).containsExactly(new PortUnbound(A));
    assertThat(agg.current()).containsOnlyKeys(B);
  }

  @Test
  void failingSinkDoesNotStopLaterBatches() {
    List<ModelEvent> got = new CopyOnWriteArrayList<>();
    BindingAggregator flaky = new BindingAggregator(evs -> {
      if (got.isEmpty() && evs.size() == 1 && evs.get(0) instanceof PortBound pb && pb.binding().ofport() == 1) {
        got.add(evs.get(0));
        throw new IllegalStateException("sink bug");
      }
      got.addAll(evs);
    });
    flaky.update("n", Map.of(A, new PortBinding(A, 1, 1, "")));
    flaky.update("n", Map.of(A, new PortBinding(A, 1, 2, "")));
    long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
    while (got.size() < 2 && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    assertThat(got).hasSize(2);
    flaky.close();
  }

  @Test
  void closeReturnsOnlyOnceQueuedBatchesHaveReachedTheSink() {
    List<ModelEvent> got = new CopyOnWriteArrayList<>();
    BindingAggregator slow = new BindingAggregator(evs -> {
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      got.addAll(evs);
    });
    slow.update("n", Map.of(A, new PortBinding(A, 1, 1, "")));
    slow.update("n", Map.of(A, new PortBinding(A, 1, 2, "")));
    slow.close();
    assertThat(got).containsExactly(new PortBound(new PortBinding(A, 1, 1, "")),
        new PortBound(new PortBinding(A, 1, 2, "")));
  }

  @Test
  void closeFromTheSinkItselfDoesNotWaitForItself() {
    BindingAggregator[] self = new BindingAggregator[1];
    List<ModelEvent> got = new CopyOnWriteArrayList<>();
    self[0] = new BindingAggregator(evs -> {
      got.addAll(evs);
      self[0].close();
    });
    self[0].update("n", Map.of(A, new PortBinding(A, 1, 1, "")));
    long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
    while (got.isEmpty() && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    long t0 = System.nanoTime();
    self[0].close();
    assertThat(got).hasSize(1);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
  }

  @Test
  void switchPortsAreEmittedWhenTheyChangeAndDeletedWithTheirSource() throws Exception {
    io.sluice.model.SwitchPorts one = new io.sluice.model.SwitchPorts(1, java.util.Set.of(7L));
    agg.updatePorts("n1", Map.of(1L, one));
    assertThat(events()).containsExactly(new io.sluice.model.ModelEvent.SwitchPortsUpserted(one));
    agg.updatePorts("n1", Map.of(1L, new io.sluice.model.SwitchPorts(1, java.util.Set.of(7L))));
    PortBinding a1 = new PortBinding(A, 1, 5, "m");
    agg.update("n1", Map.of(A, a1));
    assertThat(events()).as("the same ports again emit nothing").containsExactly(new PortBound(a1));
    io.sluice.model.SwitchPorts two = new io.sluice.model.SwitchPorts(1, java.util.Set.of(7L, 9L));
    agg.updatePorts("n1", Map.of(1L, two));
    assertThat(events()).containsExactly(new io.sluice.model.ModelEvent.SwitchPortsUpserted(two));
    agg.updatePorts("n1", Map.of());
    assertThat(events()).as("the bridge is gone from its server").containsExactly(
        new io.sluice.model.ModelEvent.SwitchPortsDeleted(1));
    agg.updatePorts("n1", Map.of(1L, two));
    assertThat(events()).containsExactly(new io.sluice.model.ModelEvent.SwitchPortsUpserted(two));
    agg.remove("n1");
    assertThat(events()).as("a lost server leaves its switches managed").containsExactly(new PortUnbound(A));
  }

  @Test
  void aServerCannotBindPodsOnABridgeAnotherServerReports() {
    io.sluice.model.SwitchPorts n1Bridge = new io.sluice.model.SwitchPorts(1, java.util.Set.of(7L));
    agg.updatePorts("n1", Map.of(1L, n1Bridge));
    PortBinding a1 = new PortBinding(A, 1, 5, "m");
    agg.update("n1", Map.of(A, a1));
    assertThat(events()).containsExactly(new io.sluice.model.ModelEvent.SwitchPortsUpserted(n1Bridge), new PortBound(a1));
    // a hostile server claims dpid 1 too: its bridge's ports do not replace n1's, and its bindings there are refused
    agg.updatePorts("evil", Map.of(1L, new io.sluice.model.SwitchPorts(1, java.util.Set.of(1L, 2L, 3L))));
    PortBinding ghost = new PortBinding(B, 1, 7, "m");
    agg.update("evil", Map.of(A, new PortBinding(A, 1, 9, "m"), B, ghost));
    assertThat(events()).as("nothing moves, nothing new is bound").isEmpty();
    assertThat(agg.current()).containsExactly(Map.entry(A, a1));
    // on its own bridge (dpid 2) it binds as any server does
    PortBinding own = new PortBinding(B, 2, 4, "m");
    agg.updatePorts("evil", Map.of(1L, new io.sluice.model.SwitchPorts(1, java.util.Set.of(1L)),
        2L, new io.sluice.model.SwitchPorts(2, java.util.Set.of())));
    agg.update("evil", Map.of(B, own));
    assertThat(events()).contains(new PortBound(own));
    // once n1 is gone for good it owns nothing: the bridge's next server may bind there
    agg.remove("n1");
    agg.update("evil", Map.of(B, own, A, new PortBinding(A, 1, 9, "m")));
    assertThat(agg.current()).containsEntry(A, new PortBinding(A, 1, 9, "m"));
  }
}
