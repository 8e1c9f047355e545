package io.sluice.controller.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.sync.SwitchManager;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.ServiceHosts;
import io.sluice.controller.testing.Sh;
import io.sluice.renderer.pipeline.PipelineProfile;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A UDP Service on real traffic: a client that keeps sending from one source port never lets its conntrack entry
 * expire, so after its endpoint leaves the Service it moves on only because Sluice clears that endpoint's entries
 * (NXT_CT_FLUSH by reply source, in the switch's zone) once the bridge no longer DNATs to it. The control: when an
 * endpoint is added, nothing is flushed and the client stays pinned to its endpoint by its entry.
 */
class UdpServiceIT {
  private static final String VIP = "10.96.73.10";
  private static final String GATEWAY = "10.73.0.254";
  private static final String GATEWAY_MAC = "02:00:0a:49:00:fe";
  private static final long DPID = 0x7e73;
  private static final int CLIENT_PORT = 40053;

  @TempDir
  Path dir;
  @TempDir
  Path scripts;

  /** A reply the client printed, and when the test read it. */
  private record Reply(long nanos, String from, String name) { }

  private static String pod(String name, String ip, String app) {
    return String.join("\n", "apiVersion: v1", "kind: Pod",
        "metadata: {name: " + name + ", namespace: svc73, labels: {app: " + app + "}}",
        "spec: {containers: [{name: c, image: x, ports: [{name: dns, containerPort: 5353, protocol: UDP}]}]}",
        "status: {podIP: " + ip + "}", "---", "");
  }

  /** The Service's EndpointSlice listing the given pods (udp-N at 10.73.0.(10+N)), all ready. */
  private static String slice(int... pods) {
    StringBuilder sb = new StringBuilder(String.join("\n", "apiVersion: discovery.k8s.io/v1", "kind: EndpointSlice",
        "metadata: {name: dns-1abc, namespace: svc73, labels: {kubernetes.io/service-name: dns}}",
        "addressType: IPv4", "ports: [{name: dns, port: 5353, protocol: UDP}]", "endpoints:", ""));
    for (int n : pods) {
      sb.append("- addresses: [10.73.0.").append(10 + n).append("]\n")
          .append("  conditions: {ready: true}\n")
          .append("  targetRef: {kind: Pod, namespace: svc73, name: udp-").append(n).append("}\n");
    }
    return sb.toString();
  }

  @Test
  void aRunningUdpClientMovesToAnotherEndpointWhenItsEndpointLeaves() throws Exception {
    Files.writeString(dir.resolve("ns.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: svc73}\n");
    Files.writeString(dir.resolve("pods.yaml"), pod("client", "10.73.0.10", "client") + pod("udp-1", "10.73.0.11", "dns")
        + pod("udp-2", "10.73.0.12", "dns"));
    Files.writeString(dir.resolve("svc.yaml"), String.join("\n", "apiVersion: v1", "kind: Service",
        "metadata: {name: dns, namespace: svc73}",
        "spec: {clusterIP: " + VIP + ", clusterIPs: [" + VIP + "], selector: {app: dns},",
        "  ports: [{name: dns, port: 53, targetPort: dns, protocol: UDP}]}", ""));
    Files.writeString(dir.resolve("slice.yaml"), slice(1, 2));
    copy("udp_server.py");
    copy("udp_client.py");
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of("unix:/var/run/openvswitch/db.sock"), null);
    int zone = PipelineProfile.zone(DPID);
    List<Process> processes = new ArrayList<>();
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String br = ovs.bridge("ud", DPID, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      host(ovs, br, "cli", "client", 10);
      for (int n = 1; n <= 2; n++) {
        host(ovs, br, "u" + n, "udp-" + n, 10 + n);
        processes.add(start(ovs, "u" + n, "/usr/bin/python3", scripts.resolve("udp_server.py").toString(),
            "udp-" + n, "5353", "120"));
      }
      awaitRealized(rt, 3);

      // the client: one source port, a datagram every 50 ms, each reply printed
      Process client = start(ovs, "cli", "/usr/bin/python3", scripts.resolve("udp_client.py").toString(), VIP, "53",
          Integer.toString(CLIENT_PORT), "0.05", "60");
      processes.add(client);
      List<Reply> replies = new CopyOnWriteArrayList<>();
      Thread reader = new Thread(() -> read(client.getInputStream(), replies), "udp-client-reader");
      reader.setDaemon(true);
      reader.start();
      awaitReplies(replies, 10, 10);
      List<Reply> before = List.copyOf(replies);
      String first = before.get(0).name();
      assertThat(before).as("every reply comes from the virtual address and one endpoint: %s", before)
          .allSatisfy(r -> assertThat(r.from() + " " + r.name()).isEqualTo(VIP + " " + first));
      int gone = Integer.parseInt(first.substring("udp-".length()));
      int stays = 3 - gone;
      String goneIp = "10.73.0." + (10 + gone);
      String staysIp = "10.73.0." + (10 + stays);
      String entry = "sport=" + CLIENT_PORT + ",dport=53),reply=(src=" + goneIp + ",dst=10.73.0.10,sport=5353";
      assertThat(conntrack(zone)).as("the client's entry in zone %d leads to %s", zone, first).contains(entry);
      SwitchManager.FlushReport flushesBefore = rt.switches().backendFlushes(DPID);

      // the endpoint the client is on leaves the Service
      long t0 = System.nanoTime();
      Files.writeString(dir.resolve("slice.yaml"), slice(stays));
      long tModel = awaitSlice(rt, 1);
      long tRealized = awaitRealized(rt, 3);
      int seen = replies.size();
      Reply moved = awaitReplyFrom(replies, "udp-" + stays, 5);
      assertThat(moved).as("replies after the change: %s", since(replies, seen)).isNotNull();
      double fromModel = (moved.nanos() - tModel) / 1e6;
      double fromRealized = (moved.nanos() - tRealized) / 1e6;
      System.out.printf("UDP switch-over: first reply from udp-%d %.0f ms after the slice file changed, %.0f ms after the "
              + "model saw it, %.0f ms after the switch realized it%n", stays, (moved.nanos() - t0) / 1e6, fromModel,
          fromRealized);
      assertThat(fromModel).as("ms from the model's change to the first reply from the remaining endpoint").isLessThan(1000);
      assertThat(moved.from()).isEqualTo(VIP);

      // the old endpoint's entry was flushed (the client never paused, so without the flush it would still be there);
      // the client's new entry leads to the remaining endpoint
      String after = conntrack(zone);
      assertThat(after).as("conntrack zone %d after the change", zone).doesNotContain("reply=(src=" + goneIp + ",");
      assertThat(after).contains("sport=" + CLIENT_PORT + ",dport=53),reply=(src=" + staysIp + ",dst=10.73.0.10,sport=5353");
      SwitchManager.FlushReport flushes = rt.switches().backendFlushes(DPID);
      assertThat(flushes.sent() - flushesBefore.sent()).as("%s", flushes).isEqualTo(1);
      assertThat(flushes.failed()).as("%s", flushes).isZero();
      // and it stays there: no reply from the endpoint that left
      int now = replies.size();
      awaitReplies(replies, now + 10, 10);
      assertThat(since(replies, now)).extracting(Reply::name).containsOnly("udp-" + stays);

      // control: the endpoint comes back; nothing left the Service, so nothing is flushed, and the running client stays
      // pinned by its conntrack entry although the group offers both again (only a flush moves it)
      Files.writeString(dir.resolve("slice.yaml"), slice(1, 2));
      awaitSlice(rt, 2);
      awaitRealized(rt, 3);
      int back = replies.size();
      awaitReplies(replies, back + 20, 10);
      assertThat(since(replies, back)).extracting(Reply::name).containsOnly("udp-" + stays);
      assertThat(rt.switches().backendFlushes(DPID).sent()).isEqualTo(flushes.sent());
      assertThat(conntrack(zone)).contains("sport=" + CLIENT_PORT + ",dport=53),reply=(src=" + staysIp + ",");
      client.getOutputStream().close();
    } finally {
      ServiceHosts.stop(processes);
    }
  }

  private void copy(String resource) throws Exception {
    try (InputStream s = getClass().getResourceAsStream("/service/" + resource)) {
      Files.copy(s, scripts.resolve(resource));
    }
  }

  private static void read(InputStream in, List<Reply> out) {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        String[] f = line.trim().split(" ", 2);
        if (f.length == 2) {
          out.add(new Reply(System.nanoTime(), f[0], f[1]));
        }
      }
    } catch (java.io.IOException ignored) {
      // the client was stopped
    }
  }

  /**
   * The replies from index {@code from} on, copied: a view of the list the reader thread appends to fails with a
   * ConcurrentModificationException when read after an append (e.g. when an assertion prints it).
   */
  private static List<Reply> since(List<Reply> replies, int from) {
    List<Reply> copy = List.copyOf(replies);
    return copy.subList(Math.min(from, copy.size()), copy.size());
  }

  private static void awaitReplies(List<Reply> replies, int count, int seconds) {
    long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
    while (replies.size() < count && System.nanoTime() < deadline) {
      Ovs.sleep(10);
    }
    assertThat(replies.size()).as("replies to the UDP client: %s", replies).isGreaterThanOrEqualTo(count);
  }

  private static Reply awaitReplyFrom(List<Reply> replies, String name, int seconds) {
    long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
    int i = 0;
    while (System.nanoTime() < deadline) {
      for (; i < replies.size(); i++) {
        if (replies.get(i).name().equals(name)) {
          return replies.get(i);
        }
      }
      Ovs.sleep(2);
    }
    return null;
  }

  private static String conntrack(int zone) {
    return Sh.run("ovs-appctl", "dpctl/dump-conntrack", "zone=" + zone);
  }

  /** A pod host at 10.73.0.N/24 whose default route goes through a gateway no port owns. */
  private static void host(Ovs ovs, String br, String suffix, String pod, int n) {
    ServiceHosts.host(ovs, br, suffix, "10.73.0." + n + "/24", String.format("0a:58:0a:49:00:%02x", n), "svc73", pod,
        GATEWAY, GATEWAY_MAC);
  }

  private static Process start(Ovs ovs, String suffix, String... cmd) throws Exception {
    return ServiceHosts.start(ovs, suffix, 120, cmd);
  }

  private static long awaitSlice(SluiceRuntime rt, int endpoints) {
    return ServiceHosts.awaitSlice(rt, "dns", endpoints);
  }

  private static long awaitRealized(SluiceRuntime rt, int pods) {
    return ServiceHosts.awaitRealized(rt, "svc73", pods);
  }
}
