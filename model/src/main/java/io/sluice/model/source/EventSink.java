package io.sluice.model.source;

import io.sluice.model.ModelEvent;
import java.util.List;

/** Receives event batches from a {@link Source}; {@code ClusterModel::apply} is one. Each call is one generation. */
@FunctionalInterface
public interface EventSink {
  void accept(List<ModelEvent> batch);
}
