package io.sluice.controller.fabric;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class HostPacketsTest {
  private static final byte[] MAC = {0x0a, 0x58, (byte) 0xAB, 0, 0, 0x10};
  private static final byte[] BCAST = {-1, -1, -1, -1, -1, -1};

  static byte[] arp(int op, byte[] senderMac, byte[] senderIp) {
    ByteBuffer b = ByteBuffer.allocate(42);
    b.put(BCAST).put(senderMac).putShort((short) 0x0806);
    b.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) op);
    b.put(senderMac).put(senderIp).put(new byte[6]).put(new byte[] {10, 0, 0, 2});
    return b.array();
  }

  static byte[] nd(int type, byte[] src, byte[] target, int hopLimit) {
    ByteBuffer b = ByteBuffer.allocate(14 + 40 + 24);
    b.put(new byte[] {0x33, 0x33, (byte) 0xff, 0, 0, 1}).put(MAC).putShort((short) 0x86dd);
    b.putInt(0x60000000).putShort((short) 24).put((byte) 58).put((byte) hopLimit).put(src)
        .put(new byte[] {(byte) 0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, (byte) 0xff, 0, 0, 1});
    b.put((byte) type).put((byte) 0).putShort((short) 0).putInt(0).put(target);
    return b.array();
  }

  private static byte[] v6(String s) throws Exception {
    return java.net.InetAddress.getByName(s).getAddress();
  }

  @Test
  void arpRequestAndReply() {
    assertThat(HostPackets.read(arp(1, MAC, new byte[] {10, 0, 0, 1})))
        .isEqualTo(new HostPackets.Sighting("0a:58:ab:00:00:10", "10.0.0.1"));
    assertThat(HostPackets.read(arp(2, MAC, new byte[] {10, 0, 0, 1})))
        .isEqualTo(new HostPackets.Sighting("0a:58:ab:00:00:10", "10.0.0.1"));
  }

  @Test
  void taggedArp() {
    byte[] a = arp(1, MAC, new byte[] {10, 0, 0, 1});
    byte[] t = new byte[a.length + 4];
    System.arraycopy(a, 0, t, 0, 12);
    t[12] = (byte) 0x81;
    t[14] = 0;
    t[15] = 5;
    System.arraycopy(a, 12, t, 16, a.length - 12);
    assertThat(HostPackets.read(t)).isEqualTo(new HostPackets.Sighting("0a:58:ab:00:00:10", "10.0.0.1"));
  }

  @Test
  void arpThatNamesNoHostIsIgnored() {
    assertThat(HostPackets.read(arp(3, MAC, new byte[] {10, 0, 0, 1}))).isNull(); // RARP opcode
    assertThat(HostPackets.read(arp(1, MAC, new byte[] {0, 0, 0, 0}))).isNull(); // probe
    assertThat(HostPackets.read(arp(1, MAC, new byte[] {(byte) 224, 0, 0, 1}))).isNull();
    assertThat(HostPackets.read(arp(1, BCAST, new byte[] {10, 0, 0, 1}))).isNull();
    assertThat(HostPackets.read(arp(1, new byte[6], new byte[] {10, 0, 0, 1}))).isNull();
    byte[] bad = arp(1, MAC, new byte[] {10, 0, 0, 1});
    bad[14 + 4] = 8; // hardware length
    assertThat(HostPackets.read(bad)).isNull();
  }

  @Test
  void truncatedPacketsAreIgnoredAtEveryLength() throws Exception {
    byte[] a = arp(1, MAC, new byte[] {10, 0, 0, 1});
    byte[] n = nd(136, v6("fe80::1"), v6("fd00::5"), 255);
    for (int i = 0; i < a.length; i++) {
      assertThat(HostPackets.read(Arrays.copyOf(a, i))).as("ARP cut at %d", i).isNull();
    }
    for (int i = 0; i < n.length; i++) {
      assertThat(HostPackets.read(Arrays.copyOf(n, i))).as("ND cut at %d", i).isNull();
    }
    assertThat(HostPackets.read(null)).isNull();
  }

  @Test
  void neighbourSolicitationGivesTheSource() throws Exception {
    assertThat(HostPackets.read(nd(135, v6("fd00::7"), v6("fd00::1"), 255)))
        .isEqualTo(new HostPackets.Sighting("0a:58:ab:00:00:10", "fd00:0:0:0:0:0:0:7"));
    assertThat(HostPackets.read(nd(135, new byte[16], v6("fd00::1"), 255))).isNull(); // duplicate address detection
  }

  @Test
  void neighbourAdvertisementGivesTheTarget() throws Exception {
    assertThat(HostPackets.read(nd(136, v6("fe80::1"), v6("fd00::5"), 255)))
        .isEqualTo(new HostPackets.Sighting("0a:58:ab:00:00:10", "fd00:0:0:0:0:0:0:5"));
  }

  @Test
  void otherIcmpv6OrAWrongHopLimitIsIgnored() throws Exception {
    assertThat(HostPackets.read(nd(136, v6("fe80::1"), v6("fd00::5"), 64))).isNull(); // routed: not on link
    assertThat(HostPackets.read(nd(128, v6("fe80::1"), v6("fd00::5"), 255))).isNull(); // echo request
    assertThat(HostPackets.read(nd(136, v6("fe80::1"), v6("ff02::1"), 255))).isNull(); // multicast target
  }
}
