package io.sluice.controller.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.sync.SwitchStatus;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.Sh;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fail closed for new pods on a switch Sluice manages through OVSDB: a pod port that appears before Sluice knows the
 * pod sends nothing (its traffic is dropped in table 0) until the pod is known with an address, and the bundle that
 * opens the port brings the pod's policy flows with it. A non-pod port (a veth to the outside) stays open.
 */
class PortAdmissionIT {
  @TempDir
  Path dir;

  private static String pod(String name, String ip, String app) {
    return String.join("\n", "apiVersion: v1", "kind: Pod",
        "metadata: {name: " + name + ", namespace: adm, labels: {app: " + app + "}}",
        "spec: {containers: [{name: c, image: x}]}", "status: {podIP: " + ip + "}", "---", "");
  }

  /** Pods with app=locked may open no connection (Egress, no rules). */
  private static final String LOCKED = String.join("\n",
      "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: locked-egress, namespace: adm}",
      "spec: {podSelector: {matchLabels: {app: locked}}, policyTypes: [Egress]}", "");

  @Test
  void aNewPodPortIsClosedUntilItsPolicyFlowsAreIn() throws Exception {
    Files.writeString(dir.resolve("ns.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: adm}\n");
    Files.writeString(dir.resolve("pods.yaml"), pod("a", "10.74.0.1", "web") + pod("b", "10.74.0.2", "web"));
    Files.writeString(dir.resolve("policy.yaml"), LOCKED);
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of("unix:/var/run/openvswitch/db.sock"), null);
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      long dpid = 0x7e02;
      String br = ovs.bridge("adm", dpid, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      ovs.host(br, "a", "10.74.0.1/24", "0a:58:0a:4a:00:01", "adm", "a");
      ovs.host(br, "b", "10.74.0.2/24", "0a:58:0a:4a:00:02", "adm", "b");
      // a host on a port without pod labels: the outside world, an open port of the managed switch
      ovs.host(br, "out", "10.74.0.9/24", "0a:58:0a:4a:00:09", null, null);
      awaitRealized(rt, dpid, 2);
      assertThat(ping(ovs, "a", "10.74.0.2")).as("known pods talk").isTrue();
      assertThat(ping(ovs, "out", "10.74.0.1")).as("a non-pod port is open").isTrue();
      assertThat(ovs.flows(br)).anyMatch(f -> f.contains("priority=10 actions=drop"));
      // a known pod sends only from its own address: a spoofed source is dropped in table 0
      ovs.inHost("a", 5, "ip", "addr", "add", "10.74.0.50/24", "dev", ovs.name("a") + "-e");
      assertThat(ovs.inHost("a", 10, "ping", "-c", "2", "-i", "0.2", "-W", "1", "-I", "10.74.0.50", "10.74.0.2").code())
          .as("spoofed source").isNotZero();
      assertThat(ping(ovs, "a", "10.74.0.2")).isTrue();

      // a port labelled for pod adm/c, which the cluster has not reported yet: closed both ways (nothing it sends
      // passes table 0, so no connection to or from it can complete)
      String cPort = ovs.host(br, "c", "10.74.0.3/24", "0a:58:0a:4a:00:03", "adm", "c");
      awaitBound(rt, 3);
      awaitRealized(rt, dpid, 3);
      String admitC = " priority=80,in_port=" + Sh.run("ovs-vsctl", "get", "interface", cPort, "ofport").trim()
          + " actions=goto_table:10";
      assertThat(ovs.flows(br)).noneMatch(f -> f.endsWith(admitC));
      assertThat(ping(ovs, "c", "10.74.0.1")).as("unknown pod sends").isFalse();
      assertThat(ping(ovs, "a", "10.74.0.3")).as("unknown pod answers").isFalse();
      assertThat(ping(ovs, "out", "10.74.0.3")).isFalse();
      assertThat(udpArrives(ovs, "a", "c", "10.74.0.3")).as("a datagram to the closed pod's MAC").isFalse();

      // the cluster reports adm/c with app=locked: the port opens in the same bundle as its egress isolation
      Files.writeString(dir.resolve("pod-c.yaml"), pod("c", "10.74.0.3", "locked"));
      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (System.nanoTime() < deadline && !rt.model().snapshot().pods().containsKey(new io.sluice.model.ObjectRef("adm", "c"))) {
        Ovs.sleep(20);
      }
      awaitRealized(rt, dpid, 3);
      assertThat(ping(ovs, "a", "10.74.0.3")).as("c answers: replies of allowed connections pass").isTrue();
      assertThat(ping(ovs, "c", "10.74.0.1")).as("c may open nothing (Egress, no rules)").isFalse();
      assertThat(udpArrives(ovs, "a", "c", "10.74.0.3")).as("c's ingress is not isolated").isTrue();
      assertThat(ovs.flows(br)).anyMatch(f -> f.endsWith(admitC));
    }
  }

  /** One-way: a UDP datagram sent from {@code from} is received by a listener in {@code to}. */
  private static boolean udpArrives(Ovs ovs, String from, String to, String toIp) throws Exception {
    Process listener = new ProcessBuilder("ip", "netns", "exec", ovs.name(to), "timeout", "3", "nc", "-u", "-l", "-p", "5999")
        .redirectErrorStream(true).start();
    try {
      Ovs.sleep(300);
      for (int i = 0; i < 5; i++) {
        ovs.inHost(from, 5, "sh", "-c", "echo sluice-probe | nc -u -w0 " + toIp + " 5999");
        Ovs.sleep(100);
      }
      listener.waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
      return new String(listener.getInputStream().readAllBytes()).contains("sluice-probe");
    } finally {
      listener.destroyForcibly();
    }
  }

  private static boolean ping(Ovs ovs, String from, String to) {
    return ovs.inHost(from, 10, "ping", "-c", "2", "-i", "0.2", "-W", "1", to).code() == 0;
  }

  private static void awaitBound(SluiceRuntime rt, int pods) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline && bound(rt) < pods) {
      Ovs.sleep(20);
    }
    assertThat(bound(rt)).isEqualTo(pods);
  }

  /** Pods of this test's namespace bound to a port (the system OVSDB may hold other tests' pods). */
  private static long bound(SluiceRuntime rt) {
    return rt.model().snapshot().bindings().keySet().stream().filter(r -> r.namespace().equals("adm")).count();
  }

  private static void awaitRealized(SluiceRuntime rt, long dpid, int pods) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      List<SwitchStatus> st = rt.switches().statuses();
      if (bound(rt) == pods && rt.model().snapshot().switchPorts().containsKey(dpid)
          && !st.isEmpty() && st.stream().allMatch(s -> s.connected() && s.realizedGeneration() == rt.model().generation())) {
        Sh.run("ovs-appctl", "revalidator/purge");
        return;
      }
      Ovs.sleep(20);
    }
    throw new AssertionError("not realized: generation " + rt.model().generation() + ", " + rt.switches().statuses());
  }
}
