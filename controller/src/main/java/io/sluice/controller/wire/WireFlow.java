package io.sluice.controller.wire;

import java.util.Objects;

/**
 * A flow's identity and content as the switch sees it, comparable by equality between what
 * {@link FlowEncoder#wireFlow} wants and what {@link FlowStatsParser} reads back (same OpenFlow version).
 *
 * @param table        table id
 * @param priority     priority
 * @param cookie       the full 64-bit cookie (round included; mask it yourself to ignore it)
 * @param matchKey     the match's OXM/NXM TLVs sorted by their bytes, so order does not matter
 *                     ({@link MatchCodec#canonicalKey})
 * @param instructions the instruction bytes exactly as OVS encodes them (apply-actions type 4, goto-table type 1)
 */
public record WireFlow(int table, int priority, long cookie, Bytes matchKey, Bytes instructions) {
  public WireFlow {
    Objects.requireNonNull(matchKey, "matchKey");
    Objects.requireNonNull(instructions, "instructions");
  }

  /** Table, priority and match: the switch's strict identity (what a strict modify/delete targets). */
  public Key key() {
    return new Key(table, priority, matchKey);
  }

  /** A flow's strict identity on the wire. */
  public record Key(int table, int priority, Bytes matchKey) { }

  @Override
  public String toString() {
    return "WireFlow[table=" + table + ", priority=" + priority + ", cookie=0x" + Long.toHexString(cookie)
        + ", match=" + matchKey.hex() + ", instructions=" + instructions.hex() + "]";
  }
}
