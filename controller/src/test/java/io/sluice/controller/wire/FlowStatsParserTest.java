package io.sluice.controller.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.sluice.controller.wire.GoldenFlows.Case;
import io.sluice.renderer.flow.Field;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.Match;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.projectfloodlight.openflow.protocol.OFVersion;

/** Pure byte tests of the flow-stats parser (the real-switch round trip is FlowStatsIT). */
class FlowStatsParserTest {

  /** One flow-stats entry laid out as the switch lays it out, from the encoder's match and instructions. */
  static void entry(ByteBuf out, Flow f, OFVersion v, long packets, long bytes, int durSec) {
    ByteBuf tail = Unpooled.buffer();
    MatchCodec.writeMatch(tail, f.match(), v);
    int matchEnd = tail.writerIndex();
    FlowEncoder.writeInstructions(tail, f.actions(), v);
    int start = out.writerIndex();
    out.writeShort(0);
    if (v == OFVersion.OF_15) {
      out.writeShort(0);
      out.writeByte(f.table());
      out.writeByte(0);
      out.writeShort(f.priority());
      out.writeShort(10).writeShort(20).writeShort(0).writeShort(0);
      out.writeLong(f.cookie().value());
      out.writeBytes(tail, 0, matchEnd);
      // ofp_stats with OXS duration, idle_time, flow_count, packet_count, byte_count (OVS's numbering)
      out.writeShort(0).writeShort(4 + 12 + 12 + 8 + 12 + 12);
      out.writeInt(0x80020008).writeInt(durSec).writeInt(5000000);
      out.writeInt(0x80020208).writeInt(3).writeInt(0);
      out.writeInt(0x80020604).writeInt(1);
      out.writeInt(0x80020808).writeLong(packets);
      out.writeInt(0x80020a08).writeLong(bytes);
      out.writeZero(4);
      out.writeBytes(tail, matchEnd, tail.writerIndex() - matchEnd);
    } else {
      out.writeByte(f.table()).writeByte(0);
      out.writeInt(durSec).writeInt(5000000);
      out.writeShort(f.priority()).writeShort(10).writeShort(20).writeShort(0).writeInt(0);
      out.writeLong(f.cookie().value()).writeLong(packets).writeLong(bytes);
      out.writeBytes(tail);
    }
    out.setShort(start, out.writerIndex() - start);
  }

  static byte[] bytes(ByteBuf b) {
    byte[] a = new byte[b.readableBytes()];
    b.getBytes(b.readerIndex(), a);
    return a;
  }

  @ParameterizedTest
  @EnumSource(value = OFVersion.class, names = {"OF_13", "OF_14", "OF_15"})
  void everyGoldenFlowRoundTrips(OFVersion v) {
    List<Case> cases = GoldenFlows.all();
    ByteBuf body = Unpooled.buffer();
    for (int i = 0; i < cases.size(); i++) {
      entry(body, cases.get(i).flow(), v, 1000L + i, 64000L + i, i);
    }
    FlowStatsParser.Result r = FlowStatsParser.parseBody(v, body);
    assertThat(r.skipped()).isZero();
    assertThat(r.entries()).hasSize(cases.size());
    for (int i = 0; i < cases.size(); i++) {
      Flow f = cases.get(i).flow();
      FlowStatsParser.Entry e = r.entries().get(i);
      assertThat(e.wireFlow()).as(cases.get(i).name()).isEqualTo(FlowEncoder.wireFlow(f, v));
      assertThat(e.match()).as(cases.get(i).name()).isEqualTo(f.match());
      assertThat(e.packetCount()).isEqualTo(1000L + i);
      assertThat(e.byteCount()).isEqualTo(64000L + i);
      assertThat(e.durationSec()).isEqualTo(i);
      assertThat(e.durationNsec()).isEqualTo(5000000);
      assertThat(e.durationMillis()).isEqualTo(i * 1000L + 5);
      assertThat(e.idleTimeout()).isEqualTo(10);
      assertThat(e.hardTimeout()).isEqualTo(20);
      assertThat(e.idleSec()).isEqualTo(v == OFVersion.OF_15 ? 3 : -1);
    }
  }

  @Test
  void matchKeyIsOrderIndependent() {
    Flow f = GoldenFlows.all().stream().filter(c -> c.name().equals("match tcp")).findFirst().orElseThrow().flow();
    ByteBuf tlvs = Unpooled.buffer();
    MatchCodec.writeTlvs(tlvs, f.match(), OFVersion.OF_13);
    byte[] a = bytes(tlvs);
    // reverse the TLV order
    java.util.List<byte[]> parts = new java.util.ArrayList<>();
    for (int p = 0; p < a.length; ) {
      int len = 4 + (a[p + 3] & 0xff);
      parts.add(java.util.Arrays.copyOfRange(a, p, p + len));
      p += len;
    }
    ByteBuf rev = Unpooled.buffer();
    for (int i = parts.size() - 1; i >= 0; i--) {
      rev.writeBytes(parts.get(i));
    }
    byte[] r = bytes(rev);
    assertThat(r).isNotEqualTo(a);
    assertThat(MatchCodec.canonicalKey(r, 0, r.length)).isEqualTo(MatchCodec.canonicalKey(a, 0, a.length));
    assertThat(FlowStatsParser.decodeMatch(r, OFVersion.OF_13)).isEqualTo(f.match());
  }

  @Test
  void entriesWithUnknownContentAreSkippedAndCounted() {
    OFVersion v = OFVersion.OF_13;
    Flow good = GoldenFlows.all().get(0).flow();
    ByteBuf body = Unpooled.buffer();
    entry(body, good, v, 1, 2, 3);
    // 1: an OF1.0-style standard match (type 0): skipped
    int s1 = body.writerIndex();
    entry(body, good, v, 1, 2, 3);
    body.setShort(s1 + 48, 0);
    // 2: a match TLV whose length runs past the match: skipped
    int s2 = body.writerIndex();
    entry(body, GoldenFlows.all().get(2).flow(), v, 1, 2, 3);
    body.setByte(s2 + 48 + 4 + 3, 0x7f);
    // 3: an instruction whose length runs past the entry: skipped
    int s3 = body.writerIndex();
    entry(body, good, v, 1, 2, 3);
    int mlen = body.getUnsignedShort(s3 + 50);
    body.setShort(s3 + 48 + ((mlen + 7) & ~7) + 2, 0x800);
    // 4: an entry too short for its fixed part: skipped
    body.writeShort(16).writeZero(14);
    // 5: a field the renderer does not know (tun_id) and a Nicira action it does not know (learn, subtype 16):
    //    kept, identified by its WireFlow, no decoded match
    int s5 = body.writerIndex();
    body.writeShort(0).writeByte(7).writeByte(0).writeInt(1).writeInt(0).writeShort(9).writeZero(10);
    body.writeLong(0x5c01000000000009L).writeLong(5).writeLong(6);
    body.writeShort(1).writeShort(4 + 12).writeInt(0x80004c08).writeLong(0x1234);
    body.writeShort(4).writeShort(8 + 32).writeInt(0);
    body.writeShort(0xffff).writeShort(32).writeInt(0x2320).writeShort(16).writeZero(22);
    body.setShort(s5, body.writerIndex() - s5);
    // and a good one after all that
    entry(body, GoldenFlows.all().get(1).flow(), v, 7, 8, 9);

    FlowStatsParser.Result r = FlowStatsParser.parseBody(v, body);
    assertThat(r.skipped()).isEqualTo(4);
    assertThat(r.entries()).hasSize(3);
    assertThat(r.entries().get(0).wireFlow()).isEqualTo(FlowEncoder.wireFlow(good, v));
    FlowStatsParser.Entry unknown = r.entries().get(1);
    assertThat(unknown.match()).isNull();
    assertThat(unknown.table()).isEqualTo(7);
    assertThat(unknown.priority()).isEqualTo(9);
    assertThat(unknown.packetCount()).isEqualTo(5);
    assertThat(unknown.wireFlow().matchKey().hex()).isEqualTo("80004c080000000000001234");
    assertThat(unknown.wireFlow().instructions().length()).isEqualTo(40);
    assertThat(r.entries().get(2).wireFlow()).isEqualTo(FlowEncoder.wireFlow(GoldenFlows.all().get(1).flow(), v));
    assertThatThrownBy(() -> FlowStatsParser.decodeMatch(unknown.matchTlvs().toArray(), v))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown match field 0x80004c08");
  }

  @Test
  void truncatedBodyThrows() {
    OFVersion v = OFVersion.OF_15;
    ByteBuf body = Unpooled.buffer();
    entry(body, GoldenFlows.all().get(0).flow(), v, 1, 2, 3);
    entry(body, GoldenFlows.all().get(1).flow(), v, 1, 2, 3);
    byte[] all = bytes(body);
    assertThat(FlowStatsParser.parseBody(v, all, 0, all.length).entries()).hasSize(2);
    assertThatThrownBy(() -> FlowStatsParser.parseBody(v, all, 0, all.length - 8))
        .isInstanceOf(FlowStatsParser.MalformedStatsException.class)
        .hasMessageContaining("truncated");
    assertThatThrownBy(() -> FlowStatsParser.parseBody(v, all, 0, all.length - 1))
        .isInstanceOf(FlowStatsParser.MalformedStatsException.class);
    // a whole reply message whose header claims more than is there
    ByteBuf msg = Unpooled.buffer();
    msg.writeByte(6).writeByte(19).writeShort(16 + all.length).writeInt(1).writeShort(1).writeShort(0).writeInt(0);
    msg.writeBytes(all, 0, all.length - 8);
    assertThatThrownBy(() -> FlowStatsParser.parseReply(msg)).isInstanceOf(FlowStatsParser.MalformedStatsException.class)
        .hasMessageContaining("truncated");
    // a zero entry length cannot be skipped over
    assertThatThrownBy(() -> FlowStatsParser.parseBody(v, new byte[8], 0, 8))
        .isInstanceOf(FlowStatsParser.MalformedStatsException.class);
  }

  @Test
  void replyHeaderAndMoreFlag() {
    ByteBuf body = Unpooled.buffer();
    entry(body, GoldenFlows.all().get(0).flow(), OFVersion.OF_14, 1, 2, 3);
    byte[] all = bytes(body);
    ByteBuf msg = Unpooled.buffer();
    msg.writeByte(5).writeByte(19).writeShort(16 + all.length).writeInt(1).writeShort(1).writeShort(1).writeInt(0);
    msg.writeBytes(all);
    FlowStatsParser.Result r = FlowStatsParser.parseReplies(List.of(msg));
    assertThat(r.more()).isTrue();
    assertThat(r.entries()).hasSize(1);
    assertThat(msg.readerIndex()).isZero();
  }

  @Test
  void xregHalvesDecodeToSeparateRegisters() {
    Match m = Match.builder().masked(Field.REG2, 0x10, 0xf0).exact(Field.REG3, 9).build();
    ByteBuf b = Unpooled.buffer();
    MatchCodec.writeTlvs(b, m, OFVersion.OF_15);
    assertThat(OfctlCapture.hex(bytes(b))).isEqualTo("80010310" + "0000001000000009" + "000000f0ffffffff");
    assertThat(FlowStatsParser.decodeMatch(bytes(b), OFVersion.OF_15)).isEqualTo(m);
  }
}
