package io.sluice.controller.cli;

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
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sluice trace --method packet-out} against a running Sluice on real OVS: the controller injects probes on the
 * source's switch over OpenFlow and reads which flows' counters they moved. db admits web on TCP 5432 (policy
 * {@code db-allow}); probe is denied by db's ingress isolation. Each connection traced by packet-out must agree with
 * the reference evaluator and with {@code ovs-appctl ofproto/trace} of the same packet: the same verdict, and the same
 * flows (table, cookie) in the tables where policy is decided. UDP, egress isolation and a destination on another
 * switch, behind patch ports or a veth link (its ingress judged by its own switch's counters) too. {@code --method auto} falls back to packet-out where ovs-appctl cannot be run; bad
 * requests (too many probes, a GET, a web page's POST) are refused.
 */
class PacketOutTraceIT {
  @TempDir
  Path dir;

  private final ObjectMapper json = new ObjectMapper();

  @Test
  void packetOutTracesAgreeWithTheReferenceAndWithOvsAppctl() throws Exception {
    Files.writeString(dir.resolve("cluster.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: pot}", "---",
        pod("web", "10.76.0.1", "web"), pod("db", "10.76.0.2", "db"), pod("probe", "10.76.0.3", "probe"),
        pod("far", "10.76.0.4", "far"),
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: db-allow, namespace: pot}",
        "spec:", "  podSelector: {matchLabels: {app: db}}", "  ingress:",
        "  - from: [{podSelector: {matchLabels: {app: web}}}]", "    ports: [{port: 5432}, {port: 53, protocol: UDP}]",
        "---",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: far-allow, namespace: pot}",
        "spec:", "  podSelector: {matchLabels: {app: far}}", "  ingress:",
        "  - from: [{podSelector: {matchLabels: {app: web}}}]", "    ports: [{port: 8080}]", "---",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: probe-egress, namespace: pot}",
        "spec:", "  podSelector: {matchLabels: {app: probe}}", "  policyTypes: [Egress]", "  egress:",
        "  - to: [{ipBlock: {cidr: 10.76.0.0/24}}]", "    ports: [{port: 5432}]", ""));
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of("unix:/var/run/openvswitch/db.sock"), null);
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String br = ovs.bridge("po", 0x7e76, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      ovs.host(br, "web", "10.76.0.1/24", "0a:58:0a:4c:00:01", "pot", "web");
      String dbPort = ovs.host(br, "db", "10.76.0.2/24", "0a:58:0a:4c:00:02", "pot", "db");
      ovs.host(br, "prb", "10.76.0.3/24", "0a:58:0a:4c:00:03", "pot", "probe");
      String br2 = ovs.bridge("po2", 0x7e78, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      String pa = ovs.name("pa");
      String pb = ovs.name("pb");
      Sh.run("ovs-vsctl", "add-port", br, pa, "--", "set", "Interface", pa, "type=patch", "options:peer=" + pb, "--",
          "add-port", br2, pb, "--", "set", "Interface", pb, "type=patch", "options:peer=" + pa);
      String farPort = ovs.host(br2, "far", "10.76.0.4/24", "0a:58:0a:4c:00:04", "pot", "far");
      awaitRealized(rt, 4, 2);
      String api = "http://127.0.0.1:" + rt.httpPort();
      Path captures = Path.of("target", "trace-captures");
      Files.createDirectories(captures);

      // allowed: every probe leaves by db's port; the rule is named; ovs-appctl says the same
      TraceIT.Run allowed = TraceIT.trace(api, "pot/web", "pot/db", "5432", "--method", "packet-out");
      Files.writeString(captures.resolve("packet-out-allowed.cli.txt"), allowed.out());
      assertThat(allowed.code()).as(allowed.out() + allowed.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(allowed.out())
          .contains("by OpenFlow packet-out on switch 00:00:00:00:00:00:7e:76")
          .contains("Probes: 5 TCP first packets in at OpenFlow port 1, source ports ")
          .contains("table 40 IngressRule       allowed by pot/db-allow ingress rule 0")
          .contains("table 30 EgressRule        table-miss: pot/web is not egress-isolated")
          .contains("Switch:    ALLOWED (out of pot/db's port " + dbPort + ": the destination's port sent")
          .contains("Reference: ALLOWED")
          .contains("AGREE: allowed")
          .doesNotContain("NOT SLUICE'S");
      TraceIT.Run allowedAppctl = TraceIT.trace(api, "pot/web", "pot/db", "5432");
      assertThat(allowedAppctl.out()).contains("Switch:    ALLOWED").contains("AGREE: allowed");
      assertSamePolicyFlows(api, br, "pot/web", "pot/db", "5432",
          TraceCommand.flowOf("tcp", 1, "0a:58:0a:4c:00:01", "0a:58:0a:4c:00:02", "10.76.0.1", "10.76.0.2", 5432));

      // denied by db's ingress isolation: the probes end at the isolation drop in table 40
      TraceIT.Run denied = TraceIT.trace(api, "pot/probe", "10.76.0.2", "5432/tcp", "--method", "packet-out");
      Files.writeString(captures.resolve("packet-out-denied.cli.txt"), denied.out());
      assertThat(denied.code()).as(denied.out() + denied.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(denied.out())
          .contains("table 40 IngressRule       dropped: ingress isolation of pot/db (by pot/db-allow), no rule "
              + "allowed it")
          .contains("Switch:    DENIED (dropped: ingress isolation of pot/db (by pot/db-allow), no rule allowed it "
              + "(table 40 IngressRule")
          .contains("Reference: DENIED")
          .contains("AGREE: denied")
          .doesNotContain("allowed by pot/db-allow");
      TraceIT.Run deniedAppctl = TraceIT.trace(api, "pot/probe", "10.76.0.2", "5432/tcp");
      assertThat(deniedAppctl.out()).contains("Switch:    DENIED").contains("AGREE: denied");
      assertSamePolicyFlows(api, br, "pot/probe", "10.76.0.2", "5432",
          TraceCommand.flowOf("tcp", 3, "0a:58:0a:4c:00:03", "0a:58:0a:4c:00:02", "10.76.0.3", "10.76.0.2", 5432));

      // UDP, egress isolation (dropped in table 30), and an egress-allowed connection out of the cluster's block
      TraceIT.Run udp = TraceIT.trace(api, "pot/web", "pot/db", "53/udp", "--method", "packet-out");
      assertThat(udp.code()).as(udp.out() + udp.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(udp.out()).contains("Switch:    ALLOWED").contains("Reference: ALLOWED");
      TraceIT.Run egress = TraceIT.trace(api, "pot/probe", "192.0.2.1", "80", "--method", "packet-out");
      assertThat(egress.code()).as(egress.out() + egress.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(egress.out())
          .contains("table 30 EgressRule        dropped: egress isolation of pot/probe (by pot/probe-egress)")
          .contains("Switch:    DENIED").contains("Reference: DENIED");

      // the destination on the second switch, behind patch ports: its own switch's counters judge its ingress
      TraceIT.Run across = TraceIT.trace(api, "pot/web", "pot/far", "8080", "--method", "packet-out");
      Files.writeString(captures.resolve("packet-out-patch.cli.txt"), across.out());
      assertThat(across.code()).as(across.out() + across.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(across.out())
          .contains("switch 00:00:00:00:00:00:7e:78 (destination)")
          .contains("allowed by pot/far-allow ingress rule 0")
          .contains("Switch:    ALLOWED (out of pot/far's port " + farPort)
          .contains("AGREE: allowed");
      TraceIT.Run acrossDenied = TraceIT.trace(api, "pot/db", "pot/far", "8080", "--method", "packet-out");
      assertThat(acrossDenied.code()).as(acrossDenied.out() + acrossDenied.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(acrossDenied.out())
          .contains("dropped: ingress isolation of pot/far (by pot/far-allow)")
          .contains("Switch:    DENIED").contains("AGREE: denied");

      // auto: ovs-appctl cannot be run here, so packet-out
      TraceIT.Run auto = TraceIT.trace(api, "pot/web", "pot/db", "5432", "--method", "auto", "--ovs-appctl",
          "/nonexistent/ovs-appctl");
      assertThat(auto.code()).as(auto.out() + auto.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(auto.out()).contains("ovs-appctl cannot trace here (").contains(": tracing by OpenFlow packet-out")
          .contains("AGREE: allowed");

      // a flow that is not Sluice's lets probe reach db: packet-out sees it too, and the disagreement fails
      Sh.run("ovs-ofctl", "-O", "OpenFlow15", "add-flow", br,
          "cookie=0x1234,table=40,priority=250,ip,nw_src=10.76.0.3,nw_dst=10.76.0.2,actions=goto_table:50");
      TraceIT.Run forged = TraceIT.trace(api, "pot/probe", "pot/db", "5432", "--method", "packet-out");
      assertThat(forged.code()).as(forged.out() + forged.err()).isEqualTo(TraceCommand.DISAGREE);
      assertThat(forged.out())
          .contains("NOT SLUICE'S: a flow Sluice did not install (cookie 0x1234")
          .contains("Switch:    ALLOWED")
          .contains("DISAGREEMENT: the switch allows this connection, the reference evaluator denies it");
      Sh.run("ovs-ofctl", "-O", "OpenFlow15", "del-flows", br, "cookie=0x1234/-1");

      // bounds and refusals
      assertThat(TraceIT.trace(api, "pot/web", "pot/db", "5432", "--method", "packet-out", "--probes", "21").code())
          .isEqualTo(TraceCommand.USAGE);
      HttpClient http = HttpClient.newHttpClient();
      String q = api + "/api/v1/trace?method=packet-out&from=pot/web&to=pot/db&port=5432";
      assertThat(http.send(HttpRequest.newBuilder(URI.create(q)).GET().build(), HttpResponse.BodyHandlers.ofString())
          .statusCode()).isEqualTo(405);
      assertThat(http.send(HttpRequest.newBuilder(URI.create(q)).header("Origin", "http://example.invalid")
          .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString()).statusCode())
          .isEqualTo(403);
      HttpResponse<String> tooMany = http.send(HttpRequest.newBuilder(URI.create(q + "&probes=50"))
          .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(tooMany.statusCode()).isEqualTo(400);
      assertThat(tooMany.body()).contains("probes: 1-20");
    }
  }

  /**
   * Two switches joined by a veth link, as two nodes' switches: web and other on the first, db on the second. The
   * probes cross the link; db's own switch's counters judge its ingress: web allowed there, other dropped there.
   */
  @Test
  void aDestinationBehindAVethLinkIsJudgedOnItsOwnSwitch(@TempDir Path manifests) throws Exception {
    Files.writeString(manifests.resolve("cluster.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: pot}", "---",
        pod("web", "10.77.0.1", "web"), pod("db", "10.77.0.2", "db"), pod("other", "10.77.0.3", "other"),
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: db-web, namespace: pot}",
        "spec:", "  podSelector: {matchLabels: {app: db}}", "  ingress:",
        "  - from: [{podSelector: {matchLabels: {app: web}}}]", "    ports: [{port: 5432}]", ""));
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, manifests,
        List.of("unix:/var/run/openvswitch/db.sock"), null);
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String n1 = ovs.bridge("v1", 0x7e7b, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      String n2 = ovs.bridge("v2", 0x7e7c, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      ovs.host(n1, "web", "10.77.0.1/24", "0a:58:0a:4d:00:01", "pot", "web");
      ovs.host(n1, "oth", "10.77.0.3/24", "0a:58:0a:4d:00:03", "pot", "other");
      String dbPort = ovs.host(n2, "db", "10.77.0.2/24", "0a:58:0a:4d:00:02", "pot", "db");
      ovs.link(n1, n2, "l");
      awaitRealized(rt, 3, 2);
      String api = "http://127.0.0.1:" + rt.httpPort();

      TraceIT.Run allowed = TraceIT.trace(api, "pot/web", "pot/db", "5432", "--method", "packet-out");
      Files.writeString(Path.of("target", "trace-captures").resolve("packet-out-veth.cli.txt"), allowed.out());
      assertThat(allowed.code()).as(allowed.out() + allowed.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(allowed.out()).contains("switch 00:00:00:00:00:00:7e:7c (destination)")
          .contains("allowed by pot/db-web ingress rule 0")
          .contains("Switch:    ALLOWED (out of pot/db's port " + dbPort)
          .doesNotContain("egress only")
          .contains("AGREE: allowed");

      TraceIT.Run denied = TraceIT.trace(api, "pot/other", "pot/db", "5432", "--method", "packet-out");
      assertThat(denied.code()).as(denied.out() + denied.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(denied.out()).contains("dropped: ingress isolation of pot/db (by pot/db-web)")
          .contains("Switch:    DENIED").doesNotContain("egress only").contains("AGREE: denied");
    }
  }

  /**
   * The packet-out path and ovs-appctl's trace of the same first packet name the same flows (table and cookie) in
   * the tables that decide: the connection-state, egress and ingress rule tables.
   */
  private void assertSamePolicyFlows(String api, String br, String from, String to, String port, String flow)
      throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(api
            + "/api/v1/trace?method=packet-out&from=" + from + "&to=" + to + "&port=" + port))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode res = json.readTree(r.body());
    Set<String> byPacketOut = new TreeSet<>();
    for (JsonNode sw : res.path("switches")) {
      for (JsonNode st : sw.path("steps")) {
        int table = st.path("table").asInt();
        if (table >= 20 && table <= 40) {
          byPacketOut.add(table + " " + st.path("cookie").asText());
        }
      }
    }
    OfprotoTrace t = OfprotoTrace.parse(Sh.exec(10, "ovs-appctl", "ofproto/trace", br, flow, "--ct-next", "trk,new",
        "--ct-next", "trk,new").out());
    Set<String> byAppctl = new TreeSet<>();
    for (OfprotoTrace.Step s : t.steps()) {
      if (s.matched() && s.table() >= 20 && s.table() <= 40) {
        byAppctl.add(s.table() + " 0x" + Long.toHexString(s.cookie()));
      }
    }
    assertThat(byPacketOut).as(r.body()).isNotEmpty().isEqualTo(byAppctl);
  }

  private static String pod(String name, String ip, String app) {
    return String.join("\n", "apiVersion: v1", "kind: Pod",
        "metadata: {name: " + name + ", namespace: pot, labels: {app: " + app + "}}",
        "spec: {containers: [{name: c, image: x}]}", "status: {podIP: " + ip + "}", "---", "");
  }

  private static void awaitRealized(SluiceRuntime rt, int pods, int switches) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      List<SwitchStatus> st = new ArrayList<>(rt.switches().statuses());
      long bound = rt.model().snapshot().bindings().keySet().stream().filter(r -> r.namespace().equals("pot")).count();
      if (bound == pods && st.size() == switches
          && st.stream().allMatch(s -> s.connected() && s.realizedGeneration() == rt.model().generation())) {
        return;
      }
      Ovs.sleep(20);
    }
    throw new AssertionError("not realized: generation " + rt.model().generation() + ", " + rt.switches().statuses());
  }
}
