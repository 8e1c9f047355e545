package io.sluice.model.source;

import java.util.List;

/**
 * Something that translates the outside world (a manifest directory, the Kubernetes API through informers, the
 * OVSDB of each node) into model events. It lives in the model so that every source shares it without knowing the
 * others; the manifest directory and the informers deliver the same events for the same objects.
 *
 * <p>Contract: after {@link #start}, the source hands the current state to the sink, then each later change, in
 * batches (one batch = one model generation), always from one thread at a time. The manifest directory hands its
 * whole initial state over as one batch before {@code start} returns; the OVSDB source returns at once and sends each
 * server's bindings as one batch when that server has synced. Objects that fail validation are not delivered; they
 * show in {@link #errors()} until fixed.
 */
public interface Source {
  /**
   * Starts the source; it calls {@code sink} for the initial state (before or after this returns: see the source)
   * and for every later change. Call once.
   */
  void start(EventSink sink);

  /**
   * Stops watching and releases threads, connections and file handles; no sink call starts after this returns.
   * Idempotent.
   */
  void stop();

  /**
   * The objects currently refused (invalid documents, duplicates), sorted by file then document; immutable. Empty
   * for a source that refuses nothing (OVSDB: its connection problems are status, not errors).
   */
  List<SourceError> errors();

  /** True once the initial state has been handed to the sink. */
  boolean ready();
}
