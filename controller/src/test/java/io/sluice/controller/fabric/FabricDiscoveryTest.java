package io.sluice.controller.fabric;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.session.SessionListener;
import io.sluice.controller.session.SwitchSession;
import io.sluice.model.Host;
import io.sluice.model.Link;
import io.sluice.model.ModelEvent;
import io.sluice.model.ObjectRef;
import io.sluice.model.PortBinding;
import io.sluice.model.Snapshot;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The fabric's bookkeeping, driven through its package-private hooks with a fake clock (no switch). */
class FabricDiscoveryTest {
  private static final String POD_MAC = "0a:58:00:00:00:99";
  private final AtomicLong now = new AtomicLong(1_000_000);
  private final List<ModelEvent> events = new ArrayList<>();
  private final Snapshot snapshot = new Snapshot(7, Map.of(), Map.of(),
      Map.of(new ObjectRef("ns", "p"), new PortBinding(new ObjectRef("ns", "p"), 1, 9, POD_MAC.toUpperCase())));
  private FabricDiscovery fabric = make(FabricDiscovery.Options.defaults());

  private FabricDiscovery make(FabricDiscovery.Options o) {
    SessionListener none = new SessionListener() {
      @Override
      public void active(SwitchSession session) { }

      @Override
      public void closed(SwitchSession session, String reason) { }
    };
    FabricDiscovery f = new FabricDiscovery(none, o, Lldp.random(), d -> true, () -> snapshot, events::addAll,
        now::get, now::get);
    f.close(); // no timer: the test flushes and ages by hand
    return f;
  }

  @AfterEach
  void close() {
    fabric.close();
  }

  private List<ModelEvent> flushed() {
    fabric.flush();
    List<ModelEvent> out = List.copyOf(events);
    events.clear();
    return out;
  }

  private static HostPackets.Sighting s(String mac, String ip) {
    return new HostPackets.Sighting(mac, ip);
  }

  @Test
  void aLinkIsUpOnceAndDownAfterThreeSilentIntervals() {
    Link l = Link.of(2, 1, 1, 3);
    fabric.linkHeard(l, now.get());
    fabric.linkHeard(l, now.get());
    assertThat(flushed()).containsExactly(new ModelEvent.LinkUp(l));
    now.addAndGet(2500);
    fabric.linkHeard(l, now.get());
    now.addAndGet(3000);
    fabric.expire(now.get(), now.get());
    assertThat(flushed()).isEmpty();
    now.addAndGet(1);
    fabric.expire(now.get(), now.get());
    assertThat(flushed()).containsExactly(new ModelEvent.LinkDown(l));
    assertThat(fabric.topology().links()).isEmpty();
  }

  @Test
  void hostsAreLearnedOnEdgePortsOnly() {
    Link l = Link.of(1, 1, 2, 1);
    fabric.linkHeard(l, now.get());
    flushed();
    fabric.hostIn(1, 1, s("0a:00:00:00:00:01", "10.0.0.1")); // on a link: behind switch 2
    fabric.hostIn(1, 5, s(POD_MAC, "10.0.0.9")); // a pod's MAC
    assertThat(flushed()).isEmpty();
    fabric.hostIn(1, 4, s("0a:00:00:00:00:01", "10.0.0.1"));
    fabric.hostIn(1, 4, s("0a:00:00:00:00:01", "10.0.0.1"));
    Host h = new Host("0a:00:00:00:00:01", List.of("10.0.0.1"), 1, 4, now.get());
    assertThat(flushed()).containsExactly(new ModelEvent.HostUpserted(h));
    now.addAndGet(10);
    fabric.hostIn(1, 4, s("0a:00:00:00:00:01", "fd00:0:0:0:0:0:0:1"));
    assertThat(flushed()).containsExactly(new ModelEvent.HostUpserted(
        new Host("0a:00:00:00:00:01", List.of("10.0.0.1", "fd00:0:0:0:0:0:0:1"), 1, 4, now.get())));
    fabric.hostIn(2, 7, s("0a:00:00:00:00:01", "10.0.0.1")); // moved
    assertThat(flushed()).containsExactly(new ModelEvent.HostUpserted(
        new Host("0a:00:00:00:00:01", List.of("10.0.0.1"), 2, 7, now.get())));
    assertThat(fabric.hosts()).singleElement().satisfies(v -> assertThat(v.dpid()).isEqualTo("00:00:00:00:00:00:00:02"));
  }

  @Test
  void aPortGoingDownTakesItsLinkAndHosts() {
    Link l = Link.of(1, 1, 2, 1);
    Link other = Link.of(1, 2, 3, 1);
    fabric.linkHeard(l, now.get());
    fabric.linkHeard(other, now.get());
    fabric.hostIn(2, 1, s("0a:00:00:00:00:02", "10.0.0.2")); // on the link's port: ignored
    fabric.hostIn(2, 4, s("0a:00:00:00:00:03", "10.0.0.3"));
    flushed();
    fabric.portDown(2, 1, false);
    assertThat(flushed()).containsExactly(new ModelEvent.LinkDown(l));
    fabric.portDown(2, 4, true);
    assertThat(flushed()).containsExactly(new ModelEvent.HostDeleted("0a:00:00:00:00:03"));
    fabric.switchGone(3);
    assertThat(flushed()).containsExactly(new ModelEvent.LinkDown(other));
  }

  @Test
  void aLinkFoundWhereHostsWereSeenRemovesThem() {
    fabric.hostIn(2, 1, s("0a:00:00:00:00:02", "10.0.0.2")); // flooded before the link was known
    flushed();
    Link l = Link.of(1, 1, 2, 1);
    fabric.linkHeard(l, now.get());
    assertThat(flushed()).containsExactly(new ModelEvent.LinkUp(l), new ModelEvent.HostDeleted("0a:00:00:00:00:02"));
  }

  @Test
  void aPortHasOneLinkANewNeighbourReplacesTheOld() {
    Link old = Link.of(1, 1, 2, 1);
    Link now2 = Link.of(1, 1, 3, 1);
    fabric.linkHeard(old, now.get());
    fabric.linkHeard(now2, now.get());
    assertThat(flushed()).containsExactly(new ModelEvent.LinkUp(old), new ModelEvent.LinkDown(old),
        new ModelEvent.LinkUp(now2));
  }

  @Test
  void hostsAgeOut() {
    fabric.hostIn(1, 4, s("0a:00:00:00:00:01", "10.0.0.1"));
    flushed();
    now.addAndGet(300_000);
    fabric.expire(now.get(), now.get());
    assertThat(flushed()).isEmpty();
    now.addAndGet(1);
    fabric.expire(now.get(), now.get());
    assertThat(flushed()).containsExactly(new ModelEvent.HostDeleted("0a:00:00:00:00:01"));
  }

  @Test
  void memoryIsBounded() {
    fabric = make(new FabricDiscovery.Options(Duration.ofSeconds(1), Duration.ofSeconds(300), 1, 3, 2, 100));
    fabric.hostIn(1, 4, s("0a:00:00:00:00:01", "10.0.0.1"));
    fabric.hostIn(1, 5, s("0a:00:00:00:00:02", "10.0.0.2"));
    fabric.hostIn(1, 6, s("0a:00:00:00:00:03", "10.0.0.3")); // a third on switch 1
    fabric.hostIn(2, 6, s("0a:00:00:00:00:04", "10.0.0.4"));
    fabric.hostIn(3, 6, s("0a:00:00:00:00:05", "10.0.0.5")); // a fourth in all
    for (int i = 0; i < 20; i++) {
      fabric.hostIn(1, 4, s("0a:00:00:00:00:01", "10.0.1." + i)); // addresses of one host: the last 8 kept
    }
    fabric.linkHeard(Link.of(1, 1, 2, 1), now.get());
    fabric.linkHeard(Link.of(1, 2, 3, 1), now.get()); // a second link
    assertThat(fabric.hosts()).hasSize(3);
    assertThat(fabric.hosts().get(0).ips()).hasSize(8).endsWith("10.0.1.19");
    FabricDiscovery.Stats st = fabric.stats();
    assertThat(st.hostsRefused()).isEqualTo(2);
    assertThat(st.linksRefused()).isEqualTo(1);
    assertThat(st.links()).isEqualTo(1);
  }
}
