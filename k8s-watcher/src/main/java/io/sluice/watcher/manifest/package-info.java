/**
 * The manifest directory source: {@link io.sluice.watcher.manifest.ManifestSource} implements the model's
 * {@link io.sluice.model.source.Source} contract for a directory of YAML/JSON manifests, watched, converting fabric8
 * objects with {@code io.sluice.watcher.convert.ObjectConverter} (which the informer source will share).
 */
package io.sluice.watcher.manifest;
