package io.sluice.model;

import java.util.Map;

/**
 * A Kubernetes namespace: its name, labels and annotations. Annotations matter to policy only through the legacy
 * {@code net.beta.kubernetes.io/network-policy} isolation annotation.
 */
public record Namespace(String name, Map<String, String> labels, Map<String, String> annotations) {
  public Namespace {
    labels = Map.copyOf(labels);
    annotations = Map.copyOf(annotations);
  }

  /** A namespace without annotations. */
  public Namespace(String name, Map<String, String> labels) {
    this(name, labels, Map.of());
  }
}
