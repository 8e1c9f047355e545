package io.sluice.watcher.informer;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Makes the API client the informers use: from a kubeconfig file, or the pod's service account in the cluster. */
public final class Clients {
  /** First retry after a lost watch; the client doubles it on each failure (up to 32 times this). */
  public static final int WATCH_RECONNECT_MS = 500;

  private Clients() {
  }

  /**
   * A client for the kubeconfig's current context, or (kubeconfig null) for the in-cluster service account.
   *
   * @throws IllegalArgumentException naming the file or what is missing, when no server can be configured
   */
  public static KubernetesClient create(Path kubeconfig) {
    Config config;
    if (kubeconfig != null) {
      if (!Files.isReadable(kubeconfig)) {
        throw new IllegalArgumentException("kubeconfig " + kubeconfig + " does not exist or cannot be read");
      }
      try {
        config = Config.fromKubeconfig(kubeconfig.toFile());
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("kubeconfig " + kubeconfig + " cannot be read: " + e.getMessage(), e);
      }
    } else {
      if (System.getenv("KUBERNETES_SERVICE_HOST") == null) {
        throw new IllegalArgumentException("not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST is not set); "
            + "give --kubeconfig FILE instead");
      }
      config = Config.autoConfigure(null);
    }
    if (config.getMasterUrl() == null || config.getMasterUrl().isBlank()) {
      throw new IllegalArgumentException((kubeconfig == null ? "in-cluster config" : "kubeconfig " + kubeconfig)
          + " names no API server");
    }
    config.setWatchReconnectInterval(WATCH_RECONNECT_MS);
    config.setWatchReconnectLimit(-1);
    return new KubernetesClientBuilder().withConfig(config).build();
  }
}
