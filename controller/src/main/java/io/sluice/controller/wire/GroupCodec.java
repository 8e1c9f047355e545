package io.sluice.controller.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.sluice.controller.wire.WireGroup.Content;
import io.sluice.controller.wire.WireGroup.WireBucket;
import io.sluice.renderer.flow.Group;
import java.util.ArrayList;
import java.util.List;
import org.projectfloodlight.openflow.protocol.OFVersion;

/**
 * OFPT_GROUP_MOD for OF1.3, OF1.4 and OF1.5, byte for byte as OVS 3.1's {@code ofputil_encode_group_mod} writes the
 * same group given as {@link io.sluice.renderer.flow.OfctlFormat#group} text; bucket actions come from
 * {@link FlowEncoder#writeActions} (Nicira actions included). ADD, MODIFY and DELETE in every version; OF1.5's
 * INSERT_BUCKET and REMOVE_BUCKET edit a group's buckets in place, so the others keep their ids.
 *
 * <p>How OVS holds a bucket, and so how it is written here: a bucket of a group that is not a select group has
 * weight 0 (OVS refuses any other weight there, whatever the renderer's bucket says); OF1.5 writes the weight
 * property for select groups (in an INSERT_BUCKET, whose type is ignored and written as 0, as ovs-ofctl does: only
 * for a weight other than 0), and watch properties only when something is watched.
 *
 * <p>One group must fit one OpenFlow message, bundle framing included ({@link #checkFits}): OVS 3.1 cannot describe
 * a longer group (its OFPMP_GROUP_DESC entry overflows the 16-bit length: asked for that group alone it sends a
 * length that wraps, corrupting the connection; asked for all groups, ovs-vswitchd aborts in
 * {@code ofpmp_postappend} when another group follows it). Such a group is refused here, never split or truncated.
 * Stateless and thread-safe.
 */
public final class GroupCodec {
  private GroupCodec() { }

  public static final int OFPT_GROUP_MOD = 15;
  public static final int ADD = 0;
  public static final int MODIFY = 1;
  public static final int DELETE = 2;
  /** OF1.5 OFPGC_INSERT_BUCKET. */
  public static final int INSERT_BUCKET = 3;
  /** OF1.5 OFPGC_REMOVE_BUCKET. */
  public static final int REMOVE_BUCKET = 5;
  /** OF1.5 command_bucket_id values. */
  public static final long BUCKET_MAX = 0xffffff00L;
  public static final long BUCKET_FIRST = 0xfffffffdL;
  public static final long BUCKET_LAST = 0xfffffffeL;
  public static final long BUCKET_ALL = 0xffffffffL;
  /** OFPP_ANY and OFPG_ANY: nothing watched. */
  public static final long ANY = 0xffffffffL;
  /** OFPG_ALL: every group (requests, delete). */
  public static final long OFPG_ALL = 0xfffffffcL;
  public static final int SELECT = 1;
  private static final int OFPAT_GROUP = 22;
  private static final int OFPGBPT15_WEIGHT = 0;
  private static final int OFPGBPT15_WATCH_PORT = 1;
  private static final int OFPGBPT15_WATCH_GROUP = 2;
  private static final int MAX_MESSAGE = 0xffff;

  /** A group too long for one OpenFlow message: OVS could never report it back. */
  public static final class GroupTooLargeException extends IllegalArgumentException {
    private final long groupId;

    GroupTooLargeException(long groupId, String message) {
      super(message);
      this.groupId = groupId;
    }

    public long groupId() {
      return groupId;
    }
  }

  /**
   * The group as a switch of this version holds it right after an ADD of it: bucket ids are positions.
   *
   * @throws GroupTooLargeException when it does not fit one message ({@link #checkFits})
   * @throws IllegalArgumentException for a version other than OF1.3–1.5 or an action OVS refuses in a bucket
   */
  public static WireGroup wireGroup(Group g, OFVersion v) {
    checkVersion(v);
    List<WireBucket> buckets = new ArrayList<>(g.buckets().size());
    ByteBuf scratch = Unpooled.buffer(64);
    for (int i = 0; i < g.buckets().size(); i++) {
      Group.Bucket b = g.buckets().get(i);
      scratch.clear();
      FlowEncoder.writeActions(scratch, b.actions(), v);
      byte[] actions = new byte[scratch.readableBytes()];
      scratch.readBytes(actions);
      int weight = g.type() == Group.Type.SELECT ? b.weight() : 0;
      buckets.add(new WireBucket(i, new Content(weight, b.watchPort() >= 0 ? b.watchPort() : ANY, ANY,
          Bytes.wrap(actions), Bytes.EMPTY)));
    }
    WireGroup w = new WireGroup(g.id(), g.type().wire(), buckets, Bytes.EMPTY);
    checkFits(w, v);
    return w;
  }

  /**
   * Refuses a group whose GROUP_MOD, wrapped in a bundle-add of this version, would not fit one OpenFlow message, or
   * whose statistics (16 bytes per bucket) would not fit one reply: the switch could hold it but never report it.
   */
  public static void checkFits(WireGroup g, OFVersion v) {
    int overhead = Math.max(Bundles.addOverhead(v), 8); // the description reply adds 8 bytes to the group-mod
    long len = modLength(g, v);
    long statsLen = 16 + 40 + 16L * g.buckets().size();
    if (len + overhead > MAX_MESSAGE || statsLen > MAX_MESSAGE) {
      throw new GroupTooLargeException(g.id(), "group 0x" + Long.toHexString(g.id()) + " (" + g.buckets().size()
          + " buckets, " + len + " bytes as one " + versionName(v) + " group-mod) does not fit one OpenFlow message ("
          + (MAX_MESSAGE - overhead) + " bytes with bundle framing): OVS could not report it back (its group "
          + "description would overflow, and dumping groups makes ovs-vswitchd abort); split it, e.g. into a "
          + "select group whose buckets point at smaller select groups");
    }
  }

  /**
   * The groups this group's buckets apply (their OFPAT_GROUP actions), so groups can be added after the groups they
   * point at and deleted before them.
   */
  public static java.util.Set<Long> referencedGroups(WireGroup g) {
    java.util.Set<Long> out = new java.util.TreeSet<>();
    for (WireBucket b : g.buckets()) {
      Bytes a = b.content().actions();
      int p = 0;
      while (p + 4 <= a.length()) {
        int type = (a.get(p) & 0xff) << 8 | (a.get(p + 1) & 0xff);
        int len = (a.get(p + 2) & 0xff) << 8 | (a.get(p + 3) & 0xff);
        if (len < 8 || p + len > a.length()) {
          break;
        }
        if (type == OFPAT_GROUP && len == 8) {
          out.add(((a.get(p + 4) & 0xffL) << 24) | ((a.get(p + 5) & 0xff) << 16) | ((a.get(p + 6) & 0xff) << 8)
              | (a.get(p + 7) & 0xff));
        }
        p += len;
      }
    }
    return out;
  }

  /** The length of this group's ADD (or MODIFY) message. */
  public static long modLength(WireGroup g, OFVersion v) {
    boolean of15 = of15(v);
    long len = of15 ? 24 + g.properties().length() : 16;
    for (WireBucket b : g.buckets()) {
      len += bucketLength(b, g.type() == SELECT, v);
    }
    return len;
  }

  private static int bucketLength(WireBucket b, boolean alwaysWeight, OFVersion v) {
    Content c = b.content();
    if (!of15(v)) {
      return 16 + c.actions().length();
    }
    return 8 + c.actions().length() + (alwaysWeight || c.weight() != 0 ? 8 : 0) + (c.watchPort() != ANY ? 8 : 0)
        + (c.watchGroup() != ANY ? 8 : 0) + c.otherProperties().length();
  }

  /** Appends an OFPGC_ADD of the whole group. */
  public static void writeAdd(ByteBuf out, WireGroup g, OFVersion v, long xid) {
    writeWhole(out, ADD, g, v, xid);
  }

  /** Appends an OFPGC_MODIFY replacing the group's type and buckets (in OF1.5, with the buckets' ids). */
  public static void writeModify(ByteBuf out, WireGroup g, OFVersion v, long xid) {
    writeWhole(out, MODIFY, g, v, xid);
  }

  private static void writeWhole(ByteBuf out, int command, WireGroup g, OFVersion v, long xid) {
    if (!g.readable()) {
      throw new IllegalArgumentException("cannot write an unreadable group: " + g.describe());
    }
    int start = header(out, v, command, g.type(), g.id(), xid);
    writeBuckets(out, start, g.buckets(), g.type() == SELECT, of15(v) ? BUCKET_ALL : -1, v);
    if (of15(v)) {
      out.writeBytes(g.properties().toArray());
    }
    finish(out, start, g.id());
  }

  /** Appends an OFPGC_DELETE of one group (type written as 0, as ovs-ofctl does; the switch ignores it). */
  public static void writeDelete(ByteBuf out, long groupId, OFVersion v, long xid) {
    int start = header(out, v, DELETE, 0, groupId, xid);
    if (of15(v)) {
      out.writeShort(0).writeShort(0).writeInt((int) BUCKET_ALL);
    }
    finish(out, start, groupId);
  }

  /**
   * Appends an OF1.5 OFPGC_INSERT_BUCKET adding {@code buckets} (with their ids) to the group, at
   * {@code commandBucketId} ({@link #BUCKET_LAST}, {@link #BUCKET_FIRST} or after an existing bucket's id).
   */
  public static void writeInsertBuckets(ByteBuf out, long groupId, List<WireBucket> buckets, long commandBucketId,
                                        OFVersion v, long xid) {
    requireOf15(v, "insert buckets");
    int start = header(out, v, INSERT_BUCKET, 0, groupId, xid);
    writeBuckets(out, start, buckets, false, commandBucketId, v);
    finish(out, start, groupId);
  }

  /** Appends an OF1.5 OFPGC_REMOVE_BUCKET of the bucket with this id ({@link #BUCKET_ALL}: every bucket). */
  public static void writeRemoveBucket(ByteBuf out, long groupId, long bucketId, OFVersion v, long xid) {
    requireOf15(v, "remove buckets");
    int start = header(out, v, REMOVE_BUCKET, 0, groupId, xid);
    out.writeShort(0).writeShort(0).writeInt((int) bucketId);
    finish(out, start, groupId);
  }

  /** The group-mod as bytes, for tests and tools. */
  public static byte[] toBytes(java.util.function.Consumer<ByteBuf> writer) {
    ByteBuf b = Unpooled.buffer(256);
    writer.accept(b);
    byte[] out = new byte[b.readableBytes()];
    b.readBytes(out);
    return out;
  }

  private static int header(ByteBuf out, OFVersion v, int command, int type, long groupId, long xid) {
    int wire = checkVersion(v);
    int start = out.writerIndex();
    out.writeByte(wire).writeByte(OFPT_GROUP_MOD).writeShort(0).writeInt((int) xid);
    out.writeShort(command).writeByte(type).writeByte(0).writeInt((int) groupId);
    return start;
  }

  /** OF1.5: bucket_array_len, pad, command_bucket_id, then the buckets; before OF1.5 just the buckets. */
  private static void writeBuckets(ByteBuf out, int start, List<WireBucket> buckets, boolean alwaysWeight,
                                   long commandBucketId, OFVersion v) {
    if (!of15(v)) {
      for (WireBucket b : buckets) {
        Content c = b.content();
        int len = 16 + c.actions().length();
        out.writeShort(len).writeShort(c.weight()).writeInt((int) c.watchPort()).writeInt((int) c.watchGroup())
            .writeInt(0);
        out.writeBytes(c.actions().toArray());
      }
      return;
    }
    int lenAt = out.writerIndex();
    out.writeShort(0).writeShort(0).writeInt((int) commandBucketId);
    int bucketsStart = out.writerIndex();
    for (WireBucket b : buckets) {
      Content c = b.content();
      if (b.id() < 0 || b.id() > BUCKET_MAX) {
        throw new IllegalArgumentException("bucket id out of range: " + b.id());
      }
      int bs = out.writerIndex();
      out.writeShort(0).writeShort(c.actions().length()).writeInt((int) b.id());
      out.writeBytes(c.actions().toArray());
      if (alwaysWeight || c.weight() != 0) {
        out.writeShort(OFPGBPT15_WEIGHT).writeShort(8).writeShort(c.weight()).writeShort(0);
      }
      if (c.watchPort() != ANY) {
        out.writeShort(OFPGBPT15_WATCH_PORT).writeShort(8).writeInt((int) c.watchPort());
      }
      if (c.watchGroup() != ANY) {
        out.writeShort(OFPGBPT15_WATCH_GROUP).writeShort(8).writeInt((int) c.watchGroup());
      }
      out.writeBytes(c.otherProperties().toArray());
      checkLength(out.writerIndex() - bs, "bucket " + b.id());
      out.setShort(bs, out.writerIndex() - bs);
    }
    checkLength(out.writerIndex() - bucketsStart, "bucket list");
    out.setShort(lenAt, out.writerIndex() - bucketsStart);
  }

  private static void checkLength(int len, String what) {
    if (len > MAX_MESSAGE) {
      throw new IllegalArgumentException(what + " of " + len + " bytes exceeds 65535");
    }
  }

  private static void finish(ByteBuf out, int start, long groupId) {
    int len = out.writerIndex() - start;
    if (len > MAX_MESSAGE) {
      out.writerIndex(start);
      throw new GroupTooLargeException(groupId, "group-mod of group 0x" + Long.toHexString(groupId) + " is " + len
          + " bytes, more than one OpenFlow message holds (65535)");
    }
    out.setShort(start + 2, len);
  }

  /** An OFPMP_GROUP_DESC request for every group. */
  public static void writeDescRequest(ByteBuf out, OFVersion v, long xid) {
    multipartRequest(out, v, xid, GroupReplies.OFPMP_GROUP_DESC, of15(v));
  }

  /** An OFPMP_GROUP (statistics) request for every group. */
  public static void writeStatsRequest(ByteBuf out, OFVersion v, long xid) {
    multipartRequest(out, v, xid, GroupReplies.OFPMP_GROUP, true);
  }

  private static void multipartRequest(ByteBuf out, OFVersion v, long xid, int mpType, boolean groupIdBody) {
    int wire = checkVersion(v);
    out.writeByte(wire).writeByte(18).writeShort(groupIdBody ? 24 : 16).writeInt((int) xid);
    out.writeShort(mpType).writeShort(0).writeInt(0);
    if (groupIdBody) {
      out.writeInt((int) OFPG_ALL).writeInt(0);
    }
  }

  static boolean of15(OFVersion v) {
    return v == OFVersion.OF_15;
  }

  private static void requireOf15(OFVersion v, String what) {
    if (!of15(v)) {
      throw new IllegalArgumentException(what + " needs OpenFlow 1.5, not " + v);
    }
  }

  static String versionName(OFVersion v) {
    return switch (v) {
      case OF_13 -> "OF1.3";
      case OF_14 -> "OF1.4";
      case OF_15 -> "OF1.5";
      default -> v.toString();
    };
  }

  static int checkVersion(OFVersion v) {
    if (v != OFVersion.OF_13 && v != OFVersion.OF_14 && v != OFVersion.OF_15) {
      throw new IllegalArgumentException("only OF1.3, OF1.4 and OF1.5 are supported, not " + v);
    }
    return v.getWireVersion();
  }
}
