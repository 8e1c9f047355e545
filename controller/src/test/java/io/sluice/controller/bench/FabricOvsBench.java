package io.sluice.controller.bench;

import io.sluice.controller.profile.ProfileChoice;
import io.sluice.controller.profile.Profiles;
import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.Sh;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Fabric figures on real Open vSwitch ({@code deploy/bench.sh fabric-ovs}), OpenFlow 1.3-only bridges given
 * {@code openflow13-generic}:
 * <ul>
 *   <li>{@code fabric.discovery_s}: a 20-switch leaf-spine (4 spines, 16 leaves, 64 links) already wired, Sluice started:
 *   from the start to every link in the model (LLDP).</li>
 *   <li>{@code fabric.reroute_ms}: a 2-spine, 2-leaf fabric, a ping every 2 ms between hosts on the two leaves; the
 *   sending leaf's uplink that carries it goes down: the longest gap in the echo requests reaching the other host.
 *   The leaf's select group watches its ports, so the switch itself moves to the other spine.</li>
 *   <li>{@code fabric.reroute_controller_ms}: the same with a profile without group types (one next hop per
 *   destination, no watched buckets): the gap lasts until the port-status reaches Sluice and the recomputed paths are
 *   on the switches.</li>
 * </ul>
 */
public final class FabricOvsBench {
  private FabricOvsBench() { }

  public static void main(String[] args) throws Exception {
    Ovs.ensureRunning();
    discovery();
    System.out.printf(Locale.ROOT, "BENCH fabric.reroute_ms %d ms%n", reroute(false));
    System.out.printf(Locale.ROOT, "BENCH fabric.reroute_controller_ms %d ms%n", reroute(true));
  }

  static void discovery() throws Exception {
    int spines = 4;
    int leaves = 16;
    Path dir = Files.createTempDirectory("sluice-fabric-bench");
    List<String> profiles = new ArrayList<>();
    Map<String, Long> dpids = new LinkedHashMap<>();
    for (int s = 1; s <= spines; s++) {
      dpids.put("s" + s, 0x7d00L + s);
    }
    for (int l = 1; l <= leaves; l++) {
      dpids.put("l" + l, 0x7d20L + l);
    }
    dpids.values().forEach(d -> profiles.add(String.format("0x%x=openflow13-generic", d)));
    try (Ovs ovs = new Ovs()) {
      Map<String, String> br = new LinkedHashMap<>();
      dpids.forEach((k, d) -> br.put(k, ovs.bridge("d" + k, d, "OpenFlow13", 0)));
      for (int l = 1; l <= leaves; l++) {
        for (int s = 1; s <= spines; s++) {
          ovs.link(br.get("l" + l), br.get("s" + s), "y" + Integer.toHexString(l) + s);
        }
      }
      RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
          Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of(), null)
          .withProfiles(ProfileChoice.parse(profiles, null));
      long t0 = System.nanoTime();
      try (SluiceRuntime rt = SluiceRuntime.start(cfg)) {
        // every bridge pointed at Sluice in one OVSDB transaction, as a configuration tool would
        List<String> cmd = new ArrayList<>(List.of("ovs-vsctl"));
        for (String b : br.values()) {
          cmd.addAll(List.of("--", "set-controller", b, "tcp:127.0.0.1:" + rt.openflowPort(), "--", "set", "controller", b,
              "max_backoff=1000", "inactivity_probe=0"));
        }
        Sh.run(cmd.toArray(String[]::new));
        int want = spines * leaves;
        long deadline = t0 + Duration.ofSeconds(60).toNanos();
        while (rt.model().snapshot().links().size() < want && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }
        int got = rt.model().snapshot().links().size();
        if (got < want) {
          throw new IllegalStateException("only " + got + " of " + want + " links discovered in 60 s");
        }
        System.out.printf(Locale.ROOT, "BENCH fabric.discovery_s %.2f s%n", (System.nanoTime() - t0) / 1e9);
      }
    }
  }

  private static final Pattern SEQ = Pattern.compile("echo request, id \\d+, seq (\\d+)");

  /** The longest gap in a 2 ms ping across a 2x2 leaf-spine when the sender's busy uplink goes down. */
  static long reroute(boolean withoutGroups) throws Exception {
    Path dir = Files.createTempDirectory("sluice-fabric-bench");
    Path profilesDir = Files.createDirectories(dir.resolve("profiles"));
    String generic;
    // a resource of the renderer's jar when run by deploy/bench.sh: read as a stream, not a file
    try (java.io.InputStream in = FabricOvsBench.class.getResourceAsStream(
        "/io/sluice/renderer/profiles/openflow13-generic.yaml")) {
      generic = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    String profile = "openflow13-generic";
    if (withoutGroups) {
      profile = "generic-nogroups";
      Files.writeString(profilesDir.resolve(profile + ".yaml"), generic.replace("name: openflow13-generic",
          "name: generic-nogroups").replace("groupTypes: [all, select, indirect, fast_failover]", "groupTypes: []"));
    }
    Files.writeString(dir.resolve("pods.yaml"), String.join("\n", "apiVersion: v1", "kind: Namespace",
        "metadata: {name: rr}", "---", pod("a", "10.75.1.1"), pod("b", "10.75.2.1")));
    Map<String, Long> dpids = new LinkedHashMap<>(Map.of("s1", 0x7d41L, "s2", 0x7d42L, "l1", 0x7d51L, "l2", 0x7d52L));
    List<String> choice = new ArrayList<>();
    for (long d : dpids.values()) {
      choice.add(String.format("0x%x=%s", d, profile));
    }
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of("unix:/var/run/openvswitch/db.sock"), null)
        .withProfiles(ProfileChoice.parse(choice, profilesDir));
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      Map<String, String> br = new LinkedHashMap<>();
      for (Map.Entry<String, Long> e : dpids.entrySet()) {
        String b = ovs.bridge("r" + e.getKey(), e.getValue(), "OpenFlow13", 0);
        Ovs.emulateTables(b, Profiles.builtIn("openflow13-generic").profile());
        br.put(e.getKey(), b);
      }
      Map<String, String> uplinks = new LinkedHashMap<>(); // leaf-1's end of its link to each spine
      for (String leaf : List.of("l1", "l2")) {
        for (String spine : List.of("s1", "s2")) {
          String[] ends = ovs.link(br.get(leaf), br.get(spine), "z" + leaf.charAt(1) + spine.charAt(1));
          if (leaf.equals("l1")) {
            uplinks.put(spine, ends[0]);
          }
        }
      }
      ovs.host(br.get("l1"), "ha", "10.75.1.1/16", "0a:58:0a:4b:01:01", "rr", "a");
      ovs.host(br.get("l2"), "hb", "10.75.2.1/16", "0a:58:0a:4b:02:01", "rr", "b");
      for (String b : br.values()) {
        ovs.setController(b, rt.openflowPort());
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while ((rt.model().snapshot().links().size() < 4 || rt.model().snapshot().bindings().keySet().stream()
          .filter(r -> r.namespace().equals("rr")).count() < 2) && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      Thread.sleep(2000); // the generation with every link and binding realized everywhere
      if (ovs.inHost("ha", 10, "ping", "-c", "3", "-i", "0.2", "-W", "1", "10.75.2.1").code() != 0) {
        throw new IllegalStateException("no connectivity before the failure");
      }
      // the uplink the flow uses: the one whose transmit counter grows with a burst of pings
      Map<String, Long> before = txPackets(uplinks);
      ovs.inHost("ha", 10, "ping", "-c", "50", "-i", "0.01", "-W", "1", "10.75.2.1");
      Map<String, Long> after = txPackets(uplinks);
      String busy = after.get("s1") - before.get("s1") >= after.get("s2") - before.get("s2") ? "s1" : "s2";
      // one way: the echo requests that reach b, as b's interface sees them (the replies come back by whatever spine
      // b's leaf hashes them to, which is not the failure measured here)
      Path captured = Files.createTempFile(dir, "capture", ".txt");
      Process capture = new ProcessBuilder("ip", "netns", "exec", ovs.name("hb"), "tcpdump", "-l", "-n", "-i",
          ovs.name("hb") + "-e", "icmp[icmptype] == 8").redirectErrorStream(true).redirectOutput(captured.toFile())
          .start();
      Thread.sleep(500);
      Process ping = new ProcessBuilder("ip", "netns", "exec", ovs.name("ha"), "ping", "-q", "-i", "0.002", "-c", "2500",
          "-W", "1", "10.75.2.1").redirectErrorStream(true).start();
      Thread.sleep(1500);
      Sh.run("ip", "link", "set", uplinks.get(busy), "down");
      ping.getInputStream().readAllBytes();
      ping.waitFor();
      Thread.sleep(300);
      capture.destroy();
      capture.waitFor();
      String out = Files.readString(captured);
      long prev = -1;
      long longest = 0;
      Matcher m = SEQ.matcher(out);
      while (m.find()) {
        long seq = Long.parseLong(m.group(1));
        if (prev >= 0) {
          longest = Math.max(longest, seq - prev - 1);
        }
        prev = seq;
      }
      System.err.printf(Locale.ROOT, "fabric bench: %s, uplink to %s down: longest gap %d requests of 2 ms; last seq %d%n",
          withoutGroups ? "no groups" : "select groups", busy, longest, prev);
      if (prev < 2400) {
        throw new IllegalStateException("traffic did not recover: last request seen seq=" + prev + "\n" + out);
      }
      return longest * 2;
    }
  }

  private static Map<String, Long> txPackets(Map<String, String> ports) {
    Map<String, Long> out = new LinkedHashMap<>();
    ports.forEach((k, iface) -> out.put(k, Long.parseLong(Sh.run("ovs-vsctl", "get", "interface", iface,
        "statistics:tx_packets").strip())));
    return out;
  }

  private static String pod(String name, String ip) {
    return String.join("\n", "apiVersion: v1", "kind: Pod", "metadata: {name: " + name + ", namespace: rr}",
        "spec: {containers: [{name: c, image: x}]}", "status: {podIP: " + ip + "}", "---", "");
  }
}
