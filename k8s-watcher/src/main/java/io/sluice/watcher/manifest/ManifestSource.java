package io.sluice.watcher.manifest;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static java.nio.file.StandardWatchEventKinds.OVERFLOW;

import io.sluice.model.ModelEvent;
import io.sluice.model.source.EventSink;
import io.sluice.model.source.Source;
import io.sluice.model.source.SourceError;
import io.sluice.watcher.convert.ObjectConverter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The manifest directory as a {@link Source}: every {@code *.yaml}, {@code *.yml} and {@code *.json} below the
 * directory (recursively, following symlinks, skipping names that start with '.') is read, and the directory is
 * watched so that any later change is applied within a second.
 *
 * <ul>
 *   <li>{@link #start} reads everything (files parsed in parallel on a small pool) and hands the result to the sink
 *       as one batch before it returns; then a watcher thread takes over.</li>
 *   <li>Changes are collected until the directory has been quiet for the debounce interval (at most
 *       {@code 5 × debounce} after the first change), then applied as one batch: one generation.</li>
 *   <li>A file whose bytes did not change is not parsed again; a file whose objects did not change yields no event.
 *       Renames, editors' write-then-rename and Kubernetes' {@code ..data} symlink swaps therefore cost nothing
 *       unless content changed.</li>
 *   <li>An invalid document is logged (one line) and listed in {@link #errors()}; the last valid version of its
 *       object stays in force. An object defined in two files is taken from the first in path order.</li>
 *   <li>With no cluster there is no EndpointSlice controller: the source derives the slices it would make for each
 *       Service with a selector that the directory gives no EndpointSlice for ({@link DerivedSlices}), and keeps them
 *       current in the same batches.</li>
 * </ul>
 */
public final class ManifestSource implements Source {
  private static final Logger LOG = LoggerFactory.getLogger(ManifestSource.class);
  public static final Duration DEFAULT_DEBOUNCE = Duration.ofMillis(75);

  /**
   * What one file may cost. {@code maxFileBytes}: a larger file is refused from its size alone, before any byte is
   * read ({@code sluice run --max-manifest-bytes}). {@code maxScalarChars}: the longest scalar (string), and in YAML
   * the longest line. {@code maxDepth}: deepest nesting. {@code maxDocuments}: most documents in one file.
   * {@code parseTimeout}: a parse still running after this is abandoned. A file over a limit is an error in
   * {@link #errors()} naming the limit; the objects it held before stay in force, as after a syntax error.
   */
  public record Limits(long maxFileBytes, int maxScalarChars, int maxDepth, int maxDocuments, Duration parseTimeout) {
    /** 4 MiB: more than a few thousand objects; the API server itself refuses requests over 3 MiB. */
    public static final long DEFAULT_MAX_FILE_BYTES = 4L << 20;
    /** 256 KiB: the API server's limit for all annotations of one object together. */
    public static final int DEFAULT_MAX_SCALAR_CHARS = 256 << 10;

    public Limits {
      if (maxFileBytes < 1 || maxScalarChars < 1 || maxDepth < 1 || maxDocuments < 1) {
        throw new IllegalArgumentException("manifest limits must be positive, got " + maxFileBytes + " bytes, "
            + maxScalarChars + " characters, depth " + maxDepth + ", " + maxDocuments + " documents");
      }
      if (parseTimeout.isNegative() || parseTimeout.isZero()) {
        throw new IllegalArgumentException("parseTimeout must be positive, got " + parseTimeout);
      }
    }

    public static Limits defaults() {
      return new Limits(DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_SCALAR_CHARS, 100, 10_000, Duration.ofSeconds(15));
    }

    public Limits withMaxFileBytes(long bytes) {
      return new Limits(bytes, maxScalarChars, maxDepth, maxDocuments, parseTimeout);
    }

    public Limits withMaxScalarChars(int chars) {
      return new Limits(maxFileBytes, chars, maxDepth, maxDocuments, parseTimeout);
    }

    public Limits withParseTimeout(Duration timeout) {
      return new Limits(maxFileBytes, maxScalarChars, maxDepth, maxDocuments, timeout);
    }
  }

  private final Path root;
  private final Duration debounce;
  private final int parserThreads;
  private final Limits limits;
  private final ManifestParser parser;
  private final ManifestState state;
  /** Size, mtime and file key of each known file's target, to find changed files cheaply on rescans. */
  private final Map<String, List<Object>> stats = new HashMap<>();
  private final Map<WatchKey, Path> watched = new HashMap<>();
  /** The key of the directory itself: when it is no longer valid, nothing below can be watched any more. */
  private volatile WatchKey rootKey;
  private volatile ExecutorService pool;
  private volatile WatchService watchService;
  private volatile Thread watcher;
  private EventSink sink;
  /** Guards {@link #running} alone, so {@link #stop} never waits for a parse that holds the source's monitor. */
  private final Object lifecycle = new Object();
  private volatile boolean running;
  private volatile boolean ready;
  private volatile List<SourceError> errors = List.of();
  private volatile List<SourceError> warnings = List.of();
  /** Why hot reload stopped while the source was running; null while it works. */
  private volatile String failure;

  /** A source for {@code dir} with the default debounce and up to 4 parser threads. */
  public ManifestSource(Path dir) {
    this(dir, DEFAULT_DEBOUNCE, Math.min(4, Runtime.getRuntime().availableProcessors()));
  }

  public ManifestSource(Path dir, Duration debounce, int parserThreads) {
    this(dir, debounce, parserThreads, Limits.defaults());
  }

  public ManifestSource(Path dir, Duration debounce, int parserThreads, Limits limits) {
    this(dir, debounce, parserThreads, limits, false);
  }

  /**
   * {@code legacyIsolation}: as {@code sluice run --legacy-isolation}: {@code extensions/v1beta1} NetworkPolicies are
   * read (with that API's meaning and a deprecation warning); without it they are refused, and a Namespace's pre-v1
   * isolation annotation is a warning, since it is then ignored.
   */
  public ManifestSource(Path dir, Duration debounce, int parserThreads, Limits limits, boolean legacyIsolation) {
    this.root = Objects.requireNonNull(dir, "dir");
    this.limits = Objects.requireNonNull(limits, "limits");
    this.parser = new ManifestParser(new ObjectConverter(), limits, legacyIsolation);
    this.debounce = Objects.requireNonNull(debounce, "debounce");
    if (parserThreads < 1) {
      throw new IllegalArgumentException("parserThreads must be at least 1");
    }
    this.parserThreads = parserThreads;
    this.state = new ManifestState(dir.toString());
  }

  /**
   * Reads the directory, hands its objects to the sink as one batch, and starts watching. Returns when the initial
   * batch has been delivered ({@link #ready()} is then true).
   *
   * @throws IllegalArgumentException if the directory does not exist
   * @throws UncheckedIOException if it cannot be watched
   */
  @Override
  public synchronized void start(EventSink sink) {
    if (this.sink != null) {
      throw new IllegalStateException("already started");
    }
    if (!Files.isDirectory(root)) {
      throw new IllegalArgumentException("manifest directory " + root + " does not exist or is no directory");
    }
    this.sink = Objects.requireNonNull(sink, "sink");
    long t0 = System.nanoTime();
    AtomicInteger n = new AtomicInteger();
    pool = Executors.newFixedThreadPool(parserThreads, r -> {
      Thread t = new Thread(r, "sluice-manifest-parser-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    try {
      watchService = root.getFileSystem().newWatchService();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot watch " + root, e);
    }
    synchronized (lifecycle) {
      running = true;
    }
    List<Path> files = new ArrayList<>();
    walk(root, new HashSet<>(), files);
    // In path order, so each run of parsed files can be applied while the later ones are still being parsed.
    files = inPathOrder(files);
    ManifestState.Staging staging = state.begin();
    Batch batch = read(files, Set.of(), staging::add);
    if (!running) {
      return; // stopped while loading
    }
    List<ModelEvent> events = staging.finish();
    publishErrors(); // before the sink: whoever sees the new generation sees its errors
    deliver(events);
    ready = true;
    LOG.info("manifests: loaded {} from {} files under {} in {} ms; {} EndpointSlices derived from Services; {} errors{}",
        state.counts(), files.size(), LogText.escape(root.toString()), (System.nanoTime() - t0) / 1_000_000,
        state.derivedSlices(), errors.size(), LogText.escape(ignored(batch.ignoredKinds)));
    Thread w = new Thread(this::watchLoop, "sluice-manifest-watcher");
    w.setDaemon(true);
    synchronized (lifecycle) {
      if (!running) {
        return;
      }
      watcher = w;
      w.start();
    }
  }

  /**
   * Stops watching and abandons any parse in progress (parsers poll for it, and their threads are interrupted), so
   * this returns within a few seconds whatever file is being read. No batch reaches the sink after it returns, except
   * one the watcher had already begun handing over.
   */
  @Override
  public void stop() {
    Thread w;
    synchronized (lifecycle) {
      if (!running) {
        return;
      }
      running = false;
      w = watcher;
    }
    try {
      watchService.close();
    } catch (IOException e) {
      LOG.warn("manifests: closing the watch service of {} failed: {}", LogText.escape(root.toString()), e.toString());
    }
    ExecutorService p = pool;
    if (p != null) {
      p.shutdownNow(); // interrupts parser threads
    }
    if (w != null && w != Thread.currentThread()) {
      w.interrupt();
      try {
        w.join(4_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (w.isAlive()) {
        LOG.warn("manifests: the watcher of {} did not stop within 4 s; leaving it (a daemon thread)",
            LogText.escape(root.toString()));
      }
    }
  }

  @Override
  public List<SourceError> errors() {
    return errors;
  }

  /**
   * What was read but deserves a word: deprecated forms accepted under --legacy-isolation, the pre-v1 isolation
   * annotation ignored without it. Nothing here is refused; each is logged once, when it first appears.
   */
  public List<SourceError> warnings() {
    return warnings;
  }

  @Override
  public boolean ready() {
    return ready;
  }

  /**
   * Null while changes to the directory are being applied; otherwise why they no longer are (the watcher failed, or
   * the directory itself was deleted), for {@code /healthz}: the objects last read stay in force, but nothing
   * changes them until a restart.
   */
  public String failure() {
    return failure;
  }

  /** The directory this source reads. */
  public Path directory() {
    return root;
  }

  // ---- reading ----

  private static boolean isManifest(String name) {
    return !name.startsWith(".") && (name.endsWith(".yaml") || name.endsWith(".yml") || name.endsWith(".json"));
  }

  /**
   * Registers {@code dir} and every directory below it, and collects the manifest files. {@code seen}: the real
   * paths of directories already read under another path; a directory reached again (a symlink loop, a link to an
   * ancestor, a second link to one directory) is skipped, so its files have one name each. Entries are taken in
   * name order, so the same tree always gives the same names. A manifest name that cannot be stat'ed (a symlink
   * loop) or is no regular file is collected too: reading it makes the error. A dangling link is skipped.
   */
  private void walk(Path dir, Set<Path> seen, List<Path> files) {
    try {
      if (!seen.add(dir.toRealPath())) {
        return; // a symlink loop, or a directory already read under another name
      }
      WatchKey key = dir.register(watchService, ENTRY_CREATE, ENTRY_DELETE, ENTRY_MODIFY);
      watched.put(key, dir);
      if (dir.equals(root)) {
        rootKey = key;
      }
      List<Path> sorted = new ArrayList<>();
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
        entries.forEach(sorted::add);
      }
      sorted.sort(null);
      for (Path p : sorted) {
        String name = p.getFileName().toString();
        if (name.startsWith(".")) {
          continue;
        }
        BasicFileAttributes a;
        try {
          a = Files.readAttributes(p, BasicFileAttributes.class); // one stat, following symlinks
        } catch (NoSuchFileException e) {
          continue; // gone, or a dangling link: neither a directory nor a file
        } catch (IOException e) {
          if (isManifest(name)) {
            files.add(p); // e.g. a link loop: reading it reports why
          }
          continue;
        }
        if (a.isDirectory()) {
          walk(p, seen, files);
        } else if (isManifest(name)) {
          files.add(p);
        }
      }
    } catch (NoSuchFileException e) {
      // Gone while we looked: its delete event follows.
    } catch (IOException e) {
      LOG.warn("manifests: cannot list {}: {}", LogText.escape(dir.toString()), LogText.escape(e.toString()));
    }
  }

  private record Batch(List<ManifestState.Change> changes, TreeMap<String, Integer> ignoredKinds) { }

  /** Files read in one part of a staged batch. */
  private static final int PART = 256;

  /** The files sorted by their path relative to the directory, the order {@link ManifestState} applies them in. */
  private List<Path> inPathOrder(List<Path> files) {
    String[] rels = new String[files.size()];
    Integer[] order = new Integer[files.size()];
    for (int i = 0; i < rels.length; i++) {
      rels[i] = rel(files.get(i));
      order[i] = i;
    }
    java.util.Arrays.sort(order, (a, b) -> rels[a].compareTo(rels[b]));
    List<Path> sorted = new ArrayList<>(files.size());
    for (Integer i : order) {
      sorted.add(files.get(i));
    }
    return sorted;
  }

  /**
   * Reads and parses the files (in parallel), skipping those whose bytes are unchanged; plus the deletions. Each
   * parser thread runs one task that takes the next file until none is left (rather than one task per file), so the
   * per-file entry point is not the hot method the JIT compiles the whole parser into once more.
   *
   * <p>With {@code staged} (the first load only: no deletions, no file known yet), the calling thread hands the
   * changes to it in parts of {@link #PART} files, in the order of {@code files}, as soon as each part is parsed,
   * while the parser threads go on with later files. The parser threads then do not look at the state, which the
   * calling thread is changing.
   */
  private Batch read(List<Path> files, Set<String> deleted, Consumer<List<ManifestState.Change>> staged) {
    if (staged != null && (!deleted.isEmpty() || !state.files().isEmpty())) {
      throw new IllegalStateException("only a first load can be applied while it is read");
    }
    boolean known = staged == null;
    ManifestState.Change[] read = new ManifestState.Change[files.size()];
    CountDownLatch[] parsed = new CountDownLatch[(read.length + PART - 1) / PART];
    for (int k = 0; k < parsed.length; k++) {
      parsed[k] = new CountDownLatch(Math.min(PART, read.length - k * PART));
    }
    AtomicInteger next = new AtomicInteger();
    AtomicReference<RuntimeException> failed = new AtomicReference<>();
    Callable<Void> worker = () -> {
      for (int i = next.getAndIncrement(); i < read.length; i = next.getAndIncrement()) {
        try {
          read[i] = readOne(files.get(i), known);
        } catch (RuntimeException e) {
          failed.compareAndSet(null, e); // reported once every file is through
        } finally {
          parsed[i / PART].countDown();
        }
      }
      return null;
    };
    List<Callable<Void>> tasks = new ArrayList<>();
    for (int t = Math.min(parserThreads, files.size()); t > 0; t--) {
      tasks.add(worker);
    }
    List<ManifestState.Change> changes = new ArrayList<>();
    TreeMap<String, Integer> ignored = new TreeMap<>();
    List<Future<Void>> running = new ArrayList<>();
    try {
      if (tasks.size() == 1) {
        running.add(runHere(tasks.get(0)));
      } else {
        for (Callable<Void> t : tasks) {
          running.add(pool.submit(t));
        }
      }
      for (int k = 0; k < parsed.length && failed.get() == null; k++) {
        parsed[k].await();
        if (failed.get() != null) {
          break;
        }
        List<ManifestState.Change> part = new ArrayList<>();
        for (int i = k * PART; i < Math.min(read.length, (k + 1) * PART); i++) {
          ManifestState.Change c = read[i];
          if (c != null) {
            part.add(c);
            if (c.result() != null) {
              c.result().ignoredKinds().forEach((kind, v) -> ignored.merge(kind, v, Integer::sum));
            }
          }
        }
        changes.addAll(part);
        if (staged != null) {
          staged.accept(part);
        }
      }
      for (Future<Void> f : running) {
        f.get();
      }
      if (failed.get() != null) {
        if (!this.running || failed.get() instanceof ParseBudget.Cancelled) {
          return new Batch(List.of(), ignored); // stopped: the parse was abandoned
        }
        throw new IllegalStateException("manifest parser failed", failed.get());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running.forEach(f -> f.cancel(true));
      return new Batch(List.of(), ignored);
    } catch (ExecutionException e) {
      running.forEach(f -> f.cancel(true));
      throw new IllegalStateException("manifest parser failed", e.getCause());
    }
    for (String rel : deleted) {
      if (state.file(rel) != null) {
        changes.add(new ManifestState.Change(rel, 0, null));
      }
    }
    for (ManifestState.Change c : changes) {
      if (c.result() == null) {
        stats.remove(c.file());
      }
    }
    return new Batch(changes, ignored);
  }

  private static <T> Future<T> runHere(Callable<T> task) {
    java.util.concurrent.FutureTask<T> f = new java.util.concurrent.FutureTask<>(task);
    f.run();
    return f;
  }

  /**
   * The file's new content, null if unchanged, or a deletion if it is gone. {@code known}: whether the state may
   * know the file (false on the first load, when the state is empty and being filled by another thread).
   */
  private ManifestState.Change readOne(Path p, boolean known) {
    String rel = rel(p);
    byte[] bytes;
    List<Object> stat;
    long size;
    try {
      BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
      if (!a.isRegularFile()) {
        // A FIFO would block the reader for good, a device never end: neither is opened.
        return unreadable(rel, known, "not a regular file (" + (a.isDirectory() ? "a directory" : "a FIFO, socket or "
            + "device") + "); not read");
      }
      size = a.size();
      stat = List.of(size, a.lastModifiedTime().toMillis(), String.valueOf(a.fileKey()));
      // Never more than the limit plus one byte, also when the file grows between the stat and the read.
      bytes = size > limits.maxFileBytes() ? null : readAtMost(p, limits.maxFileBytes() + 1);
    } catch (NoSuchFileException e) {
      return !known || state.file(rel) == null ? null : new ManifestState.Change(rel, 0, null);
    } catch (IOException e) {
      String why = e instanceof java.nio.file.FileSystemException f && f.getReason() != null ? f.getReason()
          : String.valueOf(e.getMessage());
      return unreadable(rel, known, "cannot read: " + why);
    }
    synchronized (stats) {
      stats.put(rel, stat);
    }
    if (bytes != null && bytes.length > limits.maxFileBytes()) {
      bytes = null;
      size = Math.max(size, limits.maxFileBytes() + 1);
    }
    if (bytes == null) {
      // Refused unread; the same size again is the same error (no new parse, no new log line).
      long hash = Long.MIN_VALUE ^ size;
      ManifestState.FileState was = known ? state.file(rel) : null;
      if (was != null && was.hash() == hash) {
        return null;
      }
      return new ManifestState.Change(rel, hash, ManifestParser.refused(state.display(rel), "file is " + size
          + " bytes, more than --max-manifest-bytes " + limits.maxFileBytes() + "; not read"));
    }
    long hash = hash(bytes);
    ManifestState.FileState was = known ? state.file(rel) : null;
    if (was != null && was.hash() == hash) {
      return null;
    }
    String name = p.getFileName().toString();
    return new ManifestState.Change(rel, hash, parser.parse(state.display(rel), bytes, name.endsWith(".json"),
        () -> !running));
  }

  /**
   * A file that is there but cannot be read: one error (logged when it first appears); the objects it held stay in
   * force, as after a syntax error. The same reason again is no change.
   */
  private ManifestState.Change unreadable(String rel, boolean known, String reason) {
    long hash = Long.MIN_VALUE ^ ((long) reason.hashCode() << 8) ^ 0x5a;
    ManifestState.FileState was = known ? state.file(rel) : null;
    if (was != null && was.hash() == hash) {
      return null;
    }
    return new ManifestState.Change(rel, hash, ManifestParser.refused(state.display(rel), reason));
  }

  private static byte[] readAtMost(Path p, long max) throws IOException {
    try (java.io.InputStream in = Files.newInputStream(p)) {
      return in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max));
    }
  }

  private static long hash(byte[] bytes) {
    CRC32C a = new CRC32C();
    a.update(bytes);
    CRC32 b = new CRC32();
    b.update(bytes);
    return (a.getValue() << 32) ^ b.getValue() ^ ((long) bytes.length << 16);
  }

  private String rel(Path p) {
    return root.relativize(p).toString();
  }

  private void deliver(List<ModelEvent> events) {
    if (events.isEmpty()) {
      return;
    }
    try {
      sink.accept(List.copyOf(events));
    } catch (RuntimeException e) {
      LOG.error("manifests: the model rejected a batch of {} events from {}: {}", events.size(),
          LogText.escape(root.toString()), LogText.escape(e.toString()), e);
    }
  }

  /** Publishes the errors; logs the ones that are new, one line per document. */
  private void publishErrors() {
    List<SourceError> now = state.errors();
    Set<SourceError> old = new HashSet<>(errors);
    Map<String, List<SourceError>> byDocument = new LinkedHashMap<>();
    for (SourceError e : now) {
      if (!old.contains(e)) {
        byDocument.computeIfAbsent(e.file() + "\u0000" + e.document(), k -> new ArrayList<>()).add(e);
      }
    }
    for (List<SourceError> doc : byDocument.values()) {
      SourceError first = doc.get(0);
      StringBuilder b = new StringBuilder(first.toString());
      for (SourceError e : doc.subList(1, doc.size())) {
        b.append("; ").append(e.message());
      }
      // Names and values come from the files: escaped, so a file cannot write lines of its own into the log.
      if (first.document() < 0) {
        LOG.warn("manifests: file refused (the objects it held stay in force): {}", LogText.escape(b.toString()));
      } else {
        LOG.warn("manifests: document skipped (the last valid version of its object stays in force): {}",
            LogText.escape(b.toString()));
      }
    }
    errors = now;
    List<SourceError> warned = state.warnings();
    Set<SourceError> known = new HashSet<>(warnings);
    for (SourceError w : warned) {
      if (!known.contains(w)) {
        LOG.warn("manifests: warning: {}", LogText.escape(w.toString()));
      }
    }
    warnings = warned;
  }

  private static String ignored(Map<String, Integer> kinds) {
    return kinds.isEmpty() ? "" : "; ignored (kinds Sluice does not read): " + kinds;
  }

  // ---- watching ----

  private void watchLoop() {
    try {
      watchChanges();
    } catch (Throwable t) { // whatever ends the loop must show on /healthz, not only in a thread dump
      if (running) {
        failure = "the watcher of manifest directory " + root + " failed: " + t + "; changes are no longer applied";
        LOG.error("manifests: {}", LogText.escape(failure), t);
      }
      if (t instanceof Error e && !(t instanceof StackOverflowError)) {
        throw e;
      }
    }
  }

  private void watchChanges() {
    long maxDelayNanos = debounce.toNanos() * 5;
    while (running) {
      Set<Path> dirty = new LinkedHashSet<>();
      boolean[] overflow = new boolean[1];
      try {
        drain(watchService.take(), dirty, overflow);
        long first = System.nanoTime();
        long quietUntil = first + debounce.toNanos();
        while (true) {
          long wait = Math.min(quietUntil, first + maxDelayNanos) - System.nanoTime();
          if (wait <= 0) {
            break;
          }
          WatchKey k = watchService.poll(wait, TimeUnit.NANOSECONDS);
          if (k == null) {
            break;
          }
          drain(k, dirty, overflow);
          quietUntil = System.nanoTime() + debounce.toNanos();
        }
      } catch (ClosedWatchServiceException | InterruptedException e) {
        return;
      }
      try {
        synchronized (this) {
          if (running) {
            process(dirty, overflow[0]);
          }
        }
      } catch (RuntimeException e) {
        if (running) {
          LOG.error("manifests: applying changes under {} failed: {}", LogText.escape(root.toString()),
              LogText.escape(e.toString()), e);
        }
      }
    }
  }

  private void drain(WatchKey key, Set<Path> dirty, boolean[] overflow) {
    Path dir = watched.get(key);
    for (WatchEvent<?> ev : key.pollEvents()) {
      if (ev.kind() == OVERFLOW) {
        overflow[0] = true;
      } else if (dir != null) {
        dirty.add(dir.resolve((Path) ev.context()));
      }
    }
    if (!key.reset()) {
      watched.remove(key);
      if (key == rootKey && running && failure == null) {
        failure = "manifest directory " + root + " was deleted or unmounted; changes are no longer applied (the "
            + "objects last read stay in force until a restart)";
        LOG.error("manifests: {}", LogText.escape(failure));
      }
    }
  }

  private void process(Set<Path> dirty, boolean overflow) {
    long t0 = System.nanoTime();
    Set<Path> toRead = new LinkedHashSet<>();
    Set<String> deleted = new HashSet<>();
    boolean rescanAll = false;
    if (overflow) {
      LOG.info("manifests: too many changes at once under {}; rescanning everything", LogText.escape(root.toString()));
      rescan(root, toRead, deleted);
    }
    for (Path p : dirty) {
      String name = p.getFileName().toString();
      if (name.startsWith("..")) {
        // Kubernetes' atomic writer swapped ..data (ConfigMap/Secret volumes): the visible symlinks now point at
        // new files without any event of their own.
        rescan(p.getParent(), toRead, deleted);
      } else if (name.startsWith(".")) {
        continue; // editors' swap and temp files
      } else if (Files.isDirectory(p)) {
        rescan(p, toRead, deleted);
      } else if (watched.containsValue(p)) {
        // A directory, or a link to one, went: a directory it stood for may now be visible under another name.
        rescanAll = true;
      } else if (isManifest(name) && Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        toRead.add(p); // a file, or a link to one (reading it reports a link that leads nowhere readable)
      } else {
        gone(rel(p), deleted);
      }
    }
    if (rescanAll) {
      watched.values().removeIf(d -> !Files.isDirectory(d));
      rescan(root, toRead, deleted);
    }
    toRead.removeIf(p -> deleted.contains(rel(p)));
    Batch batch = read(new ArrayList<>(toRead), deleted, null);
    if (!running) {
      return; // stopped while reading: nothing of this batch applies
    }
    List<ModelEvent> events = state.apply(batch.changes);
    publishErrors(); // before the sink: whoever sees the new generation sees its errors
    deliver(events);
    if (!batch.changes.isEmpty()) {
      List<String> changed = batch.changes.stream().map(ManifestState.Change::file).sorted().toList();
      LOG.info("manifests: {} changed objects from {} changed files {} applied in {} ms; {} errors{}", events.size(),
          changed.size(), LogText.escape(String.valueOf(changed.size() <= 5 ? changed : changed.subList(0, 5) + "…")),
          (System.nanoTime() - t0) / 1_000_000, errors.size(), LogText.escape(ignored(batch.ignoredKinds)));
    }
  }

  /** Everything we knew at or below {@code rel} is gone (a deleted or renamed file or directory). */
  private void gone(String rel, Set<String> deleted) {
    String prefix = rel.isEmpty() ? "" : rel + root.getFileSystem().getSeparator();
    for (String f : state.files()) {
      if (f.equals(rel) || f.startsWith(prefix)) {
        deleted.add(f);
      }
    }
  }

  /** Re-lists a directory: new and changed (by size, mtime or target) files are read, vanished ones deleted. */
  private void rescan(Path dir, Set<Path> toRead, Set<String> deleted) {
    List<Path> now = new ArrayList<>();
    if (Files.isDirectory(dir)) {
      // Directories watched outside this one keep their names: reaching one of them again from here (a link to an
      // ancestor, say) must not read its files a second time under new names.
      Set<Path> seen = new HashSet<>();
      for (Path w : watched.values()) {
        if (!w.startsWith(dir)) {
          try {
            seen.add(w.toRealPath());
          } catch (IOException e) {
            // gone: nothing to protect
          }
        }
      }
      walk(dir, seen, now);
    }
    Set<String> present = new HashSet<>();
    for (Path p : now) {
      String rel = rel(p);
      present.add(rel);
      List<Object> stat;
      try {
        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
        stat = List.of(a.size(), a.lastModifiedTime().toMillis(), String.valueOf(a.fileKey()));
      } catch (IOException e) {
        toRead.add(p); // unreadable: read again, which keeps (or reports) its error
        continue;
      }
      if (state.file(rel) == null || !stat.equals(stats.get(rel))) {
        toRead.add(p);
      }
    }
    String base = rel(dir);
    Set<String> under = new HashSet<>();
    gone(base, under);
    under.removeIf(present::contains);
    deleted.addAll(under);
  }
}
