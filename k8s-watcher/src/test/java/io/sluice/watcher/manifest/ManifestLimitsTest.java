package io.sluice.watcher.manifest;

import static io.sluice.watcher.manifest.Manifests.namespace;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.sluice.model.ClusterModel;
import io.sluice.model.Snapshot;
import io.sluice.model.source.SourceError;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** Hostile files in the manifest directory: too large, one huge scalar, slow to parse, names that forge log lines. */
class ManifestLimitsTest {
  @TempDir Path dir;
  private final ClusterModel model = new ClusterModel(0);
  private ManifestSource source;
  private final ListAppender<ILoggingEvent> log = new ListAppender<>();
  private final Logger logger = (Logger) LoggerFactory.getLogger(ManifestSource.class);

  @BeforeEach
  void captureLog() {
    log.start();
    logger.addAppender(log);
  }

  @AfterEach
  void stop() {
    logger.detachAppender(log);
    if (source != null) {
      source.stop();
    }
  }

  private void start(ManifestSource s) {
    source = s;
    source.start(model::apply);
  }

  private ManifestSource withDefaults() {
    return new ManifestSource(dir, Duration.ofMillis(50), 2);
  }

  /** Polls (at most {@code seconds}) until the condition holds. */
  private static void await(BooleanSupplier condition, int seconds, String what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + seconds + " s: " + what);
      }
      Thread.sleep(10);
    }
  }

  private void awaitModel(Predicate<Snapshot> condition, String what) throws InterruptedException {
    await(() -> condition.test(model.snapshot()), 5, what);
  }

  private static void sparse(Path p, long bytes) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      f.setLength(bytes);
    }
  }

  private List<String> logLines() {
    return log.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
  }

  @Test
  void aFileOverTheSizeLimitIsRefusedUnreadAndTheOthersApply() throws Exception {
    Files.writeString(dir.resolve("a.yaml"), namespace("alpha"));
    sparse(dir.resolve("big.yaml"), 60_000_000L); // 60 MB of NULs; never read
    Files.writeString(dir.resolve("c.yaml"), namespace("gamma"));
    long t0 = System.nanoTime();
    start(withDefaults());
    Duration took = Duration.ofNanos(System.nanoTime() - t0);

    assertThat(took).as("refused from its size, not read").isLessThan(Duration.ofSeconds(3));
    assertThat(model.snapshot().namespaces()).containsKeys("alpha", "gamma");
    assertThat(source.errors()).singleElement().satisfies(e -> {
      assertThat(e.file()).isEqualTo(dir.resolve("big.yaml").toString());
      assertThat(e.reason()).isEqualTo("file is 60000000 bytes, more than --max-manifest-bytes 4194304; not read");
    });
    assertThat(logLines()).filteredOn(l -> l.contains("big.yaml")).singleElement()
        .satisfies(l -> assertThat(l).contains("file refused", "60000000 bytes"));
  }

  @Test
  void aHugeScalarUnderTheFileLimitIsRefusedByTheScalarLimit() throws Exception {
    String huge = "x".repeat(1_000_000); // one line of 1M characters: about 4 s of SnakeYAML scanning, unbounded
    Files.writeString(dir.resolve("a.yaml"), namespace("alpha"));
    Files.writeString(dir.resolve("b.yaml"), namespace("beta") + "  annotations:\n    note: " + huge + "\n");
    Files.writeString(dir.resolve("c.json"), "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":"
        + "\"gamma\",\"annotations\":{\"note\":\"" + huge + "\"}}}");
    long t0 = System.nanoTime();
    start(withDefaults());
    Duration took = Duration.ofNanos(System.nanoTime() - t0);

    assertThat(model.snapshot().namespaces()).containsOnlyKeys("alpha");
    assertThat(source.errors()).extracting(SourceError::file)
        .containsExactly(dir.resolve("b.yaml").toString(), dir.resolve("c.json").toString());
    assertThat(source.errors().get(0).reason()).contains("more than 262144 characters");
    assertThat(source.errors().get(1).reason()).contains("exceeds the maximum allowed "
        + "(262144");
    assertThat(took).as("refused without scanning the scalar").isLessThan(Duration.ofSeconds(3));
  }

  @Test
  void hotReloadGoesOnAfterARefusedFileAndTheFileAppliesOnceFixed() throws Exception {
    sparse(dir.resolve("big.yaml"), 60_000_000L);
    start(withDefaults());
    assertThat(source.errors()).hasSize(1);

    Files.writeString(dir.resolve("later.yaml"), namespace("later"));
    awaitModel(s -> s.namespaces().containsKey("later"), "a file added after a refused one");

    Files.writeString(dir.resolve("big.yaml"), namespace("fixed"));
    awaitModel(s -> s.namespaces().containsKey("fixed"), "the refused file once it is small");
    await(() -> source.errors().isEmpty(), 5, "the error gone");
    assertThat(logLines()).filteredOn(l -> l.contains("big.yaml")).as("logged once").hasSize(1);
  }

  @Test
  void aParseOverTheTimeLimitIsAbandonedAndReported() throws Exception {
    ManifestSource.Limits limits = ManifestSource.Limits.defaults().withMaxScalarChars(Integer.MAX_VALUE)
        .withParseTimeout(Duration.ofMillis(300));
    Files.writeString(dir.resolve("a.yaml"), namespace("alpha"));
    Files.writeString(dir.resolve("slow.yaml"), namespace("slow") + "  annotations:\n    note: "
        + "x".repeat(2_000_000) + "\n");
    long t0 = System.nanoTime();
    start(new ManifestSource(dir, Duration.ofMillis(50), 2, limits));
    Duration took = Duration.ofNanos(System.nanoTime() - t0);

    assertThat(model.snapshot().namespaces()).containsOnlyKeys("alpha");
    assertThat(source.errors()).singleElement().satisfies(e -> {
      assertThat(e.file()).isEqualTo(dir.resolve("slow.yaml").toString());
      assertThat(e.reason()).isEqualTo("parsing took longer than the limit of 300 ms");
    });
    assertThat(took).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void stopReturnsWithinFiveSecondsWhileAHugeFileIsBeingParsed() throws Exception {
    // No limit that would refuse the file: the parser is inside it (about 10 s of scanning) when stop() comes.
    ManifestSource.Limits limits = ManifestSource.Limits.defaults().withMaxFileBytes(64L << 20)
        .withMaxScalarChars(Integer.MAX_VALUE).withParseTimeout(Duration.ofMinutes(10));
    start(new ManifestSource(dir, Duration.ofMillis(50), 2, limits));
    Files.writeString(dir.resolve("slow.yaml"), namespace("slow") + "  annotations:\n    note: "
        + "x".repeat(2_500_000) + "\n");
    await(() -> Thread.getAllStackTraces().values().stream().anyMatch(stack -> Arrays.stream(stack)
        .anyMatch(f -> f.getClassName().startsWith("org.yaml.snakeyaml.scanner"))), 10, "a parser inside the file");

    AtomicReference<Duration> took = new AtomicReference<>();
    Thread stopper = new Thread(() -> {
      long t0 = System.nanoTime();
      source.stop();
      took.set(Duration.ofNanos(System.nanoTime() - t0));
    }, "test-stopper");
    stopper.setDaemon(true);
    stopper.start();
    stopper.join(Duration.ofSeconds(5).toMillis());
    assertThat(took.get()).as("stop() returned within 5 s").isNotNull().isLessThan(Duration.ofSeconds(5));
    assertThat(model.snapshot().namespaces()).as("nothing applied after stop").doesNotContainKey("slow");
  }

  @Test
  void fileNamesAndValuesCannotForgeLogLines() throws Exception {
    String forged = "\n12:00:00 INFO fake line";
    Files.writeString(dir.resolve("evil" + forged + ".yaml"), "apiVersion: v1\nkind: Namespace\nmetadata:\n"
        + "  name: \"bad" + forged.replace("\n", "\\n") + "\"\n");
    sparse(dir.resolve("big" + forged + "\r.yaml"), 60_000_000L);
    start(withDefaults());

    assertThat(source.errors()).hasSize(2);
    List<String> lines = logLines();
    assertThat(lines).filteredOn(l -> l.contains("fake line")).hasSizeGreaterThanOrEqualTo(2);
    assertThat(lines).allSatisfy(l -> assertThat(l).doesNotContain("\n", "\r"));
    assertThat(lines).anySatisfy(l -> assertThat(l).contains("evil\\n12:00:00 INFO fake line.yaml"));
  }

  @Test
  void escapingLeavesPlainTextAloneAndEscapesEveryLineBreak() {
    assertThat(LogText.escape("ns/web-1 \"ok\" żółw")).isEqualTo("ns/web-1 \"ok\" żółw");
    assertThat(LogText.escape("a\nb\rc\td\\e\u0000f\u2028g\u001b[31m"))
        .isEqualTo("a\\nb\\rc\\td\\\\e\\u0000f\\u2028g\\u001b[31m");
  }

  @Test
  void tooManyDocumentsOrTooDeepNestingAreErrors() {
    ManifestParser p = new ManifestParser(new io.sluice.watcher.convert.ObjectConverter(),
        ManifestSource.Limits.defaults());
    StringBuilder many = new StringBuilder();
    for (int i = 0; i <= 10_000; i++) {
      many.append("---\n").append(namespace("n" + i));
    }
    assertThat(p.parse("many.yaml", many.toString().getBytes(), false).errors()).singleElement()
        .satisfies(e -> assertThat(e.reason()).contains("more than 10000 documents"));
    String deep = namespace("deep") + "  annotations:\n    x: " + "[".repeat(200) + "]".repeat(200) + "\n";
    assertThat(p.parse("deep.yaml", deep.getBytes(), false).errors()).singleElement()
        .satisfies(e -> assertThat(e.reason()).containsIgnoringCase("depth"));
  }
}
