package io.sluice.controller.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.nio.NioEventLoopGroup;
import io.sluice.controller.sync.SwitchManager;
import io.sluice.controller.testing.FakeSwitch;
import io.sluice.controller.testing.TestController;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A peer that floods echo requests and never reads the replies: Sluice stops reading from it once its unwritten
 * replies pass the high water mark (so they stay bounded) and closes it when it takes nothing for the write-stall
 * timeout, while a well-behaved switch on the same event loops keeps answering.
 */
class WriteBackpressureIT {
  private static final long GOOD = 0xb00d;
  /** High water mark (2 MiB by default) plus what one read batch can add before reading stops, with margin. */
  private static final long BOUND = 6L << 20;
  /** Size of the echo requests of the paused-peer test. */
  private static final int ECHO = 1024;

  @Test
  void aPeerThatNeverReadsIsPausedBoundedAndClosedWhileAnotherKeepsWorking() throws Exception {
    SessionConfig cfg = new SessionConfig(Duration.ofSeconds(2), Duration.ofSeconds(30), Duration.ofSeconds(2),
        SessionConfig.DEFAULT_REPLY_MAX_BYTES, SessionConfig.DEFAULT_REPLY_TIMEOUT);
    NioEventLoopGroup clients = new NioEventLoopGroup(1);
    try (TestController c = new TestController(0, cfg, OpenFlowServer.Limits.defaults(), SwitchManager.Options.defaults(),
        null, 1);
         FakeSwitch good = FakeSwitch.connect(clients, c.port(), GOOD, FakeSwitch.Mode.WELL_BEHAVED);
         SocketChannel flood = SocketChannel.open()) {
      c.awaitRealized(GOOD, Duration.ofSeconds(15));

      flood.setOption(StandardSocketOptions.SO_RCVBUF, 4096);
      flood.connect(new InetSocketAddress("127.0.0.1", c.port()));
      flood.configureBlocking(false);
      int floodPort = ((InetSocketAddress) flood.getLocalAddress()).getPort();
      ByteBuffer hello = ByteBuffer.allocate(8).put((byte) 4).put((byte) 0).putShort((short) 8).putInt(1).flip();
      while (hello.hasRemaining()) {
        flood.write(hello);
      }
      ByteBuffer echoes = ByteBuffer.allocate(64 * 1024);
      while (echoes.hasRemaining()) {
        echoes.put((byte) 4).put((byte) 2).putShort((short) 8).putInt(7);
      }
      echoes.flip();

      long start = System.nanoTime();
      long deadline = start + TimeUnit.SECONDS.toNanos(20);
      long maxPending = 0;
      long sent = 0;
      boolean seen = false;
      boolean paused = false;
      boolean closed = false;
      long nextSample = 0;
      while (System.nanoTime() < deadline && !closed && maxPending <= 16 * BOUND) {
        int n;
        try {
          n = flood.write(echoes);
        } catch (IOException e) {
          n = -1; // Sluice closed it; the sample below confirms
        }
        if (n > 0) {
          sent += n;
        }
        if (!echoes.hasRemaining()) {
          echoes.rewind();
        }
        if (n <= 0 || System.nanoTime() >= nextSample) {
          nextSample = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(5);
          var conn = c.server().connections().stream().filter(x -> x.remote().getPort() == floodPort).findFirst();
          if (conn.isPresent()) {
            seen = true;
            maxPending = Math.max(maxPending, conn.get().pendingOutboundBytes());
            paused |= conn.get().readPaused();
          } else if (seen) {
            closed = true;
          }
          if (n <= 0) {
            Thread.sleep(1);
          }
        }
      }
      long elapsedMs = (System.nanoTime() - start) / 1_000_000;
      System.out.printf("echo flood: %d bytes of requests sent, at most %d bytes of replies unwritten, closed=%s after %d ms%n",
          sent, maxPending, closed, elapsedMs);
      assertThat(seen).as("the flooding peer was accepted").isTrue();
      assertThat(maxPending).as("unwritten replies to the peer that never reads").isLessThanOrEqualTo(BOUND);
      assertThat(paused).as("reading from it was paused").isTrue();
      assertThat(closed).as("the peer that never reads was closed within 20 s").isTrue();

      // the well-behaved switch was served all along and still is
      assertThat(good.isOpen()).isTrue();
      SwitchSession s = c.manager().session(GOOD);
      assertThat(s).isNotNull();
      assertThat(s.isActive()).isTrue();
      s.barrier().get(2, TimeUnit.SECONDS);
      c.setFlows(GOOD, java.util.List.of());
      c.awaitRealized(GOOD, Duration.ofSeconds(5));
    } finally {
      clients.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  /**
   * A switch may itself stop reading until its replies to us are taken (OVS does, with 100 replies unsent): while
   * paused Sluice still reads a batch per tick, answering nothing, so such a peer is not deadlocked until the stall
   * timeout. Here the peer fills Sluice's outbound buffer, then answers the FEATURES_REQUEST it never read: Sluice
   * reads its way to that answer while paused (the connection is named by the datapath id), and the unwritten bytes
   * stay bounded meanwhile.
   *
   * <p>Sluice's write bounds are small here (a 16 KiB kernel send buffer, water marks 8 and 16 KiB), so the pause comes
   * after about 100 KB of echo requests. With the defaults it took 2 MB, which inside the whole suite twice stalled
   * for over a minute in the loopback TCP between two sockets with tiny buffers, one of which never reads: the peer's
   * buffers are moderate (32 and 64 KiB) for that reason too. The echo interval (liveness bound 2.5 intervals) and handshake
   * timeout outlast the flood's deadline, so a close by Sluice cannot end the flood unnoticed.
   */
  @Test
  void whilePausedSluiceStillReadsWhatThePeerSendsWithoutWritingMore() throws Exception {
    SessionConfig cfg = new SessionConfig(Duration.ofSeconds(60), Duration.ofSeconds(180), Duration.ofSeconds(100),
        SessionConfig.DEFAULT_REPLY_MAX_BYTES, SessionConfig.DEFAULT_REPLY_TIMEOUT);
    int highWaterMark = 16 << 10;
    OpenFlowServer.Limits limits = OpenFlowServer.Limits.defaults().withWriteBuffers(16 << 10, 8 << 10, highWaterMark);
    // what one read batch can add past the high water mark before reading stops (16 reads of 64 KiB, answered by
    // echo replies of the same size plus Netty's 96 bytes per message)
    long bound = highWaterMark + 16 * (64 << 10) / ECHO * (ECHO + 96);
    try (TestController c = new TestController(0, cfg, limits, SwitchManager.Options.defaults(), null, 1);
         SocketChannel peer = SocketChannel.open()) {
      peer.setOption(StandardSocketOptions.SO_RCVBUF, 32 << 10);
      // what the peer has queued when Sluice pauses is what Sluice must read, one batch per tick, before the features
      // reply: Sluice's receive buffer is fixed (256 KiB), and a moderate send buffer here keeps the rest small too
      peer.setOption(StandardSocketOptions.SO_SNDBUF, 64 << 10);
      peer.connect(new InetSocketAddress("127.0.0.1", c.port()));
      peer.configureBlocking(false);
      int port = ((InetSocketAddress) peer.getLocalAddress()).getPort();
      java.util.function.Supplier<java.util.Optional<OpenFlowServer.Connection>> conn =
          () -> c.server().connections().stream().filter(x -> x.remote().getPort() == port).findFirst();
      ByteBuffer hello = ByteBuffer.allocate(8).put((byte) 4).put((byte) 0).putShort((short) 8).putInt(1).flip();
      writeAll(peer, hello);
      // echo requests of 1 KiB each: Netty counts 96 bytes per message on top of its size, and with 8-byte ones its
      // count (what the water marks compare) would be 13 times the bytes the kernel must take to resume reading
      ByteBuffer echoes = ByteBuffer.allocate(64 * 1024);
      while (echoes.hasRemaining()) {
        echoes.put((byte) 4).put((byte) 2).putShort((short) ECHO).putInt(7).put(new byte[ECHO - 8]);
      }
      echoes.flip();
      long t0 = System.nanoTime();
      long deadline = t0 + TimeUnit.SECONDS.toNanos(120);
      long floodBytes = 0;
      long mostPending = 0;
      long lastSeenMs = -1;
      long pausedSince = 0;
      boolean paused = false;
      // until it has stayed paused for a second: while the kernel still compacts the peer's receive queue, its window
      // reopens, Sluice's backlog may drain below the low water mark and reading resumes
      while (!(paused && System.nanoTime() - pausedSince > TimeUnit.SECONDS.toNanos(1))
          && System.nanoTime() < deadline) {
        int n = peer.write(echoes);
        floodBytes += n;
        if (n == 0) {
          Thread.sleep(1);
        }
        if (!echoes.hasRemaining()) {
          echoes.rewind();
        }
        var x = conn.get();
        if (x.isPresent()) {
          lastSeenMs = (System.nanoTime() - t0) / 1_000_000;
          mostPending = Math.max(mostPending, x.get().pendingOutboundBytes());
          boolean now = x.get().readPaused();
          if (now && !paused) {
            pausedSince = System.nanoTime();
          }
          paused = now;
        }
      }
      String progress = String.format("after %d ms: %d bytes of echo requests sent, at most %d bytes of replies "
              + "unwritten, the connection last seen at %d ms", (System.nanoTime() - t0) / 1_000_000, floodBytes,
          mostPending, lastSeenMs);
      System.out.println("paused peer: reading paused " + progress);
      assertThat(conn.get()).as("the peer is connected " + progress).isPresent();
      assertThat(conn.get().get().readPaused()).as("reading from it paused " + progress).isTrue();
      assertThat(mostPending).as("unwritten bytes before the pause " + progress).isLessThanOrEqualTo(bound);
      // a write may have stopped inside an echo request: finish it, so the features reply starts a message
      echoes.limit((echoes.position() + ECHO - 1) / ECHO * ECHO);
      writeAll(peer, echoes);
      assertThat(echoes.hasRemaining()).as("the last echo request finished").isFalse();

      long dpid = 0xfeed;
      ByteBuffer features = ByteBuffer.allocate(32).put((byte) 4).put((byte) 6).putShort((short) 32).putInt(2)
          .putLong(dpid).putInt(0).put((byte) 254).put((byte) 0).putShort((short) 0).putInt(0).putInt(0).flip();
      String name = org.projectfloodlight.openflow.types.DatapathId.of(dpid).toString();
      long maxPending = 0;
      boolean resumed = false;
      var x = conn.get();
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (System.nanoTime() < deadline) {
        if (features.hasRemaining()) {
          peer.write(features);
        }
        x = conn.get();
        if (x.isEmpty()) {
          break;
        }
        resumed |= !x.get().readPaused();
        maxPending = Math.max(maxPending, x.get().pendingOutboundBytes());
        if (x.get().name().equals(name)) {
          break;
        }
        Thread.sleep(5);
      }
      System.out.printf("paused peer: features reply read, paused throughout=%s, at most %d bytes unwritten%n",
          !resumed, maxPending);
      assertThat(x).as("the connection stays open (stall timeout 100 s)").isPresent();
      assertThat(x.get().name()).as("Sluice read up to the features reply").isEqualTo(name);
      assertThat(resumed).as("reading stayed paused until then (the peer took nothing)").isFalse();
      assertThat(maxPending).as("unwritten bytes while it read").isLessThanOrEqualTo(bound);
    }
  }

  private static void writeAll(SocketChannel ch, ByteBuffer b) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (b.hasRemaining() && System.nanoTime() < deadline) {
      if (ch.write(b) == 0) {
        Thread.sleep(1);
      }
    }
  }
}
