package io.sluice.controller.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.model.Protocol;
import org.junit.jupiter.api.Test;

/**
 * Probes are frames a pod could have sent: its MACs and addresses, the marker in the IPv4 identification or the IPv6
 * flow label, the chosen ports, and every checksum right (each sums to all ones with its pseudo-header).
 */
class ProbePacketsTest {
  @Test
  void anIpv4TcpProbeIsASynWithRightChecksumsAndTheMarker() {
    byte[] f = ProbePackets.frame(Protocol.TCP, "0a:58:0a:4c:00:01", "0a:58:0a:4c:00:02", "10.76.0.1", "10.76.0.2",
        61234, 5432, 0x1a2b);
    assertThat(f.length).isGreaterThanOrEqualTo(60);
    assertThat(u16(f, 12)).isEqualTo(0x0800);
    assertThat(f[0]).isEqualTo((byte) 0x0a);
    assertThat(f[11]).isEqualTo((byte) 0x01); // source MAC's last byte
    assertThat(u16(f, 14 + 4)).as("IP identification: the marker").isEqualTo(0x1a2b);
    assertThat(f[14 + 9]).isEqualTo((byte) 6);
    assertThat(ProbePackets.checksum(f, 14, 20, 0)).as("IPv4 header checksum").isZero();
    int l4 = 34;
    assertThat(u16(f, l4)).isEqualTo(61234);
    assertThat(u16(f, l4 + 2)).isEqualTo(5432);
    assertThat(f[l4 + 13]).as("SYN only").isEqualTo((byte) 0x02);
    int len = u16(f, 16) - 20;
    long pseudo = u16(f, 26) + u16(f, 28) + u16(f, 30) + u16(f, 32) + 6 + len;
    assertThat(ProbePackets.checksum(f, l4, len, pseudo)).as("TCP checksum").isZero();
  }

  @Test
  void anIpv6UdpProbeCarriesTheMarkerInItsFlowLabelAndARightChecksum() {
    byte[] f = ProbePackets.frame(Protocol.UDP, "0a:58:0a:4c:00:01", null, "fd00::1", "fd00::2", 65000, 53, 0xbeef);
    assertThat(u16(f, 12)).isEqualTo(0x86dd);
    assertThat(new byte[] {f[0], f[1], f[2], f[3], f[4], f[5]}).as("no destination MAC: zeros").containsOnly(0);
    assertThat(((f[15] & 0x0f) << 16) | u16(f, 16)).as("flow label").isEqualTo(0xbeef);
    assertThat(f[20]).isEqualTo((byte) 17);
    int len = u16(f, 18);
    long pseudo = 17 + len;
    for (int i = 22; i < 54; i += 2) {
      pseudo += u16(f, i);
    }
    assertThat(ProbePackets.checksum(f, 54, len, pseudo)).as("UDP checksum").isZero();
    assertThat(new String(f, 62, len - 8, java.nio.charset.StandardCharsets.US_ASCII)).contains("sluice trace beef");
  }

  @Test
  void sctpAndMixedFamiliesAreRefused() {
    assertThatThrownBy(() -> ProbePackets.frame(Protocol.SCTP, "0a:58:0a:4c:00:01", null, "10.0.0.1", "10.0.0.2",
        61000, 9, 1)).hasMessageContaining("--method ovs-appctl");
    assertThatThrownBy(() -> ProbePackets.frame(Protocol.TCP, "0a:58:0a:4c:00:01", null, "10.0.0.1", "fd00::2",
        61000, 9, 1)).hasMessageContaining("not of one family");
    assertThatThrownBy(() -> ProbePackets.frame(Protocol.TCP, "0a:58", null, "10.0.0.1", "10.0.0.2", 61000, 9, 1))
        .hasMessageContaining("not a MAC address");
    assertThatThrownBy(() -> ProbePackets.address("db.example")).hasMessageContaining("not an IP address");
  }

  private static int u16(byte[] a, int i) {
    return ((a[i] & 0xff) << 8) | (a[i + 1] & 0xff);
  }
}
