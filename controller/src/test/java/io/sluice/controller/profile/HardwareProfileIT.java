package io.sluice.controller.profile;

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
 * NetworkPolicy on real traffic through switches that emulate hardware: two OpenFlow 1.3-only bridges, one given
 * {@code openflow13-generic}, one {@code openflow13-single-table}, each with only its profile's tables ({@code
 * Flow_Table} rows: the declared tables hold at most their size, every other table nothing, overflow refused), no
 * bundles (changes go in ordered phases). Three namespace hosts on each (web, db, probe); db's policy allows web on its
 * named port and web or the ops namespace on a range. TCP connections (nc) and pings must follow the policies, replies
 * included (the stateless reverse rules), and keep doing so after a change mid-test.
 */
class HardwareProfileIT {
  @TempDir
  Path dir;

  private static final List<String> SWITCHES = List.of("g", "s");

  private static String pod(String ns, String name, String ip, String labels, String ports) {
    return String.join("\n", "apiVersion: v1", "kind: Pod",
        "metadata: {name: " + name + ", namespace: " + ns + ", labels: {" + labels + "}}",
        "spec: {containers: [{name: c, image: x, ports: [" + ports + "]}]}",
        "status: {podIP: " + ip + "}", "---", "");
  }

  private static final String DB_POLICY = String.join("\n",
      "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: db-allow, namespace: hw}",
      "spec:", "  podSelector: {matchLabels: {app: db}}", "  ingress:",
      "  - from: [{podSelector: {matchLabels: {app: web}}}]", "    ports: [{port: pg}]",
      "  - from: [{podSelector: {matchLabels: {app: web}}}, {namespaceSelector: {matchLabels: {team: ops}}}]",
      "    ports: [{port: 9000, endPort: 9007}]", "");

  private static final String WEB_EGRESS = String.join("\n",
      "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: web-egress, namespace: hw}",
      "spec:", "  podSelector: {matchLabels: {app: web}}", "  policyTypes: [Egress]", "  egress:",
      "  - to: [{podSelector: {matchLabels: {app: db}}}]", "");

  private static String ip(String sw, String host) {
    int net = sw.equals("g") ? 0 : 1;
    int h = switch (host) {
      case "web" -> 1;
      case "db" -> 2;
      default -> 3;
    };
    return "10.72." + net + "." + h;
  }

  @Test
  void policiesHoldOnRealTrafficThroughEmulatedHardwareSwitches() throws Exception {
    Files.writeString(dir.resolve("ns.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: hw, labels: {team: hw}}", "---",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: hwops, labels: {team: ops}}", ""));
    StringBuilder pods = new StringBuilder();
    for (String sw : SWITCHES) {
      pods.append(pod("hw", "web-" + sw, ip(sw, "web"), "app: web", "{name: http, containerPort: 80}"));
      pods.append(pod("hw", "db-" + sw, ip(sw, "db"), "app: db", "{name: pg, containerPort: 5432}"));
      pods.append(pod("hwops", "probe-" + sw, ip(sw, "prb"), "app: probe", "{name: http, containerPort: 80}"));
    }
    Files.writeString(dir.resolve("pods.yaml"), pods.toString());
    Files.writeString(dir.resolve("policy.yaml"), DB_POLICY);
    Map<String, Long> dpids = Map.of("g", 0x7e90L, "s", 0x7e91L);
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of("unix:/var/run/openvswitch/db.sock"), null)
        .withProfiles(ProfileChoice.parse(List.of("0x7e90=openflow13-generic", "0x7e91=openflow13-single-table"), null));
    List<Process> servers = new ArrayList<>();
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      Map<String, String> bridges = new LinkedHashMap<>();
      for (String sw : SWITCHES) {
        String profile = sw.equals("g") ? "openflow13-generic" : "openflow13-single-table";
        String br = ovs.bridge("hw" + sw, dpids.get(sw), "OpenFlow13", 0);
        Ovs.emulateTables(br, Profiles.builtIn(profile).profile());
        ovs.setController(br, rt.openflowPort());
        bridges.put(sw, br);
        int n = 1;
        for (String h : List.of("web", "db", "prb")) {
          String podName = (h.equals("prb") ? "probe" : h) + "-" + sw;
          ovs.host(br, h + sw, ip(sw, h) + "/24", String.format("0a:58:0a:48:%02x:%02x", sw.equals("g") ? 0 : 1, n++),
              h.equals("prb") ? "hwops" : "hw", podName);
        }
        for (String[] s : new String[][] {{"db", "5432"}, {"db", "9003"}, {"db", "9100"}, {"web", "80"}, {"prb", "80"}}) {
          servers.add(new ProcessBuilder("ip", "netns", "exec", ovs.name(s[0] + sw), "nc", "-lk", "-p", s[1]).start());
        }
      }
      awaitRealized(rt, 6);
      for (String sw : SWITCHES) {
        assertThat(ovs.flows(bridges.get(sw))).as("standard OpenFlow 1.3 only")
            .noneMatch(f -> f.contains("ct_state") || f.contains("conj") || f.contains("NORMAL") || f.contains("reg"));
      }

      Map<String, Boolean> expected = new LinkedHashMap<>();
      expected.put("web db 5432", true);      // named port pg, from app=web
      expected.put("prb db 5432", false);     // ops may not use pg
      expected.put("prb db 9003", true);      // ops namespace, port range 9000-9007
      expected.put("web db 9003", true);
      expected.put("web db 9100", false);     // outside the range
      expected.put("db web 80", true);        // web is not isolated
      expected.put("prb web 80", true);
      expected.put("web prb 80", true);
      expected.put("ping web db", false);     // db admits no ICMP
      expected.put("ping db web", true);      // the echo reply is reply-shaped, its swap allowed
      assertMatrix(ovs, expected);

      // mid-test: web may now only talk to db (egress), and the db policy is deleted; no bundles on these switches
      Files.writeString(dir.resolve("web-egress.yaml"), WEB_EGRESS);
      Files.delete(dir.resolve("policy.yaml"));
      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (System.nanoTime() < deadline
          && !rt.model().snapshot().networkPolicies().keySet().toString().equals("[hw/web-egress]")) {
        Ovs.sleep(20);
      }
      awaitRealized(rt, 6);
      expected.put("prb db 5432", true);
      expected.put("web db 9100", true);
      expected.put("web prb 80", false);      // egress of web isolated: only db
      expected.put("db web 80", true);        // ingress of web not isolated: web's replies are reply-shaped to db
      expected.put("prb web 80", true);       // ...and to probe: web's egress admits replies of what web accepts
      expected.put("ping web db", true);
      expected.put("ping db web", true);      // web's echo reply to db: reply-shaped
      assertMatrix(ovs, expected);
    } finally {
      servers.forEach(Process::destroyForcibly);
    }
  }

  private static void awaitRealized(SluiceRuntime rt, int pods) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      List<SwitchStatus> st = rt.switches().statuses().stream()
          .filter(s -> s.datapathId().endsWith("7e:90") || s.datapathId().endsWith("7e:91")).toList();
      long bound = rt.model().snapshot().bindings().keySet().stream()
          .filter(r -> r.namespace().equals("hw") || r.namespace().equals("hwops")).count();
      if (bound == pods && st.size() == 2
          && st.stream().allMatch(s -> s.connected() && s.realizedGeneration() == rt.model().generation())) {
        Sh.run("ovs-appctl", "revalidator/purge");
        return;
      }
      Ovs.sleep(20);
    }
    throw new AssertionError("not realized: generation " + rt.model().generation() + ", " + rt.switches().statuses());
  }

  private static void assertMatrix(Ovs ovs, Map<String, Boolean> expected) {
    for (String sw : SWITCHES) {
      Map<String, CompletableFuture<Boolean>> probes = new LinkedHashMap<>();
      for (String k : expected.keySet()) {
        String[] p = k.split(" ");
        probes.put(k, CompletableFuture.supplyAsync(() -> p[0].equals("ping")
            ? ovs.inHost(p[1] + sw, 10, "ping", "-c", "1", "-W", "1", ip(sw, p[2])).code() == 0
            : ovs.inHost(p[0] + sw, 10, "nc", "-z", "-w", "1", ip(sw, p[1]), p[2]).code() == 0));
      }
      Map<String, Boolean> observed = new LinkedHashMap<>();
      probes.forEach((k, f) -> observed.put(k, f.join()));
      assertThat(observed).as("observed connectivity on switch " + sw + " (from to port)").isEqualTo(expected);
    }
  }
}
