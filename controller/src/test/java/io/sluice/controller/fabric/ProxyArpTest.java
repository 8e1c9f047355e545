package io.sluice.controller.fabric;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.renderer.fabric.NeighbourProxy;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proxy ARP replies byte for byte: host A (0a:58:0a:49:01:01, 10.73.1.1) asks who has 10.73.3.2, which the model says
 * is 0a:58:0a:49:03:02. The frames are written out field by field here, and read back by tcpdump where it is installed.
 */
class ProxyArpTest {
  static final String ASKER = "0a580a490101";
  static final String TARGET = "0a580a490302";
  static final Map<Long, String> KNOWN = Map.of(NeighbourProxy.ipv4("10.73.3.2"), "0a:58:0a:49:03:02",
      NeighbourProxy.ipv4("10.73.1.1"), "0a:58:0a:49:01:01");

  @TempDir
  Path dir;

  static byte[] hex(String... parts) {
    return HexFormat.of().parseHex(String.join("", parts).replace(" ", ""));
  }

  /** An ARP request as Linux sends it: to broadcast, 42 bytes (switches pad it to 60 on the wire). */
  static byte[] request(String ethDst, String sha, String op, String spa, String tpa) {
    return hex(ethDst, ASKER, "0806", "0001 0800 06 04", op, sha, spa, "000000000000", tpa);
  }

  static byte[] request(String spa, String tpa) {
    return request("ffffffffffff", ASKER, "0001", spa, tpa);
  }

  @Test
  void theReplyIsTheTargetsAnswerToTheAskerPaddedToSixtyBytes() throws Exception {
    ProxyArp.Answer a = ProxyArp.answer(request("0a490101", "0a490302"), KNOWN);
    assertThat(a.refusal()).isNull();
    byte[] expected = hex(
        ASKER, TARGET, "0806", // Ethernet: to the asker, from the target's MAC, ARP
        "0001", "0800", "06", "04", // hardware Ethernet, protocol IPv4, lengths 6 and 4
        "0002", // reply
        TARGET, "0a490302", // sender: the target's MAC and 10.73.3.2
        ASKER, "0a490101", // target: the asker's MAC and 10.73.1.1
        "00".repeat(18)); // padding to 60 bytes
    assertThat(expected).hasSize(60);
    assertThat(HexFormat.of().formatHex(a.frame())).isEqualTo(HexFormat.of().formatHex(expected));
    assertThat(Pcap.decoded(dir, a.frame())).contains("0a:58:0a:49:03:02 > 0a:58:0a:49:01:01, ethertype ARP (0x0806), length 60")
        .contains("Reply 10.73.3.2 is-at 0a:58:0a:49:03:02, length 46");
  }

  @Test
  void aTaggedRequestGetsATaggedReply() {
    byte[] req = hex("ffffffffffff", ASKER, "8100 0064", "0806", "0001 0800 06 04 0001", ASKER, "0a490101",
        "000000000000", "0a490302");
    byte[] reply = ProxyArp.answer(req, KNOWN).frame();
    assertThat(HexFormat.of().formatHex(reply)).isEqualTo(HexFormat.of().formatHex(hex(ASKER, TARGET, "8100 0064",
        "0806", "0001 0800 06 04 0002", TARGET, "0a490302", ASKER, "0a490101", "00".repeat(14))));
  }

  @Test
  void aRequestPaddedByTheSwitchIsAnsweredTheSame() {
    byte[] padded = java.util.Arrays.copyOf(request("0a490101", "0a490302"), 60);
    assertThat(ProxyArp.answer(padded, KNOWN).frame()).isEqualTo(ProxyArp.answer(request("0a490101", "0a490302"),
        KNOWN).frame());
  }

  @Test
  void onlyAWellFormedRequestForAnotherKnownAddressIsAnswered() {
    assertRefused(request("0a490101", "0a490309"), ProxyArp.Refusal.UNKNOWN_TARGET);
    assertRefused(request("0a490302", "0a490302"), ProxyArp.Refusal.GRATUITOUS);
    assertRefused(request("00000000", "0a490302"), ProxyArp.Refusal.PROBE);
    // the asker asking for an address the model says is its own
    assertRefused(request("0a490102", "0a490101"), ProxyArp.Refusal.OWN_ADDRESS);
    assertRefused(request("ffffffffffff", ASKER, "0002", "0a490101", "0a490302"), ProxyArp.Refusal.NOT_REQUEST);
    assertRefused(request("ffffffffffff", ASKER, "0003", "0a490101", "0a490302"), ProxyArp.Refusal.NOT_REQUEST);
    // unicast to someone else's MAC: not what the flow sends here
    assertRefused(request("0a580a490909", ASKER, "0001", "0a490101", "0a490302"), ProxyArp.Refusal.NOT_REQUEST);
    assertThat(ProxyArp.answer(request(TARGET, ASKER, "0001", "0a490101", "0a490302"), KNOWN).frame()).isNotNull();
    // the sender MAC must be the frame's source, and unicast
    assertRefused(request("ffffffffffff", "0a580a490102", "0001", "0a490101", "0a490302"), ProxyArp.Refusal.MALFORMED);
    byte[] multicastSender = request("0a490101", "0a490302");
    multicastSender[6] = 1;
    multicastSender[22] = 1;
    assertRefused(multicastSender, ProxyArp.Refusal.MALFORMED);
    byte[] full = request("0a490101", "0a490302");
    for (int n = 0; n < full.length; n++) {
      assertRefused(java.util.Arrays.copyOf(full, n), ProxyArp.Refusal.MALFORMED);
    }
    byte[] ipv6 = full.clone();
    ipv6[16] = (byte) 0x86;
    ipv6[17] = (byte) 0xdd;
    assertRefused(ipv6, ProxyArp.Refusal.MALFORMED);
    byte[] longer = full.clone();
    longer[19] = 8; // hardware address length 8
    assertRefused(longer, ProxyArp.Refusal.MALFORMED);
    assertRefused(null, ProxyArp.Refusal.MALFORMED);
  }

  private static void assertRefused(byte[] request, ProxyArp.Refusal why) {
    ProxyArp.Answer a = ProxyArp.answer(request, KNOWN);
    assertThat(a.frame()).isNull();
    assertThat(a.refusal()).isEqualTo(why);
  }

}
