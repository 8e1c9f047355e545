package io.sluice.controller.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BytesTest {

  @Test
  void equalBytesAreEqualWithEqualHashes() {
    Bytes a = Bytes.fromHex("80000a02 0800 80001401 06");
    Bytes b = Bytes.of(a.toArray());
    assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
    assertThat(Bytes.fromHex("00")).isNotEqualTo(Bytes.fromHex("0000"));
  }

  @Test
  void sharedReturnsAnEqualEarlierInstanceOrACopy() {
    byte[] a = {9, 0, 1, 0, 8, 0x5a, 0, 0, 0, 0, 9};
    Bytes x = Bytes.shared(a, 1, 9);
    assertThat(x).isEqualTo(Bytes.of(a, 1, 9));
    assertThat(Bytes.shared(a.clone(), 1, 9)).isSameAs(x);
    a[2] = 7; // the shared instance copied its bytes
    assertThat(x).isEqualTo(Bytes.fromHex("000100085a00000000"));
    assertThat(Bytes.shared(a, 0, 0)).isSameAs(Bytes.EMPTY);
  }

  @Test
  void matchKeysDifferingInAFewBytesRarelyShareAHash() {
    // ip src and tcp dst varied as in a 100,000-flow policy table: a base-31 polynomial hash collides heavily here
    Set<Integer> hashes = new HashSet<>();
    int n = 100_000;
    for (int i = 0; i < n; i++) {
      int ip = 0x0a000000 + (i >>> 4);
      int port = 1000 + (i & 15);
      Bytes k = Bytes.fromHex(String.format("80000a020800 80001401 06 80001604%08x 80001c02%04x", ip, port));
      hashes.add(k.hashCode());
    }
    assertThat(hashes.size()).isGreaterThan(n - 10);
  }
}
