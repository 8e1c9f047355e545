package io.sluice.model;

import java.util.Map;

/** A Kubernetes namespace: its name and labels. */
public record Namespace(String name, Map<String, String> labels) {
  public Namespace {
    labels = Map.copyOf(labels);
  }
}
