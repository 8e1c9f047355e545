package io.sluice.controller.audit;

import io.netty.buffer.ByteBuf;
import io.sluice.controller.service.PacketIn;
import io.sluice.controller.session.SessionListener;
import io.sluice.controller.session.SwitchPort;
import io.sluice.controller.session.SwitchSession;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.pipeline.PipelineProfile;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Takes the audit log's PACKET_INs out of the switches' stream before the rest of Sluice sees it: those of an
 * isolation drop flow (a denied new connection; the table says which direction) and those of the audit table (a
 * connection a logged rule allowed; registers 7 and 8 name the egress and ingress rule). Everything else goes on to
 * the delegate. Runs on the session's event loop: it reads the packet's headers and queues, nothing more.
 */
public final class AuditListener implements SessionListener {
  private final SessionListener delegate;
  private final AuditLog log;
  private final AtomicLong unreadable = new AtomicLong();

  public AuditListener(SessionListener delegate, AuditLog log) {
    this.delegate = delegate;
    this.log = log;
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
    delegate.closed(session, reason);
  }

  @Override
  public void packetIn(SwitchSession session, ByteBuf frame) {
    int at = frame.readerIndex();
    if (frame.readableBytes() < 24) {
      delegate.packetIn(session, frame);
      return;
    }
    Cookie cookie = new Cookie(frame.getLong(at + 16));
    if (!cookie.isIsolationDrop() && !cookie.isAudit()) {
      delegate.packetIn(session, frame);
      return;
    }
    PacketIn in;
    try {
      in = PacketIn.read(frame);
    } catch (IllegalArgumentException e) {
      unreadable.incrementAndGet();
      return;
    }
    Headers h = Headers.parse(in.data());
    if (h == null) {
      unreadable.incrementAndGet();
      return;
    }
    long now = System.currentTimeMillis();
    int length = in.totalLen() > 0 ? in.totalLen() : in.data().length;
    String sw = session.name();
    if (cookie.isIsolationDrop()) {
      boolean ingress = in.tableId() == PipelineProfile.INGRESS_RULE;
      log.offer(new AuditLog.Raw(now, sw, ingress, false, 0, h.protocol, h.src, h.srcPort, h.dst, h.dstPort, length));
      return;
    }
    long egressRule = in.reg(PipelineProfile.EGRESS_RULE_REG.registerIndex());
    long ingressRule = in.reg(PipelineProfile.INGRESS_RULE_REG.registerIndex());
    if (egressRule != 0) {
      log.offer(new AuditLog.Raw(now, sw, false, true, egressRule, h.protocol, h.src, h.srcPort, h.dst, h.dstPort, length));
    }
    if (ingressRule != 0) {
      log.offer(new AuditLog.Raw(now, sw, true, true, ingressRule, h.protocol, h.src, h.srcPort, h.dst, h.dstPort, length));
    }
  }

  /** PACKET_INs of the audit flows that could not be read (cut short, not IP). */
  public long unreadable() {
    return unreadable.get();
  }

  /** The addresses, protocol and ports of an Ethernet frame carrying IPv4 or IPv6 (802.1Q tags skipped). */
  record Headers(String protocol, String src, int srcPort, String dst, int dstPort) {
    static Headers parse(byte[] p) {
      int off = 12;
      if (p.length < off + 2) {
        return null;
      }
      int type = u16(p, off);
      while ((type == 0x8100 || type == 0x88a8) && p.length >= off + 6) {
        off += 4;
        type = u16(p, off);
      }
      off += 2;
      int proto;
      byte[] src;
      byte[] dst;
      int l4;
      if (type == 0x0800 && p.length >= off + 20) {
        proto = p[off + 9] & 0xff;
        src = java.util.Arrays.copyOfRange(p, off + 12, off + 16);
        dst = java.util.Arrays.copyOfRange(p, off + 16, off + 20);
        l4 = off + (p[off] & 0x0f) * 4;
      } else if (type == 0x86dd && p.length >= off + 40) {
        proto = p[off + 6] & 0xff;
        src = java.util.Arrays.copyOfRange(p, off + 8, off + 24);
        dst = java.util.Arrays.copyOfRange(p, off + 24, off + 40);
        l4 = off + 40;
      } else {
        return null;
      }
      String name = switch (proto) {
        case 6 -> "TCP";
        case 17 -> "UDP";
        case 132 -> "SCTP";
        case 1 -> "ICMP";
        case 58 -> "ICMPv6";
        default -> Integer.toString(proto);
      };
      boolean ports = (proto == 6 || proto == 17 || proto == 132) && p.length >= l4 + 4;
      return new Headers(name, text(src), ports ? u16(p, l4) : -1, text(dst), ports ? u16(p, l4 + 2) : -1);
    }

    private static int u16(byte[] p, int at) {
      return (p[at] & 0xff) << 8 | p[at + 1] & 0xff;
    }

    private static String text(byte[] a) {
      try {
        return InetAddress.getByAddress(a).getHostAddress();
      } catch (UnknownHostException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
