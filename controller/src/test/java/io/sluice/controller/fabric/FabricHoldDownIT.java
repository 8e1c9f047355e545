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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The flood hold-down on real Open vSwitch: three OpenFlow 1.3-only bridges in a triangle (a loop) given
 * {@code openflow13-single-table}, which has no meters, so nothing but Sluice bounds a broadcast circling the loop. A
 * host sends a broadcast every 20 ms throughout.
 * <ol>
 *   <li>Sluice starts with the bridges already wired: until LLDP has found the links, nothing is flooded, so the links
 *   carry a few copies of each broadcast (along the spanning tree once it is known), never a storm;</li>
 *   <li>Sluice is replaced by a new process (as a new leader takes over): it leaves the switches' flows as they are
 *   until it has found the links, then pushes only the difference: no flow is re-added (their ages keep growing), and
 *   the links see no storm either.</li>
 * </ol>
 * Both hosts (pods, bound through OVSDB) reach each other after each phase.
 */
class FabricHoldDownIT {
  @TempDir
  Path dir;

  private static final String PROFILE = "openflow13-single-table";
  /** Link copies allowed per packet the hosts send, and for LLDP: a storm is thousands per packet. */
  private static final int COPIES_PER_PACKET = 4;
  private static final int LLDP_ALLOWANCE = 400;

  @Test
  void aMeshedFabricNeverFloodsBeforeItsLinksAreKnownNorWhenANewControllerTakesOver() throws Exception {
    Path manifests = Files.createDirectories(dir.resolve("manifests"));
    StringBuilder pods = new StringBuilder(String.join("\n", "apiVersion: v1", "kind: Namespace",
        "metadata: {name: hold}", "---", ""));
    for (int h = 1; h <= 2; h++) {
      pods.append(String.join("\n", "apiVersion: v1", "kind: Pod", "metadata: {name: th" + h + ", namespace: hold}",
          "spec: {containers: [{name: c, image: x}]}", "status: {podIP: 10.74.0." + h + "}", "---", ""));
    }
    Files.writeString(manifests.resolve("pods.yaml"), pods.toString());
    Map<String, Long> dpids = new LinkedHashMap<>();
    for (String s : List.of("a", "b", "c")) {
      dpids.put(s, 0x7e00L + s.charAt(0));
    }
    List<String> profiles = new ArrayList<>();
    dpids.values().forEach(d -> profiles.add(String.format("0x%x=%s", d, PROFILE)));
    try (Ovs ovs = new Ovs()) {
      Map<String, String> br = new LinkedHashMap<>();
      for (Map.Entry<String, Long> e : dpids.entrySet()) {
        String b = ovs.bridge("t" + e.getKey(), e.getValue(), "OpenFlow13", 0);
        Ovs.emulateTables(b, Profiles.builtIn(PROFILE).profile());
        br.put(e.getKey(), b);
      }
      List<String> linkPorts = new ArrayList<>();
      List<Link> links = new ArrayList<>();
      for (String[] pair : List.of(new String[] {"a", "b"}, new String[] {"b", "c"}, new String[] {"c", "a"})) {
        String[] ends = ovs.link(br.get(pair[0]), br.get(pair[1]), "q" + pair[0] + pair[1]);
        linkPorts.addAll(List.of(ends));
        links.add(Link.of(dpids.get(pair[0]), FabricIT.ofport(ends[0]), dpids.get(pair[1]), FabricIT.ofport(ends[1])));
      }
      List<String> hostPorts = List.of(
          ovs.host(br.get("a"), "th1", "10.74.0.1/16", "0a:58:0a:4a:00:01", "hold", "th1"),
          ovs.host(br.get("b"), "th2", "10.74.0.2/16", "0a:58:0a:4a:00:02", "hold", "th2"));
      // a broadcast every 20 ms, for at most two minutes
      Process broadcaster = new ProcessBuilder("ip", "netns", "exec", ovs.name("th1"), "python3", "-c", String.join("\n",
          "import socket, time",
          "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
          "s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)",
          "end = time.time() + 120",
          "while time.time() < end:",
          "    s.sendto(b'hold-down', ('10.74.255.255', 9))",
          "    time.sleep(0.02)")).redirectErrorStream(true).start();
      try {
        // 1. a controller meets the wired fabric
        Counts before = counts(linkPorts, hostPorts);
        try (SluiceRuntime rt = SluiceRuntime.start(config(profiles))) {
          br.values().forEach(b -> ovs.setController(b, rt.openflowPort()));
          awaitSettled(rt, links);
          Ovs.sleep(500);
          Counts after = counts(linkPorts, hostPorts);
          assertNoStorm("start-up", before, after);
          assertThat(ovs.inHost("th1", 15, "ping", "-c", "3", "-i", "0.2", "-W", "2", "10.74.0.2").code())
              .as("th1 -> th2 after start-up").isZero();
        }
        // 2. another controller process takes over the programmed fabric
        Map<String, Map<String, Double>> ages = new HashMap<>();
        br.forEach((k, b) -> ages.put(k, ages(ovs.flowsWithStats(b))));
        long stoppedAt = System.nanoTime();
        Counts takeover = counts(linkPorts, hostPorts);
        try (SluiceRuntime rt = SluiceRuntime.start(config(profiles))) {
          br.values().forEach(b -> ovs.setController(b, rt.openflowPort()));
          awaitSettled(rt, links);
          Ovs.sleep(500);
          Counts after = counts(linkPorts, hostPorts);
          assertNoStorm("takeover", takeover, after);
          double elapsed = (System.nanoTime() - stoppedAt) / 1e9;
          br.forEach((k, b) -> {
            Map<String, Double> now = ages(ovs.flowsWithStats(b));
            assertThat(now.keySet()).as("the flows on " + b + " after the takeover").isEqualTo(ages.get(k).keySet());
            ages.get(k).forEach((flow, age) -> assertThat(now.get(flow)).as("age of " + flow + " (not re-added)")
                .isGreaterThanOrEqualTo(age + elapsed - 1.0));
          });
          assertThat(ovs.inHost("th2", 15, "ping", "-c", "3", "-i", "0.2", "-W", "2", "10.74.0.1").code())
              .as("th2 -> th1 after the takeover").isZero();
        }
      } finally {
        broadcaster.destroyForcibly();
      }
    }
  }

  private RuntimeConfig config(List<String> profiles) {
    return new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir.resolve("manifests"),
        List.of("unix:/var/run/openvswitch/db.sock"), null)
        .withProfiles(ProfileChoice.parse(profiles, null));
  }

  /** Every link known and every switch realized, none held. */
  private static void awaitSettled(SluiceRuntime rt, List<Link> links) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      List<SwitchStatus> st = rt.switches().statuses().stream().filter(s -> s.datapathId().contains(":7e:")).toList();
      if (rt.model().snapshot().links().values().containsAll(links) && st.size() == 3
          && rt.model().snapshot().bindings().keySet().stream().filter(r -> r.namespace().equals("hold")).count() == 2
          && st.stream().allMatch(s -> s.connected() && s.lastError() == null
              && s.realizedGeneration() == rt.model().generation())) {
        return;
      }
      Ovs.sleep(50);
    }
    throw new AssertionError("not settled: links " + rt.model().snapshot().links().values() + ", "
        + rt.switches().statuses());
  }

  private record Counts(long linkTx, long hostRx) { }

  /** Packets sent out of the link ports, and received from the hosts, as the kernel counts them on the veths. */
  private static Counts counts(List<String> linkPorts, List<String> hostPorts) throws java.io.IOException {
    long tx = 0;
    for (String p : linkPorts) {
      tx += Long.parseLong(Files.readString(Path.of("/sys/class/net", p, "statistics", "tx_packets")).strip());
    }
    long rx = 0;
    for (String p : hostPorts) {
      rx += Long.parseLong(Files.readString(Path.of("/sys/class/net", p, "statistics", "rx_packets")).strip());
    }
    return new Counts(tx, rx);
  }

  private static void assertNoStorm(String phase, Counts before, Counts after) {
    long sent = after.hostRx() - before.hostRx();
    long carried = after.linkTx() - before.linkTx();
    System.out.printf("FabricHoldDownIT %s: %d packets on the links for %d sent by the hosts%n", phase, after.linkTx()
        - before.linkTx(), sent);
    assertThat(sent).as(phase + ": the hosts sent").isGreaterThan(20);
    assertThat(carried).as(phase + ": packets on the links for " + sent + " sent by the hosts")
        .isLessThanOrEqualTo(COPIES_PER_PACKET * sent + LLDP_ALLOWANCE);
  }

  private static final Pattern DURATION = Pattern.compile("duration=([0-9.]+)s, ");
  private static final Pattern STATS = Pattern.compile("(cookie|duration|n_packets|n_bytes|idle_age|hard_age)=[^ ]+ ");

  /** Each flow (its table, priority, match and actions) with its age in seconds. */
  private static Map<String, Double> ages(List<String> flows) {
    Map<String, Double> out = new HashMap<>();
    for (String f : flows) {
      Matcher m = DURATION.matcher(f);
      if (m.find()) {
        out.put(STATS.matcher(f.strip() + " ").replaceAll("").strip(), Double.parseDouble(m.group(1)));
      }
    }
    return out;
  }
}
