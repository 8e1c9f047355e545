package io.sluice.controller.wire;

import io.netty.buffer.ByteBuf;
import io.sluice.renderer.flow.Match;
import java.util.ArrayList;
import java.util.List;
import org.projectfloodlight.openflow.protocol.OFVersion;

/**
 * A tolerant reader of OFPMP_FLOW multipart replies (flow stats) for OF1.3, OF1.4 and OF1.5, written because
 * OpenFlowJ cannot read OVS's: it throws on Nicira actions and NXM fields, and mis-numbers OF1.5's OXS stats.
 * <p>Each entry gives its counters, its {@link WireFlow} (equal to {@link FlowEncoder#wireFlow} of the same flow
 * in the same version: the match key is order-independent, the instruction bytes are kept raw), and the decoded
 * renderer {@link Match} when every match TLV is a field the renderer knows. An entry whose structure cannot be
 * read (unknown match type, inner lengths that do not add up) is skipped and counted, never thrown; a body that
 * ends inside an entry throws {@link MalformedStatsException}. Stateless and thread-safe.
 */
public final class FlowStatsParser {
  private FlowStatsParser() { }

  public static final int OFPT_MULTIPART_REPLY = 19;
  public static final int OFPMP_FLOW = 1;
  /** Multipart reply flag: more parts follow. */
  public static final int OFPMPF_REPLY_MORE = 1;
  /** OXS class of OF1.5 flow statistics. */
  public static final int OXS_OPENFLOW_BASIC = 0x8002;
  public static final int OXS_DURATION = 0;
  public static final int OXS_IDLE_TIME = 1;
  public static final int OXS_FLOW_COUNT = 3;
  public static final int OXS_PACKET_COUNT = 4;
  public static final int OXS_BYTE_COUNT = 5;

  /**
   * One flow of a flow-stats reply. Counters are unsigned 64-bit values held in longs; {@code match} is null when
   * some TLV is not a field the renderer knows (the flow is still identified by {@code wireFlow}).
   * {@code idleSec} is OF1.5's idle time (-1 when absent, always in OF1.3/1.4).
   */
  public record Entry(int table, int priority, long cookie, int idleTimeout, int hardTimeout, int flags,
                      int importance, long durationSec, long durationNsec, long idleSec, long packetCount,
                      long byteCount, WireFlow wireFlow, Bytes matchTlvs, Match match) {
    public long durationMillis() {
      return durationSec * 1000 + durationNsec / 1_000_000;
    }
  }

  /** Entries read, entries skipped, and whether the switch said more parts follow. */
  public record Result(List<Entry> entries, int skipped, boolean more) { }

  /**
   * One entry as it lies in the reply, handed to a visitor without building anything the visitor may not need
   * (reconciling 100,000 flows needs only identity, cookie and instructions, not a decoded {@link Match}). The
   * parser reuses one view for every entry of a call: read what you need inside {@code accept}, keep nothing.
   */
  public static final class View {
    private byte[] b;
    private OFVersion version;
    private int table;
    private int priority;
    private long cookie;
    private int idleTimeout;
    private int hardTimeout;
    private int flags;
    private int importance;
    private long durationSec;
    private long durationNsec;
    private long idleSec;
    private long packetCount;
    private long byteCount;
    private int matchOff;
    private int matchLen;
    private int instrOff;
    private int instrLen;
    private Bytes matchKey;

    public int table() {
      return table;
    }

    public int priority() {
      return priority;
    }

    public long cookie() {
      return cookie;
    }

    public long packetCount() {
      return packetCount;
    }

    public long byteCount() {
      return byteCount;
    }

    public long durationMillis() {
      return durationSec * 1000 + durationNsec / 1_000_000;
    }

    /** The canonical match key ({@link MatchCodec#canonicalKey}), as {@link WireFlow#matchKey()}. */
    public Bytes matchKey() {
      return matchKey;
    }

    /** The instruction bytes, as {@link WireFlow#instructions()} (an equal earlier instance when at hand). */
    public Bytes instructions() {
      return Bytes.shared(b, instrOff, instrLen);
    }

    /** The whole entry, match decoded when every TLV is a field the renderer knows. */
    public Entry toEntry() {
      Match match;
      try {
        match = MatchCodec.decode(b, matchOff, matchLen, version);
      } catch (IllegalArgumentException unknownField) {
        match = null;
      }
      WireFlow wf = new WireFlow(table, priority, cookie, matchKey, instructions());
      return new Entry(table, priority, cookie, idleTimeout, hardTimeout, flags, importance, durationSec,
          durationNsec, idleSec, packetCount, byteCount, wf, Bytes.of(b, matchOff, matchLen), match);
    }
  }

  /** The body ends inside an entry, or a message is not a flow-stats reply of a supported version. */
  public static final class MalformedStatsException extends IllegalArgumentException {
    public MalformedStatsException(String message) {
      super(message);
    }
  }

  /** Parses every reply message (each a whole OFPT_MULTIPART_REPLY frame, header included) of one dump. */
  public static Result parseReplies(List<ByteBuf> frames) {
    List<Entry> entries = new ArrayList<>();
    int skipped = 0;
    boolean more = false;
    for (ByteBuf f : frames) {
      skipped += visitReply(f, v -> entries.add(v.toEntry()));
      more = moreFollows(f);
    }
    return new Result(entries, skipped, more);
  }

  /** Whether a reply's header says more parts follow (the frame is checked by {@link #visitReply}). */
  public static boolean moreFollows(ByteBuf msg) {
    return msg.readableBytes() >= 12 && (msg.getUnsignedShort(msg.readerIndex() + 10) & OFPMPF_REPLY_MORE) != 0;
  }

  /** Parses one whole OFPT_MULTIPART_REPLY of type OFPMP_FLOW (readable bytes of {@code msg}; indices untouched). */
  public static Result parseReply(ByteBuf msg) {
    List<Entry> entries = new ArrayList<>();
    int skipped = visitReply(msg, v -> entries.add(v.toEntry()));
    return new Result(entries, skipped, moreFollows(msg));
  }

  /**
   * Hands every readable entry of one whole OFPT_MULTIPART_REPLY of type OFPMP_FLOW (readable bytes of
   * {@code msg}; indices untouched) to {@code visitor}, in order; returns how many entries were skipped.
   */
  public static int visitReply(ByteBuf msg, java.util.function.Consumer<View> visitor) {
    int at = msg.readerIndex();
    int avail = msg.readableBytes();
    if (avail < 16) {
      throw new MalformedStatsException("multipart reply shorter than its 16-byte header: " + avail + " bytes");
    }
    OFVersion v = version(msg.getUnsignedByte(at));
    int type = msg.getUnsignedByte(at + 1);
    int len = msg.getUnsignedShort(at + 2);
    if (type != OFPT_MULTIPART_REPLY) {
      throw new MalformedStatsException("not a multipart reply: message type " + type);
    }
    if (len > avail || len < 16) {
      throw new MalformedStatsException("multipart reply truncated: header says " + len + " bytes, " + avail + " present");
    }
    int mpType = msg.getUnsignedShort(at + 8);
    if (mpType != OFPMP_FLOW) {
      throw new MalformedStatsException("not a flow-stats reply: multipart type " + mpType);
    }
    if (msg.hasArray()) {
      return visitBody(v, msg.array(), msg.arrayOffset() + at + 16, len - 16, visitor);
    }
    byte[] b = new byte[len - 16];
    msg.getBytes(at + 16, b);
    return visitBody(v, b, 0, b.length, visitor);
  }

  /** Parses a flow-stats reply body (the entries after the multipart header), readable bytes of {@code body}. */
  public static Result parseBody(OFVersion v, ByteBuf body) {
    byte[] b = new byte[body.readableBytes()];
    body.getBytes(body.readerIndex(), b);
    return parseBody(v, b, 0, b.length);
  }

  /** Parses the flow-stats entries in {@code b[off, off+len)}. */
  public static Result parseBody(OFVersion v, byte[] b, int off, int len) {
    List<Entry> entries = new ArrayList<>();
    int skipped = visitBody(v, b, off, len, e -> entries.add(e.toEntry()));
    return new Result(entries, skipped, false);
  }

  /** Hands every readable entry in {@code b[off, off+len)} to {@code visitor}; returns how many were skipped. */
  public static int visitBody(OFVersion v, byte[] b, int off, int len, java.util.function.Consumer<View> visitor) {
    checkVersion(v);
    boolean of15 = v == OFVersion.OF_15;
    View view = new View();
    view.b = b;
    view.version = v;
    int skipped = 0;
    int p = off;
    int end = off + len;
    while (p < end) {
      if (end - p < 2) {
        throw new MalformedStatsException("flow stats body truncated: " + (end - p) + " stray bytes at offset " + (p - off));
      }
      int elen = MatchCodec.getShort(b, p);
      if (elen < 8) {
        throw new MalformedStatsException("flow stats entry at offset " + (p - off) + " has impossible length " + elen);
      }
      if (elen > end - p) {
        throw new MalformedStatsException("flow stats body truncated: entry at offset " + (p - off) + " claims "
            + elen + " bytes, only " + (end - p) + " remain");
      }
      if (of15 ? entry15(view, b, p, elen) : entry13(view, b, p, elen, v)) {
        visitor.accept(view);
      } else {
        skipped++;
      }
      p += elen;
    }
    return skipped;
  }

  /** OF1.3 / OF1.4 ofp_flow_stats: 48 fixed bytes, ofp_match padded to 8, instructions. */
  private static boolean entry13(View view, byte[] b, int p, int elen, OFVersion v) {
    if (elen < 56) {
      return false;
    }
    int table = b[p + 2] & 0xff;
    long durSec = MatchCodec.getInt(b, p + 4) & 0xffffffffL;
    long durNsec = MatchCodec.getInt(b, p + 8) & 0xffffffffL;
    int priority = MatchCodec.getShort(b, p + 12);
    int idle = MatchCodec.getShort(b, p + 14);
    int hard = MatchCodec.getShort(b, p + 16);
    int flags = MatchCodec.getShort(b, p + 18);
    int importance = v == OFVersion.OF_14 ? MatchCodec.getShort(b, p + 20) : 0;
    long cookie = MatchCodec.getLong(b, p + 24);
    long packets = MatchCodec.getLong(b, p + 32);
    long bytes = MatchCodec.getLong(b, p + 40);
    int m = p + 48;
    int end = p + elen;
    int instr = matchEnd(b, m, end);
    if (instr < 0) {
      return false;
    }
    return finish(view, b, m, instr, end, table, priority, cookie, idle, hard, flags, importance, durSec, durNsec, -1,
        packets, bytes);
  }

  /** OF1.5 ofp_flow_stats: 24 fixed bytes, ofp_match padded, ofp_stats (OXS) padded, instructions. */
  private static boolean entry15(View view, byte[] b, int p, int elen) {
    if (elen < 24 + 8 + 8) {
      return false;
    }
    int table = b[p + 4] & 0xff;
    int priority = MatchCodec.getShort(b, p + 6);
    int idle = MatchCodec.getShort(b, p + 8);
    int hard = MatchCodec.getShort(b, p + 10);
    int flags = MatchCodec.getShort(b, p + 12);
    int importance = MatchCodec.getShort(b, p + 14);
    long cookie = MatchCodec.getLong(b, p + 16);
    int m = p + 24;
    int end = p + elen;
    int stats = matchEnd(b, m, end);
    if (stats < 0 || end - stats < 4) {
      return false;
    }
    int slen = MatchCodec.getShort(b, stats + 2);
    int spadded = (slen + 7) & ~7;
    if (slen < 4 || spadded > end - stats) {
      return false;
    }
    long durSec = 0;
    long durNsec = 0;
    long idleSec = -1;
    long packets = 0;
    long bytes = 0;
    int q = stats + 4;
    int qend = stats + slen;
    while (q < qend) {
      if (qend - q < 4) {
        return false;
      }
      int h = MatchCodec.getInt(b, q);
      int tl = h & 0xff;
      if (tl > qend - q - 4) {
        return false;
      }
      if (h >>> 16 == OXS_OPENFLOW_BASIC) {
        int field = (h >>> 9) & 0x7f;
        int body = q + 4;
        if (field == OXS_DURATION && tl == 8) {
          durSec = MatchCodec.getInt(b, body) & 0xffffffffL;
          durNsec = MatchCodec.getInt(b, body + 4) & 0xffffffffL;
        } else if (field == OXS_IDLE_TIME && tl == 8) {
          idleSec = MatchCodec.getInt(b, body) & 0xffffffffL;
        } else if (field == OXS_PACKET_COUNT && tl == 8) {
          packets = MatchCodec.getLong(b, body);
        } else if (field == OXS_BYTE_COUNT && tl == 8) {
          bytes = MatchCodec.getLong(b, body);
        }
      }
      q += 4 + tl;
    }
    return finish(view, b, m, stats + spadded, end, table, priority, cookie, idle, hard, flags,
        importance, durSec, durNsec, idleSec, packets, bytes);
  }

  /** Checks the ofp_match at {@code m} and returns where the data after its padding starts, or -1. */
  private static int matchEnd(byte[] b, int m, int end) {
    if (end - m < 4) {
      return -1;
    }
    int type = MatchCodec.getShort(b, m);
    int mlen = MatchCodec.getShort(b, m + 2);
    int padded = (mlen + 7) & ~7;
    if (type != MatchCodec.OFPMT_OXM || mlen < 4 || padded > end - m) {
      return -1;
    }
    return m + padded;
  }

  /** Fills the view; false when the match or the instructions are not well formed. */
  private static boolean finish(View view, byte[] b, int m, int instr, int end, int table, int priority, long cookie,
                                int idle, int hard, int flags, int importance, long durSec, long durNsec, long idleSec,
                                long packets, long bytes) {
    int mlen = MatchCodec.getShort(b, m + 2) - 4;
    Bytes key = MatchCodec.canonicalKey(b, m + 4, mlen);
    if (key == null || !instructionsWellFormed(b, instr, end)) {
      return false;
    }
    view.table = table;
    view.priority = priority;
    view.cookie = cookie;
    view.idleTimeout = idle;
    view.hardTimeout = hard;
    view.flags = flags;
    view.importance = importance;
    view.durationSec = durSec;
    view.durationNsec = durNsec;
    view.idleSec = idleSec;
    view.packetCount = packets;
    view.byteCount = bytes;
    view.matchOff = m + 4;
    view.matchLen = mlen;
    view.instrOff = instr;
    view.instrLen = end - instr;
    view.matchKey = key;
    return true;
  }

  private static boolean instructionsWellFormed(byte[] b, int p, int end) {
    while (p < end) {
      if (end - p < 4) {
        return false;
      }
      int ilen = MatchCodec.getShort(b, p + 2);
      if (ilen < 4 || (ilen & 7) != 0 || ilen > end - p) {
        return false;
      }
      p += ilen;
    }
    return true;
  }

  /**
   * Decodes match TLVs (no ofp_match header) to a renderer match.
   *
   * @throws IllegalArgumentException when a TLV is malformed or not a field the renderer knows
   */
  public static Match decodeMatch(byte[] tlvs, OFVersion v) {
    return MatchCodec.decode(tlvs, 0, tlvs.length, v);
  }

  private static OFVersion version(int wire) {
    return switch (wire) {
      case 4 -> OFVersion.OF_13;
      case 5 -> OFVersion.OF_14;
      case 6 -> OFVersion.OF_15;
      default -> throw new MalformedStatsException("unsupported OpenFlow wire version " + wire);
    };
  }

  private static void checkVersion(OFVersion v) {
    if (v != OFVersion.OF_13 && v != OFVersion.OF_14 && v != OFVersion.OF_15) {
      throw new IllegalArgumentException("only OF1.3, OF1.4 and OF1.5 flow stats are supported, not " + v);
    }
  }
}
