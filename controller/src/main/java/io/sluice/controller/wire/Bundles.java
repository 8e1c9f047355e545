package io.sluice.controller.wire;

import io.netty.buffer.ByteBuf;
import org.projectfloodlight.openflow.protocol.OFVersion;

/**
 * The framing of atomic, ordered bundles: OF1.4/1.5 OFPT_BUNDLE_CONTROL and OFPT_BUNDLE_ADD_MESSAGE, and on OF1.3
 * the ONF extension OVS implements (experimenter 0x4f4e4600, types 2300 and 2301) with the same bodies; plus the
 * barrier a bundle is confirmed by. Written by hand: OpenFlowJ has no OF1.3 bundles, and its OF1.5 bundle-add is a
 * byte short (OPENFLOW.md). Stateless.
 */
public final class Bundles {
  private Bundles() { }

  public static final int OFPT_EXPERIMENTER = 4;
  public static final int OFPT_BARRIER_REQUEST = 20;
  public static final int OFPT_BUNDLE_CONTROL = 33;
  public static final int OFPT_BUNDLE_ADD_MESSAGE = 34;
  public static final long ONF_EXPERIMENTER = 0x4f4e4600L;
  public static final int ONFT_BUNDLE_CONTROL = 2300;
  public static final int ONFT_BUNDLE_ADD_MESSAGE = 2301;
  public static final int OPEN_REQUEST = 0;
  public static final int COMMIT_REQUEST = 4;
  public static final int DISCARD_REQUEST = 6;
  public static final int FLAGS_ATOMIC_ORDERED = 3;
  private static final int MAX_MESSAGE = 0xffff;

  /** A message too long to travel inside a bundle-add. */
  public static final class TooLongException extends IllegalArgumentException {
    public TooLongException(String message) {
      super(message);
    }
  }

  /** Whether this version bundles through the ONF extension (OF1.3) rather than the standard messages. */
  public static boolean onf(OFVersion v) {
    return v == OFVersion.OF_13;
  }

  /** Bytes a bundle-add puts before the message it carries. */
  public static int addOverhead(OFVersion v) {
    return onf(v) ? 24 : 16;
  }

  /** Appends a bundle control message (open, commit, discard: {@code type}) for an atomic, ordered bundle. */
  public static void writeControl(ByteBuf out, OFVersion v, long xid, int bundleId, int type) {
    int wire = GroupCodec.checkVersion(v);
    if (onf(v)) {
      out.writeByte(wire).writeByte(OFPT_EXPERIMENTER).writeShort(24).writeInt((int) xid);
      out.writeInt((int) ONF_EXPERIMENTER).writeInt(ONFT_BUNDLE_CONTROL);
    } else {
      out.writeByte(wire).writeByte(OFPT_BUNDLE_CONTROL).writeShort(16).writeInt((int) xid);
    }
    out.writeInt(bundleId).writeShort(type).writeShort(FLAGS_ATOMIC_ORDERED);
  }

  /**
   * Begins a bundle-add: writes its header and returns where it starts. Write the one message it carries next,
   * then call {@link #endAdd}.
   */
  public static int beginAdd(ByteBuf out, OFVersion v, long xid, int bundleId) {
    int wire = GroupCodec.checkVersion(v);
    int start = out.writerIndex();
    if (onf(v)) {
      out.writeByte(wire).writeByte(OFPT_EXPERIMENTER).writeShort(0).writeInt((int) xid);
      out.writeInt((int) ONF_EXPERIMENTER).writeInt(ONFT_BUNDLE_ADD_MESSAGE);
    } else {
      out.writeByte(wire).writeByte(OFPT_BUNDLE_ADD_MESSAGE).writeShort(0).writeInt((int) xid);
    }
    out.writeInt(bundleId).writeShort(0).writeShort(FLAGS_ATOMIC_ORDERED);
    return start;
  }

  /**
   * Ends the bundle-add begun at {@code start}: writes its length. {@code what} names the message, asked only when
   * it is too long (describing every message of a large push would cost more than sending it).
   *
   * @throws TooLongException (with the bundle-add removed from {@code out}) when it exceeds one OpenFlow message
   */
  public static void endAdd(ByteBuf out, int start, java.util.function.Supplier<String> what) {
    int len = out.writerIndex() - start;
    if (len > MAX_MESSAGE) {
      out.writerIndex(start);
      throw new TooLongException(what.get() + " is too long for a bundle: " + len + " bytes with the bundle-add header");
    }
    out.setShort(start + 2, len);
  }

  /** Appends an OFPT_BARRIER_REQUEST. */
  public static void writeBarrier(ByteBuf out, OFVersion v, long xid) {
    int wire = GroupCodec.checkVersion(v);
    out.writeByte(wire).writeByte(OFPT_BARRIER_REQUEST).writeShort(8).writeInt((int) xid);
  }
}
