package io.sluice.renderer.flow;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MatchTest {
  @Test
  void equalMatchesAreEqualWhateverTheBuildOrder() {
    Match a = Match.builder().ipv4().exact(Field.IP_PROTO, 6).exact(Field.TCP_DST, 80).exact(Field.IPV4_DST, 0x0a000001).build();
    Match b = Match.builder().exact(Field.IPV4_DST, 0x0a000001).ipv4().exact(Field.IP_PROTO, 6).exact(Field.TCP_DST, 80).build();
    assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
  }

  @Test
  void policyShapedMatchesHashAlmostAllDistinct() {
    Set<Integer> hashes = new HashSet<>();
    int n = 0;
    for (int i = 0; i < 50_000; i++, n += 2) {
      long ip = 0x0a000000L | i;
      hashes.add(Match.builder().ipv4().exact(Field.IPV4_DST, ip).build().hashCode());
      hashes.add(Match.builder().ipv4().exact(Field.IP_PROTO, 6).exact(Field.IPV4_DST, ip).exact(Field.TCP_DST, 8080).build()
          .hashCode());
    }
    for (int i = 0; i < 100_000; i++, n++) {
      // two fields varying together: a sum of per-field hashes maps many (address, port) pairs to one hash
      hashes.add(Match.builder().ipv4().exact(Field.IP_PROTO, 6).exact(Field.IPV4_SRC, 0x0a000000L + (i >>> 4))
          .exact(Field.TCP_DST, 1000 + (i & 15)).build().hashCode());
    }
    assertThat(hashes.size()).isGreaterThan(n * 99 / 100);
  }
}
