package io.sluice.controller.sync;

import io.netty.buffer.ByteBuf;

/**
 * One flow-mod to send: how to write it (with a given xid), its cookie, and what it is (described only when a
 * report needs it: formatting 100,000 flows as text would cost more than sending them).
 */
public record FlowOp(Kind kind, Object subject, long cookie, Writer writer) {
  /** The flow as ovs-ofctl text, for reports. */
  public String description() {
    return subject instanceof FlowCodec.Entry e ? e.describe() : String.valueOf(subject);
  }

  public enum Kind { ADD, MODIFY, DELETE }

  /** Writes one complete OFPT_FLOW_MOD (header included) with the given xid. */
  @FunctionalInterface
  public interface Writer {
    void write(ByteBuf out, long xid);
  }
}
