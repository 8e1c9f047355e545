package io.sluice.controller.fabric;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Sluice's LLDP frames: chassis ID (subtype 7, locally assigned: {@code dpid:} and the datapath id in 16 hex digits),
 * port ID (subtype 7: the OpenFlow port number in decimal), TTL, one organisational TLV and End. The organisational
 * TLV carries the send time, this process's instance nonce and an HMAC-SHA256 (first 16 bytes) over the datapath id,
 * port, time and nonce with a per-process secret, so that LLDP a host or a neighbour forges, frames of another
 * controller instance (another nonce, another secret) and replays older than the caller's limit are not believed.
 */
public final class Lldp {
  public static final int ETH_TYPE = 0x88cc;
  /** Nearest-bridge group address: bridges do not forward it. */
  static final byte[] DESTINATION = {0x01, (byte) 0x80, (byte) 0xc2, 0x00, 0x00, 0x0e};
  /**
   * OUI of the organisational TLV. Not a registered one: a value in the locally administered (CID) space, only ever
   * compared with what this process sent, so it identifies nothing beyond "maybe Sluice's" before the HMAC decides.
   */
  static final int OUI = 0x0a534c;
  static final int SUBTYPE = 1;
  private static final int TAG_BYTES = 16;
  private static final int ORG_BYTES = 3 + 1 + 8 + 8 + TAG_BYTES;
  private static final int MAX_TLVS = 16;

  /** Why a frame was not believed. */
  public enum Verdict { OK, MALFORMED, FOREIGN, FORGED, STALE }

  /** A decoded frame: the sender's switch and port when {@link #verdict} is OK. */
  public record Heard(Verdict verdict, long dpid, long port) {
    static Heard no(Verdict v) {
      return new Heard(v, 0, 0);
    }
  }

  private final byte[] secret;
  private final long nonce;

  /** @param secret the HMAC key (kept by this object); @param nonce this process's instance id */
  public Lldp(byte[] secret, long nonce) {
    if (secret.length < 16) {
      throw new IllegalArgumentException("an LLDP secret of at least 16 bytes");
    }
    this.secret = secret.clone();
    this.nonce = nonce;
  }

  /** A fresh secret and nonce from a strong random source. */
  public static Lldp random() {
    java.security.SecureRandom r = new java.security.SecureRandom();
    byte[] s = new byte[32];
    r.nextBytes(s);
    return new Lldp(s, r.nextLong());
  }

  /** The frame to send out of {@code port} of {@code dpid}, from {@code srcMac} (6 bytes), at {@code nowMillis}. */
  public byte[] encode(long dpid, long port, byte[] srcMac, long nowMillis, int ttlSeconds) {
    byte[] chassis = chassisText(dpid).getBytes(StandardCharsets.US_ASCII);
    byte[] portId = Long.toString(port).getBytes(StandardCharsets.US_ASCII);
    ByteBuffer b = ByteBuffer.allocate(14 + 2 + 1 + chassis.length + 2 + 1 + portId.length + 4 + 2 + ORG_BYTES + 2);
    b.put(DESTINATION).put(srcMac, 0, 6).putShort((short) ETH_TYPE);
    tlv(b, 1, 1 + chassis.length).put((byte) 7).put(chassis);
    tlv(b, 2, 1 + portId.length).put((byte) 7).put(portId);
    tlv(b, 3, 2).putShort((short) Math.max(1, Math.min(65535, ttlSeconds)));
    tlv(b, 127, ORG_BYTES).put((byte) (OUI >>> 16)).put((byte) (OUI >>> 8)).put((byte) OUI).put((byte) SUBTYPE)
        .putLong(nowMillis).putLong(nonce).put(tag(dpid, port, nowMillis, nonce));
    tlv(b, 0, 0);
    return b.array();
  }

  /**
   * Reads a frame (Ethernet header included); believes it only if it is well formed, carries this process's nonce and
   * a right tag, and was sent no more than {@code maxAgeMillis} before {@code nowMillis} (nor from the future).
   */
  public Heard decode(byte[] f, long nowMillis, long maxAgeMillis) {
    if (f == null || f.length < 14 + 2 || u16(f, 12) != ETH_TYPE) {
      return Heard.no(Verdict.MALFORMED);
    }
    int pos = 14;
    String chassis = null;
    String portText = null;
    boolean ttl = false;
    boolean end = false;
    byte[] org = null;
    for (int n = 0; n < MAX_TLVS && !end; n++) {
      if (pos + 2 > f.length) {
        return Heard.no(Verdict.MALFORMED);
      }
      int h = u16(f, pos);
      int type = h >>> 9;
      int len = h & 0x1ff;
      pos += 2;
      if (pos + len > f.length) {
        return Heard.no(Verdict.MALFORMED);
      }
      switch (type) {
        case 0 -> end = true;
        case 1, 2 -> {
          if (n != type - 1 || len < 2 || len > 64 || f[pos] != 7) {
            return Heard.no(Verdict.FOREIGN); // not in our order, or an ID kind Sluice never sends
          }
          String text = new String(f, pos + 1, len - 1, StandardCharsets.US_ASCII);
          if (type == 1) {
            chassis = text;
          } else {
            portText = text;
          }
        }
        case 3 -> {
          if (n != 2 || len != 2) {
            return Heard.no(Verdict.MALFORMED);
          }
          ttl = true;
        }
        case 127 -> {
          if (len == ORG_BYTES && (f[pos] & 0xff) == (OUI >>> 16 & 0xff) && (f[pos + 1] & 0xff) == (OUI >>> 8 & 0xff)
              && (f[pos + 2] & 0xff) == (OUI & 0xff) && f[pos + 3] == SUBTYPE) {
            org = java.util.Arrays.copyOfRange(f, pos + 4, pos + len);
          }
        }
        default -> { } // other optional TLVs are skipped
      }
      pos += len;
    }
    if (!end || chassis == null || portText == null || !ttl) {
      return Heard.no(Verdict.MALFORMED);
    }
    if (org == null) {
      return Heard.no(Verdict.FOREIGN);
    }
    long dpid;
    long port;
    try {
      if (!chassis.startsWith("dpid:") || chassis.length() != 21 || portText.isEmpty() || portText.length() > 10
          || !portText.chars().allMatch(c -> c >= '0' && c <= '9')) {
        return Heard.no(Verdict.FOREIGN);
      }
      dpid = Long.parseUnsignedLong(chassis.substring(5), 16);
      port = Long.parseLong(portText);
    } catch (NumberFormatException e) {
      return Heard.no(Verdict.FOREIGN);
    }
    ByteBuffer o = ByteBuffer.wrap(org);
    long sent = o.getLong();
    long theirNonce = o.getLong();
    byte[] tag = new byte[TAG_BYTES];
    o.get(tag);
    if (theirNonce != nonce) {
      return Heard.no(Verdict.FOREIGN);
    }
    if (!MessageDigest.isEqual(tag, tag(dpid, port, sent, theirNonce))) {
      return Heard.no(Verdict.FORGED);
    }
    if (sent > nowMillis + 1000 || nowMillis - sent > maxAgeMillis) {
      return Heard.no(Verdict.STALE);
    }
    return new Heard(Verdict.OK, dpid, port);
  }

  static String chassisText(long dpid) {
    return String.format("dpid:%016x", dpid);
  }

  private byte[] tag(long dpid, long port, long time, long n) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      byte[] full = mac.doFinal(ByteBuffer.allocate(32).putLong(dpid).putLong(port).putLong(time).putLong(n).array());
      return java.util.Arrays.copyOf(full, TAG_BYTES);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
    }
  }

  private static ByteBuffer tlv(ByteBuffer b, int type, int len) {
    return b.putShort((short) (type << 9 | len));
  }

  private static int u16(byte[] p, int at) {
    return (p[at] & 0xff) << 8 | p[at + 1] & 0xff;
  }
}
