package io.sluice.controller.profile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.renderer.pipeline.Capabilities;
import io.sluice.renderer.pipeline.PipelineProfile;
import io.sluice.renderer.pipeline.Table;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shipped profile files, and what a bad one is told. */
class ProfilesTest {
  @TempDir
  Path dir;

  @Test
  void theOvsFileDeclaresExactlyTheTablesTheCompilerUses() {
    Profiles.Declared d = Profiles.builtIn("ovs");
    PipelineProfile compiler = PipelineProfile.ovs();
    assertThat(d.profile().tables().keySet()).isEqualTo(compiler.tables().keySet());
    for (Table t : compiler.tables().values()) {
      assertThat(d.profile().tables().get(t.id())).as("table %d", t.id()).isEqualTo(t);
    }
    assertThat(d.profile().capabilities()).isEqualTo(Capabilities.OVS);
    assertThat(d.expectHardware()).isEqualTo("Open vSwitch");
  }

  @Test
  void aCopyOfTheOvsFileWithoutBundlesStillCarriesThePipelineOneWithoutConntrackDoesNot() throws Exception {
    String ovs;
    try (var in = getClass().getResourceAsStream("/io/sluice/renderer/profiles/ovs.yaml")) {
      ovs = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    Files.writeString(dir.resolve("ovs-unbundled.yaml"), ovs.replace("name: ovs\n", "name: ovs-unbundled\n")
        .replace("bundles: true", "bundles: false"));
    Files.writeString(dir.resolve("ovs-stateless.yaml"), ovs.replace("name: ovs\n", "name: ovs-stateless\n")
        .replace("conntrack: true", "conntrack: false"));
    var all = Profiles.all(dir);
    assertThat(ProfileChoice.carriesOvsPipeline(Profiles.builtIn("ovs").profile())).isTrue();
    assertThat(ProfileChoice.carriesOvsPipeline(all.get("ovs-unbundled").profile())).isTrue();
    assertThat(all.get("ovs-unbundled").profile().capabilities().bundles()).isFalse();
    assertThat(ProfileChoice.carriesOvsPipeline(all.get("ovs-stateless").profile())).isFalse();
    assertThat(ProfileChoice.carriesOvsPipeline(Profiles.builtIn("openflow13-generic").profile())).isFalse();
  }

  @Test
  void theHardwareProfilesLackWhatHardwareLacks() {
    Profiles.Declared generic = Profiles.builtIn("openflow13-generic");
    assertThat(generic.openflow()).containsExactly("1.3");
    assertThat(generic.profile().capabilities().missing(Capabilities.Feature.NETWORK_POLICY))
        .containsExactly("conntrack", "conjunction");
    assertThat(generic.profile().tables().values()).allMatch(t -> t.size() < Table.UNLIMITED);
    Profiles.Declared single = Profiles.builtIn("openflow13-single-table");
    assertThat(single.profile().tables()).containsOnlyKeys(0);
    assertThat(single.profile().capabilities().missing(Capabilities.Feature.SERVICES))
        .contains("conntrack", "nicira", "select groups", "meters");
    assertThat(Profiles.all(null)).containsOnlyKeys(Profiles.BUILT_IN);
  }

  @Test
  void aBadFileIsRefusedNamingTheFileAndTheField() throws Exception {
    Path f = dir.resolve("tor.yaml");
    String good = String.join("\n", "name: tor", "capabilities: {conntrack: false, conjunction: false, nicira: false,"
        + " meters: false, bundles: false, groupTypes: [all]}", "tables:",
        "  - {id: 0, name: T, size: 100, miss: drop, match: [in_port, eth_type]}", "");
    Files.writeString(f, good);
    assertThat(Profiles.read(f).profile().tables().get(0).size()).isEqualTo(100);

    Files.writeString(f, good.replace("eth_type", "eth_typo"));
    assertThatThrownBy(() -> Profiles.read(f)).hasMessageContaining("tor.yaml: tables[0].match: eth_typo: unknown field");
    Files.writeString(f, good.replace("miss: drop", "miss: 7"));
    assertThatThrownBy(() -> Profiles.read(f)).hasMessageContaining("tor.yaml").hasMessageContaining("miss goes to table 7");
    Files.writeString(f, good.replace("meters: false, ", ""));
    assertThatThrownBy(() -> Profiles.read(f)).hasMessageContaining("tor.yaml: capabilities.meters: required");
    Files.writeString(f, good.replace("[all]", "[ecmp]"));
    assertThatThrownBy(() -> Profiles.read(f)).hasMessageContaining("capabilities.groupTypes: group type ecmp");
    Files.writeString(f, good.replace("size: 100", "size: 0"));
    assertThatThrownBy(() -> Profiles.read(f)).hasMessageContaining("tables[0]").hasMessageContaining("size 0");
    Files.writeString(f, good + "colour: blue\n");
    assertThatThrownBy(() -> Profiles.read(f)).hasMessageContaining("colour: unknown field");
    assertThatThrownBy(() -> Profiles.builtIn("nope")).hasMessageContaining("no profile named nope");
  }
}
