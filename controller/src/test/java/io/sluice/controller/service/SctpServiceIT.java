package io.sluice.controller.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.ServiceHosts;
import io.sluice.controller.testing.Sh;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SCTP Services on a real bridge. The kernel here has no SCTP sockets, so the controller's tables are judged by
 * {@code ovs-appctl ofproto/trace}: an SCTP packet to the virtual address goes through conntrack, the Service port's
 * select group, a DNAT to an endpoint, and reaches that endpoint's port; without endpoints it goes, metered, to the
 * controller.
 */
class SctpServiceIT {
  private static final String NS = "svc75";
  private static final String VIP = "10.96.75.10";
  private static final String EMPTY_VIP = "10.96.75.20";
  private static final String GATEWAY = "10.75.0.254";
  private static final String GATEWAY_MAC = "02:00:0a:4b:00:fe";
  private static final String CLIENT = "10.75.0.10";
  private static final String CLIENT_MAC = "0a:58:0a:4b:00:0a";

  @TempDir
  Path dir;

  private static String pod(String name, String ip, String app) {
    return String.join("\n", "apiVersion: v1", "kind: Pod",
        "metadata: {name: " + name + ", namespace: " + NS + ", labels: {app: " + app + "}}",
        "spec: {containers: [{name: c, image: x, ports: [{name: sig, containerPort: 3868, protocol: SCTP}]}]}",
        "status: {podIP: " + ip + "}", "---", "");
  }

  private static String service(String name, String vip) {
    return String.join("\n", "apiVersion: v1", "kind: Service", "metadata: {name: " + name + ", namespace: " + NS + "}",
        "spec: {clusterIP: " + vip + ", clusterIPs: [" + vip + "],",
        "  ports: [{name: sig, port: 3868, targetPort: sig, protocol: SCTP}]}", "---", "");
  }

  private static String slice(String service, int... pods) {
    StringBuilder sb = new StringBuilder(String.join("\n", "apiVersion: discovery.k8s.io/v1", "kind: EndpointSlice",
        "metadata: {name: " + service + "-1abc, namespace: " + NS + ", labels: {kubernetes.io/service-name: " + service + "}}",
        "addressType: IPv4", "ports: [{name: sig, port: 3869, protocol: SCTP}]", "endpoints:" + (pods.length == 0 ? " []" : ""), ""));
    for (int n : pods) {
      sb.append("- addresses: [10.75.0.").append(10 + n).append("]\n")
          .append("  conditions: {ready: true}\n")
          .append("  targetRef: {kind: Pod, namespace: " + NS + ", name: sctp-").append(n).append("}\n");
    }
    return sb.append("---\n").toString();
  }

  @Test
  void anSctpPacketToTheVirtualAddressIsDnatedByTheGroupAndOneWithoutEndpointsGoesToTheController() throws Exception {
    Files.writeString(dir.resolve("ns.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + NS + "}\n");
    Files.writeString(dir.resolve("pods.yaml"), pod("client", CLIENT, "client") + pod("sctp-1", "10.75.0.11", "sig")
        + pod("sctp-2", "10.75.0.12", "sig"));
    Files.writeString(dir.resolve("svc.yaml"), service("sig", VIP) + service("empty", EMPTY_VIP));
    Files.writeString(dir.resolve("slice.yaml"), slice("sig", 1, 2) + slice("empty"));
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of("unix:/var/run/openvswitch/db.sock"), null);
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String br = ovs.bridge("sc", 0x7e75, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      String cli = ServiceHosts.host(ovs, br, "cli", CLIENT + "/24", CLIENT_MAC, NS, "client", GATEWAY, GATEWAY_MAC);
      for (int n = 1; n <= 2; n++) {
        ServiceHosts.host(ovs, br, "s" + n, "10.75.0." + (10 + n) + "/24", String.format("0a:58:0a:4b:00:%02x", 10 + n),
            NS, "sctp-" + n, GATEWAY, GATEWAY_MAC);
      }
      ServiceHosts.awaitRealized(rt, NS, 3);
      // the endpoints say hello to the client, so NORMAL has learned their MACs and a trace ends in one output
      for (int n = 1; n <= 2; n++) {
        assertThat(ovs.inHost("s" + n, 10, "ping", "-c", "1", "-W", "2", CLIENT).code()).as("ping from sctp-" + n).isZero();
      }
      String vipFlow = ovs.flows(br).stream().filter(f -> f.contains("table=11") && f.contains("nw_dst=" + VIP))
          .findFirst().orElseThrow(() -> new AssertionError("no table-11 flow for " + VIP + ": " + ovs.flows(br)));
      Matcher g = Pattern.compile("group:(\\d+)").matcher(vipFlow);
      assertThat(g.find()).as(vipFlow).isTrue();
      String group = g.group(1);
      assertThat(vipFlow).contains("ct_state=+new+trk,sctp,nw_dst=" + VIP + ",tp_dst=3868");

      String in = Sh.run("ovs-vsctl", "get", "Interface", cli, "ofport").trim();
      String packet = "in_port=" + in + ",sctp,dl_src=" + CLIENT_MAC + ",dl_dst=" + GATEWAY_MAC + ",nw_src=" + CLIENT
          + ",sctp_src=40000,sctp_dst=3868";
      int zone = (int) (0x7e75L % 65521 + 1);
      Map<String, Integer> picked = new TreeMap<>();
      // the select group hashes in the datapath (dp_hash, then a recirculation); a trace given the hash follows it
      for (int hash = 1; hash <= 8; hash++) {
        String t = trace(br, "dp_hash=" + hash + "," + packet + ",nw_dst=" + VIP, "trk,new", "trk,new,dnat");
        assertThat(t).as(t).contains("ct(table=11,zone=" + zone + ",nat)")
            .contains("resume conntrack with ct_state=new|trk\n")
            .contains("11. ct_state=+new+trk,sctp,nw_dst=" + VIP + ",tp_dst=3868, priority 200")
            .contains("group:" + group + "\n     -> using bucket ");
        Matcher nat = Pattern.compile("\\n            nat\\(dst=10\\.75\\.0\\.(1[12]):3869\\)\\n").matcher(t);
        assertThat(nat.find()).as("the bucket DNATs to an endpoint's target port: " + t).isTrue();
        int n = Integer.parseInt(nat.group(1)) - 10;
        picked.merge("sctp-" + n, 1, Integer::sum);
        String ip = "10.75.0." + (10 + n);
        String mac = String.format("0a:58:0a:4b:00:%02x", 10 + n);
        assertThat(t).contains("resume conntrack with ct_state=new|trk|dnat")
            .contains("Modified flow: nw_src=" + CLIENT + ",tp_src=40000,nw_dst=" + ip + ",tp_dst=3869")
            .contains("12. ct_state=-rpl+trk+dnat,ct_label=0x1000000000000/0x1000000000000, priority 100")
            .contains("NXM_OF_ETH_DST[] is now " + mac)
            .contains("50. ct_mark=0x1/0x1,ip, priority 110");
        assertThat(verdict(t)).as(t).isEqualTo("set(eth(dst=" + mac + ")),ct(commit,zone=" + zone + ",mark=0/0x1),"
            + dpPort(br, ovs.name("s" + n) + "-b"));
      }
      assertThat(picked.keySet()).as("endpoints the group picked for 8 hashes: " + picked).containsExactly("sctp-1", "sctp-2");

      // no endpoint: the first packet goes, metered, to the controller (which answers with ICMP port unreachable)
      String empty = trace(br, packet + ",nw_dst=" + EMPTY_VIP, "trk,new");
      assertThat(empty).as(empty).contains("11. ct_state=+new+trk,sctp,nw_dst=" + EMPTY_VIP + ",tp_dst=3868, priority 200")
          .contains("    meter:23552\n    CONTROLLER:128\n").doesNotContain("group:");
      assertThat(verdict(empty)).as(empty).matches("meter\\(\\d+\\),userspace\\(pid=0,controller\\(reason=1,.*max_len=128\\)\\)");
    }
  }

  /** ofproto/trace of a packet, conntrack answering each ct() recirculation with the next of the given states. */
  private static String trace(String br, String packet, String... ctStates) {
    List<String> c = new ArrayList<>(List.of("ovs-appctl", "ofproto/trace", br, packet));
    for (String st : ctStates) {
      c.add("--ct-next");
      c.add(st);
    }
    Sh.Result r = Sh.exec(10, Sh.cmd(c));
    assertThat(r.code()).as(r.err()).isZero();
    return r.out();
  }

  /** The last "Datapath actions:" of a trace: what the datapath finally does with the packet. */
  private static String verdict(String trace) {
    String marker = "Datapath actions: ";
    int i = trace.lastIndexOf(marker);
    assertThat(i).as(trace).isNotNegative();
    return trace.substring(i + marker.length()).lines().findFirst().orElse("").trim();
  }

  /** A port's datapath number (traces print those), from dpif/show's "NAME ofport/dpport". */
  private static String dpPort(String br, String port) {
    Matcher m = Pattern.compile("\\n\\s+" + Pattern.quote(port) + " \\d+/(\\d+)").matcher(Sh.run("ovs-appctl", "dpif/show"));
    assertThat(m.find()).as("datapath port of " + port).isTrue();
    return m.group(1);
  }
}
