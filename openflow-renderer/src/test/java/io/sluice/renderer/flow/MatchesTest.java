package io.sluice.renderer.flow;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MatchesTest {
  @Test
  void masksCombineBitByBit() {
    Match a = Match.builder().ipv4().masked(Field.IPV4_DST, 0x0a4d0000L, 0xffff0000L).build();
    Match b = Match.builder().ipv4().exact(Field.IPV4_DST, 0x0a4d0203L).exact(Field.IP_PROTO, 6).build();
    assertThat(Matches.intersect(a, b)).isEqualTo(b);
    Match port = Match.builder().ipv4().exact(Field.IP_PROTO, 6).masked(Field.TCP_DST, 0x8000, 0x8000).build();
    Match range = Match.builder().ipv4().exact(Field.IP_PROTO, 6).masked(Field.TCP_DST, 0x9000, 0xf000).build();
    assertThat(Matches.intersect(port, range)).isEqualTo(range);
    assertThat(Matches.intersect(port, Match.builder().ipv4().exact(Field.IP_PROTO, 6).masked(Field.TCP_DST, 0x1000, 0xf000)
        .build())).isNull();
  }

  @Test
  void conflictingValuesOrProtocolsMatchNothing() {
    Match v4 = Match.builder().ipv4().build();
    Match v6 = Match.builder().ipv6().build();
    assertThat(Matches.intersect(v4, v6)).isNull();
    Match tcp = Match.builder().ipv4().exact(Field.IP_PROTO, 6).exact(Field.TCP_DST, 80).build();
    Match udp = Match.builder().ipv4().exact(Field.IP_PROTO, 17).exact(Field.UDP_DST, 80).build();
    assertThat(Matches.intersect(tcp, udp)).isNull();
    Match tcpDst = Match.builder().ipv4().exact(Field.IP_PROTO, 6).exact(Field.TCP_DST, 80).build();
    Match udpSrc = Match.builder().ipv4().exact(Field.IP_PROTO, 17).exact(Field.UDP_SRC, 80).build();
    assertThat(Matches.intersect(tcpDst, udpSrc)).isNull();
  }

  @Test
  void theEmptyMatchIsTheIdentity() {
    Match m = Match.builder().exact(Field.IN_PORT, 3).build();
    assertThat(Matches.intersect(Match.ALL, m)).isSameAs(m);
    assertThat(Matches.intersect(m, Match.ALL)).isSameAs(m);
    assertThat(Matches.intersect(m, Match.builder().ipv4().build()))
        .isEqualTo(Match.builder().exact(Field.IN_PORT, 3).ipv4().build());
  }
}
