package io.sluice.controller.sync;

import io.netty.buffer.ByteBuf;
import io.sluice.renderer.flow.Flow;
import java.util.List;
import org.projectfloodlight.openflow.protocol.OFVersion;

/**
 * How sync sees flows on the wire: a desired flow as the switch will hold it, the switch's flow stats read back in
 * the same form, and flow-mods written from either. Sync diffs the two by equality and knows nothing of bytes.
 */
public interface FlowCodec {
  /** A desired flow as the switch would report it. */
  Entry encode(Flow flow, OFVersion version);

  /** Every flow of a flow-stats reply (all parts); entries it cannot read are skipped and counted in the result. */
  Stats parseStats(List<ByteBuf> frames, OFVersion version);

  /** Writes a whole OFPT_FLOW_MOD for the entry. */
  void writeFlowMod(ByteBuf out, Entry entry, FlowOp.Kind kind, long xid, OFVersion version);

  /**
   * One flow on the wire. {@code key} identifies it within the switch (table, priority, match) and {@code body}
   * is what it does (instructions); both compare by value. {@code source} is the renderer's flow when known.
   */
  record Entry(Object key, long cookie, Object body, Flow source, long packets, long bytes, long durationMillis) {
    public String describe() {
      return source != null ? source.toString() : "flow " + key + " cookie 0x" + Long.toHexString(cookie);
    }
  }

  /** A parsed flow dump. */
  record Stats(List<Entry> entries, int skipped) { }
}
