package io.sluice.renderer.flow;

/**
 * One desired OpenFlow meter with a single drop band: traffic above {@code rate} (packets or kilobits per second,
 * with a burst of {@code burstSize}) is dropped. Sluice owns meter ids {@link #FIRST_OWNED}..{@link #LAST_OWNED}
 * (switches number meters from 1 up to a small maximum, so ids cannot carry a tag as groups do); other meters are
 * never modified or deleted. Meters cannot travel in bundles: sync adds them before and removes them after the
 * bundle of flows that use them.
 */
public record Meter(long id, boolean packets, long rate, long burstSize) {
  public static final long FIRST_OWNED = 0x5c00;
  public static final long LAST_OWNED = 0x5cff;

  public Meter {
    if (!isOwned(id)) {
      throw new IllegalArgumentException("meter id " + id + " is not in Sluice's range " + FIRST_OWNED + "-" + LAST_OWNED);
    }
    if (rate < 1 || rate > 0xffff_ffffL || burstSize < 1 || burstSize > 0xffff_ffffL) {
      // a burst of 0 is not held as given: OVS stores the rate instead (and ovs-ofctl refuses burst_size=0)
      throw new IllegalArgumentException("meter " + id + ": rate " + rate + " / burst " + burstSize
          + " out of range (both 1.." + 0xffff_ffffL + ")");
    }
  }

  public static boolean isOwned(long id) {
    return id >= FIRST_OWNED && id <= LAST_OWNED;
  }

  @Override
  public String toString() {
    return OfctlFormat.meter(this);
  }
}
