package io.sluice.controller.wire;

import java.util.List;
import java.util.Objects;

/**
 * A group as the switch holds it, comparable by equality between what {@link GroupCodec#wireGroup} wants and what
 * {@link GroupReplies} reads back (same OpenFlow version).
 *
 * @param id         the group id
 * @param type       OFPGT_* (0 all, 1 select, 2 indirect, 3 fast failover), or {@link #UNREADABLE} for a group
 *                   the switch reported in a form this parser could not take apart (only its id is known)
 * @param buckets    in the switch's order; a bucket's id is OF1.5's bucket id, its position before OF1.5 (OF1.3
 *                   and 1.4 carry no bucket ids; OVS numbers their buckets by position)
 * @param properties OF1.5 group properties as the switch sent them (e.g. OVS's selection method); empty otherwise
 */
public record WireGroup(long id, int type, List<WireBucket> buckets, Bytes properties) {
  /** The type of a group whose description could not be read. */
  public static final int UNREADABLE = -1;

  public WireGroup {
    buckets = List.copyOf(buckets);
    Objects.requireNonNull(properties, "properties");
  }

  /** A group known only by its id (its description could not be read): never equal to a desired one. */
  public static WireGroup unreadable(long id) {
    return new WireGroup(id, UNREADABLE, List.of(), Bytes.EMPTY);
  }

  public boolean readable() {
    return type != UNREADABLE;
  }

  /** Short text for logs and reports: id, type and bucket count (never every bucket). */
  public String describe() {
    return "group_id=0x" + Long.toHexString(id) + ",type=" + typeName(type) + " (" + buckets.size() + " buckets)";
  }

  static String typeName(int type) {
    return switch (type) {
      case 0 -> "all";
      case 1 -> "select";
      case 2 -> "indirect";
      case 3 -> "ff";
      case UNREADABLE -> "unreadable";
      default -> "type" + type;
    };
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("WireGroup[").append(describe());
    for (int i = 0; i < Math.min(3, buckets.size()); i++) {
      sb.append(", ").append(buckets.get(i));
    }
    if (buckets.size() > 3) {
      sb.append(", ...");
    }
    if (properties.length() > 0) {
      sb.append(", properties=").append(properties.hex());
    }
    return sb.append(']').toString();
  }

  /**
   * One bucket: its id (see {@link WireGroup#buckets}) and what it does. Two buckets do the same thing when their
   * {@link Content}s are equal, whatever their ids.
   */
  public record WireBucket(long id, Content content) {
    public WireBucket {
      Objects.requireNonNull(content, "content");
    }

    @Override
    public String toString() {
      return "bucket_id:" + id + "," + content;
    }
  }

  /**
   * What a bucket does, as the switch reports it.
   *
   * @param weight          the weight (select groups; 0 in the others, as OVS holds them)
   * @param watchPort       the watched port, OFPP_ANY (0xffffffff) for none
   * @param watchGroup      the watched group, OFPG_ANY (0xffffffff) for none
   * @param actions         the action list's bytes exactly as OVS encodes them
   * @param otherProperties OF1.5 bucket properties other than weight and watches, as sent; empty otherwise
   */
  public record Content(int weight, long watchPort, long watchGroup, Bytes actions, Bytes otherProperties) {
    public Content {
      Objects.requireNonNull(actions, "actions");
      Objects.requireNonNull(otherProperties, "otherProperties");
    }

    @Override
    public String toString() {
      return "weight:" + weight + (watchPort != GroupCodec.ANY ? ",watch_port:" + watchPort : "")
          + (watchGroup != GroupCodec.ANY ? ",watch_group:" + watchGroup : "") + ",actions=" + actions.hex()
          + (otherProperties.length() > 0 ? ",properties=" + otherProperties.hex() : "");
    }
  }
}
