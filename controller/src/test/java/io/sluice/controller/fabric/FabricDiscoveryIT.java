package io.sluice.controller.fabric;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.controller.profile.ProfileChoice;
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
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * Topology discovery and host tracking on real OVS: three OpenFlow 1.3-only bridges given openflow13-generic, joined
 * in a triangle by veth pairs, and two namespace hosts that are not pods. Sluice's LLDP must find exactly the three
 * links with the right ports, the hosts' ARP must put them on the right switch and port, a link taken down must go at
 * once (port-status) while the others stay, and come back when it is up again. The loop is cabled before any bridge
 * has a controller (no flows: nothing floods) and the hosts come after discovery, so nothing floods around it.
 */
class FabricDiscoveryIT {
  private static final long A = 0x7f31;
  private static final long B = 0x7f32;
  private static final long C = 0x7f33;
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void discoversTheTriangleAndItsHostsAndFollowsALinkDownAndUp() throws Exception {
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2)
        .withProfiles(ProfileChoice.parse(List.of("0x7f31=openflow13-generic", "0x7f32=openflow13-generic",
            "0x7f33=openflow13-generic"), null));
    HttpClient http = HttpClient.newHttpClient();
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String brA = ovs.bridge("fa", A, "OpenFlow13", 0);
      String brB = ovs.bridge("fb", B, "OpenFlow13", 0);
      String brC = ovs.bridge("fc", C, "OpenFlow13", 0);
      String[] ab = ovs.link(brA, brB, "ab");
      String[] bc = ovs.link(brB, brC, "bc");
      String[] ca = ovs.link(brC, brA, "ca");
      for (String[] l : List.of(ab, bc, ca)) {
        for (String i : l) {
          Sh.quiet("sysctl", "-q", "-w", "net.ipv6.conf." + i + ".disable_ipv6=1"); // no kernel chatter on the loop
        }
      }
      Set<String> expected = new TreeSet<>(List.of(
          link(A, ofport(ab[0]), B, ofport(ab[1])),
          link(B, ofport(bc[0]), C, ofport(bc[1])),
          link(A, ofport(ca[1]), C, ofport(ca[0]))));
      long t0 = System.nanoTime();
      for (String br : List.of(brA, brB, brC)) {
        ovs.setController(br, rt.openflowPort());
      }
      Set<String> links = await(http, rt, "the three links", 15, s -> s.equals(expected));
      double discovered = seconds(t0);
      System.out.printf("BENCH fabric.discovery_s %.2f (3 links, from set-controller, --lldp-interval 1s)%n", discovered);
      assertThat(links).isEqualTo(expected);
      awaitRealized(rt);

      // two hosts that are not pods, on A and on C; each pings the other, so each sends ARP
      String h1 = ovs.host(brA, "h1", "10.73.0.1/24", "0a:58:0a:49:00:01", null, null);
      String h2 = ovs.host(brC, "h2", "10.73.0.2/24", "0a:58:0a:49:00:02", null, null);
      ovs.inHost("h1", 10, "ping", "-c", "2", "-W", "1", "10.73.0.2");
      ovs.inHost("h2", 10, "ping", "-c", "2", "-W", "1", "10.73.0.1");
      String want1 = host("0a:58:0a:49:00:01", "10.73.0.1", A, ofport(h1));
      String want2 = host("0a:58:0a:49:00:02", "10.73.0.2", C, ofport(h2));
      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      Set<String> hosts = Set.of();
      while (System.nanoTime() < deadline) {
        hosts = hosts(get(http, rt, "/api/v1/hosts"));
        if (hosts.equals(Set.of(want1, want2))) {
          break;
        }
        Ovs.sleep(100);
      }
      assertThat(hosts).as("/api/v1/hosts").isEqualTo(Set.of(want1, want2));
      assertThat(hosts(JSON.readTree(get(http, rt, "/api/v1/topology")).get("hosts").toString())).isEqualTo(Set.of(want1, want2));
      assertThat(rt.model().snapshot().hosts()).containsOnlyKeys("0a:58:0a:49:00:01", "0a:58:0a:49:00:02");
      assertThat(rt.model().snapshot().links()).hasSize(3);

      // one link down: it goes at once (port-status), the others stay
      String abLink = link(A, ofport(ab[0]), B, ofport(ab[1]));
      Set<String> without = new TreeSet<>(expected);
      without.remove(abLink);
      long t1 = System.nanoTime();
      Sh.run("ip", "link", "set", ab[0], "down");
      assertThat(await(http, rt, "link A-B gone", 10, s -> s.equals(without))).isEqualTo(without);
      double down = seconds(t1);
      System.out.printf("BENCH fabric.link_down_s %.2f (ip link set down to /api/v1/topology without it)%n", down);
      assertThat(down).as("port-status, not the 3-interval timeout").isLessThan(2.5);
      Ovs.sleep(3500); // longer than the LLDP timeout: the others are still heard
      assertThat(links(get(http, rt, "/api/v1/topology"))).isEqualTo(without);

      long t2 = System.nanoTime();
      Sh.run("ip", "link", "set", ab[0], "up");
      assertThat(await(http, rt, "link A-B back", 10, s -> s.equals(expected))).isEqualTo(expected);
      System.out.printf("BENCH fabric.link_up_s %.2f (ip link set up to /api/v1/topology with it again)%n",
          seconds(t2));

      String metrics = get(http, rt, "/metrics");
      assertThat(metrics).contains("sluice_fabric_links 3.0").contains("sluice_fabric_hosts 2.0")
          .contains("sluice_fabric_lldp_sent_total");
    }
  }

  private static double seconds(long since) {
    return (System.nanoTime() - since) / 1e9;
  }

  private static long ofport(String iface) {
    return Long.parseLong(Sh.run("ovs-vsctl", "get", "Interface", iface, "ofport").trim());
  }

  private static String dpid(long d) {
    return org.projectfloodlight.openflow.types.DatapathId.of(d).toString();
  }

  private static String link(long d1, long p1, long d2, long p2) {
    String a = dpid(d1) + "/" + p1;
    String b = dpid(d2) + "/" + p2;
    return a.compareTo(b) < 0 ? a + " " + b : b + " " + a;
  }

  private static String host(String mac, String ip, long dpid, long port) {
    return mac + " " + ip + " " + dpid(dpid) + "/" + port;
  }

  private static Set<String> links(String topology) throws Exception {
    Set<String> out = new TreeSet<>();
    Set<String> ours = Set.of(dpid(A), dpid(B), dpid(C));
    for (JsonNode l : JSON.readTree(topology).get("links")) {
      if (ours.contains(l.get("a").asText()) || ours.contains(l.get("b").asText())) {
        out.add(link(dpidOf(l.get("a").asText()), l.get("aPort").asLong(), dpidOf(l.get("b").asText()),
            l.get("bPort").asLong()));
      }
    }
    return out;
  }

  private static long dpidOf(String text) {
    return Long.parseUnsignedLong(text.replace(":", ""), 16);
  }

  private static Set<String> hosts(String json) throws Exception {
    Set<String> out = new TreeSet<>();
    for (JsonNode h : JSON.readTree(json)) {
      if (h.get("mac").asText().startsWith("0a:58:0a:49:")) {
        out.add(h.get("mac").asText() + " " + String.join(",", JSON.convertValue(h.get("ips"), String[].class)) + " "
            + h.get("dpid").asText() + "/" + h.get("port").asLong());
      }
    }
    return out;
  }

  private static Set<String> await(HttpClient http, SluiceRuntime rt, String what, int timeoutSeconds,
                                   Predicate<Set<String>> done) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(timeoutSeconds).toNanos();
    Set<String> seen = Set.of();
    while (System.nanoTime() < deadline) {
      seen = links(get(http, rt, "/api/v1/topology"));
      if (done.test(seen)) {
        return seen;
      }
      Ovs.sleep(50);
    }
    return seen;
  }

  private static void awaitRealized(SluiceRuntime rt) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      List<SwitchStatus> st = rt.switches().statuses().stream().filter(s -> s.datapathId().startsWith("00:00")
          && Set.of(A, B, C).contains(dpidOf(s.datapathId()))).toList();
      if (st.size() == 3 && st.stream().allMatch(s -> s.connected() && s.realizedGeneration() == rt.model().generation())) {
        return;
      }
      Ovs.sleep(20);
    }
    throw new AssertionError("not realized: generation " + rt.model().generation() + ", " + rt.switches().statuses());
  }

  private static String get(HttpClient http, SluiceRuntime rt, String path) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + rt.httpPort() + path))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("GET %s: %s", path, r.body()).isEqualTo(200);
    return r.body();
  }
}
