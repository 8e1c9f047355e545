package io.sluice.controller.trace;

/**
 * What a flow's OpenFlow 1.3+ instructions (as a flow-stats entry carries them) do with a packet, coarsely: whether
 * they send it on (to another table: goto_table, a group, Nicira's resubmit or {@code ct(table=..)}; or out of a
 * port) and whether they output it to a port (not counting the controller). A flow that does neither is where a packet
 * ends: a drop, or only a copy to the controller (an isolation drop's audit copy). Unknown actions send nothing on.
 * Pure.
 */
public final class Instructions {
  private Instructions() { }

  private static final int GOTO_TABLE = 1;
  private static final int WRITE_ACTIONS = 3;
  private static final int APPLY_ACTIONS = 4;
  private static final int OUTPUT = 0;
  private static final int GROUP = 22;
  private static final int EXPERIMENTER = 0xffff;
  private static final long NICIRA = 0x00002320L;
  private static final int NXAST_RESUBMIT = 1;
  private static final int NXAST_RESUBMIT_TABLE = 14;
  private static final int NXAST_CT = 35;
  private static final int NXAST_RESUBMIT_TABLE_CT = 44;
  private static final long CONTROLLER = 0xfffffffdL;
  private static final int NX_CT_RECIRC_NONE = 0xff;

  /** {@code forwards}: to another table or a port; {@code outputs}: to a port other than the controller. */
  public record Effect(boolean forwards, boolean outputs) { }

  /** The effect of the instructions in {@code b[off, off+len)}; malformed lengths end the reading (nothing more). */
  public static Effect of(byte[] b, int off, int len) {
    boolean forwards = false;
    boolean outputs = false;
    int end = off + len;
    int p = off;
    while (p + 4 <= end) {
      int type = u16(b, p);
      int ilen = u16(b, p + 2);
      if (ilen < 4 || p + ilen > end) {
        break;
      }
      if (type == GOTO_TABLE) {
        forwards = true;
      } else if (type == APPLY_ACTIONS || type == WRITE_ACTIONS) {
        int a = p + 8;
        while (a + 4 <= p + ilen) {
          int atype = u16(b, a);
          int alen = u16(b, a + 2);
          if (alen < 4 || a + alen > p + ilen) {
            break;
          }
          if (atype == OUTPUT && alen >= 8) {
            long port = u32(b, a + 4);
            if (port != CONTROLLER) {
              forwards = true;
              outputs = true;
            }
          } else if (atype == GROUP) {
            forwards = true;
          } else if (atype == EXPERIMENTER && alen >= 10 && u32(b, a + 4) == NICIRA) {
            int sub = u16(b, a + 8);
            if (sub == NXAST_RESUBMIT || sub == NXAST_RESUBMIT_TABLE || sub == NXAST_RESUBMIT_TABLE_CT) {
              forwards = true;
            } else if (sub == NXAST_CT && alen >= 19 && (b[a + 18] & 0xff) != NX_CT_RECIRC_NONE) {
              forwards = true;
            }
          }
          a += alen;
        }
      }
      p += ilen;
    }
    return new Effect(forwards, outputs);
  }

  private static int u16(byte[] b, int i) {
    return ((b[i] & 0xff) << 8) | (b[i + 1] & 0xff);
  }

  private static long u32(byte[] b, int i) {
    return ((long) u16(b, i) << 16) | u16(b, i + 2);
  }
}
