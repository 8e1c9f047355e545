package io.sluice.controller.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class RejectsTest {
  private static final byte[] CLIENT_MAC = {0x0a, 0x58, 0, 0, 0, 0x10};
  private static final byte[] GW_MAC = {2, 0, 0, 0, (byte) 0xff, (byte) 0xfe};
  private static final byte[] CLIENT = {10, 1, 0, 10};
  private static final byte[] VIP = {10, 96, 0, 10};

  /** An IPv4 packet from the client to the virtual address, with the given transport segment. */
  static byte[] v4(int proto, byte[] l4) {
    ByteBuffer b = ByteBuffer.allocate(14 + 20 + l4.length);
    b.put(GW_MAC).put(CLIENT_MAC).putShort((short) 0x0800);
    b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + l4.length)).putInt(0).put((byte) 64).put((byte) proto)
        .putShort((short) 0).put(CLIENT).put(VIP).put(l4);
    return b.array();
  }

  static byte[] syn() {
    ByteBuffer t = ByteBuffer.allocate(20);
    t.putShort((short) 40000).putShort((short) 80).putInt(1000).putInt(0).put((byte) 0x50).put((byte) 0x02)
        .putShort((short) 64240).putInt(0);
    return t.array();
  }

  @Test
  void aSynIsAnsweredWithARstFromTheVirtualAddressWithValidChecksums() {
    byte[] r = Rejects.answer(v4(6, syn())).orElseThrow();
    ByteBuffer b = ByteBuffer.wrap(r);
    assertThat(Arrays.copyOfRange(r, 0, 6)).isEqualTo(CLIENT_MAC);
    assertThat(Arrays.copyOfRange(r, 6, 12)).isEqualTo(GW_MAC);
    assertThat(Arrays.copyOfRange(r, 26, 30)).as("source").isEqualTo(VIP);
    assertThat(Arrays.copyOfRange(r, 30, 34)).as("destination").isEqualTo(CLIENT);
    assertThat(Rejects.checksum(r, 14, 20, 0)).as("IP header checksum").isZero();
    assertThat(b.getShort(34) & 0xffff).as("source port").isEqualTo(80);
    assertThat(b.getShort(36) & 0xffff).as("destination port").isEqualTo(40000);
    assertThat(b.getInt(42)).as("ack = SYN's seq + 1").isEqualTo(1001);
    assertThat(r[47]).as("RST|ACK").isEqualTo((byte) 0x14);
    long pseudo = 0x0a60 + 0x000a + 0x0a01 + 0x000a + 6 + 20;
    assertThat(Rejects.checksum(r, 34, 20, pseudo)).as("TCP checksum").isZero();
  }

  @Test
  void udpIsAnsweredWithIcmpPortUnreachableQuotingThePacket() {
    byte[] udp = {(byte) 0x9c, 0x40, 0, 53, 0, 12, 0, 0, 'a', 'b', 'c', 'd'};
    byte[] pkt = v4(17, udp);
    byte[] r = Rejects.answer(pkt).orElseThrow();
    assertThat(r[23]).as("protocol ICMP").isEqualTo((byte) 1);
    assertThat(r[34]).as("type").isEqualTo((byte) 3);
    assertThat(r[35]).as("code").isEqualTo((byte) 3);
    assertThat(Arrays.copyOfRange(r, 42, r.length)).as("quoted IP header and 8 bytes").isEqualTo(Arrays.copyOfRange(pkt, 14, 14 + 28));
    assertThat(Rejects.checksum(r, 34, r.length - 34, 0)).isZero();
  }

  @Test
  void aRstOrANonIpPacketIsNeverAnswered() {
    byte[] rst = syn();
    rst[13] = 0x04;
    assertThat(Rejects.answer(v4(6, rst))).isEmpty();
    byte[] arp = new byte[60];
    arp[12] = 0x08;
    arp[13] = 0x06;
    assertThat(Rejects.answer(arp)).isEmpty();
    assertThat(Rejects.answer(new byte[10])).isEmpty();
  }

  @Test
  void anIpv6SynGetsARstWithAValidChecksum() {
    byte[] src = new byte[16];
    byte[] dst = new byte[16];
    src[0] = (byte) 0xfd;
    src[15] = 0x10;
    dst[0] = (byte) 0xfd;
    dst[15] = 0x0a;
    ByteBuffer b = ByteBuffer.allocate(14 + 40 + 20);
    b.put(GW_MAC).put(CLIENT_MAC).putShort((short) 0x86dd).putInt(0x60000000).putShort((short) 20).put((byte) 6)
        .put((byte) 64).put(src).put(dst).put(syn());
    byte[] r = Rejects.answer(b.array()).orElseThrow();
    assertThat(Arrays.copyOfRange(r, 22, 38)).isEqualTo(dst);
    assertThat(Arrays.copyOfRange(r, 38, 54)).isEqualTo(src);
    long pseudo = 0xfd00 + 0x000a + 0xfd00 + 0x0010 + 20 + 6;
    assertThat(Rejects.checksum(r, 54, 20, pseudo)).isZero();
  }

  @Test
  void packetInsAreReadFromRawFramesWithNiciraFieldsInTheMatch() {
    byte[] data = v4(6, syn());
    ByteBuf f = Unpooled.buffer();
    f.writeByte(4).writeByte(10).writeShort(0).writeInt(7); // OF1.3 PACKET_IN
    f.writeInt(-1).writeShort(data.length).writeByte(1).writeByte(11).writeLong(0x5c03000100fcfac3L);
    int matchLen = 4 + 8 + 8 + 8; // in_port, reg0 (NXM class 1), ct_state
    f.writeShort(1).writeShort(matchLen);
    f.writeInt(0x80000004).writeInt(3);
    f.writeInt(0x00010004).writeInt(5);
    f.writeInt(0x0001d204).writeInt(0x21);
    f.writeZero(((matchLen + 7) & ~7) - matchLen).writeShort(0).writeBytes(data);
    f.setShort(2, f.readableBytes());
    PacketIn in = PacketIn.read(f);
    assertThat(in.inPort()).isEqualTo(3);
    assertThat(in.tableId()).isEqualTo(11);
    assertThat(in.cookie()).isEqualTo(0x5c03000100fcfac3L);
    assertThat(in.data()).isEqualTo(data);
  }
}
