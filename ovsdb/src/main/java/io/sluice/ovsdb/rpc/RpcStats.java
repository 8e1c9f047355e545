package io.sluice.ovsdb.rpc;

import java.util.concurrent.atomic.LongAdder;

/** Counters of what a connection's peer sent that we could not use; shared by all connections of one source. */
public final class RpcStats {
  final LongAdder strayBytes = new LongAdder();
  final LongAdder oversizedFrames = new LongAdder();
  final LongAdder malformedMessages = new LongAdder();
  final LongAdder unknownIds = new LongAdder();
  final LongAdder unknownMethods = new LongAdder();
  final LongAdder timeouts = new LongAdder();

  public long strayBytes() {
    return strayBytes.sum();
  }

  public long oversizedFrames() {
    return oversizedFrames.sum();
  }

  public long malformedMessages() {
    return malformedMessages.sum();
  }

  public long unknownIds() {
    return unknownIds.sum();
  }

  public long unknownMethods() {
    return unknownMethods.sum();
  }

  public long timeouts() {
    return timeouts.sum();
  }

  @Override
  public String toString() {
    return "RpcStats{stray=" + strayBytes() + ", oversized=" + oversizedFrames() + ", malformed=" + malformedMessages()
        + ", unknownIds=" + unknownIds() + ", unknownMethods=" + unknownMethods() + ", timeouts=" + timeouts() + "}";
  }
}
