package io.sluice.controller.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.projectfloodlight.openflow.protocol.OFEchoReply;
import org.projectfloodlight.openflow.protocol.OFErrorMsg;
import org.projectfloodlight.openflow.protocol.OFErrorType;
import org.projectfloodlight.openflow.protocol.OFFactories;
import org.projectfloodlight.openflow.protocol.OFFactory;
import org.projectfloodlight.openflow.protocol.OFFeaturesRequest;
import org.projectfloodlight.openflow.protocol.OFMessage;
import org.projectfloodlight.openflow.protocol.OFPortDesc;
import org.projectfloodlight.openflow.protocol.OFPortDescStatsRequest;
import org.projectfloodlight.openflow.protocol.OFTableFeaturesStatsRequest;
import org.projectfloodlight.openflow.protocol.OFVersion;
import org.projectfloodlight.openflow.protocol.errormsg.OFHelloFailedErrorMsg;
import org.projectfloodlight.openflow.types.DatapathId;
import org.projectfloodlight.openflow.types.MacAddress;
import org.projectfloodlight.openflow.types.OFPort;

class SwitchSessionTest {
  private final List<String> events = new ArrayList<>();
  private final List<String> decodeFailures = new ArrayList<>();
  private final SessionListener listener = new SessionListener() {
    @Override
    public void active(SwitchSession s) {
      events.add("active " + s.dpid() + " " + s.version());
    }

    @Override
    public void closed(SwitchSession s, String reason) {
      events.add("closed " + reason);
    }
  };
  private final SessionMetrics metrics = new SessionMetrics() {
    @Override
    public void decodeFailure(int version, int type) {
      decodeFailures.add(version + "/" + type);
    }
  };

  private EmbeddedChannel channel(Duration echo) {
    return new EmbeddedChannel(new OfFrameDecoder(), new OfMessageEncoder(),
        new SwitchSession(new SessionConfig(echo, Duration.ofSeconds(10)), listener, metrics));
  }

  private static ByteBuf bytes(OFMessage m) {
    ByteBuf b = Unpooled.buffer();
    m.writeTo(b);
    return b;
  }

  private static ByteBuf hello(int version, long bitmap) {
    ByteBuf b = Unpooled.buffer();
    if (bitmap == 0) {
      b.writeByte(version).writeByte(0).writeShort(8).writeInt(77);
    } else {
      b.writeByte(version).writeByte(0).writeShort(16).writeInt(77).writeShort(1).writeShort(8).writeInt((int) bitmap);
    }
    return b;
  }

  private static OFMessage read(EmbeddedChannel ch) {
    ByteBuf out = ch.readOutbound();
    assertThat(out).as("a message sent to the switch").isNotNull();
    try {
      return OFFactories.getGenericReader().readFrom(out);
    } catch (Exception e) {
      throw new AssertionError(e);
    } finally {
      out.release();
    }
  }

  /** Drives the handshake as OVS does and returns the channel in ACTIVE. */
  private EmbeddedChannel handshake(OFVersion v, long bitmap) {
    EmbeddedChannel ch = channel(Duration.ofSeconds(1));
    ByteBuf ourHello = ch.readOutbound();
    assertThat(SwitchSession.helloBitmap(ourHello)).isEqualTo(0b1110000L);
    ourHello.release();
    ch.writeInbound(hello(v.getWireVersion(), bitmap));
    OFFactory f = OFFactories.getFactory(v);
    OFMessage features = read(ch);
    assertThat(features).isInstanceOf(OFFeaturesRequest.class);
    assertThat(features.getVersion()).isEqualTo(v);
    ch.writeInbound(bytes(f.buildFeaturesReply().setXid(features.getXid()).setDatapathId(DatapathId.of(0xabcL))
        .setNBuffers(0).setNTables((short) 254).build()));
    OFMessage portDesc = read(ch);
    assertThat(portDesc).isInstanceOf(OFPortDescStatsRequest.class);
    OFPortDesc p1 = f.buildPortDesc().setPortNo(OFPort.of(1)).setName("veth-a").setHwAddr(MacAddress.of("aa:00:00:00:00:01")).build();
    ch.writeInbound(bytes(f.buildPortDescStatsReply().setXid(portDesc.getXid()).setEntries(List.of(p1)).build()));
    OFMessage tf = read(ch);
    assertThat(tf).isInstanceOf(OFTableFeaturesStatsRequest.class);
    ch.writeInbound(bytes(f.errorMsgs().buildBadRequestErrorMsg().setXid(tf.getXid())
        .setCode(org.projectfloodlight.openflow.protocol.OFBadRequestCode.BAD_TYPE).build()));
    return ch;
  }

  private static ByteBuf packetIn(OFFactory f) {
    return bytes(f.buildPacketIn().setReason(org.projectfloodlight.openflow.protocol.OFPacketInReason.ACTION)
        .setTableId(org.projectfloodlight.openflow.types.TableId.of(0)).setMatch(f.buildMatch().build())
        .setBufferId(org.projectfloodlight.openflow.types.OFBufferId.NO_BUFFER).setTotalLen(60).setData(new byte[60])
        .setCookie(org.projectfloodlight.openflow.types.U64.ZERO).build());
  }

  @Test
  void aReadOfPacketInsAloneDelaysTheNextReadAndOneWithOtherMessagesDoesNot() {
    EmbeddedChannel ch = handshake(OFVersion.OF_13, 0b0010000L);
    OFFactory f = OFFactories.getFactory(OFVersion.OF_13);
    ch.freezeTime();
    assertThat(ch.config().isAutoRead()).isTrue();

    ch.writeInbound(packetIn(f), packetIn(f)); // one read batch: PACKET_INs only
    assertThat(ch.config().isAutoRead()).as("reading waits after a batch of PACKET_INs alone").isFalse();
    ch.advanceTimeBy(SwitchSession.PACKET_IN_PACE_MILLIS - 1, java.util.concurrent.TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();
    assertThat(ch.config().isAutoRead()).as("not before the pace").isFalse();
    ch.advanceTimeBy(1, java.util.concurrent.TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();
    assertThat(ch.config().isAutoRead()).as("read again after the pace").isTrue();

    ch.writeInbound(packetIn(f), bytes(f.buildEchoRequest().setXid(9).build())); // a batch with something else
    assertThat(ch.config().isAutoRead()).as("a batch with other messages does not delay reading").isTrue();
    assertThat(read(ch)).isInstanceOf(OFEchoReply.class);
    ch.finishAndReleaseAll();
  }

  @Test
  void thePacingTimerDoesNotResumeReadingWhileWritesArePaused() {
    EmbeddedChannel ch = handshake(OFVersion.OF_13, 0b0010000L);
    OFFactory f = OFFactories.getFactory(OFVersion.OF_13);
    ch.freezeTime();
    ch.writeInbound(packetIn(f));
    assertThat(ch.config().isAutoRead()).isFalse();
    SwitchSession s = ch.pipeline().get(SwitchSession.class);
    // the peer stops taking what Sluice writes: past the high water mark meanwhile
    ch.config().setWriteBufferWaterMark(new io.netty.channel.WriteBufferWaterMark(1, 2));
    ch.unsafe().outboundBuffer().addMessage(Unpooled.buffer(64).writeZero(64), 64, ch.newPromise());
    assertThat(ch.isWritable()).isFalse();
    assertThat(s.readPaused()).isTrue();
    ch.advanceTimeBy(SwitchSession.PACKET_IN_PACE_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();
    assertThat(ch.config().isAutoRead()).as("still paused for the writes").isFalse();
    ch.finishAndReleaseAll();
  }

  @Test
  void handshakeNegotiatesTheHighestCommonVersionAndBecomesActive() {
    EmbeddedChannel ch = handshake(OFVersion.OF_14, 0b0110000L); // switch offers 1.3 and 1.4
    assertThat(events).containsExactly("active 00:00:00:00:00:00:0a:bc OF_14");
    SwitchSession s = ch.pipeline().get(SwitchSession.class);
    assertThat(s.state()).isEqualTo(SwitchSession.State.ACTIVE);
    assertThat(s.ports()).extracting(SwitchPort::name).containsExactly("veth-a");
    ch.finishAndReleaseAll();
  }

  @Test
  void helloWithoutBitmapUsesTheHeaderVersion() {
    EmbeddedChannel ch = handshake(OFVersion.OF_13, 0);
    assertThat(events).containsExactly("active 00:00:00:00:00:00:0a:bc OF_13");
    ch.finishAndReleaseAll();
  }

  @Test
  void aSwitchOfferingOnlyOpenFlow10IsRefusedWithHelloFailed() {
    EmbeddedChannel ch = channel(Duration.ofSeconds(1));
    ((ByteBuf) ch.readOutbound()).release();
    ch.writeInbound(hello(1, 0));
    OFMessage err = read(ch);
    assertThat(err).isInstanceOf(OFHelloFailedErrorMsg.class);
    assertThat(err.getVersion()).isEqualTo(OFVersion.OF_10);
    assertThat(((OFErrorMsg) err).getErrType()).isEqualTo(OFErrorType.HELLO_FAILED);
    ch.runPendingTasks();
    assertThat(ch.isOpen()).isFalse();
    assertThat(events).isEmpty();
  }

  @Test
  void anUndecodableMessageIsCountedAndTheConnectionStays() {
    EmbeddedChannel ch = handshake(OFVersion.OF_13, 0b0010000L);
    // an OF1.3 message (type 11, FLOW_REMOVED) OpenFlowJ cannot parse: a PACKET_IN-shaped body with NXM reg0 in a
    // match (PACKET_INs themselves now go to the listener raw)
    ByteBuf pin = Unpooled.buffer();
    pin.writeByte(4).writeByte(11).writeShort(0).writeInt(5);
    pin.writeInt(-1).writeShort(0).writeByte(0).writeByte(0).writeLong(0); // buffer, total_len, reason, table, cookie
    pin.writeShort(1).writeShort(4 + 8).writeInt(0x00010004).writeInt(7).writeInt(0); // match type OXM, reg0=7, pad
    pin.writeShort(0);
    pin.setShort(2, pin.writerIndex());
    // followed in the same TCP segment by an echo request that must still be answered
    OFFactory f = OFFactories.getFactory(OFVersion.OF_13);
    ByteBuf both = Unpooled.wrappedBuffer(pin, bytes(f.buildEchoRequest().setXid(99).setData(new byte[] {1, 2}).build()));
    ch.writeInbound(both);
    assertThat(decodeFailures).containsExactly("4/11");
    OFMessage reply = read(ch);
    assertThat(reply).isInstanceOf(OFEchoReply.class);
    assertThat(reply.getXid()).isEqualTo(99);
    assertThat(((OFEchoReply) reply).getData()).containsExactly(1, 2);
    assertThat(ch.isOpen()).isTrue();
    ch.finishAndReleaseAll();
  }

  @Test
  void aSwitchThatStopsAnsweringIsDeclaredGone() throws InterruptedException {
    EmbeddedChannel ch = channel(Duration.ofMillis(20));
    ((ByteBuf) ch.readOutbound()).release();
    ch.writeInbound(hello(6, 0b1110000L));
    Thread.sleep(80); // > 2.5 intervals of silence
    for (int i = 0; i < 5 && ch.isOpen(); i++) {
      ch.runScheduledPendingTasks();
      Thread.sleep(5);
    }
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void errorsRoutedByXidRangeNameTheOffendingMessage() {
    EmbeddedChannel ch = handshake(OFVersion.OF_14, 0b0100000L);
    SwitchSession s = ch.pipeline().get(SwitchSession.class);
    List<SwitchError> seen = new ArrayList<>();
    s.onErrors(1000, 1010, seen::add);
    OFFactory f = OFFactories.getFactory(OFVersion.OF_14);
    ch.writeInbound(bytes(f.errorMsgs().buildBadActionErrorMsg().setXid(1005)
        .setCode(org.projectfloodlight.openflow.protocol.OFBadActionCode.BAD_SET_LEN).build()));
    assertThat(seen).hasSize(1);
    assertThat(seen.get(0).xid()).isEqualTo(1005);
    assertThat(seen.get(0).description()).contains("BAD_ACTION").contains("BAD_SET_LEN");
    ch.finishAndReleaseAll();
  }

  @Test
  void acceptedVersionsAre13To15() {
    assertThat(SwitchSession.ACCEPTED).isEqualTo(Set.of(OFVersion.OF_13, OFVersion.OF_14, OFVersion.OF_15));
  }
}
