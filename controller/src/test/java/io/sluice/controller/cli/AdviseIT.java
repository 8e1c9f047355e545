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
 * {@code sluice advise --ovs-conntrack} on real OVS: with no policy, web opens connections to db's postgres port and
 * probe to cache's redis port; the advice read from the switch's connection tracker, dropped into the manifest directory Sluice
 * watches, keeps exactly those working on real traffic and denies the rest (web to cache, probe to db, web to db's
 * metrics port). Before it is applied, {@code explain --diff} against the same tracker dump says the advice breaks
 * nothing that ran, and that a candidate shutting db would break web's connections.
 */
class AdviseIT {
  @TempDir
  Path dir;
  @TempDir
  Path work;

  @Test
  void theAdviceFromTheConnectionTrackerAllowsWhatRanAndDeniesTheRest() throws Exception {
    Files.writeString(dir.resolve("cluster.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: adv}", "---",
        pod("web", "10.95.0.1", "{app: web, pod-template-hash: 7f9c}", ""),
        pod("db", "10.95.0.2", "{app: db, tier: data}",
            ", ports: [{name: postgres, containerPort: 5432}, {name: metrics, containerPort: 9187}]"),
        pod("cache", "10.95.0.3", "{app: cache}", ", ports: [{name: redis, containerPort: 6379}]"),
        pod("probe", "10.95.0.4", "{app: probe}", ""), ""));
    Path script = work.resolve("server.py");
    Files.writeString(script, ServiceHosts.ACCEPT_AND_CLOSE);
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of("unix:/var/run/openvswitch/db.sock"), null);
    List<Process> servers = new ArrayList<>();
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String br = ovs.bridge("ad", 0x7e95, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      ovs.host(br, "web", "10.95.0.1/24", "0a:58:0a:5f:00:01", "adv", "web");
      ovs.host(br, "db", "10.95.0.2/24", "0a:58:0a:5f:00:02", "adv", "db");
      ovs.host(br, "cch", "10.95.0.3/24", "0a:58:0a:5f:00:03", "adv", "cache");
      ovs.host(br, "prb", "10.95.0.4/24", "0a:58:0a:5f:00:04", "adv", "probe");
      servers.add(ServiceHosts.start(ovs, "db", 120, "/usr/bin/python3", script.toString(), "5432", "9187"));
      servers.add(ServiceHosts.start(ovs, "cch", 120, "/usr/bin/python3", script.toString(), "6379"));
      ServiceHosts.awaitListening(ovs, "db", "0.0.0.0:5432");
      ServiceHosts.awaitListening(ovs, "db", "0.0.0.0:9187");
      ServiceHosts.awaitListening(ovs, "cch", "0.0.0.0:6379");
      ServiceHosts.awaitRealizedAndPurge(rt, "adv", 4);

      // what the applications do, with no policy in place
      for (int i = 0; i < 3; i++) {
        assertThat(connects(ovs, "web", "10.95.0.2", 5432)).as("web to db:5432 before").isTrue();
      }
      assertThat(connects(ovs, "prb", "10.95.0.3", 6379)).as("probe to cache:6379 before").isTrue();

      Path conntrack = work.resolve("conntrack.txt");
      Files.writeString(conntrack, Sh.run("ovs-appctl", "dpctl/dump-conntrack"));
      Path advice = work.resolve("advice");
      CliRun r = CliRun.run("advise", "--manifests", dir.toString(), "--ovs-conntrack", "-n", "adv", "--output",
          advice.toString());
      assertThat(r.code()).as(r.err()).isZero();
      String yaml = Files.readString(advice.resolve("adv-advised.yaml"));
      assertThat(r.err()).contains("4 policies proposed");
      assertThat(yaml).as(yaml).contains("name: advised-web").contains("name: advised-db")
          .contains("name: advised-cache").contains("name: advised-probe").doesNotContain("pod-template-hash")
          .contains("port: postgres").contains("port: redis").doesNotContain("10.95.");

      // what the advice would change, against the manifests and against what ran: nothing that ran breaks
      CliRun diff = CliRun.run("explain", "--manifests", dir.toString(), "--diff", advice.toString(), "--conntrack",
          conntrack.toString(), "--fail-on", "observed");
      assertThat(diff.code()).as(diff.out() + diff.err()).isZero();
      assertThat(diff.out()).contains("4 policies changed").contains("0 observed connection(s) broken")
          .contains("adv/web -> adv/cache 6379/TCP").contains("adv/probe -> adv/db 5432/TCP");
      // a candidate that shuts db: it would break what web does
      Path shut = Files.createDirectories(work.resolve("shut"));
      Files.writeString(shut.resolve("db.yaml"), String.join("\n", "apiVersion: networking.k8s.io/v1",
          "kind: NetworkPolicy", "metadata: {name: db-shut, namespace: adv}",
          "spec: {podSelector: {matchLabels: {app: db}}, policyTypes: [Ingress]}", ""));
      diff = CliRun.run("explain", "--manifests", dir.toString(), "--diff", shut.toString(), "--conntrack",
          conntrack.toString(), "--fail-on", "observed");
      assertThat(diff.code()).as(diff.out() + diff.err()).isEqualTo(1);
      assertThat(diff.out()).contains("OBSERVED CONNECTIONS BROKEN (1):").contains("adv/web -> adv/db 10.95.0.2 5432/TCP");

      // Sluice picks the advice up from its manifest directory and enforces it
      Files.copy(advice.resolve("adv-advised.yaml"), dir.resolve("adv-advised.yaml"));
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (rt.model().snapshot().networkPolicies().size() < 4 && System.nanoTime() < deadline) {
        Ovs.sleep(50);
      }
      assertThat(rt.model().snapshot().networkPolicies()).hasSize(4);
      ServiceHosts.awaitRealizedAndPurge(rt, "adv", 4);
      assertThat(connects(ovs, "web", "10.95.0.2", 5432)).as("web to db:postgres, observed").isTrue();
      assertThat(connects(ovs, "prb", "10.95.0.3", 6379)).as("probe to cache:redis, observed").isTrue();
      assertThat(connects(ovs, "web", "10.95.0.3", 6379)).as("web to cache, never observed").isFalse();
      assertThat(connects(ovs, "prb", "10.95.0.2", 5432)).as("probe to db, never observed").isFalse();
      assertThat(connects(ovs, "web", "10.95.0.2", 9187)).as("web to db:metrics, never observed").isFalse();
    } finally {
      ServiceHosts.stop(servers);
    }
  }

  private static String pod(String name, String ip, String labels, String ports) {
    return String.join("\n", "apiVersion: v1", "kind: Pod",
        "metadata: {name: " + name + ", namespace: adv, labels: " + labels + "}",
        "spec: {containers: [{name: c, image: x" + ports + "}]}", "status: {podIP: " + ip + "}", "---", "");
  }

  /** Whether a TCP connection opens within 2 s. */
  private static boolean connects(Ovs ovs, String from, String ip, int port) {
    return ovs.inHost(from, 10, "timeout", "2", "bash", "-c", "exec 3<>/dev/tcp/" + ip + "/" + port).code() == 0;
  }
}
