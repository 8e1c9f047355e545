package io.sluice.controller.sync;

import io.netty.buffer.ByteBuf;

/** One flow-mod to send: how to write it (with a given xid), what to call it in a report, and its cookie. */
public record FlowOp(Kind kind, String description, long cookie, Writer writer) {
  public enum Kind { ADD, MODIFY, DELETE }

  /** Writes one complete OFPT_FLOW_MOD (header included) with the given xid. */
  @FunctionalInterface
  public interface Writer {
    void write(ByteBuf out, long xid);
  }
}
