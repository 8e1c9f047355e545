package io.sluice.controller.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzzes the OpenFlow frame decoder and the switch session (in an {@link EmbeddedChannel}, no socket) with what a
 * broken or hostile switch could send, seeded from what a real Open vSwitch 3.1 sent a controller
 * ({@code openflow/ovs-3.1-of13-switch.bin}, made by {@code openflow/capture.py}). Specified behaviour: no exception
 * ever escapes the pipeline; after the handshake, frames with a well-formed header (whatever their type and body)
 * never close the connection (one that cannot be decoded is counted); a header whose length is below 8 closes it,
 * as the stream cannot be cut any further; any byte stream leaves the session either open or closed, never stuck
 * in between with an exception.
 */
class OpenFlowFuzzTest {
  /** The real switch's frames, in the order it sent them. */
  private static final List<byte[]> CAPTURED = captured();

  private static List<byte[]> captured() {
    try (InputStream in = OpenFlowFuzzTest.class.getResourceAsStream("/openflow/ovs-3.1-of13-switch.bin")) {
      byte[] all = in.readAllBytes();
      List<byte[]> out = new ArrayList<>();
      for (int i = 0; i + 8 <= all.length; ) {
        int len = ((all[i + 2] & 0xff) << 8) | (all[i + 3] & 0xff);
        out.add(java.util.Arrays.copyOfRange(all, i, i + len));
        i += len;
      }
      return out;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] capturedOfType(int type) {
    return CAPTURED.stream().filter(f -> (f[1] & 0xff) == type).findFirst().orElseThrow().clone();
  }

  private final List<String> failures = new ArrayList<>();
  private final SessionMetrics metrics = new SessionMetrics() {
    @Override
    public void decodeFailure(int version, int type) {
      failures.add(version + "/" + type);
    }
  };

  private EmbeddedChannel channel() {
    return new EmbeddedChannel(new OfFrameDecoder(), new OfMessageEncoder(),
        new SwitchSession(new SessionConfig(Duration.ofSeconds(1), Duration.ofSeconds(10)), new SessionListener() {
          @Override
          public void active(SwitchSession s) { }

          @Override
          public void closed(SwitchSession s, String reason) { }
        },
            metrics));
  }

  /** The xid of the next message Sluice sent, releasing the rest of what it sent. */
  private static int lastXid(EmbeddedChannel ch) {
    int xid = -1;
    for (Object o; (o = ch.readOutbound()) != null; ) {
      ByteBuf b = (ByteBuf) o;
      xid = b.getInt(b.readerIndex() + 4);
      b.release();
    }
    return xid;
  }

  private static ByteBuf withXid(byte[] frame, int xid) {
    ByteBuf b = Unpooled.wrappedBuffer(frame.clone());
    b.setInt(4, xid);
    return b;
  }

  /** The handshake as the real switch answered it: HELLO, FEATURES_REPLY, PORT_DESC reply, an ERROR for the rest. */
  private EmbeddedChannel active() {
    EmbeddedChannel ch = channel();
    lastXid(ch);
    ch.writeInbound(Unpooled.wrappedBuffer(capturedOfType(0)));
    ch.writeInbound(withXid(capturedOfType(6), lastXid(ch)));
    byte[] portDesc = CAPTURED.stream().filter(f -> f[1] == 19 && f[8] == 0 && f[9] == 13).findFirst().orElseThrow();
    ch.writeInbound(withXid(portDesc, lastXid(ch)));
    ch.writeInbound(withXid(capturedOfType(1), lastXid(ch))); // table features refused, as OVS may
    lastXid(ch);
    assertThat(ch.pipeline().get(SwitchSession.class).state()).isEqualTo(SwitchSession.State.ACTIVE);
    return ch;
  }

  /** A captured frame with some bytes after the header changed, or a random body; its header stays well-formed. */
  @Provide
  Arbitrary<List<byte[]>> wellFormedFrames() {
    return frame().list().ofMaxSize(30);
  }

  private static Arbitrary<byte[]> frame() {
    Arbitrary<byte[]> mutated = Combinators.combine(Arbitraries.of(CAPTURED),
        Arbitraries.integers().between(0, 2000).list().ofMaxSize(8), Arbitraries.bytes().list().ofMaxSize(8))
        .as((frame, positions, values) -> {
          byte[] f = frame.clone();
          for (int i = 0; i < Math.min(positions.size(), values.size()); i++) {
            if (f.length > 8) {
              f[8 + positions.get(i) % (f.length - 8)] = values.get(i);
            }
          }
          return f;
        });
    Arbitrary<byte[]> random = Combinators.combine(Arbitraries.integers().between(0, 40),
        Arbitraries.bytes().array(byte[].class).ofMaxSize(300)).as((type, body) -> {
          byte[] f = new byte[8 + body.length];
          f[0] = 4;
          f[1] = (byte) (int) type;
          f[2] = (byte) (f.length >> 8);
          f[3] = (byte) f.length;
          System.arraycopy(body, 0, f, 8, body.length);
          return f;
        });
    Arbitrary<byte[]> otherVersion = mutated.map(f -> {
      byte[] g = f.clone();
      g[0] = (byte) (g[0] ^ 0x07);
      return g;
    });
    return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(5, mutated), net.jqwik.api.Tuple.of(3, random),
        net.jqwik.api.Tuple.of(1, otherVersion));
  }

  @Property(tries = 300)
  void wellFormedFramesNeverCloseAnActiveSessionNorThrow(@ForAll("wellFormedFrames") List<byte[]> frames,
                                                         @ForAll boolean oneWrite) {
    EmbeddedChannel ch = active();
    try {
      if (oneWrite) { // all at once: the decoder cuts them
        ByteBuf all = Unpooled.buffer();
        frames.forEach(all::writeBytes);
        ch.writeInbound(all);
      } else {
        frames.forEach(f -> ch.writeInbound(Unpooled.wrappedBuffer(f)));
      }
      ch.runPendingTasks();
      ch.checkException();
      assertThat(ch.isOpen()).as("frames with well-formed headers keep the connection").isTrue();
      assertThat(ch.pipeline().get(SwitchSession.class).state()).isEqualTo(SwitchSession.State.ACTIVE);
    } finally {
      ch.finishAndReleaseAll();
    }
  }

  @Property(tries = 300, shrinking = net.jqwik.api.ShrinkingMode.OFF) // shrinking byte[] lists fails inside jqwik
  void anyByteStreamLeavesTheSessionOpenOrClosedWithoutAnException(
      @ForAll("wellFormedFrames") List<byte[]> frames, @ForAll("cuts") List<Integer> cuts,
      @ForAll("noise") byte[] noise, @ForAll boolean handshakeFirst) {
    EmbeddedChannel ch = handshakeFirst ? active() : channel();
    try {
      ByteBuf all = Unpooled.buffer();
      frames.forEach(all::writeBytes);
      all.writeBytes(noise);
      byte[] stream = new byte[all.readableBytes()];
      all.readBytes(stream);
      all.release();
      int at = 0;
      for (int cut : cuts) { // delivered in random pieces, until the session closes the connection
        if (!ch.isOpen()) {
          break;
        }
        int end = Math.min(stream.length, at + cut);
        ch.writeInbound(Unpooled.wrappedBuffer(stream, at, end - at));
        at = end;
      }
      if (ch.isOpen() && at < stream.length) {
        ch.writeInbound(Unpooled.wrappedBuffer(stream, at, stream.length - at));
      }
      ch.runPendingTasks();
      ch.checkException();
      SwitchSession.State state = ch.pipeline().get(SwitchSession.class) == null ? SwitchSession.State.CLOSED
          : ch.pipeline().get(SwitchSession.class).state();
      assertThat(ch.isOpen() || state == SwitchSession.State.CLOSED).as("closed channel, closed session").isTrue();
    } finally {
      ch.finishAndReleaseAll();
    }
  }

  @Provide
  Arbitrary<List<Integer>> cuts() {
    return Arbitraries.integers().between(0, 4000).list().ofMaxSize(20);
  }

  @Provide
  Arbitrary<byte[]> noise() {
    return Arbitraries.bytes().array(byte[].class).ofMaxSize(200);
  }

  @Property(tries = 50)
  void aHeaderShorterThanItselfClosesTheConnection(@ForAll @net.jqwik.api.constraints.IntRange(max = 7) int length) {
    EmbeddedChannel ch = active();
    try {
      byte[] f = capturedOfType(3);
      f[2] = 0;
      f[3] = (byte) length;
      ch.writeInbound(Unpooled.wrappedBuffer(f));
      ch.runPendingTasks();
      ch.checkException();
      assertThat(ch.isOpen()).isFalse();
    } finally {
      ch.finishAndReleaseAll();
    }
  }
}
