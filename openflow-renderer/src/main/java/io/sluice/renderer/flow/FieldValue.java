package io.sluice.renderer.flow;

import java.math.BigInteger;
import java.util.Objects;

/**
 * A value of a field, with an optional mask (null = exact). Values are unsigned and fit the field's width.
 */
public record FieldValue(Field field, BigInteger value, BigInteger mask) {
  public FieldValue {
    Objects.requireNonNull(field, "field");
    Objects.requireNonNull(value, "value");
    BigInteger limit = BigInteger.ONE.shiftLeft(field.bits());
    if (value.signum() < 0 || value.compareTo(limit) >= 0) {
      throw new IllegalArgumentException(field.ofctlName() + ": value " + value + " does not fit " + field.bits() + " bits");
    }
    if (mask != null) {
      if (mask.signum() < 0 || mask.compareTo(limit) >= 0) {
        throw new IllegalArgumentException(field.ofctlName() + ": mask " + mask + " does not fit " + field.bits() + " bits");
      }
      if (mask.equals(limit.subtract(BigInteger.ONE))) {
        mask = null; // an all-ones mask is an exact match
      } else if (!value.and(mask.not()).equals(BigInteger.ZERO)) {
        throw new IllegalArgumentException(field.ofctlName() + ": value " + value.toString(16) + " has bits outside mask " + mask.toString(16));
      }
    }
  }

  public static FieldValue exact(Field field, long value) {
    return new FieldValue(field, unsigned(value), null);
  }

  public static FieldValue masked(Field field, long value, long mask) {
    return new FieldValue(field, unsigned(value), unsigned(mask));
  }

  static BigInteger unsigned(long v) {
    return v >= 0 ? BigInteger.valueOf(v) : new BigInteger(Long.toUnsignedString(v));
  }

  public boolean isMasked() {
    return mask != null;
  }

  public long longValue() {
    return value.longValue();
  }
}
