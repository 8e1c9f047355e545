package io.sluice.controller.trace;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.model.Protocol;
import io.sluice.renderer.flow.Field;
import io.sluice.renderer.flow.Match;
import io.sluice.renderer.pipeline.PipelineProfile;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The probes' path from two counter dumps: flows grown by k or more, exactly k preferred, in table order, cut where a
 * flow sends nothing on; flows whose match contradicts the probes never count; the verdict from the path and the
 * destination port's counter. And which flows could match a probe, and what instructions do.
 */
class ProbePathTest {
  private static ProbePath.Flow flow(int table, int priority, long cookie, boolean forwards, boolean outputs,
                                     long packets) {
    return new ProbePath.Flow(table, priority, cookie, "t" + table + "p" + priority, forwards, outputs, true, packets);
  }

  private static List<ProbePath.Flow> grow(List<ProbePath.Flow> before, Map<String, Long> by) {
    List<ProbePath.Flow> out = new ArrayList<>();
    for (ProbePath.Flow f : before) {
      out.add(new ProbePath.Flow(f.table(), f.priority(), f.cookie(), f.match(), f.forwards(), f.outputs(),
          f.couldMatch(), f.packets() + by.getOrDefault(f.match(), 0L)));
    }
    return out;
  }

  @Test
  void exactGrowthIsPreferredAndOtherTrafficOnlyAdds() {
    List<ProbePath.Flow> before = List.of(flow(0, 100, 1, true, false, 10), flow(0, 90, 2, true, false, 3),
        flow(10, 100, 3, true, false, 50), flow(40, 200, 4, true, false, 0), flow(40, 100, 5, false, false, 7),
        flow(90, 0, 6, true, true, 100));
    // the probes: t0p100 (cookie 1), t10, t40p200, t90; their answers pass t10 and t90 again
    ProbePath.Path p = ProbePath.of(before, grow(before, Map.of("t0p100", 5L, "t10p100", 10L, "t40p200", 5L,
        "t90p0", 12L)), 5);
    assertThat(p.steps()).extracting(ProbePath.Step::table).containsExactly(0, 10, 40, 90);
    assertThat(p.steps().get(1).exact()).isFalse();
    assertThat(p.steps().get(1).grew()).isEqualTo(10);
    assertThat(p.end()).as("left by a port").isNull();
    assertThat(p.outputs()).isTrue();
    assertThat(p.notes()).isEmpty();
  }

  @Test
  void aTableWithSeveralFlowsGrownByMoreThanKIsAmbiguous() {
    List<ProbePath.Flow> before = List.of(flow(20, 200, 1, true, false, 0), flow(20, 100, 2, true, false, 0));
    ProbePath.Path p = ProbePath.of(before, grow(before, Map.of("t20p200", 6L, "t20p100", 9L)), 5);
    assertThat(p.steps()).hasSize(2).allMatch(ProbePath.Step::ambiguous);
    assertThat(p.steps().get(0).priority()).isEqualTo(200);
  }

  @Test
  void aDropEndsThePathAndLaterGrowthIsOtherTraffic() {
    List<ProbePath.Flow> before = List.of(flow(0, 100, 1, true, false, 0), flow(40, 100, 5, false, false, 0),
        flow(90, 0, 6, true, true, 0));
    ProbePath.Path p = ProbePath.of(before, grow(before, Map.of("t0p100", 5L, "t40p100", 5L, "t90p0", 30L)), 5);
    assertThat(p.steps()).extracting(ProbePath.Step::table).containsExactly(0, 40);
    assertThat(p.end().table()).isEqualTo(40);
    assertThat(p.notes()).singleElement().asString().contains("other traffic, the probes ended at table 40");
    Map<String, Object> v = PacketOutTracer.verdict(List.of(p), 0, 100L, 131L, 5);
    assertThat(v).containsEntry("allowed", false).containsEntry("scope", "destination");
    assertThat((String) v.get("how")).contains("ended in table 40").contains("other traffic");
  }

  @Test
  void aCopyToTheControllerAfterTheOutputIsNotTheEnd() {
    List<ProbePath.Flow> before = List.of(flow(90, 0, 6, true, true, 0), flow(95, 100, 7, false, false, 0));
    ProbePath.Path p = ProbePath.of(before, grow(before, Map.of("t90p0", 5L, "t95p100", 5L)), 5);
    assertThat(p.end()).isNull();
    assertThat(PacketOutTracer.verdict(List.of(p), 0, 0L, 5L, 5)).containsEntry("allowed", true);
    assertThat(PacketOutTracer.verdict(List.of(p), 0, 0L, 4L, 5)).containsEntry("allowed", false);
    assertThat(PacketOutTracer.verdict(List.of(p), -1, null, null, 5)).containsEntry("allowed", true)
        .containsEntry("scope", "egress");
  }

  @Test
  void flowsThatCannotMatchTheProbesAndFlowsThatCameMeanwhileAreSaid() {
    List<ProbePath.Flow> before = new ArrayList<>(List.of(flow(0, 100, 1, true, false, 0)));
    before.add(new ProbePath.Flow(0, 100, 2, "in_port=9", true, false, false, 0));
    List<ProbePath.Flow> after = new ArrayList<>(grow(before, Map.of("t0p100", 5L, "in_port=9", 5L)));
    after.add(flow(40, 300, 9, true, false, 7));
    ProbePath.Path p = ProbePath.of(before, after, 5);
    assertThat(p.steps()).extracting(ProbePath.Step::cookie).containsExactly(1L, 9L);
    assertThat(p.notes()).singleElement().asString().contains("1 flow(s) added and 0 removed");
  }

  @Test
  void aProbeFitsOnlyFlowsItsHeadersAndStateAllow() {
    ProbeMatch m = new ProbeMatch(Protocol.TCP, "10.76.0.1", "10.76.0.2", 5432, 1L);
    Match fromWeb = Match.builder().exact(Field.IN_PORT, 1).exact(Field.ETH_TYPE, 0x0800)
        .exact(Field.IPV4_SRC, 0x0a4c0001L).build();
    Match fromDb = Match.builder().exact(Field.IN_PORT, 2).exact(Field.ETH_TYPE, 0x0800)
        .exact(Field.IPV4_SRC, 0x0a4c0002L).build();
    assertThat(m.couldMatch(0, fromWeb)).isTrue();
    assertThat(m.couldMatch(0, fromDb)).isFalse();
    assertThat(m.elsewhere().couldMatch(0, Match.builder().exact(Field.IN_PORT, 7).build()))
        .as("in_port unknown on another switch").isTrue();
    Match established = Match.builder().masked(Field.CT_STATE, PipelineProfile.CT_EST | PipelineProfile.CT_TRK,
        PipelineProfile.CT_EST | PipelineProfile.CT_TRK).build();
    Match fresh = Match.builder().masked(Field.CT_STATE, PipelineProfile.CT_NEW | PipelineProfile.CT_TRK,
        PipelineProfile.CT_NEW | PipelineProfile.CT_TRK).build();
    assertThat(m.couldMatch(PipelineProfile.CT_STATE, established)).isFalse();
    assertThat(m.couldMatch(PipelineProfile.CT_STATE, fresh)).isTrue();
    assertThat(m.couldMatch(PipelineProfile.CT_ZONE, fresh)).as("untracked before conntrack").isFalse();
    Match block = Match.builder().exact(Field.ETH_TYPE, 0x0800).masked(Field.IPV4_DST, 0x0a4c0000L, 0xffffff00L)
        .build();
    assertThat(m.couldMatch(PipelineProfile.EGRESS_RULE, block)).isTrue();
    assertThat(m.couldMatch(PipelineProfile.EGRESS_RULE, Match.builder().exact(Field.REG6, 3).build()))
        .as("registers may hold anything").isTrue();
    assertThat(m.couldMatch(PipelineProfile.EGRESS_RULE, null)).isTrue();
  }

  @Test
  void instructionsSayWhetherAFlowSendsThePacketOn() {
    byte[] gotoTable = {0, 1, 0, 8, 50, 0, 0, 0};
    assertThat(Instructions.of(gotoTable, 0, 8)).isEqualTo(new Instructions.Effect(true, false));
    assertThat(Instructions.of(new byte[0], 0, 0)).isEqualTo(new Instructions.Effect(false, false));
    // apply_actions(output:CONTROLLER): only a copy up, the packet ends here
    byte[] toController = {0, 4, 0, 24, 0, 0, 0, 0, 0, 0, 0, 16, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xfd,
        0, (byte) 128, 0, 0, 0, 0, 0, 0};
    assertThat(Instructions.of(toController, 0, 24)).isEqualTo(new Instructions.Effect(false, false));
    // apply_actions(output:NORMAL)
    byte[] normal = toController.clone();
    normal[15] = (byte) 0xfa;
    assertThat(Instructions.of(normal, 0, 24)).isEqualTo(new Instructions.Effect(true, true));
    // apply_actions(ct(table=11)): Nicira subtype 35 with recirc_table 11 at offset 18 of the action
    byte[] ct = new byte[8 + 24];
    ct[1] = 4;
    ct[3] = (byte) ct.length;
    int a = 8;
    ct[a] = (byte) 0xff;
    ct[a + 1] = (byte) 0xff;
    ct[a + 3] = 24;
    ct[a + 6] = 0x23;
    ct[a + 7] = 0x20;
    ct[a + 9] = 35;
    ct[a + 18] = 11;
    assertThat(Instructions.of(ct, 0, ct.length)).isEqualTo(new Instructions.Effect(true, false));
    ct[a + 18] = (byte) 0xff; // ct(commit) without a table: on only through what follows
    assertThat(Instructions.of(ct, 0, ct.length)).isEqualTo(new Instructions.Effect(false, false));
  }
}
