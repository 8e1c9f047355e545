package io.sluice.controller.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A switch made of a few lines of OpenFlow 1.4 on a client event loop the test owns (many fakes share its threads), for
 * tests that need peers no real switch would be: it completes the handshake as the given datapath id, then behaves as
 * its {@link Mode} says. It never reconnects.
 */
public final class FakeSwitch implements AutoCloseable {
  /** What the fake does after the handshake. */
  public enum Mode {
    /** Answers echoes, barriers, bundle controls, role requests and every multipart request (with an empty reply). */
    WELL_BEHAVED,
    /** Answers echoes only: every other request waits forever. */
    SILENT,
    /** As WELL_BEHAVED, but never answers a multipart request (flow, group, meter dumps wait forever). */
    NO_DUMPS,
    /** As WELL_BEHAVED, but answers every multipart request with parts flagged "more follows", without end. */
    ENDLESS_MULTIPART
  }

  static final int V14 = 5;

  private volatile Channel channel;
  private final AtomicLong endlessBytes = new AtomicLong();
  private volatile boolean handshakeDone;

  private FakeSwitch() { }

  /** Connects from 127.0.0.1 and starts the handshake; returns once connected. */
  public static FakeSwitch connect(EventLoopGroup group, int port, long dpid, Mode mode) {
    return connect(group, port, dpid, mode, "127.0.0.1", 0);
  }

  /**
   * Connects from {@code localIp} (any 127.x.y.z works on Linux) and starts the handshake; returns once connected.
   * {@code partPauseMillis}: pause between endless multipart parts (0: as fast as the connection takes them).
   */
  public static FakeSwitch connect(EventLoopGroup group, int port, long dpid, Mode mode, String localIp,
                                   long partPauseMillis) {
    FakeSwitch self = new FakeSwitch();
    Handler h = new Handler(self, dpid, mode, partPauseMillis);
    self.channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
        .option(ChannelOption.TCP_NODELAY, true)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel c) {
            c.pipeline().addLast(new LengthFieldBasedFrameDecoder(65_535, 2, 2, -4, 0)).addLast(h);
          }
        })
        .connect(new InetSocketAddress("127.0.0.1", port), new InetSocketAddress(localIp, 0)).syncUninterruptibly().channel();
    return self;
  }

  public boolean isOpen() {
    return channel.isActive();
  }

  /** Whether Sluice asked for table features (the last handshake step) and was answered. */
  public boolean handshakeDone() {
    return handshakeDone;
  }

  /** Bytes of endless multipart parts written so far. */
  public long endlessBytes() {
    return endlessBytes.get();
  }

  public InetSocketAddress localAddress() {
    return (InetSocketAddress) channel.localAddress();
  }

  @Override
  public void close() {
    channel.close().syncUninterruptibly();
  }

  private static final class Handler extends SimpleChannelInboundHandler<ByteBuf> {
    private final long dpid;
    private final Mode mode;
    private final long pauseMillis;
    private final FakeSwitch owner;

    Handler(FakeSwitch owner, long dpid, Mode mode, long pauseMillis) {
      this.owner = owner;
      this.dpid = dpid;
      this.mode = mode;
      this.pauseMillis = pauseMillis;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      ctx.writeAndFlush(header(0, 8, 0));
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ByteBuf m) {
      int base = m.readerIndex();
      int type = m.getUnsignedByte(base + 1);
      long xid = m.getUnsignedInt(base + 4);
      switch (type) {
        case 2 -> { // echo request
          ByteBuf r = m.retainedDuplicate();
          r.setByte(r.readerIndex() + 1, 3);
          ctx.writeAndFlush(r);
        }
        case 5 -> { // features request: always answered
          ByteBuf r = header(6, 32, xid);
          r.writeLong(dpid).writeInt(0).writeByte(254).writeByte(0).writeShort(0).writeInt(0).writeInt(0);
          ctx.writeAndFlush(r);
        }
        case 18 -> multipart(ctx, m.getUnsignedShort(base + 8), xid);
        case 20 -> reply(ctx, header(21, 8, xid));
        case 24 -> { // role request: granted as asked
          ByteBuf r = m.retainedDuplicate();
          r.setByte(r.readerIndex() + 1, 25);
          reply(ctx, r);
        }
        case 33 -> { // bundle control: OPEN/CLOSE/COMMIT/DISCARD request n -> reply n + 1
          ByteBuf r = header(33, 16, xid);
          r.writeInt(m.getInt(base + 8)).writeShort(m.getUnsignedShort(base + 12) + 1).writeShort(0);
          reply(ctx, r);
        }
        default -> { } // bundle adds, flow-mods, packet-outs...: nothing to answer
      }
    }

    private void reply(ChannelHandlerContext ctx, ByteBuf r) {
      if (mode == Mode.SILENT && owner.handshakeDone) {
        r.release();
        return;
      }
      ctx.writeAndFlush(r);
    }

    private void multipart(ChannelHandlerContext ctx, int mpType, long xid) {
      if (mpType == 13 || mpType == 12) { // port descriptions, table features: the handshake
        ByteBuf r = header(19, 16, xid);
        r.writeShort(mpType).writeShort(0).writeInt(0);
        ctx.writeAndFlush(r);
        if (mpType == 12) {
          owner.handshakeDone = true;
        }
        return;
      }
      if (mode == Mode.NO_DUMPS) {
        return;
      }
      if (mode == Mode.ENDLESS_MULTIPART) {
        endless(ctx, mpType, xid);
        return;
      }
      ByteBuf r = header(19, 16, xid);
      r.writeShort(mpType).writeShort(0).writeInt(0);
      reply(ctx, r);
    }

    /** Parts flagged "more follows", one after the other as fast as the connection takes them, until it closes. */
    private void endless(ChannelHandlerContext ctx, int mpType, long xid) {
      int body = mpType == 1 ? 0 : 8_192; // flow stats parts empty (always readable), others padded
      ByteBuf r = header(19, 16 + body, xid);
      r.writeShort(mpType).writeShort(1).writeInt(0).writeZero(body);
      owner.endlessBytes.addAndGet(16 + body);
      ctx.writeAndFlush(r).addListener((ChannelFutureListener) f -> {
        if (f.isSuccess() && f.channel().isActive()) {
          if (pauseMillis > 0) {
            f.channel().eventLoop().schedule(() -> endless(ctx, mpType, xid), pauseMillis, java.util.concurrent.TimeUnit.MILLISECONDS);
          } else {
            f.channel().eventLoop().execute(() -> endless(ctx, mpType, xid));
          }
        }
      });
    }

    private static ByteBuf header(int type, int length, long xid) {
      return Unpooled.buffer(length).writeByte(V14).writeByte(type).writeShort(length).writeInt((int) xid);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
