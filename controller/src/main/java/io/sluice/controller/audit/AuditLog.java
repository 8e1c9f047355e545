package io.sluice.controller.audit;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.rolling.FixedWindowRollingPolicy;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy;
import ch.qos.logback.core.util.FileSize;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.model.ObjectRef;
import io.sluice.renderer.policy.PolicyCompiler;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the switches' audit PACKET_INs ({@link Raw}, queued from the event loops without blocking) into
 * {@link AuditEvent}s on one thread of its own: repeats of one connection attempt within {@value #MERGE_MILLIS} ms
 * are merged into one entry with a count (as Antrea does), then each entry is named (pods by address, policies by
 * rule id, from the model of the moment) and written as one JSON line to the file, if any, and to the recent window.
 *
 * <p>Bounded everywhere: the queue ({@value #QUEUE} packets; past it packets are counted as dropped, never waited
 * for), the entries being merged ({@value #PENDING}; past it the oldest are written early), the recent window, and
 * the file (rotated by size into a fixed number of files).
 */
public final class AuditLog implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AuditLog.class);
  static final long MERGE_MILLIS = 1000;
  static final int QUEUE = 65_536;
  static final int PENDING = 100_000;
  /** How often the writer looks at the queue when little comes (see {@link #run}). */
  static final long DRAIN_MILLIS = 20;
  /** A drain this large means packets keep coming: drain again at once. */
  static final int BUSY_DRAIN = 1024;
  /** Characters of JSON lines gathered before they are handed to the file. */
  static final int FILE_CHUNK = 64 * 1024;
  private static final String NEWLINE = System.lineSeparator();

  /** Where the audit log counts what it sees (Sluice's Prometheus metrics). */
  public interface Metrics {
    /** A PACKET_IN received, {@code deny} or {@code allow}. */
    void auditPacket(String verdict);

    /** An entry written. */
    void auditEntry(String verdict);

    /** A PACKET_IN dropped: the queue was full. */
    void auditDropped();
  }

  /** Names for what a PACKET_IN carries: the pod that has an address, the rule behind a rule id. */
  public interface Names {
    Optional<ObjectRef> podAt(String ip);

    Optional<PolicyCompiler.RuleRef> rule(long id);
  }

  /**
   * Where the log goes: a file (null: none), rotated at {@code maxFileBytes} into {@code maxFiles} old files; the
   * switches' audit meter rates (packets per second per switch) for denied connections and for allowed ones.
   */
  public record Options(Path file, long maxFileBytes, int maxFiles, int recent, long denyRate, long allowRate) {
    public static final long DEFAULT_MAX_FILE_BYTES = 100L << 20;
    public static final int DEFAULT_MAX_FILES = 5;
    public static final int DEFAULT_RECENT = 10_000;

    public Options {
      if (maxFileBytes < 1024 || maxFiles < 1 || maxFiles > 20 || recent < 1) {
        throw new IllegalArgumentException("audit log: the file size must be at least 1 KiB (got " + maxFileBytes
            + "), the rotated files 1..20 (got " + maxFiles + "), the recent window at least 1 (got " + recent + ")");
      }
      if (denyRate < 1 || allowRate < 1 || denyRate > 0xffff_ffffL || allowRate > 0xffff_ffffL) {
        throw new IllegalArgumentException("audit meter rates must be 1..4294967295 packets/s, got " + denyRate
            + " (denied) and " + allowRate + " (allowed)");
      }
    }

    public static Options defaults(Path file) {
      return new Options(file, DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_FILES, DEFAULT_RECENT,
          io.sluice.renderer.pipeline.PipelineProfile.DEFAULT_AUDIT_DENY_RATE,
          io.sluice.renderer.pipeline.PipelineProfile.DEFAULT_AUDIT_ALLOW_RATE);
    }
  }

  /**
   * One audit PACKET_IN, as read on the event loop. {@code ruleId} 0: a deny by isolation. Addresses are in
   * {@link java.net.InetAddress#getHostAddress()} form; ports -1 when the protocol has none.
   */
  public record Raw(long wallMillis, String switchName, boolean ingress, boolean allow, long ruleId, String protocol,
                    String src, int srcPort, String dst, int dstPort, int length) {
    Key key() {
      return new Key(switchName, ingress, allow, ruleId, protocol, src, dst, dstPort);
    }
  }

  private record Key(String sw, boolean ingress, boolean allow, long ruleId, String protocol, String src, String dst,
                     int dstPort) { }

  private static final class Pending {
    final Raw first;
    long count = 1;

    Pending(Raw first) {
      this.first = first;
    }
  }

  private final Names names;
  private final ObjectMapper json = new ObjectMapper();
  private final BlockingQueue<Raw> queue = new ArrayBlockingQueue<>(QUEUE);
  private final LinkedHashMap<Key, Pending> pending = new LinkedHashMap<>();
  private final Deque<AuditEvent> recent = new ArrayDeque<>();
  private final int recentMax;
  private final ch.qos.logback.classic.Logger file;
  private final RollingFileAppender<ILoggingEvent> appender;
  private final Thread writer;
  private final Metrics metrics;
  private final java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
  private volatile boolean closing;
  /** The file's lines not yet appended (writer thread only). */
  private final StringBuilder lines = new StringBuilder();
  /** Entries in {@link #lines} (or, without a file, in the recent window) not yet counted in {@link #written}. */
  private int unappended;

  public AuditLog(Options options, Names names, Metrics metrics) {
    this.names = names;
    this.recentMax = options.recent();
    this.metrics = metrics;
    if (options.file() != null) {
      LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
      String path = options.file().toAbsolutePath().toString();
      appender = new RollingFileAppender<>();
      appender.setContext(ctx);
      appender.setName("audit");
      appender.setFile(path);
      FixedWindowRollingPolicy roll = new FixedWindowRollingPolicy();
      roll.setContext(ctx);
      roll.setParent(appender);
      roll.setFileNamePattern(path + ".%i");
      roll.setMinIndex(1);
      roll.setMaxIndex(options.maxFiles());
      roll.start();
      SizeBasedTriggeringPolicy<ILoggingEvent> size = new SizeBasedTriggeringPolicy<>();
      size.setContext(ctx);
      size.setMaxFileSize(new FileSize(options.maxFileBytes()));
      size.setCheckIncrement(ch.qos.logback.core.util.Duration.buildBySeconds(1));
      size.start();
      PatternLayoutEncoder enc = new PatternLayoutEncoder();
      enc.setContext(ctx);
      enc.setPattern("%msg%n");
      enc.start();
      appender.setRollingPolicy(roll);
      appender.setTriggeringPolicy(size);
      appender.setEncoder(enc);
      appender.start();
      if (!appender.isStarted()) {
        throw new IllegalArgumentException("--audit-log " + path + ": cannot write there (check the directory exists"
            + " and is writable)");
      }
      file = ctx.getLogger("sluice.audit." + System.identityHashCode(this));
      file.setAdditive(false);
      file.setLevel(Level.INFO);
      file.addAppender(appender);
      LOG.info("audit log: {} (rotated at {} bytes, {} old files kept)", path, options.maxFileBytes(), options.maxFiles());
    } else {
      appender = null;
      file = null;
    }
    writer = new Thread(this::run, "sluice-audit");
    writer.setDaemon(true);
    writer.start();
  }

  /** Queues one packet; never blocks (a full queue counts it as dropped). */
  public void offer(Raw r) {
    metrics.auditPacket(verdict(r.allow()));
    if (!queue.offer(r)) {
      metrics.auditDropped();
    }
  }

  /** The most recent entries, newest first, that concern the namespace, pod and policy given (null: any). */
  public List<AuditEvent> recent(String namespace, String pod, String policy, int limit) {
    List<AuditEvent> out = new ArrayList<>();
    synchronized (recent) {
      for (Iterator<AuditEvent> it = recent.descendingIterator(); it.hasNext() && out.size() < limit; ) {
        AuditEvent e = it.next();
        if (e.matches(namespace, pod, policy)) {
          out.add(e);
        }
      }
    }
    return out;
  }

  /** Entries written so far (all verdicts): in the recent window and, with a file, handed to it. */
  public long written() {
    return written.get();
  }

  private static String verdict(boolean allow) {
    return allow ? "allow" : "deny";
  }

  /**
   * Drains the queue every {@value #DRAIN_MILLIS} ms, or at once again while it keeps filling: the event loops that
   * offer never wake this thread (a wake-up per packet cost a futex call on the event loop and a context switch per
   * packet, on the cores the switch's datapath needs), and the merge window is a second anyway.
   */
  private void run() {
    List<Raw> batch = new ArrayList<>(1024);
    while (true) {
      boolean last = closing; // read before draining: what was queued before close() is written
      try {
        queue.drainTo(batch);
        int drained = batch.size();
        for (Raw x : batch) {
          Pending p = pending.get(x.key());
          if (p != null) {
            p.count++;
          } else {
            if (pending.size() >= PENDING) {
              flush(Long.MAX_VALUE, 1);
            }
            pending.put(x.key(), new Pending(x));
          }
        }
        batch.clear();
        flush(System.currentTimeMillis() - MERGE_MILLIS, Integer.MAX_VALUE);
        if (last) {
          break;
        }
        if (drained < BUSY_DRAIN) {
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(DRAIN_MILLIS));
        }
      } catch (RuntimeException e) {
        batch.clear();
        lines.setLength(0);
        unappended = 0;
        LOG.warn("audit log: an entry could not be written ({}); continuing", e.toString());
      }
    }
    flush(Long.MAX_VALUE, Integer.MAX_VALUE);
  }

  /**
   * Writes the pending entries first seen at or before {@code upTo} (oldest first), at most {@code max} of them: to
   * the recent window one by one, to the file together (one append, so one write to the file, per
   * {@value #FILE_CHUNK} characters rather than per entry).
   */
  private void flush(long upTo, int max) {
    int n = 0;
    for (Iterator<Pending> it = pending.values().iterator(); it.hasNext() && n < max; n++) {
      Pending p = it.next();
      if (p.first.wallMillis() > upTo) {
        break;
      }
      it.remove();
      write(event(p.first, p.count));
      if (lines.length() >= FILE_CHUNK) {
        appendLines();
      }
    }
    appendLines();
  }

  /** Hands the lines gathered to the file's appender as one event (its pattern ends the last line). */
  private void appendLines() {
    if (lines.length() > 0) {
      file.info(lines.toString());
      lines.setLength(0);
    }
    written.addAndGet(unappended);
    unappended = 0;
  }

  AuditEvent event(Raw r, long count) {
    String policy = "isolation";
    Integer rule = null;
    if (r.ruleId() != 0) {
      Optional<PolicyCompiler.RuleRef> ref = names.rule(r.ruleId());
      policy = ref.map(x -> x.policy().toString()).orElse("unknown-rule-" + r.ruleId());
      rule = ref.map(PolicyCompiler.RuleRef::rule).orElse(null);
    }
    return new AuditEvent(Instant.ofEpochMilli(r.wallMillis()).toString(), r.switchName(),
        r.ingress() ? "ingress" : "egress", verdict(r.allow()), policy, rule, r.protocol(),
        peer(r.src(), r.srcPort()), peer(r.dst(), r.dstPort()), r.length(), count);
  }

  private AuditEvent.Peer peer(String ip, int port) {
    Optional<ObjectRef> pod = names.podAt(ip);
    return new AuditEvent.Peer(pod.map(ObjectRef::namespace).orElse(null), pod.map(ObjectRef::name).orElse(null), ip,
        port < 0 ? null : port);
  }

  private void write(AuditEvent e) {
    metrics.auditEntry(e.verdict());
    unappended++;
    synchronized (recent) {
      if (recent.size() >= recentMax) {
        recent.removeFirst();
      }
      recent.addLast(e);
    }
    if (file != null) {
      if (lines.length() > 0) {
        lines.append(NEWLINE);
      }
      try {
        json.writeValue(new StringBuilderWriter(lines), e);
      } catch (java.io.IOException ex) {
        throw new IllegalStateException(ex);
      }
    }
  }

  /** JSON text of an entry, as the file and the API show it. */
  public String toJson(AuditEvent e) {
    try {
      return json.writeValueAsString(e);
    } catch (JsonProcessingException ex) {
      throw new IllegalStateException(ex);
    }
  }

  /** Writes what is queued and pending (within a second), then stops. */
  @Override
  public void close() {
    closing = true;
    LockSupport.unpark(writer);
    try {
      writer.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (appender != null) {
      appender.stop();
    }
  }

  /** A writer onto a StringBuilder, unsynchronized (the writer thread's own). */
  private static final class StringBuilderWriter extends java.io.Writer {
    private final StringBuilder sb;

    StringBuilderWriter(StringBuilder sb) {
      this.sb = sb;
    }

    @Override
    public void write(char[] c, int off, int len) {
      sb.append(c, off, len);
    }

    @Override
    public void write(String str, int off, int len) {
      sb.append(str, off, off + len);
    }

    @Override
    public void flush() { }

    @Override
    public void close() { }
  }

  /** Queued, not yet merged. */
  int queued() {
    return queue.size();
  }
}
