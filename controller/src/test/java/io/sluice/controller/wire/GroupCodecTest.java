package io.sluice.controller.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.sluice.controller.wire.FlowStatsParser.MalformedStatsException;
import io.sluice.renderer.flow.Group;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.projectfloodlight.openflow.protocol.OFVersion;

/** Group and meter replies read tolerantly, and groups too long to be reported refused up front. */
class GroupCodecTest {
  static Group endpoints(long id, int n) {
    List<Group.Bucket> b = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      b.add(GoldenGroups.endpoint(i));
    }
    return new Group(id, Group.Type.SELECT, b);
  }

  /** A description reply as OVS writes one: the ADD's body after its fixed part, behind the entry header. */
  static ByteBuf descReply(OFVersion v, List<WireGroup> groups, int flags) {
    ByteBuf out = Unpooled.buffer();
    out.writeByte(v.getWireVersion()).writeByte(19).writeShort(0).writeInt(77);
    out.writeShort(GroupReplies.OFPMP_GROUP_DESC).writeShort(flags).writeInt(0);
    for (WireGroup g : groups) {
      byte[] add = GroupCodec.toBytes(b -> GroupCodec.writeAdd(b, g, v, 1));
      if (v == OFVersion.OF_15) { // header, command, type, pad, id, bucket_array_len, pad, command_bucket_id
        out.writeShort(add.length - 8).writeByte(g.type()).writeByte(0).writeInt((int) g.id());
        out.writeBytes(add, 16, 2).writeZero(6);
        out.writeBytes(add, 24, add.length - 24);
      } else {
        out.writeShort(add.length - 8).writeByte(g.type()).writeByte(0).writeInt((int) g.id());
        out.writeBytes(add, 16, add.length - 16);
      }
    }
    out.setShort(2, out.writerIndex());
    return out;
  }

  @Test
  void aDescriptionReplyReadsBackEqualToTheEncoderInEveryVersion() {
    for (OFVersion v : List.of(OFVersion.OF_13, OFVersion.OF_14, OFVersion.OF_15)) {
      List<WireGroup> want = GoldenGroups.all().stream().map(g -> GroupCodec.wireGroup(g, v)).toList();
      GroupReplies.Desc d = GroupReplies.parseDesc(List.of(descReply(v, want.subList(0, 2), 1),
          descReply(v, want.subList(2, want.size()), 0)));
      assertThat(d.unreadable()).isZero();
      assertThat(d.groups()).as("%s", v).containsExactlyElementsOf(want);
    }
  }

  @Test
  void aGroupWhoseBucketsDoNotAddUpIsReportedUnreadableByIdAndTheRestIsRead() {
    OFVersion v = OFVersion.OF_15;
    List<WireGroup> want = GoldenGroups.all().stream().map(g -> GroupCodec.wireGroup(g, v)).toList();
    ByteBuf reply = descReply(v, want, 0);
    reply.setShort(16 + 16, 0x0fff); // the first group's first bucket claims more than its group holds
    GroupReplies.Desc d = GroupReplies.parseDesc(List.of(reply));
    assertThat(d.unreadable()).isEqualTo(1);
    assertThat(d.groups().get(0)).isEqualTo(WireGroup.unreadable(want.get(0).id()));
    assertThat(d.groups().get(0).readable()).isFalse();
    assertThat(d.groups().subList(1, want.size())).containsExactlyElementsOf(want.subList(1, want.size()));

    ByteBuf cut = descReply(v, want, 0);
    cut.setShort(16, 0x7ff0); // an entry longer than the reply
    assertThatThrownBy(() -> GroupReplies.parseDesc(List.of(cut))).isInstanceOf(MalformedStatsException.class);
    ByteBuf flows = descReply(v, want, 0);
    flows.setShort(8, 1);
    assertThatThrownBy(() -> GroupReplies.parseDesc(List.of(flows))).hasMessageContaining("not a group description");
  }

  @Test
  void aGroupThatOneMessageCannotHoldIsRefusedNamingIt() {
    // a Service endpoint bucket is 64 bytes in every version: 1023 fit one bundled message, 1024 do not
    for (OFVersion v : List.of(OFVersion.OF_13, OFVersion.OF_14, OFVersion.OF_15)) {
      WireGroup fits = GroupCodec.wireGroup(endpoints(Group.ownedId(1), 1023), v);
      assertThat(GroupCodec.modLength(fits, v) + Bundles.addOverhead(v)).isLessThanOrEqualTo(65535);
      assertThatThrownBy(() -> GroupCodec.wireGroup(endpoints(Group.ownedId(2), 1024), v))
          .isInstanceOf(GroupCodec.GroupTooLargeException.class)
          .hasMessageContaining("group 0x5c000002 (1024 buckets");
      assertThatThrownBy(() -> GroupCodec.wireGroup(endpoints(Group.ownedId(0xabc), 5000), v))
          .isInstanceOf(GroupCodec.GroupTooLargeException.class)
          .hasMessageContaining("group 0x5c000abc (5000 buckets").hasMessageContaining("split it")
          .satisfies(e -> assertThat(((GroupCodec.GroupTooLargeException) e).groupId()).isEqualTo(0x5c000abcL));
    }
    // 4,093 empty buckets are short, but their statistics would not fit one reply
    List<Group.Bucket> empty = new ArrayList<>();
    for (int i = 0; i < 4093; i++) {
      empty.add(new Group.Bucket(1, List.of()));
    }
    assertThatThrownBy(() -> GroupCodec.wireGroup(new Group(Group.ownedId(3), Group.Type.ALL, empty), OFVersion.OF_15))
        .isInstanceOf(GroupCodec.GroupTooLargeException.class);
  }

  @Test
  void bucketWeightsAreHeldAsOvsHoldsThem() {
    Group all = GoldenGroups.all().get(1);
    assertThat(all.buckets().get(0).weight()).isEqualTo(1);
    assertThat(GroupCodec.wireGroup(all, OFVersion.OF_15).buckets()).allMatch(b -> b.content().weight() == 0);
    Group sel = GoldenGroups.all().get(0);
    assertThat(GroupCodec.wireGroup(sel, OFVersion.OF_13).buckets()).extracting(b -> b.content().weight())
        .containsExactly(100, 1, 0, 7);
  }

  @Test
  void meterConfigRepliesReadBackEqualAndSkipBrokenBands() {
    ByteBuf r = Unpooled.buffer();
    r.writeByte(6).writeByte(19).writeShort(0).writeInt(5).writeShort(MeterCodec.OFPMP_METER_CONFIG).writeShort(0).writeInt(0);
    for (var m : GoldenGroups.meters()) {
      WireMeter w = MeterCodec.wireMeter(m);
      r.writeShort(8 + w.bands().length()).writeShort(w.flags()).writeInt((int) w.id()).writeBytes(w.bands().toArray());
    }
    r.writeShort(24).writeShort(6).writeInt(9).writeShort(1).writeShort(99).writeZero(12); // a band longer than its meter
    r.setShort(2, r.writerIndex());
    List<WireMeter> got = new ArrayList<>();
    assertThat(MeterCodec.visitConfig(r, got::add)).isEqualTo(1);
    assertThat(got).containsExactlyElementsOf(GoldenGroups.meters().stream().map(MeterCodec::wireMeter).toList());
  }
}
