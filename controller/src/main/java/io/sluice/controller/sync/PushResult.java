package io.sluice.controller.sync;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What became of one push: whether it was applied, whether atomically (a bundle), which messages it took and how
 * long from first byte to confirming barrier; on failure, what the switch refused and why.
 */
public record PushResult(boolean applied, boolean atomic, Sent sent, Duration elapsed, List<Refusal> refused,
                         String failure) {
  public PushResult {
    Objects.requireNonNull(sent, "sent");
    refused = List.copyOf(refused);
  }

  /** Flow-mods sent. */
  public int flowMods() {
    return sent.flowMods();
  }

  /**
   * Messages sent, by what they change.
   *
   * @param flowMods      flow adds, modifies and deletes
   * @param groupMods     whole-group adds, modifies and deletes
   * @param bucketInserts OF1.5 INSERT_BUCKET messages (each may carry several buckets)
   * @param bucketRemoves OF1.5 REMOVE_BUCKET messages (one bucket each)
   * @param meterMods     meter adds, modifies and deletes (sent outside the bundle)
   */
  public record Sent(int flowMods, int groupMods, int bucketInserts, int bucketRemoves, int meterMods) {
    public static final Sent NONE = new Sent(0, 0, 0, 0, 0);

    public Sent plus(Sent o) {
      return new Sent(flowMods + o.flowMods, groupMods + o.groupMods, bucketInserts + o.bucketInserts,
          bucketRemoves + o.bucketRemoves, meterMods + o.meterMods);
    }

    /** Group-mods of any kind: whole groups and bucket edits. */
    public int groupChanges() {
      return groupMods + bucketInserts + bucketRemoves;
    }

    public int total() {
      return flowMods + groupChanges() + meterMods;
    }

    /** Counts the ops by what they change. */
    static Sent of(Iterable<SwitchOp> ops) {
      int flows = 0;
      int groups = 0;
      int inserts = 0;
      int removes = 0;
      int meters = 0;
      for (SwitchOp op : ops) {
        switch (op.target()) {
          case FLOW -> flows++;
          case GROUP -> groups++;
          case BUCKETS -> {
            if (op.kind() == SwitchOp.Kind.DELETE) {
              removes++;
            } else {
              inserts++;
            }
          }
          case METER -> meters++;
        }
      }
      return new Sent(flows, groups, inserts, removes, meters);
    }
  }

  /**
   * A message the switch refused, with the switch's reason: {@code what} describes it (a flow as ovs-ofctl text, a
   * group by id), {@code cookie} is the flow's (0 for groups and meters), {@code subject} is the op's subject.
   */
  public record Refusal(String what, long cookie, String reason, Object subject) { }
}
