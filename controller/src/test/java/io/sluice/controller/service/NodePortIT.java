package io.sluice.controller.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.ServiceHosts;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NodePorts and traffic policies on real OVS, one bridge. The bridge is node np-a's (its Node names the bridge's
 * datapath id in {@code sluice.io/datapath-ids}; InternalIP 192.168.76.1); node np-b (192.168.76.2) names no bridge
 * here. web-1 runs on np-a; web-2's pod says {@code spec.nodeName: np-b}: for Sluice it is a remote endpoint, though
 * with one bridge its port is on this bridge too (Sluice decides locality by nodeName, which is what this shows).
 * The outside client is a host on a port without pod labels (an uplink), on the pods' subnet.
 */
class NodePortIT {
  private static final String GATEWAY = "10.76.0.254";
  private static final String GATEWAY_MAC = "02:00:0a:4c:00:fe";
  private static final String NS = "svc76";
  private final ObjectMapper json = new ObjectMapper();

  @TempDir
  Path dir;
  @TempDir
  Path scripts;

  private static String pod(String name, String ip, String app, String node) {
    return String.join("\n", "apiVersion: v1", "kind: Pod",
        "metadata: {name: " + name + ", namespace: " + NS + ", labels: {app: " + app + "}}",
        "spec: {nodeName: " + node + ", containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]}",
        "status: {podIP: " + ip + "}", "---", "");
  }

  private static String service(String name, String clusterIp, String extra) {
    return String.join("\n", "apiVersion: v1", "kind: Service", "metadata: {name: " + name + ", namespace: " + NS + "}",
        "spec: {clusterIP: " + clusterIp + ", selector: {app: web}, " + extra + "}", "---", "");
  }

  @Test
  void nodePortsAndTrafficPoliciesFollowTheBridgesNode() throws Exception {
    long dpid = 0x7e76;
    Files.writeString(dir.resolve("ns.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + NS + "}\n");
    Files.writeString(dir.resolve("nodes.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Node",
        "metadata: {name: np-a, annotations: {sluice.io/datapath-ids: '0x" + Long.toHexString(dpid) + "'}}",
        "status: {addresses: [{type: InternalIP, address: 192.168.76.1}]}", "---",
        "apiVersion: v1", "kind: Node", "metadata: {name: np-b}",
        "status: {addresses: [{type: InternalIP, address: 192.168.76.2}]}", ""));
    Files.writeString(dir.resolve("pods.yaml"), pod("cli", "10.76.0.10", "client", "np-a")
        + pod("web-1", "10.76.0.11", "web", "np-a") + pod("web-2", "10.76.0.12", "web", "np-b"));
    Files.writeString(dir.resolve("svc.yaml"),
        service("cluster", "10.96.76.10", "type: NodePort, externalIPs: [203.0.113.76], "
            + "ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}]")
        + service("local", "10.96.76.11", "type: NodePort, externalTrafficPolicy: Local, "
            + "ports: [{name: http, port: 80, targetPort: http, nodePort: 30081}]")
        + service("itp", "10.96.76.12", "internalTrafficPolicy: Local, ports: [{name: http, port: 80, targetPort: http}]")
        + service("lb", "10.96.76.13", "type: LoadBalancer, externalTrafficPolicy: Local, healthCheckNodePort: 32000, "
            + "ports: [{name: http, port: 80, targetPort: http, nodePort: 30082}]"));
    copy("named_server.py");
    copy("client.py");
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of("unix:/var/run/openvswitch/db.sock"), null);
    List<Process> processes = new ArrayList<>();
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String br = ovs.bridge("np", dpid, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      String[][] pods = {{"cli", "10"}, {"web-1", "11"}, {"web-2", "12"}};
      for (String[] p : pods) {
        int n = Integer.parseInt(p[1]);
        ServiceHosts.host(ovs, br, p[0], "10.76.0." + n + "/24", String.format("0a:58:0a:4c:00:%02x", n), NS, p[0],
            GATEWAY, GATEWAY_MAC);
        if (p[0].startsWith("web")) {
          processes.add(start(ovs, p[0], "/usr/bin/python3", scripts.resolve("named_server.py").toString(), p[0], "8080",
              "120"));
        }
      }
      // the outside client: an uplink port, no pod labels
      ServiceHosts.host(ovs, br, "ext", "10.76.0.99/24", "0a:58:0a:4c:00:63", null, null, GATEWAY, GATEWAY_MAC);
      ServiceHosts.awaitRealizedAndPurge(rt, NS, 3);
      assertThat(rt.model().snapshot().endpointSlices().values()).filteredOn(s -> !s.endpoints().isEmpty()).hasSize(4);

      JsonNode cluster = burst(ovs, processes, "ext", "192.168.76.1", "30080", 60);
      assertThat(cluster.get("failed").asInt()).as("NodePort, policy Cluster: " + cluster).isZero();
      assertThat(names(cluster)).as(cluster.toString()).containsExactly("web-1", "web-2");
      assertThat(cluster.get("peers").toString()).as("policy Cluster: masqueraded to the node's address")
          .isEqualTo("[\"192.168.76.1\"]");
      JsonNode externalIp = burst(ovs, processes, "ext", "203.0.113.76", "80", 40);
      assertThat(externalIp.get("failed").asInt()).as("external IP, policy Cluster: " + externalIp).isZero();
      assertThat(names(externalIp)).as(externalIp.toString()).containsExactly("web-1", "web-2");
      assertThat(externalIp.get("peers").toString()).as("masqueraded to the node's address: " + externalIp)
          .isEqualTo("[\"192.168.76.1\"]");
      JsonNode podToCluster = burst(ovs, processes, "cli", "10.96.76.10", "80", 20);
      assertThat(podToCluster.get("peers").toString()).as("a pod through the cluster IP keeps its address")
          .isEqualTo("[\"10.76.0.10\"]");

      JsonNode local = burst(ovs, processes, "ext", "192.168.76.1", "30081", 40);
      assertThat(local.get("failed").asInt()).as("NodePort, policy Local: " + local).isZero();
      assertThat(names(local)).as("only np-a's endpoint: " + local).containsExactly("web-1");
      assertThat(local.get("peers").toString()).as("the client's own address").isEqualTo("[\"10.76.0.99\"]");

      JsonNode other = burst(ovs, processes, "ext", "192.168.76.2", "30080", 3);
      assertThat(other.get("failed").asInt()).as("np-b's address is not this bridge's: " + other).isEqualTo(3);
      assertThat(ovs.flows(br)).anySatisfy(f -> assertThat(f).contains("nw_dst=192.168.76.1,tp_dst=30080"))
          .noneSatisfy(f -> assertThat(f).contains("nw_dst=192.168.76.2"));

      // a load balancer's probe of the node's healthCheckNodePort, answered by Sluice through the switch: np-a has
      // one ready endpoint of lb (web-1)
      assertThat(probe(ovs, "192.168.76.1")).isEqualTo("200 {\"service\":{\"namespace\":\"svc76\",\"name\":\"lb\"},"
          + "\"localEndpoints\":1,\"serviceProxyHealthy\":true}");

      JsonNode itp = burst(ovs, processes, "cli", "10.96.76.12", "80", 40);
      assertThat(itp.get("failed").asInt()).as("internal policy Local: " + itp).isZero();
      assertThat(names(itp)).as("a pod on np-a reaches only np-a's endpoint: " + itp).containsExactly("web-1");
      JsonNode clusterIp = burst(ovs, processes, "cli", "10.96.76.10", "80", 60);
      assertThat(names(clusterIp)).as("the same pod through a Cluster Service: " + clusterIp)
          .containsExactly("web-1", "web-2");

      // web-1 leaves np-a: the Local NodePort has no local endpoint and drops (not refuses), as kube-proxy does
      Files.writeString(dir.resolve("pods.yaml"), pod("cli", "10.76.0.10", "client", "np-a")
          + pod("web-1", "10.76.0.11", "web", "np-b") + pod("web-2", "10.76.0.12", "web", "np-b"));
      awaitFlow(ovs, br, "nw_dst=192.168.76.1,tp_dst=30081 actions=drop");
      Sh.purge();
      JsonNode none = burst(ovs, processes, "ext", "192.168.76.1", "30081", 3);
      assertThat(none.get("failed").asInt()).as(none.toString()).isEqualTo(3);
      assertThat(none.get("refused").asInt()).as("dropped, not refused: " + none).isZero();
      assertThat(probe(ovs, "192.168.76.1")).as("no ready endpoint left on np-a")
          .isEqualTo("503 {\"service\":{\"namespace\":\"svc76\",\"name\":\"lb\"},\"localEndpoints\":0,"
              + "\"serviceProxyHealthy\":true}");
      JsonNode itpNone = burst(ovs, processes, "cli", "10.96.76.12", "80", 3);
      assertThat(itpNone.get("failed").asInt()).as(itpNone.toString()).isEqualTo(3);
      assertThat(itpNone.get("refused").asInt()).as("dropped, not refused: " + itpNone).isZero();
    } finally {
      ServiceHosts.stop(processes);
    }
  }

  /** A load balancer's health check from the outside host: {@code curl} of port 32000; "status body". */
  private static String probe(Ovs ovs, String address) {
    String out = io.sluice.controller.testing.Sh.run("ip", "netns", "exec", ovs.name("ext"), "curl", "-s", "-m", "10",
        "-w", "\n%{http_code}", "http://" + address + ":32000/healthz");
    String[] lines = out.strip().split("\n");
    return lines[lines.length - 1] + " " + String.join("\n", java.util.Arrays.copyOf(lines, lines.length - 1));
  }

  /** Small indirection so the purge reads as a step. */
  private static final class Sh {
    static void purge() {
      io.sluice.controller.testing.Sh.run("ovs-appctl", "revalidator/purge");
    }
  }

  private static void awaitFlow(Ovs ovs, String br, String text) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      if (ovs.flows(br).stream().anyMatch(f -> f.contains(text))) {
        return;
      }
      Ovs.sleep(20);
    }
    throw new AssertionError("no flow with " + text + ": " + ovs.flows(br));
  }

  private JsonNode burst(Ovs ovs, List<Process> processes, String from, String address, String port, int n)
      throws Exception {
    Process c = start(ovs, from, "/usr/bin/python3", scripts.resolve("client.py").toString(), address, port);
    processes.add(c);
    Writer in = new OutputStreamWriter(c.getOutputStream(), StandardCharsets.UTF_8);
    BufferedReader out = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8));
    in.write("burst " + n + "\n");
    in.flush();
    String line = CompletableFuture.supplyAsync(() -> {
      try {
        return out.readLine();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }).get(120, TimeUnit.SECONDS);
    in.close();
    assertThat(line).as("client answer from " + from).isNotNull();
    return json.readTree(line);
  }

  private void copy(String resource) throws Exception {
    try (InputStream s = getClass().getResourceAsStream("/service/" + resource)) {
      Files.copy(s, scripts.resolve(resource));
    }
  }

  private static Set<String> names(JsonNode result) {
    JsonNode n = result.get("names");
    Set<String> out = new TreeSet<>();
    n.fieldNames().forEachRemaining(out::add);
    return out;
  }

  private static Process start(Ovs ovs, String suffix, String... cmd) throws Exception {
    return ServiceHosts.start(ovs, suffix, 150, cmd);
  }
}
