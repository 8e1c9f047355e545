package io.sluice.controller.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.flow.Field;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.Match;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.projectfloodlight.openflow.protocol.OFFlowModCommand;
import org.projectfloodlight.openflow.protocol.OFVersion;

/** Encoding 100,000 typical flows must take well under 0.3 s (best of a few runs, after warm-up). */
class FlowEncoderPerfTest {
  static List<Flow> flows(int n) {
    List<Flow> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Match m = Match.builder().ipv4().exact(Field.IP_PROTO, 6).masked(Field.IPV4_SRC, ((10L << 24) | i) & 0xffffff00L, 0xffffff00L)
          .exact(Field.TCP_DST, 80 + i % 1000).exact(Field.REG1, i).masked(Field.CT_STATE, 0x21, 0x23).build();
      List<Action> a = i % 2 == 0
          ? List.of(new Action.Conjunction(i, 1, 2))
          : List.of(new Action.Load(Field.REG3, 0, 16, i & 0xffff), Action.Ct.commit(5), new Action.GotoTable(9));
      out.add(new Flow(3, 100 + i % 50, m, a, Cookie.of(Cookie.Category.POLICY, 1, i)));
    }
    return out;
  }

  @Test
  void hundredThousandFlowsQuickly() {
    List<Flow> fs = flows(100_000);
    ByteBuf buf = Unpooled.buffer(100_000 * 160);
    long best = Long.MAX_VALUE;
    long bestWire = Long.MAX_VALUE;
    for (int round = 0; round < 5; round++) {
      buf.clear();
      long t0 = System.nanoTime();
      long xid = 1;
      for (Flow f : fs) {
        FlowEncoder.writeFlowMod(buf, f, OFVersion.OF_15, OFFlowModCommand.ADD, xid++);
      }
      best = Math.min(best, System.nanoTime() - t0);
      long t1 = System.nanoTime();
      int h = 0;
      for (Flow f : fs) {
        h += FlowEncoder.wireFlow(f, OFVersion.OF_13).hashCode();
      }
      bestWire = Math.min(bestWire, System.nanoTime() - t1);
      assertThat(h).isNotEqualTo(42);
    }
    System.out.printf("100k flow-mods: %.1f ms, 100k WireFlows: %.1f ms%n", best / 1e6, bestWire / 1e6);
    assertThat(best / 1e6).as("ms for 100k flow-mods").isLessThan(300);
    assertThat(bestWire / 1e6).as("ms for 100k WireFlows").isLessThan(300);
  }
}
