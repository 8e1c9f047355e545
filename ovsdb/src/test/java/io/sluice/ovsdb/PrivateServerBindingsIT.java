package io.sluice.ovsdb;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.model.ModelEvent;
import io.sluice.model.ModelEvent.PortBound;
import io.sluice.model.ModelEvent.PortUnbound;
import io.sluice.model.ObjectRef;
import io.sluice.model.PortBinding;
import io.sluice.ovsdb.testing.EventLog;
import io.sluice.ovsdb.testing.PrivateOvsdbServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Bindings against a real ovsdb-server of our own (no vswitchd: the tests set ofports themselves), so it can be
 * restarted and told to connect to us without touching the machine's Open vSwitch.
 */
class PrivateServerBindingsIT {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final long DPID = 0xaa;
  private static final ObjectRef A = new ObjectRef("ns", "a");
  private static final ObjectRef B = new ObjectRef("ns", "b");
  private static final ObjectRef C = new ObjectRef("ns", "c");
  private static final ObjectRef D = new ObjectRef("ns", "d");

  private PrivateOvsdbServer srv;
  private final EventLog log = new EventLog();
  private OvsdbSource source;

  private static final OvsdbSource.Options FAST = OvsdbSource.Options.defaults()
      .withBackoff(Duration.ofMillis(50), Duration.ofMillis(500));

  @BeforeEach
  void server() {
    srv = new PrivateOvsdbServer();
    // other_config:datapath-id is stored; datapath_id (what ovs-vswitchd writes) is ephemeral: lost on restart.
    srv.vsctl("add-br", "br0", "--", "set", "bridge", "br0", String.format("other_config:datapath-id=%016x", DPID));
  }

  @AfterEach
  void cleanUp() {
    try {
      if (source != null) {
        source.stop();
      }
    } finally {
      srv.close();
    }
  }

  private void addPod(String port, ObjectRef pod, int ofport) {
    srv.vsctl("add-port", "br0", port, "--", "set", "interface", port,
        "external_ids:pod-namespace=" + pod.namespace(), "external_ids:pod-name=" + pod.name(),
        "external_ids:attached-mac=" + mac(pod), "ofport=" + ofport);
  }

  private static String mac(ObjectRef pod) {
    return "02:00:00:00:00:0" + pod.name();
  }

  private static PortBound bound(ObjectRef pod, long ofport) {
    return bound(pod, ofport, mac(pod));
  }

  private static PortBound bound(ObjectRef pod, long ofport, String mac) {
    return new PortBound(new PortBinding(pod, DPID, ofport, mac));
  }

  private void startSource(String... endpoints) throws InterruptedException {
    source = new OvsdbSource(java.util.Arrays.stream(endpoints).map(OvsdbEndpoint::parse).toList(), FAST);
    source.start(log);
  }

  private void awaitSynced() throws InterruptedException {
    EventLog.await(() -> source.status().stream().anyMatch(OvsdbStatus::synced), WAIT, "sync");
  }

  @Test
  void bindingsAppearChangeAndDisappear() throws Exception {
    startSource(srv.endpoint());
    awaitSynced();
    srv.vsctl("add-port", "br0", "pa", "--", "set", "interface", "pa", "external_ids:pod-namespace=ns",
        "external_ids:pod-name=a", "external_ids:attached-mac=" + mac(A));
    Thread.sleep(300);
    assertThat(log.drain()).as("no ofport yet: not bound").isEmpty();

    srv.vsctl("set", "interface", "pa", "ofport=5");
    assertThat(log.take(1, WAIT)).containsExactly(bound(A, 5));

    srv.vsctl("set", "interface", "pa", "external_ids:pod-name=b");
    assertThat(log.take(2, WAIT)).containsExactly(new PortUnbound(A), bound(B, 5, mac(A)));

    srv.vsctl("del-port", "br0", "pa");
    assertThat(log.take(1, WAIT)).containsExactly(new PortUnbound(B));

    addPod("pa", A, 7);
    assertThat(log.take(1, WAIT)).containsExactly(bound(A, 7));

    srv.vsctl("set", "interface", "pa", "ofport=-1");
    assertThat(log.take(1, WAIT)).containsExactly(new PortUnbound(A));

    srv.vsctl("set", "interface", "pa", "ofport=8");
    assertThat(log.take(1, WAIT)).containsExactly(bound(A, 8));

    srv.vsctl("set", "interface", "pa", "external_ids:unrelated=1");
    Thread.sleep(300);
    assertThat(log.drain()).as("unrelated edit: no event").isEmpty();
    assertThat(source.bindings()).containsOnlyKeys(A);
    assertThat(source.cache(srv.endpoint()).orElseThrow().bridge("br0")).isPresent();
  }

  @Test
  void serverRestartNeitherLosesNorDuplicatesBindings() throws Exception {
    addPod("pa", A, 1);
    addPod("pb", B, 2);
    addPod("pc", C, 3);
    // A bridge whose dpid only ovs-vswitchd knows: empty after the restart until "vswitchd" writes it again.
    srv.vsctl("add-br", "br1", "--", "set", "bridge", "br1", "datapath_id=00000000000000bb", "--",
        "add-port", "br1", "pd", "--", "set", "interface", "pd", "ofport=4", "external_ids:pod-namespace=ns",
        "external_ids:pod-name=d", "external_ids:attached-mac=" + mac(D));
    PortBound d = new PortBound(new PortBinding(D, 0xbb, 4, mac(D)));
    startSource(srv.endpoint());
    assertThat(log.take(4, WAIT)).containsExactlyInAnyOrder(bound(A, 1), bound(B, 2), bound(C, 3), d);

    srv.stop();
    EventLog.await(() -> source.status().get(0).state() == OvsdbStatus.State.CONNECTING, WAIT, "connection loss");
    assertThat(source.bindings()).as("bindings are kept while the server is away").hasSize(4);
    srv.start();
    // Meanwhile b is gone, c moved to port 9, a stays; and "vswitchd" writes br1's datapath_id again.
    srv.vsctl("del-port", "br0", "pb");
    srv.vsctl("set", "interface", "pc", "ofport=9");
    srv.vsctl("set", "bridge", "br1", "datapath_id=00000000000000bb");
    awaitSynced();
    assertThat(log.take(2, WAIT)).containsExactlyInAnyOrder(new PortUnbound(B), bound(C, 9));
    Thread.sleep(300);
    assertThat(log.drain()).as("nothing for the unchanged pod, nothing twice").isEmpty();
    assertThat(source.bindings()).containsOnlyKeys(A, C, D);
    assertThat(source.status().get(0).reconnects()).isPositive();

    // A second restart with no change at all emits nothing.
    long before = source.status().get(0).reconnects();
    srv.restart();
    EventLog.await(() -> source.status().get(0).reconnects() > before && source.status().get(0).synced(), WAIT,
        "second resync");
    srv.vsctl("set", "bridge", "br1", "datapath_id=00000000000000bb");
    Thread.sleep(300);
    assertThat(log.drain()).isEmpty();
  }

  @Test
  void interfacesNotRealizedAgainAfterARestartUnbindOnceTheResyncGraceEnds() throws Exception {
    srv.vsctl("add-br", "br1", "--", "set", "bridge", "br1", "datapath_id=00000000000000bb", "--",
        "add-port", "br1", "pa", "--", "set", "interface", "pa", "ofport=1", "external_ids:pod-namespace=ns",
        "external_ids:pod-name=a", "external_ids:attached-mac=" + mac(A));
    source = new OvsdbSource(List.of(OvsdbEndpoint.parse(srv.endpoint())),
        FAST.withResyncGrace(Duration.ofMillis(700)));
    source.start(log);
    assertThat(log.take(1, WAIT)).containsExactly(new PortBound(new PortBinding(A, 0xbb, 1, mac(A))));
    // After the restart br1 has no datapath_id (ephemeral) and nobody writes it again.
    srv.restart();
    long t0 = System.nanoTime();
    assertThat(log.take(1, WAIT)).containsExactly(new PortUnbound(A));
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(600));
  }

  @Test
  void reportsConnectingWhileNoServerAndSyncsOnceItAppears() throws Exception {
    addPod("pa", A, 4);
    srv.stop();
    startSource(srv.endpoint());
    EventLog.await(() -> source.status().get(0).lastError().startsWith("connect failed"), WAIT, "connect error");
    OvsdbStatus s = source.status().get(0);
    assertThat(s.state()).isEqualTo(OvsdbStatus.State.CONNECTING);
    assertThat(s.name()).isEqualTo(srv.endpoint());
    assertThat(source.ready()).isFalse();
    srv.start();
    assertThat(log.take(1, WAIT)).containsExactly(bound(A, 4));
    EventLog.await(source::ready, WAIT, "ready");
    assertThat(source.status().get(0).lastError()).isEmpty();
    assertThat(source.status().get(0).bindings()).isEqualTo(1);
  }

  @Test
  void passiveListenerServesAServerToldToConnectBySetManager() throws Exception {
    addPod("pa", A, 6);
    OvsdbEndpoint listen = OvsdbEndpoint.parse("ptcp:0:127.0.0.1");
    startSource(listen.toString());
    EventLog.await(() -> source.listenPort(listen).isPresent(), WAIT, "listening");
    int port = source.listenPort(listen).orElseThrow();
    assertThat(source.status().get(0).state()).isEqualTo(OvsdbStatus.State.LISTENING);

    srv.vsctl("set-manager", "tcp:127.0.0.1:" + port);
    assertThat(log.take(1, WAIT)).containsExactly(bound(A, 6));
    List<OvsdbStatus> st = source.status();
    assertThat(st).hasSize(2);
    assertThat(st.get(1).name()).startsWith("ptcp:" + port + " peer 127.0.0.1:");
    assertThat(st.get(1).synced()).isTrue();

    srv.vsctl("set", "interface", "pa", "ofport=11");
    assertThat(log.take(1, WAIT)).containsExactly(bound(A, 11));

    // Actuation works over the passive connection too.
    var act = source.actuator(st.get(1).name()).orElseThrow();
    assertThat(act.setFlowRestoreWait(true).get()).isEqualTo(io.sluice.ovsdb.actuate.Actuator.Outcome.CHANGED);
    assertThat(act.setFlowRestoreWait(true).get()).isEqualTo(io.sluice.ovsdb.actuate.Actuator.Outcome.UNCHANGED);
    assertThat(srv.vsctl("get", "open_vswitch", ".", "other_config:flow-restore-wait").trim()).isEqualTo("\"true\"");
    assertThat(act.setFlowRestoreWait(false).get()).isEqualTo(io.sluice.ovsdb.actuate.Actuator.Outcome.CHANGED);
    assertThat(act.setFlowRestoreWait(false).get()).isEqualTo(io.sluice.ovsdb.actuate.Actuator.Outcome.UNCHANGED);
    assertThat(act.writes()).isEqualTo(2);

    // The server goes away: its bindings stay for the grace period (60 s by default), nothing is emitted.
    srv.vsctl("del-manager");
    EventLog.await(() -> source.status().stream().anyMatch(x -> x.state() == OvsdbStatus.State.CLOSED), WAIT,
        "peer gone");
    Thread.sleep(200);
    assertThat(log.drain()).isEmpty();
    assertThat(source.bindings()).isEqualTo(Map.of(A, new PortBinding(A, DPID, 11, mac(A))));
  }

  @Test
  void aSecondServerWithAConnectedSystemIdIsRefusedUntilTheFirstIsGone() throws Exception {
    srv.vsctl("set", "open_vswitch", ".", "external_ids:system-id=node-1");
    addPod("pa", A, 6);
    OvsdbEndpoint listen = OvsdbEndpoint.parse("ptcp:0:127.0.0.1");
    startSource(listen.toString());
    EventLog.await(() -> source.listenPort(listen).isPresent(), WAIT, "listening");
    int port = source.listenPort(listen).orElseThrow();
    srv.vsctl("set-manager", "tcp:127.0.0.1:" + port);
    assertThat(log.take(1, WAIT)).containsExactly(bound(A, 6));

    // an impostor: another server claiming node-1, with a pod on a bridge of its own
    try (PrivateOvsdbServer impostor = new PrivateOvsdbServer()) {
      impostor.vsctl("set", "open_vswitch", ".", "external_ids:system-id=node-1");
      impostor.vsctl("add-br", "br1", "--", "set", "bridge", "br1", "other_config:datapath-id=00000000000000bb");
      impostor.vsctl("add-port", "br1", "pb", "--", "set", "interface", "pb", "external_ids:pod-namespace=ns",
          "external_ids:pod-name=b", "ofport=7");
      impostor.vsctl("set-manager", "tcp:127.0.0.1:" + port);
      EventLog.await(() -> source.status().stream().anyMatch(x -> x.lastError().contains(
          "refused: system-id node-1 is already connected from ptcp:" + port + " peer 127.0.0.1:")), WAIT, "refusal");
      Thread.sleep(300);
      assertThat(log.drain()).as("nothing of the impostor's is bound").isEmpty();
      assertThat(source.bindings()).containsOnlyKeys(A);

      // the first server goes: the next one claiming node-1 (it reconnects by itself) is accepted and speaks for
      // the node from then on (same source, system-id:node-1: what it reports replaces what the first reported)
      srv.vsctl("del-manager");
      assertThat(log.take(2, Duration.ofSeconds(30))).containsExactly(new PortUnbound(A),
          new PortBound(new PortBinding(B, 0xbb, 7, "")));
    }
  }

  @Test
  void withAListOnlyListedSystemIdsAreServed() throws Exception {
    srv.vsctl("set", "open_vswitch", ".", "external_ids:system-id=node-9");
    addPod("pa", A, 6);
    OvsdbEndpoint listen = OvsdbEndpoint.parse("ptcp:0:127.0.0.1");
    source = new OvsdbSource(List.of(listen), FAST.withAllowedSystemIds(java.util.Set.of("node-1")));
    source.start(log);
    EventLog.await(() -> source.listenPort(listen).isPresent(), WAIT, "listening");
    srv.vsctl("set-manager", "tcp:127.0.0.1:" + source.listenPort(listen).orElseThrow());
    EventLog.await(() -> source.status().stream().anyMatch(x -> x.lastError().equals(
        "refused: system-id node-9 is not in the --ovsdb-nodes list")), WAIT, "refusal");
    Thread.sleep(300);
    assertThat(log.drain()).as("an unlisted node binds nothing").isEmpty();
    // listed: served (the server reconnects by itself)
    srv.vsctl("set", "open_vswitch", ".", "external_ids:system-id=node-1");
    assertThat(log.take(1, Duration.ofSeconds(30))).containsExactly(bound(A, 6));
  }

  @Test
  void passivePeerThatStaysAwayIsUnboundAfterTheGracePeriod() throws Exception {
    addPod("pa", A, 6);
    OvsdbEndpoint listen = OvsdbEndpoint.parse("ptcp:0:127.0.0.1");
    source = new OvsdbSource(List.of(listen), FAST.withPassiveGrace(Duration.ofMillis(300)));
    source.start(log);
    EventLog.await(() -> source.listenPort(listen).isPresent(), WAIT, "listening");
    srv.vsctl("set-manager", "tcp:127.0.0.1:" + source.listenPort(listen).orElseThrow());
    assertThat(log.take(1, WAIT)).containsExactly(bound(A, 6));
    srv.vsctl("del-manager");
    List<ModelEvent> ev = log.take(1, WAIT);
    assertThat(ev).containsExactly(new PortUnbound(A));
  }
}
