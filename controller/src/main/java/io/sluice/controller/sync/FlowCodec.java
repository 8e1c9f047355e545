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
  default Stats parseStats(List<ByteBuf> frames, OFVersion version) {
    List<Entry> entries = new java.util.ArrayList<>();
    int skipped = 0;
    for (ByteBuf f : frames) {
      skipped += parsePart(f, version, entries::add);
    }
    return new Stats(entries, skipped);
  }

  /**
   * Every flow of one part of a flow-stats reply (a whole frame; its indices are left alone), handed to {@code out}
   * in order, so a dump can be read while the switch is still sending it. Returns how many entries were skipped.
   */
  int parsePart(ByteBuf frame, OFVersion version, java.util.function.Consumer<Entry> out);

  /** Writes a whole OFPT_FLOW_MOD for the entry. */
  void writeFlowMod(ByteBuf out, Entry entry, SwitchOp.Kind kind, long xid, OFVersion version);

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
