package io.sluice.renderer.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.renderer.StatelessRenderer;
import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Field;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.pipeline.Capabilities;
import io.sluice.renderer.pipeline.PipelineProfile;
import io.sluice.renderer.pipeline.Table;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class StatelessRendererTest {
  static final Capabilities HARDWARE = new Capabilities(false, false, false, false, false, Set.of("all", "indirect"));
  static final EnumSet<Field> STANDARD = EnumSet.of(Field.IN_PORT, Field.ETH_SRC, Field.ETH_DST, Field.ETH_TYPE,
      Field.IP_PROTO, Field.IPV4_SRC, Field.IPV4_DST, Field.IPV6_SRC, Field.IPV6_DST, Field.TCP_SRC, Field.TCP_DST,
      Field.UDP_SRC, Field.UDP_DST, Field.SCTP_SRC, Field.SCTP_DST, Field.ICMPV4_TYPE, Field.ICMPV6_TYPE, Field.TCP_FLAGS);

  static PipelineProfile singleTable() {
    return PipelineProfile.of("one", List.of(new Table(0, "Single", STANDARD, Table.MISS_DROP, 4096)), HARDWARE);
  }

  static PipelineProfile threeTables() {
    return PipelineProfile.of("three", List.of(
        new Table(0, "Classifier", EnumSet.of(Field.IN_PORT, Field.ETH_TYPE), 1, 1024),
        new Table(1, "Policy", STANDARD, 2, 2048),
        new Table(2, "Forwarding", EnumSet.of(Field.ETH_DST), Table.MISS_DROP, 8192)), HARDWARE);
  }

  static List<String> printed(List<Flow> flows) {
    List<Flow> sorted = new ArrayList<>(flows);
    sorted.sort(Comparator.comparingInt(Flow::table).thenComparing(Comparator.comparingInt(Flow::priority).reversed())
        .thenComparing(Flow::toString));
    return sorted.stream().map(Flow::toString).toList();
  }

  @Test
  void theStatelessWorkedExampleOfTheDocsIsWhatTheRendererPrints() throws Exception {
    List<Flow> flows = new ArrayList<>(new StatelessRenderer(singleTable(), 1, false)
        .render(PolicyCompilerTest.cluster(List.of(PolicyCompilerTest.dbAllowsWebOnPg())), PolicyCompilerTest.DPID)
        .flows().values());
    printed(flows).forEach(System.out::println);
    assertThat(printed(flows)).containsExactlyInAnyOrderElementsOf(io.sluice.renderer.DocsExamples.block("stateless"));
  }

  @Test
  void everyFlowIsStandardOpenFlow13AndFitsEitherLayout() {
    for (PipelineProfile p : List.of(singleTable(), threeTables())) {
      var tables = new StatelessRenderer(p, 1, false)
          .render(PolicyCompilerTest.cluster(List.of(PolicyCompilerTest.dbAllowsWebOnPg())), PolicyCompilerTest.DPID);
      for (Flow f : tables.flows().values()) {
        assertThat(f.match().has(Field.CT_STATE) || f.match().has(Field.CONJ_ID)).as(f.toString()).isFalse();
        assertThat(f.actions()).as(f.toString()).allMatch(a -> a instanceof Action.Output || a instanceof Action.InPort
            || a instanceof Action.Controller
            || a instanceof Action.GotoTable);
      }
    }
  }

  @Test
  void heldFloodsAreDroppedAndNothingElseChanges() {
    for (PipelineProfile p : List.of(singleTable(), threeTables())) {
      var cluster = PolicyCompilerTest.cluster(List.of(PolicyCompilerTest.dbAllowsWebOnPg()));
      var open = new StatelessRenderer(p, 1, false).render(PolicyIndex.of(cluster), PolicyCompilerTest.DPID, false).flows();
      var held = new StatelessRenderer(p, 1, false).render(PolicyIndex.of(cluster), PolicyCompilerTest.DPID, true).flows();
      Action all = new Action.Output(StatelessRenderer.OFPP_ALL);
      assertThat(open.values()).as(p.name() + ": something floods when not held").anyMatch(f -> f.actions().contains(all));
      assertThat(held.values()).as(p.name() + ": nothing floods when held").noneMatch(f -> f.actions().contains(all));
      assertThat(held.keySet()).as(p.name() + ": the same flows").isEqualTo(open.keySet());
      held.forEach((k, f) -> {
        Flow o = open.get(k);
        if (o.actions().contains(all)) {
          // what flooded keeps its other actions (the copy to the controller of ARP/ND), without the flood
          assertThat(f.actions()).as(f.toString()).isEqualTo(o.actions().stream()
              .filter(a -> !a.equals(all) && !(a instanceof Action.Meter)).toList());
        } else {
          assertThat(f).as("unchanged when held").isEqualTo(o);
        }
      });
    }
  }

  @Test
  void aPodReachingItselfGoesBackOutOfItsPort() {
    var tables = new StatelessRenderer(singleTable(), 1, false)
        .render(PolicyCompilerTest.cluster(List.of(PolicyCompilerTest.dbAllowsWebOnPg())), PolicyCompilerTest.DPID);
    // db (port 2, 10.0.0.2) is isolated for ingress: its traffic to itself is exempt, and hairpinned
    assertThat(tables.flows().values()).anySatisfy(f -> {
      assertThat(f.toString()).contains("in_port=2").contains("nw_src=10.0.0.2").contains("nw_dst=10.0.0.2");
      assertThat(f.actions()).containsExactly(new Action.InPort());
    });
  }

  @Test
  void aLayoutItCannotFillIsRefusedByName() {
    PipelineProfile two = PipelineProfile.of("two", List.of(new Table(0, "Classifier", STANDARD, 1, 10),
        new Table(1, "Acl", STANDARD, Table.MISS_DROP, 10)), HARDWARE);
    assertThat(StatelessRenderer.unsupported(two)).contains("profile two").contains("0 Classifier").contains("1 Acl");
    assertThatThrownBy(() -> new StatelessRenderer(two, 1, false)).hasMessageContaining("profile two");
    assertThat(StatelessRenderer.unsupported(singleTable())).isNull();
    assertThat(StatelessRenderer.unsupported(threeTables())).isNull();
  }
}
