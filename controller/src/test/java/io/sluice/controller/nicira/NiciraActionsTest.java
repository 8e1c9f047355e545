package io.sluice.controller.nicira;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.sluice.controller.wire.OfctlCapture;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.projectfloodlight.openflow.protocol.OFFactories;
import org.projectfloodlight.openflow.protocol.OFFactory;
import org.projectfloodlight.openflow.protocol.OFFlowAdd;
import org.projectfloodlight.openflow.protocol.OFVersion;
import org.projectfloodlight.openflow.protocol.match.MatchField;
import org.projectfloodlight.openflow.types.EthType;
import org.projectfloodlight.openflow.types.U64;

/** Each raw writer against the action bytes real ovs-ofctl produces for the same action text. */
class NiciraActionsTest {
  @BeforeAll
  static void needOvs() {
    OfctlCapture.requireOvsOfctl();
  }

  /** The apply-actions payload of the FLOW_MOD ovs-ofctl sends for {@code ip,actions=TEXT}. */
  static String ovsActions(OFVersion v, String actions) {
    // learn copies fields from the packet: the flow must match their prerequisites
    String proto = actions.contains("OXM_OF_SCTP_DST[]") ? "sctp6" : actions.contains("NXM_OF_TCP_DST[]") ? "tcp"
        : actions.contains("[fe80") ? "ipv6" : "ip";
    byte[] fm = OfctlCapture.addFlow(v, "priority=1," + proto + ",actions=" + actions);
    int mlen = (fm[50] & 0xff) << 8 | (fm[51] & 0xff);
    int instr = 48 + ((mlen + 7) & ~7);
    assertThat((fm[instr] & 0xff) << 8 | (fm[instr + 1] & 0xff)).as("apply-actions instruction").isEqualTo(4);
    return OfctlCapture.hex(Arrays.copyOfRange(fm, instr + 8, fm.length));
  }

  static String ours(Consumer<ByteBuf> w) {
    ByteBuf b = Unpooled.buffer();
    w.accept(b);
    byte[] out = new byte[b.readableBytes()];
    b.readBytes(out);
    return OfctlCapture.hex(out);
  }

  static void same(String text, Consumer<ByteBuf> writer, OFVersion... versions) {
    for (OFVersion v : versions) {
      assertThat(ours(writer)).as("%s in %s", text, v).isEqualTo(ovsActions(v, text));
    }
  }

  @Test
  void resubmitTable() {
    same("resubmit(,7)", b -> NiciraActions.resubmitTable(b, 7), OFVersion.OF_13, OFVersion.OF_15);
    same("resubmit(,254)", b -> NiciraActions.resubmitTable(b, 254), OFVersion.OF_13, OFVersion.OF_15);
  }

  @Test
  void conjunction() {
    same("conjunction(11259375,1/2)", b -> NiciraActions.conjunction(b, 0xabcdef, 1, 2), OFVersion.OF_13, OFVersion.OF_15);
    same("conjunction(4294967295,64/64)", b -> NiciraActions.conjunction(b, 0xffffffffL, 64, 64), OFVersion.OF_13);
  }

  @Test
  void ctClear() {
    same("ct_clear", NiciraActions::ctClear, OFVersion.OF_13, OFVersion.OF_15);
  }

  @Test
  void ctWithZoneFromFieldAndRecirc() {
    same("ct(table=4,zone=NXM_NX_REG0[16..31])", b -> {
      int s = NiciraActions.ctBegin(b, 0, Nxm.nxmHeader(io.sluice.renderer.flow.Field.REG0),
          NiciraActions.ofsNbits(16, 16), 4, 0);
      NiciraActions.ctEnd(b, s);
    }, OFVersion.OF_13, OFVersion.OF_15);
  }

  @Test
  void ctCommitForceNatExec() throws Exception {
    byte[] min = InetAddress.getByName("10.0.0.1").getAddress();
    byte[] max = InetAddress.getByName("10.0.0.2").getAddress();
    same("ct(commit,force,zone=7,nat(src=10.0.0.1-10.0.0.2:1000-2000,persistent,random),exec(set_field:0x654321->ct_mark))", b -> {
      int s = NiciraActions.ctBegin(b, NiciraActions.CT_COMMIT | NiciraActions.CT_FORCE, 0, 7, NiciraActions.NO_RECIRC, 0);
      NiciraActions.nat(b, NiciraActions.NAT_SRC | NiciraActions.NAT_PERSISTENT | NiciraActions.NAT_PROTO_RANDOM,
          min, max, 1000, 2000);
      b.writeShort(0x19).writeShort(16).writeInt(Nxm.CT_MARK).writeInt(0x654321).writeInt(0); // set_field
      NiciraActions.ctEnd(b, s);
    }, OFVersion.OF_13, OFVersion.OF_15);
  }

  @Test
  void natIpv6AndBareNat() throws Exception {
    byte[] min = InetAddress.getByName("fe80::1").getAddress();
    same("ct(commit,nat(dst=[fe80::1]:443,hash))", b -> {
      int s = NiciraActions.ctBegin(b, NiciraActions.CT_COMMIT, 0, 0, NiciraActions.NO_RECIRC, 0);
      NiciraActions.nat(b, NiciraActions.NAT_DST | NiciraActions.NAT_PROTO_HASH, min, null, 443, 0);
      NiciraActions.ctEnd(b, s);
    }, OFVersion.OF_13);
    same("ct(table=3,nat)", b -> {
      int s = NiciraActions.ctBegin(b, 0, 0, 0, 3, 0);
      NiciraActions.nat(b, 0, null, null, 0, 0);
      NiciraActions.ctEnd(b, s);
    }, OFVersion.OF_13);
  }

  @Test
  void regLoadIsWhatOvsSendsForAPartialLoadInOpenFlow13() {
    same("load:0x5->NXM_NX_REG3[4..11]", b -> NiciraActions.regLoad(b, Nxm.nxmHeader(io.sluice.renderer.flow.Field.REG3), 4, 8, 5),
        OFVersion.OF_13);
    same("load:0x1->NXM_NX_REG15[31]", b -> NiciraActions.regLoad(b, Nxm.nxmHeader(io.sluice.renderer.flow.Field.REG15), 31, 1, 1),
        OFVersion.OF_13);
  }

  @Test
  void regMoveAndCopyField() {
    int r0 = Nxm.nxmHeader(io.sluice.renderer.flow.Field.REG0);
    int r1 = Nxm.nxmHeader(io.sluice.renderer.flow.Field.REG1);
    same("move:NXM_NX_REG0[0..15]->NXM_NX_REG1[16..31]", b -> NiciraActions.regMove(b, r0, 0, r1, 16, 16), OFVersion.OF_13);
    same("move:NXM_NX_REG0[0..15]->NXM_NX_REG1[16..31]", b -> NiciraActions.copyField(b, r0, 0, r1, 16, 16), OFVersion.OF_15);
    int md = Nxm.oxmHeader(io.sluice.renderer.flow.Field.METADATA);
    same("move:OXM_OF_METADATA[0..31]->NXM_NX_REG1[]", b -> NiciraActions.copyField(b, md, 0, r1, 0, 32), OFVersion.OF_15);
  }

  /** The learn of a ClientIP Service's bucket: client, virtual address and port copied, the endpoint loaded. */
  @Test
  void learnAsASessionAffinityBucketWritesIt() {
    int ipSrc = Nxm.nxmHeader(io.sluice.renderer.flow.Field.IPV4_SRC);
    int ipDst = Nxm.nxmHeader(io.sluice.renderer.flow.Field.IPV4_DST);
    int tcpDst = Nxm.nxmHeader(io.sluice.renderer.flow.Field.TCP_DST);
    int reg0 = Nxm.nxmHeader(io.sluice.renderer.flow.Field.REG0);
    int reg4 = Nxm.nxmHeader(io.sluice.renderer.flow.Field.REG4);
    same("learn(table=14,idle_timeout=2,priority=200,cookie=0x5c04000000fcfac3,eth_type=0x800,nw_proto=6,"
        + "NXM_OF_IP_SRC[],NXM_OF_IP_DST[],NXM_OF_TCP_DST[],load:0xa00000b->NXM_NX_REG0[],load:0x11f90->NXM_NX_REG4[0..16])",
        b -> {
          int s = NiciraActions.learnBegin(b, 2, 0, 200, 0x5c04000000fcfac3L, 0, 14, 0, 0);
          NiciraActions.learnImmediateSpec(b, NiciraActions.LEARN_DST_MATCH, 0x800, Nxm.header(Nxm.CLASS_NXM0, 3, 2), 0, 16);
          NiciraActions.learnImmediateSpec(b, NiciraActions.LEARN_DST_MATCH, 6, Nxm.header(Nxm.CLASS_NXM0, 6, 1), 0, 8);
          NiciraActions.learnFieldSpec(b, NiciraActions.LEARN_DST_MATCH, ipSrc, 0, ipSrc, 0, 32);
          NiciraActions.learnFieldSpec(b, NiciraActions.LEARN_DST_MATCH, ipDst, 0, ipDst, 0, 32);
          NiciraActions.learnFieldSpec(b, NiciraActions.LEARN_DST_MATCH, tcpDst, 0, tcpDst, 0, 16);
          NiciraActions.learnImmediateSpec(b, NiciraActions.LEARN_DST_LOAD, 0x0a00000bL, reg0, 0, 32);
          NiciraActions.learnImmediateSpec(b, NiciraActions.LEARN_DST_LOAD, 0x11f90, reg4, 0, 17);
          NiciraActions.learnEnd(b, s);
        }, OFVersion.OF_13, OFVersion.OF_15);
  }

  /** IPv6 and SCTP (an OXM-only field), zero immediates, hard timeout, flags, a load at an offset, the longest timeout. */
  @Test
  void learnWithIpv6SctpFlagsAndOffsets() {
    int src = Nxm.nxmHeader(io.sluice.renderer.flow.Field.IPV6_SRC);
    int sctpDst = Nxm.nxmHeader(io.sluice.renderer.flow.Field.SCTP_DST);
    int reg1 = Nxm.nxmHeader(io.sluice.renderer.flow.Field.REG1);
    int reg5 = Nxm.nxmHeader(io.sluice.renderer.flow.Field.REG5);
    NiciraActionsTest.same("learn(table=254,idle_timeout=65535,hard_timeout=7,priority=0,delete_learned,"
        + "eth_type=0x86dd,nw_proto=132,NXM_NX_IPV6_SRC[],OXM_OF_SCTP_DST[],load:0->NXM_NX_REG1[],"
        + "load:0x5->NXM_NX_REG5[3..10])", b -> {
          int s = NiciraActions.learnBegin(b, 65535, 7, 0, 0, NiciraActions.LEARN_DELETE_LEARNED, 254, 0, 0);
          NiciraActions.learnImmediateSpec(b, NiciraActions.LEARN_DST_MATCH, 0x86dd, Nxm.header(Nxm.CLASS_NXM0, 3, 2), 0, 16);
          NiciraActions.learnImmediateSpec(b, NiciraActions.LEARN_DST_MATCH, 132, Nxm.header(Nxm.CLASS_NXM0, 6, 1), 0, 8);
          NiciraActions.learnFieldSpec(b, NiciraActions.LEARN_DST_MATCH, src, 0, src, 0, 128);
          NiciraActions.learnFieldSpec(b, NiciraActions.LEARN_DST_MATCH, sctpDst, 0, sctpDst, 0, 16);
          NiciraActions.learnImmediateSpec(b, NiciraActions.LEARN_DST_LOAD, 0, reg1, 0, 32);
          NiciraActions.learnImmediateSpec(b, NiciraActions.LEARN_DST_LOAD, 5, reg5, 3, 8);
          NiciraActions.learnEnd(b, s);
        }, OFVersion.OF_13, OFVersion.OF_15);
  }

  @Test
  void regLoad2IsReadBackByOvs() {
    // OVS never emits reg_load2 for ovs-ofctl text; check the bytes with its action parser instead
    String hex = ours(b -> NiciraActions.regLoad2(b, Nxm.masked(Nxm.nxmHeader(io.sluice.renderer.flow.Field.REG3)),
        new byte[] {0, 0, 0, 0x50}, new byte[] {0, 0, 0x0f, (byte) 0xf0}));
    List<String> text = OfctlCapture.parseActions(OFVersion.OF_13, List.of(java.util.HexFormat.of().parseHex(hex)));
    assertThat(text).containsExactly("actions=set_field:0x50/0xff0->reg3");
  }

  @Test
  void niciraActionInsideOpenFlowJFlowAdd() {
    for (OFVersion v : List.of(OFVersion.OF_13, OFVersion.OF_15)) {
      byte[] ovs = OfctlCapture.addFlow(v, "cookie=0x5c02000300000001, table=2, priority=100,ip actions=conjunction(7,2/3),conjunction(8,1/2)");
      OFFactory f = OFFactories.getFactory(v);
      OFFlowAdd add = f.buildFlowAdd()
          .setXid(OfctlCapture.xid(ovs))
          .setCookie(U64.of(0x5c02000300000001L))
          .setTableId(org.projectfloodlight.openflow.types.TableId.of(2))
          .setPriority(100)
          .setMatch(f.buildMatch().setExact(MatchField.ETH_TYPE, EthType.IPv4).build())
          .setInstructions(List.of(f.instructions().applyActions(List.of(
              NiciraAction.conjunction(v, 7, 2, 3), NiciraAction.conjunction(v, 8, 1, 2)))))
          .build();
      ByteBuf b = Unpooled.buffer();
      add.writeTo(b);
      byte[] ours = new byte[b.readableBytes()];
      b.readBytes(ours);
      assertThat(OfctlCapture.hex(ours)).as("OpenFlowJ flow-add with NiciraActions, %s", v).isEqualTo(OfctlCapture.hex(ovs));
    }
  }

  @Test
  void headers() {
    // spot checks against the headers ovs-ofctl put in the golden matches (see FlowEncoderGoldenTest for all)
    assertThat(Nxm.masked(Nxm.CT_STATE)).isEqualTo(0x0001d308);
    assertThat(Nxm.xregHeader(1)).isEqualTo(0x80010208);
    assertThat(Nxm.masked(Nxm.xregHeader(0))).isEqualTo(0x80010110);
    assertThat(Nxm.ONF_TCP_FLAGS).isEqualTo(0xffff5406);
    assertThat(NiciraAction.ctClear(OFVersion.OF_13).subtype()).isEqualTo(NiciraActions.SUBTYPE_CT_CLEAR);
  }
}
