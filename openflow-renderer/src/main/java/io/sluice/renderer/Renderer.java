package io.sluice.renderer;

import io.sluice.model.Snapshot;
import io.sluice.renderer.flow.DesiredTables;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.pipeline.PipelineProfile;
import io.sluice.renderer.policy.Inputs;
import io.sluice.renderer.policy.PolicyCompiler;
import io.sluice.renderer.policy.PolicyIndex;
import io.sluice.renderer.service.ServiceTables;
import java.util.ArrayList;
import java.util.List;

/**
 * The renderer's entry point: a pure function from a model snapshot and a switch to that switch's desired tables.
 * No I/O, no threads, no clocks. It renders the base pipeline (conntrack, then NORMAL forwarding), the Service
 * tables (load balancing: flows and select groups) and the NetworkPolicy tables.
 */
public final class Renderer {
  private final PipelineProfile profile;
  private final int round;
  private final boolean legacyIsolation;

  /** round: the controller incarnation stamped into cookies (informational; diffs ignore it). */
  public Renderer(PipelineProfile profile, int round) {
    this(profile, round, false);
  }

  /** legacyIsolation: honour the oldest API's per-namespace DefaultDeny annotation (off by default). */
  public Renderer(PipelineProfile profile, int round, boolean legacyIsolation) {
    this.profile = profile;
    this.round = round;
    this.legacyIsolation = legacyIsolation;
  }

  public PipelineProfile profile() {
    return profile;
  }

  public int round() {
    return round;
  }

  public DesiredTables render(Snapshot snapshot, long dpid) {
    return render(PolicyIndex.of(snapshot), dpid);
  }

  /**
   * Renders one switch from an index of the snapshot that all switches of a generation share (built once with
   * {@link PolicyIndex#of}, or derived with {@link PolicyIndex#next}), so selectors are resolved once, not once per
   * switch.
   */
  public DesiredTables render(PolicyIndex index, long dpid) {
    return render(index, dpid, null).tables();
  }

  /** The Service tables of a snapshot, for {@link #render(PolicyIndex, ServiceTables, long, Rendered)}. */
  public ServiceTables services(Snapshot snapshot) {
    return ServiceTables.of(profile, snapshot, round);
  }

  /**
   * A switch's tables and what rendering them read: the policy part's inputs and flows, and the Service tables
   * (shared by every switch of a generation) they were combined with.
   */
  public record Rendered(long dpid, DesiredTables tables, Inputs inputs, List<Flow> policyFlows,
                         ServiceTables services, String node) { }

  /** As {@link #render(PolicyIndex, ServiceTables, long, Rendered)}, compiling the Service tables of the index's snapshot. */
  public Rendered render(PolicyIndex index, long dpid, Rendered previous) {
    ServiceTables services = previous != null ? previous.services().next(index.selectors())
        : ServiceTables.of(profile, index.selectors(), round);
    return render(index, services, dpid, previous);
  }

  /**
   * Renders one switch. When {@code previous} (this switch's last render) read only policy objects that {@code index}
   * still holds unchanged, its policy flows are reused; when the Service tables are also the same, its tables are
   * returned restamped with the index's generation: a model change that does not touch a switch costs that switch a
   * few identity checks, not a compile. {@code services} must be of the index's snapshot (or an unchanged one).
   */
  public Rendered render(PolicyIndex index, ServiceTables services, long dpid, Rendered previous) {
    Snapshot snapshot = index.snapshot();
    boolean samePolicy = previous != null && previous.dpid() == dpid && previous.inputs().unchangedIn(index);
    String node = services.nodeOf(dpid);
    if (samePolicy && services.sameAs(previous.services()) && node.equals(previous.node())) {
      return new Rendered(dpid, previous.tables().atGeneration(snapshot.generation()), previous.inputs(),
          previous.policyFlows(), services, node);
    }
    Inputs inputs;
    List<Flow> policy;
    if (samePolicy) {
      inputs = previous.inputs();
      policy = previous.policyFlows();
    } else {
      inputs = new Inputs();
      policy = PolicyCompiler.compile(index, dpid, round, legacyIsolation, inputs);
      policy.forEach(profile::check);
    }
    List<Flow> base = profile.baseFlows(dpid, round);
    List<Flow> nodeServices = services.nodeFlows(node); // NodePorts and Local traffic policies of this switch's node
    List<Flow> own = new ArrayList<>(base.size() + policy.size() + nodeServices.size());
    own.addAll(base);
    own.addAll(policy);
    own.addAll(nodeServices);
    base.forEach(profile::check); // (the Service tables checked their flows when they compiled them)
    return new Rendered(dpid, DesiredTables.of(dpid, snapshot.generation(), own, profile.baseMeters(), services.shared()),
        inputs, policy, services, node);
  }
}
