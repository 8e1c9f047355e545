package io.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.sync.SwitchStatus;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.ServiceHosts;
import io.sluice.controller.testing.Sh;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code sluice trace} against a running Sluice on real OVS. db admits web on TCP 5432 (policy {@code db-allow},
 * rule 0); probe is denied by db's ingress isolation. Each is traced through the installed flows and must agree with
 * the reference evaluator, naming the rule or the isolation; a connection no rule allows on a port the rule does not
 * name is denied too. probe's egress is isolated (only 10.75.0.0/24 on 5432): a connection out of the cluster is
 * dropped in table 30, one to an address in the block is allowed there. far is on a second bridge behind patch ports:
 * its ingress is judged there. Then a flow that is not Sluice's (foreign cookie, higher priority) lets probe through: the
 * switch now allows what the reference denies, and trace must say so and exit 3. Bad endpoints, an unreachable API
 * exit 2. The raw traces are kept under target/trace-captures (the parser's test resources come from there).
 */
class TraceIT {
  @TempDir
  Path dir;

  @Test
  void tracesAgreeWithTheReferenceAndADisagreementFails() throws Exception {
    Files.writeString(dir.resolve("cluster.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: trc}", "---",
        pod("web", "10.75.0.1", "web"), pod("db", "10.75.0.2", "db"), pod("probe", "10.75.0.3", "probe"),
        pod("far", "10.75.0.4", "far"),
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: far-allow, namespace: trc}",
        "spec:", "  podSelector: {matchLabels: {app: far}}", "  ingress:",
        "  - from: [{podSelector: {matchLabels: {app: web}}}]", "    ports: [{port: 8080}]", "---",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: probe-egress, namespace: trc}",
        "spec:", "  podSelector: {matchLabels: {app: probe}}", "  policyTypes: [Egress]", "  egress:",
        "  - to: [{ipBlock: {cidr: 10.75.0.0/24}}]", "    ports: [{port: 5432}]", "---",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: db-allow, namespace: trc}",
        "spec:", "  podSelector: {matchLabels: {app: db}}", "  ingress:",
        "  - from: [{podSelector: {matchLabels: {app: web}}}]", "    ports: [{port: 5432}]", ""));
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of("unix:/var/run/openvswitch/db.sock"), null);
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String br = ovs.bridge("tr", 0x7e75, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      ovs.host(br, "web", "10.75.0.1/24", "0a:58:0a:4b:00:01", "trc", "web");
      String dbPort = ovs.host(br, "db", "10.75.0.2/24", "0a:58:0a:4b:00:02", "trc", "db");
      ovs.host(br, "prb", "10.75.0.3/24", "0a:58:0a:4b:00:03", "trc", "probe");
      // far is on a second bridge of the same ovs-vswitchd, reached through a pair of patch ports
      String br2 = ovs.bridge("tr2", 0x7e77, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      String pa = ovs.name("pa");
      String pb = ovs.name("pb");
      Sh.run("ovs-vsctl", "add-port", br, pa, "--", "set", "Interface", pa, "type=patch", "options:peer=" + pb, "--",
          "add-port", br2, pb, "--", "set", "Interface", pb, "type=patch", "options:peer=" + pa);
      String farPort = ovs.host(br2, "far", "10.75.0.4/24", "0a:58:0a:4b:00:04", "trc", "far");
      awaitRealized(rt);
      String api = "http://127.0.0.1:" + rt.httpPort();

      Run allowed = trace(api, "trc/web", "trc/db", "5432");
      assertThat(allowed.code()).as(allowed.out() + allowed.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(allowed.out())
          .contains("table 40 IngressRule")
          .contains("allowed by trc/db-allow ingress rule 0")
          .contains("table-miss: trc/web is not egress-isolated")
          .contains("Switch:    ALLOWED (out of trc/db's port " + dbPort)
          .contains("Reference: ALLOWED")
          .contains("AGREE: allowed")
          .doesNotContain("NOT SLUICE'S")
          .doesNotContain("NOTE: ");

      Run denied = trace(api, "trc/probe", "10.75.0.2", "5432/tcp");
      assertThat(denied.code()).as(denied.out() + denied.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(denied.out())
          .contains("dropped: ingress isolation of trc/db (by trc/db-allow), no rule allowed it")
          .contains("Switch:    DENIED (dropped; to the controller through a meter, rule_cookie=0x5c05")
          .contains("Reference: DENIED")
          .contains("AGREE: denied")
          .doesNotContain("allowed by trc/db-allow");

      Run otherPort = trace(api, "trc/web", "trc/db", "5433");
      assertThat(otherPort.code()).as(otherPort.out() + otherPort.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(otherPort.out()).contains("Switch:    DENIED").contains("Reference: DENIED");

      Run udp = trace(api, "trc/db", "trc/web", "53/udp");
      assertThat(udp.code()).as(udp.out() + udp.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(udp.out()).contains("Switch:    ALLOWED").contains("Reference: ALLOWED");

      // egress: probe may open connections only into 10.75.0.0/24 on 5432
      Run egressDenied = trace(api, "trc/probe", "192.0.2.1", "80");
      assertThat(egressDenied.code()).as(egressDenied.out() + egressDenied.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(egressDenied.out())
          .contains("table 30 EgressRule        dropped: egress isolation of trc/probe (by trc/probe-egress), no rule "
              + "allowed it")
          .contains("Switch:    DENIED").contains("Reference: DENIED");
      Run egressAllowed = trace(api, "trc/probe", "10.75.0.9", "5432");
      assertThat(egressAllowed.code()).as(egressAllowed.out() + egressAllowed.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(egressAllowed.out())
          .contains("table 30 EgressRule        allowed by trc/probe-egress egress rule 0")
          .contains("Switch:    ALLOWED (out of datapath port(s)")
          .contains("Reference: ALLOWED");

      // raw captures for the parser's unit test
      Path captures = Path.of("target", "trace-captures");
      Files.createDirectories(captures);
      Files.writeString(captures.resolve("allowed.txt"), Sh.exec(10, "ovs-appctl", "ofproto/trace", br,
          TraceCommand.flowOf("tcp", 1, "0a:58:0a:4b:00:01", "0a:58:0a:4b:00:02", "10.75.0.1", "10.75.0.2", 5432),
          "--ct-next", "trk,new", "--ct-next", "trk,new").out());

      Files.writeString(captures.resolve("allowed.cli.txt"), allowed.out());
      Files.writeString(captures.resolve("denied.cli.txt"), denied.out());

      // bad input and unreachable things: exit 2
      assertThat(trace(api, "trc/nope", "trc/db", "5432").code()).isEqualTo(TraceCommand.USAGE);
      assertThat(trace(api, "trc/web", "trc/db", "99999").code()).isEqualTo(TraceCommand.USAGE);
      Run noApi = trace("http://127.0.0.1:1", "trc/web", "trc/db", "5432");
      assertThat(noApi.code()).isEqualTo(TraceCommand.USAGE);
      assertThat(noApi.err()).contains("not reachable");
      Run noAppctl = trace(api, "trc/web", "trc/db", "5432", "--ovs-appctl", "/nonexistent/ovs-appctl");
      assertThat(noAppctl.code()).isEqualTo(TraceCommand.USAGE);
      assertThat(noAppctl.err()).contains("cannot be run");

      // across the patch ports: OVS's trace follows the packet into the second bridge, whose ingress rules judge it
      Files.writeString(captures.resolve("patch.txt"), Sh.exec(10, "ovs-appctl", "ofproto/trace", br,
          TraceCommand.flowOf("tcp", 1, "0a:58:0a:4b:00:01", "0a:58:0a:4b:00:04", "10.75.0.1", "10.75.0.4", 8080),
          "--ct-next", "trk,new", "--ct-next", "trk,new").out());
      Run across = trace(api, "trc/web", "trc/far", "8080");
      assertThat(across.code()).as(across.out() + across.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(across.out())
          .contains(br2 + " table 40 IngressRule       allowed by trc/far-allow ingress rule 0")
          .contains("Switch:    ALLOWED (out of trc/far's port " + farPort)
          .contains("AGREE: allowed");
      Run acrossDenied = trace(api, "trc/db", "trc/far", "8080");
      assertThat(acrossDenied.code()).as(acrossDenied.out() + acrossDenied.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(acrossDenied.out())
          .contains(br2 + " table 40 IngressRule       dropped: ingress isolation of trc/far (by trc/far-allow)")
          .contains("Switch:    DENIED")
          .contains("AGREE: denied");
      Files.writeString(captures.resolve("patch.cli.txt"), across.out());

      // a flow that is not Sluice's lets probe reach db: the switch and the reference now disagree
      Sh.run("ovs-ofctl", "-O", "OpenFlow15", "add-flow", br,
          "cookie=0x1234,table=40,priority=250,ip,nw_src=10.75.0.3,nw_dst=10.75.0.2,actions=goto_table:50");
      Run forged = trace(api, "trc/probe", "trc/db", "5432");
      assertThat(forged.code()).as(forged.out() + forged.err()).isEqualTo(TraceCommand.DISAGREE);
      assertThat(forged.out())
          .contains("NOT SLUICE'S: a flow Sluice did not install (cookie 0x1234")
          .contains("Switch:    ALLOWED")
          .contains("Reference: DENIED")
          .contains("DISAGREEMENT: the switch allows this connection, the reference evaluator denies it");
      Files.writeString(captures.resolve("disagreement.cli.txt"), forged.out());
      Files.writeString(captures.resolve("disagreement.txt"), Sh.exec(10, "ovs-appctl", "ofproto/trace", br,
          TraceCommand.flowOf("tcp", 3, "0a:58:0a:4b:00:03", "0a:58:0a:4b:00:02", "10.75.0.3", "10.75.0.2", 5432),
          "--ct-next", "trk,new", "--ct-next", "trk,new").out());
      // and one that drops what the policy allows: the other way round
      Sh.run("ovs-ofctl", "-O", "OpenFlow15", "add-flow", br,
          "cookie=0x5678,table=40,priority=260,tcp,nw_src=10.75.0.1,nw_dst=10.75.0.2,tp_dst=5432,actions=drop");
      Run dropped = trace(api, "trc/web", "trc/db", "5432");
      assertThat(dropped.code()).as(dropped.out() + dropped.err()).isEqualTo(TraceCommand.DISAGREE);
      assertThat(dropped.out())
          .contains("NOT SLUICE'S: a flow Sluice did not install (cookie 0x5678")
          .contains("Switch:    DENIED (dropped)")
          .contains("Reference: ALLOWED")
          .contains("DISAGREEMENT: the switch denies this connection, the reference evaluator allows it");
      Sh.run("ovs-ofctl", "-O", "OpenFlow15", "del-flows", br, "cookie=0x5678/-1");
      // once it is gone, they agree again
      Sh.run("ovs-ofctl", "-O", "OpenFlow15", "del-flows", br, "cookie=0x1234/-1");
      Files.writeString(captures.resolve("denied.txt"), Sh.exec(10, "ovs-appctl", "ofproto/trace", br,
          TraceCommand.flowOf("tcp", 3, "0a:58:0a:4b:00:03", "0a:58:0a:4b:00:02", "10.75.0.3", "10.75.0.2", 5432),
          "--ct-next", "trk,new", "--ct-next", "trk,new").out());
      assertThat(trace(api, "trc/probe", "trc/db", "5432").code()).isEqualTo(TraceCommand.AGREE);
    }
  }

  record Run(int code, String out, String err) { }

  static Run trace(String api, String from, String to, String port, String... more) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new SluiceCli());
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    List<String> args = new java.util.ArrayList<>(List.of("trace", "--api", api, "--from", from, "--to", to,
        "--port", port));
    args.addAll(List.of(more));
    int code = cli.execute(args.toArray(String[]::new));
    return new Run(code, out.toString(), err.toString());
  }

  private static String pod(String name, String ip, String app) {
    return String.join("\n", "apiVersion: v1", "kind: Pod",
        "metadata: {name: " + name + ", namespace: trc, labels: {app: " + app + "}}",
        "spec: {containers: [{name: c, image: x}]}", "status: {podIP: " + ip + "}", "---", "");
  }

  /**
   * Two bridges of this ovs-vswitchd joined by a veth link, as two nodes' switches: web and other on the first, db on
   * the second. The trace crosses the link and judges db's ingress on db's own switch: web is allowed there, other is
   * dropped there (on its own switch, nothing isolates other's egress, so a trace of the source's switch alone could
   * not tell).
   */
  @Test
  void aDestinationBehindAVethLinkIsTracedHopByHop(@TempDir Path manifests) throws Exception {
    Files.writeString(manifests.resolve("cluster.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: hop}", "---",
        podIn("hop", "web", "10.79.0.1", "web"), podIn("hop", "db", "10.79.0.2", "db"),
        podIn("hop", "other", "10.79.0.3", "other"),
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: db-web, namespace: hop}",
        "spec:", "  podSelector: {matchLabels: {app: db}}", "  ingress:",
        "  - from: [{podSelector: {matchLabels: {app: web}}}]", "    ports: [{port: 5432}]", ""));
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, manifests,
        List.of("unix:/var/run/openvswitch/db.sock"), null);
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String n1 = ovs.bridge("h1", 0x7e79, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      String n2 = ovs.bridge("h2", 0x7e7a, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      ovs.host(n1, "web", "10.79.0.1/24", "0a:58:0a:4f:00:01", "hop", "web");
      ovs.host(n1, "oth", "10.79.0.3/24", "0a:58:0a:4f:00:03", "hop", "other");
      String dbPort = ovs.host(n2, "db", "10.79.0.2/24", "0a:58:0a:4f:00:02", "hop", "db");
      ovs.link(n1, n2, "l");
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (System.nanoTime() < deadline && !(rt.switches().statuses().size() == 2
          && rt.model().snapshot().bindings().size() == 3 && rt.switches().statuses().stream()
          .allMatch(s -> s.connected() && s.realizedGeneration() == rt.model().generation()))) {
        Ovs.sleep(50);
      }
      String api = "http://127.0.0.1:" + rt.httpPort();

      Run allowed = trace(api, "hop/web", "hop/db", "5432");
      assertThat(allowed.code()).as(allowed.out() + allowed.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(allowed.out()).contains("then " + n2 + " over veth links")
          .contains("ofproto/trace " + n2)
          .contains(n2 + " table 40 IngressRule       allowed by hop/db-web ingress rule 0")
          .contains("Switch:    ALLOWED (out of hop/db's port " + dbPort)
          .contains("AGREE: allowed");

      Run denied = trace(api, "hop/other", "hop/db", "5432");
      assertThat(denied.code()).as(denied.out() + denied.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(denied.out()).contains("then " + n2 + " over veth links")
          .contains("Switch:    DENIED").doesNotContain("egress only")
          .contains("AGREE: denied");
    }
  }

  /**
   * A Service traced through its ClusterIP: web has two endpoints, web-a admitting client ({@code web-allow}) and web-b
   * isolated by {@code lock-b} (nothing may reach it). The trace names the Service, its table-11 flow and group, picks each endpoint by a
   * {@code dp_hash}, and follows each translated connection: web-a allowed out of its port, web-b dropped by its ingress
   * isolation, both agreeing with the reference. Real traffic agrees: connections to the ClusterIP reach web-a (those
   * the group sends to web-b are dropped), one straight to web-b never does. {@code --endpoint} traces one; {@code --to
   * NS/SVC} names the Service; a Service without endpoints is refused by the switch as by the reference; an endpoint
   * that is not one is exit 2.
   */
  @Test
  void aServiceIsTracedThroughEachEndpoint(@TempDir Path manifests) throws Exception {
    Files.writeString(manifests.resolve("cluster.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: svt}", "---",
        podIn("svt", "client", "10.86.0.1", "client"), podIn("svt", "web-a", "10.86.0.2", "web, tier: open"),
        podIn("svt", "web-b", "10.86.0.3", "web, tier: locked"),
        "apiVersion: v1", "kind: Service", "metadata: {name: web, namespace: svt}",
        "spec: {clusterIP: 10.96.86.10, selector: {app: web}, ports: [{name: http, port: 80, targetPort: 8080}]}", "---",
        "apiVersion: discovery.k8s.io/v1", "kind: EndpointSlice",
        "metadata: {name: web-x1, namespace: svt, labels: {kubernetes.io/service-name: web}}",
        "addressType: IPv4", "ports: [{name: http, port: 8080, protocol: TCP}]", "endpoints:",
        "- {addresses: [10.86.0.2], conditions: {ready: true}, targetRef: {kind: Pod, namespace: svt, name: web-a}}",
        "- {addresses: [10.86.0.3], conditions: {ready: true}, targetRef: {kind: Pod, namespace: svt, name: web-b}}",
        "---",
        "apiVersion: v1", "kind: Service", "metadata: {name: sticky, namespace: svt}",
        "spec: {clusterIP: 10.96.86.12, selector: {app: web}, ports: [{name: http, port: 80, targetPort: 8080}],",
        "  sessionAffinity: ClientIP, sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}}", "---",
        "apiVersion: discovery.k8s.io/v1", "kind: EndpointSlice",
        "metadata: {name: sticky-x1, namespace: svt, labels: {kubernetes.io/service-name: sticky}}",
        "addressType: IPv4", "ports: [{name: http, port: 8080, protocol: TCP}]", "endpoints:",
        "- {addresses: [10.86.0.2], conditions: {ready: true}, targetRef: {kind: Pod, namespace: svt, name: web-a}}",
        "- {addresses: [10.86.0.3], conditions: {ready: true}, targetRef: {kind: Pod, namespace: svt, name: web-b}}",
        "---",
        "apiVersion: v1", "kind: Service", "metadata: {name: empty, namespace: svt}",
        "spec: {clusterIP: 10.96.86.11, selector: {app: nothing}, ports: [{name: http, port: 80, targetPort: 8080}]}",
        "---",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: web-allow, namespace: svt}",
        "spec:", "  podSelector: {matchLabels: {tier: open}}", "  ingress:",
        "  - from: [{podSelector: {matchLabels: {app: client}}}]", "    ports: [{port: 8080}]", "---",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: lock-b, namespace: svt}",
        "spec:", "  podSelector: {matchLabels: {tier: locked}}", "  policyTypes: [Ingress]", ""));
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, manifests,
        List.of("unix:/var/run/openvswitch/db.sock"), null);
    List<Process> servers = new java.util.ArrayList<>();
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String br = ovs.bridge("st", 0x7e86, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      String gw = "10.86.0.254";
      String gwMac = "02:00:0a:56:00:fe";
      ServiceHosts.host(ovs, br, "cli", "10.86.0.1/24", "0a:58:0a:56:00:01", "svt", "client", gw, gwMac);
      String aPort = ServiceHosts.host(ovs, br, "wa", "10.86.0.2/24", "0a:58:0a:56:00:02", "svt", "web-a", gw, gwMac);
      ServiceHosts.host(ovs, br, "wb", "10.86.0.3/24", "0a:58:0a:56:00:03", "svt", "web-b", gw, gwMac);
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (System.nanoTime() < deadline && !(rt.switches().statuses().size() == 1
          && rt.model().snapshot().bindings().size() == 3 && rt.switches().statuses().stream()
          .allMatch(s -> s.connected() && s.realizedGeneration() == rt.model().generation()))) {
        Ovs.sleep(50);
      }
      String api = "http://127.0.0.1:" + rt.httpPort();

      Run svc = trace(api, "svt/client", "10.96.86.10", "80");
      assertThat(svc.code()).as(svc.out() + svc.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(svc.out())
          .contains("-> Service svt/web (10.96.86.10) TCP 80")
          .contains("Service:   svt/web port http 80/TCP at 10.96.86.10, session affinity None")
          .contains("Reference: 2 endpoint(s): 10.86.0.2:8080 (svt/web-a), 10.86.0.3:8080 (svt/web-b)")
          .containsPattern("Switch:    table 11 ServiceLB +ct_state=\\+new\\+trk,tcp,nw_dst=10\\.96\\.86\\.10,tp_dst=80")
          .containsPattern("-> group:\\d+\n")
          .containsPattern("group buckets picked by dp_hash 1-\\d+: 10\\.86\\.0\\.[23]:8080 \\(dp_hash=1\\), "
              + "10\\.86\\.0\\.[23]:8080 \\(dp_hash=\\d+\\)")
          .contains("table 11 ServiceLB         Service svt/web port 80/TCP: a new connection to its virtual address, "
              + "balanced by select group")
          .contains("table 12 ServiceEndpoint   translated by a Service: to its endpoint's MAC (from the connection's "
              + "ct_label)")
          .contains("Endpoint 1/2: 10.86.0.2:8080 (svt/web-a), picked by dp_hash=")
          .contains("Endpoint 2/2: 10.86.0.3:8080 (svt/web-b), picked by dp_hash=")
          .contains("allowed by svt/web-allow ingress rule 0")
          .contains("  Switch:    ALLOWED (out of svt/web-a's port " + aPort)
          .contains("dropped: ingress isolation of svt/web-b (by svt/lock-b), no rule allowed it")
          .contains("  AGREE: allowed by the switch and by the reference evaluator")
          .contains("  AGREE: denied by the switch and by the reference evaluator")
          .contains("AGREE: Service svt/web: 10.86.0.2:8080 (svt/web-a) allowed, 10.86.0.3:8080 (svt/web-b) denied")
          .doesNotContain("DISAGREEMENT").doesNotContain("NOT SLUICE'S");
      Path captures = Path.of("target", "trace-captures");
      Files.createDirectories(captures);
      Files.writeString(captures.resolve("service.cli.txt"), svc.out());
      for (int h = 1; h <= 4; h++) {
        Files.writeString(captures.resolve("service-" + h + ".txt"), Sh.exec(10, "ovs-appctl", "ofproto/trace", br,
            "dp_hash=" + h + "," + TraceCommand.flowOf("tcp", 1, "0a:58:0a:56:00:01", null, "10.86.0.1",
                "10.96.86.10", 49152 + h - 1, 80), "--ct-next", "trk,new", "--ct-next", "trk,new,dnat", "--ct-next",
            "trk,new", "--ct-next", "trk,new").out());
      }

      // the same Service by name, one endpoint only
      Run one = trace(api, "svt/client", "svt/web", "80", "--endpoint", "svt/web-b");
      assertThat(one.code()).as(one.out() + one.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(one.out()).contains("-> Service svt/web (10.96.86.10)")
          .contains("Endpoint 1/1: 10.86.0.3:8080 (svt/web-b)")
          .doesNotContain("Endpoint 1/1: 10.86.0.2")
          .contains("AGREE: Service svt/web: 10.86.0.3:8080 (svt/web-b) denied");
      Run notOne = trace(api, "svt/client", "svt/web", "80", "--endpoint", "10.86.0.9");
      assertThat(notOne.code()).isEqualTo(TraceCommand.USAGE);
      assertThat(notOne.err()).contains("not an endpoint of Service svt/web (its endpoints: 10.86.0.2:8080 (svt/web-a), "
          + "10.86.0.3:8080 (svt/web-b))");
      Run packetOut = trace(api, "svt/client", "10.96.86.10", "80", "--method", "packet-out");
      assertThat(packetOut.code()).as(packetOut.out() + packetOut.err()).isEqualTo(TraceCommand.USAGE);
      assertThat(packetOut.err()).contains("is Service svt/web's virtual address: a packet-out trace follows one new "
          + "connection to a pod or address");
      Run noPort = trace(api, "svt/client", "svt/web", "81");
      assertThat(noPort.code()).isEqualTo(TraceCommand.USAGE);
      assertThat(noPort.err()).contains("Service svt/web has no port TCP 81");

      // no endpoint: the switch refuses the client, as the reference does
      Run empty = trace(api, "svt/client", "10.96.86.11", "80");
      assertThat(empty.code()).as(empty.out() + empty.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(empty.out())
          .contains("Reference: REFUSED: no ready or serving endpoint")
          .contains("refused: Service svt/empty port 80/TCP has no usable endpoint")
          .contains("Switch:    REFUSED (to the controller through a meter")
          .contains("AGREE: Service svt/empty: refused by the switch and by the reference evaluator");
      Files.writeString(captures.resolve("service-empty.txt"), Sh.exec(10, "ovs-appctl", "ofproto/trace", br,
          "dp_hash=1," + TraceCommand.flowOf("tcp", 1, "0a:58:0a:56:00:01", null, "10.86.0.1", "10.96.86.11", 49152,
              80), "--ct-next", "trk,new", "--ct-next", "trk,new,dnat", "--ct-next", "trk,new", "--ct-next",
          "trk,new").out());

      // session affinity, nothing learned yet: each endpoint through tables 14, 15, the group and 15 again
      Run sticky = trace(api, "svt/client", "10.96.86.12", "80");
      assertThat(sticky.code()).as(sticky.out() + sticky.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(sticky.out())
          .contains("Service:   svt/sticky port http 80/TCP at 10.96.86.12, session affinity ClientIP (timeout 60 s)")
          .contains("Service svt/sticky port 80/TCP: a new connection, session affinity: the client's learned endpoint "
              + "(table 14), then table 15")
          .contains("session affinity: nothing learned for this client, balanced by select group")
          .contains("session affinity: learn this endpoint for the client, and translate to it")
          .contains("AGREE: Service svt/sticky: 10.86.0.2:8080 (svt/web-a) allowed, 10.86.0.3:8080 (svt/web-b) denied")
          .doesNotContain("NOTE: session affinity");

      // real traffic: through the ClusterIP, connections reach web-a (the group sends some to web-b, dropped there)
      for (String h : List.of("wa", "wb")) {
        servers.add(ServiceHosts.start(ovs, h, 120, "python3", "-c", ServiceHosts.ACCEPT_AND_CLOSE, "8080"));
        ServiceHosts.awaitListening(ovs, h, "0.0.0.0:8080");
      }
      int reached = 0;
      for (int i = 0; i < 12 && reached < 2; i++) {
        if (connects(ovs, "10.96.86.10", 80)) {
          reached++;
        }
      }
      assertThat(reached).as("connections from svt/client through the ClusterIP that reached an endpoint").isEqualTo(2);
      assertThat(connects(ovs, "10.86.0.2", 8080)).as("svt/client straight to web-a").isTrue();
      assertThat(connects(ovs, "10.86.0.3", 8080)).as("svt/client straight to web-b, which lock-b isolates").isFalse();

      // a connection through the affinity Service: the switch learns where svt/client goes, and the trace follows it
      connects(ovs, "10.96.86.12", 80);
      String learned = null;
      long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (learned == null && System.nanoTime() < until) {
        learned = Sh.exec(5, "ovs-ofctl", "-O", "OpenFlow15", "dump-flows", br, "table=14").out().lines()
            .filter(l -> l.contains("nw_dst=10.96.86.12")).findFirst().orElse(null);
        Ovs.sleep(100);
      }
      assertThat(learned).as("the learned affinity flow of svt/client").isNotNull().containsAnyOf("0xa560002", "0xa560003");
      // the endpoint the learned flow loads into reg0 (web-a: 10.86.0.2 = 0xa560002)
      String chosen = learned.contains("0xa560002") ? "10.86.0.2:8080 (svt/web-a)" : "10.86.0.3:8080 (svt/web-b)";
      String other = chosen.startsWith("10.86.0.2") ? "10.86.0.3:8080 (svt/web-b)" : "10.86.0.2:8080 (svt/web-a)";
      Run remembered = trace(api, "svt/client", "10.96.86.12", "80");
      assertThat(remembered.code()).as(remembered.out() + remembered.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(remembered.out())
          .contains("learned by the switch (session affinity)")
          .contains("NOTE: session affinity: the switch has learned where svt/client goes (table 14")
          .contains("group buckets picked by dp_hash 1-1: " + chosen.split(" ")[0])
          .containsPattern("Endpoint \\d/2: " + java.util.regex.Pattern.quote(chosen) + ", picked by dp_hash=1")
          .containsPattern("Endpoint \\d/2: " + java.util.regex.Pattern.quote(other)
              + "\n  not traced: session affinity sends this client elsewhere")
          .contains("AGREE: Service svt/sticky: " + (chosen.contains("web-a")
              ? "10.86.0.2:8080 (svt/web-a) allowed, 10.86.0.3:8080 (svt/web-b) not traced"
              : "10.86.0.2:8080 (svt/web-a) not traced, 10.86.0.3:8080 (svt/web-b) denied"));
      Files.writeString(captures.resolve("service-learned.cli.txt"), remembered.out());
    } finally {
      ServiceHosts.stop(servers);
    }
  }

  /** Whether svt/client's TCP connection to the address and port completes within a second. */
  private static boolean connects(Ovs ovs, String address, int port) {
    return ovs.inHost("cli", 5, "python3", "-c", "import socket,sys\ntry:\n socket.create_connection(('" + address
        + "'," + port + "),timeout=1).close()\nexcept OSError:\n sys.exit(1)\n").code() == 0;
  }

  private static String podIn(String ns, String name, String ip, String app) {
    return String.join("\n", "apiVersion: v1", "kind: Pod",
        "metadata: {name: " + name + ", namespace: " + ns + ", labels: {app: " + app + "}}",
        "spec: {containers: [{name: c, image: x}]}", "status: {podIP: " + ip + "}", "---", "");
  }

  /**
   * A switch emulating {@code openflow13-generic} (OpenFlow 1.3 only, its profile's tables): the trace names its own
   * tables (Classifier, Policy, Forwarding) and reads its stateless flows by their bands, and still agrees with the
   * reference, allowed and denied.
   */
  @Test
  void aStatelessSwitchIsTracedThroughItsOwnTables(@TempDir Path manifests) throws Exception {
    Files.writeString(manifests.resolve("cluster.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: trc}", "---",
        pod("web", "10.75.1.1", "web"), pod("db", "10.75.1.2", "db"), pod("probe", "10.75.1.3", "probe"),
        pod("far", "10.75.1.4", "far"),
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: db-allow, namespace: trc}",
        "spec:", "  podSelector: {matchLabels: {app: db}}", "  ingress:",
        "  - from: [{podSelector: {matchLabels: {app: web}}}]", "    ports: [{port: 5432}]", "---",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: probe-egress, namespace: trc}",
        "spec:", "  podSelector: {matchLabels: {app: probe}}", "  policyTypes: [Egress]", ""));
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, manifests, List.of("unix:/var/run/openvswitch/db.sock"),
        null).withProfiles(io.sluice.controller.profile.ProfileChoice.parse(List.of("0x7e78=openflow13-generic"), null));
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String br = ovs.bridge("trg", 0x7e78, "OpenFlow13", 0);
      Ovs.emulateTables(br, io.sluice.controller.profile.Profiles.builtIn("openflow13-generic").profile());
      ovs.setController(br, rt.openflowPort());
      ovs.host(br, "web", "10.75.1.1/24", "0a:58:0a:4b:01:01", "trc", "web");
      String dbPort = ovs.host(br, "db", "10.75.1.2/24", "0a:58:0a:4b:01:02", "trc", "db");
      ovs.host(br, "prb", "10.75.1.3/24", "0a:58:0a:4b:01:03", "trc", "probe");
      ovs.host(br, "far", "10.75.1.4/24", "0a:58:0a:4b:01:04", "trc", "far");
      awaitRealized(rt, 1);
      String api = "http://127.0.0.1:" + rt.httpPort();

      Run allowed = trace(api, "trc/web", "trc/db", "5432");
      assertThat(allowed.code()).as(allowed.out() + allowed.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(allowed.out())
          .contains("table  0 Classifier        on to the next table")
          .contains("table  1 Policy            allowed by trc/db-allow ingress rule 0")
          .contains("table  2 Forwarding        forwarded: to the destination MAC's port")
          .contains("Switch:    ALLOWED (out of trc/db's port " + dbPort)
          .contains("AGREE: allowed")
          .doesNotContain("IngressRule").doesNotContain("NOT SLUICE'S");

      Run denied = trace(api, "trc/far", "trc/db", "5432");
      assertThat(denied.code()).as(denied.out() + denied.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(denied.out())
          .contains("table  1 Policy            dropped: from a pod's port to trc/db, and no allow of both sides")
          .contains("Switch:    DENIED").contains("AGREE: denied");

      Run egress = trace(api, "trc/probe", "192.0.2.1", "80");
      assertThat(egress.code()).as(egress.out() + egress.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(egress.out())
          .contains("table  1 Policy            dropped: egress isolation of trc/probe (by trc/probe-egress)")
          .contains("AGREE: denied");

      Path captures = Path.of("target", "trace-captures");
      Files.createDirectories(captures);
      Files.writeString(captures.resolve("stateless-allowed.cli.txt"), allowed.out());
      Files.writeString(captures.resolve("stateless-denied.cli.txt"), denied.out());

      Run open = trace(api, "trc/far", "trc/web", "80");
      assertThat(open.code()).as(open.out() + open.err()).isEqualTo(TraceCommand.AGREE);
      assertThat(open.out())
          .contains("allowed: between two pods of this switch, neither side denies it")
          .contains("AGREE: allowed");
    }
  }

  private static void awaitRealized(SluiceRuntime rt) {
    awaitRealized(rt, 2);
  }

  private static void awaitRealized(SluiceRuntime rt, int switches) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      List<SwitchStatus> st = rt.switches().statuses();
      long bound = rt.model().snapshot().bindings().keySet().stream().filter(r -> r.namespace().equals("trc")).count();
      if (bound == 4 && st.size() == switches
          && st.stream().allMatch(s -> s.connected() && s.realizedGeneration() == rt.model().generation())) {
        return;
      }
      Ovs.sleep(20);
    }
    throw new AssertionError("not realized: generation " + rt.model().generation() + ", " + rt.switches().statuses());
  }
}
