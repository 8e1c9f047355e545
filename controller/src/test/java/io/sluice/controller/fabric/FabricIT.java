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
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fabric forwarding on real Open vSwitch: a leaf-spine fabric (spines 1 and 2, leaves 1 to 3, every leaf linked to
 * every spine by a veth pair) of OpenFlow 1.3-only bridges given {@code openflow13-generic}, then
 * {@code openflow13-single-table} (only the profile's tables, sizes enforced), two namespace hosts (pods) per leaf,
 * one NetworkPolicy. Every host reaches every other (ping, both ways: pingall), including across the fabric with loops
 * in it (floods follow a spanning tree), the policy still holds at the edge, and the leaves reach remote hosts over
 * both spines (select groups; fast-failover on the single table, which has no select groups). The links are Sluice's
 * own discovery's (LLDP), found before the hosts are added.
 */
class FabricIT {
  @TempDir
  Path dir;

  static final int LEAVES = 3;
  static final int SPINES = 2;

  static String ip(int leaf, int host) {
    return "10.73." + leaf + "." + host;
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"openflow13-generic", "openflow13-single-table"})
  void everyHostReachesEveryOtherAcrossALeafSpineFabric(String profile) throws Exception {
    StringBuilder pods = new StringBuilder(String.join("\n", "apiVersion: v1", "kind: Namespace",
        "metadata: {name: fab, labels: {team: fab}}", "---", ""));
    for (int leaf = 1; leaf <= LEAVES; leaf++) {
      for (int h = 1; h <= 2; h++) {
        pods.append(String.join("\n", "apiVersion: v1", "kind: Pod",
            "metadata: {name: h" + leaf + h + ", namespace: fab, labels: {app: h" + h + "}}",
            "spec: {containers: [{name: c, image: x}]}", "status: {podIP: " + ip(leaf, h) + "}", "---", ""));
      }
    }
    Files.writeString(dir.resolve("pods.yaml"), pods.toString());
    // h?2 pods accept only app=h1 pods on TCP 80: pings to them are dropped at their leaf
    Files.writeString(dir.resolve("policy.yaml"), String.join("\n",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: h2-web, namespace: fab}",
        "spec:", "  podSelector: {matchLabels: {app: h2}}", "  ingress:",
        "  - from: [{podSelector: {matchLabels: {app: h1}}}]", "    ports: [{port: 80}]", ""));
    Map<String, Long> dpids = new LinkedHashMap<>();
    List<String> profiles = new ArrayList<>();
    for (int s = 1; s <= SPINES; s++) {
      dpids.put("s" + s, 0x7f00L + s);
    }
    for (int l = 1; l <= LEAVES; l++) {
      dpids.put("l" + l, 0x7f10L + l);
    }
    dpids.values().forEach(d -> profiles.add(String.format("0x%x=%s", d, profile)));
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of("unix:/var/run/openvswitch/db.sock"), null)
        .withProfiles(ProfileChoice.parse(profiles, null));
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      Map<String, String> br = new LinkedHashMap<>();
      for (Map.Entry<String, Long> e : dpids.entrySet()) {
        String b = ovs.bridge("f" + e.getKey(), e.getValue(), "OpenFlow13", 0);
        Ovs.emulateTables(b, Profiles.builtIn(profile).profile());
        br.put(e.getKey(), b);
      }
      List<Link> links = new ArrayList<>();
      for (int l = 1; l <= LEAVES; l++) {
        for (int s = 1; s <= SPINES; s++) {
          String[] ends = ovs.link(br.get("l" + l), br.get("s" + s), "k" + l + s);
          links.add(Link.of(dpids.get("l" + l), ofport(ends[0]), dpids.get("s" + s), ofport(ends[1])));
        }
      }
      for (String b : br.values()) {
        ovs.setController(b, rt.openflowPort());
      }
      // LLDP finds every link (before any host is there: until then the switches flood on every port)
      long found = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (!rt.model().snapshot().links().values().containsAll(links) && System.nanoTime() < found) {
        Ovs.sleep(50);
      }
      assertThat(rt.model().snapshot().links().values()).as("links discovered").containsExactlyInAnyOrderElementsOf(links);
      for (int l = 1; l <= LEAVES; l++) {
        for (int h = 1; h <= 2; h++) {
          ovs.host(br.get("l" + l), "h" + l + h, ip(l, h) + "/16", String.format("0a:58:0a:49:%02x:%02x", l, h), "fab",
              "h" + l + h);
        }
      }
      awaitRealized(rt, dpids.size(), LEAVES * 2);
      for (String b : br.values()) {
        assertThat(ovs.flows(b)).as("standard OpenFlow 1.3 only on " + b)
            .noneMatch(f -> f.contains("ct_state") || f.contains("conj") || f.contains("NORMAL"));
      }
      // the leaves reach remote hosts over both spines
      String groups = Sh.run("ovs-ofctl", "-O", "OpenFlow13", "dump-groups", br.get("l1"));
      // (the single-table profile has no select groups: fast-failover, the first live uplink)
      assertThat(groups).as(groups).contains(profile.equals("openflow13-generic") ? "type=select" : "type=ff")
          .contains("watch_port");

      // pingall: pings to h?2 are dropped by its policy at its own leaf, everything else passes
      Map<String, CompletableFuture<Boolean>> pings = new LinkedHashMap<>();
      for (int la = 1; la <= LEAVES; la++) {
        for (int ha = 1; ha <= 2; ha++) {
          for (int lb = 1; lb <= LEAVES; lb++) {
            for (int hb = 1; hb <= 2; hb++) {
              if (la == lb && ha == hb) {
                continue;
              }
              String from = "h" + la + ha;
              String to = ip(lb, hb);
              pings.put(from + " -> h" + lb + hb, CompletableFuture.supplyAsync(
                  () -> ovs.inHost(from, 15, "ping", "-c", "2", "-i", "0.2", "-W", "2", to).code() == 0));
            }
          }
        }
      }
      Map<String, Boolean> observed = new LinkedHashMap<>();
      Map<String, Boolean> expected = new LinkedHashMap<>();
      pings.forEach((k, f) -> {
        observed.put(k, f.join());
        expected.put(k, !k.endsWith("2"));
      });
      assertThat(observed).as("pingall across the fabric").isEqualTo(expected);
      // TCP to h32 on 80: from an app=h1 pod on another leaf allowed (across the fabric, replies by the reverse
      // rules), from an app=h2 pod denied
      Process server = new ProcessBuilder("ip", "netns", "exec", ovs.name("h32"), "nc", "-lk", "-p", "80").start();
      try {
        Ovs.sleep(300);
        assertThat(ovs.inHost("h11", 10, "nc", "-z", "-w", "2", ip(3, 2), "80").code()).as("h11 -> h32:80").isZero();
        assertThat(ovs.inHost("h12", 10, "nc", "-z", "-w", "2", ip(3, 2), "80").code()).as("h12 -> h32:80").isNotZero();
      } finally {
        server.destroyForcibly();
      }
    }
  }

  static long ofport(String iface) {
    for (int i = 0; i < 50; i++) {
      String p = Sh.run("ovs-vsctl", "get", "interface", iface, "ofport").strip();
      if (!p.equals("[]") && !p.equals("-1")) {
        return Long.parseLong(p);
      }
      Ovs.sleep(100);
    }
    throw new AssertionError("no OpenFlow port for " + iface);
  }

  private static void awaitRealized(SluiceRuntime rt, int switches, int pods) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      List<SwitchStatus> st = rt.switches().statuses().stream().filter(s -> s.datapathId().contains(":7f:")).toList();
      long bound = rt.model().snapshot().bindings().keySet().stream().filter(r -> r.namespace().equals("fab")).count();
      if (bound == pods && st.size() == switches
          && st.stream().allMatch(s -> s.connected() && s.realizedGeneration() == rt.model().generation())) {
        return;
      }
      Ovs.sleep(50);
    }
    throw new AssertionError("not realized: generation " + rt.model().generation() + ", " + rt.switches().statuses());
  }
}
