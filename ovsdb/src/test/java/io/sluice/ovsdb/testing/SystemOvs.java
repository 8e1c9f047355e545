package io.sluice.ovsdb.testing;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The machine's Open vSwitch (ovsdb-server + ovs-vswitchd): started with ovs-ctl if it does not answer. Bridges made
 * here carry a per-run prefix, use the userspace datapath, and are deleted by close().
 */
public final class SystemOvs implements AutoCloseable {
  public static final String SOCKET = "/var/run/openvswitch/db.sock";
  private static final String OVS_CTL = "/usr/share/openvswitch/scripts/ovs-ctl";
  private final String prefix;
  private final List<String> bridges = Collections.synchronizedList(new ArrayList<>());

  public SystemOvs() {
    ensureRunning();
    prefix = "so" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xffff));
  }

  public static void ensureRunning() {
    if (up()) {
      return;
    }
    Sh.run(OVS_CTL, "--system-id=random", "--no-monitor", "start");
    for (int i = 0; i < 50; i++) {
      if (up()) {
        return;
      }
      PrivateOvsdbServer.sleep(100);
    }
    throw new AssertionError("Open vSwitch did not come up after ovs-ctl start");
  }

  private static boolean up() {
    return Sh.exec(10, "ovs-vsctl", "--timeout=2", "show").code() == 0
        && Sh.exec(10, "ovs-appctl", "-t", "ovs-vswitchd", "version").code() == 0;
  }

  /** prefix + suffix, at most 15 characters (interface names). */
  public String name(String suffix) {
    String n = prefix + suffix;
    if (n.length() > 15) {
      throw new IllegalArgumentException("name too long for an interface: " + n);
    }
    return n;
  }

  /** Remembers a bridge for deletion (for bridges created by the code under test). */
  public String track(String bridge) {
    bridges.add(bridge);
    return bridge;
  }

  /** A netdev bridge with a fixed datapath id. */
  public String bridge(String suffix, long dpid) {
    String br = track(name(suffix));
    Sh.Result r = Sh.exec(30, "ovs-vsctl", "--timeout=10", "add-br", br, "--", "set", "bridge", br,
        "datapath_type=netdev", String.format("other-config:datapath-id=%016x", dpid));
    if (r.code() != 0 || r.err().contains("Error detected")) {
      throw new AssertionError("add-br " + br + " failed: " + r.err());
    }
    return br;
  }

  public String vsctl(String... args) {
    List<String> cmd = new ArrayList<>(List.of("ovs-vsctl", "--timeout=10"));
    cmd.addAll(List.of(args));
    return Sh.run(cmd);
  }

  @Override
  public void close() {
    List<String> left = new ArrayList<>(bridges);
    Collections.reverse(left);
    for (String br : left) {
      Sh.exec(30, "ovs-vsctl", "--timeout=10", "--if-exists", "del-br", br);
    }
  }
}
