package io.sluice.renderer.flow;

import java.util.List;
import java.util.Objects;

/**
 * One desired OpenFlow group. Sluice owns the group ids whose top byte is {@link #OWNER_TAG} (as cookies mark its
 * flows): a group outside that range is never modified or deleted. A new group's bucket ids (OpenFlow 1.5) are the
 * buckets' positions; once sync has edited a group's buckets in place (OpenFlow 1.5 insert/remove bucket, so the
 * buckets left alone keep their ids) the switch's ids may differ from the positions.
 */
public record Group(long id, Type type, List<Bucket> buckets) {
  public static final long OWNER_TAG = 0x5cL;
  private static final long ID_BITS = 0x00ff_ffffL;

  public Group {
    Objects.requireNonNull(type, "type");
    buckets = List.copyOf(buckets);
    if (!isOwned(id)) {
      throw new IllegalArgumentException("group id 0x" + Long.toHexString(id) + " is not in Sluice's range (0x5cxxxxxx)");
    }
    if (type == Type.FAST_FAILOVER && buckets.stream().anyMatch(b -> b.watchPort() < 0)) {
      // OVS refuses such a bucket (OFPGMFC_INVALID_GROUP; ovs-ofctl: "fast failover bucket requires watch_port or
      // watch_group")
      throw new IllegalArgumentException("fast-failover group " + id + ": each bucket needs a watch_port");
    }
    if (type == Type.INDIRECT && buckets.size() != 1) {
      throw new IllegalArgumentException("an indirect group has exactly one bucket, group " + id + " has " + buckets.size());
    }
  }

  /** A Sluice group id from a 24-bit number. */
  public static long ownedId(long n) {
    if (n < 0 || n > ID_BITS) {
      throw new IllegalArgumentException("group number out of range: " + n);
    }
    return OWNER_TAG << 24 | n;
  }

  /** True when Sluice owns this group id. */
  public static boolean isOwned(long id) {
    return (id & 0xffff_ffffL) == id && id >>> 24 == OWNER_TAG;
  }

  @Override
  public String toString() {
    return OfctlFormat.group(this);
  }

  /** OpenFlow group types, with their ovs-ofctl names. */
  public enum Type {
    ALL("all", 0), SELECT("select", 1), INDIRECT("indirect", 2), FAST_FAILOVER("ff", 3);

    private final String ofctlName;
    private final int wire;

    Type(String ofctlName, int wire) {
      this.ofctlName = ofctlName;
      this.wire = wire;
    }

    public String ofctlName() {
      return ofctlName;
    }

    /** The OFPGT_* number. */
    public int wire() {
      return wire;
    }
  }

  /**
   * A bucket: its weight (select groups; 1 elsewhere), its actions (no goto_table), and the port whose liveness it
   * follows ({@code watchPort}, -1 for none): a fast-failover group uses its first live bucket, a select group only
   * live ones, so the switch itself stops using a port that goes down.
   */
  public record Bucket(int weight, List<Action> actions, long watchPort) {
    /** A bucket that watches no port. */
    public Bucket(int weight, List<Action> actions) {
      this(weight, actions, -1);
    }

    public Bucket {
      if (watchPort < -1 || watchPort > 0xffffff00L) {
        throw new IllegalArgumentException("watch port out of range: " + watchPort);
      }
      actions = List.copyOf(actions);
      if (weight < 0 || weight > 0xffff) {
        throw new IllegalArgumentException("bucket weight out of range: " + weight);
      }
      for (Action a : actions) {
        if (a instanceof Action.GotoTable || a instanceof Action.Conjunction || a instanceof Action.Meter) {
          throw new IllegalArgumentException("a group bucket may not carry " + a);
        }
      }
    }
  }
}
