package io.sluice.controller.session;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.sluice.controller.logging.LogLimiter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OpenFlow listener: many switches at once, one {@link SwitchSession} per connection, on a fixed number of event
 * loop threads (never one per connection). Connections past {@link Limits#maxSwitches} in all, or past
 * {@link Limits#maxPerAddress} from one remote address, are closed as they arrive, with one log line per kind and
 * address per 10 s. With {@link Tls}, every connection starts with a TLS handshake in which the peer must present a
 * certificate the context trusts; a peer that fails it, or does not finish it in time, is closed (and counts against
 * the limits meanwhile, like any connection).
 */
public final class OpenFlowServer implements AutoCloseable {
  /** Kernel receive buffer of each switch connection (SO_RCVBUF): 256 KiB, ample for multipart replies on a LAN. */
  static final int RECEIVE_BUFFER_BYTES = 256 * 1024;
  /**
   * Default kernel send buffer of each switch connection (SO_SNDBUF): 1 MiB. Fixed for the same reason: a peer that
   * stops reading holds at most this in the kernel plus the write buffer's high water mark in Sluice (autotuning would
   * let it hold megabytes more, and take that much longer to be noticed).
   */
  static final int SEND_BUFFER_BYTES = 1024 * 1024;
  private static final Logger LOG = LoggerFactory.getLogger(OpenFlowServer.class);

  /**
   * What one listener admits and how much a connection may hold unwritten.
   *
   * @param maxSwitches    connections at once (switches, and peers still in the handshake)
   * @param maxPerAddress  connections at once from one remote IP address
   * @param lowWaterMark   below this many unwritten bytes a paused connection is read again
   * @param highWaterMark  past this many unwritten bytes Sluice stops reading from the connection
   * @param sendBufferBytes the kernel send buffer (SO_SNDBUF) of each connection, fixed: the kernel's own bound on what
   *                        a peer that stops reading holds, before the water marks
   */
  public record Limits(int maxSwitches, int maxPerAddress, int lowWaterMark, int highWaterMark, int sendBufferBytes) {
    /** Budget of heap per switch used to size the default of {@code --max-switches}. */
    public static final long HEAP_PER_SWITCH = 4L << 20;
    public static final int DEFAULT_PER_ADDRESS = 128;

    public Limits {
      if (maxSwitches < 1 || maxPerAddress < 1) {
        throw new IllegalArgumentException("connection limits must be at least 1, got " + maxSwitches + " in all and "
            + maxPerAddress + " per address");
      }
      if (lowWaterMark < 1 || highWaterMark < lowWaterMark) {
        throw new IllegalArgumentException("write buffer water marks must satisfy 0 < low <= high, got " + lowWaterMark
            + " and " + highWaterMark);
      }
      if (sendBufferBytes < 4096) {
        throw new IllegalArgumentException("the kernel send buffer must be at least 4096 bytes, got " + sendBufferBytes);
      }
    }

    /** One switch per {@link #HEAP_PER_SWITCH} of the JVM's maximum heap, between 64 and 10,000. */
    public static int defaultMaxSwitches() {
      return (int) Math.max(64, Math.min(10_000, Runtime.getRuntime().maxMemory() / HEAP_PER_SWITCH));
    }

    /** The event loop threads: one per CPU core. */
    public static int defaultWorkers() {
      return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /**
     * Sized for this machine; at most {@value #DEFAULT_PER_ADDRESS} per address; water marks 512 KiB and 2 MiB; a 1 MiB
     * kernel send buffer.
     */
    public static Limits defaults() {
      int max = defaultMaxSwitches();
      return new Limits(max, Math.min(max, DEFAULT_PER_ADDRESS), 512 << 10, 2 << 20, SEND_BUFFER_BYTES);
    }

    public Limits withConnections(int maxSwitches, int maxPerAddress) {
      return new Limits(maxSwitches, maxPerAddress, lowWaterMark, highWaterMark, sendBufferBytes);
    }

    /** The same connection limits with other write bounds: the kernel send buffer and the water marks. */
    public Limits withWriteBuffers(int sendBufferBytes, int lowWaterMark, int highWaterMark) {
      return new Limits(maxSwitches, maxPerAddress, lowWaterMark, highWaterMark, sendBufferBytes);
    }
  }

  /** TLS on the listener: the server context (requiring client certificates) and the handshake's time limit. */
  public record Tls(SslContext context, Duration handshakeTimeout) {
    public Tls {
      if (context.isClient()) {
        throw new IllegalArgumentException("the OpenFlow listener needs a server TLS context");
      }
      if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
        throw new IllegalArgumentException("TLS handshake timeout must be positive, got " + handshakeTimeout);
      }
    }
  }

  /** One connection as the listener sees it. */
  public record Connection(InetSocketAddress remote, String name, long pendingOutboundBytes, boolean readPaused) { }

  private final EventLoopGroup boss = new NioEventLoopGroup(1);
  private final EventLoopGroup workers;
  private final Channel serverChannel;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Limits limits;
  private final ChannelGroup open = new DefaultChannelGroup("openflow", GlobalEventExecutor.INSTANCE);
  private final AtomicInteger total = new AtomicInteger();
  private final Map<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong tlsRefused = new AtomicLong();
  private final Tls tls;
  private final LogLimiter logLimiter = new LogLimiter(Duration.ofSeconds(10));

  /** Binds at once with the default limits; fails if the address is taken. */
  public OpenFlowServer(InetSocketAddress listen, Supplier<SwitchSession> sessions, int workerThreads) throws InterruptedException {
    this(listen, sessions, workerThreads, Limits.defaults());
  }

  /** Binds at once; fails if the address is taken. */
  public OpenFlowServer(InetSocketAddress listen, Supplier<SwitchSession> sessions, int workerThreads, Limits limits)
      throws InterruptedException {
    this(listen, sessions, workerThreads, limits, null);
  }

  /** Binds at once, speaking TLS when {@code tls} is not null; fails if the address is taken. */
  public OpenFlowServer(InetSocketAddress listen, Supplier<SwitchSession> sessions, int workerThreads, Limits limits,
                        Tls tls) throws InterruptedException {
    this.limits = limits;
    this.tls = tls;
    workers = new NioEventLoopGroup(workerThreads);
    ServerBootstrap b = new ServerBootstrap()
        .group(boss, workers)
        .channel(NioServerSocketChannel.class)
        .option(ChannelOption.SO_REUSEADDR, true)
        .childOption(ChannelOption.TCP_NODELAY, true)
        // a fixed receive buffer: the kernel memory one peer can fill is bounded (autotuning grows it to megabytes),
        // and so is what a peer whose reading is paused has queued for Sluice to read (see SwitchSession#tick)
        .childOption(ChannelOption.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
        .childOption(ChannelOption.SO_SNDBUF, limits.sendBufferBytes())
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
            new WriteBufferWaterMark(limits.lowWaterMark(), limits.highWaterMark()))
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            if (!admit(ch)) {
              ch.close();
              return;
            }
            if (tls != null) {
              SslHandler ssl = tls.context().newHandler(ch.alloc());
              ssl.setHandshakeTimeoutMillis(tls.handshakeTimeout().toMillis());
              ch.pipeline().addLast("tls", ssl).addLast("tls-refusals", new TlsRefusals());
            }
            ch.pipeline()
                .addLast("frames", new OfFrameDecoder())
                .addLast("encoder", new OfMessageEncoder())
                .addLast("session", sessions.get());
          }
        });
    try {
      serverChannel = b.bind(listen).sync().channel();
    } catch (RuntimeException | InterruptedException e) {
      close();
      throw e;
    }
    LOG.info("OpenFlow listening on {}{} ({} event loop threads, at most {} switches, {} per address)",
        serverChannel.localAddress(), tls != null ? " over TLS" : "", workerThreads, limits.maxSwitches(),
        limits.maxPerAddress());
  }

  /**
   * Closes a peer whose TLS handshake failed (no certificate, one the CA did not sign, not TLS at all, too slow), with
   * one log line per address per 10 s; what it sent never reaches the session.
   */
  private final class TlsRefusals extends ChannelInboundHandlerAdapter {
    private boolean reported;

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof SslHandshakeCompletionEvent e && !e.isSuccess()) {
        refuse(ctx, e.cause());
      }
      super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      SslHandler ssl = ctx.pipeline().get(SslHandler.class);
      if (ssl != null && !ssl.handshakeFuture().isSuccess()) {
        refuse(ctx, cause);
        return;
      }
      ctx.fireExceptionCaught(cause);
    }

    private void refuse(ChannelHandlerContext ctx, Throwable cause) {
      if (reported) {
        return;
      }
      reported = true;
      tlsRefused.incrementAndGet();
      InetSocketAddress remote = (InetSocketAddress) ctx.channel().remoteAddress();
      long suppressed = logLimiter.admit("tls " + remote.getAddress().getHostAddress());
      if (suppressed >= 0) {
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
          root = root.getCause();
        }
        String why = root.toString(); // a peer's non-TLS bytes are quoted in hex: keep the line short
        LOG.warn("OpenFlow connection from {} refused: TLS handshake failed: {}{}", remote,
            why.length() <= 200 ? why : why.substring(0, 200) + "...", logLimiter.suffix(suppressed));
      }
      ctx.close();
    }
  }

  /** Counts the connection in, or says no (and logs, rate-limited) when it would pass a limit. */
  private boolean admit(SocketChannel ch) {
    InetSocketAddress remote = ch.remoteAddress();
    InetAddress ip = remote.getAddress();
    int n = total.incrementAndGet();
    int m = perAddress.merge(ip, 1, Integer::sum);
    String why = null;
    String kind = null;
    if (n > limits.maxSwitches()) {
      kind = "max-switches";
      why = "Sluice already has " + limits.maxSwitches() + " switch connections (--max-switches)";
    } else if (m > limits.maxPerAddress()) {
      kind = "max-per-address " + ip.getHostAddress();
      why = ip.getHostAddress() + " already has " + limits.maxPerAddress() + " connections (--max-switches-per-address)";
    }
    if (why != null) {
      release(ip);
      refused.incrementAndGet();
      long suppressed = logLimiter.admit(kind);
      if (suppressed >= 0) {
        LOG.warn("OpenFlow connection from {} refused: {}{}", remote, why, logLimiter.suffix(suppressed));
      }
      return false;
    }
    open.add(ch);
    ch.closeFuture().addListener(f -> release(ip));
    return true;
  }

  private void release(InetAddress ip) {
    total.decrementAndGet();
    perAddress.computeIfPresent(ip, (k, c) -> c == 1 ? null : c - 1);
  }

  public InetSocketAddress localAddress() {
    return (InetSocketAddress) serverChannel.localAddress();
  }

  public Limits limits() {
    return limits;
  }

  /** Connections refused so far for failing the TLS handshake. */
  public long refusedTlsHandshakes() {
    return tlsRefused.get();
  }

  public boolean tls() {
    return tls != null;
  }

  /** Connections refused so far for passing a limit. */
  public long refusedConnections() {
    return refused.get();
  }

  /** The open connections, with what each holds unwritten. */
  public List<Connection> connections() {
    List<Connection> out = new ArrayList<>();
    for (Channel ch : open) {
      SwitchSession s = ch.pipeline().get(SwitchSession.class);
      out.add(new Connection((InetSocketAddress) ch.remoteAddress(), s == null ? String.valueOf(ch.remoteAddress()) : s.name(),
          s == null ? 0 : s.pendingOutboundBytes(), s != null && s.readPaused()));
    }
    return out;
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (serverChannel != null) {
      serverChannel.close().syncUninterruptibly();
    }
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
