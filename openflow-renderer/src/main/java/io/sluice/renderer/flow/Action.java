package io.sluice.renderer.flow;

import java.util.List;
import java.util.Objects;

/**
 * Actions (and the goto-table instruction) a flow may carry. The renderer builds these; the controller encodes them.
 * Nicira extensions (ct, nat, ct_clear, resubmit, conjunction, load, move, learn) are plain variants here.
 */
public sealed interface Action {

  /** Output to an OpenFlow port number. */
  record Output(long port) implements Action {
    public Output {
      if (port < 0 || port > 0xffffffffL) {
        throw new IllegalArgumentException("output port out of range: " + port);
      }
    }
  }

  /** Output to the reserved NORMAL port (the switch's own L2/L3 forwarding). */
  record Normal() implements Action { }

  /** Output to the reserved IN_PORT port. */
  record InPort() implements Action { }

  /** Send to the controller. */
  record Controller(int maxLen) implements Action { }

  /** Apply a group. */
  record Group(long groupId) implements Action { }

  /**
   * Pass the packet through a meter (OpenFlow 1.3/1.4: the meter instruction, written before the actions;
   * OpenFlow 1.5: the meter action). At most one per flow.
   */
  record Meter(long meterId) implements Action {
    public Meter {
      if (meterId < 1 || meterId > 0xffff0000L) {
        throw new IllegalArgumentException("meter id out of range: " + meterId);
      }
    }
  }

  /** Standard set-field of a full field. */
  record SetField(FieldValue value) implements Action {
    public SetField {
      Objects.requireNonNull(value, "value");
      if (value.isMasked()) {
        throw new IllegalArgumentException("set_field takes an exact value, use Load for bit ranges");
      }
    }
  }

  /** Load a value into bits [ofs, ofs+nBits) of a field (Nicira reg_load / masked set-field). */
  record Load(Field field, int ofs, int nBits, long value) implements Action {
    public Load {
      checkRange(field, ofs, nBits);
      if (nBits < 64 && (value >>> nBits) != 0) {
        throw new IllegalArgumentException("load value " + value + " does not fit " + nBits + " bits");
      }
    }
  }

  /** Copy nBits from src[srcOfs] to dst[dstOfs] (Nicira reg_move / copy_field). */
  record Move(Field src, int srcOfs, Field dst, int dstOfs, int nBits) implements Action {
    public Move {
      checkRange(src, srcOfs, nBits);
      checkRange(dst, dstOfs, nBits);
    }
  }

  /** Nicira resubmit to a table of this bridge (in_port unchanged). */
  record Resubmit(int table) implements Action {
    public Resubmit {
      checkTable(table);
    }
  }

  /** Nicira conjunction(id, clause/nClauses); clause is 1-based as in ovs-ofctl text. */
  record Conjunction(long id, int clause, int nClauses) implements Action {
    public Conjunction {
      if (nClauses < 2 || nClauses > 64 || clause < 1 || clause > nClauses) {
        throw new IllegalArgumentException("conjunction clause " + clause + "/" + nClauses + " out of range");
      }
      if (id < 0 || id > 0xffffffffL) {
        throw new IllegalArgumentException("conjunction id out of range: " + id);
      }
    }
  }

  /**
   * Nicira ct. zone is an immediate zone, or taken from 16 bits of zoneField when zoneField is non-null.
   * table -1 means no recirculation. exec holds set-field actions for ct_mark / ct_label.
   */
  record Ct(boolean commit, boolean force, int zone, Field zoneField, int zoneOfs, int table, Nat nat,
            List<Action> exec) implements Action {
    public Ct {
      exec = List.copyOf(exec);
      if (zoneField == null && (zone < 0 || zone > 0xffff)) {
        throw new IllegalArgumentException("ct zone out of range: " + zone);
      }
      if (zoneField != null) {
        checkRange(zoneField, zoneOfs, 16);
      }
      if (table != -1) {
        checkTable(table);
      }
      for (Action a : exec) {
        boolean ok = a instanceof SetField s && (s.value().field() == Field.CT_MARK || s.value().field() == Field.CT_LABEL)
            || a instanceof Load l && (l.field() == Field.CT_MARK || l.field() == Field.CT_LABEL)
            || a instanceof Move m && (m.dst() == Field.CT_MARK || m.dst() == Field.CT_LABEL);
        if (!ok) {
          throw new IllegalArgumentException("ct exec may only set ct_mark or ct_label, got " + a);
        }
      }
      if (!commit && (!exec.isEmpty() || force)) {
        throw new IllegalArgumentException("ct exec and force need commit");
      }
    }

    /** ct(table=T,zone=Z) */
    public static Ct lookup(int zone, int table) {
      return new Ct(false, false, zone, null, 0, table, null, List.of());
    }

    /** ct(commit,zone=Z) */
    public static Ct commit(int zone) {
      return new Ct(true, false, zone, null, 0, -1, null, List.of());
    }
  }

  /**
   * Nicira nat, inside ct or alone. src/dst chooses SNAT or DNAT; with no address range it means "apply the
   * NAT already recorded for this connection". Addresses are IPv4 or IPv6 textual; ports 0 = none.
   */
  record Nat(NatKind kind, String minAddr, String maxAddr, int minPort, int maxPort, boolean persistent,
             boolean hash, boolean random) implements Action {
    public Nat {
      Objects.requireNonNull(kind, "kind");
      if (maxAddr != null && minAddr == null) {
        throw new IllegalArgumentException("nat max address without min address");
      }
      if (minPort < 0 || minPort > 0xffff || maxPort < 0 || maxPort > 0xffff || (maxPort != 0 && minPort == 0)) {
        throw new IllegalArgumentException("nat port range " + minPort + "-" + maxPort + " invalid");
      }
    }

    /** plain `nat`: re-apply the connection's recorded translation */
    public static Nat reverse() {
      return new Nat(NatKind.NONE, null, null, 0, 0, false, false, false);
    }
  }

  enum NatKind { NONE, SRC, DST }

  /**
   * Nicira learn: when executed, adds (or replaces) a flow in {@code table}, built from the packet by {@code specs}. The
   * learned flow carries {@code cookie} and the timeouts (seconds, 0 = none); it can only load fields (OVS's
   * learn has no goto_table), so a flow that wants its result resubmits to its table and reads the fields afterwards.
   */
  record Learn(int table, int idleTimeout, int hardTimeout, int priority, long cookie, List<LearnSpec> specs)
      implements Action {
    public Learn {
      checkTable(table);
      specs = List.copyOf(specs);
      if (idleTimeout < 0 || idleTimeout > 0xffff || hardTimeout < 0 || hardTimeout > 0xffff) {
        throw new IllegalArgumentException("learn timeouts are 16 bits: idle " + idleTimeout + ", hard " + hardTimeout);
      }
      if (priority < 0 || priority > 0xffff) {
        throw new IllegalArgumentException("learn priority out of range: " + priority);
      }
      if (specs.isEmpty()) {
        throw new IllegalArgumentException("learn needs at least one spec");
      }
    }
  }

  /** One part of a learned flow: a match on the packet's own value of a field, a match on a constant, or a load. */
  sealed interface LearnSpec {
    /** The learned flow matches {@code field} with the value the learning packet has ({@code NXM_OF_IP_SRC[]}). */
    record MatchField(Field field) implements LearnSpec {
      public MatchField {
        Objects.requireNonNull(field, "field");
        if (field == Field.ETH_TYPE || field == Field.IP_PROTO || field == Field.CT_STATE) {
          throw new IllegalArgumentException("learn copies " + field.ofctlName() + " only as a constant here");
        }
      }
    }

    /** The learned flow matches a constant: only {@code eth_type} and {@code nw_proto} (the prerequisites). */
    record MatchValue(Field field, long value) implements LearnSpec {
      public MatchValue {
        if (field != Field.ETH_TYPE && field != Field.IP_PROTO) {
          throw new IllegalArgumentException("learn matches a constant only for eth_type and nw_proto, not " + field);
        }
        if ((value >>> field.bits()) != 0) {
          throw new IllegalArgumentException(field.ofctlName() + " value " + value + " does not fit");
        }
      }
    }

    /** The learned flow loads a constant into bits [ofs, ofs+nBits) of a register. */
    record Load(Field field, int ofs, int nBits, long value) implements LearnSpec {
      public Load {
        checkRange(field, ofs, nBits);
        if (field.registerIndex() < 0) {
          throw new IllegalArgumentException("learned flows load registers here, not " + field.ofctlName());
        }
        if (nBits < 64 && (value >>> nBits) != 0) {
          throw new IllegalArgumentException("learn load value " + value + " does not fit " + nBits + " bits");
        }
      }
    }
  }

  /** Nicira ct_clear. */
  record CtClear() implements Action { }

  /** Standard dec_ttl. */
  record DecTtl() implements Action { }

  /** The goto-table instruction; must be last in a flow's action list. */
  record GotoTable(int table) implements Action {
    public GotoTable {
      checkTable(table);
    }
  }

  private static void checkRange(Field f, int ofs, int nBits) {
    Objects.requireNonNull(f, "field");
    if (ofs < 0 || nBits < 1 || ofs + nBits > f.bits()) {
      throw new IllegalArgumentException(f.ofctlName() + "[" + ofs + ".." + (ofs + nBits - 1) + "] is outside its " + f.bits() + " bits");
    }
  }

  private static void checkTable(int table) {
    if (table < 0 || table > 254) {
      throw new IllegalArgumentException("table out of range: " + table);
    }
  }
}
