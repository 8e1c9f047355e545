package io.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.ServiceHosts;
import io.sluice.controller.testing.Sh;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sluice test --live} on real OVS: db admits web on 5432 only. Each expectation is checked by the reference
 * evaluator and by a real connection from the source's network namespace: web to db:5432 opens, other to db:5432
 * and web to db:9999 are dropped, db to web:7777 is refused by web itself (nothing listens; the SYN arrived, so
 * allowed). Then a flow that is not Sluice's drops web's SYNs to db: the reference still says allowed, the live
 * check says denied, and the command fails naming it. A UDP expectation is reported as not judged live.
 */
class TestLiveIT {
  @TempDir
  Path dir;
  @TempDir
  Path work;

  @Test
  void expectationsAreCheckedOnRealTrafficToo() throws Exception {
    Files.writeString(dir.resolve("cluster.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: lv}", "---",
        pod("web", "10.78.0.1", "web"), pod("db", "10.78.0.2", "db"), pod("other", "10.78.0.3", "other"),
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: db-web, namespace: lv}",
        "spec:", "  podSelector: {matchLabels: {app: db}}", "  ingress:",
        "  - from: [{podSelector: {matchLabels: {app: web}}}]", "    ports: [{port: 5432}]", ""));
    Path tests = work.resolve("tests.yaml");
    Files.writeString(tests, String.join("\n",
        "tests:",
        "  - {name: web reaches db, from: lv/web, to: lv/db, port: 5432, expect: allowed}",
        "  - {name: other does not, from: lv/other, to: lv/db, port: 5432, expect: denied}",
        "  - {name: only 5432, from: lv/web, to: lv/db, port: 9999, expect: denied}",
        "  - {name: web is open, from: lv/db, to: lv/web, port: 7777, expect: allowed}",
        ""));
    Path script = work.resolve("server.py");
    Files.writeString(script, ServiceHosts.ACCEPT_AND_CLOSE);
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of("unix:/var/run/openvswitch/db.sock"), null);
    List<Process> servers = new ArrayList<>();
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String br = ovs.bridge("lv", 0x7e78, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      ovs.host(br, "web", "10.78.0.1/24", "0a:58:0a:4e:00:01", "lv", "web");
      ovs.host(br, "db", "10.78.0.2/24", "0a:58:0a:4e:00:02", "lv", "db");
      ovs.host(br, "oth", "10.78.0.3/24", "0a:58:0a:4e:00:03", "lv", "other");
      servers.add(ServiceHosts.start(ovs, "db", 120, "/usr/bin/python3", script.toString(), "5432", "9999"));
      ServiceHosts.awaitListening(ovs, "db", "0.0.0.0:5432");
      ServiceHosts.awaitRealizedAndPurge(rt, "lv", 3);
      String api = "http://127.0.0.1:" + rt.httpPort();

      CliRun r = CliRun.run("test", "--manifests", dir.toString(), "--live", "--api", api, tests.toString());
      assertThat(r.code()).as(r.out() + r.err()).isZero();
      assertThat(r.out()).contains("8 expectations, 8 passed, 0 failed");

      // a foreign flow drops web's SYNs to db: only the live check can see it
      Sh.run("ovs-ofctl", "-O", "OpenFlow15", "add-flow", br,
          "table=0,priority=65535,cookie=0x1234,tcp,nw_src=10.78.0.1,nw_dst=10.78.0.2,tp_dst=5432,actions=drop");
      Sh.run("ovs-appctl", "revalidator/purge");
      Path report = work.resolve("report.xml");
      Files.writeString(tests, String.join("\n",
          "tests:",
          "  - {name: web reaches db, from: lv/web, to: lv/db, port: 5432, expect: allowed}",
          "  - {name: dns, from: lv/web, to: lv/db, port: 53/udp, expect: denied}",
          ""));
      r = CliRun.run("test", "--manifests", dir.toString(), "--live", "--api", api, "--junit", report.toString(),
          tests.toString());
      assertThat(r.code()).as(r.out() + r.err()).isEqualTo(1);
      assertThat(r.out()).contains("FAIL " + tests + ": [live] web reaches db: expected allowed, live: no answer from "
              + "10.78.0.2:5432 in 2 s (dropped)")
          .contains("NOT JUDGED " + tests + ": [live] dns: not judged live: UDP has no handshake to observe")
          .contains("4 expectations, 2 passed, 1 failed, 1 not judged live");
      assertThat(Files.readString(report)).contains("tests=\"4\" failures=\"1\" errors=\"0\" skipped=\"1\"")
          .contains("<skipped message=\"not judged live: UDP");
    } finally {
      ServiceHosts.stop(servers);
    }
  }

  @Test
  void aControllerOutOfReachIsAFailureNotAPass() throws Exception {
    Files.writeString(dir.resolve("cluster.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: lv}", "---", pod("web", "10.78.0.1", "web"),
        pod("db", "10.78.0.2", "db"), ""));
    Path tests = work.resolve("tests.yaml");
    Files.writeString(tests, "tests:\n  - {from: lv/web, to: lv/db, port: 5432, expect: allowed}\n");
    CliRun r = CliRun.run("test", "--manifests", dir.toString(), "--live", "--api", "http://127.0.0.1:9", tests.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.out()).contains("[live]").contains("not judged live: the controller's status API at "
        + "http://127.0.0.1:9 is not reachable").contains("1 failed");
  }

  private static String pod(String name, String ip, String app) {
    return String.join("\n", "apiVersion: v1", "kind: Pod",
        "metadata: {name: " + name + ", namespace: lv, labels: {app: " + app + "}}",
        "spec: {containers: [{name: c, image: x}]}", "status: {podIP: " + ip + "}", "---", "");
  }
}
