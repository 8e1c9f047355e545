package io.sluice.renderer.flow;

/**
 * A flow cookie that names what installed the flow. Layout (64 bits):
 * <pre>
 *  63..56  owner tag 0x5c: flows without it are not Sluice's and are never touched
 *  55..48  category (base pipeline, policy rule, service, ...)
 *  47..32  round: the controller incarnation that last wrote the flow (informational, ignored when diffing)
 *  31..0   object id within the category (e.g. a policy rule's id)
 * </pre>
 */
public record Cookie(long value) {
  public static final long OWNER_TAG = 0x5cL;
  public static final long OWNER_MASK = 0xff00_0000_0000_0000L;
  public static final long ROUND_MASK = 0x0000_ffff_0000_0000L;

  public static Cookie of(Category category, int round, long objectId) {
    if (round < 0 || round > 0xffff) {
      throw new IllegalArgumentException("cookie round out of range: " + round);
    }
    if (objectId < 0 || objectId > 0xffffffffL) {
      throw new IllegalArgumentException("cookie object id out of range: " + objectId);
    }
    return new Cookie(OWNER_TAG << 56 | (long) category.code << 48 | (long) round << 32 | objectId);
  }

  /** True when Sluice put this cookie on a flow. */
  public static boolean isOwned(long cookie) {
    return (cookie & OWNER_MASK) == OWNER_TAG << 56;
  }

  public boolean owned() {
    return isOwned(value);
  }

  public Category category() {
    return Category.of((int) (value >>> 48) & 0xff);
  }

  public int round() {
    return (int) ((value & ROUND_MASK) >>> 32);
  }

  public long objectId() {
    return value & 0xffffffffL;
  }

  /** The same cookie stamped with another round. */
  public Cookie withRound(int round) {
    return of(category(), round, objectId());
  }

  /** Cookies are the same owner, category and object; the round does not matter. */
  public boolean sameObject(long other) {
    return (value & ~ROUND_MASK) == (other & ~ROUND_MASK);
  }

  @Override
  public String toString() {
    return "0x" + Long.toHexString(value);
  }

  /** What kind of object put a flow there. */
  public enum Category {
    BASE(1), POLICY(2), SERVICE(3), BENCH(0x7f), UNKNOWN(0);

    final int code;

    Category(int code) {
      this.code = code;
    }

    static Category of(int code) {
      for (Category c : values()) {
        if (c.code == code) {
          return c;
        }
      }
      return UNKNOWN;
    }
  }
}
