package io.sluice.controller.wire;

import static io.sluice.controller.wire.MatchCodec.getInt;
import static io.sluice.controller.wire.MatchCodec.getLong;
import static io.sluice.controller.wire.MatchCodec.getShort;

import io.netty.buffer.ByteBuf;
import io.sluice.controller.wire.FlowStatsParser.MalformedStatsException;
import io.sluice.controller.wire.WireGroup.Content;
import io.sluice.controller.wire.WireGroup.WireBucket;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.projectfloodlight.openflow.protocol.OFVersion;

/**
 * Tolerant readers of OFPMP_GROUP_DESC and OFPMP_GROUP (statistics) replies for OF1.3, OF1.4 and OF1.5, written
 * because OpenFlowJ throws on the Nicira actions OVS puts in buckets. Bucket actions are kept as raw bytes, so a
 * group reads back {@linkplain WireGroup equal} to {@link GroupCodec#wireGroup} of the same group in the same
 * version. A group entry whose buckets do not add up is reported as {@link WireGroup#unreadable} (its id is still
 * known) and counted; a body that ends inside an entry throws {@link MalformedStatsException}. Stateless.
 */
public final class GroupReplies {
  private GroupReplies() { }

  public static final int OFPMP_GROUP = 6;
  public static final int OFPMP_GROUP_DESC = 7;
  private static final int OFPGBPT15_WEIGHT = 0;
  private static final int OFPGBPT15_WATCH_PORT = 1;
  private static final int OFPGBPT15_WATCH_GROUP = 2;

  /** Every group of a description dump, and how many of them could not be read (reported as unreadable). */
  public record Desc(List<WireGroup> groups, int unreadable) { }

  /** A group's counters: the group's own, then one (packets, bytes) per bucket in the switch's bucket order. */
  public record GroupStats(long groupId, long refCount, long packets, long bytes, long durationSec,
                           long durationNsec, List<BucketCounter> buckets) {
    public GroupStats {
      buckets = List.copyOf(buckets);
    }
  }

  /** One bucket's counters. */
  public record BucketCounter(long packets, long bytes) { }

  /** Reads every part of a group-description dump. */
  public static Desc parseDesc(List<ByteBuf> frames) {
    List<WireGroup> groups = new ArrayList<>();
    int unreadable = 0;
    for (ByteBuf f : frames) {
      unreadable += visitDesc(f, groups::add);
    }
    return new Desc(groups, unreadable);
  }

  /**
   * Hands every group of one whole OFPMP_GROUP_DESC reply (readable bytes of {@code msg}; indices untouched) to
   * {@code out}, in order; returns how many of them could not be read.
   */
  public static int visitDesc(ByteBuf msg, Consumer<WireGroup> out) {
    int len = Replies.check(msg, OFPMP_GROUP_DESC, "group description");
    OFVersion v = Replies.version(msg);
    int[] off = new int[1];
    byte[] b = Replies.body(msg, len, off);
    int p = off[0];
    int end = p + len - Replies.HEADER;
    boolean of15 = v == OFVersion.OF_15;
    int unreadable = 0;
    while (p < end) {
      if (end - p < 8) {
        throw new MalformedStatsException("group description truncated: " + (end - p) + " stray bytes");
      }
      int elen = getShort(b, p);
      int fixed = of15 ? 16 : 8;
      if (elen < fixed || elen > end - p) {
        throw new MalformedStatsException("group description entry claims " + elen + " bytes, " + (end - p) + " remain");
      }
      long id = getInt(b, p + 4) & 0xffffffffL;
      WireGroup g = of15 ? entry15(b, p, elen, id) : entry13(b, p, elen, id);
      if (g == null) {
        unreadable++;
        g = WireGroup.unreadable(id);
      }
      out.accept(g);
      p += elen;
    }
    return unreadable;
  }

  /** ofp11_group_desc_stats: length, type, pad, group_id, then ofp11_buckets. */
  private static WireGroup entry13(byte[] b, int p, int elen, long id) {
    int type = b[p + 2] & 0xff;
    List<WireBucket> buckets = new ArrayList<>();
    int q = p + 8;
    int end = p + elen;
    while (q < end) {
      if (end - q < 16) {
        return null;
      }
      int blen = getShort(b, q);
      if (blen < 16 || (blen & 7) != 0 || blen > end - q) {
        return null;
      }
      int weight = getShort(b, q + 2);
      long watchPort = getInt(b, q + 4) & 0xffffffffL;
      long watchGroup = getInt(b, q + 8) & 0xffffffffL;
      Bytes actions = Bytes.shared(b, q + 16, blen - 16);
      buckets.add(new WireBucket(buckets.size(), new Content(weight, watchPort, watchGroup, actions, Bytes.EMPTY)));
      q += blen;
    }
    return new WireGroup(id, type, buckets, Bytes.EMPTY);
  }

  /** ofp15_group_desc_stats: length, type, pad, group_id, bucket_array_len, pad 6, ofp15_buckets, properties. */
  private static WireGroup entry15(byte[] b, int p, int elen, long id) {
    int type = b[p + 2] & 0xff;
    int arrayLen = getShort(b, p + 8);
    int q = p + 16;
    int end = p + elen;
    int bucketsEnd = q + arrayLen;
    if (arrayLen > end - q) {
      return null;
    }
    List<WireBucket> buckets = new ArrayList<>();
    while (q < bucketsEnd) {
      if (bucketsEnd - q < 8) {
        return null;
      }
      int blen = getShort(b, q);
      int alen = getShort(b, q + 2);
      long bucketId = getInt(b, q + 4) & 0xffffffffL;
      if (blen < 8 || (blen & 7) != 0 || blen > bucketsEnd - q || alen > blen - 8) {
        return null;
      }
      Bytes actions = Bytes.shared(b, q + 8, alen);
      int weight = 0;
      long watchPort = GroupCodec.ANY;
      long watchGroup = GroupCodec.ANY;
      int otherStart = -1;
      int otherLen = 0;
      int r = q + 8 + alen;
      int bend = q + blen;
      while (r < bend) {
        if (bend - r < 4) {
          return null;
        }
        int ptype = getShort(b, r);
        int plen = getShort(b, r + 2);
        int padded = (plen + 7) & ~7;
        if (plen < 4 || padded > bend - r) {
          return null;
        }
        if (ptype == OFPGBPT15_WEIGHT && plen == 8) {
          weight = getShort(b, r + 4);
        } else if (ptype == OFPGBPT15_WATCH_PORT && plen == 8) {
          watchPort = getInt(b, r + 4) & 0xffffffffL;
        } else if (ptype == OFPGBPT15_WATCH_GROUP && plen == 8) {
          watchGroup = getInt(b, r + 4) & 0xffffffffL;
        } else {
          if (otherStart < 0) {
            otherStart = r;
          }
          otherLen = r + padded - otherStart; // other properties as one run (their order is kept)
        }
        r += padded;
      }
      Bytes other = otherStart < 0 ? Bytes.EMPTY : Bytes.of(b, otherStart, otherLen);
      buckets.add(new WireBucket(bucketId, new Content(weight, watchPort, watchGroup, actions, other)));
      q += blen;
    }
    Bytes props = bucketsEnd < end ? Bytes.of(b, bucketsEnd, end - bucketsEnd) : Bytes.EMPTY;
    return new WireGroup(id, type, buckets, props);
  }

  /** Reads every part of a group-statistics dump; entries that do not add up are skipped. */
  public static List<GroupStats> parseStats(List<ByteBuf> frames) {
    List<GroupStats> out = new ArrayList<>();
    for (ByteBuf f : frames) {
      visitStats(f, out::add);
    }
    return out;
  }

  /** Hands every entry of one whole OFPMP_GROUP reply to {@code out}; returns how many were skipped. */
  public static int visitStats(ByteBuf msg, Consumer<GroupStats> out) {
    int len = Replies.check(msg, OFPMP_GROUP, "group statistics");
    int[] off = new int[1];
    byte[] b = Replies.body(msg, len, off);
    int p = off[0];
    int end = p + len - Replies.HEADER;
    int skipped = 0;
    while (p < end) {
      if (end - p < 2) {
        throw new MalformedStatsException("group statistics truncated: " + (end - p) + " stray bytes");
      }
      int elen = getShort(b, p);
      if (elen < 8 || elen > end - p) {
        throw new MalformedStatsException("group statistics entry claims " + elen + " bytes, " + (end - p) + " remain");
      }
      if (elen < 40 || (elen - 40) % 16 != 0) {
        skipped++;
      } else {
        List<BucketCounter> counters = new ArrayList<>((elen - 40) / 16);
        for (int q = p + 40; q < p + elen; q += 16) {
          counters.add(new BucketCounter(getLong(b, q), getLong(b, q + 8)));
        }
        out.accept(new GroupStats(getInt(b, p + 4) & 0xffffffffL, getInt(b, p + 8) & 0xffffffffL,
            getLong(b, p + 16), getLong(b, p + 24), getInt(b, p + 32) & 0xffffffffL, getInt(b, p + 36) & 0xffffffffL,
            counters));
      }
      p += elen;
    }
    return skipped;
  }
}
