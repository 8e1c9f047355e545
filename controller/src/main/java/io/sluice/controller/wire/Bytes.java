package io.sluice.controller.wire;

import java.util.Arrays;
import java.util.HexFormat;

/** An immutable byte string with value equality (a map key for wire bytes). */
public final class Bytes implements Comparable<Bytes> {
  public static final Bytes EMPTY = new Bytes(new byte[0]);

  private final byte[] b;
  private final int hash;

  private Bytes(byte[] b) {
    this.b = b;
    this.hash = Arrays.hashCode(b);
  }

  /** Copies {@code b}. */
  public static Bytes of(byte[] b) {
    return b.length == 0 ? EMPTY : new Bytes(b.clone());
  }

  public static Bytes of(byte[] b, int off, int len) {
    return len == 0 ? EMPTY : new Bytes(Arrays.copyOfRange(b, off, off + len));
  }

  /** Takes ownership of {@code b}: the caller must not change it afterwards. */
  static Bytes wrap(byte[] b) {
    return b.length == 0 ? EMPTY : new Bytes(b);
  }

  public static Bytes fromHex(String hex) {
    return wrap(HexFormat.of().parseHex(hex.replaceAll("\\s", "")));
  }

  public int length() {
    return b.length;
  }

  public byte get(int i) {
    return b[i];
  }

  public byte[] toArray() {
    return b.clone();
  }

  public String hex() {
    return HexFormat.of().formatHex(b);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Bytes x && x.hash == hash && Arrays.equals(x.b, b);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public int compareTo(Bytes o) {
    return Arrays.compareUnsigned(b, o.b);
  }

  @Override
  public String toString() {
    return hex();
  }
}
