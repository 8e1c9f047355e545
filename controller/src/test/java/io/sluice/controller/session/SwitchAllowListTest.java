package io.sluice.controller.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.projectfloodlight.openflow.types.DatapathId;

class SwitchAllowListTest {
  private static final String CN = "sw id:87c3d478-9f9a-4dae-bcde-9e36bd90ea07";

  @Test
  void readsDatapathIdsInEveryNotationWithOptionalCertificateNames() {
    SwitchAllowList l = SwitchAllowList.parse("f", List.of(
        "# rack 1",
        "00:00:00:00:00:00:d0:d1  " + CN + "   # trailing comment",
        "",
        "   0xD0D2",
        "53459 other name"));
    assertThat(l.entries()).containsOnlyKeys(0xd0d1L, 0xd0d2L, 53459L);
    assertThat(l.entries().get(0xd0d1L)).contains(CN);
    assertThat(l.entries().get(0xd0d2L)).isEmpty();
    assertThat(l.entries().get(53459L)).contains("other name");
    assertThat(SwitchAllowList.parse("f", List.of("0xffffffffffffffff")).entries()).containsKey(-1L);
  }

  @Test
  void refusesUnlistedDatapathsAndWrongOrMissingCertificateNames() {
    SwitchAllowList l = SwitchAllowList.parse("f", List.of("0xd0d1 " + CN, "0xd0d2"));
    assertThat(l.refusal(DatapathId.of(0xd0d1), CN)).isNull();
    assertThat(l.refusal(DatapathId.of(0xd0d2), null)).as("listed without a name: any peer, TLS or not").isNull();
    assertThat(l.refusal(DatapathId.of(0xd0d2), "anyone")).isNull();
    assertThat(l.refusal(DatapathId.of(0xd0d3), CN)).contains("00:00:00:00:00:00:d0:d3").contains("not listed");
    assertThat(l.refusal(DatapathId.of(0xd0d1), "sw id:other")).contains("'sw id:other'").contains("requires '" + CN);
    assertThat(l.refusal(DatapathId.of(0xd0d1), null)).contains("without TLS");
  }

  @Test
  void aBadLineIsAnErrorNamingFileAndLine() {
    assertThatThrownBy(() -> SwitchAllowList.parse("sw.txt", List.of("0x1", "00:00:d0:d1")))
        .hasMessageContaining("sw.txt line 2").hasMessageContaining("'00:00:d0:d1' is not a datapath id");
    assertThatThrownBy(() -> SwitchAllowList.parse("sw.txt", List.of("0x")))
        .hasMessageContaining("sw.txt line 1");
    assertThatThrownBy(() -> SwitchAllowList.parse("sw.txt", List.of("000000000000d0d1")))
        .as("bare hex is not guessed at").hasMessageContaining("0xd0d1");
    assertThatThrownBy(() -> SwitchAllowList.parse("sw.txt", List.of("0xd0d1", "# x", "53457 name")))
        .hasMessageContaining("sw.txt line 3").hasMessageContaining("listed twice");
  }
}
