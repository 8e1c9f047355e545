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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * IPv6 and dual-stack Services on real traffic: dual-stack pods (namespace hosts with an IPv4 and an IPv6 address, both
 * reaching virtual addresses through a gateway no port owns), an IPv6-only Service and a dual-stack one, TCP
 * connections to each virtual address spread over the endpoints, which answer with their names.
 */
class Ipv6ServiceIT {
  private static final String NS = "svc76";
  private static final String VIP6 = "fd00:96::76:10";
  private static final String DUAL_VIP4 = "10.96.76.20";
  private static final String DUAL_VIP6 = "fd00:96::76:20";
  private static final String EMPTY_VIP6 = "fd00:96::76:30";
  private static final String GATEWAY4 = "10.76.0.254";
  private static final String GATEWAY6 = "fd00:76::fe";
  private static final String GATEWAY_MAC = "02:00:0a:4c:00:fe";
  private final ObjectMapper json = new ObjectMapper();

  @TempDir
  Path dir;
  @TempDir
  Path scripts;

  private static String v4(int n) {
    return "10.76.0." + n;
  }

  private static String v6(int n) {
    return "fd00:76::" + Integer.toHexString(n);
  }

  private static String pod(String name, int n, String app) {
    return String.join("\n", "apiVersion: v1", "kind: Pod",
        "metadata: {name: " + name + ", namespace: " + NS + ", labels: {app: " + app + "}}",
        "spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]}",
        "status: {podIP: " + v4(n) + ", podIPs: [{ip: " + v4(n) + "}, {ip: '" + v6(n) + "'}]}", "---", "");
  }

  private static String service(String name, String families, String... vips) {
    return String.join("\n", "apiVersion: v1", "kind: Service", "metadata: {name: " + name + ", namespace: " + NS + "}",
        "spec: {clusterIP: '" + vips[0] + "', clusterIPs: ['" + String.join("', '", vips) + "'], ipFamilies: [" + families + "],",
        "  ipFamilyPolicy: " + (vips.length == 2 ? "RequireDualStack" : "SingleStack") + ", selector: {app: web},",
        "  ports: [{name: http, port: 80, targetPort: http, protocol: TCP}]}", "---", "");
  }

  /** A slice of one family listing web-1..3 (pods 11..13), all ready. */
  private static String slice(String service, String suffix, boolean ipv6) {
    StringBuilder sb = new StringBuilder(String.join("\n", "apiVersion: discovery.k8s.io/v1", "kind: EndpointSlice",
        "metadata: {name: " + service + "-" + suffix + ", namespace: " + NS + ", labels: {kubernetes.io/service-name: " + service + "}}",
        "addressType: " + (ipv6 ? "IPv6" : "IPv4"), "ports: [{name: http, port: 8080, protocol: TCP}]", "endpoints:", ""));
    for (int n = 11; n <= 13; n++) {
      sb.append("- addresses: ['").append(ipv6 ? v6(n) : v4(n)).append("']\n")
          .append("  conditions: {ready: true}\n")
          .append("  targetRef: {kind: Pod, namespace: " + NS + ", name: web-").append(n - 10).append("}\n");
    }
    return sb.append("---\n").toString();
  }

  @Test
  void ipv6AndDualStackVirtualAddressesReachEveryEndpoint() throws Exception {
    Files.writeString(dir.resolve("ns.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + NS + "}\n");
    Files.writeString(dir.resolve("pods.yaml"), pod("client", 10, "client") + pod("web-1", 11, "web")
        + pod("web-2", 12, "web") + pod("web-3", 13, "web"));
    Files.writeString(dir.resolve("svc.yaml"), service("web6", "IPv6", VIP6)
        + service("dual", "IPv4, IPv6", DUAL_VIP4, DUAL_VIP6) + service("none6", "IPv6", EMPTY_VIP6).replace("app: web", "app: nobody"));
    Files.writeString(dir.resolve("slice.yaml"), slice("web6", "v6", true) + slice("dual", "v4", false)
        + slice("dual", "v6", true));
    copy("named_server.py");
    copy("client.py");
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of("unix:/var/run/openvswitch/db.sock"), null);
    List<Process> processes = new ArrayList<>();
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String br = ovs.bridge("s6", 0x7e76, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      String[] names = {"cli", "w1", "w2", "w3"};
      String[] pods = {"client", "web-1", "web-2", "web-3"};
      for (int i = 0; i < names.length; i++) {
        int n = 10 + i;
        ServiceHosts.host(ovs, br, names[i], v4(n) + "/24", String.format("0a:58:0a:4c:00:%02x", n), NS, pods[i],
            GATEWAY4, GATEWAY_MAC);
        ServiceHosts.addIpv6(ovs, names[i], v6(n) + "/64", GATEWAY6, GATEWAY_MAC);
        if (i > 0) {
          for (String bind : new String[] {"0.0.0.0", "::"}) {
            processes.add(ServiceHosts.start(ovs, names[i], 120, "/usr/bin/python3",
                scripts.resolve("named_server.py").toString(), pods[i], "8080", "60", bind));
          }
        }
      }
      ServiceHosts.awaitRealizedAndPurge(rt, NS, 4);
      assertThat(ovs.flows(br)).as("table 11 of the IPv6 and dual-stack Services")
          .anyMatch(f -> f.contains("table=11") && f.contains("tcp6,ipv6_dst=" + VIP6 + ",tp_dst=80"))
          .anyMatch(f -> f.contains("table=11") && f.contains("tcp6,ipv6_dst=" + DUAL_VIP6 + ",tp_dst=80"))
          .anyMatch(f -> f.contains("table=11") && f.contains("tcp,nw_dst=" + DUAL_VIP4 + ",tp_dst=80"));

      // the endpoints directly, over IPv6 (the pods' own path works before the Services are judged)
      JsonNode direct = burst(ovs, processes, v6(12), "8080", 3);
      assertThat(direct.get("failed").asInt()).as("client to web-2 over IPv6: " + direct).isZero();

      for (String vip : new String[] {VIP6, DUAL_VIP6, DUAL_VIP4}) {
        JsonNode r = burst(ovs, processes, vip, "80", 60);
        assertThat(r.get("failed").asInt()).as(vip + ": " + r).isZero();
        assertThat(names(r)).as(vip + ": " + r).containsExactly("web-1", "web-2", "web-3");
        assertThat(r.get("peers").toString()).as("the endpoints see the client's own address: " + r)
            .isEqualTo("[\"" + (vip.contains(":") ? v6(10) : v4(10)) + "\"]");
      }

      // no endpoint: the controller refuses IPv6 connections too (a TCP RST), nothing is blackholed
      JsonNode none = burst(ovs, processes, EMPTY_VIP6, "80", 5);
      assertThat(none.get("refused").asInt()).as(EMPTY_VIP6 + ": " + none).isEqualTo(5);
    } finally {
      ServiceHosts.stop(processes);
    }
  }

  /** N short connections from the client to ADDRESS:PORT; a connection completes only if replies come from there. */
  private JsonNode burst(Ovs ovs, List<Process> processes, String address, String port, int n) throws Exception {
    Process c = ServiceHosts.start(ovs, "cli", 120, "/usr/bin/python3", scripts.resolve("client.py").toString(), address,
        port);
    processes.add(c);
    Writer in = new OutputStreamWriter(c.getOutputStream(), StandardCharsets.UTF_8);
    BufferedReader out = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8));
    in.write("burst " + n + "\n");
    in.close();
    String line = out.readLine();
    assertThat(line).as("client answer to burst " + n + " to " + address).isNotNull();
    return json.readTree(line);
  }

  private void copy(String resource) throws Exception {
    try (InputStream s = getClass().getResourceAsStream("/service/" + resource)) {
      Files.copy(s, scripts.resolve(resource));
    }
  }

  private static Set<String> names(JsonNode result) {
    Set<String> out = new TreeSet<>();
    result.get("names").fieldNames().forEachRemaining(out::add);
    return out;
  }
}
