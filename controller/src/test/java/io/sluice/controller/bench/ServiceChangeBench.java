package io.sluice.controller.bench;

import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.sync.PushResult;
import io.sluice.controller.sync.SwitchStatus;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.Sh;
import io.sluice.model.EndpointSlice;
import io.sluice.model.ModelEvent;
import io.sluice.model.Namespace;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.PortRef;
import io.sluice.model.Protocol;
import io.sluice.model.Service;
import io.sluice.model.Snapshot;
import io.sluice.renderer.scenario.ServiceScenario;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.projectfloodlight.openflow.types.DatapathId;

/**
 * Service figures on real Open vSwitch ({@code deploy/bench.sh services-ovs}):
 * <ul>
 *   <li>{@code svc.endpoint_change_to_confirmed_ms}, {@code svc.endpoint_change.mods}: 10,000 Services x 10 endpoints
 *       over 1,000 switches, one real bridge playing the first; one endpoint of one Service turns not ready (or ready
 *       again): from {@code ClusterModel.apply} to the bridge's barrier confirming it, median of 25 after 5 warm-ups,
 *       and the most messages one change sent;</li>
 *   <li>{@code svc.no_endpoint_reject_ms}: a client connecting to a Service in a loop; its last endpoint is removed;
 *       from the model change to the first connection refused by a RST (median of 5);</li>
 *   <li>{@code svc.datapath_ratio}: iperf3 TCP throughput from a pod to another through the Service's cluster IP
 *       divided by the same directly, alternating, 3 runs of 3 s each (medians), in the same run.</li>
 * </ul>
 */
public final class ServiceChangeBench {
  private static final long FIRST_DPID = 0x5c00000000000001L;
  private static final long SMALL_DPID = 0x5c00000000000f01L;

  private ServiceChangeBench() { }

  public static void main(String[] args) throws Exception {
    int services = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    Ovs.ensureRunning();
    endpointChange(services);
    small();
  }

  private static RuntimeConfig config() {
    return new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(5), RuntimeConfig.Role.EQUAL, 0, 2);
  }

  private static void endpointChange(int services) throws Exception {
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(config())) {
      long t0 = System.nanoTime();
      rt.model().apply(ServiceScenario.events(services, 10, 1000, FIRST_DPID));
      ovs.bridge("svb", FIRST_DPID, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      SwitchStatus first = awaitGeneration(rt, FIRST_DPID, rt.model().generation(), Duration.ofSeconds(120));
      System.err.printf(Locale.ROOT, "svc bench: %d Services realized on the bridge (%d flows) in %.2f s%n", services,
          first.flows(), (System.nanoTime() - t0) / 1e9);
      List<Double> millis = new ArrayList<>();
      List<Integer> mods = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        Snapshot before = rt.model().snapshot();
        long start = System.nanoTime();
        Snapshot after = rt.model().apply(List.of(ServiceScenario.flipFirstEndpoint(before, i % 7)));
        awaitGeneration(rt, FIRST_DPID, after.generation(), Duration.ofSeconds(20));
        double ms = (System.nanoTime() - start) / 1e6;
        PushResult push = rt.switches().lastPush(FIRST_DPID);
        if (i >= 5) {
          millis.add(ms);
          mods.add(push.flowMods());
        }
        Thread.sleep(20);
      }
      Collections.sort(millis);
      System.err.printf(Locale.ROOT, "svc bench: endpoint change-to-confirmed ms min %.2f median %.2f max %.2f; mods %s%n",
          millis.get(0), millis.get(millis.size() / 2), millis.get(millis.size() - 1), mods);
      System.out.printf(Locale.ROOT, "BENCH svc.endpoint_change_to_confirmed_ms %.2f ms%n", millis.get(millis.size() / 2));
      System.out.println("BENCH svc.endpoint_change.mods " + Collections.max(mods) + " mods");
    }
  }

  /** One bridge, a client and a server pod: the reject latency and the datapath ratio. */
  private static void small() throws Exception {
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(config())) {
      String br = ovs.bridge("svs", SMALL_DPID, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      String cliMac = "0a:58:0a:49:00:0a";
      String srvMac = "0a:58:0a:49:00:0b";
      String cliPort = ovs.host(br, "cli", "10.73.0.10/24", cliMac, null, null);
      String srvPort = ovs.host(br, "srv", "10.73.0.11/24", srvMac, null, null);
      for (String h : List.of("cli", "srv")) {
        ovs.inHost(h, 5, "ip", "route", "add", "default", "via", "10.73.0.254");
        ovs.inHost(h, 5, "ip", "neigh", "replace", "10.73.0.254", "lladdr", "02:00:0a:49:00:fe", "dev",
            ovs.name(h) + "-e", "nud", "permanent");
      }
      ObjectRef cli = new ObjectRef("bench", "cli");
      ObjectRef srv = new ObjectRef("bench", "srv");
      List<ModelEvent> ev = new ArrayList<>();
      ev.add(new ModelEvent.NamespaceUpserted(new Namespace("bench", Map.of(), Map.of())));
      ev.add(new ModelEvent.PodUpserted(new Pod(cli, Map.of(), List.of("10.73.0.10"), List.of(), false)));
      ev.add(new ModelEvent.PodUpserted(new Pod(srv, Map.of("app", "srv"), List.of("10.73.0.11"), List.of(), false)));
      ev.add(new ModelEvent.PortBound(new PortBinding(cli, SMALL_DPID, ofport(cliPort), cliMac)));
      ev.add(new ModelEvent.PortBound(new PortBinding(srv, SMALL_DPID, ofport(srvPort), srvMac)));
      for (int[] sp : new int[][] {{80, 8080}, {5201, 5201}}) {
        ev.add(new ModelEvent.ServiceUpserted(new Service(new ObjectRef("bench", "s" + sp[0]), Service.Type.CLUSTER_IP,
            List.of(sp[0] == 80 ? "10.96.73.10" : "10.96.73.20"),
            List.of(new Service.Port("", Protocol.TCP, sp[0], PortRef.of(sp[1]), 0)), Map.of("app", "srv"),
            Service.SessionAffinity.NONE, 0)));
        ev.add(new ModelEvent.EndpointSliceUpserted(slice(sp[0], sp[1], true)));
      }
      rt.model().apply(ev);
      awaitGeneration(rt, SMALL_DPID, rt.model().generation(), Duration.ofSeconds(30));
      Sh.run("ovs-appctl", "revalidator/purge");
      Process server = new ProcessBuilder("timeout", "600", "ip", "netns", "exec", ovs.name("srv"), "iperf3", "-s")
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      Process listener = new ProcessBuilder("timeout", "600", "ip", "netns", "exec", ovs.name("srv"), "nc", "-lk", "-p",
          "8080").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      try {
        Thread.sleep(500);
        reject(ovs, rt);
        ratio(ovs);
      } finally {
        server.destroyForcibly();
        listener.destroyForcibly();
      }
    }
  }

  private static void reject(Ovs ovs, SluiceRuntime rt) throws Exception {
    List<Double> millis = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      Snapshot ready = rt.model().apply(List.of(new ModelEvent.EndpointSliceUpserted(slice(80, 8080, true))));
      awaitGeneration(rt, SMALL_DPID, ready.generation(), Duration.ofSeconds(10));
      Sh.run("ovs-appctl", "revalidator/purge");
      // the prober connects every 10 ms (timeout 100 ms each) and prints the monotonic time of the first refusal
      Process prober = new ProcessBuilder("timeout", "30", "ip", "netns", "exec", ovs.name("cli"), "/usr/bin/python3", "-c",
          String.join("\n", "import socket, sys, time",
              "print('go', flush=True)",
              "while True:",
              "    s = socket.socket(); s.settimeout(0.1)",
              "    try:",
              "        s.connect(('10.96.73.10', 80))",
              "    except ConnectionRefusedError:",
              "        print(time.monotonic_ns(), flush=True); break",
              "    except OSError:",
              "        pass",
              "    finally:",
              "        s.close()",
              "    time.sleep(0.01)")).start();
      BufferedReader out = new BufferedReader(new InputStreamReader(prober.getInputStream(), StandardCharsets.UTF_8));
      if (!"go".equals(out.readLine())) {
        throw new IllegalStateException("prober did not start");
      }
      Thread.sleep(200);
      long start = System.nanoTime(); // CLOCK_MONOTONIC, as Python's monotonic_ns
      rt.model().apply(List.of(new ModelEvent.EndpointSliceUpserted(slice(80, 8080, false))));
      String line = out.readLine();
      prober.destroyForcibly();
      if (line == null) {
        throw new IllegalStateException("no connection was refused within 30 s of the last endpoint going");
      }
      millis.add((Long.parseLong(line.trim()) - start) / 1e6);
    }
    Collections.sort(millis);
    System.err.printf(Locale.ROOT, "svc bench: no-endpoint reject ms %s%n", millis);
    System.out.printf(Locale.ROOT, "BENCH svc.no_endpoint_reject_ms %.1f ms%n", millis.get(millis.size() / 2));
  }

  private static void ratio(Ovs ovs) throws Exception {
    List<Double> viaService = new ArrayList<>();
    List<Double> direct = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      viaService.add(iperf(ovs, "10.96.73.20"));
      direct.add(iperf(ovs, "10.73.0.11"));
    }
    Collections.sort(viaService);
    Collections.sort(direct);
    double ratio = viaService.get(1) / direct.get(1);
    System.err.printf(Locale.ROOT, "svc bench: iperf3 Gbit/s via the cluster IP %s, direct %s%n", viaService, direct);
    System.out.printf(Locale.ROOT, "BENCH svc.datapath_ratio %.3f ratio%n", ratio);
  }

  /** Receiver-side Gbit/s of a 3 s iperf3 TCP run from the client to {@code address}:5201. */
  private static double iperf(Ovs ovs, String address) {
    Sh.Result r = ovs.inHost("cli", 30, "iperf3", "-c", address, "-p", "5201", "-t", "3", "-J");
    if (r.code() != 0) {
      throw new IllegalStateException("iperf3 to " + address + " failed: " + r);
    }
    try {
      var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out());
      return json.get("end").get("sum_received").get("bits_per_second").asDouble() / 1e9;
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static EndpointSlice slice(int port, int target, boolean withEndpoint) {
    List<EndpointSlice.Endpoint> eps = withEndpoint
        ? List.of(new EndpointSlice.Endpoint(List.of("10.73.0.11"), true, true, false,
            Optional.of(new ObjectRef("bench", "srv")), ""))
        : List.of();
    return new EndpointSlice(new ObjectRef("bench", "s" + port + "-x"), "s" + port, EndpointSlice.AddressType.IPV4, eps,
        List.of(new EndpointSlice.Port("", Protocol.TCP, OptionalInt.of(target))));
  }

  private static long ofport(String iface) {
    return Long.parseLong(Sh.run("ovs-vsctl", "get", "Interface", iface, "ofport").trim());
  }

  private static SwitchStatus status(SluiceRuntime rt, long dpid) {
    String name = DatapathId.of(dpid).toString();
    return rt.switches().statuses().stream().filter(s -> s.datapathId().equals(name)).findFirst().orElse(null);
  }

  /** Polls every 50 µs until the switch confirmed {@code generation}. */
  private static SwitchStatus awaitGeneration(SluiceRuntime rt, long dpid, long generation, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      SwitchStatus s = status(rt, dpid);
      if (s != null && s.connected() && s.realizedGeneration() >= generation) {
        return s;
      }
      java.util.concurrent.locks.LockSupport.parkNanos(50_000);
    }
    throw new IllegalStateException("generation " + generation + " not confirmed: " + status(rt, dpid));
  }
}
