package io.sluice.controller.profile;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.sync.SwitchStatus;
import io.sluice.controller.testing.Ovs;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A profile per switch on real OVS: one bridge keeps the default (ovs) and gets the pipeline; another is given
 * openflow13-generic and gets the stateless pipeline in its three tables; a third is given a profile of the operator's
 * (a file in --profiles) whose two tables fit neither pipeline: it gets one drop-all flow (fail closed), an error names
 * the switch, the profile and what it lacks, and a warning says the switch describes itself as Open vSwitch.
 */
class ProfileIT {
  @TempDir
  Path dir;

  @Test
  void aSwitchWhoseProfileCannotCarryThePipelineIsClosedAndReported() throws Exception {
    Files.writeString(dir.resolve("cluster.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: prf}", "---",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: deny-all, namespace: prf}",
        "spec: {podSelector: {}}", ""));
    long ovsDpid = 0x7e76;
    long hwDpid = 0x7e77;
    long genericDpid = 0x7e78;
    Path profiles = Files.createDirectories(dir.resolve("profiles"));
    Files.writeString(profiles.resolve("acl-only.yaml"), String.join("\n",
        "name: acl-only", "description: an OpenFlow 1.3 switch with a port table and an ACL table",
        "openflow: [\"1.3\"]",
        "capabilities: {conntrack: false, conjunction: false, nicira: false, meters: false, bundles: false, groupTypes: [all]}",
        "tables:",
        "  - {id: 0, name: Classifier, size: 1024, miss: 1, match: [in_port, eth_type]}",
        "  - {id: 1, name: Acl, size: 2048, miss: drop, match: [in_port, eth_type, ip_proto, ipv4_src, ipv4_dst]}", ""));
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of(), null)
        .withProfiles(ProfileChoice.parse(List.of("0x7e77=acl-only", "0x7e78=openflow13-generic"), profiles));
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String a = ovs.bridge("pa", ovsDpid, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      String b = ovs.bridge("pb", hwDpid, "OpenFlow13", rt.openflowPort());
      String c = ovs.bridge("pc", genericDpid, "OpenFlow13", rt.openflowPort());
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      List<SwitchStatus> st = List.of();
      while (System.nanoTime() < deadline) {
        st = rt.switches().statuses();
        if (st.size() == 3 && st.stream().allMatch(s -> s.connected() && s.realizedGeneration() == rt.model().generation())) {
          break;
        }
        Ovs.sleep(50);
      }
      assertThat(st).hasSize(3).allMatch(s -> s.realizedGeneration() == rt.model().generation());
      assertThat(ovs.flows(a).size()).as("the ovs switch has the pipeline").isGreaterThan(20);
      assertThat(ovs.flows(b)).as("the acl-only switch: one flow, drop everything")
          .containsExactly(" cookie=0x5c01000000000000, priority=0 actions=drop");
      assertThat(ovs.flows(c)).as("the generic switch: the stateless pipeline in tables 0-2")
          .anyMatch(f -> f.contains("table=1,") && f.contains("priority=1000,icmp6"))
          .anyMatch(f -> f.contains("priority=1000,arp actions=CONTROLLER:128,goto_table:2"))
          .anyMatch(f -> f.contains("priority=1100,dl_type=0x88cc actions=CONTROLLER:65535"))
          .anyMatch(f -> f.contains("table=2,") && f.contains("priority=1 actions=meter:23556,ALL"))
          .noneMatch(f -> f.contains("ct_state") || f.contains("conj"));

      HttpClient http = HttpClient.newHttpClient();
      String errors = get(http, rt, "/api/v1/errors");
      assertThat(errors).contains("00:00:00:00:00:00:7e:77").contains("profile acl-only")
          .contains("needs conntrack, conjunction").contains("1 Acl").contains("fail closed")
          .doesNotContain("00:00:00:00:00:00:7e:76").doesNotContain("00:00:00:00:00:00:7e:78");
      // per-table use against each switch's profile
      com.fasterxml.jackson.databind.JsonNode switches = new com.fasterxml.jackson.databind.ObjectMapper()
          .readTree(get(http, rt, "/api/v1/switches"));
      com.fasterxml.jackson.databind.JsonNode hw = null;
      com.fasterxml.jackson.databind.JsonNode sw = null;
      for (com.fasterxml.jackson.databind.JsonNode n : switches) {
        if (n.path("datapathId").asText().endsWith("7e:77")) {
          hw = n;
        } else if (n.path("datapathId").asText().endsWith("7e:76")) {
          sw = n;
        }
      }
      assertThat(hw).isNotNull();
      assertThat(hw.path("tables").toString()).as(hw.toString())
          .isEqualTo("[{\"id\":0,\"name\":\"Classifier\",\"flows\":1,\"size\":1024},"
              + "{\"id\":1,\"name\":\"Acl\",\"flows\":0,\"size\":2048}]");
      int perTable = 0;
      for (com.fasterxml.jackson.databind.JsonNode t : sw.path("tables")) {
        perTable += t.path("flows").asInt();
        assertThat(t.path("name").asText()).as(t.toString()).isNotEmpty();
      }
      assertThat(perTable).as("the ovs switch's tables add up to its flows: " + sw)
          .isEqualTo(sw.path("flows").asInt()).isEqualTo(ovs.flows(a).size());
      assertThat(sw.path("tables").toString()).contains("\"id\":40,\"name\":\"IngressRule\"");
      String warnings = "";
      for (long until = System.nanoTime() + Duration.ofSeconds(10).toNanos(); System.nanoTime() < until; Ovs.sleep(100)) {
        warnings = get(http, rt, "/api/v1/warnings");
        if (warnings.contains("7e:77")) {
          break;
        }
      }
      assertThat(warnings).as("the switch says it is Open vSwitch").contains("00:00:00:00:00:00:7e:77")
          .contains("Open vSwitch").contains("the profile is for other switches")
          .doesNotContain("00:00:00:00:00:00:7e:76");
    }
  }

  private static String get(HttpClient http, SluiceRuntime rt, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + rt.httpPort() + path)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }
}
