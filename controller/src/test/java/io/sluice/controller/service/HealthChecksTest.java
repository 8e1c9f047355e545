package io.sluice.controller.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class HealthChecksTest {
  private static final byte[] CLIENT = {10, 76, 0, 99};
  private static final byte[] NODE = {(byte) 192, (byte) 168, 76, 1};

  /** An IPv4 TCP segment from the client (MAC ..:63) to the node's health check port, padded to {@code frameMin}. */
  private static byte[] segment(int flags, long seq, long ack, byte[] data, int frameMin) {
    int len = 20 + 20 + data.length;
    ByteBuffer b = ByteBuffer.allocate(Math.max(14 + len, frameMin));
    b.put(new byte[] {2, 0, 0, 0, 0, (byte) 0xfe}).put(new byte[] {0x0a, 0x58, 0x0a, 0x4c, 0, 0x63}).putShort((short) 0x0800);
    b.put((byte) 0x45).put((byte) 0).putShort((short) len).putShort((short) 1).putShort((short) 0x4000).put((byte) 64)
        .put((byte) 6).putShort((short) 0).put(CLIENT).put(NODE);
    b.putShort((short) 41000).putShort((short) 32000).putInt((int) seq).putInt((int) ack).put((byte) 0x50)
        .put((byte) flags).putShort((short) 64240).putShort((short) 0).putShort((short) 0).put(data);
    return b.array();
  }

  private static int u16(byte[] b, int at) {
    return ((b[at] & 0xff) << 8) | (b[at + 1] & 0xff);
  }

  private static long u32(byte[] b, int at) {
    return ((long) u16(b, at) << 16) | u16(b, at + 2);
  }

  /** IPv4 header and TCP checksums both verify (sum to 0xffff with the checksum in place). */
  private static void checksumsHold(byte[] p) {
    assertThat(Rejects.checksum(p, 14, 20, 0)).as("IPv4 header checksum").isZero();
    int tcpLen = u16(p, 16) - 20;
    long pseudo = 0;
    for (int i = 26; i < 34; i += 2) {
      pseudo += u16(p, i);
    }
    pseudo += 6 + tcpLen;
    assertThat(Rejects.checksum(p, 34, tcpLen, pseudo)).as("TCP checksum").isZero();
  }

  @Test
  void aSynGetsASynAckFromTheNodesPortToTheMacItCameFrom() {
    byte[] r = HealthChecks.answer(segment(0x02, 1000, 0, new byte[0], 0), "shop", "lb", 1).orElseThrow();
    assertThat(r).startsWith(0x0a, 0x58, 0x0a, 0x4c, 0, 0x63); // to the client's MAC
    assertThat(new byte[] {r[26], r[27], r[28], r[29]}).isEqualTo(NODE);
    assertThat(u16(r, 34)).isEqualTo(32000);
    assertThat(u16(r, 36)).isEqualTo(41000);
    assertThat(u32(r, 42)).as("ack").isEqualTo(1001);
    assertThat(r[47] & 0xff).as("flags SYN|ACK").isEqualTo(0x12);
    checksumsHold(r);
    // the same connection gets the same sequence number again (nothing is remembered), another one not
    byte[] again = HealthChecks.answer(segment(0x02, 5, 0, new byte[0], 0), "shop", "lb", 1).orElseThrow();
    assertThat(u32(again, 38)).isEqualTo(u32(r, 38));
  }

  @Test
  void theRequestGetsKubeProxysAnswerWithFinAcknowledgingIt() {
    byte[] req = "GET /healthz HTTP/1.1\r\nHost: 192.168.76.1:32000\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    byte[] r = HealthChecks.answer(segment(0x18, 1001, 777, req, 0), "shop", "lb", 2).orElseThrow();
    assertThat(u32(r, 38)).as("seq = what the client acknowledged").isEqualTo(777);
    assertThat(u32(r, 42)).as("ack = the request consumed").isEqualTo(1001 + req.length);
    assertThat(r[47] & 0xff).as("flags FIN|PSH|ACK").isEqualTo(0x19);
    checksumsHold(r);
    String http = new String(r, 54, r.length - 54, StandardCharsets.UTF_8);
    assertThat(http).startsWith("HTTP/1.1 200 OK\r\n").contains("Content-Type: application/json\r\n")
        .endsWith("\r\n\r\n{\"service\":{\"namespace\":\"shop\",\"name\":\"lb\"},\"localEndpoints\":2,"
            + "\"serviceProxyHealthy\":true}");
    String none = new String(HealthChecks.response("shop", "lb", 0), StandardCharsets.UTF_8);
    assertThat(none).startsWith("HTTP/1.1 503 Service Unavailable\r\n").contains("\"localEndpoints\":0");
  }

  @Test
  void aFinIsAcknowledgedAndBareAcksRstsAndPaddingGetNothing() {
    byte[] r = HealthChecks.answer(segment(0x11, 2000, 900, new byte[0], 0), "shop", "lb", 1).orElseThrow();
    assertThat(u32(r, 42)).isEqualTo(2001);
    assertThat(r[47] & 0xff).isEqualTo(0x10);
    assertThat(HealthChecks.answer(segment(0x10, 2000, 900, new byte[0], 60), "shop", "lb", 1))
        .as("a bare ACK padded to 60 bytes is not data").isEmpty();
    assertThat(HealthChecks.answer(segment(0x04, 2000, 0, new byte[0], 0), "shop", "lb", 1)).isEmpty();
    assertThat(HealthChecks.answer(new byte[30], "shop", "lb", 1)).isEmpty();
    assertThat(HealthChecks.destinationPort(segment(0x02, 1, 0, new byte[0], 0))).isEqualTo(32000);
  }
}
