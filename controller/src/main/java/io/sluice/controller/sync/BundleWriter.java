package io.sluice.controller.sync;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.sluice.controller.session.OpenFlowException;
import io.sluice.controller.session.SwitchError;
import io.sluice.controller.session.SwitchSession;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.projectfloodlight.openflow.protocol.OFVersion;

/**
 * Sends a list of flow-mods to one switch as one atomic, ordered bundle (OpenFlow 1.4/1.5 bundles; on OpenFlow 1.3
 * the ONF bundle extension), then a barrier; once that barrier shows no message was refused it commits the bundle
 * (else discards it) and confirms with a second barrier. A switch that refuses a message in the bundle
 * leaves its tables exactly as before; the result names the refused flow and the switch's reason.
 * A switch that does not answer the ONF extension gets ordered flow-mods and a barrier, reported as non-atomic.
 *
 * <p>Messages are written in large chunks (not one channel write per flow) so pushing 100,000 flows costs about
 * what the switch itself needs.
 */
public final class BundleWriter {
  static final int OFPT_EXPERIMENTER = 4;
  static final int OFPT_BUNDLE_CONTROL = 33;
  static final int OFPT_BUNDLE_ADD_MESSAGE = 34;
  static final long ONF_EXPERIMENTER = 0x4f4e4600L;
  static final int ONFT_BUNDLE_CONTROL = 2300;
  static final int ONFT_BUNDLE_ADD_MESSAGE = 2301;
  static final int OPEN_REQUEST = 0;
  static final int COMMIT_REQUEST = 4;
  static final int DISCARD_REQUEST = 6;
  static final int FLAGS_ATOMIC_ORDERED = 3;
  private static final int CHUNK = 256 * 1024;
  private static final AtomicInteger BUNDLE_IDS = new AtomicInteger(1);

  private final Duration timeout;

  public BundleWriter(Duration timeout) {
    this.timeout = timeout;
  }

  /** Pushes ops as one bundle (or ordered flow-mods when bundles are unavailable). Never blocks. */
  public CompletableFuture<PushResult> push(SwitchSession s, List<FlowOp> ops, boolean useBundle) {
    return push(s, ops.iterator(), ops.size(), useBundle);
  }

  /**
   * Pushes ops produced lazily by {@code ops} (at most {@code maxOps} of them): each op is encoded and streamed as it
   * comes, so the switch decodes the first flow-mods while later ones are still being computed. Returns once
   * everything is written; the future completes at the confirming barrier.
   */
  public CompletableFuture<PushResult> push(SwitchSession s, java.util.Iterator<FlowOp> ops, int maxOps, boolean useBundle) {
    long started = System.nanoTime();
    if (!ops.hasNext()) {
      return s.barrier().thenApply(v -> new PushResult(true, true, 0, Duration.ofNanos(System.nanoTime() - started), List.of(), null));
    }
    OFVersion v = s.version();
    int wire = v.getWireVersion();
    long first = s.reserveXids(maxOps + 4);
    long openXid = first;
    long commitXid = first + maxOps + 1;
    long barrierXid = first + maxOps + 2;
    long addedXid = first + maxOps + 3;
    int bundleId = BUNDLE_IDS.getAndIncrement() & 0x7fffffff;
    List<FlowOp> sent = Collections.synchronizedList(new ArrayList<>());

    // Expectations are registered on the event loop first; the chunk writes below queue behind that task, so no
    // reply can arrive before its expectation exists.
    List<PushResult.Refusal> refused = Collections.synchronizedList(new ArrayList<>());
    boolean[] discarded = {false};
    CompletableFuture<PushResult> result = new CompletableFuture<>();
    boolean onf = wire == OFVersion.OF_13.getWireVersion();
    s.execute(() -> {
      CompletableFuture<Object> open = useBundle ? s.expectReply(openXid, onf) : null;
      CompletableFuture<Object> commit = useBundle ? s.expectReply(commitXid, onf) : null;
      CompletableFuture<Object> barrier = s.expectReply(barrierXid, false);
      if (useBundle) {
        // OVS refuses a flow-mod it cannot decode at BUNDLE_ADD and would commit the rest: so the commit waits for a
        // barrier behind the adds, and a bundle with any refused message is discarded instead
        s.expectReply(addedXid, false).whenComplete((reply, err) -> {
          io.netty.util.ReferenceCountUtil.release(reply);
          boolean discard = err != null || !refused.isEmpty();
          discarded[0] = discard;
          ByteBuf out = s.channel().alloc().buffer(64);
          writeControl(out, wire, commitXid, bundleId, discard ? DISCARD_REQUEST : COMMIT_REQUEST);
          s.factory().buildBarrierRequest().setXid(barrierXid).build().writeTo(out);
          s.writeRaw(out, true);
        });
      }
      Runnable unregister = s.onErrors(first + 1, first + maxOps, (SwitchError e) -> {
        int idx = (int) (e.xid() - first - 1);
        FlowOp op = idx < sent.size() ? sent.get(idx) : null;
        refused.add(new PushResult.Refusal(op != null ? op.description() : "message xid " + e.xid(),
            op != null ? op.cookie() : 0, e.description()));
      });
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
          failure = "bundle discarded, nothing changed: " + refused.size() + " flow-mod(s) refused";
        } else if (useBundle && commit.isCompletedExceptionally()) {
          failure = "bundle refused: " + rootMessage(commit.handle((a, b) -> b).join());
        } else if (!refused.isEmpty()) {
          failure = refused.size() + " flow-mods refused";
        }
        result.complete(new PushResult(failure == null, useBundle, sent.size(), took, List.copyOf(refused), failure));
      });
    });

    // Encode on this (sync) thread and stream each chunk out as soon as it is full.
    ByteBufAllocator alloc = s.channel().alloc();
    ByteBuf cur = alloc.buffer(CHUNK);
    if (useBundle) {
      writeControl(cur, wire, openXid, bundleId, OPEN_REQUEST);
    }
    for (int i = 0; ops.hasNext(); i++) {
      if (i >= maxOps) {
        cur.release();
        throw new IllegalStateException("more than the announced " + maxOps + " flow-mods");
      }
      if (cur.writerIndex() > CHUNK - 1024) {
        s.writeRaw(cur, true);
        cur = alloc.buffer(CHUNK);
      }
      long x = first + 1 + i;
      FlowOp op = ops.next();
      sent.add(op);
      if (useBundle) {
        int start = cur.writerIndex();
        if (onf) {
          cur.writeByte(wire).writeByte(OFPT_EXPERIMENTER).writeShort(0).writeInt((int) x);
          cur.writeInt((int) ONF_EXPERIMENTER).writeInt(ONFT_BUNDLE_ADD_MESSAGE);
        } else {
          cur.writeByte(wire).writeByte(OFPT_BUNDLE_ADD_MESSAGE).writeShort(0).writeInt((int) x);
        }
        cur.writeInt(bundleId).writeShort(0).writeShort(FLAGS_ATOMIC_ORDERED);
        op.writer().write(cur, x);
        int len = cur.writerIndex() - start;
        if (len > 0xffff) {
          cur.release();
          throw new IllegalStateException("flow-mod too long for a bundle: " + op.description());
        }
        cur.setShort(start + 2, len);
      } else {
        op.writer().write(cur, x);
      }
    }
    s.factory().buildBarrierRequest().setXid(useBundle ? addedXid : barrierXid).build().writeTo(cur);
    s.writeRaw(cur, true);
    return result;
  }

  /** Whether a bundle-open failure means "this switch has no bundles" (so fall back to plain flow-mods). */
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

  static void writeControl(ByteBuf out, int wire, long xid, int bundleId, int type) {
    if (wire == OFVersion.OF_13.getWireVersion()) {
      out.writeByte(wire).writeByte(OFPT_EXPERIMENTER).writeShort(24).writeInt((int) xid);
      out.writeInt((int) ONF_EXPERIMENTER).writeInt(ONFT_BUNDLE_CONTROL);
    } else {
      out.writeByte(wire).writeByte(OFPT_BUNDLE_CONTROL).writeShort(16).writeInt((int) xid);
    }
    out.writeInt(bundleId).writeShort(type).writeShort(FLAGS_ATOMIC_ORDERED);
  }
}
