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

  private final Path root;
  private final Duration debounce;
  private final int parserThreads;
  private final ManifestParser parser = new ManifestParser(new ObjectConverter());
  private final ManifestState state;
  /** Size, mtime and file key of each known file's target, to find changed files cheaply on rescans. */
  private final Map<String, List<Object>> stats = new HashMap<>();
  private final Map<WatchKey, Path> watched = new HashMap<>();
  private ExecutorService pool;
  private WatchService watchService;
  private Thread watcher;
  private EventSink sink;
  private volatile boolean running;
  private volatile boolean ready;
  private volatile List<SourceError> errors = List.of();

  /** A source for {@code dir} with the default debounce and up to 4 parser threads. */
  public ManifestSource(Path dir) {
    this(dir, DEFAULT_DEBOUNCE, Math.min(4, Runtime.getRuntime().availableProcessors()));
  }

  public ManifestSource(Path dir, Duration debounce, int parserThreads) {
    this.root = Objects.requireNonNull(dir, "dir");
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
    running = true;
    List<Path> files = new ArrayList<>();
    walk(root, new HashSet<>(), files);
    // In path order, so each run of parsed files can be applied while the later ones are still being parsed.
    files = inPathOrder(files);
    ManifestState.Staging staging = state.begin();
    Batch batch = read(files, Set.of(), staging::add);
    List<ModelEvent> events = staging.finish();
    publishErrors(); // before the sink: whoever sees the new generation sees its errors
    deliver(events);
    ready = true;
    LOG.info("manifests: loaded {} from {} files under {} in {} ms; {} EndpointSlices derived from Services; {} errors{}",
        state.counts(), files.size(), root, (System.nanoTime() - t0) / 1_000_000, state.derivedSlices(), errors.size(),
        ignored(batch.ignoredKinds));
    watcher = new Thread(this::watchLoop, "sluice-manifest-watcher");
    watcher.setDaemon(true);
    watcher.start();
  }

  @Override
  public void stop() {
    Thread w;
    synchronized (this) {
      if (!running) {
        return;
      }
      running = false;
      w = watcher;
      try {
        watchService.close();
      } catch (IOException e) {
        LOG.warn("manifests: closing the watch service of {} failed: {}", root, e.toString());
      }
    }
    if (w != null && w != Thread.currentThread()) {
      try {
        w.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    pool.shutdownNow();
  }

  @Override
  public List<SourceError> errors() {
    return errors;
  }

  @Override
  public boolean ready() {
    return ready;
  }

  /** The directory this source reads. */
  public Path directory() {
    return root;
  }

  // ---- reading ----

  private static boolean isManifest(String name) {
    return !name.startsWith(".") && (name.endsWith(".yaml") || name.endsWith(".yml") || name.endsWith(".json"));
  }

  /** Registers {@code dir} and every directory below it, and collects the manifest files. */
  private void walk(Path dir, Set<Path> seen, List<Path> files) {
    try {
      if (!seen.add(dir.toRealPath())) {
        return; // a symlink loop
      }
      watched.put(dir.register(watchService, ENTRY_CREATE, ENTRY_DELETE, ENTRY_MODIFY), dir);
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
        for (Path p : entries) {
          String name = p.getFileName().toString();
          if (name.startsWith(".")) {
            continue;
          }
          BasicFileAttributes a;
          try {
            a = Files.readAttributes(p, BasicFileAttributes.class); // one stat, following symlinks
          } catch (IOException e) {
            continue; // gone, or a dangling link: neither a directory nor a file
          }
          if (a.isDirectory()) {
            walk(p, seen, files);
          } else if (a.isRegularFile() && isManifest(name)) {
            files.add(p);
          }
        }
      }
    } catch (NoSuchFileException e) {
      // Gone while we looked: its delete event follows.
    } catch (IOException e) {
      LOG.warn("manifests: cannot list {}: {}", dir, e.toString());
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
    try {
      BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
      stat = List.of(a.size(), a.lastModifiedTime().toMillis(), String.valueOf(a.fileKey()));
      bytes = Files.readAllBytes(p);
    } catch (NoSuchFileException e) {
      return !known || state.file(rel) == null ? null : new ManifestState.Change(rel, 0, null);
    } catch (IOException e) {
      LOG.warn("manifests: cannot read {}: {}; keeping what it held", p, e.toString());
      return null;
    }
    synchronized (stats) {
      stats.put(rel, stat);
    }
    long hash = hash(bytes);
    ManifestState.FileState was = known ? state.file(rel) : null;
    if (was != null && was.hash() == hash) {
      return null;
    }
    String name = p.getFileName().toString();
    return new ManifestState.Change(rel, hash, parser.parse(state.display(rel), bytes, name.endsWith(".json")));
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
      LOG.error("manifests: the model rejected a batch of {} events from {}: {}", events.size(), root, e.toString(), e);
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
      LOG.warn("manifests: document skipped (the last valid version of its object stays in force): {}", b);
    }
    errors = now;
  }

  private static String ignored(Map<String, Integer> kinds) {
    return kinds.isEmpty() ? "" : "; ignored (kinds Sluice does not read): " + kinds;
  }

  // ---- watching ----

  private void watchLoop() {
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
        LOG.error("manifests: applying changes under {} failed: {}", root, e.toString(), e);
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
    }
  }

  private void process(Set<Path> dirty, boolean overflow) {
    long t0 = System.nanoTime();
    Set<Path> toRead = new LinkedHashSet<>();
    Set<String> deleted = new HashSet<>();
    if (overflow) {
      LOG.info("manifests: too many changes at once under {}; rescanning everything", root);
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
      } else if (isManifest(name) && Files.isRegularFile(p)) {
        toRead.add(p);
      } else {
        gone(rel(p), deleted);
      }
    }
    toRead.removeIf(p -> deleted.contains(rel(p)));
    Batch batch = read(new ArrayList<>(toRead), deleted, null);
    List<ModelEvent> events = state.apply(batch.changes);
    publishErrors(); // before the sink: whoever sees the new generation sees its errors
    deliver(events);
    if (!batch.changes.isEmpty()) {
      List<String> changed = batch.changes.stream().map(ManifestState.Change::file).sorted().toList();
      LOG.info("manifests: {} changed objects from {} changed files {} applied in {} ms; {} errors{}", events.size(),
          changed.size(), changed.size() <= 5 ? changed : changed.subList(0, 5) + "…",
          (System.nanoTime() - t0) / 1_000_000, errors.size(), ignored(batch.ignoredKinds));
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
      walk(dir, new HashSet<>(), now);
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
