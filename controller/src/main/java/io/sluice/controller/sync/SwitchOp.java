package io.sluice.controller.sync;

import io.netty.buffer.ByteBuf;

/**
 * One message to send: what it changes (a flow, a group, a group's buckets, a meter), how, how to write it (with a
 * given xid), its cookie (flows; 0 otherwise), and what it is (described only when a report needs it: formatting
 * 100,000 flows as text would cost more than sending them).
 */
public record SwitchOp(Target target, Kind kind, Object subject, long cookie, Writer writer) {
  /** The op's subject as text, for reports: a flow as ovs-ofctl text, a group by id, type and bucket count. */
  public String description() {
    if (subject instanceof FlowCodec.Entry e) {
      return e.describe();
    }
    if (subject instanceof io.sluice.controller.wire.WireGroup g) {
      return g.describe();
    }
    return String.valueOf(subject);
  }

  /**
   * What an op changes. {@link #BUCKETS}: OF1.5 bucket edits of one group (ADD = insert, DELETE = remove);
   * {@link #CONNTRACK}: conntrack entries cleared (DELETE), sent after a bundle's commit.
   */
  public enum Target { FLOW, GROUP, BUCKETS, METER, CONNTRACK }

  public enum Kind { ADD, MODIFY, DELETE }

  /** Writes one complete message (header included) with the given xid. */
  @FunctionalInterface
  public interface Writer {
    void write(ByteBuf out, long xid);
  }

  /** A flow-mod. */
  public static SwitchOp flow(Kind kind, Object subject, long cookie, Writer writer) {
    return new SwitchOp(Target.FLOW, kind, subject, cookie, writer);
  }
}
