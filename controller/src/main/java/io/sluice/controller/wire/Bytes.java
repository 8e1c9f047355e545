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
    this(b, hash(b));
  }

  private Bytes(byte[] b, int hash) {
    this.b = b;
    this.hash = hash;
  }

  private static final java.lang.invoke.VarHandle LONGS =
      java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.BIG_ENDIAN);

  /** Eight bytes at a time, each word multiplied into the state and folded (the length counts too). */
  static int hash(byte[] b) {
    return hash(b, 0, b.length);
  }

  static int hash(byte[] b, int off, int len) {
    long h = 0x9e37_79b9_7f4a_7c15L ^ len;
    int i = off;
    int end = off + len;
    for (; i + 8 <= end; i += 8) {
      h = mix(h ^ (long) LONGS.get(b, i));
    }
    if (i < end) {
      long tail = 0;
      for (; i < end; i++) {
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

  /** Recently shared byte strings by hash (a lossy cache: a slot holds the last one seen). */
  private static final Bytes[] SHARED = new Bytes[4096];

  /**
   * Like {@link #of(byte[], int, int)}, but returns an equal instance made earlier when one is at hand, so that the
   * few distinct instruction lists of 100,000 flows are not held 100,000 times. Thread-safe: instances are
   * immutable, and a lost race only costs a copy.
   */
  public static Bytes shared(byte[] b, int off, int len) {
    if (len == 0) {
      return EMPTY;
    }
    int h = hash(b, off, len);
    int slot = (h ^ h >>> 16) & (SHARED.length - 1);
    Bytes x = SHARED[slot];
    if (x != null && x.hash == h && Arrays.equals(x.b, 0, x.b.length, b, off, off + len)) {
      return x;
    }
    x = new Bytes(Arrays.copyOfRange(b, off, off + len), h);
    SHARED[slot] = x;
    return x;
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
    return o == this || o instanceof Bytes x && x.hash == hash && Arrays.equals(x.b, b);
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
