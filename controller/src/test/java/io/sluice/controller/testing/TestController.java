package io.sluice.controller.testing;

import io.sluice.controller.runtime.ControllerMetrics;
import io.sluice.controller.session.OpenFlowServer;
import io.sluice.controller.session.SessionConfig;
import io.sluice.controller.session.SwitchSession;
import io.sluice.controller.sync.SwitchManager;
import io.sluice.controller.sync.SwitchStatus;
import io.sluice.controller.sync.OvsFlowCodec;
import io.sluice.renderer.flow.DesiredTables;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.Group;
import io.sluice.renderer.flow.Meter;
import io.sluice.renderer.pipeline.PipelineProfile;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.projectfloodlight.openflow.types.DatapathId;

/**
 * The real sessions and sync of Sluice on an ephemeral (or given) port, with desired flows a test sets per switch on
 * top of the base pipeline. Each {@link #setFlows} is a new generation.
 */
public final class TestController implements AutoCloseable {
  public final ControllerMetrics metrics = new ControllerMetrics();
  private final AtomicLong generation = new AtomicLong(1);
  private final Map<Long, List<Flow>> extra = new ConcurrentHashMap<>();
  private final Map<Long, List<Group>> groups = new ConcurrentHashMap<>();
  private final Map<Long, List<Meter>> meters = new ConcurrentHashMap<>();
  private final PipelineProfile profile = PipelineProfile.ovs();
  private final SwitchManager manager;
  private final OpenFlowServer server;

  private final int round;

  public TestController(int port, Duration echoInterval) throws InterruptedException {
    this(port, echoInterval, null, 1);
  }

  /** round: the incarnation stamped into cookies (a restarted controller has a new one). */
  public TestController(int port, Duration echoInterval, SwitchManager.Role role, int round) throws InterruptedException {
    this(port, new SessionConfig(echoInterval, Duration.ofSeconds(10)), OpenFlowServer.Limits.defaults(),
        SwitchManager.Options.defaults(), role, round);
  }

  /** With the given session bounds, listener limits and sync options. */
  public TestController(int port, SessionConfig cfg, OpenFlowServer.Limits limits, SwitchManager.Options options,
                        SwitchManager.Role role, int round) throws InterruptedException {
    this(port, cfg, limits, options, role, round, null, io.sluice.controller.session.Admission.ALL);
  }

  /** Speaking TLS ({@code tls} not null) and admitting only the switches {@code admission} admits. */
  public TestController(Duration echoInterval, OpenFlowServer.Tls tls, io.sluice.controller.session.Admission admission)
      throws InterruptedException {
    this(0, new SessionConfig(echoInterval, Duration.ofSeconds(10)), OpenFlowServer.Limits.defaults(),
        SwitchManager.Options.defaults(), null, 1, tls, admission);
  }

  private TestController(int port, SessionConfig cfg, OpenFlowServer.Limits limits, SwitchManager.Options options,
                         SwitchManager.Role role, int round, OpenFlowServer.Tls tls,
                         io.sluice.controller.session.Admission admission) throws InterruptedException {
    this.round = round;
    manager = new SwitchManager(new OvsFlowCodec(), this::desired, metrics, role, options);
    manager.modelChanged(generation.get());
    server = new OpenFlowServer(new InetSocketAddress("127.0.0.1", port),
        () -> new SwitchSession(cfg, manager, metrics, admission), 2, limits, tls);
  }

  public OpenFlowServer server() {
    return server;
  }

  private DesiredTables desired(long dpid) {
    List<Flow> flows = new ArrayList<>(profile.baseFlows(dpid, round));
    flows.addAll(extra.getOrDefault(dpid, List.of()));
    List<io.sluice.renderer.flow.Meter> m = new ArrayList<>(profile.baseMeters());
    m.addAll(meters.getOrDefault(dpid, List.of()));
    return DesiredTables.of(dpid, generation.get(), flows, groups.getOrDefault(dpid, List.of()), m);
  }

  public int port() {
    return server.localAddress().getPort();
  }

  public SwitchManager manager() {
    return manager;
  }

  public long generation() {
    return generation.get();
  }

  /** Replaces the extra flows, the groups and the meters of one switch; a new generation. */
  public long setTables(long dpid, List<Flow> flows, List<Group> groups, List<Meter> meters) {
    extra.put(dpid, List.copyOf(flows));
    this.groups.put(dpid, List.copyOf(groups));
    this.meters.put(dpid, List.copyOf(meters));
    long g = generation.incrementAndGet();
    manager.modelChanged(g);
    return g;
  }

  /** Replaces the extra flows of one switch (its groups and meters stay); a new generation. */
  public long setFlows(long dpid, List<Flow> flows) {
    extra.put(dpid, List.copyOf(flows));
    long g = generation.incrementAndGet();
    manager.modelChanged(g);
    return g;
  }

  public SwitchStatus status(long dpid) {
    String name = DatapathId.of(dpid).toString();
    return manager.statuses().stream().filter(s -> s.datapathId().equals(name)).findFirst().orElse(null);
  }

  /** Waits until the switch is connected and has confirmed the current generation. */
  public SwitchStatus awaitRealized(long dpid, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    SwitchStatus s = null;
    while (System.nanoTime() < deadline) {
      s = status(dpid);
      if (s != null && s.connected() && s.realizedGeneration() == generation.get()) {
        return s;
      }
      Ovs.sleep(2);
    }
    throw new AssertionError("switch " + DatapathId.of(dpid) + " did not realize generation " + generation.get()
        + " within " + timeout + "; status: " + s);
  }

  /** Waits for a condition on the switch's status. */
  public SwitchStatus await(long dpid, Duration timeout, java.util.function.Predicate<SwitchStatus> p, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    SwitchStatus s = null;
    while (System.nanoTime() < deadline) {
      s = status(dpid);
      if (s != null && p.test(s)) {
        return s;
      }
      Ovs.sleep(5);
    }
    throw new AssertionError("switch " + DatapathId.of(dpid) + ": " + what + " not seen within " + timeout + "; status: " + s);
  }

  @Override
  public void close() {
    server.close();
    manager.close();
  }
}
