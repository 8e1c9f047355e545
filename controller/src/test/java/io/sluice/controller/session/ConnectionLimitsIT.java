package io.sluice.controller.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.nio.NioEventLoopGroup;
import io.sluice.controller.sync.SwitchManager;
import io.sluice.controller.testing.FakeSwitch;
import io.sluice.controller.testing.TestController;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Many connections cost a bounded number of threads; past --max-switches, or per address, they are refused. */
class ConnectionLimitsIT {
  private NioEventLoopGroup clients;
  private final List<FakeSwitch> fakes = new ArrayList<>();

  @BeforeEach
  void clients() {
    clients = new NioEventLoopGroup(1);
  }

  @AfterEach
  void close() {
    fakes.forEach(FakeSwitch::close);
    clients.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Test
  void threeHundredSwitchesWhoseDumpsNeverComeCostAFixedNumberOfThreads() throws Exception {
    int n = 300;
    SessionConfig cfg = new SessionConfig(Duration.ofSeconds(2), Duration.ofSeconds(30));
    SwitchManager.Options options = new SwitchManager.Options(4, Duration.ofMinutes(10));
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    try (TestController c = new TestController(0, cfg, OpenFlowServer.Limits.defaults().withConnections(1000, 1000),
        options, null, 1)) {
      clients.submit(() -> { }).sync(); // the fakes' one thread exists before the baseline
      int baseline = threads.getThreadCount();
      int peak = baseline;
      for (int i = 0; i < n; i++) {
        // answer echoes and barriers, never a dump: every reconcile waits for flows, groups and meters that never come
        fakes.add(FakeSwitch.connect(clients, c.port(), 0x5000 + i, FakeSwitch.Mode.NO_DUMPS));
        peak = Math.max(peak, threads.getThreadCount());
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (c.manager().connectedCount() < n && System.nanoTime() < deadline) {
        peak = Math.max(peak, threads.getThreadCount());
        Thread.sleep(10);
      }
      assertThat(c.manager().connectedCount()).as("switches through the handshake").isEqualTo(n);
      long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(2); // the reconciles start and block meanwhile
      while (System.nanoTime() < settle) {
        peak = Math.max(peak, threads.getThreadCount());
        Thread.sleep(10);
      }
      System.out.printf("%d connections: threads %d before, at most %d with them%n", n, baseline, peak);
      // 2 event loops + 4 sync + 4 dump readers + a few JDK/Netty helpers (timers, common pool), never one per switch
      assertThat(peak - baseline).as("threads added by %d connections", n).isLessThanOrEqualTo(24);
    }
  }

  @Test
  void switchesThatAnswerNothingAfterTheHandshakeTakeNoSyncThreadAndOthersAreServed() throws Exception {
    SessionConfig cfg = new SessionConfig(Duration.ofSeconds(2), Duration.ofSeconds(30));
    try (TestController c = new TestController(0, cfg, OpenFlowServer.Limits.defaults().withConnections(1000, 1000),
        new SwitchManager.Options(2, Duration.ofMinutes(10)), null, 1)) {
      for (int i = 0; i < 20; i++) {
        fakes.add(FakeSwitch.connect(clients, c.port(), 0x6000 + i, FakeSwitch.Mode.SILENT));
      }
      await(() -> c.manager().connectedCount() == 20, "20 silent switches through the handshake");
      fakes.add(FakeSwitch.connect(clients, c.port(), 0x6100, FakeSwitch.Mode.WELL_BEHAVED));
      c.awaitRealized(0x6100, Duration.ofSeconds(10)); // with 2 sync threads, not queued behind 20 silent switches
    }
  }

  @Test
  void connectionsPastTheLimitsAreRefusedAndLaterOnesGetIn() throws Exception {
    SessionConfig cfg = new SessionConfig(Duration.ofSeconds(1), Duration.ofSeconds(10));
    try (TestController c = new TestController(0, cfg, OpenFlowServer.Limits.defaults().withConnections(3, 2),
        SwitchManager.Options.defaults(), null, 1)) {
      FakeSwitch a1 = connect(c, 0xa1, "127.0.0.1");
      FakeSwitch a2 = connect(c, 0xa2, "127.0.0.1");
      await(() -> c.manager().connectedCount() == 2, "two switches from 127.0.0.1 connected");
      FakeSwitch a3 = connect(c, 0xa3, "127.0.0.1");
      await(() -> !a3.isOpen(), "a third connection from 127.0.0.1 closed");
      assertThat(c.server().refusedConnections()).isEqualTo(1);

      FakeSwitch b1 = connect(c, 0xb1, "127.0.0.2");
      await(() -> c.manager().connectedCount() == 3, "a switch from another address connected");
      FakeSwitch b2 = connect(c, 0xb2, "127.0.0.2");
      await(() -> !b2.isOpen(), "a fourth connection in all closed");
      assertThat(c.server().refusedConnections()).isEqualTo(2);
      assertThat(a1.isOpen() && a2.isOpen() && b1.isOpen()).as("the admitted ones stay").isTrue();
      assertThat(c.status(0xa3)).as("a refused peer never becomes a switch").isNull();
      assertThat(c.status(0xb2)).isNull();

      a1.close();
      await(() -> c.server().connections().size() == 2, "a slot freed");
      connect(c, 0xb3, "127.0.0.2");
      await(() -> c.manager().connectedCount() == 3, "a later connection got the freed slot");
      assertThat(c.server().refusedConnections()).isEqualTo(2);
    }
  }

  private FakeSwitch connect(TestController c, long dpid, String from) {
    FakeSwitch f = FakeSwitch.connect(clients, c.port(), dpid, FakeSwitch.Mode.WELL_BEHAVED, from, 0);
    fakes.add(f);
    return f;
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(condition.getAsBoolean()).as(what).isTrue();
  }
}
