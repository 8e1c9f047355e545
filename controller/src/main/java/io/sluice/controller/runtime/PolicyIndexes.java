package io.sluice.controller.runtime;

import io.sluice.model.Snapshot;
import io.sluice.renderer.Renderer;
import io.sluice.renderer.flow.DesiredTables;
import io.sluice.renderer.policy.PolicyIndex;
import io.sluice.renderer.service.ServiceTables;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The renderer's {@link PolicyIndex} of the current snapshot, derived from the previous generation's index
 * ({@link PolicyIndex#next}: work proportional to the change) and shared by every switch's render and by the policy
 * views of the status API; and each switch's last render, so a switch that a change does not touch is not compiled
 * again.
 */
final class PolicyIndexes {
  private PolicyIndex current;
  private ServiceTables services;
  private final Map<Long, Renderer.Rendered> lastRender = new ConcurrentHashMap<>();

  synchronized PolicyIndex of(Snapshot snap) {
    PolicyIndex i = current;
    if (i != null && i.snapshot() == snap) {
      return i;
    }
    if (i != null && snap.generation() < i.snapshot().generation()) {
      return PolicyIndex.of(snap); // a late reader of an older generation: do not move back
    }
    current = i == null ? PolicyIndex.of(snap) : i.next(snap);
    return current;
  }

  /** The Service tables at {@code snap}, derived from the previous generation's (shared by every switch). */
  synchronized ServiceTables services(Renderer renderer, Snapshot snap) {
    ServiceTables s = services;
    if (s == null) {
      services = s = ServiceTables.of(renderer.profile(), of(snap).selectors(), renderer.round());
    } else if (s.snapshot() != snap) {
      s = s.next(of(snap).selectors());
      if (snap.generation() >= services.snapshot().generation()) {
        services = s;
      }
    }
    return s;
  }

  /** The Service tables of the latest generation rendered, or null before the first. */
  synchronized ServiceTables latestServices() {
    return services;
  }

  /** A switch's tables at {@code snap}: its last render, restamped, when nothing it read has changed. */
  DesiredTables render(Renderer renderer, Snapshot snap, long dpid) {
    PolicyIndex index = of(snap);
    Renderer.Rendered r = renderer.render(index, services(renderer, snap), dpid, lastRender.get(dpid));
    lastRender.put(dpid, r);
    return r.tables();
  }
}
