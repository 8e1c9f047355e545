package io.sluice.controller.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The shipped log pattern (src/main/resources/logback.xml) keeps one event on one line whatever its text holds. */
class LogPatternTest {
  private static String format(String message, Object... args) throws Exception {
    String xml = Files.readString(Path.of("src", "main", "resources", "logback.xml"));
    Matcher m = Pattern.compile("<pattern>(.*)</pattern>").matcher(xml);
    assertThat(m.find()).isTrue();
    String pattern = m.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">");
    LoggerContext ctx = new LoggerContext();
    PatternLayout layout = new PatternLayout();
    layout.setContext(ctx);
    layout.setPattern(pattern);
    layout.start();
    LoggingEvent e = new LoggingEvent("x", ctx.getLogger("io.sluice.Test"), Level.WARN, message, null, args);
    return layout.doLayout(e);
  }

  @Test
  void aPeersTextCannotStartALineOfItsOwn() throws Exception {
    String line = format("OVSDB {}: synced (system-id {})", "peer", "node-1\n12:00:00.000 INFO  Fake - forged\r\u001b[31m");
    assertThat(line).endsWith(System.lineSeparator());
    String body = line.substring(0, line.length() - System.lineSeparator().length());
    assertThat(body).doesNotContain("\n").doesNotContain("\r").doesNotContain("\u001b")
        .contains("system-id node-1\\n12:00:00.000 INFO  Fake - forged\\r?[31m)");
    assertThat(format("tab\tkept")).contains("tab\tkept");
  }
}
