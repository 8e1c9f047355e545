package io.sluice.renderer.policy;

import java.util.ArrayList;
import java.util.List;

/** Port ranges as the few value/mask pairs that cover them exactly (what a TCAM or OVS classifier wants). */
final class PortRanges {
  private PortRanges() { }

  /** A value with a mask over 16 bits; mask 0xffff is an exact port. */
  record Masked(int value, int mask) { }

  /** Covers [from, to] (inclusive, 0..65535) exactly with the fewest aligned blocks. */
  static List<Masked> cover(int from, int to) {
    if (from < 0 || to > 0xffff || from > to) {
      throw new IllegalArgumentException("bad port range " + from + "-" + to);
    }
    List<Masked> out = new ArrayList<>();
    int lo = from;
    while (lo <= to) {
      int size = lo == 0 ? 1 << 16 : Integer.lowestOneBit(lo);
      while (lo + size - 1 > to) {
        size >>= 1;
      }
      out.add(new Masked(lo, 0xffff & ~(size - 1)));
      lo += size;
    }
    return out;
  }
}
