package io.sluice.controller.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.profile.ProfileChoice;
import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.testing.OpenFlowTap;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.ServiceHosts;
import io.sluice.controller.testing.Sh;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A switch whose profile has no bundles (here the ovs profile with {@code bundles: false}, on a real bridge): a policy
 * change goes out without any bundle message, in two ordered phases each closed by a barrier (restrict, then
 * permit), the switch is shown as not atomic, and the new policy holds on real traffic.
 */
class BundlelessIT {
  private static final long DPID = 0x7e7b;

  @TempDir
  Path dir;
  @TempDir
  Path profiles;

  @Test
  void aPolicyChangeGoesOutInTwoOrderedPhasesWithoutBundles() throws Exception {
    String ovsProfile;
    try (InputStream in = getClass().getResourceAsStream("/io/sluice/renderer/profiles/ovs.yaml")) {
      ovsProfile = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    Files.writeString(profiles.resolve("ovs-unbundled.yaml"), ovsProfile.replace("name: ovs\n", "name: ovs-unbundled\n")
        .replace("bundles: true", "bundles: false"));
    Files.writeString(dir.resolve("cluster.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: ub}", "---",
        pod("web", "10.81.0.1", "web"), pod("db", "10.81.0.2", "db"), pod("other", "10.81.0.3", "other"), ""));
    Files.writeString(dir.resolve("policy.yaml"), policy("web"));
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of("unix:/var/run/openvswitch/db.sock"), null)
        .withProfiles(ProfileChoice.parse(List.of(String.format("0x%x=ovs-unbundled", DPID)), profiles));
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg); OpenFlowTap tap = new OpenFlowTap(rt.openflowPort())) {
      String br = ovs.bridge("ub", DPID, "OpenFlow13,OpenFlow14,OpenFlow15", tap.port());
      ovs.host(br, "web", "10.81.0.1/24", "0a:58:0a:51:00:01", "ub", "web");
      ovs.host(br, "db", "10.81.0.2/24", "0a:58:0a:51:00:02", "ub", "db");
      ovs.host(br, "oth", "10.81.0.3/24", "0a:58:0a:51:00:03", "ub", "other");
      ServiceHosts.awaitRealizedAndPurge(rt, "ub", 3);
      assertThat(ping(ovs, "web", "10.81.0.2")).as("web to db, allowed").isTrue();
      assertThat(ping(ovs, "oth", "10.81.0.2")).as("other to db, denied").isFalse();

      tap.clear();
      long before = rt.model().generation();
      Files.writeString(dir.resolve("policy.yaml"), policy("other"));
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (rt.model().generation() == before && System.nanoTime() < deadline) {
        Ovs.sleep(20);
      }
      ServiceHosts.awaitRealizedAndPurge(rt, "ub", 3);
      List<String> sent = GroupSyncIT.changes(tap);
      assertThat(sent).as("no bundle: %s", sent).noneMatch(m -> m.startsWith("BUNDLE") || m.startsWith("["));
      // restrict (web's allow removed), barrier, permit (other's allow added), barrier
      assertThat(sent.stream().filter("BARRIER"::equals).count()).as(sent.toString()).isEqualTo(2);
      assertThat(sent.get(sent.size() - 1)).as(sent.toString()).isEqualTo("BARRIER");
      int first = sent.indexOf("BARRIER");
      assertThat(sent.subList(0, first)).as("the first phase only removes: %s", sent).isNotEmpty()
          .allMatch(m -> m.startsWith("FLOW_MOD DELETE"));
      assertThat(sent.subList(first + 1, sent.size() - 1)).as("the second phase adds: %s", sent)
          .contains("FLOW_MOD ADD");
      SwitchStatus st = rt.switches().statuses().get(0);
      assertThat(st.atomic()).as("shown as not atomic").isFalse();
      assertThat(ping(ovs, "oth", "10.81.0.2")).as("other to db, now allowed").isTrue();
      assertThat(ping(ovs, "web", "10.81.0.2")).as("web to db, now denied").isFalse();
    }
  }

  private static String policy(String from) {
    return String.join("\n", "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy",
        "metadata: {name: db-in, namespace: ub}", "spec:", "  podSelector: {matchLabels: {app: db}}", "  ingress:",
        "  - from: [{podSelector: {matchLabels: {app: " + from + "}}}]", "");
  }

  private static String pod(String name, String ip, String app) {
    return String.join("\n", "apiVersion: v1", "kind: Pod",
        "metadata: {name: " + name + ", namespace: ub, labels: {app: " + app + "}}",
        "spec: {containers: [{name: c, image: x}]}", "status: {podIP: " + ip + "}", "---", "");
  }

  private static boolean ping(Ovs ovs, String from, String to) {
    Sh.Result r = ovs.inHost(from, 20, "ping", "-n", "-q", "-c", "2", "-i", "0.2", "-W", "1", to);
    return !r.out().contains(" 0 received") && !r.out().contains(" 0 packets received");
  }
}
