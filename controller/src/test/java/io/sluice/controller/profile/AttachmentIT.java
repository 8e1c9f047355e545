package io.sluice.controller.profile;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.sync.SwitchStatus;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.Sh;
import io.sluice.model.ObjectRef;
import io.sluice.model.PortBinding;
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
 * A Kubernetes node behind a top-of-rack port ({@code sluice.io/attachment}), on real traffic through a bridge that
 * emulates an {@code openflow13-generic} switch. The node is one namespace host on one port holding its own address
 * and the addresses of its two pods, a and b (a client picks which one it is by its source address, as the pods'
 * traffic leaves the node). Two more pods, web and db, sit on ports of their own. db admits only a; b may send
 * nothing (egress isolated). The switch must tell a, b and the node apart on their shared port: a reaches db, b
 * reaches nobody, the node reaches web (judged as from outside, not dropped as a stranger on a pod's port), and
 * db's and web's replies reach a, b and the node.
 */
class AttachmentIT {
  private static final long DPID = 0x7e93L;

  @TempDir
  Path dir;

  private static String pod(String name, String ip, String labels, String node) {
    return String.join("\n", "apiVersion: v1", "kind: Pod",
        "metadata: {name: " + name + ", namespace: tor, labels: {" + labels + "}}",
        "spec: {" + (node == null ? "" : "nodeName: " + node + ", ") + "containers: [{name: c, image: x}]}",
        "status: {podIP: " + ip + (node == null ? "" : ", hostIP: 10.73.0.100") + "}", "---", "");
  }

  @Test
  void podsBehindTheirNodesPortAreToldApartByTheirAddresses() throws Exception {
    Files.writeString(dir.resolve("ns.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: tor}\n");
    Files.writeString(dir.resolve("pods.yaml"), pod("a", "10.73.0.11", "app: a", "tor-node")
        + pod("b", "10.73.0.12", "app: b", "tor-node") + pod("web", "10.73.0.20", "app: web", null)
        + pod("db", "10.73.0.21", "app: db", null));
    Files.writeString(dir.resolve("policy.yaml"), String.join("\n",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: db-from-a, namespace: tor}",
        "spec:", "  podSelector: {matchLabels: {app: db}}", "  ingress:",
        "  - from: [{podSelector: {matchLabels: {app: a}}}]", "    ports: [{port: 5432}]", "---",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: b-sends-nothing, namespace: tor}",
        "spec:", "  podSelector: {matchLabels: {app: b}}", "  policyTypes: [Egress]", ""));
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of("unix:/var/run/openvswitch/db.sock"), null)
        .withProfiles(ProfileChoice.parse(List.of("0x7e93=openflow13-generic"), null));
    List<Process> servers = new ArrayList<>();
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String br = ovs.bridge("tor", DPID, "OpenFlow13", 0);
      Ovs.emulateTables(br, Profiles.builtIn("openflow13-generic").profile());
      ovs.setController(br, rt.openflowPort());
      // the node: its own address first, then its pods' (no OVSDB binding: the port is not a pod's)
      String nodePort = ovs.host(br, "nd", "10.73.0.100/24", "0a:58:0a:49:00:64", null, null);
      for (String ip : List.of("10.73.0.11/24", "10.73.0.12/24")) {
        ovs.inHost("nd", 10, "ip", "addr", "add", ip, "dev", ovs.name("nd") + "-e");
      }
      ovs.host(br, "web", "10.73.0.20/24", "0a:58:0a:49:00:14", "tor", "web");
      ovs.host(br, "db", "10.73.0.21/24", "0a:58:0a:49:00:15", "tor", "db");
      long ofport = Long.parseLong(Sh.run("ovs-vsctl", "get", "interface", nodePort, "ofport").trim());
      Files.writeString(dir.resolve("node.yaml"), String.join("\n", "apiVersion: v1", "kind: Node",
          "metadata: {name: tor-node, annotations: {sluice.io/attachment: '0x" + Long.toHexString(DPID) + "/" + ofport
              + "'}}", "status: {addresses: [{type: InternalIP, address: 10.73.0.100}]}", ""));
      for (String[] s : new String[][] {{"db", "5432"}, {"web", "80"}, {"nd", "80"}}) {
        servers.add(new ProcessBuilder("ip", "netns", "exec", ovs.name(s[0]), "nc", "-lk", "-p", s[1]).start());
      }
      awaitRealized(rt);
      assertThat(rt.model().snapshot().bindings()).as("a and b sit behind the node's port")
          .containsEntry(new ObjectRef("tor", "a"), new PortBinding(new ObjectRef("tor", "a"), DPID, ofport, null, true))
          .containsEntry(new ObjectRef("tor", "b"), new PortBinding(new ObjectRef("tor", "b"), DPID, ofport, null, true));
      assertThat(ovs.flows(br)).as("the node's port is matched with its pods' source addresses")
          .anyMatch(f -> f.contains("in_port=" + ofport) && f.contains("nw_src=10.73.0.11"))
          .anyMatch(f -> f.contains("in_port=" + ofport) && f.contains("nw_src=10.73.0.12"));

      // "FROM TO PORT": FROM is a, b or node (the node's host, by source address), web or db
      Map<String, Boolean> expected = new LinkedHashMap<>();
      expected.put("a db 5432", true);      // db admits a
      expected.put("b db 5432", false);     // b sends nothing, and db does not admit it
      expected.put("node db 5432", false);  // db admits only a: not its node's neighbour, not the node
      expected.put("a web 80", true);       // web is not isolated
      expected.put("b web 80", false);      // b sends nothing
      expected.put("node web 80", true);    // the node's own address on a pod's port: from outside, not a stranger
      expected.put("web a 80", true);       // replies from the node's port, of a, b and the node
      expected.put("web b 80", true);       // b's ingress is open; its replies are reply-shaped
      expected.put("web node 80", true);
      expected.put("db a 80", true);
      Map<String, CompletableFuture<Boolean>> probes = new LinkedHashMap<>();
      for (String k : expected.keySet()) {
        String[] p = k.split(" ");
        probes.put(k, CompletableFuture.supplyAsync(() -> connects(ovs, p[0], p[1], p[2])));
      }
      Map<String, Boolean> observed = new LinkedHashMap<>();
      probes.forEach((k, f) -> observed.put(k, f.join()));
      // a connection that should open but timed out among ten at once on a busy machine is tried again, alone (a
      // connection that should not open and did is never retried)
      for (Map.Entry<String, Boolean> e : observed.entrySet()) {
        String[] p = e.getKey().split(" ");
        for (int retry = 0; retry < 2 && expected.get(e.getKey()) && !e.getValue(); retry++) {
          e.setValue(connects(ovs, p[0], p[1], p[2]));
        }
      }
      assertThat(observed).as("observed connectivity (from to port); the switch's flows:\n%s",
          String.join("\n", ovs.flowsWithStats(br))).isEqualTo(expected);
    } finally {
      servers.forEach(Process::destroyForcibly);
    }
  }

  private static final Map<String, String> ADDRESS = Map.of("a", "10.73.0.11", "b", "10.73.0.12",
      "node", "10.73.0.100", "web", "10.73.0.20", "db", "10.73.0.21");

  private static boolean connects(Ovs ovs, String from, String to, String port) {
    String host = switch (from) {
      case "a", "b", "node" -> "nd";
      default -> from;
    };
    return ovs.inHost(host, 10, "nc", "-z", "-w", "1", "-s", ADDRESS.get(from), ADDRESS.get(to), port).code() == 0;
  }

  private static void awaitRealized(SluiceRuntime rt) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      List<SwitchStatus> st = rt.switches().statuses().stream().filter(s -> s.datapathId().endsWith("7e:93")).toList();
      long bound = rt.model().snapshot().bindings().keySet().stream().filter(r -> r.namespace().equals("tor")).count();
      if (bound == 4 && rt.model().snapshot().nodes().containsKey("tor-node") && st.size() == 1
          && st.stream().allMatch(s -> s.connected() && s.realizedGeneration() == rt.model().generation())) {
        Sh.run("ovs-appctl", "revalidator/purge");
        return;
      }
      Ovs.sleep(20);
    }
    throw new AssertionError("not realized: generation " + rt.model().generation() + ", " + rt.switches().statuses());
  }
}
