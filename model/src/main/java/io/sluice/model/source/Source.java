package io.sluice.model.source;

import java.util.List;

/**
 * Something that translates the outside world (a manifest directory, the Kubernetes API through informers) into
 * model events. It lives in the model so that every source shares it without knowing the others; the manifest
 * directory and the informers deliver the same events for the same objects.
 *
 * <p>Contract: after {@link #start}, the source hands the complete current state to the sink as one batch, then each
 * later change as one batch (one batch = one model generation), always from one thread at a time. Objects that fail
 * validation are not delivered; they show in {@link #errors()} until fixed.
 */
public interface Source {
  /** Starts the source; it calls {@code sink} for the initial state and for every later change. Call once. */
  void start(EventSink sink);

  /** Stops watching and releases threads and file handles; no sink call starts after this returns. Idempotent. */
  void stop();

  /** The problems currently in force (invalid documents, duplicates), sorted by file then document; immutable. */
  List<SourceError> errors();

  /** True once the initial state has been handed to the sink. */
  boolean ready();
}
