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
 * A profile per switch on real OVS: one bridge keeps the default (ovs) and gets the pipeline; the other is given
 * openflow13-generic, which cannot carry it: it gets one drop-all flow (fail closed), an error names the switch, the
 * profile and what it lacks, and a warning says the switch describes itself as Open vSwitch.
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
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of(), null)
        .withProfiles(ProfileChoice.parse(List.of("0x7e77=openflow13-generic"), null));
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String a = ovs.bridge("pa", ovsDpid, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      String b = ovs.bridge("pb", hwDpid, "OpenFlow13", rt.openflowPort());
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      List<SwitchStatus> st = List.of();
      while (System.nanoTime() < deadline) {
        st = rt.switches().statuses();
        if (st.size() == 2 && st.stream().allMatch(s -> s.connected() && s.realizedGeneration() == rt.model().generation())) {
          break;
        }
        Ovs.sleep(50);
      }
      assertThat(st).hasSize(2).allMatch(s -> s.realizedGeneration() == rt.model().generation());
      assertThat(ovs.flows(a).size()).as("the ovs switch has the pipeline").isGreaterThan(20);
      assertThat(ovs.flows(b)).as("the generic switch: one flow, drop everything")
          .containsExactly(" cookie=0x5c01000000000000, priority=0 actions=drop");

      HttpClient http = HttpClient.newHttpClient();
      String errors = get(http, rt, "/api/v1/errors");
      assertThat(errors).contains("00:00:00:00:00:00:7e:77").contains("profile openflow13-generic")
          .contains("needs conntrack, conjunction").contains("fail closed").doesNotContain("00:00:00:00:00:00:7e:76");
      // per-table use against each switch's profile
      com.fasterxml.jackson.databind.JsonNode switches = new com.fasterxml.jackson.databind.ObjectMapper()
          .readTree(get(http, rt, "/api/v1/switches"));
      com.fasterxml.jackson.databind.JsonNode hw = null;
      com.fasterxml.jackson.databind.JsonNode sw = null;
      for (com.fasterxml.jackson.databind.JsonNode n : switches) {
        if (n.path("datapathId").asText().endsWith("7e:77")) {
          hw = n;
        } else {
          sw = n;
        }
      }
      assertThat(hw).isNotNull();
      assertThat(hw.path("tables").toString()).as(hw.toString())
          .isEqualTo("[{\"id\":0,\"name\":\"Classifier\",\"flows\":1,\"size\":1024},"
              + "{\"id\":1,\"name\":\"Policy\",\"flows\":0,\"size\":2048},"
              + "{\"id\":2,\"name\":\"Forwarding\",\"flows\":0,\"size\":8192}]");
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
