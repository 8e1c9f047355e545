package io.sluice.controller.profile;

import io.netty.buffer.ByteBuf;
import io.sluice.controller.session.SessionListener;
import io.sluice.controller.session.SwitchPort;
import io.sluice.controller.session.SwitchSession;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.projectfloodlight.openflow.protocol.OFDescStatsReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks each switch against its profile when it connects: what it says of itself (OFPMP_DESC) against the
 * profile's {@code expect.hardware}, and its table count (FEATURES_REPLY) against the profile's highest table. A
 * mismatch is logged once and kept for {@code /api/v1/warnings} while the switch stays connected.
 */
public final class ProfileCheck implements SessionListener {
  private static final Logger LOG = LoggerFactory.getLogger(ProfileCheck.class);
  private final SessionListener delegate;
  private final ProfileChoice choice;
  private final Map<Long, String> mismatches = new ConcurrentHashMap<>();

  public ProfileCheck(SessionListener delegate, ProfileChoice choice) {
    this.delegate = delegate;
    this.choice = choice;
  }

  @Override
  public void active(SwitchSession s) {
    delegate.active(s);
    long dpid = s.dpid().getLong();
    Profiles.Declared d = choice.of(dpid);
    int highest = d.profile().tables().keySet().stream().mapToInt(Integer::intValue).max().orElse(0);
    if (s.tableCount() > 0 && highest >= s.tableCount()) {
      report(s, d, "has " + s.tableCount() + " tables, the profile uses table " + highest);
    }
    s.multipart(s.factory().buildDescStatsRequest().setXid(s.nextXid()).build())
        .orTimeout(10, TimeUnit.SECONDS)
        .thenAccept(replies -> {
          if (replies.isEmpty()) {
            return;
          }
          OFDescStatsReply r = replies.get(0);
          String says = (r.getMfrDesc() + " / " + r.getHwDesc() + " / " + r.getSwDesc()).strip();
          if (d.expectHardware() != null && !r.getHwDesc().contains(d.expectHardware())) {
            report(s, d, "says it is \"" + says + "\", the profile expects \"" + d.expectHardware() + "\"");
          } else if (d.expectHardware() == null && r.getHwDesc().contains("Open vSwitch")) {
            report(s, d, "says it is \"" + says + "\" (Open vSwitch), the profile is for other switches");
          }
        })
        .exceptionally(e -> {
          LOG.debug("switch {}: no description read: {}", s.name(), e.toString());
          return null;
        });
  }

  private void report(SwitchSession s, Profiles.Declared d, String what) {
    String text = "switch " + s.name() + " " + what + " (profile " + d.name() + ", " + d.source() + "); give it the "
        + "profile that fits with --profile " + s.name() + "=NAME";
    if (!text.equals(mismatches.put(s.dpid().getLong(), text))) {
      LOG.warn("{}", text);
    }
  }

  @Override
  public void portChanged(SwitchSession session, SwitchPort port, boolean deleted) {
    delegate.portChanged(session, port, deleted);
  }

  @Override
  public void packetIn(SwitchSession session, ByteBuf frame) {
    delegate.packetIn(session, frame);
  }

  @Override
  public void closed(SwitchSession session, String reason) {
    if (session.dpid() != null) {
      mismatches.remove(session.dpid().getLong());
    }
    delegate.closed(session, reason);
  }

  /** The current mismatches, by datapath id. */
  public Map<Long, String> mismatches() {
    return Map.copyOf(mismatches);
  }
}
