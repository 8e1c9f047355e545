package io.sluice.controller.audit;

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
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit log on real OVS. db admits only web (policy {@code db-web}, annotated {@code sluice.io/log: "true"});
 * cache admits only web too, by a policy that is not annotated. probe's pings and TCP SYNs to db are denied and
 * logged with both pods' names; web's ping to db is allowed and logged with the policy and rule; web's ping to cache
 * is allowed and not logged. The same entries are in the file given with {@code --audit-log}.
 */
class AuditLogIT {
  private static final int DENIED_PINGS = 5;
  private final ObjectMapper json = new ObjectMapper();

  @TempDir
  Path dir;
  @TempDir
  Path logs;

  @Test
  void deniedAndLoggedAllowedConnectionsAreLoggedWithPodNames() throws Exception {
    Files.writeString(dir.resolve("cluster.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: aud}", "---",
        pod("web", "10.74.0.1", "web"), pod("db", "10.74.0.2", "db"), pod("probe", "10.74.0.3", "probe"),
        pod("cache", "10.74.0.4", "cache"),
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy",
        "metadata: {name: db-web, namespace: aud, annotations: {sluice.io/log: \"true\"}}",
        "spec:", "  podSelector: {matchLabels: {app: db}}", "  ingress:",
        "  - from: [{podSelector: {matchLabels: {app: web}}}]", "---",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: cache-web, namespace: aud}",
        "spec:", "  podSelector: {matchLabels: {app: cache}}", "  ingress:",
        "  - from: [{podSelector: {matchLabels: {app: web}}}]", ""));
    Path file = logs.resolve("audit.log");
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of("unix:/var/run/openvswitch/db.sock"), null)
        .withAudit(AuditLog.Options.defaults(file));
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String br = ovs.bridge("au", 0x7e74, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      ovs.host(br, "web", "10.74.0.1/24", "0a:58:0a:4a:00:01", "aud", "web");
      ovs.host(br, "db", "10.74.0.2/24", "0a:58:0a:4a:00:02", "aud", "db");
      ovs.host(br, "prb", "10.74.0.3/24", "0a:58:0a:4a:00:03", "aud", "probe");
      ovs.host(br, "cch", "10.74.0.4/24", "0a:58:0a:4a:00:04", "aud", "cache");
      awaitRealized(rt);

      assertThat(ping(ovs, "prb", "10.74.0.2", DENIED_PINGS)).as("probe to db: denied").isFalse();
      assertThat(ping(ovs, "web", "10.74.0.2", 2)).as("web to db: allowed").isTrue();
      assertThat(ping(ovs, "web", "10.74.0.4", 2)).as("web to cache: allowed").isTrue();
      // a TCP SYN from probe to db:5432, denied (the client gives up after 2 s)
      ovs.inHost("prb", 10, "timeout", "2", "bash", "-c", "exec 3<>/dev/tcp/10.74.0.2/5432");

      HttpClient http = HttpClient.newHttpClient();
      List<JsonNode> entries = List.of();
      long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
      Predicate<JsonNode> deniedPing = e -> "deny".equals(text(e, "verdict")) && "ICMP".equals(text(e, "protocol"))
          && "probe".equals(e.path("source").path("pod").asText()) && "db".equals(e.path("destination").path("pod").asText());
      Predicate<JsonNode> deniedSyn = e -> "deny".equals(text(e, "verdict")) && "TCP".equals(text(e, "protocol"))
          && e.path("destination").path("port").asInt() == 5432;
      Predicate<JsonNode> allowedPing = e -> "allow".equals(text(e, "verdict"))
          && "web".equals(e.path("source").path("pod").asText()) && "db".equals(e.path("destination").path("pod").asText());
      while (System.nanoTime() < deadline) {
        entries = audit(http, rt, "?namespace=aud");
        if (count(entries, deniedPing) >= DENIED_PINGS && entries.stream().anyMatch(deniedSyn)
            && entries.stream().anyMatch(allowedPing)) {
          break;
        }
        Ovs.sleep(200);
      }
      String all = entries.toString();
      // every denied echo request is a new connection attempt (nothing answered it): each reached the log, merged
      // into entries with counts
      assertThat(count(entries, deniedPing)).as(all).isEqualTo(DENIED_PINGS);
      JsonNode d = entries.stream().filter(deniedPing).findFirst().orElseThrow();
      assertThat(text(d, "policy")).isEqualTo("isolation");
      assertThat(text(d, "direction")).isEqualTo("ingress");
      assertThat(d.path("source").path("namespace").asText()).isEqualTo("aud");
      assertThat(d.path("source").path("ip").asText()).isEqualTo("10.74.0.3");
      assertThat(d.path("destination").path("ip").asText()).isEqualTo("10.74.0.2");
      assertThat(text(d, "switch")).isEqualTo("00:00:00:00:00:00:7e:74");
      assertThat(d.path("length").asInt()).as("an echo request on the wire").isEqualTo(98);
      JsonNode syn = entries.stream().filter(deniedSyn).findFirst().orElseThrow();
      assertThat(syn.path("source").path("pod").asText()).isEqualTo("probe");
      assertThat(syn.path("source").path("port").asInt()).isPositive();
      assertThat(entries).as("%s\n%s", all, String.join("\n", ovs.flowsWithStats(br).stream()
          .filter(f -> f.contains("table=9") || f.contains("table=40")).toList())).anyMatch(allowedPing);
      JsonNode a = entries.stream().filter(allowedPing).findFirst().orElseThrow();
      assertThat(text(a, "policy")).isEqualTo("aud/db-web");
      assertThat(a.path("rule").asInt()).isZero();
      assertThat(text(a, "direction")).isEqualTo("ingress");
      assertThat(count(entries, allowedPing)).as("only the first echo request is new; the second rides +est: " + all)
          .isEqualTo(1);
      assertThat(entries).as("cache-web is not annotated: nothing it allows is logged").noneMatch(e ->
          "allow".equals(text(e, "verdict")) && "cache".equals(e.path("destination").path("pod").asText()));
      // filters
      assertThat(audit(http, rt, "?pod=aud/web")).allMatch(allowedPing).isNotEmpty();
      assertThat(audit(http, rt, "?policy=aud/db-web")).allMatch(allowedPing);
      assertThat(audit(http, rt, "?namespace=elsewhere")).isEmpty();

      // the file has the same entries, one JSON line each
      List<JsonNode> lines = new ArrayList<>();
      for (String l : Files.readAllLines(file)) {
        lines.add(json.readTree(l));
      }
      assertThat(count(lines, deniedPing)).isEqualTo(DENIED_PINGS);
      assertThat(lines).anyMatch(allowedPing).anyMatch(deniedSyn);

      // the switch's counters (meter stats among them) are read in the background: they appear after the first read
      String metrics = "";
      for (long until = System.nanoTime() + Duration.ofSeconds(10).toNanos(); System.nanoTime() < until; Ovs.sleep(200)) {
        metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + rt.httpPort() + "/metrics"))
            .build(), HttpResponse.BodyHandlers.ofString()).body();
        if (metrics.contains("sluice_audit_meter_dropped_total{")) {
          break;
        }
      }
      assertThat(metrics).contains("sluice_audit_packets_total{verdict=\"deny\"}")
          .contains("sluice_audit_events_total{verdict=\"allow\"}")
          .as("the switch's audit meters, read: nothing over their rate here")
          .contains("sluice_audit_meter_dropped_total{verdict=\"deny\"} 0.0")
          .contains("sluice_audit_meter_dropped_total{verdict=\"allow\"} 0.0");
    }
  }

  private static String pod(String name, String ip, String app) {
    return String.join("\n", "apiVersion: v1", "kind: Pod",
        "metadata: {name: " + name + ", namespace: aud, labels: {app: " + app + "}}",
        "spec: {containers: [{name: c, image: x}]}", "status: {podIP: " + ip + "}", "---", "");
  }

  private static String text(JsonNode e, String field) {
    return e.path(field).asText();
  }

  private static long count(List<JsonNode> entries, Predicate<JsonNode> which) {
    return entries.stream().filter(which).mapToLong(e -> e.path("count").asLong()).sum();
  }

  private List<JsonNode> audit(HttpClient http, SluiceRuntime rt, String query) throws Exception {
    String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + rt.httpPort() + "/api/v1/audit"
        + query)).build(), HttpResponse.BodyHandlers.ofString()).body();
    List<JsonNode> out = new ArrayList<>();
    json.readTree(body).forEach(out::add);
    return out;
  }

  /** Pings {@code n} times; true when any reply came back. */
  private static boolean ping(Ovs ovs, String from, String to, int n) {
    Sh.Result r = ovs.inHost(from, 20, "ping", "-n", "-q", "-c", Integer.toString(n), "-i", "0.2", "-W", "1", to);
    return !r.out().contains(" 0 received") && !r.out().contains(" 0 packets received");
  }

  private static void awaitRealized(SluiceRuntime rt) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      List<SwitchStatus> st = rt.switches().statuses();
      long bound = rt.model().snapshot().bindings().keySet().stream().filter(r -> r.namespace().equals("aud")).count();
      if (bound == 4 && !st.isEmpty()
          && st.stream().allMatch(s -> s.connected() && s.realizedGeneration() == rt.model().generation())) {
        Sh.run("ovs-appctl", "revalidator/purge");
        return;
      }
      Ovs.sleep(20);
    }
    throw new AssertionError("not realized: generation " + rt.model().generation() + ", " + rt.switches().statuses());
  }
}
