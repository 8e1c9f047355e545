package io.sluice.controller.wire;

import java.util.Objects;

/**
 * A meter as the switch holds it, comparable by equality between what {@link MeterCodec#wireMeter} wants and what
 * {@link MeterCodec#visitConfig} reads back.
 *
 * @param id    the meter id
 * @param flags OFPMF_* (kbps 1, pktps 2, burst 4, stats 8)
 * @param bands the band list's bytes exactly as the switch reports them
 */
public record WireMeter(long id, int flags, Bytes bands) {
  public WireMeter {
    Objects.requireNonNull(bands, "bands");
  }

  @Override
  public String toString() {
    return "WireMeter[meter=" + id + ", flags=0x" + Integer.toHexString(flags) + ", bands=" + bands.hex() + "]";
  }
}
