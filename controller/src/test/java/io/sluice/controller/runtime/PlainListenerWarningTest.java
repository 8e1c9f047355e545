package io.sluice.controller.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** A plain OpenFlow or OVSDB listener reachable from other hosts is one warning line at start; on loopback, none. */
class PlainListenerWarningTest {
  private static List<String> warningsOfStarting(String host) {
    Logger log = (Logger) LoggerFactory.getLogger(SluiceRuntime.class);
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    log.addAppender(lines);
    try {
      RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress(host, 0), new InetSocketAddress("127.0.0.1", 0),
          Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 1, null, List.of(), host + ":0", false);
      SluiceRuntime.start(cfg).close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } finally {
      log.detachAppender(lines);
    }
    return lines.list.stream().filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
        .map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains("without TLS")).toList();
  }

  @Test
  void plainListenersOnAllAddressesWarnOnceEach() {
    List<String> warnings = warningsOfStarting("0.0.0.0");
    assertThat(warnings).hasSize(2);
    assertThat(warnings.get(0)).startsWith("OpenFlow listens on 0.0.0.0 without TLS").contains("--listen pssl:");
    assertThat(warnings.get(1)).startsWith("OVSDB listens on 0.0.0.0 without TLS").contains("--ovsdb-listen pssl:");
  }

  @Test
  void plainListenersOnLoopbackDoNotWarn() {
    assertThat(warningsOfStarting("127.0.0.1")).isEmpty();
  }
}
