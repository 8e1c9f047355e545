package io.sluice.controller.wire;

import static io.sluice.renderer.flow.Field.*;

import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Action.Ct;
import io.sluice.renderer.flow.Action.Nat;
import io.sluice.renderer.flow.Action.NatKind;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.flow.Field;
import io.sluice.renderer.flow.FieldValue;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.Match;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/** Flows covering every match field and action the wire layer encodes; the bytes to expect come from real OVS. */
public final class GoldenFlows {
  private GoldenFlows() { }

  public record Case(String name, Flow flow) {
    @Override
    public String toString() {
      return name;
    }
  }

  static final Cookie COOKIE = Cookie.of(Cookie.Category.POLICY, 3, 42);
  /** The meter the meter cases use (a switch holding them needs it: {@link #METER_TEXT}). */
  static final long METER = 0x5c00;
  static final String METER_TEXT = "meter=23552,pktps,burst,band=type=drop,rate=100,burst_size=20";

  static Match.Builder m() {
    return Match.builder();
  }

  static Match ip() {
    return m().ipv4().build();
  }

  static Flow flow(int table, int prio, Match match, Action... actions) {
    return new Flow(table, prio, match, List.of(actions), COOKIE);
  }

  static Ct ct(boolean commit, boolean force, int zone, Field zoneField, int zoneOfs, int table, Nat nat, Action... exec) {
    return new Ct(commit, force, zone, zoneField, zoneOfs, table, nat, List.of(exec));
  }

  static Nat nat(NatKind k, String min, String max, int minPort, int maxPort, boolean persistent, boolean hash, boolean random) {
    return new Nat(k, min, max, minPort, maxPort, persistent, hash, random);
  }

  /** A session-affinity learn into table 14: eth_type, nw_proto, source, destination, port, then the loads. */
  static Action.Learn learn(boolean v6, int proto, Field port, int idle, Action.LearnSpec... loads) {
    List<Action.LearnSpec> specs = new ArrayList<>(List.of(
        new Action.LearnSpec.MatchValue(ETH_TYPE, v6 ? 0x86dd : 0x0800), new Action.LearnSpec.MatchValue(IP_PROTO, proto),
        new Action.LearnSpec.MatchField(v6 ? IPV6_SRC : IPV4_SRC), new Action.LearnSpec.MatchField(v6 ? IPV6_DST : IPV4_DST),
        new Action.LearnSpec.MatchField(port)));
    specs.addAll(List.of(loads));
    return new Action.Learn(14, idle, 0, 200, 0x5c04000000fcfac3L, specs);
  }

  static FieldValue big(Field f, String hexValue, String hexMask) {
    return new FieldValue(f, new BigInteger(hexValue, 16), hexMask == null ? null : new BigInteger(hexMask, 16));
  }

  /** Every case; all are valid for add-flow in OF1.3, 1.4 and 1.5. */
  public static List<Case> all() {
    List<Case> c = new ArrayList<>();
    // ---- matches: Nicira / OVS fields
    Match.Builder regsExact = m();
    Match.Builder regsMasked = m();
    for (int i = 0; i < 16; i++) {
      regsExact.exact(Field.register(i), 0x100 + i);
      regsMasked.masked(Field.register(i), (i + 1) << 4, 0xff0);
    }
    c.add(new Case("match reg0-15 exact", flow(0, 10, regsExact.build(), new Action.Normal())));
    c.add(new Case("match reg0-15 masked", flow(0, 10, regsMasked.build(), new Action.Normal())));
    c.add(new Case("match reg0 exact reg1 masked reg3 only reg14 masked", flow(0, 10,
        m().exact(REG0, 1).masked(REG1, 2, 0xf).exact(REG3, 0xffffffffL).masked(REG14, 0x80000000L, 0x80000000L).build())));
    for (int i = 0; i < 16; i++) {
      c.add(new Case("match reg" + i + " exact", flow(0, 11, m().exact(Field.register(i), 7).build())));
      c.add(new Case("match reg" + i + " masked", flow(0, 11, m().masked(Field.register(i), 0x700, 0xf00).build())));
    }
    c.add(new Case("match conj_id", flow(2, 20, m().exact(CONJ_ID, 0xabcdef).build(), new Action.Resubmit(5))));
    c.add(new Case("match ct_state masked", flow(1, 20, m().ipv4().masked(CT_STATE, 0x22, 0x23).build())));
    c.add(new Case("match ct_state +trk-inv", flow(1, 20, m().masked(CT_STATE, 0x20, 0x30).build())));
    c.add(new Case("match ct_zone", flow(1, 20, m().exact(CT_ZONE, 0xfffe).build())));
    c.add(new Case("match ct_mark exact", flow(1, 20, m().exact(CT_MARK, 0x654321).build())));
    c.add(new Case("match ct_mark masked", flow(1, 20, m().masked(CT_MARK, 0x1, 0x3).build())));
    c.add(new Case("match ct_label exact", flow(1, 20,
        m().put(big(CT_LABEL, "10000000000000000000000000000002", null)).build())));
    c.add(new Case("match ct_label masked", flow(1, 20,
        m().put(big(CT_LABEL, "00000001000000000000000000000001", "0000000f0000000000000000000000ff")).build())));
    c.add(new Case("match metadata exact", flow(1, 20, m().exact(METADATA, 0x5c00000000000001L).build())));
    c.add(new Case("match metadata masked", flow(1, 20, m().masked(METADATA, 0x500, 0xff00).build())));
    c.add(new Case("match ct and regs and metadata together", flow(3, 30, m().ipv4().exact(CONJ_ID, 9).masked(CT_STATE, 0x21, 0x21)
        .exact(CT_ZONE, 5).exact(CT_MARK, 2).exact(REG6, 3).masked(METADATA, 1, 1).build(), new Action.GotoTable(4))));
    // ---- matches: standard fields
    c.add(new Case("match l2", flow(0, 5, m().exact(IN_PORT, 3).exact(ETH_SRC, 0x001122334455L)
        .masked(ETH_DST, 0x010000000000L, 0x010000000000L).exact(VLAN_VID, 7).arp().build(), new Action.Normal())));
    c.add(new Case("match tcp", flow(0, 5, m().ipv4().exact(IP_PROTO, 6).exact(IPV4_SRC, 0x0a000001L)
        .masked(IPV4_DST, 0x0a000000L, 0xff000000L).exact(TCP_SRC, 100).masked(TCP_DST, 0x50, 0xfff0)
        .masked(TCP_FLAGS, 0x2, 0x12).build(), new Action.Output(1))));
    c.add(new Case("match tcp_flags exact", flow(0, 5, m().ipv4().exact(IP_PROTO, 6).exact(TCP_FLAGS, 0x12).build())));
    c.add(new Case("match udp6", flow(0, 5, m().ipv6().exact(IP_PROTO, 17)
        .put(big(IPV6_SRC, "fe800000000000000000000000000001", null))
        .put(big(IPV6_DST, "20010db8000000000000000000000000", "ffffffff000000000000000000000000"))
        .exact(UDP_SRC, 53).exact(UDP_DST, 5353).build(), new Action.Output(2))));
    c.add(new Case("match sctp", flow(0, 5, m().ipv4().exact(IP_PROTO, 132).exact(SCTP_SRC, 1).exact(SCTP_DST, 2).build(),
        new Action.DecTtl(), new Action.Normal())));
    c.add(new Case("match icmp", flow(0, 5, m().ipv4().exact(IP_PROTO, 1).exact(ICMPV4_TYPE, 8).exact(ICMPV4_CODE, 0).build(),
        new Action.InPort())));
    c.add(new Case("match icmp6", flow(0, 5, m().ipv6().exact(IP_PROTO, 58).exact(ICMPV6_TYPE, 135).exact(ICMPV6_CODE, 0).build(),
        new Action.Controller(65535))));
    c.add(new Case("match nd_target", flow(0, 5, m().ipv6().masked(ETH_DST, 0x010000000000L, 0x010000000000L)
        .exact(IP_PROTO, 58).exact(ICMPV6_TYPE, 135).put(new FieldValue(IPV6_ND_TARGET,
            new BigInteger("fd000000000000000000000000040001", 16), null)).build(), new Action.Controller(128))));
    c.add(new Case("match arp", flow(0, 5, m().arp().exact(ARP_OP, 1).exact(ARP_SPA, 0x0a000001L)
        .masked(ARP_TPA, 0x0a000000L, 0xffffff00L).build(), new Action.Group(5))));
    c.add(new Case("match ip proto only", flow(0, 5, m().ipv4().exact(IP_PROTO, 47).build(), new Action.Controller(0))));
    c.add(new Case("match all, no cookie, table 0", new Flow(0, 0, Match.ALL, List.of(), new Cookie(0))));
    // ---- actions
    c.add(new Case("ct lookup", flow(0, 1, ip(), Ct.lookup(5, 3))));
    c.add(new Case("ct commit", flow(0, 1, ip(), Ct.commit(7))));
    c.add(new Case("ct commit zone 0 no table", flow(0, 1, ip(), Ct.commit(0))));
    c.add(new Case("ct lookup zone 0 table 254", flow(0, 1, ip(), Ct.lookup(0, 254))));
    c.add(new Case("ct commit force table zone max", flow(0, 1, ip(), ct(true, true, 65535, null, 0, 9, null))));
    c.add(new Case("ct zone from reg0[0..15]", flow(0, 1, ip(), ct(false, false, 0, REG0, 0, 4, null))));
    c.add(new Case("ct zone from reg5[16..31] commit", flow(0, 1, ip(), ct(true, false, 0, REG5, 16, -1, null))));
    c.add(new Case("ct zone from ct_zone", flow(0, 1, ip(), ct(true, false, 0, CT_ZONE, 0, 2, null))));
    c.add(new Case("ct nat reverse", flow(0, 1, ip(), ct(false, false, 3, null, 0, 4, Nat.reverse()))));
    c.add(new Case("ct commit nat src one ipv4", flow(0, 1, ip(),
        ct(true, false, 1, null, 0, -1, nat(NatKind.SRC, "10.0.0.1", null, 0, 0, false, false, false)))));
    c.add(new Case("ct commit nat src ipv4 min=max", flow(0, 1, ip(),
        ct(true, false, 1, null, 0, -1, nat(NatKind.SRC, "10.0.0.1", "10.0.0.1", 80, 80, false, false, false)))));
    c.add(new Case("ct commit nat src ipv4 port", flow(0, 1, ip(),
        ct(true, false, 1, null, 0, -1, nat(NatKind.SRC, "10.0.0.1", null, 1000, 0, false, false, false)))));
    c.add(new Case("ct commit nat src ipv4 range ports", flow(0, 1, ip(),
        ct(true, false, 1, null, 0, -1, nat(NatKind.SRC, "10.0.0.1", "10.0.0.2", 1000, 2000, false, false, false)))));
    c.add(new Case("ct commit nat dst ipv4 persistent hash", flow(0, 1, ip(),
        ct(true, false, 1, null, 0, 5, nat(NatKind.DST, "192.168.1.1", "192.168.1.9", 80, 90, true, true, false)))));
    c.add(new Case("ct commit nat dst ipv4 random", flow(0, 1, ip(),
        ct(true, false, 1, null, 0, 5, nat(NatKind.DST, "192.168.1.1", null, 8080, 0, false, false, true)))));
    c.add(new Case("ct commit nat src ipv6 one", flow(0, 1, m().ipv6().build(),
        ct(true, false, 1, null, 0, -1, nat(NatKind.SRC, "fe80::1", null, 0, 0, false, false, false)))));
    c.add(new Case("ct commit nat src ipv6 range", flow(0, 1, m().ipv6().build(),
        ct(true, false, 1, null, 0, -1, nat(NatKind.SRC, "fe80::1", "fe80::9", 0, 0, false, false, false)))));
    c.add(new Case("ct commit nat dst ipv6 range ports persistent", flow(0, 1, m().ipv6().build(),
        ct(true, false, 1, null, 0, -1, nat(NatKind.DST, "2001:db8::1", "2001:db8::ff", 80, 90, true, false, false)))));
    c.add(new Case("ct commit nat dst ipv6 port", flow(0, 1, m().ipv6().build(),
        ct(true, false, 1, null, 0, -1, nat(NatKind.DST, "2001:db8::1", null, 443, 0, false, false, false)))));
    c.add(new Case("ct exec set_field ct_mark", flow(0, 1, ip(),
        ct(true, false, 0, null, 0, -1, null, new Action.SetField(FieldValue.exact(CT_MARK, 0x654321))))));
    c.add(new Case("ct exec set_field ct_label", flow(0, 1, ip(),
        ct(true, false, 0, null, 0, -1, null, new Action.SetField(big(CT_LABEL, "123456789abcdef00000000000000001", null))))));
    c.add(new Case("ct exec load ct_mark partial, ct_label low/mid/high", flow(0, 1, ip(),
        ct(true, false, 4, null, 0, 6, null,
            new Action.Load(CT_MARK, 4, 4, 0x1), new Action.Load(CT_LABEL, 0, 1, 1),
            new Action.Load(CT_LABEL, 32, 4, 0xa), new Action.Load(CT_LABEL, 60, 8, 0xff),
            new Action.Load(CT_LABEL, 100, 28, 0xabcdef1)))));
    c.add(new Case("ct exec load ct_mark full", flow(0, 1, ip(),
        ct(true, false, 4, null, 0, -1, null, new Action.Load(CT_MARK, 0, 32, 0xffffffffL)))));
    c.add(new Case("ct nat and exec", flow(0, 1, ip(),
        ct(true, true, 9, null, 0, 7, nat(NatKind.DST, "10.96.0.10", null, 53, 0, false, false, false),
            new Action.SetField(FieldValue.exact(CT_MARK, 1)), new Action.SetField(FieldValue.exact(CT_LABEL, 5))))));
    c.add(new Case("ct nat src and exec move eth_src to ct_label (masquerade)", flow(0, 1, ip(),
        ct(true, false, 65533, null, 0, 90, nat(NatKind.SRC, "192.168.76.1", null, 0, 0, false, false, false),
            new Action.Move(ETH_SRC, 0, CT_LABEL, 0, 48), new Action.Load(CT_MARK, 3, 1, 1)))));
    c.add(new Case("masquerade routed: set eth_src, set in_port LOCAL", flow(0, 1, ip(),
        new Action.SetField(FieldValue.exact(ETH_SRC, 0x0e00c0a84c01L)),
        new Action.SetField(FieldValue.exact(Field.IN_PORT, 0xfffffffeL)), new Action.GotoTable(90))));
    c.add(new Case("ct_clear", flow(0, 1, ip(), new Action.CtClear(), new Action.Resubmit(0))));
    c.add(new Case("resubmit", flow(0, 1, Match.ALL, new Action.Resubmit(7), new Action.Resubmit(254))));
    c.add(new Case("conjunction", flow(1, 100, m().ipv4().exact(IPV4_SRC, 0x0a000001L).build(),
        new Action.Conjunction(0xabcdef, 1, 2), new Action.Conjunction(7, 3, 3))));
    c.add(new Case("conjunction max id", flow(1, 100, ip(), new Action.Conjunction(0xffffffffL, 64, 64))));
    c.add(new Case("load partial reg3, reg15 bit, metadata byte", flow(0, 1, Match.ALL,
        new Action.Load(REG3, 4, 8, 5), new Action.Load(REG15, 3, 1, 1), new Action.Load(METADATA, 8, 8, 5),
        new Action.Load(METADATA, 32, 32, 0xffffffffL))));
    c.add(new Case("load full reg1 and metadata", flow(0, 1, Match.ALL,
        new Action.Load(REG1, 0, 32, 5), new Action.Load(METADATA, 0, 64, -1L))));
    c.add(new Case("set_field regs metadata", flow(0, 1, Match.ALL,
        new Action.SetField(FieldValue.exact(REG1, 5)), new Action.SetField(FieldValue.exact(REG15, 0xffffffffL)),
        new Action.SetField(FieldValue.exact(METADATA, 0x5c0000000000abcdL)))));
    c.add(new Case("set_field l2 l3 l4", flow(0, 1, m().ipv4().exact(IP_PROTO, 6).build(),
        new Action.SetField(FieldValue.exact(ETH_DST, 0x001122334455L)), new Action.SetField(FieldValue.exact(IPV4_SRC, 0x0a000001L)),
        new Action.SetField(FieldValue.exact(TCP_DST, 8080)), new Action.Output(3))));
    c.add(new Case("set_field ipv6", flow(0, 1, m().ipv6().build(),
        new Action.SetField(big(IPV6_DST, "20010db8000000000000000000000001", null)), new Action.Output(3))));
    c.add(new Case("move reg slices", flow(0, 1, Match.ALL,
        new Action.Move(REG0, 0, REG1, 16, 16), new Action.Move(REG4, 0, REG5, 0, 32))));
    c.add(new Case("move metadata ct_label", flow(0, 1, Match.ALL,
        new Action.Move(METADATA, 0, REG2, 0, 32), new Action.Move(REG7, 0, METADATA, 32, 32),
        new Action.Move(CT_LABEL, 0, REG3, 0, 32), new Action.Move(CT_MARK, 0, REG4, 0, 32))));
    c.add(new Case("move eth and ip", flow(0, 1, m().ipv4().build(),
        new Action.Move(ETH_SRC, 0, ETH_DST, 0, 48), new Action.Move(IPV4_SRC, 0, REG9, 0, 32), new Action.InPort())));
    c.add(new Case("output group goto", flow(2, 1, Match.ALL, new Action.Output(1), new Action.Output(0xfffffffeL),
        new Action.Group(9), new Action.GotoTable(8))));
    c.add(new Case("goto only", flow(2, 1, Match.ALL, new Action.GotoTable(3))));
    c.add(new Case("meter then controller", flow(11, 90, ip(), new Action.Meter(METER), new Action.Controller(128))));
    c.add(new Case("meter then goto", flow(11, 91, ip(), new Action.Meter(METER), new Action.GotoTable(12))));
    c.add(new Case("meter only", flow(11, 92, ip(), new Action.Meter(METER))));
    c.add(new Case("drop", flow(5, 65535, ip())));
    // ---- learn (session affinity): fields copied, constants matched and loaded, then resubmit and goto
    c.add(new Case("learn tcp affinity", flow(11, 200, m().ipv4().exact(IP_PROTO, 6).build(),
        learn(false, 6, TCP_DST, 2, new Action.LearnSpec.Load(REG0, 0, 32, 0x0a00000bL),
            new Action.LearnSpec.Load(REG4, 0, 17, 0x11f90)),
        new Action.Resubmit(14), new Action.GotoTable(15))));
    c.add(new Case("move tcp_src to reg5 (affinity scratch)", flow(15, 100, m().ipv4().exact(IP_PROTO, 6).build(),
        new Action.Move(TCP_SRC, 0, REG5, 0, 16), new Action.Normal())));
    c.add(new Case("move sctp_src to reg5 (affinity scratch)", flow(15, 100, m().ipv6().exact(IP_PROTO, 132).build(),
        new Action.Move(SCTP_SRC, 0, REG5, 0, 16), new Action.Normal())));
    c.add(new Case("learn then ct dnat (table 15)", flow(15, 200, m().ipv4().exact(IP_PROTO, 6).exact(REG0, 0x0a00000bL)
        .masked(REG4, 0x11f90, 0x1ffff).build(),
        learn(false, 6, TCP_DST, 600, new Action.LearnSpec.Load(REG0, 0, 32, 0x0a00000bL),
            new Action.LearnSpec.Load(REG4, 0, 17, 0x11f90)),
        ct(true, false, 0, CT_ZONE, 0, 12, nat(NatKind.DST, "10.0.0.11", null, 8080, 0, false, false, false),
            new Action.Load(CT_MARK, 0, 1, 1)))));
    c.add(new Case("learn sctp6 affinity", flow(11, 200, m().ipv6().exact(IP_PROTO, 132).build(),
        learn(true, 132, SCTP_DST, 65535, new Action.LearnSpec.Load(REG0, 0, 32, 0xfd000000L),
            new Action.LearnSpec.Load(REG1, 0, 32, 0), new Action.LearnSpec.Load(REG2, 0, 32, 0),
            new Action.LearnSpec.Load(REG3, 0, 32, 0x11), new Action.LearnSpec.Load(REG4, 0, 17, 0x10035)))));
    return c;
  }
}
