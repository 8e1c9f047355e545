package io.sluice.controller.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.sluice.controller.logging.LogLimiter;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.projectfloodlight.openflow.exceptions.OFParseError;
import org.projectfloodlight.openflow.protocol.OFEchoReply;
import org.projectfloodlight.openflow.protocol.OFEchoRequest;
import org.projectfloodlight.openflow.protocol.OFErrorMsg;
import org.projectfloodlight.openflow.protocol.OFFactories;
import org.projectfloodlight.openflow.protocol.OFFactory;
import org.projectfloodlight.openflow.protocol.OFFeaturesReply;
import org.projectfloodlight.openflow.protocol.OFHelloFailedCode;
import org.projectfloodlight.openflow.protocol.OFMessage;
import org.projectfloodlight.openflow.protocol.OFStatsReply;
import org.projectfloodlight.openflow.protocol.OFStatsReplyFlags;
import org.projectfloodlight.openflow.protocol.OFStatsRequest;
import org.projectfloodlight.openflow.protocol.OFType;
import org.projectfloodlight.openflow.protocol.OFVersion;
import org.projectfloodlight.openflow.protocol.errormsg.OFHelloFailedErrorMsg;
import org.projectfloodlight.openflow.types.DatapathId;
import org.projectfloodlight.openflow.types.OFErrorCauseData;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One switch connection: the handshake as an explicit state machine, then an active session that correlates
 * requests and replies by xid, answers and sends echoes, and declares the switch gone when it stops answering.
 *
 * <p>All state is touched only on the channel's event loop; public methods may be called from any thread and
 * return futures. Nothing here blocks. Frames arrive already cut ({@link OfFrameDecoder}); each is decoded on its
 * own, and one that OpenFlowJ cannot read is counted, logged once per message type, and the connection stays up.
 */
public final class SwitchSession extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(SwitchSession.class);
  /** Versions Sluice speaks, best last. */
  public static final Set<OFVersion> ACCEPTED = EnumSet.of(OFVersion.OF_13, OFVersion.OF_14, OFVersion.OF_15);
  static final long ONF_EXPERIMENTER = 0x4f4e4600L;

  /** Handshake states; each says what it accepts and what comes next. */
  public enum State {
    /** Our HELLO is out; waiting for the switch's, to agree on a version. */
    WAIT_HELLO,
    /** FEATURES_REQUEST sent: waiting for the datapath id. */
    WAIT_FEATURES_REPLY {
      @Override
      void handle(SwitchSession s, OFMessage m) {
        if (m instanceof OFFeaturesReply r) {
          s.dpid = r.getDatapathId();
          s.dpidText = s.dpid.toString();
          s.tableCount = r.getNTables();
          if (!s.admitted()) {
            return;
          }
          s.requestPortDescriptions();
          s.state = WAIT_PORT_DESC;
        } else {
          super.handle(s, m);
        }
      }
    },
    /** Port description multipart sent: waiting for every part (read raw, see {@link PortDescriptions}). */
    WAIT_PORT_DESC {
      @Override
      void portDescriptions(SwitchSession s, long xid, List<SwitchPort> ports, boolean more) {
        if (xid != s.handshakeXid) {
          return;
        }
        ports.forEach(s::putPort);
        if (!more) {
          s.requestTableFeatures();
          s.state = WAIT_TABLE_FEATURES;
        }
      }
    },
    /** Table features asked for, where offered; any answer (or an error or unreadable reply) ends the handshake. */
    WAIT_TABLE_FEATURES {
      @Override
      void handle(SwitchSession s, OFMessage m) {
        if (m.getXid() == s.handshakeXid && m instanceof OFStatsReply r) {
          s.tableFeatureParts++;
          if (!r.getFlags().contains(OFStatsReplyFlags.REPLY_MORE)) {
            s.becomeActive();
          }
        } else {
          super.handle(s, m);
        }
      }

      @Override
      void unreadable(SwitchSession s, long xid, boolean more) {
        if (xid == s.handshakeXid) {
          s.tableFeatureParts++; // counted as unreadable already; table features are informational
          if (!more) {
            s.becomeActive();
          }
        }
      }

      @Override
      void error(SwitchSession s, SwitchError e) {
        if (e.xid() == s.handshakeXid) {
          LOG.info("switch {} does not offer table features ({}); continuing", s.dpidText, e.description());
          s.becomeActive();
        }
      }
    },
    /** Handshake done: requests and replies flow. */
    ACTIVE {
      @Override
      void handle(SwitchSession s, OFMessage m) {
        if (!s.completeRequest(m)) {
          super.handle(s, m);
        }
      }

      @Override
      void error(SwitchSession s, SwitchError e) {
        s.dispatchError(e);
      }
    },
    CLOSED;

    /** Messages every state handles the same way; anything else is unexpected here and ignored. */
    void handle(SwitchSession s, OFMessage m) {
      if (m.getType() != OFType.ECHO_REPLY) {
        LOG.debug("switch {}: ignoring {} in state {}", s.name(), m.getType(), this);
      }
    }

    void error(SwitchSession s, SwitchError e) {
      LOG.warn("switch {} sent an error during the handshake ({}): {}", s.name(), this, e);
    }

    void unreadable(SwitchSession s, long xid, boolean more) { }

    void portDescriptions(SwitchSession s, long xid, List<SwitchPort> ports, boolean more) { }
  }

  private static final int OFPT_PACKET_IN = 10;
  /** The most ports one switch may describe; more are ignored (a switch inventing ports cannot grow the table). */
  static final int MAX_PORTS = 65_536;
  /** While reading from a peer is paused, how often one batch is read from it anyway. */
  static final long PAUSED_READ_MILLIS = 50;
  /** See {@link #channelReadComplete}. */
  static final long PACKET_IN_PACE_MILLIS = Long.getLong("sluice.packetInPaceMillis", 5);
  /** One line per kind of bound a peer breaks, per peer address, per 10 s. */
  private static final LogLimiter LIMITER = new LogLimiter(java.time.Duration.ofSeconds(10));
  /** A refused switch reconnects every few seconds: its refusal is logged once an hour. */
  private static final LogLimiter REFUSALS = new LogLimiter(java.time.Duration.ofHours(1));

  private final SessionConfig config;
  private final SessionListener listener;
  private final SessionMetrics metrics;
  private final Map<Integer, Boolean> loggedUndecodable = new ConcurrentHashMap<>();

  // event-loop state
  private Channel channel;
  private volatile State state = State.WAIT_HELLO;
  private volatile OFVersion version;
  private volatile OFFactory factory;
  private volatile DatapathId dpid;
  /** The number of tables the FEATURES_REPLY announced (0 until then). */
  private volatile short tableCount;
  private volatile String dpidText;
  private volatile long lastRxNanos;
  private volatile double lastEchoRttSeconds = Double.NaN;
  private long xid = 1;
  private long handshakeXid;
  private int tableFeatureParts;
  private final Map<Long, Pending> pending = new HashMap<>();
  private final List<ErrorRange> errorRanges = new ArrayList<>();
  private final Map<Long, Long> echoSent = new LinkedHashMap<>();
  private final Map<Long, SwitchPort> ports = new ConcurrentHashMap<>();
  private ScheduledFuture<?> ticker;
  /** While reading is paused: reads one batch every {@link #PAUSED_READ_MILLIS} (see {@link #channelWritabilityChanged}). */
  private ScheduledFuture<?> pausedReader;
  private ScheduledFuture<?> handshakeTimer;
  private final Admission admission;
  private long nextEchoNanos;
  private String closeReason;
  /** Reading is paused because the peer is not taking what Sluice writes (its outbound buffer is past the high mark). */
  private volatile boolean readPaused;
  /** Messages of the current read batch: PACKET_INs and the others (see {@link #channelReadComplete}). */
  private int batchPacketIns;
  private int batchOthers;
  /** Reading waits for the PACKET_IN pacing timer (event loop only). */
  private boolean paced;
  private long stalledSinceNanos;
  private long stalledPendingBytes;

  public SwitchSession(SessionConfig config, SessionListener listener, SessionMetrics metrics) {
    this(config, listener, metrics, Admission.ALL);
  }

  /** A session that lets in only the switches {@code admission} admits, once their datapath id is known. */
  public SwitchSession(SessionConfig config, SessionListener listener, SessionMetrics metrics, Admission admission) {
    this.config = config;
    this.listener = listener;
    this.metrics = metrics;
    this.admission = java.util.Objects.requireNonNull(admission, "admission");
  }

  // ---------------------------------------------------------------- public view

  public State state() {
    return state;
  }

  public OFVersion version() {
    return version;
  }

  public OFFactory factory() {
    return factory;
  }

  /** Tables the switch announced in its FEATURES_REPLY (0: not yet). */
  public int tableCount() {
    return tableCount & 0xff;
  }

  public DatapathId dpid() {
    return dpid;
  }

  /** The datapath id as 00:00:..., or the remote address before the features reply. */
  public String name() {
    return dpidText != null ? dpidText : String.valueOf(channel == null ? "?" : channel.remoteAddress());
  }

  public SocketAddress remoteAddress() {
    return channel.remoteAddress();
  }

  public Collection<SwitchPort> ports() {
    return List.copyOf(ports.values());
  }

  public double lastEchoRttSeconds() {
    return lastEchoRttSeconds;
  }

  public boolean isActive() {
    return state == State.ACTIVE;
  }

  public Channel channel() {
    return channel;
  }

  /** Bytes written to this connection that the peer has not taken yet (0 once closed). */
  public long pendingOutboundBytes() {
    Channel c = channel;
    if (c == null) {
      return 0;
    }
    io.netty.channel.ChannelOutboundBuffer b = c.unsafe().outboundBuffer();
    return b == null ? 0 : b.totalPendingWriteBytes();
  }

  /** Whether reading from the peer is paused because it does not take what Sluice writes. */
  public boolean readPaused() {
    return readPaused;
  }

  /** Bytes of multipart replies received for requests still waiting for their last part, and how many wait. */
  public CompletableFuture<long[]> pendingReplies() {
    CompletableFuture<long[]> f = new CompletableFuture<>();
    execute(() -> {
      long n = 0;
      for (Pending p : pending.values()) {
        n += p.bytes;
      }
      f.complete(new long[] {n, pending.size()});
    });
    return f;
  }

  /** Runs a task on this session's event loop. */
  public void execute(Runnable r) {
    channel.eventLoop().execute(r);
  }

  /** Closes the connection (the switch will reconnect on its own). */
  public void close(String reason) {
    execute(() -> {
      closeReason = reason;
      channel.close();
    });
  }

  // ---------------------------------------------------------------- requests

  /** Sends a request and completes with its single reply (or fails on an error reply or disconnect). */
  public CompletableFuture<OFMessage> request(OFMessage request) {
    CompletableFuture<OFMessage> f = new CompletableFuture<>();
    execute(() -> {
      if (!checkOpen(f)) {
        return;
      }
      long x = request.getXid();
      pending.put(x, new Pending(x, f, null, false));
      channel.writeAndFlush(request, channel.voidPromise());
    });
    return f;
  }

  /** A barrier: completes when the switch has processed everything sent before it. */
  public CompletableFuture<Void> barrier() {
    return request(factory.buildBarrierRequest().setXid(nextXid()).build()).thenApply(m -> null);
  }

  /** A multipart request answered by OpenFlowJ-readable replies; completes with all parts. */
  @SuppressWarnings("unchecked")
  public <T extends OFStatsReply> CompletableFuture<List<T>> multipart(OFStatsRequest<T> request) {
    CompletableFuture<List<Object>> f = new CompletableFuture<>();
    execute(() -> {
      if (!checkOpen(f)) {
        return;
      }
      pending.put(request.getXid(), new Pending(request.getXid(), null, f, false));
      channel.writeAndFlush(request, channel.voidPromise());
    });
    return f.thenApply(l -> (List<T>) (List<?>) l);
  }

  /**
   * A multipart request whose replies are kept as raw frames (flow stats, which OpenFlowJ cannot read from OVS).
   * The caller owns the returned buffers and must release them.
   */
  @SuppressWarnings("unchecked")
  public CompletableFuture<List<ByteBuf>> rawMultipart(OFStatsRequest<?> request) {
    CompletableFuture<List<Object>> f = new CompletableFuture<>();
    execute(() -> {
      if (!checkOpen(f)) {
        return;
      }
      pending.put(request.getXid(), new Pending(request.getXid(), null, f, true));
      channel.writeAndFlush(request, channel.voidPromise());
    });
    return f.thenApply(l -> (List<ByteBuf>) (List<?>) l);
  }

  /**
   * A multipart request whose reply parts are handed to {@code onPart} one by one as they arrive, as raw frames the
   * consumer owns and must release, so the caller can read a long reply while the switch is still sending it.
   * {@code onPart} runs on the event loop and must only hand the frame on. The future completes after the last part
   * has been handed over, or fails (a refused request, a lost connection) with no further parts.
   */
  public CompletableFuture<Void> rawMultipart(OFStatsRequest<?> request, Consumer<ByteBuf> onPart) {
    CompletableFuture<List<Object>> f = new CompletableFuture<>();
    execute(() -> {
      if (!checkOpen(f)) {
        return;
      }
      pending.put(request.getXid(), new Pending(request.getXid(), f, part -> {
        if (part instanceof ByteBuf frame) {
          onPart.accept(frame);
        } else {
          ReferenceCountUtil.release(part); // a reply OpenFlowJ decoded under this xid: not a flow-stats part
        }
      }));
      channel.writeAndFlush(request, channel.voidPromise());
    });
    return f.thenApply(l -> null);
  }

  /**
   * A multipart request written as raw bytes (with xid {@code requestXid}) whose reply parts are kept as raw frames
   * (group descriptions, meter configurations). The caller owns the returned buffers and must release them.
   */
  @SuppressWarnings("unchecked")
  public CompletableFuture<List<ByteBuf>> rawMultipart(long requestXid, ByteBuf bytes) {
    CompletableFuture<List<Object>> f = new CompletableFuture<>();
    execute(() -> {
      if (!checkOpen(f)) {
        bytes.release();
        return;
      }
      pending.put(requestXid, new Pending(requestXid, null, f, true));
      channel.writeAndFlush(bytes, channel.voidPromise());
    });
    return f.thenApply(l -> (List<ByteBuf>) (List<?>) l);
  }

  /** Sends a request written as raw bytes whose single reply is returned as a raw frame (caller releases it). */
  public CompletableFuture<ByteBuf> rawRequest(long requestXid, ByteBuf bytes) {
    CompletableFuture<List<Object>> f = new CompletableFuture<>();
    execute(() -> {
      if (!checkOpen(f)) {
        bytes.release();
        return;
      }
      pending.put(requestXid, new Pending(requestXid, null, f, true));
      channel.writeAndFlush(bytes, channel.voidPromise());
    });
    return f.thenApply(l -> (ByteBuf) l.get(0));
  }

  /**
   * Registers interest in the reply to a request the caller is about to write itself (on the event loop, before
   * the write). Raw replies (ONF experimenter replies) come back as retained ByteBufs the caller releases.
   */
  public CompletableFuture<Object> expectReply(long requestXid, boolean raw) {
    assert channel.eventLoop().inEventLoop();
    CompletableFuture<List<Object>> f = new CompletableFuture<>();
    if (checkOpen(f)) {
      pending.put(requestXid, new Pending(requestXid, null, f, raw));
    }
    return f.thenApply(l -> l.get(0));
  }

  /** Fire and forget. */
  public void send(OFMessage m) {
    execute(() -> channel.writeAndFlush(m, channel.voidPromise()));
  }

  /** Writes raw bytes; flushes when asked. Call on the event loop for ordering with other writes. */
  public void writeRaw(ByteBuf bytes, boolean flush) {
    if (flush) {
      channel.writeAndFlush(bytes, channel.voidPromise());
    } else {
      channel.write(bytes, channel.voidPromise());
    }
  }

  /** A fresh xid. Thread-safe. */
  public synchronized long nextXid() {
    long x = xid;
    xid = xid >= 0xfffffff0L ? 1 : xid + 1;
    return x;
  }

  /** Reserves n consecutive xids and returns the first. */
  public synchronized long reserveXids(int n) {
    if (xid + n >= 0xfffffff0L) {
      xid = 1;
    }
    long first = xid;
    xid += n;
    return first;
  }

  /**
   * Routes errors whose xid lies in [first, last] to a consumer until removed (bundles use this to learn which
   * of their messages the switch refused). Call on the event loop.
   */
  public Runnable onErrors(long first, long last, Consumer<SwitchError> consumer) {
    ErrorRange r = new ErrorRange(first, last, consumer);
    errorRanges.add(r);
    return () -> errorRanges.remove(r);
  }

  private boolean checkOpen(CompletableFuture<?> f) {
    if (state == State.CLOSED || !channel.isActive()) {
      f.completeExceptionally(new OpenFlowException("switch " + name() + " is not connected"));
      return false;
    }
    return true;
  }

  // ---------------------------------------------------------------- netty

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    channel = ctx.channel();
    lastRxNanos = System.nanoTime();
    OFFactory f15 = OFFactories.getFactory(OFVersion.OF_15);
    long bitmap = 0;
    for (OFVersion v : ACCEPTED) {
      bitmap |= 1L << v.getWireVersion();
    }
    ByteBuf hello = Unpooled.buffer(16);
    hello.writeByte(OFVersion.OF_15.getWireVersion()).writeByte(0).writeShort(16).writeInt((int) nextXid());
    hello.writeShort(1).writeShort(8).writeInt((int) bitmap); // OFPHET_VERSIONBITMAP
    ctx.writeAndFlush(hello, ctx.voidPromise());
    handshakeTimer = ctx.executor().schedule(() -> {
      if (state != State.ACTIVE && state != State.CLOSED) {
        LOG.warn("switch {} did not finish the OpenFlow handshake within {} (stuck in {}): closing",
            name(), config.handshakeTimeout(), state);
        closeReason = "handshake timeout";
        channel.close();
      }
    }, config.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
    long tick = Math.max(1, config.echoInterval().toMillis() / 4);
    nextEchoNanos = System.nanoTime() + config.echoInterval().toNanos();
    ticker = ctx.executor().scheduleAtFixedRate(this::tick, tick, tick, TimeUnit.MILLISECONDS);
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf frame = (ByteBuf) msg;
    boolean keep = false;
    try {
      lastRxNanos = System.nanoTime();
      if (Frames.type(frame) == OFPT_PACKET_IN) {
        batchPacketIns++;
      } else {
        batchOthers++;
      }
      keep = dispatch(frame);
    } finally {
      if (!keep) {
        frame.release();
      }
    }
  }

  /**
   * Past the high water mark the peer is not taking what Sluice writes: stop reading from it, so what it sends (echo
   * requests, packet-ins) cannot make Sluice write more; below the low mark, read again. A peer that stays past the
   * mark with nothing drained for {@link SessionConfig#writeStallTimeout} is closed (see {@link #tick}).
   *
   * <p>While paused, one read batch every {@value #PAUSED_READ_MILLIS} ms: a switch may stop reading until its own
   * replies to us are taken (OVS stops reading a controller with 100 replies unsent), and without this both sides
   * would wait for each other until the stall timeout. What is read meanwhile makes Sluice write nothing (echo requests
   * go unanswered while paused; replies are bounded by the reply bounds), so this cannot grow what the peer leaves
   * unwritten. The cadence is its own, not the echo interval's, so a long echo interval does not slow the drain.
   */
  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable()) {
      if (readPaused) {
        readPaused = false;
        lastRxNanos = System.nanoTime(); // nothing was read meanwhile by our choice: not a sign of a dead peer
        if (!paced) { // else the pacing timer turns reading on
          ctx.channel().config().setAutoRead(true);
        }
        cancelPausedReader();
      }
    } else if (!readPaused) {
      readPaused = true;
      stalledSinceNanos = System.nanoTime();
      stalledPendingBytes = pendingOutboundBytes();
      ctx.channel().config().setAutoRead(false);
      pausedReader = ctx.executor().scheduleAtFixedRate(() -> {
        if (readPaused && state != State.CLOSED) {
          channel.read();
        }
      }, PAUSED_READ_MILLIS, PAUSED_READ_MILLIS, TimeUnit.MILLISECONDS);
    }
    ctx.fireChannelWritabilityChanged();
  }

  /**
   * After a read that brought PACKET_INs and nothing else, the next read waits {@link #PACKET_IN_PACE_MILLIS}: PACKET_INs
   * (the audit log's copies, LLDP, ARP) come one per write from the switch, and reading each as it comes costs a
   * wakeup of this event loop per message, and of the switch's sender a wakeup of ours. Meanwhile they queue in the
   * kernel and are read together. A reply Sluice waits for (a barrier's) is read at most that much later, and only
   * while PACKET_INs flow.
   */
  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    boolean onlyPacketIns = batchPacketIns > 0 && batchOthers == 0;
    batchPacketIns = 0;
    batchOthers = 0;
    if (onlyPacketIns && PACKET_IN_PACE_MILLIS > 0 && state == State.ACTIVE && !readPaused && !paced) {
      paced = true;
      ctx.channel().config().setAutoRead(false);
      ctx.executor().schedule(() -> {
        paced = false;
        if (!readPaused && state != State.CLOSED) {
          ctx.channel().config().setAutoRead(true);
        }
      }, PACKET_IN_PACE_MILLIS, TimeUnit.MILLISECONDS);
    }
    ctx.fireChannelReadComplete();
  }

  private void cancelPausedReader() {
    if (pausedReader != null) {
      pausedReader.cancel(false);
      pausedReader = null;
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    State was = state;
    state = State.CLOSED;
    cancelPausedReader();
    if (ticker != null) {
      ticker.cancel(false);
    }
    if (handshakeTimer != null) {
      handshakeTimer.cancel(false);
    }
    String reason = closeReason != null ? closeReason : "connection closed by the switch";
    OpenFlowException gone = new OpenFlowException("switch " + name() + " disconnected: " + reason);
    for (Pending p : List.copyOf(pending.values())) {
      p.fail(gone);
    }
    pending.clear();
    if (was == State.ACTIVE) {
      listener.closed(this, reason);
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (closeReason != null || state == State.CLOSED || !ctx.channel().isActive()) {
      // writes still queued when the connection closed fail one by one (void promises report here): one close, no lines
      LOG.debug("switch {}: after close: {}", name(), cause.toString());
      return;
    }
    LOG.warn("switch {}: connection error, closing: {}", name(), cause.toString());
    closeReason = cause.toString();
    ctx.close();
  }

  // ---------------------------------------------------------------- dispatch

  /** Returns true when the frame was handed on (and must not be released here). */
  private boolean dispatch(ByteBuf frame) {
    int v = Frames.version(frame);
    int type = Frames.type(frame);
    if (state == State.WAIT_HELLO) {
      if (type == 0) {
        hello(frame);
      } else {
        LOG.debug("switch {}: message type {} before HELLO ignored", name(), type);
      }
      return false;
    }
    if (version == null || v != version.getWireVersion()) {
      metrics.decodeFailure(v, type);
      logUndecodableOnce(v, type, "version " + v + " differs from the negotiated " + version);
      return false;
    }
    long x = Frames.xid(frame);
    if (type == Frames.OFPT_MULTIPART_REPLY && !replyWithinBound(x, frame.readableBytes())) {
      return false;
    }
    if (type == 2) { // ECHO_REQUEST: answer at once with the same xid and data
      if (readPaused) {
        return false; // the peer is not taking what we write: an answer would only add to it (see tick)
      }
      ByteBuf reply = frame.retainedDuplicate();
      reply.setByte(reply.readerIndex() + 1, 3);
      channel.writeAndFlush(reply, channel.voidPromise());
      return false;
    }
    if (type == 1) {
      state.error(this, SwitchError.read(frame, errorDescription(frame)));
      return false;
    }
    if (type == OFPT_PACKET_IN) {
      if (state == State.ACTIVE && !readPaused) { // while paused, nothing read may make Sluice write
        listener.packetIn(this, frame);
      }
      return false;
    }
    if (PortDescriptions.isPortDescReply(frame)) {
      try {
        state.portDescriptions(this, x, PortDescriptions.readReply(frame), Frames.moreFollows(frame));
      } catch (RuntimeException e) {
        metrics.decodeFailure(v, type);
        logUndecodableOnce(v, type, "port descriptions: " + e.getMessage());
      }
      return false;
    }
    if (type == PortDescriptions.OFPT_PORT_STATUS) {
      try {
        portStatus(PortDescriptions.readStatus(frame));
      } catch (RuntimeException e) {
        metrics.decodeFailure(v, type);
        logUndecodableOnce(v, type, "port status: " + e.getMessage());
      }
      return false;
    }
    if (state == State.ACTIVE && (type == Frames.OFPT_MULTIPART_REPLY || type == 4 && isOnf(frame))) {
      // kept raw for a request that asked for that: flow stats and group descriptions carry Nicira actions and NXM
      // fields OpenFlowJ cannot read
      Pending p = pending.get(x);
      if (p != null && p.raw) {
        p.part(frame, type == 4 || !Frames.moreFollows(frame));
        if (p.done) {
          pending.remove(x);
        }
        return true;
      }
    }
    OFMessage m;
    try {
      m = OFFactories.getGenericReader().readFrom(frame.duplicate());
    } catch (OFParseError | RuntimeException e) {
      metrics.decodeFailure(v, type);
      if (state == State.WAIT_TABLE_FEATURES && x == handshakeXid) {
        // informational only, and OpenFlowJ cannot read OVS's OF1.5 table features: not worth a warning
        LOG.debug("switch {}: table features not readable ({}); continuing without them", name(), e.toString());
      } else {
        logUndecodableOnce(v, type, e.toString());
      }
      state.unreadable(this, x, type == 19 && Frames.moreFollows(frame));
      Pending p = pending.remove(x);
      if (p != null) {
        p.fail(new OpenFlowException("switch " + name() + " sent a reply Sluice cannot read (type " + type + "): " + e.getMessage()));
      }
      return false;
    }
    if (m == null) {
      return false;
    }
    if (m instanceof OFEchoReply) {
      echoReply(m.getXid());
    }
    state.handle(this, m);
    return false;
  }

  /** Counts a reply part against its request's bound; past it the request fails and the connection is closed. */
  private boolean replyWithinBound(long x, int length) {
    Pending p = pending.get(x);
    if (p == null) {
      return true;
    }
    p.bytes += length;
    long held = 0;
    for (Pending q : pending.values()) {
      held += q.bytes;
    }
    if (held <= config.replyMaxBytes()) {
      return true;
    }
    pending.remove(x);
    p.fail(new OpenFlowException("switch " + name() + " sent more than " + config.replyMaxBytes()
        + " bytes in reply to request " + x + "; request failed and connection closed"));
    cutOff("reply-too-large", "sent a multipart reply past " + config.replyMaxBytes() + " bytes");
    return false;
  }

  private static boolean isOnf(ByteBuf f) {
    return f.readableBytes() >= 16 && f.getUnsignedInt(f.readerIndex() + 8) == ONF_EXPERIMENTER;
  }

  private String errorDescription(ByteBuf frame) {
    try {
      OFMessage m = OFFactories.getGenericReader().readFrom(frame.duplicate());
      if (m instanceof OFErrorMsg e) {
        Object code = "";
        try {
          for (Class<?> i : e.getClass().getInterfaces()) {
            if (OFErrorMsg.class.isAssignableFrom(i)) {
              code = i.getMethod("getCode").invoke(e); // the public interface, not the package-private class
            }
          }
        } catch (ReflectiveOperationException ignored) {
          // error types without a code
        }
        return e.getErrType() + " " + code;
      }
    } catch (OFParseError | RuntimeException e) {
      metrics.decodeFailure(Frames.version(frame), 1);
    }
    return null;
  }

  /** Distinct (version, type) kinds logged per connection; past it only counted (a peer cycling bytes floods nothing). */
  static final int MAX_LOGGED_KINDS = 16;

  private void logUndecodableOnce(int v, int type, String why) {
    if (loggedUndecodable.size() >= MAX_LOGGED_KINDS) {
      if (loggedUndecodable.putIfAbsent(-1, Boolean.TRUE) == null) {
        LOG.warn("switch {}: more than {} kinds of OpenFlow messages could not be decoded; further ones are only counted "
            + "in sluice_openflow_decode_failures_total", name(), MAX_LOGGED_KINDS);
      }
      return;
    }
    if (loggedUndecodable.putIfAbsent(v << 8 | type, Boolean.TRUE) == null) {
      LOG.warn("switch {}: could not decode an OpenFlow message (version {}, type {}): {}; counted, connection kept "
          + "(further ones of this type are only counted in sluice_openflow_decode_failures_total)", name(), v, type, why);
    }
  }

  // ---------------------------------------------------------------- handshake steps

  private void hello(ByteBuf frame) {
    int peerVersion = Frames.version(frame);
    long peerBitmap = helloBitmap(frame);
    if (peerBitmap == 0) {
      peerBitmap = 0;
      for (OFVersion v : ACCEPTED) {
        if (v.getWireVersion() <= peerVersion) {
          peerBitmap |= 1L << v.getWireVersion();
        }
      }
      if (peerVersion < OFVersion.OF_13.getWireVersion()) {
        peerBitmap = 1L << peerVersion;
      }
    }
    OFVersion chosen = null;
    for (OFVersion v : ACCEPTED) {
      if ((peerBitmap & (1L << v.getWireVersion())) != 0) {
        chosen = v; // EnumSet iterates in order, so the last match is the highest
      }
    }
    if (chosen == null) {
      refuse(peerVersion, peerBitmap);
      return;
    }
    version = chosen;
    factory = OFFactories.getFactory(chosen);
    handshakeXid = nextXid();
    channel.writeAndFlush(factory.buildFeaturesRequest().setXid(handshakeXid).build(), channel.voidPromise());
    state = State.WAIT_FEATURES_REPLY;
  }

  /** The version bitmap of a HELLO, or 0 when it carries none. */
  static long helloBitmap(ByteBuf f) {
    int base = f.readerIndex();
    int end = base + f.getUnsignedShort(base + 2);
    int pos = base + 8;
    while (pos + 4 <= end) {
      int type = f.getUnsignedShort(pos);
      int len = f.getUnsignedShort(pos + 2);
      if (len < 4 || pos + len > end) {
        break;
      }
      if (type == 1 && len >= 8) {
        return f.getUnsignedInt(pos + 4);
      }
      pos += (len + 7) / 8 * 8;
    }
    return 0;
  }

  /**
   * Asks {@link #admission} about the datapath id just learned (and the peer's certificate name over TLS); a refused
   * switch is closed, logged once per datapath id and address per hour.
   */
  private boolean admitted() {
    String why = admission.refusal(dpid, certificateName());
    if (why == null) {
      return true;
    }
    SocketAddress remote = channel.remoteAddress();
    String host = remote instanceof java.net.InetSocketAddress a ? a.getHostString() : String.valueOf(remote);
    long suppressed = REFUSALS.admit(dpidText + " " + host);
    if (suppressed >= 0) {
      LOG.warn("switch {} at {} refused: {}{}", dpidText, remote, why, REFUSALS.suffix(suppressed));
    }
    metrics.handshakeRefused();
    closeReason = "refused: " + why;
    state = State.CLOSED;
    channel.close();
    return false;
  }

  /** The CN of the certificate the peer presented over TLS, or null on a plain connection. */
  public String certificateName() {
    io.netty.handler.ssl.SslHandler ssl = channel == null ? null
        : channel.pipeline().get(io.netty.handler.ssl.SslHandler.class);
    return ssl == null ? null : io.sluice.controller.tls.TlsFiles.peerName(ssl.engine().getSession());
  }

  private void refuse(int peerVersion, long peerBitmap) {
    List<String> offered = new ArrayList<>();
    for (int i = 1; i < 32; i++) {
      if ((peerBitmap & (1L << i)) != 0) {
        offered.add(versionName(i));
      }
    }
    LOG.warn("switch at {} offers OpenFlow {} only; Sluice speaks 1.3, 1.4 and 1.5: refused "
        + "(enable them on the bridge, e.g. ovs-vsctl set bridge BR protocols=OpenFlow13,OpenFlow14,OpenFlow15)",
        channel.remoteAddress(), String.join(", ", offered));
    OFVersion replyVersion = OFVersion.OF_13;
    for (OFVersion v : OFVersion.values()) {
      if (v.getWireVersion() == peerVersion) {
        replyVersion = v;
      }
    }
    OFFactory f = OFFactories.getFactory(replyVersion);
    byte[] text = ("Sluice needs OpenFlow 1.3, 1.4 or 1.5").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    OFHelloFailedErrorMsg err = f.errorMsgs().buildHelloFailedErrorMsg()
        .setXid(0).setCode(OFHelloFailedCode.INCOMPATIBLE).setData(OFErrorCauseData.of(text, replyVersion)).build();
    metrics.handshakeRefused();
    closeReason = "no common OpenFlow version";
    state = State.CLOSED;
    channel.writeAndFlush(err).addListener(x -> channel.close());
  }

  private static String versionName(int wire) {
    return switch (wire) {
      case 1 -> "1.0";
      case 2 -> "1.1";
      case 3 -> "1.2";
      case 4 -> "1.3";
      case 5 -> "1.4";
      case 6 -> "1.5";
      default -> "wire version " + wire;
    };
  }

  private void requestPortDescriptions() {
    handshakeXid = nextXid();
    channel.writeAndFlush(factory.buildPortDescStatsRequest().setXid(handshakeXid).build(), channel.voidPromise());
  }

  private void requestTableFeatures() {
    handshakeXid = nextXid();
    channel.writeAndFlush(factory.buildTableFeaturesStatsRequest().setXid(handshakeXid).build(), channel.voidPromise());
  }

  private void becomeActive() {
    state = State.ACTIVE;
    handshakeTimer.cancel(false);
    String cn = certificateName();
    LOG.info("switch {} connected from {} (OpenFlow {}, {} ports{})", dpidText, channel.remoteAddress(),
        versionName(version.getWireVersion()), ports.size(), cn == null ? "" : ", TLS certificate '" + cn + "'");
    listener.active(this);
  }

  private void putPort(SwitchPort p) {
    if (ports.size() < MAX_PORTS || ports.containsKey(p.portNo())) {
      ports.put(p.portNo(), p);
    }
  }

  private void portStatus(PortDescriptions.Status st) {
    SwitchPort p = st.port();
    if (st.deleted()) {
      ports.remove(p.portNo());
    } else {
      putPort(p);
    }
    if (state == State.ACTIVE) {
      listener.portChanged(this, p, st.deleted());
    }
  }

  // ---------------------------------------------------------------- replies, errors, echo

  private boolean completeRequest(OFMessage m) {
    Pending p = pending.get(m.getXid());
    if (p == null) {
      return false;
    }
    boolean last = !(m instanceof OFStatsReply r) || !r.getFlags().contains(OFStatsReplyFlags.REPLY_MORE);
    p.part(m, last);
    if (p.done) {
      pending.remove(m.getXid());
    }
    return true;
  }

  private void dispatchError(SwitchError e) {
    boolean routed = false;
    for (ErrorRange r : List.copyOf(errorRanges)) {
      if (e.xid() >= r.first && e.xid() <= r.last) {
        r.consumer.accept(e);
        routed = true;
      }
    }
    Pending p = pending.remove(e.xid());
    if (p != null) {
      p.fail(new OpenFlowException("switch " + name() + " refused the request: " + e.description(), e));
      routed = true;
    }
    if (!routed) {
      LOG.warn("switch {} sent an error nothing was waiting for: {}", name(), e);
    }
  }

  private void tick() {
    long now = System.nanoTime();
    if (state == State.CLOSED) {
      return;
    }
    if (readPaused) {
      long held = pendingOutboundBytes();
      if (held < stalledPendingBytes) { // the peer is taking some: not stalled
        stalledSinceNanos = now;
      }
      stalledPendingBytes = held;
      if (now - stalledSinceNanos > config.writeStallTimeout().toNanos()) {
        cutOff("write-stall", "did not take what Sluice wrote for " + config.writeStallTimeout().toMillis() + " ms ("
            + held + " bytes unwritten; Sluice stopped reading from it meanwhile)");
        return;
      }
    } else if (now - lastRxNanos > config.deadAfterNanos()) {
      LOG.warn("switch {} stopped answering: nothing received for {} ms (echo interval {} ms); declared gone",
          name(), (now - lastRxNanos) / 1_000_000, config.echoInterval().toMillis());
      closeReason = "echo timeout";
      channel.close();
      return;
    }
    if (now >= nextEchoNanos && factory != null) {
      nextEchoNanos = now + config.echoInterval().toNanos();
      long x = nextXid();
      echoSent.put(x, now);
      if (echoSent.size() > 16) {
        echoSent.remove(echoSent.keySet().iterator().next());
      }
      OFEchoRequest req = factory.buildEchoRequest().setXid(x).setData(new byte[0]).build();
      channel.writeAndFlush(req, channel.voidPromise());
    }
    expireRequests(now);
  }

  /** Fails requests that waited past the reply timeout; a multipart reply still arriving then closes the connection. */
  private void expireRequests(long now) {
    if (pending.isEmpty()) {
      return;
    }
    long limit = config.replyTimeout().toNanos();
    boolean streaming = false;
    // collected first: failing a request runs its callbacks, which may register new ones
    for (Pending p : pending.values().stream().filter(p -> now - p.startedNanos > limit).toList()) {
      pending.remove(p.xid);
      streaming |= p.bytes > 0;
      p.fail(new OpenFlowException("switch " + name() + " did not complete its reply to request " + p.xid
          + " within " + config.replyTimeout().toMillis() + " ms (" + p.bytes + " bytes received)"));
    }
    if (streaming) {
      cutOff("reply-timeout", "kept a multipart reply going past " + config.replyTimeout().toMillis() + " ms");
    }
  }

  /** Closes the connection of a peer that broke a bound: one log line per kind and peer address per 10 s. */
  private void cutOff(String kind, String what) {
    SocketAddress remote = channel.remoteAddress();
    String host = remote instanceof java.net.InetSocketAddress a ? a.getHostString() : String.valueOf(remote);
    long suppressed = LIMITER.admit(kind + " " + host);
    if (suppressed >= 0) {
      LOG.warn("switch {} at {} {}: closing the connection{}", dpidText != null ? dpidText : "(no datapath id yet)",
          remote, what, LIMITER.suffix(suppressed));
    }
    closeReason = kind + ": " + what;
    channel.close();
  }

  private void echoReply(long x) {
    Long sent = echoSent.remove(x);
    if (sent != null) {
      lastEchoRttSeconds = (System.nanoTime() - sent) / 1e9;
      if (dpidText != null) {
        metrics.echoRtt(dpidText, lastEchoRttSeconds);
      }
    }
  }

  // ---------------------------------------------------------------- bookkeeping types

  private record ErrorRange(long first, long last, Consumer<SwitchError> consumer) { }

  /** A request waiting for its reply (or all parts of a multipart reply). */
  private static final class Pending {
    final long xid;
    final CompletableFuture<OFMessage> single;
    final CompletableFuture<List<Object>> multi;
    final boolean raw;
    final List<Object> parts = new ArrayList<>();
    final long startedNanos = System.nanoTime();
    /** Bytes of multipart reply parts received so far. */
    long bytes;
    /** When set, parts go here as they arrive instead of into {@link #parts}. */
    final Consumer<Object> onPart;
    boolean done;

    Pending(long xid, CompletableFuture<OFMessage> single, CompletableFuture<List<Object>> multi, boolean raw) {
      this.xid = xid;
      this.single = single;
      this.multi = multi;
      this.raw = raw;
      this.onPart = null;
    }

    /** A raw multipart request whose parts are streamed to {@code onPart}. */
    Pending(long xid, CompletableFuture<List<Object>> multi, Consumer<Object> onPart) {
      this.xid = xid;
      this.single = null;
      this.multi = multi;
      this.raw = true;
      this.onPart = onPart;
    }

    void part(Object m, boolean last) {
      if (single != null) {
        done = true;
        single.complete((OFMessage) m);
        return;
      }
      if (onPart != null) {
        onPart.accept(m);
        if (last) {
          done = true;
          multi.complete(List.of());
        }
        return;
      }
      parts.add(m);
      if (last) {
        done = true;
        multi.complete(parts);
      }
    }

    void fail(Throwable t) {
      for (Object o : parts) {
        ReferenceCountUtil.release(o);
      }
      parts.clear();
      if (single != null) {
        single.completeExceptionally(t);
      } else {
        multi.completeExceptionally(t);
      }
    }
  }

  /**
   * A PACKET_OUT of {@code data} out of {@code port}, as from the controller (in_port CONTROLLER: the match of
   * OpenFlow 1.5, the field before it), unbuffered. The caller writes it.
   */
  public org.projectfloodlight.openflow.protocol.OFPacketOut packetOut(long port, byte[] data) {
    var f = factory();
    var b = f.buildPacketOut().setXid(nextXid()).setBufferId(org.projectfloodlight.openflow.types.OFBufferId.NO_BUFFER)
        .setActions(java.util.List.of(f.actions().output(org.projectfloodlight.openflow.types.OFPort.of((int) port), 0)))
        .setData(data);
    if (version().compareTo(org.projectfloodlight.openflow.protocol.OFVersion.OF_15) >= 0) {
      b.setMatch(f.buildMatch().setExact(org.projectfloodlight.openflow.protocol.match.MatchField.IN_PORT,
          org.projectfloodlight.openflow.types.OFPort.CONTROLLER).build());
    } else {
      b.setInPort(org.projectfloodlight.openflow.types.OFPort.CONTROLLER);
    }
    return b.build();
  }
}
