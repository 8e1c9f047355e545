package io.sluice.controller.runtime;

import io.sluice.model.Snapshot;
import io.sluice.renderer.policy.PolicyIndex;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The renderer's {@link PolicyIndex} of the current snapshot, built once per model generation and shared by every
 * switch's render and by the policy views of the status API.
 */
final class PolicyIndexes {
  private final AtomicReference<PolicyIndex> current = new AtomicReference<>();

  PolicyIndex of(Snapshot snap) {
    PolicyIndex i = current.get();
    if (i == null || i.snapshot() != snap) {
      i = PolicyIndex.of(snap);
      current.set(i);
    }
    return i;
  }
}
