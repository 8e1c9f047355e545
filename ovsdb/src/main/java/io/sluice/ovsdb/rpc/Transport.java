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
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Opens OVSDB connections: active over a Unix socket or TCP, passive by listening on TCP for ovsdb-servers
 * configured with {@code set-manager tcp:HOST:PORT}. Unix sockets need Netty's native epoll transport (Linux).
 */
public final class Transport implements AutoCloseable {
  private final EventLoopGroup group;
  private final boolean epoll;
  private final RpcPipeline.Settings settings;

  public Transport(RpcPipeline.Settings settings, int threads) {
    this.settings = settings;
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
    return connect(EpollDomainSocketChannel.class, new DomainSocketAddress(path), "unix:" + path, connectTimeout, l);
  }

  public CompletableFuture<OvsdbClient> connectTcp(String host, int port, Duration connectTimeout,
      NotificationListener l) {
    Class<? extends Channel> type = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
    return connect(type, InetSocketAddress.createUnresolved(host, port), "tcp:" + host + ":" + port, connectTimeout,
        l);
  }

  private CompletableFuture<OvsdbClient> connect(Class<? extends Channel> type, SocketAddress address, String name,
      Duration connectTimeout, NotificationListener l) {
    CompletableFuture<OvsdbClient> result = new CompletableFuture<>();
    OvsdbClient[] holder = new OvsdbClient[1];
    Bootstrap b = new Bootstrap().group(group).channel(type)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
        .handler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
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
      if (x.isSuccess()) {
        result.complete(holder[0]);
      } else {
        result.completeExceptionally(x.cause());
      }
    });
    return result;
  }

  /** Listens on {@code host:port} (port 0 = any free port); each accepted connection is handed to onAccept. */
  public CompletableFuture<Channel> listenTcp(String host, int port, Consumer<OvsdbClient> onAccept) {
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
            String name = "ptcp:" + local + " peer " + peer.getHostString() + ":" + peer.getPort();
            OvsdbClient c = RpcPipeline.install(ch, settings, name, NotificationListener.NONE);
            onAccept.accept(c);
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
