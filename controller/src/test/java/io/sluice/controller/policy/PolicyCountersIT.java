package io.sluice.controller.policy;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The policy counters against the packets sent on real OVS: db is ingress-isolated (only web may reach it), its
 * node's address is a non-pod port. Pings from web (rule allow) and from the node (own-node exemption), and every
 * packet table 0 admits or drops (port admission), must not count as isolation drops; each ping from probe must,
 * exactly once.
 */
class PolicyCountersIT {
  private static final int DENIED = 5;
  private static final int ALLOWED_RULE = 4;
  private static final int ALLOWED_NODE = 3;

  @TempDir
  Path dir;

  @Test
  void isolationDropsCountTheDeniedPacketsAndNothingElse() throws Exception {
    Files.writeString(dir.resolve("cluster.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: cnt}", "---",
        "apiVersion: v1", "kind: Pod", "metadata: {name: web, namespace: cnt, labels: {app: web}}",
        "spec: {containers: [{name: c, image: x}]}", "status: {podIP: 10.73.0.1, hostIPs: [{ip: 10.73.0.254}]}", "---",
        "apiVersion: v1", "kind: Pod", "metadata: {name: db, namespace: cnt, labels: {app: db}}",
        "spec: {containers: [{name: c, image: x}]}", "status: {podIP: 10.73.0.2, hostIPs: [{ip: 10.73.0.254}]}", "---",
        "apiVersion: v1", "kind: Pod", "metadata: {name: probe, namespace: cnt, labels: {app: probe}}",
        "spec: {containers: [{name: c, image: x}]}", "status: {podIP: 10.73.0.3, hostIPs: [{ip: 10.73.0.254}]}", "---",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: db-web, namespace: cnt}",
        "spec:", "  podSelector: {matchLabels: {app: db}}", "  ingress:",
        "  - from: [{podSelector: {matchLabels: {app: web}}}]", ""));
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of("unix:/var/run/openvswitch/db.sock"), null)
        .withMetricsPerRule(true);
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String br = ovs.bridge("pc", 0x7e73, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      ovs.host(br, "web", "10.73.0.1/24", "0a:58:0a:49:00:01", "cnt", "web");
      ovs.host(br, "db", "10.73.0.2/24", "0a:58:0a:49:00:02", "cnt", "db");
      ovs.host(br, "prb", "10.73.0.3/24", "0a:58:0a:49:00:03", "cnt", "probe");
      ovs.host(br, "node", "10.73.0.254/24", "0a:58:0a:49:00:fe", null, null);
      awaitRealized(rt);
      assertThat(ovs.flows(br)).as("the own-node exemption is installed").anyMatch(f -> f.contains("priority=300,ip,nw_src=10.73.0.254"));

      assertThat(ping(ovs, "web", "10.73.0.2", ALLOWED_RULE)).as("web to db: rule allow").isEqualTo(ALLOWED_RULE);
      assertThat(ping(ovs, "node", "10.73.0.2", ALLOWED_NODE)).as("node to db: exemption").isEqualTo(ALLOWED_NODE);
      assertThat(ping(ovs, "prb", "10.73.0.2", DENIED)).as("probe to db: isolated").isZero();

      HttpClient http = HttpClient.newHttpClient();
      String metrics = "";
      long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
      while (System.nanoTime() < deadline) {
        metrics = scrape(http, rt);
        if (value(metrics, "sluice_policy_isolation_dropped_packets_total") >= DENIED
            && value(metrics, "sluice_policy_rule_allowed_packets_total\\{[^}]*policy=\"cnt/db-web\"[^}]*}") > 0) {
          break;
        }
        Ovs.sleep(100);
      }
      // a second later (stats refreshed again), still exactly the denied pings: nothing allowed crept in
      Ovs.sleep(1500);
      metrics = scrape(http, rt);
      assertThat(value(metrics, "sluice_policy_isolation_dropped_packets_total")).as(metrics).isEqualTo(DENIED);
      // 84-byte ICMP echo requests (IPv4, no options) in 98-byte frames
      assertThat(value(metrics, "sluice_policy_isolation_dropped_bytes_total")).as(metrics).isEqualTo(DENIED * 98L);
      // the allowed traffic did pass exemption and admission flows (which shared object id 0 with the isolation
      // drops, and were summed with them before)
      List<String> flows = ovs.flowsWithStats(br);
      assertThat(packets(flows, "0x5c06")).as("exemption flows' packets").isPositive();
      assertThat(packets(flows, "0x5c07")).as("admission flows' packets").isGreaterThan(DENIED + ALLOWED_RULE);
      // the rule's allow flows see the first packet of each new flow (replies and later pings are +est): one ping
      // session here, so between one packet and the pings web sent
      long rule = value(metrics, "sluice_policy_rule_allowed_packets_total\\{[^}]*policy=\"cnt/db-web\"[^}]*}");
      assertThat(rule).as(metrics + String.join("\n", ovs.flowsWithStats(br))).isBetween(1L, (long) ALLOWED_RULE);
      // the policy's total is its one rule's
      assertThat(value(metrics, "sluice_policy_allowed_packets_total\\{policy=\"cnt/db-web\"}")).as(metrics)
          .isEqualTo(rule);
      assertThat(value(metrics, "sluice_policy_allowed_bytes_total\\{policy=\"cnt/db-web\"}")).as(metrics)
          .isEqualTo(value(metrics, "sluice_policy_rule_allowed_bytes_total\\{[^}]*policy=\"cnt/db-web\"[^}]*}"))
          .isPositive();
      // a scrape of the whole runtime, policy counters included, follows the naming conventions
      assertThat(io.sluice.controller.runtime.MetricsConventions.violations(metrics)).as(metrics).isEmpty();
    }
  }

  /** Pings {@code n} times, one echo request each; returns the replies received. */
  private static int ping(Ovs ovs, String from, String to, int n) {
    Sh.Result r = ovs.inHost(from, 20, "ping", "-n", "-q", "-c", Integer.toString(n), "-i", "0.2", "-W", "1", to);
    Matcher m = Pattern.compile("(\\d+) (packets )?received").matcher(r.out());
    assertThat(m.find()).as(r.out()).isTrue();
    return Integer.parseInt(m.group(1));
  }

  /** The packets of the flows whose cookie starts with {@code prefix} (owner and category). */
  private static long packets(List<String> flows, String prefix) {
    Pattern n = Pattern.compile("n_packets=(\\d+)");
    long sum = 0;
    for (String f : flows) {
      Matcher m = n.matcher(f);
      if (f.contains("cookie=" + prefix) && m.find()) {
        sum += Long.parseLong(m.group(1));
      }
    }
    return sum;
  }

  private static String scrape(HttpClient http, SluiceRuntime rt) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + rt.httpPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  /** A metric's value (the first line matching {@code name} followed by a value), -1 when absent. */
  private static long value(String metrics, String name) {
    Matcher m = Pattern.compile("(?m)^" + name + " ([0-9.eE+]+)$").matcher(metrics);
    return m.find() ? (long) Double.parseDouble(m.group(1)) : -1;
  }

  private static void awaitRealized(SluiceRuntime rt) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      List<SwitchStatus> st = rt.switches().statuses();
      long bound = rt.model().snapshot().bindings().keySet().stream().filter(r -> r.namespace().equals("cnt")).count();
      if (bound == 3 && !st.isEmpty()
          && st.stream().allMatch(s -> s.connected() && s.realizedGeneration() == rt.model().generation())) {
        Sh.run("ovs-appctl", "revalidator/purge");
        return;
      }
      Ovs.sleep(20);
    }
    throw new AssertionError("not realized: generation " + rt.model().generation() + ", " + rt.switches().statuses());
  }
}
