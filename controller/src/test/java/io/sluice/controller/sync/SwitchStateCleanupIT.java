package io.sluice.controller.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.nio.NioEventLoopGroup;
import io.sluice.controller.session.OpenFlowServer;
import io.sluice.controller.session.SessionConfig;
import io.sluice.controller.testing.FakeSwitch;
import io.sluice.controller.testing.TestController;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Switches that come and go leave nothing behind: once each is gone, its metric series go with it, and once it has
 * been away for the forget period, so do its status and what Sluice knew it held.
 */
class SwitchStateCleanupIT {

  @Test
  void shortLivedDatapathIdsLeaveNoMetricSeriesOrSwitchStateBehind() throws Exception {
    SessionConfig cfg = new SessionConfig(Duration.ofMillis(100), Duration.ofSeconds(10));
    NioEventLoopGroup clients = new NioEventLoopGroup(1);
    try (TestController c = new TestController(0, cfg, OpenFlowServer.Limits.defaults(),
        new SwitchManager.Options(4, Duration.ZERO), null, 1)) {
      int baseline = series(c);
      int perSwitch = 0;
      for (int round = 0; round < 4; round++) {
        List<FakeSwitch> fakes = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
          fakes.add(FakeSwitch.connect(clients, c.port(), 0x7000 + round * 100 + i, FakeSwitch.Mode.WELL_BEHAVED));
        }
        for (int i = 0; i < 10; i++) {
          long dpid = 0x7000 + round * 100 + i;
          c.awaitRealized(dpid, Duration.ofSeconds(15));
          c.await(dpid, Duration.ofSeconds(5), s -> scrape(c).contains("sluice_echo_rtt_seconds{datapath_id=\""
              + s.datapathId() + "\"}"), "an echo round trip recorded");
        }
        perSwitch = Math.max(perSwitch, (series(c) - baseline) / 10);
        fakes.forEach(FakeSwitch::close);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while ((c.manager().connectedCount() > 0 || c.manager().knownCount() > 0) && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }
        assertThat(c.manager().connectedCount()).isZero();
      }
      System.out.printf("metric series: %d at start, %d per connected switch, %d after 40 came and went%n",
          baseline, perSwitch, series(c));
      assertThat(perSwitch).as("series each connected switch adds").isPositive();
      assertThat(series(c)).as("series once every switch is gone\n" + scrape(c)).isEqualTo(baseline);
      assertThat(scrape(c)).doesNotContain("datapath_id=");
      assertThat(c.manager().knownCount()).as("switches remembered after the forget period").isZero();
      assertThat(c.manager().statuses()).isEmpty();
    } finally {
      clients.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  private static String scrape(TestController c) {
    return new String(c.metrics.scrape(), StandardCharsets.UTF_8);
  }

  /** Sample lines in the exposition (each one series, or one bucket of a histogram). */
  private static int series(TestController c) {
    return (int) scrape(c).lines().filter(l -> !l.isBlank() && !l.startsWith("#")).count();
  }
}
