package io.sluice.controller.wire;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * An immutable byte string with value equality (a map key for wire bytes). Its hash mixes every byte thoroughly:
 * match keys of many flows differ in only a few bytes, and {@link Arrays#hashCode(byte[])}'s base-31 polynomial
 * sends such keys to colliding buckets (100,000 policy-shaped keys made hash maps degrade into trees).
 */
public final class Bytes implements Comparable<Bytes> {
  public static final Bytes EMPTY = new Bytes(new byte[0]);

  private final byte[] b;
  private final int hash;

  private Bytes(byte[] b) {
    this.b = b;
    this.hash = hash(b);
  }

  private static final java.lang.invoke.VarHandle LONGS =
      java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.BIG_ENDIAN);

  /** Eight bytes at a time, each word multiplied into the state and folded (the length counts too). */
  static int hash(byte[] b) {
    long h = 0x9e37_79b9_7f4a_7c15L ^ b.length;
    int i = 0;
    for (; i + 8 <= b.length; i += 8) {
      h = mix(h ^ (long) LONGS.get(b, i));
    }
    if (i < b.length) {
      long tail = 0;
      for (; i < b.length; i++) {
        tail = tail << 8 | (b[i] & 0xff);
      }
      h = mix(h ^ tail);
    }
    return (int) (h ^ h >>> 32);
  }

  private static long mix(long x) {
    x *= 0xbf58_476d_1ce4_e5b9L;
    x ^= x >>> 31;
    x *= 0x94d0_49bb_1331_11ebL;
    return x ^ x >>> 29;
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
