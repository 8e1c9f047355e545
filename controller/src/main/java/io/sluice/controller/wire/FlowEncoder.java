package io.sluice.controller.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.sluice.controller.nicira.NiciraActions;
import io.sluice.controller.nicira.Nxm;
import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Field;
import io.sluice.renderer.flow.FieldValue;
import io.sluice.renderer.flow.Flow;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import org.projectfloodlight.openflow.protocol.OFFlowModCommand;
import org.projectfloodlight.openflow.protocol.OFVersion;

/**
 * Encodes renderer flows as OFPT_FLOW_MOD messages for OF1.3, OF1.4 and OF1.5, byte for byte as OVS 3.1's
 * {@code ofputil_encode_flow_mod} does for the same flow given as {@link io.sluice.renderer.flow.OfctlFormat} text:
 * match TLVs in OVS's order, actions in one apply-actions instruction (none for an empty list), goto_table as its
 * own instruction; a partial {@code load} is reg_load before OF1.5 and a masked set_field in OF1.5, {@code move}
 * is reg_move before OF1.5 and copy_field in OF1.5. Flags are always 0 (no SEND_FLOW_REM, no RESET_COUNTS).
 * Like ovs-ofctl, MODIFY_STRICT and DELETE_STRICT carry cookie 0 with mask 0 (OF1.1+ modify never changes a
 * cookie; re-ADD to change it), and DELETE_STRICT carries no instructions.
 * Stateless and thread-safe.
 */
public final class FlowEncoder {
  private FlowEncoder() { }

  public static final int OFPT_FLOW_MOD = 14;
  private static final int OFPIT_GOTO_TABLE = 1;
  private static final int OFPIT_APPLY_ACTIONS = 4;
  private static final int OFPIT_METER = 6;
  /** OF1.5 OFPAT_METER. */
  private static final int OFPAT_METER = 29;
  private static final int OFPAT_OUTPUT = 0;
  private static final int OFPAT_GROUP = 22;
  private static final int OFPAT_DEC_NW_TTL = 24;
  private static final int OFPAT_SET_FIELD = 25;
  private static final long OFPP_IN_PORT = 0xfffffff8L;
  private static final long OFPP_NORMAL = 0xfffffffaL;
  private static final long OFPP_CONTROLLER = 0xfffffffdL;
  private static final int ANY = 0xffffffff;

  /** The flow-mod as bytes, with the given xid. */
  public static byte[] flowMod(Flow flow, OFVersion version, OFFlowModCommand command, long xid) {
    ByteBuf buf = Unpooled.buffer(256);
    writeFlowMod(buf, flow, version, command, xid);
    byte[] b = new byte[buf.readableBytes()];
    buf.readBytes(b);
    return b;
  }

  /**
   * Appends one OFPT_FLOW_MOD with the given xid to {@code out} (send it as is, or wrap it in a bundle-add).
   *
   * @throws IllegalArgumentException for a version other than OF1.3–1.5, a command other than ADD, MODIFY_STRICT
   *     or DELETE_STRICT, or a flow OVS would refuse (e.g. nat outside ct, a masked nw_proto, set_field of in_port)
   */
  public static void writeFlowMod(ByteBuf out, Flow flow, OFVersion version, OFFlowModCommand command, long xid) {
    int start = writeHeader(out, version, command, xid, flow.cookie().value(), flow.table(), flow.priority());
    MatchCodec.writeMatch(out, flow.match(), version);
    if (command != OFFlowModCommand.DELETE_STRICT) {
      writeInstructions(out, flow.actions(), version);
    }
    finish(out, start);
  }

  /**
   * Appends an OFPT_FLOW_MOD for a flow known only in its wire form (e.g. read back from the switch, to delete it).
   * The match is the canonical key's TLVs (sorted by header, which keeps OXM prerequisites before their
   * dependents); instructions are copied as they are.
   */
  public static void writeFlowMod(ByteBuf out, WireFlow flow, OFVersion version, OFFlowModCommand command, long xid) {
    int start = writeHeader(out, version, command, xid, flow.cookie(), flow.table(), flow.priority());
    out.writeShort(MatchCodec.OFPMT_OXM);
    out.writeShort(4 + flow.matchKey().length());
    out.writeBytes(flow.matchKey().toArray());
    out.writeZero((8 - ((4 + flow.matchKey().length()) & 7)) & 7);
    if (command != OFFlowModCommand.DELETE_STRICT) {
      out.writeBytes(flow.instructions().toArray());
    }
    finish(out, start);
  }

  /** The 48 fixed bytes of an OF1.3–1.5 flow_mod (length patched by {@link #finish}); returns where it starts. */
  private static int writeHeader(ByteBuf out, OFVersion version, OFFlowModCommand command, long xid, long cookie,
                                 int table, int priority) {
    int wire = checkVersion(version);
    int cmd = switch (command) {
      case ADD -> 0;
      case MODIFY_STRICT -> 2;
      case DELETE_STRICT -> 4;
      default -> throw new IllegalArgumentException("unsupported flow-mod command " + command);
    };
    int start = out.writerIndex();
    out.writeByte(wire);
    out.writeByte(OFPT_FLOW_MOD);
    out.writeShort(0); // length, patched by finish
    out.writeInt((int) xid);
    out.writeLong(command == OFFlowModCommand.ADD ? cookie : 0L); // modify and delete never change the cookie
    out.writeLong(0L); // cookie_mask
    out.writeByte(table);
    out.writeByte(cmd);
    out.writeShort(0); // idle_timeout
    out.writeShort(0); // hard_timeout
    out.writeShort(priority);
    out.writeInt(ANY); // buffer_id: none
    out.writeInt(ANY); // out_port
    out.writeInt(ANY); // out_group
    out.writeShort(0); // flags
    out.writeShort(0); // importance (OF1.4+), pad (OF1.3)
    return start;
  }

  private static void finish(ByteBuf out, int start) {
    int len = out.writerIndex() - start;
    if (len > 0xffff) {
      throw new IllegalArgumentException("flow-mod of " + len + " bytes exceeds 65535");
    }
    out.setShort(start + 2, len);
  }

  /** Per-thread scratch buffer for {@link #wireFlow} (a heap buffer, so its array can be read directly). */
  private static final ThreadLocal<ByteBuf> SCRATCH = ThreadLocal.withInitial(() -> Unpooled.buffer(1024));

  /** The flow as the switch will report it in flow stats of this version. */
  public static WireFlow wireFlow(Flow flow, OFVersion version) {
    checkVersion(version);
    ByteBuf buf = SCRATCH.get().clear();
    MatchCodec.writeTlvs(buf, flow.match(), version);
    int matchLen = buf.writerIndex();
    writeInstructions(buf, flow.actions(), version);
    byte[] all = buf.array();
    int base = buf.arrayOffset();
    Bytes key = MatchCodec.canonicalKey(all, base, matchLen);
    Bytes instr = Bytes.shared(all, base + matchLen, buf.writerIndex() - matchLen);
    return new WireFlow(flow.table(), flow.priority(), flow.cookie().value(), key, instr);
  }

  /**
   * A leading meter as the meter instruction (type 6) in OF1.3/1.4 (in OF1.5 it stays the first action), then
   * apply-actions (type 4) for the actions before any goto_table, then goto-table (type 1); as OVS orders them.
   */
  public static void writeInstructions(ByteBuf out, List<Action> actions, OFVersion version) {
    int n = actions.size();
    Action.GotoTable gotoTable = n > 0 && actions.get(n - 1) instanceof Action.GotoTable g ? g : null;
    int applyCount = gotoTable == null ? n : n - 1;
    int first = 0;
    if (applyCount > 0 && actions.get(0) instanceof Action.Meter m && !of15(version)) {
      out.writeShort(OFPIT_METER);
      out.writeShort(8);
      out.writeInt((int) m.meterId());
      first = 1;
    }
    if (applyCount > first) {
      int start = out.writerIndex();
      out.writeShort(OFPIT_APPLY_ACTIONS);
      out.writeShort(0);
      out.writeInt(0);
      for (int i = first; i < applyCount; i++) {
        writeAction(out, actions.get(i), version, false);
      }
      out.setShort(start + 2, out.writerIndex() - start);
    }
    if (gotoTable != null) {
      out.writeShort(OFPIT_GOTO_TABLE);
      out.writeShort(8);
      out.writeByte(gotoTable.table());
      out.writeZero(3);
    }
  }

  /**
   * An action list (no instructions around it), e.g. a group bucket or a packet-out. goto_table is not an action
   * here, nor is a meter before OF1.5.
   */
  public static void writeActions(ByteBuf out, List<Action> actions, OFVersion version) {
    checkVersion(version);
    for (Action a : actions) {
      writeAction(out, a, version, false);
    }
  }

  private static int checkVersion(OFVersion v) {
    if (v != OFVersion.OF_13 && v != OFVersion.OF_14 && v != OFVersion.OF_15) {
      throw new IllegalArgumentException("only OF1.3, OF1.4 and OF1.5 are supported, not " + v);
    }
    return v.getWireVersion();
  }

  private static boolean of15(OFVersion v) {
    return v.getWireVersion() >= OFVersion.OF_15.getWireVersion();
  }

  private static void writeAction(ByteBuf out, Action a, OFVersion v, boolean inCt) {
    if (a instanceof Action.Output o) {
      output(out, o.port(), 0);
    } else if (a instanceof Action.Normal) {
      output(out, OFPP_NORMAL, 0);
    } else if (a instanceof Action.InPort) {
      output(out, OFPP_IN_PORT, 0);
    } else if (a instanceof Action.Controller c) {
      output(out, OFPP_CONTROLLER, c.maxLen());
    } else if (a instanceof Action.Group g) {
      out.writeShort(OFPAT_GROUP);
      out.writeShort(8);
      out.writeInt((int) g.groupId());
    } else if (a instanceof Action.Meter m) {
      if (!of15(v)) {
        throw new IllegalArgumentException("before OpenFlow 1.5 a meter is an instruction, only a flow's first action: " + m);
      }
      out.writeShort(OFPAT_METER);
      out.writeShort(8);
      out.writeInt((int) m.meterId());
    } else if (a instanceof Action.DecTtl) {
      out.writeShort(OFPAT_DEC_NW_TTL);
      out.writeShort(8);
      out.writeInt(0);
    } else if (a instanceof Action.SetField s) {
      if (s.value().field() != Field.IN_PORT || inCt || s.value().isMasked()) { // in_port: whole, as set-field only
        checkWritable(s.value().field(), inCt);
      }
      setField(out, s.value());
    } else if (a instanceof Action.Load l) {
      load(out, l, v, inCt);
    } else if (a instanceof Action.Move m) {
      checkWritable(m.dst(), inCt);
      checkReadable(m.src());
      if (of15(v)) {
        NiciraActions.copyField(out, Nxm.oxmHeader(m.src()), m.srcOfs(), Nxm.oxmHeader(m.dst()), m.dstOfs(), m.nBits());
      } else {
        NiciraActions.regMove(out, Nxm.nxmHeader(m.src()), m.srcOfs(), Nxm.nxmHeader(m.dst()), m.dstOfs(), m.nBits());
      }
    } else if (a instanceof Action.Resubmit r) {
      NiciraActions.resubmitTable(out, r.table());
    } else if (a instanceof Action.Conjunction c) {
      NiciraActions.conjunction(out, c.id(), c.clause(), c.nClauses());
    } else if (a instanceof Action.Ct ct) {
      ct(out, ct, v);
    } else if (a instanceof Action.Nat n) {
      if (!inCt) {
        throw new IllegalArgumentException("OVS refuses nat outside ct: " + n);
      }
      nat(out, n);
    } else if (a instanceof Action.Learn l) {
      learn(out, l);
    } else if (a instanceof Action.CtClear) {
      NiciraActions.ctClear(out);
    } else if (a instanceof Action.GotoTable) {
      throw new IllegalArgumentException("goto_table is an instruction, not an action");
    } else {
      throw new IllegalArgumentException("unknown action " + a);
    }
  }

  private static void output(ByteBuf out, long port, int maxLen) {
    out.writeShort(OFPAT_OUTPUT);
    out.writeShort(16);
    out.writeInt((int) port);
    out.writeShort(maxLen);
    out.writeZero(6);
  }

  private static void checkWritable(Field f, boolean inCt) {
    boolean ctField = f == Field.CT_MARK || f == Field.CT_LABEL;
    if (!Nxm.isWritable(f) || ctField && !inCt) {
      throw new IllegalArgumentException("OVS does not let a flow write " + f.ofctlName() + (ctField ? " outside ct" : ""));
    }
  }

  private static void checkReadable(Field f) {
    if (f == Field.IN_PORT || f == Field.VLAN_VID) { // their NXM forms have other widths than the renderer's
      throw new IllegalArgumentException("move from " + f.ofctlName() + " is not supported");
    }
  }

  /** Full-field standard OFPAT_SET_FIELD. */
  private static void setField(ByteBuf out, FieldValue fv) {
    if (fv.field() == Field.IN_PORT) {
      // as ovs-ofctl sends set_field:PORT->in_port: a set-field of the 16-bit NXM_OF_IN_PORT, OpenFlow 1.0 numbering
      long p = fv.value().longValue();
      if (p >= 0xff00 && p < 0xffffff00L || p > 0xffffffffL) {
        throw new IllegalArgumentException("in_port " + p + " has no 16-bit number for set_field");
      }
      int start = out.writerIndex();
      out.writeShort(OFPAT_SET_FIELD);
      out.writeShort(0);
      out.writeInt(Nxm.nxmHeader(Field.IN_PORT));
      out.writeShort((int) (p & 0xffff));
      NiciraActions.finish(out, start);
      return;
    }
    int header = Nxm.oxmHeader(fv.field());
    int start = out.writerIndex();
    out.writeShort(OFPAT_SET_FIELD);
    out.writeShort(0);
    out.writeInt(header);
    MatchCodec.writeValue(out, fv.value(), Nxm.length(header));
    NiciraActions.finish(out, start);
  }

  private static void load(ByteBuf out, Action.Load l, OFVersion v, boolean inCt) {
    Field f = l.field();
    checkWritable(f, inCt);
    int header = Nxm.oxmHeader(f);
    int n = Nxm.length(header);
    if (l.ofs() == 0 && l.nBits() == f.bits()) {
      int start = out.writerIndex();
      out.writeShort(OFPAT_SET_FIELD);
      out.writeShort(0);
      out.writeInt(header);
      if (n == 16) {
        out.writeLong(0); // a long value fills at most the low 64 bits
        out.writeLong(l.value());
      } else {
        MatchCodec.writeLong(out, l.value(), n);
      }
      NiciraActions.finish(out, start);
    } else if (!of15(v)) {
      NiciraActions.regLoad(out, Nxm.nxmHeader(f), l.ofs(), l.nBits(), l.value());
    } else {
      int start = out.writerIndex();
      out.writeShort(OFPAT_SET_FIELD);
      out.writeShort(0);
      out.writeInt(Nxm.masked(header));
      long ones = l.nBits() == 64 ? -1L : (1L << l.nBits()) - 1;
      if (n == 16) {
        writeShifted128(out, l.value(), l.ofs());
        writeShifted128(out, ones, l.ofs());
      } else {
        MatchCodec.writeLong(out, l.value() << l.ofs(), n);
        MatchCodec.writeLong(out, ones << l.ofs(), n);
      }
      NiciraActions.finish(out, start);
    }
  }

  /** Writes {@code v << ofs} as 16 bytes (v unsigned). */
  private static void writeShifted128(ByteBuf out, long v, int ofs) {
    long hi;
    long lo;
    if (ofs == 0) {
      hi = 0;
      lo = v;
    } else if (ofs < 64) {
      hi = v >>> (64 - ofs);
      lo = v << ofs;
    } else {
      hi = v << (ofs - 64);
      lo = 0;
    }
    out.writeLong(hi);
    out.writeLong(lo);
  }

  private static void ct(ByteBuf out, Action.Ct ct, OFVersion v) {
    int flags = (ct.commit() ? NiciraActions.CT_COMMIT : 0) | (ct.force() ? NiciraActions.CT_FORCE : 0);
    int zoneSrc = 0;
    int zone = ct.zone();
    if (ct.zoneField() != null) {
      checkReadable(ct.zoneField());
      zoneSrc = Nxm.nxmHeader(ct.zoneField());
      zone = NiciraActions.ofsNbits(ct.zoneOfs(), 16);
    }
    int table = ct.table() < 0 ? NiciraActions.NO_RECIRC : ct.table();
    int start = NiciraActions.ctBegin(out, flags, zoneSrc, zone, table, 0);
    if (ct.nat() != null) {
      nat(out, ct.nat());
    }
    for (Action a : ct.exec()) {
      writeAction(out, a, v, true);
    }
    NiciraActions.ctEnd(out, start);
  }

  /**
   * learn as OVS encodes OfctlFormat's text of it: no flags, no fin timeouts; a copied field matches itself (source
   * and destination the same NXM header, whole field), constants are matches of eth_type/nw_proto or register loads.
   */
  private static void learn(ByteBuf out, Action.Learn l) {
    int start = NiciraActions.learnBegin(out, l.idleTimeout(), l.hardTimeout(), l.priority(), l.cookie(), 0, l.table(), 0, 0);
    for (Action.LearnSpec spec : l.specs()) {
      if (spec instanceof Action.LearnSpec.MatchField m) {
        checkReadable(m.field());
        int h = Nxm.nxmHeader(m.field());
        NiciraActions.learnFieldSpec(out, NiciraActions.LEARN_DST_MATCH, h, 0, h, 0, m.field().bits());
      } else if (spec instanceof Action.LearnSpec.MatchValue v) {
        NiciraActions.learnImmediateSpec(out, NiciraActions.LEARN_DST_MATCH, v.value(), Nxm.nxmHeader(v.field()), 0,
            v.field().bits());
      } else if (spec instanceof Action.LearnSpec.Load ld) {
        NiciraActions.learnImmediateSpec(out, NiciraActions.LEARN_DST_LOAD, ld.value(), Nxm.nxmHeader(ld.field()),
            ld.ofs(), ld.nBits());
      }
    }
    NiciraActions.learnEnd(out, start);
  }

  /** nat as OVS parses OfctlFormat's text of it: a max address or port only when it differs from the min. */
  private static void nat(ByteBuf out, Action.Nat n) {
    if (n.kind() == Action.NatKind.NONE) {
      NiciraActions.nat(out, 0, null, null, 0, 0);
      return;
    }
    int flags = (n.kind() == Action.NatKind.SRC ? NiciraActions.NAT_SRC : NiciraActions.NAT_DST)
        | (n.persistent() ? NiciraActions.NAT_PERSISTENT : 0)
        | (n.hash() ? NiciraActions.NAT_PROTO_HASH : 0)
        | (n.random() ? NiciraActions.NAT_PROTO_RANDOM : 0);
    byte[] min = null;
    byte[] max = null;
    int minPort = 0;
    int maxPort = 0;
    if (n.minAddr() != null) {
      min = address(n.minAddr());
      if (n.maxAddr() != null && !n.maxAddr().equals(n.minAddr())) {
        max = address(n.maxAddr());
        if (max.length != min.length) {
          throw new IllegalArgumentException("nat range mixes IPv4 and IPv6: " + n);
        }
      }
      minPort = n.minPort();
      maxPort = n.maxPort() != n.minPort() ? n.maxPort() : 0;
      if (isZero(min)) { // OVS leaves an all-zero address out
        min = null;
      }
    }
    NiciraActions.nat(out, flags, min, max, minPort, maxPort);
  }

  private static boolean isZero(byte[] a) {
    for (byte x : a) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }

  /** Parses an IPv4 or IPv6 literal (never a host name). */
  static byte[] address(String s) {
    if (s.indexOf(':') < 0) {
      String[] p = s.split("\\.", -1);
      if (p.length != 4) {
        throw new IllegalArgumentException("not an IPv4 address: " + s);
      }
      byte[] b = new byte[4];
      for (int i = 0; i < 4; i++) {
        int x = Integer.parseInt(p[i]);
        if (x < 0 || x > 255) {
          throw new IllegalArgumentException("not an IPv4 address: " + s);
        }
        b[i] = (byte) x;
      }
      return b;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!(c == ':' || c == '.' || Character.digit(c, 16) >= 0)) {
        throw new IllegalArgumentException("not an IPv6 address: " + s);
      }
    }
    try {
      byte[] b = InetAddress.getByName(s).getAddress(); // a literal: no name lookup
      if (b.length != 16) {
        throw new IllegalArgumentException("not an IPv6 address: " + s);
      }
      return b;
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IPv6 address: " + s, e);
    }
  }

}
