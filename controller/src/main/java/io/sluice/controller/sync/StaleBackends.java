package io.sluice.controller.sync;

import io.sluice.controller.wire.Conntrack;
import io.sluice.renderer.flow.NatBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.projectfloodlight.openflow.protocol.OFVersion;

/**
 * Which backends' conntrack entries to clear after a push: those of the switch's previously realized set that the new
 * desired set no longer holds. With no previous set (a new connection to the switch, before its first push) nothing
 * is cleared: what the switch's conntrack holds then is unknown, and flushing it all would cut live connections.
 */
final class StaleBackends {
  private StaleBackends() { }

  /** Backends in {@code realized} and not in {@code desired}, in {@link NatBackend} order; none when realized is null. */
  static List<NatBackend> gone(Set<NatBackend> realized, Set<NatBackend> desired) {
    if (realized == null || realized.isEmpty() || realized.equals(desired)) {
      return List.of();
    }
    TreeSet<NatBackend> out = new TreeSet<>(realized);
    out.removeAll(desired);
    return List.copyOf(out);
  }

  /** One NXT_CT_FLUSH per backend: entries of {@code zone} whose reply comes from the backend's address and port. */
  static List<SwitchOp> flushes(List<NatBackend> gone, int zone, OFVersion v) {
    List<SwitchOp> out = new ArrayList<>(gone.size());
    for (NatBackend b : gone) {
      byte[] address = b.addressBytes();
      out.add(new SwitchOp(SwitchOp.Target.CONNTRACK, SwitchOp.Kind.DELETE, b, 0,
          (buf, xid) -> Conntrack.writeFlushReplySource(buf, v, xid, zone, address, b.port(), b.ipProto())));
    }
    return out;
  }
}
