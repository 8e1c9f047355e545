package io.sluice.controller.testing;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Real Open vSwitch for tests: starts it when it is not running, makes bridges and namespace hosts with a per-run
 * prefix, and removes everything it made on {@link #close()}, also after failures.
 */
public final class Ovs implements AutoCloseable {
  private static final String OVS_CTL = "/usr/share/openvswitch/scripts/ovs-ctl";
  private final String prefix;
  private final List<String> bridges = Collections.synchronizedList(new ArrayList<>());
  private final List<String> namespaces = Collections.synchronizedList(new ArrayList<>());
  private final List<String> links = Collections.synchronizedList(new ArrayList<>());
  /** Prepended to ovs-vsctl and ovs-ofctl: empty for the system instance, {@code env OVS_RUNDIR=...} for a private one. */
  private final List<String> env;
  private final String datapathType;

  public Ovs() {
    ensureRunning();
    prefix = "t" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xffff));
    env = List.of();
    datapathType = "netdev";
  }

  /**
   * Bridges and hosts on a test's own Open vSwitch instance instead of the system one: its tools run with its run
   * directory, and bridges use its userspace datapath type ({@code dummy}, see {@link PrivateOvs}).
   */
  public Ovs(PrivateOvs instance) {
    prefix = "t" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xffff));
    env = List.of(instance.env());
    datapathType = PrivateOvs.DATAPATH_TYPE;
  }

  /** A command for this instance: ovs-* tools get its environment. */
  private String[] c(String... cmd) {
    if (env.isEmpty() || !cmd[0].startsWith("ovs-")) {
      return cmd;
    }
    List<String> all = new ArrayList<>(env);
    all.addAll(List.of(cmd));
    return Sh.cmd(all);
  }

  /** Starts ovsdb-server and ovs-vswitchd with ovs-ctl unless they answer already. */
  public static void ensureRunning() {
    if (Sh.exec(10, "ovs-vsctl", "--timeout=3", "show").code() == 0 && vswitchdRunning()) {
      return;
    }
    if (!new java.io.File(OVS_CTL).exists()) {
      throw new AssertionError("Open vSwitch is not installed (" + OVS_CTL + " missing): run deploy/install-deps.sh (make test does)");
    }
    Sh.run(OVS_CTL, "--system-id=random", "--no-monitor", "start");
    for (int i = 0; i < 50; i++) {
      if (Sh.exec(10, "ovs-vsctl", "--timeout=3", "show").code() == 0 && vswitchdRunning()) {
        return;
      }
      sleep(100);
    }
    throw new AssertionError("Open vSwitch did not come up after ovs-ctl start");
  }

  static boolean vswitchdRunning() {
    return Sh.exec(10, "ovs-appctl", "-t", "ovs-vswitchd", "version").code() == 0;
  }

  public String prefix() {
    return prefix;
  }

  /** A short unique name: prefix + suffix (keep within 15 characters for interfaces). */
  public String name(String suffix) {
    String n = prefix + suffix;
    if (n.length() > 15) {
      throw new IllegalArgumentException("name too long for an interface: " + n);
    }
    return n;
  }

  /**
   * A netdev bridge with the given protocols, fail-mode secure, pointing at the controller (set before any flows),
   * with a fixed datapath id.
   */
  public String bridge(String suffix, long dpid, String protocols, int controllerPort) {
    String br = name(suffix);
    bridges.add(br);
    Sh.run(c("ovs-vsctl", "--may-exist", "add-br", br, "--", "set", "bridge", br, "datapath_type=" + datapathType,
        "protocols=" + protocols, "fail-mode=secure", String.format("other-config:datapath-id=%016x", dpid)));
    if (controllerPort > 0) {
      setController(br, controllerPort);
    }
    return br;
  }

  /** Points the bridge at a controller on 127.0.0.1, reconnecting quickly (max_backoff 1 s). */
  public void setController(String br, int port) {
    Sh.run(c("ovs-vsctl", "set-controller", br, "tcp:127.0.0.1:" + port, "--",
        "set", "controller", br, "max_backoff=1000", "inactivity_probe=0"));
  }

  /**
   * Points the bridge at several controllers on 127.0.0.1 at once (replicas), each reconnecting within a second; the
   * bridge must have had a controller before, or OVS flushes its flows. System instance only.
   */
  public static void setControllers(String br, int... ports) {
    List<String> cmd = new ArrayList<>(List.of("ovs-vsctl"));
    StringBuilder refs = new StringBuilder();
    for (int i = 0; i < ports.length; i++) {
      cmd.addAll(List.of("--id=@c" + i, "create", "controller", "target=\"tcp:127.0.0.1:" + ports[i] + "\"",
          "max_backoff=1000", "inactivity_probe=0", "--"));
      refs.append(i == 0 ? "" : ",").append("@c").append(i);
    }
    cmd.addAll(List.of("set", "bridge", br, "controller=[" + refs + "]"));
    Sh.run(cmd.toArray(String[]::new));
  }

  /** A namespace host with one veth into the bridge, tx offload off on both ends; returns the bridge-side name. */
  public String host(String br, String suffix, String cidr, String mac, String podNamespace, String podName) {
    String ns = name(suffix);
    String inside = ns + "-e";
    String outside = ns + "-b";
    namespaces.add(ns);
    links.add(outside);
    Sh.run("ip", "netns", "add", ns);
    Sh.run("ip", "link", "add", inside, "type", "veth", "peer", "name", outside);
    Sh.run("ip", "link", "set", inside, "netns", ns);
    if (mac != null) {
      Sh.run("ip", "netns", "exec", ns, "ip", "link", "set", inside, "address", mac);
    }
    Sh.run("ip", "netns", "exec", ns, "ip", "addr", "add", cidr, "dev", inside);
    Sh.run("ip", "netns", "exec", ns, "ip", "link", "set", inside, "up");
    Sh.run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
    Sh.run("ip", "netns", "exec", ns, "ethtool", "-K", inside, "tx", "off");
    Sh.run("ip", "link", "set", outside, "up");
    Sh.quiet("ethtool", "-K", outside, "tx", "off");
    List<String> add = new ArrayList<>(List.of("ovs-vsctl", "add-port", br, outside));
    if (podName != null) {
      add.addAll(List.of("--", "set", "Interface", outside, "external_ids:pod-namespace=" + podNamespace,
          "external_ids:pod-name=" + podName));
      if (mac != null) {
        add.add("external_ids:attached-mac=" + mac);
      }
    }
    Sh.run(c(Sh.cmd(add)));
    return outside;
  }

  /**
   * A veth pair between two bridges, as the link between two nodes' switches (or two Mininet switches); returns the
   * port names on {@code brA} and {@code brB}.
   */
  public String[] link(String brA, String brB, String suffix) {
    String a = name(suffix + "a");
    String b = name(suffix + "b");
    links.add(a);
    Sh.run("ip", "link", "add", a, "type", "veth", "peer", "name", b);
    for (String l : List.of(a, b)) {
      // a switch-to-switch link carries what the bridges forward, nothing of the kernel's own (no IPv6 solicitations
      // circling a looped fabric before its links are known)
      Sh.quiet("sysctl", "-q", "-w", "net.ipv6.conf." + l + ".disable_ipv6=1");
      Sh.run("ip", "link", "set", l, "up");
      Sh.quiet("ethtool", "-K", l, "tx", "off");
    }
    Sh.run(c("ovs-vsctl", "add-port", brA, a, "--", "add-port", brB, b));
    return new String[] {a, b};
  }

  /**
   * Lays a bridge's tables out as a hardware switch of this profile has them: the declared tables hold at most their
   * size, every other table nothing ({@code Flow_Table} rows with {@code flow_limit}, overflow refused).
   */
  public static void emulateTables(String br, io.sluice.renderer.pipeline.PipelineProfile p) {
    List<String> cmd = new ArrayList<>(List.of("ovs-vsctl", "--", "--id=@none", "create", "Flow_Table", "flow_limit=0",
        "overflow_policy=refuse"));
    StringBuilder tables = new StringBuilder();
    for (int t = 0; t < 255; t++) {
      io.sluice.renderer.pipeline.Table table = p.tables().get(t);
      if (table != null) {
        cmd.addAll(List.of("--", "--id=@t" + t, "create", "Flow_Table", "flow_limit=" + table.size(),
            "overflow_policy=refuse", "name=" + table.name()));
      }
      tables.append(t == 0 ? "" : ",").append(t).append(table != null ? "=@t" + t : "=@none");
    }
    cmd.addAll(List.of("--", "set", "bridge", br, "flow_tables={" + tables + "}"));
    Sh.run(cmd.toArray(String[]::new));
  }

  /** Runs a command inside a host's namespace. */
  public Sh.Result inHost(String suffix, long timeoutSeconds, String... cmd) {
    List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", name(suffix)));
    c.addAll(List.of(cmd));
    return Sh.exec(timeoutSeconds, Sh.cmd(c));
  }

  /** dump-flows --no-stats lines of a bridge (OpenFlow 1.5 syntax), sorted. */
  public List<String> flows(String br) {
    return dump(br, "--no-stats");
  }

  /** dump-flows lines with statistics. */
  public List<String> flowsWithStats(String br) {
    return dump(br);
  }

  private List<String> dump(String br, String... extra) {
    List<String> c = new ArrayList<>(List.of("ovs-ofctl", "-O", "OpenFlow13,OpenFlow14,OpenFlow15", "dump-flows", br));
    c.addAll(List.of(extra));
    List<String> lines = new ArrayList<>();
    for (String l : Sh.run(c(Sh.cmd(c))).split("\n")) {
      if (!l.isBlank() && !l.startsWith("OFPST_FLOW") && !l.startsWith("NXST_FLOW")) {
        lines.add(l);
      }
    }
    Collections.sort(lines);
    return lines;
  }

  public static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Override
  public void close() {
    for (String br : bridges) {
      Sh.quiet(c("ovs-vsctl", "--if-exists", "del-br", br));
    }
    for (String l : links) {
      Sh.quiet("ip", "link", "del", l);
    }
    for (String ns : namespaces) {
      Sh.quiet("ip", "netns", "del", ns);
    }
  }
}
