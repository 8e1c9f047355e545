package io.sluice.controller.wire;

import static io.sluice.controller.wire.MatchCodec.getInt;
import static io.sluice.controller.wire.MatchCodec.getShort;

import io.netty.buffer.ByteBuf;
import io.sluice.controller.wire.FlowStatsParser.MalformedStatsException;
import io.sluice.renderer.flow.Meter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.projectfloodlight.openflow.protocol.OFVersion;

/**
 * OFPT_METER_MOD for OF1.3, OF1.4 and OF1.5 (one layout in all three), byte for byte as ovs-ofctl writes
 * {@link io.sluice.renderer.flow.OfctlFormat#meter} text, and a tolerant reader of OFPMP_METER_CONFIG replies (OF1.5
 * calls it meter description; same number, same layout). A Sluice meter has the burst flag and one drop band.
 * Meters cannot travel in bundles (OVS refuses them there): sync sends them before and after its bundle.
 * Stateless and thread-safe.
 */
public final class MeterCodec {
  private MeterCodec() { }

  public static final int OFPT_METER_MOD = 29;
  public static final int ADD = 0;
  public static final int MODIFY = 1;
  public static final int DELETE = 2;
  public static final int OFPMF_KBPS = 1;
  public static final int OFPMF_PKTPS = 2;
  public static final int OFPMF_BURST = 4;
  public static final int OFPMBT_DROP = 1;
  public static final int OFPMP_METER_CONFIG = 10;
  /** OFPM_ALL: every meter. */
  public static final long OFPM_ALL = 0xffffffffL;

  /** The meter as the switch reports it after an ADD of it. */
  public static WireMeter wireMeter(Meter m) {
    byte[] band = new byte[16];
    putShort(band, 0, OFPMBT_DROP);
    putShort(band, 2, 16);
    putInt(band, 4, m.rate());
    putInt(band, 8, m.burstSize());
    return new WireMeter(m.id(), (m.packets() ? OFPMF_PKTPS : OFPMF_KBPS) | OFPMF_BURST, Bytes.wrap(band));
  }

  /** Appends an OFPMC_ADD or OFPMC_MODIFY of the meter. */
  public static void writeMod(ByteBuf out, int command, WireMeter m, OFVersion v, long xid) {
    if (command != ADD && command != MODIFY) {
      throw new IllegalArgumentException("meter-mod command " + command + " is not ADD or MODIFY");
    }
    int wire = GroupCodec.checkVersion(v);
    out.writeByte(wire).writeByte(OFPT_METER_MOD).writeShort(16 + m.bands().length()).writeInt((int) xid);
    out.writeShort(command).writeShort(m.flags()).writeInt((int) m.id());
    out.writeBytes(m.bands().toArray());
  }

  /** Appends an OFPMC_DELETE of one meter. */
  public static void writeDelete(ByteBuf out, long meterId, OFVersion v, long xid) {
    int wire = GroupCodec.checkVersion(v);
    out.writeByte(wire).writeByte(OFPT_METER_MOD).writeShort(16).writeInt((int) xid);
    out.writeShort(DELETE).writeShort(0).writeInt((int) meterId);
  }

  /** An OFPMP_METER_CONFIG request for every meter. */
  public static void writeConfigRequest(ByteBuf out, OFVersion v, long xid) {
    int wire = GroupCodec.checkVersion(v);
    out.writeByte(wire).writeByte(18).writeShort(24).writeInt((int) xid);
    out.writeShort(OFPMP_METER_CONFIG).writeShort(0).writeInt(0);
    out.writeInt((int) OFPM_ALL).writeInt(0);
  }

  /** Reads every part of a meter-configuration dump (entries whose bands do not add up are skipped). */
  public static List<WireMeter> parseConfig(List<ByteBuf> frames) {
    List<WireMeter> out = new ArrayList<>();
    for (ByteBuf f : frames) {
      visitConfig(f, out::add);
    }
    return out;
  }

  /** Hands every meter of one whole OFPMP_METER_CONFIG reply to {@code out}; returns how many were skipped. */
  public static int visitConfig(ByteBuf msg, Consumer<WireMeter> out) {
    int len = Replies.check(msg, OFPMP_METER_CONFIG, "meter configuration");
    int[] off = new int[1];
    byte[] b = Replies.body(msg, len, off);
    int p = off[0];
    int end = p + len - Replies.HEADER;
    int skipped = 0;
    while (p < end) {
      if (end - p < 8) {
        throw new MalformedStatsException("meter configuration truncated: " + (end - p) + " stray bytes");
      }
      int elen = getShort(b, p);
      if (elen < 8 || elen > end - p) {
        throw new MalformedStatsException("meter configuration entry claims " + elen + " bytes, " + (end - p) + " remain");
      }
      if (bandsWellFormed(b, p + 8, p + elen)) {
        out.accept(new WireMeter(getInt(b, p + 4) & 0xffffffffL, getShort(b, p + 2), Bytes.of(b, p + 8, elen - 8)));
      } else {
        skipped++;
      }
      p += elen;
    }
    return skipped;
  }

  private static boolean bandsWellFormed(byte[] b, int p, int end) {
    while (p < end) {
      if (end - p < 4) {
        return false;
      }
      int blen = getShort(b, p + 2);
      if (blen < 4 || blen > end - p) {
        return false;
      }
      p += blen;
    }
    return true;
  }

  private static void putShort(byte[] b, int p, int v) {
    b[p] = (byte) (v >>> 8);
    b[p + 1] = (byte) v;
  }

  private static void putInt(byte[] b, int p, long v) {
    b[p] = (byte) (v >>> 24);
    b[p + 1] = (byte) (v >>> 16);
    b[p + 2] = (byte) (v >>> 8);
    b[p + 3] = (byte) v;
  }
}
