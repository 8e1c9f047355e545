package io.sluice.watcher.bench;

import io.sluice.model.ClusterModel;
import io.sluice.watcher.manifest.ManifestSource;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * One cold load of the {@link ManifestBench} directory in this fresh JVM, to compare JVM options side by side
 * ({@code deploy/bench.sh gc} alternates collectors). Generates the directory first if it does not exist (then keep it
 * for the next runs). Prints one {@code info:} line; no BENCH figure.
 */
public final class ColdLoadBench {
  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    if (!Files.exists(dir)) {
      Files.createDirectories(dir);
      ManifestBench.generate(dir, ManifestBench.NAMESPACES);
    }
    ClusterModel model = new ClusterModel(0);
    ManifestSource source = new ManifestSource(dir);
    long t0 = System.nanoTime();
    source.start(model::apply);
    double seconds = (System.nanoTime() - t0) / 1e9;
    source.stop();
    int pods = ManifestBench.NAMESPACES * ManifestBench.PODS_PER_NS;
    if (model.snapshot().pods().size() != pods || !source.errors().isEmpty()) {
      throw new IllegalStateException("cold load: " + model.snapshot().pods().size() + " pods, errors "
          + source.errors());
    }
    String gc = ManagementFactory.getGarbageCollectorMXBeans().stream().map(GarbageCollectorMXBean::getName)
        .collect(Collectors.joining("+"));
    System.out.printf(Locale.ROOT, "info: cold load of 100k pods %.2f s with %s%n", seconds, gc);
  }
}
