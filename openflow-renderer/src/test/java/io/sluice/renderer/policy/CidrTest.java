package io.sluice.renderer.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class CidrTest {
  @Test
  void exceptBlocksBecomeCidrDifference() {
    List<Cidr> left = Cidr.parse("10.0.0.0/16").subtract(List.of(Cidr.parse("10.0.1.0/24")));
    assertThat(left).extracting(Cidr::toString).containsExactly(
        "10.0.0.0/24", "10.0.2.0/23", "10.0.4.0/22", "10.0.8.0/21", "10.0.16.0/20", "10.0.32.0/19", "10.0.64.0/18", "10.0.128.0/17");
  }

  @Test
  void theDifferenceCoversExactlyTheAddressesNotExcepted() {
    Cidr all = Cidr.parse("192.168.0.0/20");
    List<Cidr> holes = List.of(Cidr.parse("192.168.3.0/24"), Cidr.parse("192.168.8.128/25"), Cidr.parse("192.168.8.0/26"));
    List<Cidr> left = all.subtract(holes);
    long covered = left.stream().mapToLong(c -> 1L << (32 - c.prefix())).sum();
    assertThat(covered).isEqualTo(4096 - 256 - 128 - 64);
    for (Cidr c : left) {
      assertThat(holes).noneMatch(h -> h.overlaps(c));
    }
  }

  @Test
  void ipv6WorksTheSame() {
    assertThat(Cidr.parse("fd00::/64").subtract(List.of(Cidr.parse("fd00::/65")))).extracting(Cidr::toString)
        .containsExactly("fd00:0:0:0:8000:0:0:0/65");
  }

  @Test
  void hostBitsAreCleared() {
    assertThat(Cidr.parse("10.1.2.3/8").toString()).isEqualTo("10.0.0.0/8");
    assertThatThrownBy(() -> Cidr.parse("nonsense/8")).hasMessageContaining("not an IP address");
  }

  @Test
  void portRangesBecomeFewValueMaskPairs() {
    assertThat(PortRanges.cover(80, 80)).containsExactly(new PortRanges.Masked(80, 0xffff));
    assertThat(PortRanges.cover(1000, 1999)).hasSizeLessThanOrEqualTo(10);
    assertThat(PortRanges.cover(0, 65535)).containsExactly(new PortRanges.Masked(0, 0));
    for (int[] r : new int[][] {{1000, 1999}, {1, 65535}, {32768, 60999}, {5, 6}}) {
      List<PortRanges.Masked> m = PortRanges.cover(r[0], r[1]);
      for (int p = 0; p <= 65535; p++) {
        int port = p;
        boolean in = m.stream().anyMatch(x -> (port & x.mask()) == x.value());
        assertThat(in).as("port %d in %d-%d", p, r[0], r[1]).isEqualTo(p >= r[0] && p <= r[1]);
      }
    }
  }
}
