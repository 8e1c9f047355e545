package io.sluice.controller.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.controller.session.SwitchSession;
import io.sluice.model.Protocol;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The packet-out tracer's bounds without a switch: a second trace while one runs is refused (409) naming the switch
 * being traced; a switch not connected here is refused (503) naming it and what to do; the probe count is capped.
 */
class PacketOutTracerTest {
  private static PacketOutTracer.Request request(int probes) {
    return new PacketOutTracer.Request(0x7e76, 1, "0a:58:0a:4c:00:01", "10.76.0.1", 0x7e76L, 2L,
        "0a:58:0a:4c:00:02", "10.76.0.2", Protocol.TCP, 5432, probes);
  }

  @Test
  void oneTraceAtATimeAndASwitchNotConnectedIsNamed() throws Exception {
    CountDownLatch inside = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    PacketOutTracer tracer = new PacketOutTracer(new PacketOutTracer.Switches() {
      @Override
      public SwitchSession session(long dpid) {
        inside.countDown();
        try {
          release.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return null; // not connected
      }

      @Override
      public String mayNotWrite(long dpid) {
        return null;
      }
    });
    CompletableFuture<Throwable> first = CompletableFuture.supplyAsync(() -> {
      try {
        tracer.trace(request(5));
        return null;
      } catch (RuntimeException e) {
        return e;
      }
    });
    assertThat(inside.await(10, TimeUnit.SECONDS)).isTrue();
    assertThatThrownBy(() -> tracer.trace(request(5)))
        .isInstanceOfSatisfying(PacketOutTracer.Refused.class, e -> assertThat(e.status()).isEqualTo(409))
        .hasMessageContaining("another packet-out trace is running (switch 00:00:00:00:00:00:7e:76)");
    release.countDown();
    Throwable t = first.get(10, TimeUnit.SECONDS);
    assertThat(t).isInstanceOfSatisfying(PacketOutTracer.Refused.class, e -> assertThat(e.status()).isEqualTo(503))
        .hasMessageContaining("switch 00:00:00:00:00:00:7e:76 is not connected to this controller")
        .hasMessageContaining("--method ovs-appctl");
  }

  @Test
  void theProbeCountIsCapped() {
    PacketOutTracer tracer = new PacketOutTracer(new PacketOutTracer.Switches() {
      @Override
      public SwitchSession session(long dpid) {
        throw new AssertionError("not asked for a switch when the request is bad");
      }

      @Override
      public String mayNotWrite(long dpid) {
        return null;
      }
    });
    assertThatThrownBy(() -> tracer.trace(request(PacketOutTracer.MAX_PROBES + 1)))
        .isInstanceOfSatisfying(PacketOutTracer.Refused.class, e -> assertThat(e.status()).isEqualTo(400))
        .hasMessageContaining("probes: 1-20");
    assertThatThrownBy(() -> tracer.trace(request(0))).hasMessageContaining("probes: 1-20");
  }
}
