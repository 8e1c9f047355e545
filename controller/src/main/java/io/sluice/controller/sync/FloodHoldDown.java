package io.sluice.controller.sync;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;
import java.util.function.LongPredicate;

/**
 * The flood hold-down of switches carrying the stateless pipeline (issue 12). Until fabric discovery has found a
 * switch's links, Sluice takes every port of it for an edge port, and a broadcast flooded out of all of them circles
 * any loop of a meshed fabric. So, each time Sluice starts writing to such a switch (it connects, or this replica
 * becomes its writer):
 * <ol>
 *   <li>{@link #begin}: the switch is held; its renders drop what they would flood (the renderer's {@code holdFloods});
 *   forwarding to known endpoints, LLDP, host tracking and proxy ARP stay;</li>
 *   <li>its first push is not reported realized while held. If the switch already carries Sluice's flows (a previous
 *   leader's, or this replica's before a reconnect), nothing is pushed at all while held: the switch keeps forwarding
 *   as it did, loop-free, instead of being rewritten from a topology not yet known;</li>
 *   <li>{@link #carriesBaseFlows}: the switch now holds the flows that send LLDP to the controller; discovery probes it
 *   (its LLDP reaches every neighbour that already has them: of each link, the end that is ready last finds it) and,
 *   once the probes had time to come back, {@link #release}s it;</li>
 *   <li>released, the switch renders with its links known, and floods along the spanning tree only.</li>
 * </ol>
 * A switch that fails its first push stays held (it floods nothing) until a push succeeds. Thread-safe.
 */
public final class FloodHoldDown {
  /** No hold-down: nothing is ever held. */
  public static final FloodHoldDown NONE = new FloodHoldDown(dpid -> false);

  private final LongPredicate applies;
  private final java.util.concurrent.atomic.AtomicLong holds = new java.util.concurrent.atomic.AtomicLong();
  /** Held switches, by datapath id: which hold (a later one must not be released by an earlier one's timer). */
  private final Map<Long, Hold> held = new ConcurrentHashMap<>();
  private volatile Settler onBaseFlows = (dpid, hold) -> { };
  private volatile LongConsumer onRelease = dpid -> { };

  private record Hold(long id, boolean baseFlowsIn) { }

  /** Probes a switch whose base flows are in, then, later, {@link #release}s that hold. */
  @FunctionalInterface
  public interface Settler {
    void settle(long dpid, long hold);
  }

  /** @param applies whether a switch takes the hold-down: it carries the stateless pipeline (fabric forwarding) */
  public FloodHoldDown(LongPredicate applies) {
    this.applies = applies;
  }

  /** Who probes a switch whose base flows are in, and releases it later (fabric discovery). */
  public void onBaseFlows(Settler settler) {
    onBaseFlows = settler;
  }

  /** Who re-renders a released switch (its sync). */
  public void onRelease(LongConsumer rerender) {
    onRelease = rerender;
  }

  /** Sluice starts writing to {@code dpid}: whether it is now held (it takes the hold-down). */
  public boolean begin(long dpid) {
    boolean takes;
    try {
      takes = applies.test(dpid);
    } catch (RuntimeException e) {
      takes = false; // no profile to tell: its switch fails closed anyway, there is nothing to flood
    }
    if (takes) {
      held.put(dpid, new Hold(holds.incrementAndGet(), false));
    } else {
      held.remove(dpid);
    }
    return takes;
  }

  /** Whether {@code dpid}'s renders hold back their floods. */
  public boolean held(long dpid) {
    return held.containsKey(dpid);
  }

  /** The held switch {@code dpid} now carries Sluice's base flows; once per hold (later calls do nothing). */
  public void carriesBaseFlows(long dpid) {
    Hold h = held.get(dpid);
    if (h != null && !h.baseFlowsIn() && held.replace(dpid, h, new Hold(h.id(), true))) {
      onBaseFlows.settle(dpid, h.id());
    }
  }

  /**
   * Discovery had its answers for hold {@code hold} of {@code dpid}: it floods along the tree from its next render,
   * which this triggers. A hold begun since is left alone.
   */
  public void release(long dpid, long hold) {
    Hold h = held.get(dpid);
    if (h != null && h.id() == hold && held.remove(dpid, h)) {
      onRelease.accept(dpid);
    }
  }

  /** The switch is gone: its hold with it (a new connection begins again). */
  public void forget(long dpid) {
    held.remove(dpid);
  }
}
