package io.sluice.renderer.flow;

/**
 * A flow cookie that names what installed the flow. Layout (64 bits):
 * <pre>
 *  63..56  owner tag 0x5c: flows without it are not Sluice's and are never touched
 *  55..48  category: what the flow is (base pipeline, policy rule allow, isolation drop, exemption, admission,
 *          service, learned by the switch, ...); callers ask the named predicates, never compare numbers
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

  /**
   * True for a flow the controller keeps in line with the desired tables: Sluice's, but not one a switch learned
   * itself ({@link Category#LEARNED}: session-affinity entries, which come and go with traffic and idle out).
   */
  public static boolean isSynced(long cookie) {
    return isOwned(cookie) && ((cookie >>> 48) & 0xff) != Category.LEARNED.code;
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

  /** A base pipeline flow (table misses, fixed forwarding). */
  public boolean isBase() {
    return owned() && category() == Category.BASE;
  }

  /** A flow of an allow rule of a NetworkPolicy (its match parts and conjunction): the object id is the rule's id. */
  public boolean isRuleAllow() {
    return owned() && category() == Category.POLICY;
  }

  /** A default-deny flow of an isolated pod: a packet it counts was dropped because no rule allowed it. */
  public boolean isIsolationDrop() {
    return owned() && category() == Category.ISOLATION;
  }

  /** A flow that lets an isolated pod reach itself or its own node, whatever the policies say. */
  public boolean isExemption() {
    return owned() && category() == Category.EXEMPTION;
  }

  /** A port admission flow (admit, anti-spoofing, closed port): which ports and sources may send at all. */
  public boolean isAdmission() {
    return owned() && category() == Category.ADMISSION;
  }

  /** A flow of the audit log: it sends what a logged rule allowed to the controller (table AuditLog). */
  public boolean isAudit() {
    return owned() && category() == Category.AUDIT;
  }

  /** A flow a switch learned itself: sync never touches it. */
  public boolean isLearned() {
    return owned() && category() == Category.LEARNED;
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
    /**
     * BASE: the base pipeline; POLICY: an allow rule of a policy; SERVICE: a Service port; LEARNED: a flow a switch
     * learned (a learn action's cookie: session affinity), never diffed, modified or deleted by sync; ISOLATION: the
     * default-deny drops of isolated pods; EXEMPTION: an isolated pod's traffic with itself and its own node, never
     * governed; ADMISSION: which ports and source addresses may send (table 0) and closed pods' MACs; AUDIT: the
     * audit log's flows (a logged rule's allowed connection sent to the controller after forwarding).
     */
    BASE(1), POLICY(2), SERVICE(3), LEARNED(4), ISOLATION(5), EXEMPTION(6), ADMISSION(7), AUDIT(8), BENCH(0x7f),
    UNKNOWN(0);

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
