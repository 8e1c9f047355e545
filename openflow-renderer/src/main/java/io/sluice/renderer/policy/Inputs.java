package io.sluice.renderer.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * What one switch's compile read from a {@link PolicyIndex}: each read (a function of the index) with the object it
 * returned. Those objects are shared between generations while they do not change ({@link PolicyIndex#next}), so
 * when every read returns the very same object from a later index, the switch's flows are the same too and its
 * tables need not be rendered again.
 */
public final class Inputs {
  private final List<Function<PolicyIndex, Object>> reads = new ArrayList<>();
  private final List<Object> seen = new ArrayList<>();

  /** Records a read and returns its value. */
  @SuppressWarnings("unchecked")
  <T> T note(Function<PolicyIndex, T> read, T value) {
    reads.add((Function<PolicyIndex, Object>) read);
    seen.add(value);
    return value;
  }

  /** Whether every recorded read gives the very same object in {@code index}. */
  public boolean unchangedIn(PolicyIndex index) {
    for (int i = 0; i < reads.size(); i++) {
      Object now;
      try {
        now = reads.get(i).apply(index);
      } catch (RuntimeException e) {
        return false; // a read that no longer makes sense in the new index: render again
      }
      Object then = seen.get(i);
      if (now != then) {
        return false;
      }
    }
    return true;
  }

  public int size() {
    return reads.size();
  }
}
