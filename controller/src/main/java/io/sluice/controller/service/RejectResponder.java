package io.sluice.controller.service;

import io.netty.buffer.ByteBuf;
import io.sluice.controller.session.SessionListener;
import io.sluice.controller.session.SwitchPort;
import io.sluice.controller.session.SwitchSession;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.pipeline.PipelineProfile;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers the packets a switch sends for Services: those without a usable endpoint (table ServiceLB, cookie category
 * SERVICE) with a TCP RST or an ICMP port unreachable, and a load balancer's probes of a {@code healthCheckNodePort}
 * (table ConntrackZone, the health cookie) with kube-proxy's HTTP answer for the switch's node ({@link HealthChecks}),
 * each as a packet-out through the port the packet came in on; every other session event goes to the delegate
 * unchanged. Runs on the session's event loop and never blocks. Besides
 * the switch's meter, each switch may make it answer at most {@link #PER_SWITCH_PER_SECOND} packets a second, so no
 * switch (or whoever speaks for one) can make the controller work for it without bound; the rest is counted.
 */
public final class RejectResponder implements SessionListener {
  private static final Logger LOG = LoggerFactory.getLogger(RejectResponder.class);
  static final int PER_SWITCH_PER_SECOND = 500;

  private final SessionListener delegate;
  private final HealthSource health;
  private final AtomicLong probes = new AtomicLong();
  private final Map<SwitchSession, Budget> budgets = new ConcurrentHashMap<>();
  private final AtomicLong answered = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong unreadable = new AtomicLong();

  /** What a switch's node says about a {@code healthCheckNodePort}: the Service and its ready local endpoints. */
  @FunctionalInterface
  public interface HealthSource {
    Optional<io.sluice.renderer.service.ServiceTables.Health> health(long dpid, int port);
  }

  public RejectResponder(SessionListener delegate) {
    this(delegate, (dpid, port) -> Optional.empty());
  }

  public RejectResponder(SessionListener delegate, HealthSource health) {
    this.delegate = delegate;
    this.health = health;
  }

  @Override
  public void active(SwitchSession session) {
    delegate.active(session);
  }

  @Override
  public void portChanged(SwitchSession session, SwitchPort port, boolean deleted) {
    delegate.portChanged(session, port, deleted);
  }

  @Override
  public void closed(SwitchSession session, String reason) {
    budgets.remove(session);
    delegate.closed(session, reason);
  }

  @Override
  public void packetIn(SwitchSession session, ByteBuf frame) {
    PacketIn in;
    try {
      in = PacketIn.read(frame);
    } catch (IllegalArgumentException e) {
      if (unreadable.getAndIncrement() == 0) {
        LOG.warn("switch {}: unreadable PACKET_IN ({}); further ones are only counted", session.name(), e.getMessage());
      }
      return;
    }
    Cookie c = new Cookie(in.cookie());
    boolean probe = c.owned() && c.category() == Cookie.Category.SERVICE && in.tableId() == PipelineProfile.CT_ZONE
        && c.objectId() == io.sluice.renderer.service.ServiceTables.HEALTH_OBJECT;
    if (!probe && (!c.owned() || c.category() != Cookie.Category.SERVICE || in.tableId() != PipelineProfile.SERVICE_LB)) {
      return; // not a refused Service connection nor a health probe: nothing of Sluice's asked for it
    }
    if (!budgets.computeIfAbsent(session, s -> new Budget()).take(System.nanoTime())) {
      dropped.incrementAndGet();
      return;
    }
    Optional<byte[]> reply;
    if (probe) {
      int port = HealthChecks.destinationPort(in.data());
      var h = port < 0 ? Optional.<io.sluice.renderer.service.ServiceTables.Health>empty()
          : health.health(session.dpid().getLong(), port);
      if (h.isEmpty()) {
        return; // the port's Service went away since the flow was installed: the client's retries find no flow
      }
      reply = HealthChecks.answer(in.data(), h.get().service().namespace(), h.get().service().name(),
          h.get().localEndpoints());
      probes.incrementAndGet();
    } else {
      reply = Rejects.answer(in.data());
    }
    if (reply.isEmpty()) {
      return;
    }
    session.channel().writeAndFlush(session.packetOut(in.inPort(), reply.get()), session.channel().voidPromise());
    answered.incrementAndGet();
  }


  /** Refused connections answered, and those not answered because a switch exceeded its budget. */
  public long answered() {
    return answered.get();
  }

  /** Health-check probe segments answered or looked at. */
  public long probes() {
    return probes.get();
  }

  public long dropped() {
    return dropped.get();
  }

  /** A token bucket of PER_SWITCH_PER_SECOND, touched only on one session's event loop. */
  private static final class Budget {
    private double tokens = PER_SWITCH_PER_SECOND;
    private long last = System.nanoTime();

    boolean take(long now) {
      tokens = Math.min(PER_SWITCH_PER_SECOND, tokens + (now - last) / 1e9 * PER_SWITCH_PER_SECOND);
      last = now;
      if (tokens < 1) {
        return false;
      }
      tokens -= 1;
      return true;
    }
  }
}
