package io.sluice.controller.sync;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.sluice.controller.session.OpenFlowException;
import io.sluice.controller.session.SwitchError;
import io.sluice.controller.session.SwitchSession;
import io.sluice.controller.wire.Bundles;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.projectfloodlight.openflow.protocol.OFVersion;

/**
 * Sends messages to one switch as one atomic, ordered bundle (OpenFlow 1.4/1.5 bundles; on OpenFlow 1.3 the ONF
 * bundle extension), then a barrier; once that barrier shows no message was refused it commits the bundle (else
 * discards it) and confirms with a second barrier. A switch that refuses a message in the bundle leaves its tables
 * exactly as before; the result names what was refused and the switch's reason. A switch that does not answer the
 * ONF extension gets ordered messages and a barrier, reported as non-atomic. Messages that cannot travel in a
 * bundle (meters) go out {@linkplain #sendPlain plainly}, confirmed by a barrier.
 *
 * <p>This is orchestration only (xids, expectations, barriers, results): every byte is written by the ops' writers
 * and by {@link Bundles}. Messages are written in large chunks (not one channel write per flow) so pushing 100,000
 * flows costs about what the switch itself needs.
 */
public final class BundleWriter {
  private static final int CHUNK = 256 * 1024;
  private static final AtomicInteger BUNDLE_IDS = new AtomicInteger(1);

  private final Duration timeout;

  public BundleWriter(Duration timeout) {
    this.timeout = timeout;
  }

  /** Pushes ops as one bundle (or ordered messages when bundles are unavailable). Never blocks. */
  public CompletableFuture<PushResult> push(SwitchSession s, List<SwitchOp> ops, boolean useBundle) {
    return push(s, ops.iterator(), ops.size(), useBundle);
  }

  /**
   * Pushes ops produced lazily by {@code ops} (at most {@code maxOps} of them): each op is encoded and streamed as it
   * comes, so the switch decodes the first messages while later ones are still being computed. Returns once
   * everything is written; the future completes at the confirming barrier.
   */
  public CompletableFuture<PushResult> push(SwitchSession s, java.util.Iterator<SwitchOp> ops, int maxOps, boolean useBundle) {
    long started = System.nanoTime();
    if (!ops.hasNext()) {
      return s.barrier().thenApply(v -> new PushResult(true, true, PushResult.Sent.NONE,
          Duration.ofNanos(System.nanoTime() - started), List.of(), null));
    }
    OFVersion v = s.version();
    long first = s.reserveXids(maxOps + 4);
    long openXid = first;
    long commitXid = first + maxOps + 1;
    long barrierXid = first + maxOps + 2;
    long addedXid = first + maxOps + 3;
    int bundleId = BUNDLE_IDS.getAndIncrement() & 0x7fffffff;
    List<SwitchOp> sent = Collections.synchronizedList(new ArrayList<>());

    // Expectations are registered on the event loop first; the chunk writes below queue behind that task, so no
    // reply can arrive before its expectation exists.
    List<PushResult.Refusal> refused = Collections.synchronizedList(new ArrayList<>());
    boolean[] discarded = {false};
    CompletableFuture<PushResult> result = new CompletableFuture<>();
    boolean onf = Bundles.onf(v);
    s.execute(() -> {
      CompletableFuture<Object> open = useBundle ? s.expectReply(openXid, onf) : null;
      CompletableFuture<Object> commit = useBundle ? s.expectReply(commitXid, onf) : null;
      CompletableFuture<Object> barrier = s.expectReply(barrierXid, false);
      if (useBundle) {
        // OVS refuses a message it cannot decode at BUNDLE_ADD and would commit the rest: so the commit waits for a
        // barrier behind the adds, and a bundle with any refused message is discarded instead
        s.expectReply(addedXid, false).whenComplete((reply, err) -> {
          io.netty.util.ReferenceCountUtil.release(reply);
          boolean discard = err != null || !refused.isEmpty();
          discarded[0] = discard;
          ByteBuf out = s.channel().alloc().buffer(64);
          Bundles.writeControl(out, v, commitXid, bundleId, discard ? Bundles.DISCARD_REQUEST : Bundles.COMMIT_REQUEST);
          Bundles.writeBarrier(out, v, barrierXid);
          s.writeRaw(out, true);
        });
      }
      Runnable unregister = s.onErrors(first + 1, first + maxOps, (SwitchError e) -> refused.add(refusal(sent, first, e)));
      barrier.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).whenComplete((ok, err) -> {
        s.execute(unregister);
        release(open);
        release(commit);
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        String failure = null;
        if (err != null) {
          failure = "no barrier reply: " + rootMessage(err);
        } else if (useBundle && open.isCompletedExceptionally()) {
          failure = "bundle open refused: " + rootMessage(open.handle((a, b) -> b).join());
        } else if (useBundle && discarded[0]) {
          failure = "bundle discarded, nothing changed: " + refused.size() + " message(s) refused";
        } else if (useBundle && commit.isCompletedExceptionally()) {
          failure = "bundle refused: " + rootMessage(commit.handle((a, b) -> b).join());
        } else if (!refused.isEmpty()) {
          failure = refused.size() + " message(s) refused";
        }
        PushResult.Sent counts;
        synchronized (sent) {
          counts = PushResult.Sent.of(sent);
        }
        result.complete(new PushResult(failure == null, useBundle, counts, took, List.copyOf(refused), failure));
      });
    });

    // Encode on this (sync) thread and stream each chunk out as soon as it is full.
    ByteBufAllocator alloc = s.channel().alloc();
    ByteBuf cur = alloc.buffer(CHUNK);
    if (useBundle) {
      Bundles.writeControl(cur, v, openXid, bundleId, Bundles.OPEN_REQUEST);
    }
    try {
      for (int i = 0; ops.hasNext(); i++) {
        if (i >= maxOps) {
          throw new IllegalStateException("more than the announced " + maxOps + " messages");
        }
        if (cur.writerIndex() > CHUNK - 1024) {
          s.writeRaw(cur, true);
          cur = alloc.buffer(CHUNK);
        }
        long x = first + 1 + i;
        SwitchOp op = ops.next();
        sent.add(op);
        if (useBundle) {
          int start = Bundles.beginAdd(cur, v, x, bundleId);
          op.writer().write(cur, x);
          Bundles.endAdd(cur, start, () -> op.target() + " " + op.description());
        } else {
          op.writer().write(cur, x);
        }
      }
    } catch (RuntimeException e) {
      // nothing of this push takes effect: an open bundle is never committed and idles out on the switch
      cur.release();
      throw e;
    }
    Bundles.writeBarrier(cur, v, useBundle ? addedXid : barrierXid);
    s.writeRaw(cur, true);
    return result;
  }

  /**
   * Sends ops as plain ordered messages outside any bundle (what OVS refuses in bundles: meters), then a barrier;
   * the future completes at the barrier with what the switch refused. Never blocks.
   */
  public CompletableFuture<PushResult> sendPlain(SwitchSession s, List<SwitchOp> ops) {
    long started = System.nanoTime();
    if (ops.isEmpty()) {
      return CompletableFuture.completedFuture(new PushResult(true, false, PushResult.Sent.NONE, Duration.ZERO, List.of(), null));
    }
    OFVersion v = s.version();
    long first = s.reserveXids(ops.size() + 2);
    long barrierXid = first + ops.size() + 1;
    List<SwitchOp> sent = List.copyOf(ops);
    List<PushResult.Refusal> refused = Collections.synchronizedList(new ArrayList<>());
    CompletableFuture<PushResult> result = new CompletableFuture<>();
    ByteBuf out = s.channel().alloc().buffer(64 * ops.size() + 16);
    try {
      for (int i = 0; i < sent.size(); i++) {
        sent.get(i).writer().write(out, first + 1 + i);
      }
      Bundles.writeBarrier(out, v, barrierXid);
    } catch (RuntimeException e) {
      out.release();
      throw e;
    }
    s.execute(() -> {
      CompletableFuture<Object> barrier = s.expectReply(barrierXid, false);
      Runnable unregister = s.onErrors(first + 1, first + sent.size(), e -> refused.add(refusal(sent, first, e)));
      barrier.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).whenComplete((ok, err) -> {
        s.execute(unregister);
        String failure = err != null ? "no barrier reply: " + rootMessage(err)
            : refused.isEmpty() ? null : refused.size() + " message(s) refused";
        result.complete(new PushResult(failure == null, false, PushResult.Sent.of(sent),
            Duration.ofNanos(System.nanoTime() - started), List.copyOf(refused), failure));
      });
      s.writeRaw(out, true);
    });
    return result;
  }

  private static PushResult.Refusal refusal(List<SwitchOp> sent, long first, SwitchError e) {
    int idx = (int) (e.xid() - first - 1);
    SwitchOp op;
    synchronized (sent) {
      op = idx >= 0 && idx < sent.size() ? sent.get(idx) : null;
    }
    return new PushResult.Refusal(op != null ? op.description() : "message xid " + e.xid(), op != null ? op.cookie() : 0,
        e.description(), op != null ? op.subject() : null);
  }

  /** Whether a bundle-open failure means "this switch has no bundles" (so fall back to plain messages). */
  static boolean bundlesUnsupported(PushResult r) {
    return !r.applied() && r.failure() != null && r.failure().startsWith("bundle open refused")
        && (r.failure().contains("BAD_EXPERIMENTER") || r.failure().contains("BAD_TYPE") || r.failure().contains("experimenter error"));
  }

  private static void release(CompletableFuture<Object> f) {
    if (f != null) {
      f.thenAccept(io.netty.util.ReferenceCountUtil::release);
    }
  }

  private static String rootMessage(Throwable t) {
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t instanceof OpenFlowException || t.getMessage() != null ? t.getMessage() : t.toString();
  }
}
