package io.sluice.controller.sync;

import io.sluice.renderer.flow.Cookie;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * The order of a change on a switch without bundles (no atomic commit): two phases, each confirmed by a barrier, so
 * that no state in between lets through traffic that the old or the new tables stop.
 * <ol>
 *   <li>Restrict: drop flows added (isolation drops, and flows without actions), allow flows removed, and an allow flow
 *       whose actions change is removed here (its traffic falls to the drops below it meanwhile).</li>
 *   <li>Permit: allow flows added (the changed ones again, with their new actions), drop flows removed.</li>
 * </ol>
 * So in between, the switch allows at most what both the old and the new tables allow (break before make for what
 * changes; what the change does not touch keeps flowing). Groups a flow uses are added before the first phase and
 * groups no longer used removed after the second, as in a bundle.
 */
final class OrderedChanges {
  private OrderedChanges() { }

  /** The two phases of flow ops. */
  record Phases(List<SwitchOp> restrict, List<SwitchOp> permit) { }

  /**
   * Splits flow ops (in diff order) into the two phases.
   *
   * @param have what the switch holds, by wire key (for the old actions of a changed flow)
   * @param op   builds a flow op (for the delete and the add a changed allow flow is split into)
   */
  static Phases phases(List<SwitchOp> flowOps, Map<Object, FlowCodec.Entry> have,
                       BiFunction<FlowCodec.Entry, SwitchOp.Kind, SwitchOp> op) {
    List<SwitchOp> restrict = new ArrayList<>();
    List<SwitchOp> permit = new ArrayList<>();
    for (SwitchOp o : flowOps) {
      if (o.target() != SwitchOp.Target.FLOW || !(o.subject() instanceof FlowCodec.Entry e)) {
        permit.add(o);
        continue;
      }
      FlowCodec.Entry old = o.kind() == SwitchOp.Kind.DELETE ? e : have.get(e.key());
      switch (o.kind()) {
        case DELETE -> (denies(e) ? permit : restrict).add(o);
        case ADD, MODIFY -> {
          if (denies(e)) {
            restrict.add(o);
          } else if (old == null || denies(old)) {
            permit.add(o); // new, or a drop turned into an allow: open it last
          } else {
            // an allow flow with other actions (or another object's): closed first, opened again with the new ones
            restrict.add(op.apply(old, SwitchOp.Kind.DELETE));
            permit.add(op.apply(e, SwitchOp.Kind.ADD));
          }
        }
        default -> throw new IllegalStateException(o.kind().toString());
      }
    }
    return new Phases(restrict, permit);
  }

  /** Whether a flow stops traffic: an isolated pod's default drop, or a flow without actions (a plain drop). */
  static boolean denies(FlowCodec.Entry e) {
    if (new Cookie(e.cookie()).isIsolationDrop()) {
      return true;
    }
    if (e.source() != null) {
      return e.source().actions().isEmpty();
    }
    return e.body() instanceof io.sluice.controller.wire.Bytes b && b.length() == 0;
  }
}
