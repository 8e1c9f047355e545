package io.sluice.renderer;

import io.sluice.model.Snapshot;
import io.sluice.renderer.flow.DesiredTables;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.pipeline.PipelineProfile;
import io.sluice.renderer.policy.Inputs;
import io.sluice.renderer.policy.PolicyCompiler;
import io.sluice.renderer.policy.PolicyIndex;
import java.util.ArrayList;
import java.util.List;

/**
 * The renderer's entry point: a pure function from a model snapshot and a switch to that switch's desired tables.
 * No I/O, no threads, no clocks. It renders the base pipeline (conntrack, then NORMAL forwarding) and the
 * NetworkPolicy tables; service tables will build into the same pipeline.
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

  /** A switch's tables and what rendering them read. */
  public record Rendered(long dpid, DesiredTables tables, Inputs inputs) { }

  /**
   * Renders one switch, or, when {@code previous} (this switch's last render) read only objects that {@code index}
   * still holds unchanged, returns its tables restamped with the index's generation: a model change that does not
   * touch a switch costs that switch a few identity checks, not a compile.
   */
  public Rendered render(PolicyIndex index, long dpid, Rendered previous) {
    Snapshot snapshot = index.snapshot();
    if (previous != null && previous.dpid() == dpid && previous.inputs().unchangedIn(index)) {
      return new Rendered(dpid, previous.tables().atGeneration(snapshot.generation()), previous.inputs());
    }
    Inputs inputs = new Inputs();
    List<Flow> flows = new ArrayList<>(profile.baseFlows(dpid, round));
    flows.addAll(PolicyCompiler.compile(index, dpid, round, legacyIsolation, inputs));
    flows.forEach(profile::check);
    return new Rendered(dpid, DesiredTables.of(dpid, snapshot.generation(), flows), inputs);
  }
}
