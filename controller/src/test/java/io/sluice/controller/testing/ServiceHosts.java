package io.sluice.controller.testing;

import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.sync.SwitchStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What the Service ITs share: pod hosts that reach virtual addresses through a gateway no port owns, processes in a
 * host's namespace, and waiting for the controller to realize the model.
 */
public final class ServiceHosts {
  private ServiceHosts() { }

  /**
   * A pod host at {@code cidr} whose default route goes through {@code gateway}, a gateway no port owns (its neighbour
   * entry pinned to {@code gatewayMac}); returns its bridge-side port's name.
   */
  public static String host(Ovs ovs, String br, String suffix, String cidr, String mac, String namespace, String pod,
                          String gateway, String gatewayMac) {
    String port = ovs.host(br, suffix, cidr, mac, namespace, pod);
    route(ovs, suffix, "-4", gateway, gatewayMac);
    return port;
  }

  /**
   * Gives a host an IPv6 address too (no duplicate address detection, so it is usable at once), with a default route
   * through {@code gateway}, pinned to {@code gatewayMac}.
   */
  public static void addIpv6(Ovs ovs, String suffix, String cidr, String gateway, String gatewayMac) {
    String dev = ovs.name(suffix) + "-e";
    check(ovs.inHost(suffix, 5, "ip", "-6", "addr", "add", cidr, "dev", dev, "nodad"), "ip -6 addr add " + cidr);
    route(ovs, suffix, "-6", gateway, gatewayMac);
  }

  private static void route(Ovs ovs, String suffix, String family, String gateway, String gatewayMac) {
    String dev = ovs.name(suffix) + "-e";
    check(ovs.inHost(suffix, 5, "ip", family, "route", "add", "default", "via", gateway, "dev", dev), "default route");
    check(ovs.inHost(suffix, 5, "ip", family, "neigh", "replace", gateway, "lladdr", gatewayMac, "dev", dev,
        "nud", "permanent"), "gateway neighbour");
  }

  private static void check(Sh.Result r, String what) {
    if (r.code() != 0) {
      throw new AssertionError(what + " failed: " + r);
    }
  }

  /** A Python script that listens on the TCP ports given as arguments and closes every connection it accepts. */
  public static final String ACCEPT_AND_CLOSE = String.join("\n",
      "import selectors, socket, sys",
      "sel = selectors.DefaultSelector()",
      "for p in sys.argv[1:]:",
      "    s = socket.socket()",
      "    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
      "    s.bind(('0.0.0.0', int(p)))",
      "    s.listen(64)",
      "    sel.register(s, selectors.EVENT_READ)",
      "while True:",
      "    for key, _ in sel.select():",
      "        c, _ = key.fileobj.accept()",
      "        c.close()",
      "");

  /** Starts a command in a host's namespace, killed after {@code timeoutSeconds} at the latest; stderr inherited. */
  public static Process start(Ovs ovs, String suffix, int timeoutSeconds, String... cmd) throws java.io.IOException {
    List<String> c = new ArrayList<>(List.of("timeout", String.valueOf(timeoutSeconds), "ip", "netns", "exec",
        ovs.name(suffix)));
    c.addAll(List.of(cmd));
    return new ProcessBuilder(c).redirectError(ProcessBuilder.Redirect.INHERIT).start();
  }

  /**
   * Waits (at most 30 s) until something in the host's namespace listens on TCP at {@code address} as {@code ss}
   * prints it ({@code 0.0.0.0:8080}, {@code [::]:8080}): a server process answers nothing before, and on a loaded
   * machine a client started right after it would be refused by the endpoint itself.
   */
  public static void awaitListening(Ovs ovs, String suffix, String address) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      String out = Sh.run("ip", "netns", "exec", ovs.name(suffix), "ss", "-Hltn");
      if (java.util.Arrays.stream(out.split("\n")).anyMatch(l -> l.contains(" " + address + " "))) {
        return;
      }
      Ovs.sleep(20);
    }
    throw new AssertionError("nothing listens on " + address + " in " + ovs.name(suffix));
  }

  /**
   * Kills the processes and what they started: killing {@code timeout} alone leaves its command running, holding the
   * test JVM's stderr (and so the build) until it exits by itself.
   */
  public static void stop(List<Process> processes) {
    for (Process p : processes) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
  }

  /**
   * Waits until every switch is connected and realized the model's generation with {@code pods} pods of the namespace
   * bound; returns when it saw it (System.nanoTime).
   */
  public static long awaitRealized(SluiceRuntime rt, String namespace, int pods) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      List<SwitchStatus> st = rt.switches().statuses();
      long bound = rt.model().snapshot().bindings().keySet().stream().filter(r -> r.namespace().equals(namespace)).count();
      if (bound == pods && !st.isEmpty()
          && st.stream().allMatch(s -> s.connected() && s.realizedGeneration() == rt.model().generation())) {
        return System.nanoTime();
      }
      Ovs.sleep(2);
    }
    throw new AssertionError("not realized: generation " + rt.model().generation() + ", " + rt.switches().statuses());
  }

  /** {@link #awaitRealized}, then drops the datapath's cached flows so the next probe meets the new tables. */
  public static void awaitRealizedAndPurge(SluiceRuntime rt, String namespace, int pods) {
    awaitRealized(rt, namespace, pods);
    Sh.run("ovs-appctl", "revalidator/purge");
  }

  /**
   * Waits until the model holds a slice of the Service with that many endpoints; returns when it saw it
   * (System.nanoTime).
   */
  public static long awaitSlice(SluiceRuntime rt, String service, int endpoints) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      var slices = rt.model().snapshot().endpointSlices().values();
      if (slices.stream().anyMatch(s -> s.serviceName().equals(service) && s.endpoints().size() == endpoints)) {
        return System.nanoTime();
      }
      Ovs.sleep(2);
    }
    throw new AssertionError("the slice never had " + endpoints + " endpoints: " + rt.model().snapshot().endpointSlices());
  }
}
