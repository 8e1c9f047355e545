package io.sluice.controller.sync;

import io.sluice.controller.wire.GroupCodec;
import io.sluice.controller.wire.WireGroup;
import io.sluice.controller.wire.WireGroup.Content;
import io.sluice.controller.wire.WireGroup.WireBucket;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.projectfloodlight.openflow.protocol.OFVersion;

/**
 * The difference between the groups a switch should hold and Sluice's groups it holds, as group-mods in a safe order:
 * {@link Plan#upserts} (adds and changes, a group after the groups its buckets point at) go before the flows that use
 * them, {@link Plan#deletes} (a group before the groups it points at) after the flows that used them are gone.
 *
 * <p>A changed group's buckets are matched by what they do (weight, watches, actions), not by position. On OpenFlow
 * 1.5, when the change only adds and removes buckets and at least one stays, the group is edited in place: one
 * INSERT_BUCKET with the new buckets (fresh ids, after the others) and one REMOVE_BUCKET per bucket gone, so every
 * other bucket keeps its id (and a select group keeps sending each connection where it did). A select group's bucket
 * order does not matter; in the other group types it does, so there only buckets appended at the end or removed in
 * place are edits. Anything else, or any change before OpenFlow 1.5, is a MODIFY of the whole group (in OF1.5 still
 * with the ids of the buckets it keeps). Pure: no I/O, no state.
 */
final class GroupDiff {
  private GroupDiff() { }

  /** The group-mods to send, in order, and the groups the switch holds once they have applied. */
  record Plan(List<SwitchOp> upserts, List<SwitchOp> deletes, Map<Long, WireGroup> after) {
    boolean isEmpty() {
      return upserts.isEmpty() && deletes.isEmpty();
    }
  }

  /**
   * @param desired every group the switch should hold, in its fresh form ({@link GroupCodec#wireGroup}: ids are
   *                positions)
   * @param have    Sluice's groups the switch holds now, with the switch's bucket ids
   */
  static Plan plan(Map<Long, WireGroup> desired, Map<Long, WireGroup> have, OFVersion v) {
    boolean of15 = v == OFVersion.OF_15;
    List<SwitchOp> upserts = new ArrayList<>();
    Map<Long, WireGroup> after = new HashMap<>(have);
    for (WireGroup d : referencedFirst(desired)) {
      WireGroup h = have.get(d.id());
      if (h == null) {
        upserts.add(op(SwitchOp.Target.GROUP, SwitchOp.Kind.ADD, d, (out, x) -> GroupCodec.writeAdd(out, d, v, x)));
        after.put(d.id(), d);
      } else if (!h.equals(d)) {
        after.put(d.id(), change(h, d, of15, v, upserts));
      }
    }
    List<SwitchOp> deletes = new ArrayList<>();
    Map<Long, WireGroup> gone = new TreeMap<>();
    for (WireGroup h : have.values()) {
      if (!desired.containsKey(h.id())) {
        gone.put(h.id(), h);
      }
    }
    List<WireGroup> order = referencedFirst(gone);
    for (int i = order.size() - 1; i >= 0; i--) {
      WireGroup h = order.get(i);
      deletes.add(op(SwitchOp.Target.GROUP, SwitchOp.Kind.DELETE, h, (out, x) -> GroupCodec.writeDelete(out, h.id(), v, x)));
      after.remove(h.id());
    }
    return new Plan(upserts, deletes, after);
  }

  /** Adds the ops that turn {@code h} into {@code d}; returns the group as the switch then holds it. */
  private static WireGroup change(WireGroup h, WireGroup d, boolean of15, OFVersion v, List<SwitchOp> ops) {
    if (!h.readable() || h.type() != d.type() || !h.properties().equals(d.properties())) {
      return modify(h, d, of15, v, ops);
    }
    // match each desired bucket with a bucket of the switch that does the same, in the switch's order
    Map<Content, ArrayDeque<WireBucket>> byContent = new HashMap<>();
    for (WireBucket b : h.buckets()) {
      byContent.computeIfAbsent(b.content(), k -> new ArrayDeque<>()).add(b);
    }
    List<WireBucket> keptInDesiredOrder = new ArrayList<>();
    List<Content> added = new ArrayList<>();
    boolean addedOnlyAtTheEnd = true;
    for (WireBucket b : d.buckets()) {
      ArrayDeque<WireBucket> q = byContent.get(b.content());
      WireBucket match = q == null ? null : q.poll();
      if (match != null) {
        keptInDesiredOrder.add(match);
        addedOnlyAtTheEnd &= added.isEmpty();
      } else {
        added.add(b.content());
      }
    }
    Set<Long> keptIds = new HashSet<>();
    keptInDesiredOrder.forEach(b -> keptIds.add(b.id()));
    List<WireBucket> kept = new ArrayList<>();
    List<WireBucket> removed = new ArrayList<>();
    for (WireBucket b : h.buckets()) {
      (keptIds.contains(b.id()) ? kept : removed).add(b);
    }
    boolean select = d.type() == GroupCodec.SELECT;
    boolean orderKept = select || kept.equals(keptInDesiredOrder) && addedOnlyAtTheEnd;
    if (added.isEmpty() && removed.isEmpty() && orderKept) {
      return h; // the same buckets (a select group's in another order): nothing to send
    }
    long next = nextId(h);
    if (!of15 || kept.isEmpty() || !orderKept || next + added.size() - 1 > GroupCodec.BUCKET_MAX) {
      return modify(h, d, of15, v, ops);
    }
    List<WireBucket> inserted = new ArrayList<>();
    for (Content c : added) {
      inserted.add(new WireBucket(next++, c));
    }
    long id = d.id();
    if (!inserted.isEmpty()) {
      String what = "group_id=0x" + Long.toHexString(id) + ": insert " + inserted.size() + " bucket(s), ids "
          + inserted.get(0).id() + ".." + inserted.get(inserted.size() - 1).id();
      ops.add(op(SwitchOp.Target.BUCKETS, SwitchOp.Kind.ADD, what,
          (out, x) -> GroupCodec.writeInsertBuckets(out, id, inserted, GroupCodec.BUCKET_LAST, v, x)));
    }
    for (WireBucket r : removed) {
      ops.add(op(SwitchOp.Target.BUCKETS, SwitchOp.Kind.DELETE, "group_id=0x" + Long.toHexString(id)
          + ": remove bucket " + r.id(), (out, x) -> GroupCodec.writeRemoveBucket(out, id, r.id(), v, x)));
    }
    List<WireBucket> now = new ArrayList<>(kept);
    now.addAll(inserted);
    return new WireGroup(id, h.type(), now, h.properties());
  }

  /**
   * A MODIFY of the whole group. In OF1.5 the buckets it keeps keep their ids and new ones get fresh ids (positions
   * when fresh ids would run out); before OF1.5 there are no ids on the wire and the switch numbers by position.
   */
  private static WireGroup modify(WireGroup h, WireGroup d, boolean of15, OFVersion v, List<SwitchOp> ops) {
    WireGroup m = d;
    if (of15 && h.readable()) {
      Map<Content, ArrayDeque<WireBucket>> byContent = new HashMap<>();
      for (WireBucket b : h.buckets()) {
        byContent.computeIfAbsent(b.content(), k -> new ArrayDeque<>()).add(b);
      }
      long next = nextId(h);
      List<WireBucket> buckets = new ArrayList<>(d.buckets().size());
      for (WireBucket b : d.buckets()) {
        ArrayDeque<WireBucket> q = byContent.get(b.content());
        WireBucket match = q == null ? null : q.poll();
        buckets.add(new WireBucket(match != null ? match.id() : next++, b.content()));
      }
      if (next - 1 <= GroupCodec.BUCKET_MAX) {
        m = new WireGroup(d.id(), d.type(), buckets, d.properties());
      }
    }
    WireGroup sent = m;
    ops.add(op(SwitchOp.Target.GROUP, SwitchOp.Kind.MODIFY, sent, (out, x) -> GroupCodec.writeModify(out, sent, v, x)));
    return sent;
  }

  private static long nextId(WireGroup h) {
    long max = -1;
    for (WireBucket b : h.buckets()) {
      max = Math.max(max, b.id());
    }
    return max + 1;
  }

  /** An op whose subject is the group (whole-group mods) or a text saying which buckets (bucket edits). */
  private static SwitchOp op(SwitchOp.Target target, SwitchOp.Kind kind, Object subject, SwitchOp.Writer writer) {
    return new SwitchOp(target, kind, subject, 0, writer);
  }

  /** The groups in an order where every group comes after the groups its buckets point at (ids break ties). */
  static List<WireGroup> referencedFirst(Map<Long, WireGroup> groups) {
    Map<Long, WireGroup> byId = new TreeMap<>(groups);
    Map<Long, Boolean> state = new HashMap<>(); // false: being visited, true: done
    Map<Long, WireGroup> out = new LinkedHashMap<>();
    for (WireGroup g : byId.values()) {
      visit(g, byId, state, out);
    }
    return new ArrayList<>(out.values());
  }

  private static void visit(WireGroup g, Map<Long, WireGroup> byId, Map<Long, Boolean> state, Map<Long, WireGroup> out) {
    if (state.containsKey(g.id())) {
      return; // done, or a cycle (the switch refuses that; any order will do)
    }
    state.put(g.id(), false);
    for (long ref : GroupCodec.referencedGroups(g)) {
      WireGroup r = byId.get(ref);
      if (r != null) {
        visit(r, byId, state, out);
      }
    }
    state.put(g.id(), true);
    out.put(g.id(), g);
  }
}
