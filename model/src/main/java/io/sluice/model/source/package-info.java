/**
 * The sources contract, shared by every source so none of them imports another: a
 * {@link io.sluice.model.source.Source} turns the outside world into {@link io.sluice.model.ModelEvent} batches for an
 * {@link io.sluice.model.source.EventSink} (normally {@code ClusterModel::apply}) and reports the objects it could
 * not accept as {@link io.sluice.model.source.SourceError}s. Implementations live in the source modules:
 * {@code io.sluice.watcher.manifest.ManifestSource} (a directory of YAML/JSON manifests, watched) and
 * {@code io.sluice.ovsdb.OvsdbSource} (port bindings from each node's OVSDB); the informer source will sit in
 * {@code io.sluice.watcher.informer}.
 */
package io.sluice.model.source;
