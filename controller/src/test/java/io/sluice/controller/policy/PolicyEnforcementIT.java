package io.sluice.controller.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.sync.SwitchStatus;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.Sh;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NetworkPolicy on real traffic: manifests in a watched directory, pods as namespace hosts bound through OVSDB,
 * TCP probes with nc. Covers a named port, a port range, a namespace selector, stateful replies, and a policy
 * change applied mid-test.
 */
class PolicyEnforcementIT {
  @TempDir
  Path dir;

  private static String pod(String ns, String name, String ip, String labels, String ports) {
    return String.join("\n", "apiVersion: v1", "kind: Pod",
        "metadata: {name: " + name + ", namespace: " + ns + ", labels: {" + labels + "}}",
        "spec: {containers: [{name: c, image: x, ports: [" + ports + "]}]}",
        "status: {podIP: " + ip + "}", "---", "");
  }

  private static final String DB_POLICY = String.join("\n",
      "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: db-allow, namespace: shop}",
      "spec:", "  podSelector: {matchLabels: {app: db}}", "  ingress:",
      "  - from: [{podSelector: {matchLabels: {app: web}}}]", "    ports: [{port: pg}]",
      "  - from: [{podSelector: {matchLabels: {app: web}}}, {namespaceSelector: {matchLabels: {team: ops}}}]",
      "    ports: [{port: 9000, endPort: 9007}]", "");

  private static final String WEB_EGRESS = String.join("\n",
      "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: web-egress, namespace: shop}",
      "spec:", "  podSelector: {matchLabels: {app: web}}", "  policyTypes: [Egress]", "  egress:",
      "  - to: [{podSelector: {matchLabels: {app: db}}}]", "");

  @Test
  void policiesAreEnforcedOnRealTrafficAndChangesApplyMidTest() throws Exception {
    Files.writeString(dir.resolve("ns.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: shop, labels: {team: shop}}", "---",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: ops, labels: {team: ops}}", ""));
    Files.writeString(dir.resolve("pods.yaml"),
        pod("shop", "web", "10.71.0.1", "app: web", "{name: http, containerPort: 80}")
        + pod("shop", "db", "10.71.0.2", "app: db", "{name: pg, containerPort: 5432}")
        + pod("ops", "probe", "10.71.0.3", "app: probe", "{name: http, containerPort: 80}"));
    Files.writeString(dir.resolve("policy.yaml"), DB_POLICY);
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of("unix:/var/run/openvswitch/db.sock"), null);
    List<Process> servers = new ArrayList<>();
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      long dpid = 0x7e01;
      String br = ovs.bridge("pe", dpid, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      ovs.host(br, "web", "10.71.0.1/24", "0a:58:0a:47:00:01", "shop", "web");
      ovs.host(br, "db", "10.71.0.2/24", "0a:58:0a:47:00:02", "shop", "db");
      ovs.host(br, "prb", "10.71.0.3/24", "0a:58:0a:47:00:03", "ops", "probe");
      for (String[] s : new String[][] {{"db", "5432"}, {"db", "9003"}, {"db", "9100"}, {"web", "80"}, {"prb", "80"}}) {
        servers.add(new ProcessBuilder("ip", "netns", "exec", ovs.name(s[0]), "nc", "-lk", "-p", s[1]).start());
      }
      awaitRealized(rt, 3);

      Map<String, Boolean> expected = new LinkedHashMap<>();
      expected.put("web db 5432", true);      // named port pg, from app=web
      expected.put("prb db 5432", false);     // ops may not use pg
      expected.put("prb db 9003", true);      // ops namespace, port range 9000-9007
      expected.put("web db 9003", true);
      expected.put("web db 9100", false);     // outside the range
      expected.put("db web 80", true);        // web is not isolated
      expected.put("prb web 80", true);
      expected.put("web prb 80", true);
      assertMatrix(ovs, expected);

      // per-rule counters read back from the switch: rule 0 (pg) and rule 1 (range) of db-allow both allowed traffic.
      // The API answers from the counters last read (a read older than a second starts a new one in the background).
      var http = java.net.http.HttpClient.newHttpClient();
      String body = null;
      com.fasterxml.jackson.databind.JsonNode rules = null;
      long countersDeadline = System.nanoTime() + java.time.Duration.ofSeconds(10).toNanos();
      do {
        if (body != null) {
          Thread.sleep(100);
        }
        body = http.send(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create("http://127.0.0.1:" + rt.httpPort() + "/api/v1/policies")).build(),
            java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        rules = new com.fasterxml.jackson.databind.ObjectMapper().readTree(body).get(0).get("rules");
      } while ((rules.get(0).get("packets").asLong() <= 0 || rules.get(1).get("packets").asLong() <= 0)
          && System.nanoTime() < countersDeadline);
      assertThat(rules.get(0).get("packets").asLong()).as(body).isPositive();
      assertThat(rules.get(1).get("packets").asLong()).as(body).isPositive();
      String metrics = http.send(java.net.http.HttpRequest.newBuilder(
          java.net.URI.create("http://127.0.0.1:" + rt.httpPort() + "/metrics")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString()).body();
      // without --metrics-per-rule: the policy's total, no per-rule series
      assertThat(metrics).contains("sluice_policy_allowed_packets_total{policy=\"shop/db-allow\"}")
          .doesNotContain("sluice_policy_rule_");

      // mid-test: web may now only talk to db (egress), and the db policy is deleted
      Files.writeString(dir.resolve("web-egress.yaml"), WEB_EGRESS);
      Files.delete(dir.resolve("policy.yaml"));
      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (System.nanoTime() < deadline && !rt.model().snapshot().networkPolicies().keySet().toString().equals("[shop/web-egress]")) {
        Ovs.sleep(20);
      }
      assertThat(rt.model().snapshot().networkPolicies().keySet()).extracting(Object::toString).containsExactly("shop/web-egress");
      awaitRealized(rt, 3);
      expected.put("prb db 5432", true);
      expected.put("web db 9100", true);
      expected.put("web prb 80", false);      // egress of web isolated: only db
      expected.put("db web 80", true);        // ingress of web not isolated
      assertMatrix(ovs, expected);
    } finally {
      servers.forEach(Process::destroyForcibly);
    }
  }

  private static void awaitRealized(SluiceRuntime rt, int pods) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      List<SwitchStatus> st = rt.switches().statuses();
      // only this test's pods: the system OVSDB may hold other tests' pod ports
      long bound = rt.model().snapshot().bindings().keySet().stream()
          .filter(r -> r.namespace().equals("shop") || r.namespace().equals("ops")).count();
      if (bound == pods && !st.isEmpty()
          && st.stream().allMatch(s -> s.connected() && s.realizedGeneration() == rt.model().generation())) {
        Sh.run("ovs-appctl", "revalidator/purge");
        return;
      }
      Ovs.sleep(20);
    }
    throw new AssertionError("not realized: generation " + rt.model().generation() + ", " + rt.switches().statuses());
  }

  private static void assertMatrix(Ovs ovs, Map<String, Boolean> expected) {
    Map<String, String> ips = Map.of("web", "10.71.0.1", "db", "10.71.0.2", "prb", "10.71.0.3");
    Map<String, CompletableFuture<Boolean>> probes = new LinkedHashMap<>();
    for (String k : expected.keySet()) {
      String[] p = k.split(" ");
      probes.put(k, CompletableFuture.supplyAsync(
          () -> ovs.inHost(p[0], 10, "nc", "-z", "-w", "1", ips.get(p[1]), p[2]).code() == 0));
    }
    Map<String, Boolean> observed = new LinkedHashMap<>();
    probes.forEach((k, f) -> observed.put(k, f.join()));
    assertThat(observed).as("observed TCP connectivity (from to port)").isEqualTo(expected);
  }
}
