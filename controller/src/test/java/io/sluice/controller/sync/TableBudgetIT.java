package io.sluice.controller.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.profile.ProfileChoice;
import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.ServiceHosts;
import io.sluice.controller.testing.Sh;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A switch whose profile gives the IngressRule table 15 flows (the ovs profile with a budget, on a real bridge): a
 * policy whose rule would overflow it is withheld before the push, its pod stays isolated (fail closed: the ports it
 * would open stay shut on real traffic), the error names the policy, the switch and the table, and the policy that
 * fits keeps working.
 */
class TableBudgetIT {
  private static final long DPID = 0x7e7c;

  @TempDir
  Path dir;
  @TempDir
  Path profiles;

  @Test
  void aRuleOverTheTableBudgetFailsClosedAndIsReportedTheRestWorks() throws Exception {
    String ovsProfile;
    try (InputStream in = getClass().getResourceAsStream("/io/sluice/renderer/profiles/ovs.yaml")) {
      ovsProfile = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    String small = ovsProfile.replace("name: ovs\n", "name: ovs-small\n")
        .replace("name: IngressRule, miss: 50", "name: IngressRule, size: 15, miss: 50");
    assertThat(small).contains("size: 15");
    Files.writeString(profiles.resolve("ovs-small.yaml"), small);
    String ports = IntStream.range(7000, 7020).mapToObj(p -> "{port: " + p + "}").collect(Collectors.joining(", "));
    Files.writeString(dir.resolve("cluster.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: bg}", "---",
        pod("web", "10.82.0.1", "web"), pod("db", "10.82.0.2", "db"), pod("cache", "10.82.0.3", "cache"),
        pod("other", "10.82.0.4", "other"),
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: db-web, namespace: bg}",
        "spec:", "  podSelector: {matchLabels: {app: db}}", "  ingress:",
        "  - from: [{podSelector: {matchLabels: {app: web}}}]", "---",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: cache-big, namespace: bg}",
        "spec:", "  podSelector: {matchLabels: {app: cache}}", "  ingress:",
        "  - from: [{podSelector: {matchLabels: {app: other}}}]", "    ports: [" + ports + "]", "---",
        // an identical rule shares cache-big's flows: it is not realized either, and says so
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: cache-twin, namespace: bg}",
        "spec:", "  podSelector: {matchLabels: {app: cache}}", "  ingress:",
        "  - from: [{podSelector: {matchLabels: {app: other}}}]", "    ports: [" + ports + "]", ""));
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of("unix:/var/run/openvswitch/db.sock"), null)
        .withProfiles(ProfileChoice.parse(List.of(String.format("0x%x=ovs-small", DPID)), profiles));
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String br = ovs.bridge("bg", DPID, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      ovs.host(br, "web", "10.82.0.1/24", "0a:58:0a:52:00:01", "bg", "web");
      ovs.host(br, "db", "10.82.0.2/24", "0a:58:0a:52:00:02", "bg", "db");
      ovs.host(br, "cch", "10.82.0.3/24", "0a:58:0a:52:00:03", "bg", "cache");
      ovs.host(br, "oth", "10.82.0.4/24", "0a:58:0a:52:00:04", "bg", "other");
      ServiceHosts.awaitRealizedAndPurge(rt, "bg", 4);

      long table40 = ovs.flows(br).stream().filter(f -> f.contains("table=40")).count();
      assertThat(table40).as("the switch holds no more than the budget").isLessThanOrEqualTo(15);
      // nothing listens on cache: a refusal (RST) would mean the SYN got through, silence that it was dropped
      Sh.Result r = ovs.inHost("oth", 10, "timeout", "2", "bash", "-c", "exec 3<>/dev/tcp/10.82.0.3/7000");
      assertThat(r.code()).as("other to cache:7000 is dropped (the rule did not fit): " + r).isEqualTo(124);
      Sh.Result ok = ovs.inHost("web", 20, "ping", "-n", "-q", "-c", "2", "-i", "0.2", "-W", "1", "10.82.0.2");
      assertThat(ok.out()).as("web to db: the policy that fits works").doesNotContain(" 0 received");

      HttpClient http = HttpClient.newHttpClient();
      String errors = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + rt.httpPort()
          + "/api/v1/errors")).build(), HttpResponse.BodyHandlers.ofString()).body();
      assertThat(errors).contains("cache-big").contains("00:00:00:00:00:00:7e:7c")
          .contains("over the budget of table 40 (IngressRule) of profile ovs-small")
          .contains("stay isolated").doesNotContain("db-web")
          .contains("cache-twin").contains("through bg/cache-big Ingress rule 0, an identical rule whose flows it shares");
      String switches = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + rt.httpPort()
          + "/api/v1/switches")).build(), HttpResponse.BodyHandlers.ofString()).body();
      assertThat(switches.replaceAll("\\s", "")).contains("\"id\":40,\"name\":\"IngressRule\",\"flows\":" + table40
          + ",\"size\":15");
    }
  }

  /**
   * The same on the stateless pipeline: a copy of openflow13-generic whose Policy table holds 100 flows, on an
   * OpenFlow 1.3-only bridge that holds no more (Flow_Table limits): the big rule (about 40 flows there) is withheld,
   * its pod stays isolated, the error names it, and the rest works.
   */
  @Test
  void aRuleOverThePolicyTableOfAHardwareProfileFailsClosedTheRestWorks() throws Exception {
    String generic;
    try (InputStream in = getClass().getResourceAsStream("/io/sluice/renderer/profiles/openflow13-generic.yaml")) {
      generic = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    String small = generic.replace("name: openflow13-generic\n", "name: generic-small\n")
        .replace("name: Policy, size: 2048", "name: Policy, size: 100");
    assertThat(small).contains("size: 100").contains("name: generic-small");
    Files.writeString(profiles.resolve("generic-small.yaml"), small);
    String ports = IntStream.range(7000, 7020).mapToObj(p -> "{port: " + p + "}").collect(Collectors.joining(", "));
    Files.writeString(dir.resolve("cluster.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: bg}", "---",
        pod("web", "10.82.0.1", "web"), pod("db", "10.82.0.2", "db"), pod("cache", "10.82.0.3", "cache"),
        pod("other", "10.82.0.4", "other"),
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: db-web, namespace: bg}",
        "spec:", "  podSelector: {matchLabels: {app: db}}", "  ingress:",
        "  - from: [{podSelector: {matchLabels: {app: web}}}]", "---",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: cache-big, namespace: bg}",
        "spec:", "  podSelector: {matchLabels: {app: cache}}", "  ingress:",
        "  - from: [{podSelector: {matchLabels: {app: other}}}]", "    ports: [" + ports + "]", ""));
    long dpid = 0x7e7d;
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of("unix:/var/run/openvswitch/db.sock"), null)
        .withProfiles(ProfileChoice.parse(List.of(String.format("0x%x=generic-small", dpid)), profiles));
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String br = ovs.bridge("bh", dpid, "OpenFlow13", 0);
      Ovs.emulateTables(br, io.sluice.controller.profile.Profiles.read(profiles.resolve("generic-small.yaml")).profile());
      ovs.setController(br, rt.openflowPort());
      ovs.host(br, "web", "10.82.0.1/24", "0a:58:0a:52:00:01", "bg", "web");
      ovs.host(br, "db", "10.82.0.2/24", "0a:58:0a:52:00:02", "bg", "db");
      ovs.host(br, "cch", "10.82.0.3/24", "0a:58:0a:52:00:03", "bg", "cache");
      ovs.host(br, "oth", "10.82.0.4/24", "0a:58:0a:52:00:04", "bg", "other");
      ServiceHosts.awaitRealizedAndPurge(rt, "bg", 4);

      long table1 = ovs.flows(br).stream().filter(f -> f.contains("table=1,")).count();
      assertThat(table1).as("the switch holds no more than the budget").isLessThanOrEqualTo(100).isGreaterThan(50);
      Sh.Result r = ovs.inHost("oth", 10, "timeout", "2", "bash", "-c", "exec 3<>/dev/tcp/10.82.0.3/7000");
      assertThat(r.code()).as("other to cache:7000 is dropped (the rule did not fit): " + r).isEqualTo(124);
      Sh.Result ok = ovs.inHost("web", 20, "ping", "-n", "-q", "-c", "2", "-i", "0.2", "-W", "1", "10.82.0.2");
      assertThat(ok.out()).as("web to db: the policy that fits works").doesNotContain(" 0 received");

      HttpClient http = HttpClient.newHttpClient();
      String errors = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + rt.httpPort()
          + "/api/v1/errors")).build(), HttpResponse.BodyHandlers.ofString()).body();
      assertThat(errors).contains("cache-big").contains("00:00:00:00:00:00:7e:7d")
          .contains("over the budget of table 1 (Policy) of profile generic-small")
          .contains("stay isolated").doesNotContain("db-web");
    }
  }

  private static String pod(String name, String ip, String app) {
    return String.join("\n", "apiVersion: v1", "kind: Pod",
        "metadata: {name: " + name + ", namespace: bg, labels: {app: " + app + "}}",
        "spec: {containers: [{name: c, image: x}]}", "status: {podIP: " + ip + "}", "---", "");
  }
}
