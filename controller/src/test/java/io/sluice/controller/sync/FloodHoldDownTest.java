package io.sluice.controller.sync;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FloodHoldDownTest {
  private final List<long[]> settled = new ArrayList<>();
  private final List<Long> released = new ArrayList<>();

  private FloodHoldDown holdDown() {
    FloodHoldDown h = new FloodHoldDown(dpid -> dpid != 9);
    h.onBaseFlows((dpid, hold) -> settled.add(new long[] {dpid, hold}));
    h.onRelease(released::add);
    return h;
  }

  @Test
  void aSwitchIsHeldFromItsBeginningUntilDiscoveryReleasesIt() {
    FloodHoldDown h = holdDown();
    assertThat(h.held(1)).isFalse();
    assertThat(h.begin(1)).isTrue();
    assertThat(h.held(1)).isTrue();
    h.carriesBaseFlows(1);
    h.carriesBaseFlows(1); // a second confirmed push while held: discovery is asked once
    assertThat(settled).hasSize(1);
    assertThat(h.held(1)).as("held until released").isTrue();
    h.release(1, settled.get(0)[1]);
    assertThat(h.held(1)).isFalse();
    assertThat(released).containsExactly(1L);
  }

  @Test
  void aSwitchWithoutTheStatelessPipelineIsNeverHeld() {
    FloodHoldDown h = holdDown();
    assertThat(h.begin(9)).isFalse();
    assertThat(h.held(9)).isFalse();
    h.carriesBaseFlows(9);
    assertThat(settled).isEmpty();
  }

  @Test
  void anEarlierHoldsTimerDoesNotReleaseALaterHold() {
    FloodHoldDown h = holdDown();
    h.begin(1);
    h.carriesBaseFlows(1);
    long first = settled.get(0)[1];
    h.begin(1); // a new role or connection before the first hold's timer fired
    h.release(1, first);
    assertThat(h.held(1)).as("the later hold stays").isTrue();
    assertThat(released).isEmpty();
    h.carriesBaseFlows(1);
    h.release(1, settled.get(1)[1]);
    assertThat(h.held(1)).isFalse();
    assertThat(released).containsExactly(1L);
  }

  @Test
  void aSwitchThatGoesAwayForgetsItsHoldAndAProfileThatCannotBeToldHoldsNothing() {
    FloodHoldDown h = holdDown();
    h.begin(1);
    h.forget(1);
    assertThat(h.held(1)).isFalse();
    FloodHoldDown broken = new FloodHoldDown(dpid -> {
      throw new IllegalArgumentException("no such profile");
    });
    assertThat(broken.begin(1)).isFalse();
    assertThat(FloodHoldDown.NONE.begin(1)).isFalse();
  }
}
