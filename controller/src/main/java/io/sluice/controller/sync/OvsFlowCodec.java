package io.sluice.controller.sync;

import io.netty.buffer.ByteBuf;
import io.sluice.controller.wire.Bytes;
import io.sluice.controller.wire.FlowEncoder;
import io.sluice.controller.wire.FlowStatsParser;
import io.sluice.controller.wire.WireFlow;
import io.sluice.renderer.flow.Flow;
import java.util.function.Consumer;
import org.projectfloodlight.openflow.protocol.OFFlowModCommand;
import org.projectfloodlight.openflow.protocol.OFVersion;

/**
 * Sync's {@link FlowCodec} on top of {@link FlowEncoder} and {@link FlowStatsParser}: an entry's key is the
 * flow's {@link WireFlow.Key} (table, priority, canonical match), its body the instruction {@link Bytes}.
 * ADD, MODIFY and DELETE are sent as ADD, MODIFY_STRICT and DELETE_STRICT. Stateless.
 */
public final class OvsFlowCodec implements FlowCodec {
  @Override
  public Entry encode(Flow flow, OFVersion version) {
    WireFlow w = FlowEncoder.wireFlow(flow, version);
    return new Entry(w.key(), w.cookie(), w.instructions(), flow, 0, 0, 0);
  }

  /** Reads identity, cookie, instructions and counters only: the match is never decoded. */
  @Override
  public int parsePart(ByteBuf frame, OFVersion version, Consumer<Entry> out) {
    return FlowStatsParser.visitReply(frame, e -> out.accept(new Entry(new WireFlow.Key(e.table(), e.priority(),
        e.matchKey()), e.cookie(), e.instructions(), null, e.packetCount(), e.byteCount(), e.durationMillis())));
  }

  @Override
  public void writeFlowMod(ByteBuf out, Entry entry, SwitchOp.Kind kind, long xid, OFVersion version) {
    OFFlowModCommand cmd = switch (kind) {
      case ADD -> OFFlowModCommand.ADD;
      case MODIFY -> OFFlowModCommand.MODIFY_STRICT;
      case DELETE -> OFFlowModCommand.DELETE_STRICT;
    };
    if (entry.source() != null) {
      FlowEncoder.writeFlowMod(out, entry.source(), version, cmd, xid);
      return;
    }
    if (!(entry.key() instanceof WireFlow.Key k) || !(entry.body() instanceof Bytes instructions)) {
      throw new IllegalArgumentException("not an entry of this codec: " + entry.describe());
    }
    FlowEncoder.writeFlowMod(out, new WireFlow(k.table(), k.priority(), entry.cookie(), k.matchKey(), instructions),
        version, cmd, xid);
  }
}
