package io.sluice.controller.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.sluice.controller.session.SessionConfig;
import io.sluice.controller.session.SessionListener;
import io.sluice.controller.session.SessionMetrics;
import io.sluice.controller.session.SwitchSession;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.projectfloodlight.openflow.protocol.OFFactories;
import org.projectfloodlight.openflow.protocol.OFFactory;
import org.projectfloodlight.openflow.protocol.OFMessage;
import org.projectfloodlight.openflow.protocol.OFVersion;
import org.projectfloodlight.openflow.types.DatapathId;

/**
 * An OpenFlow 1.3 switch without the ONF bundle extension (OVS has it, so this peer is simulated): the bundle open
 * is refused, which Sluice reads as "no bundles", and the same change then goes out as ordered flow-mods and a
 * barrier, reported as non-atomic.
 */
class BundleFallbackTest {
  private static final int OFPT_FLOW_MOD = 14;

  private static EmbeddedChannel activeOf13Switch() {
    SessionListener quiet = new SessionListener() {
      @Override
      public void active(SwitchSession s) { }

      @Override
      public void closed(SwitchSession s, String reason) { }
    };
    EmbeddedChannel ch = new EmbeddedChannel(new io.netty.channel.ChannelInitializer<io.netty.channel.Channel>() {
      @Override
      protected void initChannel(io.netty.channel.Channel c) throws Exception {
        // the session's own pipeline pieces are package-private: frames are already whole here
        c.pipeline().addLast(new io.netty.handler.codec.MessageToByteEncoder<OFMessage>() {
          @Override
          protected void encode(io.netty.channel.ChannelHandlerContext ctx, OFMessage msg, ByteBuf out) {
            msg.writeTo(out);
          }
        });
        c.pipeline().addLast(new SwitchSession(new SessionConfig(Duration.ofSeconds(5), Duration.ofSeconds(10)), quiet,
            SessionMetrics.NONE));
      }
    });
    drain(ch);
    OFFactory f = OFFactories.getFactory(OFVersion.OF_13);
    ch.writeInbound(hello());
    long features = xidOf(drain(ch).get(0));
    ch.writeInbound(bytes(f.buildFeaturesReply().setXid(features).setDatapathId(DatapathId.of(9)).setNBuffers(0)
        .setNTables((short) 254).build()));
    long ports = xidOf(drain(ch).get(0));
    ch.writeInbound(bytes(f.buildPortDescStatsReply().setXid(ports).setEntries(List.of()).build()));
    long tables = xidOf(drain(ch).get(0));
    ch.writeInbound(bytes(f.errorMsgs().buildBadRequestErrorMsg().setXid(tables)
        .setCode(org.projectfloodlight.openflow.protocol.OFBadRequestCode.BAD_TYPE).build()));
    return ch;
  }

  private static ByteBuf hello() {
    return Unpooled.buffer().writeByte(4).writeByte(0).writeShort(8).writeInt(1);
  }

  private static ByteBuf bytes(OFMessage m) {
    ByteBuf b = Unpooled.buffer();
    m.writeTo(b);
    return b;
  }

  private static long xidOf(ByteBuf frame) {
    return frame.getUnsignedInt(frame.readerIndex() + 4);
  }

  /** Everything written to the switch, cut into messages. */
  private static List<ByteBuf> drain(EmbeddedChannel ch) {
    ch.runPendingTasks();
    List<ByteBuf> out = new ArrayList<>();
    for (Object o; (o = ch.readOutbound()) != null; ) {
      ByteBuf b = (ByteBuf) o;
      while (b.readableBytes() >= 8) {
        int len = b.getUnsignedShort(b.readerIndex() + 2);
        out.add(b.readRetainedSlice(len));
      }
      b.release();
    }
    return out;
  }

  private static List<SwitchOp> ops(int n) {
    List<SwitchOp> ops = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int k = i;
      ops.add(SwitchOp.flow(SwitchOp.Kind.ADD, "flow " + i, 0, (out, xid) -> OFFactories.getFactory(OFVersion.OF_13)
          .buildFlowAdd().setXid(xid).setPriority(100 + k).build().writeTo(out)));
    }
    return ops;
  }

  @Test
  void aRefusedOnfBundleOpenMeansNoBundlesAndOrderedFlowModsFollow() {
    EmbeddedChannel ch = activeOf13Switch();
    SwitchSession s = ch.pipeline().get(SwitchSession.class);
    BundleWriter writer = new BundleWriter(Duration.ofSeconds(10));

    CompletableFuture<PushResult> first = writer.push(s, ops(3), true);
    List<ByteBuf> sent = drain(ch);
    // ONF bundle open (experimenter 0x4f4e4600, type 2300), three bundle adds (2301), a barrier
    assertThat(sent).hasSize(5);
    assertThat(sent.get(0).getUnsignedByte(1)).isEqualTo((short) 4);
    assertThat(sent.get(0).getUnsignedInt(8)).isEqualTo(0x4f4e4600L);
    assertThat(sent.get(0).getInt(12)).isEqualTo(2300);
    assertThat(sent.get(4).getUnsignedByte(1)).isEqualTo((short) 20);
    // this switch knows no such experimenter: it refuses every ONF message, then answers the barrier
    OFFactory f = OFFactories.getFactory(OFVersion.OF_13);
    for (int i = 0; i < 4; i++) {
      ch.writeInbound(bytes(f.errorMsgs().buildBadRequestErrorMsg().setXid(xidOf(sent.get(i)))
          .setCode(org.projectfloodlight.openflow.protocol.OFBadRequestCode.BAD_EXPERIMENTER).build()));
    }
    ch.writeInbound(bytes(f.buildBarrierReply().setXid(xidOf(sent.get(4))).build()));
    ch.runPendingTasks();
    // messages were refused: the bundle is discarded (control type 6), never committed, then a barrier
    List<ByteBuf> end = drain(ch);
    assertThat(end).hasSize(2);
    assertThat(end.get(0).getInt(12)).isEqualTo(2300);
    assertThat(end.get(0).getUnsignedShort(20)).as("DISCARD_REQUEST").isEqualTo(6);
    ch.writeInbound(bytes(f.errorMsgs().buildBadRequestErrorMsg().setXid(xidOf(end.get(0)))
        .setCode(org.projectfloodlight.openflow.protocol.OFBadRequestCode.BAD_EXPERIMENTER).build()));
    ch.writeInbound(bytes(f.buildBarrierReply().setXid(xidOf(end.get(1))).build()));
    ch.runPendingTasks();
    PushResult r = first.join();
    assertThat(r.applied()).isFalse();
    assertThat(BundleWriter.bundlesUnsupported(r)).as(r.failure()).isTrue();

    CompletableFuture<PushResult> second = writer.push(s, ops(3), false);
    List<ByteBuf> plain = drain(ch);
    assertThat(plain).extracting(b -> (int) b.getUnsignedByte(1)).containsExactly(OFPT_FLOW_MOD, OFPT_FLOW_MOD, OFPT_FLOW_MOD, 20);
    assertThat(plain.subList(0, 3)).extracting(b -> b.getUnsignedShort(30)).containsExactly(100, 101, 102); // in order
    ch.writeInbound(bytes(f.buildBarrierReply().setXid(xidOf(plain.get(3))).build()));
    ch.runPendingTasks();
    PushResult ok = second.join();
    assertThat(ok.applied()).isTrue();
    assertThat(ok.atomic()).as("reported as non-atomic").isFalse();
    assertThat(ok.flowMods()).isEqualTo(3);
    ch.finishAndReleaseAll();
  }
}
