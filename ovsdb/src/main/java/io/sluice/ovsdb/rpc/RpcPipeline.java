package io.sluice.ovsdb.rpc;

import io.netty.channel.Channel;
import io.netty.handler.timeout.IdleStateHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Builds the handler chain of one OVSDB connection: split frames, decode JSON, probe when idle, dispatch. */
public final class RpcPipeline {
  private RpcPipeline() {
  }

  /** The settings every connection shares. {@code probeInterval} zero disables the inactivity probe. */
  public record Settings(int maxFrameBytes, Duration requestTimeout, Duration probeInterval, RpcStats stats) {
    public Settings {
      if (maxFrameBytes < 1024) {
        throw new IllegalArgumentException("maxFrameBytes must be at least 1024, got " + maxFrameBytes);
      }
      if (requestTimeout.isNegative() || requestTimeout.isZero()) {
        throw new IllegalArgumentException("requestTimeout must be positive, got " + requestTimeout);
      }
    }
  }

  /** Installs the handlers on a fresh channel and returns the client for it. */
  public static OvsdbClient install(Channel ch, Settings s, String name, NotificationListener listener) {
    JsonRpcHandler handler = new JsonRpcHandler(s.stats(), listener, s.requestTimeout());
    ch.pipeline().addLast("frames", new JsonFrameSplitter(s.maxFrameBytes(), s.stats()));
    ch.pipeline().addLast("json", new JsonRpcDecoder(s.stats()));
    ch.pipeline().addLast("encoder", new JsonRpcEncoder());
    if (!s.probeInterval().isZero()) {
      ch.pipeline().addLast("idle", new IdleStateHandler(s.probeInterval().toMillis(), 0, 0, TimeUnit.MILLISECONDS));
    }
    ch.pipeline().addLast("rpc", handler);
    return new OvsdbClient(ch, handler, s.requestTimeout(), name);
  }
}
