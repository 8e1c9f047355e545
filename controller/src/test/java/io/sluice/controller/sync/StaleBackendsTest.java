package io.sluice.controller.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.sluice.controller.wire.Conntrack;
import io.sluice.controller.wire.GroupCodec;
import io.sluice.renderer.flow.NatBackend;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.projectfloodlight.openflow.protocol.OFVersion;

class StaleBackendsTest {
  private static final NatBackend A = new NatBackend("10.0.0.11", 5353, NatBackend.UDP);
  private static final NatBackend B = new NatBackend("10.0.0.12", 5353, NatBackend.UDP);
  private static final NatBackend C = new NatBackend("fd00::13", 3868, NatBackend.SCTP);

  @Test
  void onlyBackendsThatWereRealizedAndAreNoLongerDesiredAreFlushed() {
    assertThat(StaleBackends.gone(Set.of(A, B, C), Set.of(A))).containsExactly(B, C);
    assertThat(StaleBackends.gone(Set.of(A, B), Set.of(A, B))).isEmpty();
    assertThat(StaleBackends.gone(Set.of(A), Set.of(A, B, C))).as("a backend added is not flushed").isEmpty();
    assertThat(StaleBackends.gone(Set.of(A, B), Set.of())).containsExactly(A, B);
  }

  @Test
  void withoutARealizedSetNothingIsFlushed() {
    // a new connection (reconcile): what the switch's conntrack holds is unknown, so nothing is cleared
    assertThat(StaleBackends.gone(null, Set.of())).isEmpty();
    assertThat(StaleBackends.gone(null, Set.of(A))).isEmpty();
  }

  @Test
  void aBackendWhosePortOrProtocolChangedIsGoneInItsOldForm() {
    NatBackend samePodOtherPort = new NatBackend("10.0.0.11", 5354, NatBackend.UDP);
    NatBackend samePodSctp = new NatBackend("10.0.0.11", 5353, NatBackend.SCTP);
    assertThat(StaleBackends.gone(Set.of(A), Set.of(samePodOtherPort, samePodSctp))).containsExactly(A);
  }

  @Test
  void eachGoneBackendIsOneFlushInTheSwitchsZoneByReplySource() {
    List<SwitchOp> ops = StaleBackends.flushes(List.of(B, C), 4242, OFVersion.OF_15);
    assertThat(ops).extracting(SwitchOp::target).containsOnly(SwitchOp.Target.CONNTRACK);
    assertThat(ops).extracting(SwitchOp::kind).containsOnly(SwitchOp.Kind.DELETE);
    assertThat(ops).extracting(SwitchOp::description).containsExactly("udp 10.0.0.12:5353", "sctp [fd00::13]:3868");
    assertThat(hex(ops.get(0), 77)).isEqualTo(HexFormat.of().formatHex(GroupCodec.toBytes(b -> Conntrack.writeFlushReplySource(
        b, OFVersion.OF_15, 77, 4242, new byte[] {10, 0, 0, 12}, 5353, 17))));
    assertThat(hex(ops.get(1), 78)).isEqualTo(HexFormat.of().formatHex(GroupCodec.toBytes(b -> Conntrack.writeFlushReplySource(
        b, OFVersion.OF_15, 78, 4242, C.addressBytes(), 3868, 132))));
    assertThat(PushResult.Sent.of(ops)).as("flushes are not flow, group or meter mods").isEqualTo(PushResult.Sent.NONE);
  }

  private static String hex(SwitchOp op, long xid) {
    ByteBuf b = Unpooled.buffer();
    try {
      op.writer().write(b, xid);
      byte[] out = new byte[b.readableBytes()];
      b.readBytes(out);
      return HexFormat.of().formatHex(out);
    } finally {
      b.release();
    }
  }
}
