package io.sluice.controller.session;

/**
 * An OFPT_ERROR from a switch, read from the raw frame so that even errors OpenFlowJ cannot parse (Nicira
 * experimenter errors) are understood. {@code data} holds up to the first 64 bytes of the offending message.
 */
public record SwitchError(long xid, int type, int code, long experimenter, String description, byte[] data) {

  /** Reads an OFPT_ERROR frame (header included). */
  static SwitchError read(io.netty.buffer.ByteBuf f, String description) {
    int base = f.readerIndex();
    int len = f.getUnsignedShort(base + 2);
    long xid = f.getUnsignedInt(base + 4);
    int type = len >= 10 ? f.getUnsignedShort(base + 8) : -1;
    int code = len >= 12 ? f.getUnsignedShort(base + 10) : -1;
    long experimenter = -1;
    int dataStart = base + 12;
    if (type == 0xffff && len >= 16) {
      experimenter = f.getUnsignedInt(base + 12);
      dataStart = base + 16;
    }
    int n = Math.max(0, Math.min(64, base + len - dataStart));
    byte[] data = new byte[n];
    if (n > 0) { // an error shorter than its fixed part (8 to 11 bytes) has none, and no byte at dataStart either
      f.getBytes(dataStart, data);
    }
    String desc = description != null ? description
        : type == 0xffff ? "experimenter error 0x" + Long.toHexString(experimenter) + " code " + code
        : "error type " + type + " code " + code;
    return new SwitchError(xid, type, code, experimenter, desc, data);
  }

  /** The xid of the message inside the error data (the offending message's own header), or -1. */
  public long offendingXid() {
    if (data.length < 8) {
      return -1;
    }
    return ((data[4] & 0xffL) << 24) | ((data[5] & 0xffL) << 16) | ((data[6] & 0xffL) << 8) | (data[7] & 0xffL);
  }

  @Override
  public String toString() {
    return description + " (xid " + xid + ")";
  }
}
