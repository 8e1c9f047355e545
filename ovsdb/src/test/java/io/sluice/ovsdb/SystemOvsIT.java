package io.sluice.ovsdb;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.model.ModelEvent;
import io.sluice.model.ModelEvent.PortBound;
import io.sluice.model.ModelEvent.PortUnbound;
import io.sluice.model.ObjectRef;
import io.sluice.ovsdb.actuate.Actuator;
import io.sluice.ovsdb.actuate.Actuator.Outcome;
import io.sluice.ovsdb.actuate.BridgeSpec;
import io.sluice.ovsdb.actuate.PodPortSpec;
import io.sluice.ovsdb.testing.EventLog;
import io.sluice.ovsdb.testing.SystemOvs;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Against the machine's Open vSwitch, where ovs-vswitchd assigns ofports and datapath ids. Only bridges with this
 * run's prefix are made, and only pods in this run's namespace are looked at.
 */
class SystemOvsIT {
  private static final Duration WAIT = Duration.ofSeconds(15);
  private SystemOvs ovs;
  private OvsdbSource source;
  private EventLog log;
  private String ns;
  private final String endpoint = "unix:" + SystemOvs.SOCKET;

  @BeforeEach
  void start() throws Exception {
    ovs = new SystemOvs();
    ns = ovs.name("ns");
    log = new EventLog(pod -> pod.namespace().equals(ns));
    source = new OvsdbSource(List.of(OvsdbEndpoint.parse(endpoint)));
    source.start(log);
    EventLog.await(source::ready, WAIT, "sync with the system OVS");
  }

  @AfterEach
  void stop() {
    try {
      source.stop();
    } finally {
      ovs.close();
    }
  }

  private long ofport(String iface) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      String s = ovs.vsctl("get", "interface", iface, "ofport").trim();
      if (!s.equals("[]") && !s.equals("-1")) {
        return Long.parseLong(s);
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no ofport for " + iface);
  }

  private String macInUse(String iface) {
    return ovs.vsctl("get", "interface", iface, "mac_in_use").trim().replace("\"", "");
  }

  @Test
  void bindingsFollowOfportsAssignedByVswitchd() throws Exception {
    String br = ovs.bridge("b", 0x5100_0000_0001L);
    String p = ovs.name("p1");
    ObjectRef a = new ObjectRef(ns, "a");
    ObjectRef b = new ObjectRef(ns, "b");
    ovs.vsctl("add-port", br, p, "--", "set", "interface", p, "type=internal",
        "external_ids:pod-namespace=" + ns, "external_ids:pod-name=a");
    List<ModelEvent> ev = log.take(1, WAIT);
    long port1 = ofport(p);
    assertThat(ev).containsExactly(new PortBound(new io.sluice.model.PortBinding(a, 0x5100_0000_0001L, port1,
        macInUse(p))));

    ovs.vsctl("set", "interface", p, "external_ids:pod-name=b");
    assertThat(log.take(2, WAIT)).extracting(EventLog::podOf).containsExactly(a, b);

    ovs.vsctl("del-port", br, p);
    assertThat(log.take(1, WAIT)).containsExactly(new PortUnbound(b));

    // Re-added with another ofport.
    ovs.vsctl("add-port", br, p, "--", "set", "interface", p, "type=internal", "ofport_request=" + (port1 + 10),
        "external_ids:pod-namespace=" + ns, "external_ids:pod-name=a", "external_ids:attached-mac=0a:00:00:00:00:01");
    List<ModelEvent> again = log.take(1, WAIT);
    assertThat(again).containsExactly(new PortBound(new io.sluice.model.PortBinding(a, 0x5100_0000_0001L,
        port1 + 10, "0a:00:00:00:00:01")));
    Thread.sleep(300);
    assertThat(log.drain()).as("no duplicates").isEmpty();
    assertThat(source.bindings().get(a).ofport()).isEqualTo(port1 + 10);
  }

  @Test
  void actuationIsIdempotentOnRealOvs() throws Exception {
    Actuator act = source.actuator(endpoint).orElseThrow();
    String br = ovs.track(ovs.name("act"));
    BridgeSpec spec = BridgeSpec.of(br, "netdev", "tcp:127.0.0.1:6699", OptionalLong.of(0x5100_0000_00a1L));
    assertThat(act.ensureBridge(spec).get()).isEqualTo(Outcome.CHANGED);
    assertThat(act.ensureBridge(spec).get()).isEqualTo(Outcome.UNCHANGED);
    assertThat(act.writes()).isEqualTo(1);
    assertThat(ovs.vsctl("get", "bridge", br, "fail_mode").trim()).isEqualTo("secure");
    assertThat(ovs.vsctl("get", "bridge", br, "datapath_type").trim()).isEqualTo("netdev");
    assertThat(ovs.vsctl("get-controller", br).trim()).isEqualTo("tcp:127.0.0.1:6699");
    assertThat(ovs.vsctl("get", "bridge", br, "protocols")).contains("OpenFlow13", "OpenFlow14", "OpenFlow15");
    EventLog.await(() -> ovs.vsctl("get", "bridge", br, "datapath_id").contains(String.format("%016x", 0x5100_0000_00a1L)), WAIT,
        "vswitchd to take the datapath id");

    // Someone changes it behind our back: the next ensure puts it back, once.
    ovs.vsctl("set-fail-mode", br, "standalone", "--", "set", "bridge", br, "protocols=OpenFlow10");
    assertThat(act.ensureBridge(spec).get()).isEqualTo(Outcome.CHANGED);
    assertThat(act.ensureBridge(spec).get()).isEqualTo(Outcome.UNCHANGED);
    assertThat(ovs.vsctl("get", "bridge", br, "fail_mode").trim()).isEqualTo("secure");
    BridgeSpec moved = new BridgeSpec(br, "netdev", Set.of("OpenFlow13"), List.of("tcp:127.0.0.1:6698"), "secure",
        OptionalLong.of(0x5100_0000_00a1L), Map.of("disable-in-band", "true"));
    assertThat(act.ensureBridge(moved).get()).isEqualTo(Outcome.CHANGED);
    assertThat(act.ensureBridge(moved).get()).isEqualTo(Outcome.UNCHANGED);
    assertThat(ovs.vsctl("get-controller", br).trim()).isEqualTo("tcp:127.0.0.1:6698");
    assertThat(ovs.vsctl("get", "bridge", br, "other_config:disable-in-band").trim()).isEqualTo("\"true\"");

    // Pod ports: added once, relabelled once, removed once; bindings follow.
    ObjectRef pod = new ObjectRef(ns, "web");
    String port = ovs.name("w1");
    PodPortSpec pps = new PodPortSpec(port, "internal", pod, "0a:00:00:00:00:07");
    assertThat(act.addPodPort(br, pps).get()).isEqualTo(Outcome.CHANGED);
    assertThat(act.addPodPort(br, pps).get()).isEqualTo(Outcome.UNCHANGED);
    List<ModelEvent> ev = log.take(1, WAIT);
    assertThat(ev).containsExactly(new PortBound(new io.sluice.model.PortBinding(pod, 0x5100_0000_00a1L,
        ofport(port), "0a:00:00:00:00:07")));

    ObjectRef other = new ObjectRef(ns, "api");
    PodPortSpec relabel = new PodPortSpec(port, "internal", other, "");
    assertThat(act.addPodPort(br, relabel).get()).isEqualTo(Outcome.CHANGED);
    assertThat(act.addPodPort(br, relabel).get()).isEqualTo(Outcome.UNCHANGED);
    assertThat(ovs.vsctl("get", "interface", port, "external_ids")).doesNotContain("attached-mac");
    List<ModelEvent> relabelled = log.take(2, WAIT);
    assertThat(relabelled).extracting(EventLog::podOf).containsExactly(pod, other);

    assertThat(act.removePodPort(br, port).get()).isEqualTo(Outcome.CHANGED);
    assertThat(act.removePodPort(br, port).get()).isEqualTo(Outcome.UNCHANGED);
    assertThat(log.take(1, WAIT)).containsExactly(new PortUnbound(other));
    assertThat(act.writes()).isEqualTo(6);
    Thread.sleep(200);
    assertThat(log.drain()).isEmpty();
  }
}
