package io.sluice.controller.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.sync.SwitchStatus;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.Sh;
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
 * A policy whose rule the switch refuses (its IngressRule table is full) must fail closed: the rule is withheld,
 * everything else — the selected pod's default deny included — applies, and /api/v1/policies says so.
 */
class FailClosedIT {
  @TempDir
  Path dir;

  @Test
  void aRuleTheSwitchRefusesLeavesItsPodsIsolatedAndIsReported() throws Exception {
    Files.writeString(dir.resolve("all.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: shop}", "---",
        "apiVersion: v1", "kind: Pod", "metadata: {name: web, namespace: shop, labels: {app: web}}",
        "spec: {containers: [{name: c, image: x}]}", "status: {podIP: 10.72.0.1}", "---",
        "apiVersion: v1", "kind: Pod", "metadata: {name: db, namespace: shop, labels: {app: db}}",
        "spec: {containers: [{name: c, image: x}]}", "status: {podIP: 10.72.0.2}", "---",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: db-allow, namespace: shop}",
        "spec: {podSelector: {matchLabels: {app: db}}, ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 7000}]}]}",
        ""));
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of("unix:/var/run/openvswitch/db.sock"), null);
    Process server = null;
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String br = ovs.bridge("fc", 0x7f01, "OpenFlow13,OpenFlow14,OpenFlow15", 0);
      // table 40 takes two flows: its miss flow and db's default deny; the rule's flows do not fit
      Sh.run("ovs-vsctl", "--", "--id=@ft", "create", "Flow_Table", "flow_limit=2", "overflow_policy=refuse",
          "--", "set", "Bridge", br, "flow_tables:40=@ft");
      ovs.setController(br, rt.openflowPort());
      ovs.host(br, "web", "10.72.0.1/24", "0a:58:0a:48:00:01", "shop", "web");
      ovs.host(br, "db", "10.72.0.2/24", "0a:58:0a:48:00:02", "shop", "db");
      server = new ProcessBuilder("ip", "netns", "exec", ovs.name("db"), "nc", "-lk", "-p", "7000").start();

      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      SwitchStatus st = null;
      while (System.nanoTime() < deadline) {
        List<SwitchStatus> all = rt.switches().statuses();
        st = all.isEmpty() ? null : all.get(0);
        if (st != null && rt.model().snapshot().bindings().keySet().stream().filter(r -> r.namespace().equals("shop")).count() == 2 && st.connected()
            && st.realizedGeneration() == rt.model().generation() && !rt.switches().withheldRules().isEmpty()) {
          break;
        }
        Ovs.sleep(20);
      }
      assertThat(rt.switches().withheldRules()).as("withheld rules; status %s", st).isNotEmpty();
      assertThat(st.realizedGeneration()).isEqualTo(rt.model().generation());
      Sh.run("ovs-appctl", "revalidator/purge");

      assertThat(ovs.inHost("web", 10, "nc", "-z", "-w", "1", "10.72.0.2", "7000").code())
          .as("web -> db:7000 must be denied: the allowing rule could not be installed (fail closed)").isNotZero();
      assertThat(ovs.flows(br)).anyMatch(l -> l.contains("table=40") && l.contains("nw_dst=10.72.0.2 actions=meter:23554,CONTROLLER:128"));

      HttpResponse<String> policies = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + rt.httpPort() + "/api/v1/policies")).build(), HttpResponse.BodyHandlers.ofString());
      JsonNode rule = new ObjectMapper().readTree(policies.body()).get(0).get("rules").get(0);
      assertThat(rule.get("realized").asBoolean()).as(policies.body()).isFalse();
      assertThat(rule.get("error").asText()).contains("stay isolated").contains("TABLE_FULL");
      // and on /api/v1/errors, with the policy and the rule's field (the text Kubernetes Events carry)
      HttpResponse<String> errors = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + rt.httpPort() + "/api/v1/errors")).build(), HttpResponse.BodyHandlers.ofString());
      JsonNode err = new ObjectMapper().readTree(errors.body());
      assertThat(err).as(errors.body()).hasSize(1);
      assertThat(err.get(0).get("file").asText()).isEqualTo("switch");
      assertThat(err.get(0).get("object").asText()).startsWith("NetworkPolicy shop/");
      assertThat(err.get(0).get("field").asText()).isEqualTo("spec.ingress[0]");
      assertThat(err.get(0).get("message").asText()).contains("TABLE_FULL").contains("stay isolated");
    } finally {
      if (server != null) {
        server.destroyForcibly();
      }
    }
  }
}
