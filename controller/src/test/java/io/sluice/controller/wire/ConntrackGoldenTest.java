package io.sluice.controller.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.projectfloodlight.openflow.protocol.OFVersion;

/**
 * Conntrack's bytes against what real {@code ovs-ofctl --no-names -O OpenFlow1x} sends for {@code ct-flush-zone SWITCH
 * ZONE} and {@code ct-flush SWITCH zone=Z '' 'ct_nw_src=..,ct_tp_src=..,ct_nw_proto=..'} (a reply tuple only). Every
 * expectation is produced by ovs-ofctl at test time.
 */
class ConntrackGoldenTest {
  @BeforeAll
  static void needOvs() {
    OfctlCapture.requireOvsOfctl();
  }

  private static byte[] single(OFVersion v, String cmd, List<String> args) {
    List<byte[]> msgs = OfctlCapture.capture(v, List.of(cmd), args);
    assertThat(msgs).as("messages ovs-ofctl %s sent for %s", cmd, args).hasSize(1);
    return msgs.get(0);
  }

  static Stream<Arguments> replySources() {
    List<Arguments> a = new ArrayList<>();
    for (OFVersion v : List.of(OFVersion.OF_13, OFVersion.OF_14, OFVersion.OF_15)) {
      a.add(Arguments.of(v, 7, "10.0.0.11", 5353, 17));
      a.add(Arguments.of(v, 65521, "192.168.200.1", 53, 132));
      a.add(Arguments.of(v, 1, "fd00::11", 5353, 17));
      a.add(Arguments.of(v, 300, "2001:db8:1:2:3:4:5:6", 3868, 132));
      a.add(Arguments.of(v, 9, "10.0.0.12", 0, 17)); // any port
      a.add(Arguments.of(v, 0, "fd00:5c::fd", 65535, 17));
    }
    return a.stream();
  }

  @ParameterizedTest(name = "{0} zone {1} reply from {2}:{3} proto {4}")
  @MethodSource("replySources")
  void aFlushByReplySourceMatchesOvs(OFVersion v, int zone, String address, int port, int proto) throws Exception {
    boolean v6 = address.contains(":");
    String tuple = (v6 ? "ct_ipv6_src=" : "ct_nw_src=") + address + (port != 0 ? ",ct_tp_src=" + port : "")
        + ",ct_nw_proto=" + proto;
    byte[] ovs = single(v, "ct-flush", List.of("zone=" + zone, "", tuple));
    byte[] raw = InetAddress.getByName(address).getAddress();
    byte[] ours = GroupCodec.toBytes(b -> Conntrack.writeFlushReplySource(b, v, OfctlCapture.xid(ovs), zone, raw, port, proto));
    assertThat(OfctlCapture.hex(ours)).as("ct-flush zone=%d '' '%s'", zone, tuple).isEqualTo(OfctlCapture.hex(ovs));
  }

  @ParameterizedTest
  @EnumSource(value = OFVersion.class, names = {"OF_13", "OF_14", "OF_15"})
  void aFlushOfOneZoneMatchesOvs(OFVersion v) {
    byte[] ovs = single(v, "ct-flush-zone", List.of("4242"));
    byte[] ours = GroupCodec.toBytes(b -> Conntrack.writeFlushZone(b, v, OfctlCapture.xid(ovs), 4242));
    assertThat(OfctlCapture.hex(ours)).isEqualTo(OfctlCapture.hex(ovs));
  }

  @Test
  void whatOvsCouldNotMeanIsRefusedBeforeWriting() {
    assertThatThrownBy(() -> GroupCodec.toBytes(b -> Conntrack.writeFlushReplySource(b, OFVersion.OF_15, 1, 70000,
        new byte[4], 53, 17))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("zone 70000");
    assertThatThrownBy(() -> GroupCodec.toBytes(b -> Conntrack.writeFlushReplySource(b, OFVersion.OF_15, 1, 7,
        new byte[5], 53, 17))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("5");
  }
}
