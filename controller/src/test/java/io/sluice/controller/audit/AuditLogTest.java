package io.sluice.controller.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.model.ObjectRef;
import io.sluice.renderer.policy.PolicyCompiler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Merging, naming, filtering, bounds and rotation of the audit log, without a switch. */
class AuditLogTest {
  private static final Map<String, ObjectRef> PODS = Map.of("10.0.0.1", new ObjectRef("shop", "web"),
      "10.0.0.2", new ObjectRef("shop", "db"));
  private static final AuditLog.Names NAMES = new AuditLog.Names() {
    @Override
    public Optional<ObjectRef> podAt(String ip) {
      return Optional.ofNullable(PODS.get(ip));
    }

    @Override
    public Optional<PolicyCompiler.RuleRef> rule(long id) {
      return id == 77 ? Optional.of(new PolicyCompiler.RuleRef(77, new ObjectRef("shop", "db-web"), "Ingress", 1))
          : Optional.empty();
    }
  };

  private final ObjectMapper json = new ObjectMapper();
  private final AtomicLong dropped = new AtomicLong();
  private final AuditLog.Metrics metrics = new AuditLog.Metrics() {
    @Override
    public void auditPacket(String verdict) { }

    @Override
    public void auditEntry(String verdict) { }

    @Override
    public void auditDropped() {
      dropped.incrementAndGet();
    }
  };

  @TempDir
  Path dir;

  private static AuditLog.Raw deny(long t, String src, int srcPort, String dst, int dstPort) {
    return new AuditLog.Raw(t, "00:00:00:00:00:00:00:01", true, false, 0, "TCP", src, srcPort, dst, dstPort, 74);
  }

  @Test
  void repeatsWithinASecondAreOneEntryWithACountAndOthersAreNot() throws Exception {
    Path file = dir.resolve("audit.log");
    try (AuditLog log = new AuditLog(AuditLog.Options.defaults(file), NAMES, metrics)) {
      long t = System.currentTimeMillis();
      log.offer(deny(t, "10.0.0.1", 40000, "10.0.0.2", 5432));
      log.offer(deny(t + 10, "10.0.0.1", 40001, "10.0.0.2", 5432)); // another source port: the same attempt, merged
      log.offer(deny(t + 20, "10.0.0.1", 40002, "10.0.0.2", 6379)); // another destination port: its own entry
      log.offer(new AuditLog.Raw(t + 30, "00:00:00:00:00:00:00:01", true, true, 77, "TCP", "10.0.0.1", 40003,
          "10.0.0.2", 5432, 74)); // allowed by a rule: its own entry
      log.offer(deny(t + 40, "192.0.2.9", 1, "10.0.0.2", 5432)); // no pod has the source: only its address
      awaitWritten(log, 4);
    }
    List<JsonNode> lines = Files.readAllLines(file).stream().map(this::parse).toList();
    assertThat(lines).hasSize(4);
    JsonNode merged = lines.get(0);
    assertThat(merged.path("count").asLong()).isEqualTo(2);
    assertThat(merged.path("source").path("port").asInt()).as("the first packet's").isEqualTo(40000);
    assertThat(merged.path("source").path("pod").asText()).isEqualTo("web");
    assertThat(merged.path("destination").path("namespace").asText()).isEqualTo("shop");
    assertThat(merged.path("policy").asText()).isEqualTo("isolation");
    assertThat(merged.has("rule")).isFalse();
    assertThat(lines.get(1).path("destination").path("port").asInt()).isEqualTo(6379);
    JsonNode allowed = lines.get(2);
    assertThat(allowed.path("verdict").asText()).isEqualTo("allow");
    assertThat(allowed.path("policy").asText()).isEqualTo("shop/db-web");
    assertThat(allowed.path("rule").asInt()).isEqualTo(1);
    JsonNode outside = lines.get(3);
    assertThat(outside.path("source").has("pod")).isFalse();
    assertThat(outside.path("source").path("ip").asText()).isEqualTo("192.0.2.9");
    // the fields in their documented order
    assertThat(Files.readAllLines(file).get(0)).startsWith("{\"time\":").contains("\"switch\":\"00:00:00:00:00:00:00:01\"");
  }

  @Test
  void theRecentWindowIsBoundedNewestFirstAndFiltered() throws Exception {
    try (AuditLog log = new AuditLog(new AuditLog.Options(null, 1 << 20, 1, 3, 1, 1), NAMES, metrics)) {
      long t = System.currentTimeMillis() - 5000; // already past the merge window: written at once
      for (int port = 1; port <= 5; port++) {
        log.offer(deny(t, "10.0.0.1", 1000, "10.0.0.2", port));
      }
      log.offer(new AuditLog.Raw(t, "s", false, true, 77, "UDP", "10.0.0.1", 1, "192.0.2.1", 53, 60));
      awaitWritten(log, 6);
      List<AuditEvent> all = log.recent(null, null, null, 100);
      assertThat(all).hasSize(3);
      assertThat(all.get(0).policy()).isEqualTo("shop/db-web");
      assertThat(all.get(1).destination().port()).isEqualTo(5);
      assertThat(log.recent(null, null, "isolation", 100)).hasSize(2);
      assertThat(log.recent(null, "shop/db", null, 100)).hasSize(2);
      assertThat(log.recent(null, "shop/web", null, 1)).hasSize(1);
      assertThat(log.recent("elsewhere", null, null, 100)).isEmpty();
    }
  }

  @Test
  void theFileIsRotatedBySizeIntoAFixedNumberOfFiles() throws Exception {
    Path file = dir.resolve("rot.log");
    try (AuditLog log = new AuditLog(new AuditLog.Options(file, 2048, 2, 10, 1, 1), NAMES, metrics)) {
      long t = System.currentTimeMillis() - 5000;
      for (int round = 0; round < 4; round++) {
        for (int port = 1; port <= 20; port++) {
          log.offer(deny(t, "10.0.0.1", 1000, "10.0.0.2", round * 100 + port));
        }
        awaitWritten(log, 20L * (round + 1));
        Thread.sleep(1100); // the size is checked at most once a second
      }
    }
    assertThat(Files.exists(dir.resolve("rot.log.1"))).isTrue();
    assertThat(Files.exists(dir.resolve("rot.log.2"))).isTrue();
    assertThat(Files.exists(dir.resolve("rot.log.3"))).as("only 2 old files kept").isFalse();
  }

  @Test
  void entriesWrittenTogetherReachTheFileAsOneAppendWithOneLineEach() throws Exception {
    Path file = dir.resolve("batched.log");
    AtomicLong appends = new AtomicLong();
    try (AuditLog log = new AuditLog(AuditLog.Options.defaults(file), NAMES, metrics)) {
      ch.qos.logback.classic.LoggerContext ctx = (ch.qos.logback.classic.LoggerContext)
          org.slf4j.LoggerFactory.getILoggerFactory();
      ch.qos.logback.core.AppenderBase<ch.qos.logback.classic.spi.ILoggingEvent> counting =
          new ch.qos.logback.core.AppenderBase<>() {
            @Override
            protected void append(ch.qos.logback.classic.spi.ILoggingEvent e) {
              appends.incrementAndGet();
            }
          };
      counting.setContext(ctx);
      counting.start();
      ctx.getLogger("sluice.audit." + System.identityHashCode(log)).addAppender(counting);
      long t = System.currentTimeMillis() - 5000; // past the merge window: written at the next drain, together
      List<AuditLog.Raw> raws = new java.util.ArrayList<>();
      for (int port = 1; port <= 200; port++) {
        raws.add(deny(t, "10.0.0.1", 1000, "10.0.0.2", port));
      }
      raws.forEach(log::offer); // 200 offers well within one drain period
      awaitWritten(log, 200);
      assertThat(appends.get()).as("appends to the file for 200 entries drained together").isLessThan(10);
    }
    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(200);
    assertThat(lines.stream().map(l -> parse(l).path("destination").path("port").asInt()).toList())
        .as("one entry per line, in order").isEqualTo(java.util.stream.IntStream.rangeClosed(1, 200).boxed().toList());
  }

  @Test
  void closeWritesWhatIsQueuedWithoutWaitingForTheMergeWindow() throws Exception {
    Path file = dir.resolve("close.log");
    long closedIn;
    try (AuditLog log = new AuditLog(AuditLog.Options.defaults(file), NAMES, metrics)) {
      long t = System.currentTimeMillis();
      for (int port = 1; port <= 50; port++) {
        log.offer(deny(t, "10.0.0.1", 1000, "10.0.0.2", port));
      }
      long start = System.nanoTime();
      log.close();
      closedIn = System.nanoTime() - start;
      assertThat(log.written()).isEqualTo(50);
    }
    assertThat(Files.readAllLines(file)).hasSize(50);
    assertThat(closedIn).as("close() wakes the writer rather than waiting a drain period or the window")
        .isLessThan(900_000_000L);
  }

  @Test
  void badOptionsAreRefusedNamingWhat() {
    assertThatThrownBy(() -> new AuditLog.Options(null, 10, 1, 1, 1, 1)).hasMessageContaining("file size");
    assertThatThrownBy(() -> new AuditLog.Options(null, 4096, 21, 1, 1, 1)).hasMessageContaining("1..20");
    assertThatThrownBy(() -> new AuditLog.Options(null, 4096, 1, 1, 0, 1)).hasMessageContaining("rates");
  }

  private JsonNode parse(String line) {
    try {
      return json.readTree(line);
    } catch (Exception e) {
      throw new AssertionError(line, e);
    }
  }

  private static void awaitWritten(AuditLog log, long n) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (log.written() < n && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(log.written()).isEqualTo(n);
  }
}
