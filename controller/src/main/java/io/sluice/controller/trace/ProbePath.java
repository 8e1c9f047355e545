package io.sluice.controller.trace;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The path k probes took through one switch's tables, read from its flow counters before and after: every flow whose
 * packet counter grew by at least k, per table, in table order (Sluice's pipeline only goes forward: goto_table,
 * {@code ct(table=..)} and resubmit all lead to a higher table, so table order is the order the probe met them).
 *
 * <p>Counters only grow, and only by packets that matched: traffic of its own (the destination's answers to the
 * probes, ARP, anything the pods send meanwhile) can add to a flow, never take away. So a flow that grew by exactly k
 * is the probes' alone, and one that grew by more is on their path only if nothing else in its table grew by exactly
 * k (a table's base flows, conntrack and NORMAL, carry the answers too). A flow whose match contradicts the probes'
 * headers ({@link ProbeMatch}) is never on their path, however much it grew: so the destination's answers, one per
 * probe, do not pass for the probes. A table where several flows grew by k or more
 * and none by exactly k keeps them all, marked ambiguous. Pure.
 */
public final class ProbePath {
  private ProbePath() { }

  /**
   * A flow as one dump gave it: identity (table, priority, cookie, match), what it does, whether its match could fit
   * the probes ({@link ProbeMatch}), and its counter.
   */
  public record Flow(int table, int priority, long cookie, String match, boolean forwards, boolean outputs,
                     boolean couldMatch, long packets) {
    /** The same flow in two dumps: same table, priority, match and cookie. */
    String key() {
      return table + "/" + priority + "/" + Long.toHexString(cookie) + "/" + match;
    }
  }

  /**
   * A flow on the probes' path: how much it grew, and whether by exactly k. {@code forwards}: it sends the packet on
   * (a goto_table, a ct or resubmit to a table, an output to a port); a flow that does not is where a probe ends.
   */
  public record Step(int table, int priority, long cookie, String match, boolean forwards, boolean outputs,
                     long grew, boolean exact, boolean ambiguous) { }

  /** The steps in table order; {@code notes}: what the caller should know (flows that came or went meanwhile). */
  public record Path(List<Step> steps, List<String> notes) {
    public Path {
      steps = List.copyOf(steps);
      notes = List.copyOf(notes);
    }

    /**
     * Where the probes ended when they were dropped: the first step that does not send the packet on, unless a step
     * before it output the packet (then it is a side copy, as the audit table's); null when they were not dropped.
     */
    public Step end() {
      return endOf(steps);
    }

    /** Whether some step outputs the packet to a port (or NORMAL). */
    public boolean outputs() {
      return steps.stream().anyMatch(Step::outputs);
    }
  }

  /**
   * The path of {@code k} probes between two dumps of one switch.
   *
   * @param before the flows before the probes were sent
   * @param after  the flows after
   */
  public static Path of(List<Flow> before, List<Flow> after, int k) {
    Map<String, Flow> was = new LinkedHashMap<>();
    before.forEach(f -> was.put(f.key(), f));
    List<String> notes = new ArrayList<>();
    int added = 0;
    Map<Integer, List<Step>> byTable = new TreeMap<>();
    Map<String, Flow> now = new LinkedHashMap<>();
    for (Flow f : after) {
      now.put(f.key(), f);
      Flow b = was.get(f.key());
      if (b == null) {
        added++;
      }
      // a flow added meanwhile counts from 0: what it holds all came since it was added
      long grew = f.packets() - (b == null ? 0 : b.packets());
      if (grew >= k && f.couldMatch()) {
        byTable.computeIfAbsent(f.table(), t -> new ArrayList<>()).add(new Step(f.table(), f.priority(), f.cookie(),
            f.match(), f.forwards(), f.outputs(), grew, grew == k, false));
      }
    }
    long removed = was.keySet().stream().filter(key -> !now.containsKey(key)).count();
    if (added > 0 || removed > 0) {
      notes.add(added + " flow(s) added and " + removed + " removed on this switch while the probes ran (a change being "
          + "pushed): the path may mix the old and new flows; trace again");
    }
    List<Step> steps = new ArrayList<>();
    for (List<Step> inTable : byTable.values()) {
      List<Step> exact = inTable.stream().filter(Step::exact).toList();
      if (exact.size() == 1 || (exact.isEmpty() && inTable.size() == 1)) {
        steps.add(exact.isEmpty() ? inTable.get(0) : exact.get(0));
        continue;
      }
      // several candidates: those grown by exactly k if any (each probe matches one flow per table visit, so more
      // than one exact flow means the table was visited more than once, as after a recirculation), else all
      List<Step> keep = new ArrayList<>(exact.isEmpty() ? inTable : exact);
      keep.sort(Comparator.comparingInt(Step::priority).reversed());
      boolean ambiguous = exact.isEmpty();
      for (Step s : keep) {
        steps.add(ambiguous ? new Step(s.table(), s.priority(), s.cookie(), s.match(), s.forwards(), s.outputs(),
            s.grew(), false, true) : s);
      }
    }
    Step end = endOf(steps);
    if (end != null && steps.indexOf(end) < steps.size() - 1) {
      List<Step> later = steps.subList(steps.indexOf(end) + 1, steps.size());
      notes.add("flows of later tables grew by " + k + " or more too (table(s) " + later.stream().map(Step::table)
          .distinct().map(String::valueOf).reduce((a, b) -> a + ", " + b).orElse("") + "): other traffic, the probes "
          + "ended at table " + end.table());
      steps = new ArrayList<>(steps.subList(0, steps.indexOf(end) + 1));
    }
    return new Path(steps, notes);
  }

  private static Step endOf(List<Step> steps) {
    for (Step s : steps) {
      if (s.outputs()) {
        return null;
      }
      if (!s.forwards() && !s.ambiguous()) {
        return s;
      }
    }
    return null;
  }
}
