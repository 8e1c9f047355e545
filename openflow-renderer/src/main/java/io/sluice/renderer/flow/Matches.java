package io.sluice.renderer.flow;

import java.math.BigInteger;
import java.util.Map;

/** Set operations on matches, for compilers that must spell out products a switch cannot compute itself. */
public final class Matches {
  private Matches() { }

  /**
   * The match of exactly the packets both {@code a} and {@code b} match, or null when no packet matches both (a field
   * both constrain to incompatible values). Masked values combine bit by bit: a bit either match fixes is fixed.
   */
  public static Match intersect(Match a, Match b) {
    if (a.isEmpty()) {
      return b;
    }
    if (b.isEmpty()) {
      return a;
    }
    Match.Builder out = Match.builder();
    for (Map.Entry<Field, FieldValue> e : a.fields().entrySet()) {
      FieldValue va = e.getValue();
      FieldValue vb = b.get(e.getKey());
      if (vb == null) {
        out.put(va);
        continue;
      }
      BigInteger all = BigInteger.ONE.shiftLeft(e.getKey().bits()).subtract(BigInteger.ONE);
      BigInteger ma = va.mask() == null ? all : va.mask();
      BigInteger mb = vb.mask() == null ? all : vb.mask();
      if (!va.value().xor(vb.value()).and(ma).and(mb).equals(BigInteger.ZERO)) {
        return null;
      }
      BigInteger mask = ma.or(mb);
      out.put(new FieldValue(e.getKey(), va.value().and(ma).or(vb.value().and(mb)), mask.equals(all) ? null : mask));
    }
    for (Map.Entry<Field, FieldValue> e : b.fields().entrySet()) {
      if (!a.has(e.getKey())) {
        out.put(e.getValue());
      }
    }
    try {
      return out.build();
    } catch (IllegalArgumentException e) {
      // the union of fields lacks a prerequisite only when the two constrain different protocols (tp_dst of TCP in
      // one, UDP's in the other, ...): no packet is both
      return null;
    }
  }
}
