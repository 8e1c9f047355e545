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
 * Services on real traffic: a ClusterIP load-balanced by select groups and conntrack NAT on a real bridge, pods as
 * namespace hosts bound through OVSDB, reaching the virtual address through a gateway no port owns.
 */
class ServiceIT {
  private static final String VIP = "10.96.72.10";
  private static final String GATEWAY = "10.72.0.254";
  private static final String GATEWAY_MAC = "02:00:0a:48:00:fe";
  private final ObjectMapper json = new ObjectMapper();

  @TempDir
  Path dir;
  @TempDir
  Path scripts;

  private static String pod(String name, String ip, String app) {
    return String.join("\n", "apiVersion: v1", "kind: Pod",
        "metadata: {name: " + name + ", namespace: svc72, labels: {app: " + app + "}}",
        "spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]}",
        "status: {podIP: " + ip + "}", "---", "");
  }

  /** The Service's EndpointSlice listing the given web pods (web-N at 10.72.0.(10+N)), all ready. */
  private static String slice(int... webs) {
    StringBuilder sb = new StringBuilder(String.join("\n", "apiVersion: discovery.k8s.io/v1", "kind: EndpointSlice",
        "metadata: {name: web-1abc, namespace: svc72, labels: {kubernetes.io/service-name: web}}",
        "addressType: IPv4", "ports: [{name: http, port: 8080, protocol: TCP}]", "endpoints:" + (webs.length == 0 ? " []" : ""), ""));
    for (int n : webs) {
      sb.append("- addresses: [10.72.0.").append(10 + n).append("]\n")
          .append("  conditions: {ready: true}\n")
          .append("  targetRef: {kind: Pod, namespace: svc72, name: web-").append(n).append("}\n");
    }
    return sb.toString();
  }

  @Test
  void aClusterIpReachesEveryEndpointAndLongLivedConnectionsSurviveScaling() throws Exception {
    Files.writeString(dir.resolve("ns.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: svc72}\n");
    Files.writeString(dir.resolve("pods.yaml"), pod("client", "10.72.0.10", "client") + pod("web-1", "10.72.0.11", "web")
        + pod("web-2", "10.72.0.12", "web") + pod("web-3", "10.72.0.13", "web") + pod("web-4", "10.72.0.14", "web"));
    Files.writeString(dir.resolve("svc.yaml"), String.join("\n", "apiVersion: v1", "kind: Service",
        "metadata: {name: web, namespace: svc72}",
        "spec: {clusterIP: " + VIP + ", clusterIPs: [" + VIP + "], selector: {app: web},",
        "  ports: [{name: http, port: 80, targetPort: http, protocol: TCP}]}", ""));
    Files.writeString(dir.resolve("slice.yaml"), slice(1, 2, 3));
    copy("named_server.py");
    copy("client.py");
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of("unix:/var/run/openvswitch/db.sock"), null);
    List<Process> processes = new ArrayList<>();
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String br = ovs.bridge("sv", 0x7e72, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      host(ovs, br, "cli", "client", 10);
      for (int n = 1; n <= 4; n++) {
        host(ovs, br, "w" + n, "web-" + n, 10 + n);
        processes.add(start(ovs, "w" + n, "/usr/bin/python3", scripts.resolve("named_server.py").toString(),
            "web-" + n, "8080", "120"));
      }
      awaitRealized(rt, 5);
      Process client = start(ovs, "cli", "/usr/bin/python3", scripts.resolve("client.py").toString(), VIP, "80");
      processes.add(client);
      Writer in = new OutputStreamWriter(client.getOutputStream(), StandardCharsets.UTF_8);
      BufferedReader out = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8));

      JsonNode burst = ask(in, out, "burst 200");
      assertThat(burst.get("failed").asInt()).as(burst.toString()).isZero();
      assertThat(names(burst)).as(burst.toString()).containsExactly("web-1", "web-2", "web-3");
      assertThat(burst.get("peers").toString()).as("the endpoint sees the client's own address").isEqualTo("[\"10.72.0.10\"]");

      // hairpin: an endpoint reaching its own Service; when it picks itself, it sees the hairpin source address
      Process self = start(ovs, "w1", "/usr/bin/python3", scripts.resolve("client.py").toString(), VIP, "80");
      processes.add(self);
      Writer selfIn = new OutputStreamWriter(self.getOutputStream(), StandardCharsets.UTF_8);
      JsonNode hairpin = ask(selfIn, new BufferedReader(new InputStreamReader(self.getInputStream(), StandardCharsets.UTF_8)),
          "burst 40");
      assertThat(hairpin.get("failed").asInt()).as(hairpin.toString()).isZero();
      assertThat(names(hairpin)).as(hairpin.toString()).contains("web-1");
      assertThat(hairpin.get("peers").toString()).as(hairpin.toString()).isEqualTo("[\"10.72.0.11\",\"169.254.0.253\"]");
      selfIn.close();

      JsonNode held = ask(in, out, "open 12");
      List<String> heldNames = new ArrayList<>();
      held.get("names").forEach(n -> heldNames.add(n.asText()));
      assertThat(heldNames).doesNotContain("null");

      // 3 -> 2 endpoints: new connections avoid web-3; every long-lived one stays where it was
      Files.writeString(dir.resolve("slice.yaml"), slice(1, 2));
      awaitSlice(rt, 2);
      awaitRealized(rt, 5);
      assertThat(names(ask(in, out, "check").get("names"))).as("long-lived connections after 3 -> 2")
          .isEqualTo(new TreeSet<>(heldNames));
      assertThat(list(ask(in, out, "check").get("names"))).isEqualTo(heldNames);
      JsonNode two = ask(in, out, "burst 60");
      assertThat(two.get("failed").asInt()).as(two.toString()).isZero();
      assertThat(names(two)).as(two.toString()).containsExactly("web-1", "web-2");

      // 2 -> 4 endpoints
      Files.writeString(dir.resolve("slice.yaml"), slice(1, 2, 3, 4));
      awaitSlice(rt, 4);
      awaitRealized(rt, 5);
      assertThat(list(ask(in, out, "check").get("names"))).as("long-lived connections after 2 -> 4").isEqualTo(heldNames);
      JsonNode four = ask(in, out, "burst 200");
      assertThat(four.get("failed").asInt()).as(four.toString()).isZero();
      assertThat(names(four)).as(four.toString()).containsExactly("web-1", "web-2", "web-3", "web-4");

      // no endpoint left: new connections are refused (RST from the controller path), not blackholed
      Files.writeString(dir.resolve("slice.yaml"), slice());
      awaitSlice(rt, 0);
      awaitRealized(rt, 5);
      JsonNode none = ask(in, out, "burst 20");
      assertThat(none.get("refused").asInt()).as(none.toString()).isEqualTo(20);
      in.close();
    } finally {
      ServiceHosts.stop(processes);
    }
  }

  /**
   * NetworkPolicy judges the translated connection: the backends admit only role=frontend, and the frontend's egress
   * allows only the backends' addresses and port; both apply to traffic addressed to the Service's virtual address.
   * The Service's EndpointSlice is derived from its selector (no slice in the manifests).
   */
  @Test
  void policiesJudgeTheTranslatedConnection() throws Exception {
    String ns = "svc74";
    Files.writeString(dir.resolve("ns.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + ns + "}\n");
    StringBuilder pods = new StringBuilder();
    String[][] all = {{"fe", "10.74.0.10", "role: frontend"}, {"other", "10.74.0.20", "role: other"},
        {"web-1", "10.74.0.11", "app: web"}, {"web-2", "10.74.0.12", "app: web"}, {"db", "10.74.0.30", "app: db"}};
    for (String[] p : all) {
      pods.append(String.join("\n", "apiVersion: v1", "kind: Pod",
          "metadata: {name: " + p[0] + ", namespace: " + ns + ", labels: {" + p[2] + "}}",
          "spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]}",
          "status: {podIP: " + p[1] + "}", "---", ""));
    }
    Files.writeString(dir.resolve("pods.yaml"), pods.toString());
    Files.writeString(dir.resolve("svc.yaml"), String.join("\n", "apiVersion: v1", "kind: Service",
        "metadata: {name: web, namespace: " + ns + "}",
        "spec: {clusterIP: 10.96.74.10, selector: {app: web}, ports: [{name: http, port: 80, targetPort: http}]}", ""));
    Files.writeString(dir.resolve("policies.yaml"), String.join("\n",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: web-from-frontend, namespace: " + ns + "}",
        "spec:", "  podSelector: {matchLabels: {app: web}}",
        "  ingress: [{from: [{podSelector: {matchLabels: {role: frontend}}}], ports: [{port: 8080}]}]", "---",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: fe-egress, namespace: " + ns + "}",
        "spec:", "  podSelector: {matchLabels: {role: frontend}}", "  policyTypes: [Egress]",
        "  egress: [{to: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 8080}]}]", ""));
    copy("named_server.py");
    copy("client.py");
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of("unix:/var/run/openvswitch/db.sock"), null);
    List<Process> processes = new ArrayList<>();
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String br = ovs.bridge("sp", 0x7e74, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      int n = 0;
      for (String[] p : all) {
        String mac = String.format("0a:58:0a:4a:00:%02x", ++n);
        ServiceHosts.host(ovs, br, p[0], p[1] + "/24", mac, ns, p[0], "10.74.0.254", GATEWAY_MAC);
        if (!p[0].equals("fe") && !p[0].equals("other")) {
          processes.add(start(ovs, p[0], "/usr/bin/python3", scripts.resolve("named_server.py").toString(), p[0], "8080", "120"));
        }
      }
      awaitRealized(rt, ns, all.length);
      assertThat(rt.model().snapshot().endpointSlices().values()).as("a slice derived from the Service's selector")
          .anySatisfy(sl -> assertThat(sl.serviceName()).isEqualTo("web"));

      JsonNode allowed = burst(ovs, processes, "fe", "10.96.74.10", "80", 30);
      assertThat(allowed.get("failed").asInt()).as("frontend to the Service: " + allowed).isZero();
      assertThat(names(allowed)).as(allowed.toString()).containsExactly("web-1", "web-2");
      JsonNode denied = burst(ovs, processes, "other", "10.96.74.10", "80", 4);
      assertThat(denied.get("failed").asInt()).as("not a frontend: the backends' ingress drops it: " + denied).isEqualTo(4);
      assertThat(denied.get("refused").asInt()).as("dropped, not refused").isZero();
      JsonNode egress = burst(ovs, processes, "fe", "10.74.0.30", "8080", 4);
      assertThat(egress.get("failed").asInt()).as("frontend to db: its egress allows only the backends: " + egress)
          .isEqualTo(4);
    } finally {
      ServiceHosts.stop(processes);
    }
  }

  private JsonNode burst(Ovs ovs, List<Process> processes, String from, String address, String port, int n)
      throws Exception {
    Process c = start(ovs, from, "/usr/bin/python3", scripts.resolve("client.py").toString(), address, port);
    processes.add(c);
    Writer in = new OutputStreamWriter(c.getOutputStream(), StandardCharsets.UTF_8);
    JsonNode r = ask(in, new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8)), "burst " + n);
    in.close();
    return r;
  }

  private void copy(String resource) throws Exception {
    try (InputStream s = getClass().getResourceAsStream("/service/" + resource)) {
      Files.copy(s, scripts.resolve(resource));
    }
  }

  private JsonNode ask(Writer in, BufferedReader out, String command) throws Exception {
    in.write(command + "\n");
    in.flush();
    String line = CompletableFuture.supplyAsync(() -> {
      try {
        return out.readLine();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }).get(120, TimeUnit.SECONDS);
    assertThat(line).as("client answer to '" + command + "'").isNotNull();
    return json.readTree(line);
  }

  private static Set<String> names(JsonNode result) {
    JsonNode n = result.has("names") ? result.get("names") : result;
    Set<String> out = new TreeSet<>();
    if (n.isArray()) {
      n.forEach(x -> out.add(x.asText()));
    } else {
      n.fieldNames().forEachRemaining(out::add);
    }
    return out;
  }

  private static List<String> list(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(x -> out.add(x.asText()));
    return out;
  }

  /** A pod host at 10.72.0.N/24 whose default route goes through a gateway no port owns. */
  private static void host(Ovs ovs, String br, String suffix, String pod, int n) {
    ServiceHosts.host(ovs, br, suffix, "10.72.0." + n + "/24", String.format("0a:58:0a:48:00:%02x", n), "svc72", pod,
        GATEWAY, GATEWAY_MAC);
  }

  private static Process start(Ovs ovs, String suffix, String... cmd) throws Exception {
    return ServiceHosts.start(ovs, suffix, 300, cmd);
  }

  private static void awaitSlice(SluiceRuntime rt, int endpoints) {
    ServiceHosts.awaitSlice(rt, "web", endpoints);
  }

  private static void awaitRealized(SluiceRuntime rt, int pods) {
    ServiceHosts.awaitRealizedAndPurge(rt, "svc72", pods);
  }

  private static void awaitRealized(SluiceRuntime rt, String namespace, int pods) {
    ServiceHosts.awaitRealizedAndPurge(rt, namespace, pods);
  }
}
