package io.sluice.watcher.convert;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IpTest {
  @ParameterizedTest
  @CsvSource({
      "10.0.0.1, 10.0.0.1",
      "010.000.000.001, 10.0.0.1",
      "FD00:0:0:0:0:0:0:1, fd00::1",
      "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",
      "2001:0db8:0:1:1:1:1:1, 2001:db8:0:1:1:1:1:1",
      "0:0:0:0:0:0:0:0, ::",
      "::ffff:10.0.0.1, 10.0.0.1",
      "::ffff:a00:1, 10.0.0.1",
      "::10.0.0.1, ::a00:1",
      "fe80:0:0:0:1:0:0:0, fe80::1:0:0:0",
  })
  void canonicalIsWhatTheApiServerPrints(String given, String printed) {
    assertThat(Ip.canonical(given)).isEqualTo(printed);
  }

  @ParameterizedTest
  @CsvSource({"10.0.0.256", "node-1", "fd00::1::2", "''"})
  void canonicalOfANonAddressIsNull(String given) {
    assertThat(Ip.canonical(given)).isNull();
  }
}
