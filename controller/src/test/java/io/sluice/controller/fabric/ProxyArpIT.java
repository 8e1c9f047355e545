package io.sluice.controller.fabric;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.profile.ProfileChoice;
import io.sluice.controller.profile.Profiles;
import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.sync.SwitchStatus;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.Sh;
import io.sluice.model.Link;
import java.io.File;
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
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Proxy ARP and ND on real Open vSwitch: two OpenFlow 1.3-only leaves linked to each other (Sluice's LLDP finds the link),
 * pods h1 and h2 on leaf 1 and h3 on leaf 2. h1 asks for h3's address: h1 gets the answer (its neighbour table holds
 * h3's MAC) although the request reached neither h3 nor h2 (tcpdump in both sees no request for that address), so the
 * controller answered it; the controller counts the reply on /metrics. A request for an address nobody knows is still
 * flooded (h2 sees it: the capture works). The same for IPv6: h1 solicits h3's address, gets the controller's
 * neighbour advertisement (the kernel takes it: checksum, flags, option), and neither h2 nor h3 hears the
 * solicitation.
 */
class ProxyArpIT {
  @TempDir
  Path dir;

  static final long L1 = 0x7f51;
  static final long L2 = 0x7f52;
  static final String H1_MAC = "0a:58:0a:4a:01:01";
  static final String H3_MAC = "0a:58:0a:4a:02:01";
  static final String H1_V6 = "fd00:74::1:1";
  static final String H3_V6 = "fd00:74::2:1";

  @ParameterizedTest
  @ValueSource(strings = {"openflow13-generic", "openflow13-single-table"})
  void aRequestForAKnownPodIsAnsweredByTheControllerAndNotFlooded(String profile) throws Exception {
    StringBuilder pods = new StringBuilder(String.join("\n", "apiVersion: v1", "kind: Namespace",
        "metadata: {name: parp}", "---", ""));
    for (String[] p : List.of(new String[] {"h1", "10.74.1.1", H1_V6}, new String[] {"h2", "10.74.1.2", "fd00:74::1:2"},
        new String[] {"h3", "10.74.2.1", H3_V6})) {
      pods.append(String.join("\n", "apiVersion: v1", "kind: Pod", "metadata: {name: " + p[0] + ", namespace: parp}",
          "spec: {containers: [{name: c, image: x}]}", "status: {podIP: " + p[1] + ", podIPs: [{ip: " + p[1]
              + "}, {ip: '" + p[2] + "'}]}", "---", ""));
    }
    Files.writeString(dir.resolve("pods.yaml"), pods.toString());
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of("unix:/var/run/openvswitch/db.sock"), null)
        .withProfiles(ProfileChoice.parse(List.of(String.format("0x%x=%s", L1, profile),
            String.format("0x%x=%s", L2, profile)), null));
    HttpClient http = HttpClient.newHttpClient();
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String b1 = ovs.bridge("pa1", L1, "OpenFlow13", 0);
      String b2 = ovs.bridge("pa2", L2, "OpenFlow13", 0);
      for (String b : List.of(b1, b2)) {
        Ovs.emulateTables(b, Profiles.builtIn(profile).profile());
      }
      String[] ends = ovs.link(b1, b2, "pk");
      Link link = Link.of(L1, FabricIT.ofport(ends[0]), L2, FabricIT.ofport(ends[1]));
      ovs.setController(b1, rt.openflowPort());
      ovs.setController(b2, rt.openflowPort());
      long found = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (!rt.model().snapshot().links().containsValue(link) && System.nanoTime() < found) {
        Ovs.sleep(50);
      }
      assertThat(rt.model().snapshot().links().values()).as("link discovered").contains(link);
      ovs.host(b1, "h1", "10.74.1.1/16", H1_MAC, "parp", "h1");
      ovs.host(b1, "h2", "10.74.1.2/16", "0a:58:0a:4a:01:02", "parp", "h2");
      ovs.host(b2, "h3", "10.74.2.1/16", H3_MAC, "parp", "h3");
      for (String[] h : List.of(new String[] {"h1", H1_V6}, new String[] {"h2", "fd00:74::1:2"},
          new String[] {"h3", H3_V6})) {
        Sh.run("ip", "netns", "exec", ovs.name(h[0]), "ip", "-6", "addr", "add", h[1] + "/64", "dev",
            ovs.name(h[0]) + "-e", "nodad");
      }
      awaitRealized(rt);
      assertThat(ovs.flows(b1)).as("proxy ARP flow for h3 on leaf 1")
          .anyMatch(f -> f.contains("priority=1020") && f.contains("arp_tpa=10.74.2.1"))
          .anyMatch(f -> f.contains("priority=1020") && f.contains("nd_target=" + H3_V6));

      File onH2 = dir.resolve("h2.txt").toFile();
      File onH3 = dir.resolve("h3.txt").toFile();
      Process c2 = capture(ovs, "h2", onH2);
      Process c3 = capture(ovs, "h3", onH3);
      try {
        Ovs.sleep(1500); // tcpdump listening
        ovs.inHost("h1", 5, "ip", "neigh", "flush", "all");
        ovs.inHost("h1", 5, "ip", "-6", "neigh", "flush", "all");
        assertThat(ovs.inHost("h1", 10, "ping", "-c", "1", "-W", "3", "10.74.2.1").code()).as("h1 -> h3").isZero();
        String neigh = ovs.inHost("h1", 5, "ip", "neigh", "show", "10.74.2.1").out();
        assertThat(neigh).as("h1's neighbour entry for h3").contains("lladdr " + H3_MAC);
        // the same over IPv6: the controller's neighbour advertisement (the kernel checks its checksum)
        assertThat(ovs.inHost("h1", 10, "ping", "-6", "-c", "1", "-W", "3", H3_V6).code()).as("h1 -> h3 (IPv6)")
            .isZero();
        String neigh6 = ovs.inHost("h1", 5, "ip", "-6", "neigh", "show", H3_V6).out();
        assertThat(neigh6).as("h1's IPv6 neighbour entry for h3").contains("lladdr " + H3_MAC);
        // an address nobody has: flooded as before, so h2 hears it (the captures see what is flooded)
        ovs.inHost("h1", 5, "ping", "-c", "1", "-W", "1", "10.74.9.9");
        Ovs.sleep(1000);
      } finally {
        c2.destroy();
        c3.destroy();
        c2.waitFor();
        c3.waitFor();
      }
      List<String> h2 = Files.readAllLines(onH2.toPath());
      List<String> h3 = Files.readAllLines(onH3.toPath());
      assertThat(h2).as("h2 heard the request for an unknown address").anyMatch(l -> l.contains("who-has 10.74.9.9"));
      assertThat(h2).as("h2 heard no request for h3").noneMatch(l -> l.contains("who-has 10.74.2.1"));
      assertThat(h3).as("h3 heard no request for itself").noneMatch(l -> l.contains("who-has 10.74.2.1"));
      assertThat(h2).as("h2 heard no solicitation for h3").noneMatch(l -> l.contains("who has " + H3_V6));
      assertThat(h3).as("h3 heard no solicitation for itself").noneMatch(l -> l.contains("who has " + H3_V6));
      String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + rt.httpPort() + "/metrics"))
          .build(), HttpResponse.BodyHandlers.ofString()).body();
      assertThat(metrics).as("replies counted").containsPattern("(?m)^sluice_fabric_proxy_arp_replies_total [1-9]")
          .containsPattern("(?m)^sluice_fabric_proxy_nd_replies_total [1-9]");
    }
  }

  /** tcpdump of ARP in a host's namespace, line-buffered into a file. */
  private static Process capture(Ovs ovs, String host, File out) throws Exception {
    return new ProcessBuilder("ip", "netns", "exec", ovs.name(host), "tcpdump", "-l", "-nn", "-i", ovs.name(host) + "-e",
        "arp or icmp6").redirectOutput(out).redirectError(ProcessBuilder.Redirect.DISCARD).start();
  }

  private static void awaitRealized(SluiceRuntime rt) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      List<SwitchStatus> st = new ArrayList<>(rt.switches().statuses().stream()
          .filter(s -> s.datapathId().endsWith(":7f:51") || s.datapathId().endsWith(":7f:52")).toList());
      long bound = rt.model().snapshot().bindings().keySet().stream().filter(r -> r.namespace().equals("parp")).count();
      if (bound == 3 && st.size() == 2
          && st.stream().allMatch(s -> s.connected() && s.realizedGeneration() == rt.model().generation())) {
        return;
      }
      Ovs.sleep(50);
    }
    throw new AssertionError("not realized: generation " + rt.model().generation() + ", " + rt.switches().statuses());
  }
}
