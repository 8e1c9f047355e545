package io.sluice.controller.fabric;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proxy ND advertisements byte for byte: host A (0a:58:0a:49:01:01, fd00:74::1:1) solicits fd00:74::2:1, which the
 * model says is 0a:58:0a:49:02:01. The frames are written out field by field here, their checksums computed by a plain
 * sum written for this test, and read back by tcpdump (which checks the checksum) where it is installed.
 */
class ProxyNdTest {
  static final String ASKER = "0a580a490101";
  static final String TARGET_MAC = "0a580a490201";
  static final String ASKER_IP = "fd000074000000000000000000010001";
  static final String TARGET_IP = "fd000074000000000000000000020001";
  static final String SOLICITED = "ff0200000000000000000001ff020001";
  static final Map<BigInteger, String> KNOWN = Map.of(new BigInteger(TARGET_IP, 16), "0a:58:0a:49:02:01",
      new BigInteger(ASKER_IP, 16), "0a:58:0a:49:01:01");

  @TempDir
  Path dir;

  static byte[] hex(String... parts) {
    return HexFormat.of().parseHex(String.join("", parts).replace(" ", ""));
  }

  /** The one's-complement sum, written out plainly: the ICMPv6 checksum of {@code icmp} between two addresses. */
  static String checksum(String src, String dst, byte[] icmp) {
    byte[] all = new byte[40 + icmp.length];
    System.arraycopy(hex(src, dst), 0, all, 0, 32);
    all[35] = (byte) icmp.length;
    all[39] = 58;
    System.arraycopy(icmp, 0, all, 40, icmp.length);
    long sum = 0;
    for (int i = 0; i < all.length; i += 2) {
      sum += (all[i] & 0xff) * 256 + (i + 1 < all.length ? all[i + 1] & 0xff : 0);
    }
    while (sum > 0xffff) {
      sum = (sum & 0xffff) + (sum >> 16);
    }
    return String.format("%04x", 0xffff - sum);
  }

  /** A solicitation as Linux sends it: to the solicited-node address, with the source link-layer address option. */
  static byte[] solicitation(String ethDst, String ipDst, String src, String target, String options) {
    byte[] body = hex("87 00 0000 00000000", target, options);
    String sum = checksum(src, ipDst, body);
    body[2] = (byte) Integer.parseInt(sum.substring(0, 2), 16);
    body[3] = (byte) Integer.parseInt(sum.substring(2), 16);
    return hex(ethDst, ASKER, "86dd", "60000000", String.format("%04x", body.length), "3a ff", src, ipDst,
        HexFormat.of().formatHex(body));
  }

  static byte[] solicitation() {
    return solicitation("3333ff020001", SOLICITED, ASKER_IP, TARGET_IP, "0101" + ASKER);
  }

  @Test
  void theAdvertisementIsTheTargetsSolicitedAnswerWithItsLinkLayerAddress() throws Exception {
    ProxyArp.Answer a = ProxyNd.answer(solicitation(), KNOWN);
    assertThat(a.refusal()).isNull();
    byte[] icmp = hex("88 00 0000", "60000000", TARGET_IP, "0201", TARGET_MAC); // solicited, override; TLLA option
    String sum = checksum(TARGET_IP, ASKER_IP, icmp);
    byte[] expected = hex(
        ASKER, TARGET_MAC, "86dd", // Ethernet: to the asker, from the target's MAC, IPv6
        "60000000", "0020", "3a", "ff", // version 6, payload 32 bytes, ICMPv6, hop limit 255
        TARGET_IP, ASKER_IP, // from the target to the soliciting address
        "88 00", sum, "60000000", TARGET_IP, "02 01", TARGET_MAC);
    assertThat(expected).hasSize(86);
    assertThat(HexFormat.of().formatHex(a.frame())).isEqualTo(HexFormat.of().formatHex(expected));
    assertThat(Pcap.decoded(dir, a.frame(), "-vv")).contains("0a:58:0a:49:02:01 > 0a:58:0a:49:01:01, ethertype IPv6 (0x86dd), length 86")
        .contains("fd00:74::2:1 > fd00:74::1:1: [icmp6 sum ok] ICMP6, neighbor advertisement, length 32, "
            + "tgt is fd00:74::2:1, Flags [solicited, override]")
        .contains("destination link-address option (2), length 8 (1): 0a:58:0a:49:02:01");
  }

  @Test
  void aUnicastSolicitationToTheTargetAndOneWithoutOptionsAreAnswered() {
    assertThat(ProxyNd.answer(solicitation(TARGET_MAC, TARGET_IP, ASKER_IP, TARGET_IP, ""), KNOWN).frame())
        .isNotNull();
    assertThat(ProxyNd.answer(solicitation("3333ff020001", SOLICITED, ASKER_IP, TARGET_IP, ""), KNOWN).frame())
        .isEqualTo(ProxyNd.answer(solicitation(), KNOWN).frame());
  }

  @Test
  void onlyAWellFormedSolicitationForAnotherKnownAddressIsAnswered() {
    String unknown = "fd000074000000000000000000090009";
    assertRefused(solicitation("3333ff090009", "ff0200000000000000000001ff090009", ASKER_IP, unknown, ""),
        ProxyArp.Refusal.UNKNOWN_TARGET);
    // duplicate address detection (from ::) is not answered; with a source link-layer address it is malformed
    assertRefused(solicitation("3333ff020001", SOLICITED, "00".repeat(16), TARGET_IP, ""), ProxyArp.Refusal.PROBE);
    assertRefused(solicitation("3333ff020001", SOLICITED, "00".repeat(16), TARGET_IP, "0101" + ASKER),
        ProxyArp.Refusal.MALFORMED);
    // the asker soliciting its own address, or an address the model says is its own
    assertRefused(solicitation("3333ff020001", SOLICITED, TARGET_IP, TARGET_IP, ""), ProxyArp.Refusal.OWN_ADDRESS);
    assertRefused(solicitation("3333ff010001", "ff0200000000000000000001ff010001", TARGET_IP, ASKER_IP, ""),
        ProxyArp.Refusal.OWN_ADDRESS);
    // to the wrong solicited-node group, or a MAC that does not carry it
    assertRefused(solicitation("3333ff090009", "ff0200000000000000000001ff090009", ASKER_IP, TARGET_IP, ""),
        ProxyArp.Refusal.NOT_REQUEST);
    assertRefused(solicitation("3333ff090009", SOLICITED, ASKER_IP, TARGET_IP, ""), ProxyArp.Refusal.NOT_REQUEST);
    // a source link-layer address that is not the frame's source; an option of length 0; one past the end
    assertRefused(solicitation("3333ff020001", SOLICITED, ASKER_IP, TARGET_IP, "0101" + TARGET_MAC),
        ProxyArp.Refusal.MALFORMED);
    assertRefused(solicitation("3333ff020001", SOLICITED, ASKER_IP, TARGET_IP, "0100" + ASKER),
        ProxyArp.Refusal.MALFORMED);
    assertRefused(solicitation("3333ff020001", SOLICITED, ASKER_IP, TARGET_IP, "0e02" + "00".repeat(6)),
        ProxyArp.Refusal.MALFORMED);
    // a wrong checksum, a wrong hop limit, a code, an advertisement
    byte[] bad = solicitation();
    bad[14 + 40 + 3] ^= 1;
    assertRefused(bad, ProxyArp.Refusal.MALFORMED);
    byte[] hop = solicitation();
    hop[14 + 7] = 64;
    assertRefused(hop, ProxyArp.Refusal.MALFORMED);
    byte[] code = solicitation();
    code[14 + 41] = 1;
    assertRefused(code, ProxyArp.Refusal.MALFORMED);
    byte[] advert = solicitation();
    advert[14 + 40] = (byte) 136;
    assertRefused(advert, ProxyArp.Refusal.NOT_REQUEST);
    byte[] full = solicitation();
    for (int n = 0; n < full.length; n++) {
      assertRefused(Arrays.copyOf(full, n), ProxyArp.Refusal.MALFORMED);
    }
    assertRefused(null, ProxyArp.Refusal.MALFORMED);
  }

  private static void assertRefused(byte[] request, ProxyArp.Refusal why) {
    ProxyArp.Answer a = ProxyNd.answer(request, KNOWN);
    assertThat(a.frame()).isNull();
    assertThat(a.refusal()).isEqualTo(why);
  }

}
