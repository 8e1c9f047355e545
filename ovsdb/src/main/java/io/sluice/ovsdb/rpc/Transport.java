package io.sluice.ovsdb.rpc;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens OVSDB connections: active over a Unix socket, TCP or TLS, passive by listening on TCP or TLS for
 * ovsdb-servers configured with {@code set-manager tcp:HOST:PORT} (or {@code ssl:}). Over TLS a connection is handed
 * on only once the handshake has succeeded. Unix sockets need Netty's native epoll transport (Linux).
 */
public final class Transport implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Transport.class);
  private final EventLoopGroup group;
  private final boolean epoll;
  private final RpcPipeline.Settings settings;
  private final Tls clientTls;
  private final Tls serverTls;
  /** A peer failing the TLS handshake in a loop is logged once per address per 10 s. */
  private static final long REFUSAL_LOG_PERIOD_NANOS = TimeUnit.SECONDS.toNanos(10);
  private final java.util.Map<String, Long> refusalsLogged = new java.util.concurrent.ConcurrentHashMap<>();

  public Transport(RpcPipeline.Settings settings, int threads) {
    this(settings, threads, null, null);
  }

  /**
   * With TLS for {@link #connectSsl} ({@code clientTls}) and {@link #listenSsl} ({@code serverTls}); either may be
   * null.
   */
  public Transport(RpcPipeline.Settings settings, int threads, Tls clientTls, Tls serverTls) {
    this.settings = settings;
    this.clientTls = clientTls;
    this.serverTls = serverTls;
    this.epoll = Epoll.isAvailable();
    DefaultThreadFactory tf = new DefaultThreadFactory("sluice-ovsdb", true);
    this.group = epoll ? new EpollEventLoopGroup(threads, tf) : new NioEventLoopGroup(threads, tf);
  }

  public EventLoopGroup group() {
    return group;
  }

  public RpcPipeline.Settings settings() {
    return settings;
  }

  public CompletableFuture<OvsdbClient> connectUnix(String path, Duration connectTimeout, NotificationListener l) {
    if (!epoll) {
      return CompletableFuture.failedFuture(new RpcException(RpcException.Kind.CLOSED,
          "unix:" + path + ": Unix sockets need Netty's epoll transport, unavailable here: "
              + Epoll.unavailabilityCause()));
    }
    return connect(EpollDomainSocketChannel.class, new DomainSocketAddress(path), "unix:" + path, connectTimeout, l,
        null);
  }

  public CompletableFuture<OvsdbClient> connectTcp(String host, int port, Duration connectTimeout,
      NotificationListener l) {
    Class<? extends Channel> type = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
    return connect(type, InetSocketAddress.createUnresolved(host, port), "tcp:" + host + ":" + port, connectTimeout,
        l, null);
  }

  /**
   * Like {@link #connectTcp} over TLS: completes once the handshake has succeeded (the server's certificate checked
   * by the client TLS context), or fails with the handshake's error.
   */
  public CompletableFuture<OvsdbClient> connectSsl(String host, int port, Duration connectTimeout,
      NotificationListener l) {
    if (clientTls == null) {
      return CompletableFuture.failedFuture(new IllegalStateException("ssl:" + host + ":" + port
          + ": no TLS key, certificate and CA certificate given"));
    }
    Class<? extends Channel> type = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
    return connect(type, InetSocketAddress.createUnresolved(host, port), "ssl:" + host + ":" + port, connectTimeout,
        l, clientTls);
  }

  /** A TLS context and how long its handshake may take. */
  public record Tls(SslContext context, Duration handshakeTimeout) {
    /** Adds the TLS handler, and behind it one that keeps a failed handshake's errors from the JSON-RPC handlers. */
    SslHandler install(Channel ch, String host, int port) {
      SslHandler h = host == null ? context.newHandler(ch.alloc()) : context.newHandler(ch.alloc(), host, port);
      h.setHandshakeTimeoutMillis(handshakeTimeout.toMillis());
      ch.pipeline().addLast("tls", h).addLast("tls-failures", new HandshakeFailures(h));
      return h;
    }
  }

  /** The innermost cause, at most 200 characters: a peer's non-TLS bytes are quoted in hex by Netty. */
  static String brief(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String s = t.toString();
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }

  /** Before the handshake has succeeded, errors are the handshake's: reported through its future, not upstream. */
  private static final class HandshakeFailures extends io.netty.channel.ChannelInboundHandlerAdapter {
    private final SslHandler ssl;

    HandshakeFailures(SslHandler ssl) {
      this.ssl = ssl;
    }

    @Override
    public void exceptionCaught(io.netty.channel.ChannelHandlerContext ctx, Throwable cause) {
      if (ssl.handshakeFuture().isSuccess()) {
        ctx.fireExceptionCaught(cause);
      } else {
        ctx.close();
      }
    }
  }

  private CompletableFuture<OvsdbClient> connect(Class<? extends Channel> type, SocketAddress address, String name,
      Duration connectTimeout, NotificationListener l, Tls tls) {
    InetSocketAddress remote = address instanceof InetSocketAddress a ? a : null;
    CompletableFuture<OvsdbClient> result = new CompletableFuture<>();
    OvsdbClient[] holder = new OvsdbClient[1];
    Bootstrap b = new Bootstrap().group(group).channel(type)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
        .handler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            if (tls != null) {
              tls.install(ch, remote.getHostString(), remote.getPort());
            }
            holder[0] = RpcPipeline.install(ch, settings, name, l);
          }
        });
    if (type != EpollDomainSocketChannel.class) {
      b.option(ChannelOption.TCP_NODELAY, true);
      address = new InetSocketAddress(((InetSocketAddress) address).getHostString(),
          ((InetSocketAddress) address).getPort());
    }
    ChannelFuture f;
    try {
      f = b.connect(address);
    } catch (RuntimeException e) {
      result.completeExceptionally(e);
      return result;
    }
    f.addListener(x -> {
      if (!x.isSuccess()) {
        result.completeExceptionally(x.cause());
      } else if (tls == null) {
        result.complete(holder[0]);
      } else {
        f.channel().pipeline().get(SslHandler.class).handshakeFuture().addListener(h -> {
          if (h.isSuccess()) {
            result.complete(holder[0]);
          } else {
            f.channel().close();
            result.completeExceptionally(new RpcException(RpcException.Kind.CLOSED,
                name + ": TLS handshake failed: " + brief(h.cause())));
          }
        });
      }
    });
    return result;
  }

  /** Listens on {@code host:port} (port 0 = any free port); each accepted connection is handed to onAccept. */
  public CompletableFuture<Channel> listenTcp(String host, int port, Consumer<OvsdbClient> onAccept) {
    return listen(host, port, null, onAccept);
  }

  /**
   * Like {@link #listenTcp} over TLS: a connection is handed to onAccept once its handshake has succeeded (the peer
   * presented a certificate the server TLS context accepts); one that fails or times out is closed and logged,
   * naming the peer.
   */
  public CompletableFuture<Channel> listenSsl(String host, int port, Consumer<OvsdbClient> onAccept) {
    if (serverTls == null) {
      return CompletableFuture.failedFuture(new IllegalStateException("pssl:" + port + ":" + host
          + ": no TLS key, certificate and CA certificate given"));
    }
    return listen(host, port, serverTls, onAccept);
  }

  private CompletableFuture<Channel> listen(String host, int port, Tls tls, Consumer<OvsdbClient> onAccept) {
    CompletableFuture<Channel> result = new CompletableFuture<>();
    ServerBootstrap b = new ServerBootstrap().group(group)
        .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
        .option(ChannelOption.SO_REUSEADDR, true)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            InetSocketAddress peer = (InetSocketAddress) ch.remoteAddress();
            int local = ((InetSocketAddress) ch.localAddress()).getPort();
            String name = (tls == null ? "ptcp:" : "pssl:") + local + " peer " + peer.getHostString() + ":"
                + peer.getPort();
            if (tls == null) {
              onAccept.accept(RpcPipeline.install(ch, settings, name, NotificationListener.NONE));
              return;
            }
            SslHandler ssl = tls.install(ch, null, 0);
            OvsdbClient c = RpcPipeline.install(ch, settings, name, NotificationListener.NONE);
            ssl.handshakeFuture().addListener(h -> {
              if (h.isSuccess()) {
                onAccept.accept(c);
              } else {
                long now = System.nanoTime();
                String host = peer.getAddress() == null ? peer.getHostString() : peer.getAddress().getHostAddress();
                if (refusalsLogged.size() > 1024) {
                  refusalsLogged.clear(); // a flood of addresses: forget them rather than grow
                }
                Long last = refusalsLogged.get(host);
                if (last == null || now - last > REFUSAL_LOG_PERIOD_NANOS) {
                  refusalsLogged.put(host, now);
                  LOG.warn("OVSDB {}: refused, TLS handshake failed: {} (at most one line per address per 10 s)",
                      name, brief(h.cause()));
                }
                ch.close();
              }
            });
          }
        });
    b.bind(host, port).addListener((ChannelFuture x) -> {
      if (x.isSuccess()) {
        result.complete(x.channel());
      } else {
        result.completeExceptionally(x.cause());
      }
    });
    return result;
  }

  @Override
  public void close() {
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
