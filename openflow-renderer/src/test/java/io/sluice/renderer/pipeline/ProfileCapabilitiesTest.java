package io.sluice.renderer.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.flow.Field;
import io.sluice.renderer.flow.FieldValue;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.Match;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A profile refuses every flow its switch could not hold, naming the capability or the field. */
class ProfileCapabilitiesTest {
  private static final Cookie C = Cookie.of(Cookie.Category.BASE, 1, 1);
  private static final PipelineProfile BARE = PipelineProfile.of("bare", List.of(
      new Table(0, "T0", EnumSet.of(Field.IN_PORT, Field.ETH_TYPE, Field.IPV4_DST, Field.CT_STATE, Field.CONJ_ID,
          Field.REG0), 1, 4),
      new Table(1, "T1", EnumSet.of(Field.ETH_DST), Table.MISS_DROP, 2)),
      new Capabilities(false, false, false, false, false, Set.of()));

  private static Flow flow(Match m, Action... actions) {
    return new Flow(0, 10, m, List.of(actions), C);
  }

  @Test
  void eachFlowThatNeedsWhatTheSwitchLacksIsRefused() {
    Match ip = Match.builder().ipv4().build();
    assertThatThrownBy(() -> BARE.check(flow(ip, Action.Ct.commit(1)))).hasMessageContaining("has no conntrack");
    assertThatThrownBy(() -> BARE.check(flow(Match.builder().masked(Field.CT_STATE, 0x21, 0x21).build())))
        .hasMessageContaining("has no conntrack, which matching ct_state needs");
    assertThatThrownBy(() -> BARE.check(flow(ip, new Action.Conjunction(7, 1, 2)))).hasMessageContaining("conjunction");
    assertThatThrownBy(() -> BARE.check(flow(Match.builder().exact(Field.CONJ_ID, 7).build(), new Action.GotoTable(1))))
        .hasMessageContaining("conjunction");
    assertThatThrownBy(() -> BARE.check(flow(ip, new Action.Resubmit(1)))).hasMessageContaining("has no nicira");
    assertThatThrownBy(() -> BARE.check(flow(ip, new Action.Load(Field.REG0, 0, 32, 5)))).hasMessageContaining("nicira");
    assertThatThrownBy(() -> BARE.check(flow(Match.builder().exact(Field.REG0, 1).build()))).hasMessageContaining("nicira");
    assertThatThrownBy(() -> BARE.check(flow(ip, new Action.Meter(5), new Action.Controller(128))))
        .hasMessageContaining("has no meters");
    assertThatThrownBy(() -> BARE.check(flow(ip, new Action.Group(3)))).hasMessageContaining("has no groups");
    assertThatThrownBy(() -> BARE.check(flow(Match.builder().ipv4().exact(Field.IPV4_SRC, 1).build())))
        .hasMessageContaining("may not match nw_src");
    assertThatThrownBy(() -> BARE.check(new Flow(2, 1, Match.ALL, List.of(), C))).hasMessageContaining("has no table 2");
    // what it can hold passes
    BARE.check(flow(Match.builder().ipv4().exact(Field.IPV4_DST, 0x0a000001L).build(),
        new Action.SetField(FieldValue.exact(Field.ETH_DST, 0x0a5800000001L)), new Action.GotoTable(1)));
    // and Open vSwitch holds all of the above
    PipelineProfile.ovs().check(new Flow(30, 10, ip, List.of(Action.Ct.commit(1)), C));
  }

  @Test
  void flowsOverATablesSizeAreCounted() {
    List<Flow> flows = List.of(
        new Flow(0, 1, Match.builder().exact(Field.IN_PORT, 1).build(), List.of(), C),
        new Flow(0, 1, Match.builder().exact(Field.IN_PORT, 2).build(), List.of(), C),
        new Flow(1, 1, Match.builder().exact(Field.ETH_DST, 1).build(), List.of(), C),
        new Flow(1, 1, Match.builder().exact(Field.ETH_DST, 2).build(), List.of(), C),
        new Flow(1, 1, Match.builder().exact(Field.ETH_DST, 3).build(), List.of(), C));
    assertThat(BARE.overBudget(flows)).containsOnlyKeys(1);
    assertThat(BARE.overBudget(flows).get(1)).containsExactly(3, 2);
    assertThat(PipelineProfile.ovs().overBudget(flows)).isEmpty();
  }

  @Test
  void aProfileWithoutTableZeroOrWithAMissToNowhereIsRefused() {
    Capabilities none = new Capabilities(false, false, false, false, false, Set.of());
    assertThatThrownBy(() -> PipelineProfile.of("x", List.of(new Table(1, "T", Set.of(), Table.MISS_DROP, 1)), none))
        .hasMessageContaining("no table 0");
    assertThatThrownBy(() -> PipelineProfile.of("x", List.of(new Table(0, "T", Set.of(), 3, 1)), none))
        .hasMessageContaining("miss goes to table 3");
  }
}
