/**
 * The sources API: a {@link io.sluice.watcher.Source} turns the outside world into {@link io.sluice.model.ModelEvent}
 * batches for an {@link io.sluice.watcher.EventSink} (normally {@code ClusterModel::apply}) and reports the objects it
 * could not accept as {@link io.sluice.watcher.SourceError}s. Implementations: {@code manifest.ManifestSource}
 * (a directory of YAML/JSON manifests, watched); the informer source will sit in {@code informer}. Both convert
 * fabric8 objects with {@code convert.ObjectConverter}.
 */
package io.sluice.watcher;
