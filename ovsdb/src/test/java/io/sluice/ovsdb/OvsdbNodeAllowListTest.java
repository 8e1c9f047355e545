package io.sluice.ovsdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OvsdbNodeAllowListTest {
  @Test
  void readsSystemIdsWithOptionalCertificateNamesCommentsAndBlankLines() {
    OvsdbNodeAllowList l = OvsdbNodeAllowList.parse("nodes.txt", List.of(
        "# rack 1",
        "",
        "node-1   sw id:87c3d478-9f9a-4dae-bcde-9e36bd90ea07  ",
        "\tnode-2 # any certificate, or plain",
        "node-3\tname with  spaces",
        "   # indented comment"));
    assertThat(l.source()).isEqualTo("nodes.txt");
    assertThat(l.entries()).isEqualTo(Map.of(
        "node-1", Optional.of("sw id:87c3d478-9f9a-4dae-bcde-9e36bd90ea07"),
        "node-2", Optional.empty(),
        "node-3", Optional.of("name with  spaces")));
    assertThat(l.namesCertificates()).isTrue();
    assertThat(OvsdbNodeAllowList.parse("f", List.of("node-1", "node-2")).namesCertificates()).isFalse();
  }

  @Test
  void badFilesAreErrorsNamingTheFileAndLine(@TempDir Path dir) throws Exception {
    assertThatThrownBy(() -> OvsdbNodeAllowList.parse("nodes.txt", List.of("node-1", "# x", "node-1 sw id:a")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("nodes.txt line 3: system-id node-1 is listed twice");
    assertThatThrownBy(() -> OvsdbNodeAllowList.parse("nodes.txt", List.of("node-1", "node\u0001x")))
        .hasMessageStartingWith("nodes.txt line 2: control character");
    assertThatThrownBy(() -> OvsdbNodeAllowList.parse("nodes.txt", List.of("# nobody", "")))
        .hasMessage("nodes.txt lists no system-id: no ovsdb-server could be served");
    Path missing = dir.resolve("missing.txt");
    assertThatThrownBy(() -> OvsdbNodeAllowList.read(missing)).hasMessageStartingWith(missing + " cannot be read");
    Path f = Files.writeString(dir.resolve("nodes"), "node-1 sw id:a\nnode-2\n");
    assertThat(OvsdbNodeAllowList.read(f)).isEqualTo(OvsdbNodeAllowList.parse(f.toString(),
        List.of("node-1 sw id:a", "node-2")));
  }

  @Test
  void refusesUnlistedIdsAndWrongOrMissingCertificateNames() {
    OvsdbNodeAllowList l = OvsdbNodeAllowList.parse("nodes.txt", List.of("node-1 sw id:a", "node-2"));
    assertThat(l.refusal("node-1", "sw id:a")).isNull();
    assertThat(l.refusal("node-2", null)).as("no name listed: plain is fine").isNull();
    assertThat(l.refusal("node-2", "anything")).as("no name listed: any certificate").isNull();
    assertThat(l.refusal("node-1", "sw id:b"))
        .isEqualTo("system-id node-1 presented certificate name 'sw id:b', --ovsdb-nodes nodes.txt requires 'sw id:a'");
    assertThat(l.refusal("node-1", null))
        .isEqualTo("system-id node-1 must present certificate name 'sw id:a' (--ovsdb-nodes nodes.txt) but connected "
            + "without TLS");
    assertThat(l.refusal("node-9", "sw id:a")).isEqualTo("system-id node-9 is not in the --ovsdb-nodes list");
    assertThat(l.refusal("", null)).startsWith("no external_ids:system-id");
  }
}
