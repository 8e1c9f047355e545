package io.sluice.model;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * A Kubernetes label selector: every matchLabels pair and every requirement must hold. The empty selector selects
 * everything. Requirements are kept sorted and their values sorted and distinct, so two selectors that select the
 * same way are equal records (the renderer keys address sets by selector).
 */
public record LabelSelector(Map<String, String> matchLabels, List<Requirement> matchExpressions) {
  private static final Comparator<Requirement> ORDER = Comparator.comparing(Requirement::key)
      .thenComparing(Requirement::operator)
      .thenComparing(r -> String.join("\u0000", r.values()));

  public static final LabelSelector EVERYTHING = new LabelSelector(Map.of(), List.of());

  public LabelSelector {
    matchLabels = Map.copyOf(matchLabels);
    matchExpressions = matchExpressions.stream().sorted(ORDER).distinct().toList();
  }

  public static LabelSelector of(Map<String, String> matchLabels) {
    return new LabelSelector(matchLabels, List.of());
  }

  public boolean selectsEverything() {
    return matchLabels.isEmpty() && matchExpressions.isEmpty();
  }

  public boolean matches(Map<String, String> labels) {
    for (Map.Entry<String, String> e : matchLabels.entrySet()) {
      if (!e.getValue().equals(labels.get(e.getKey()))) {
        return false;
      }
    }
    for (Requirement r : matchExpressions) {
      if (!r.matches(labels)) {
        return false;
      }
    }
    return true;
  }

  /** One matchExpressions entry. In/NotIn need values; Exists/DoesNotExist take none. */
  public record Requirement(String key, Operator operator, List<String> values) {
    public Requirement {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(operator, "operator");
      if (key.isEmpty()) {
        throw new IllegalArgumentException("requirement key must not be empty");
      }
      values = List.copyOf(new TreeSet<>(values));
      boolean needsValues = operator == Operator.IN || operator == Operator.NOT_IN;
      if (needsValues && values.isEmpty()) {
        throw new IllegalArgumentException("values must be specified when `operator` is 'In' or 'NotIn'");
      }
      if (!needsValues && !values.isEmpty()) {
        throw new IllegalArgumentException("values may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
      }
    }

    public boolean matches(Map<String, String> labels) {
      String v = labels.get(key);
      return switch (operator) {
        case IN -> v != null && values.contains(v);
        case NOT_IN -> v == null || !values.contains(v);
        case EXISTS -> v != null;
        case DOES_NOT_EXIST -> v == null;
      };
    }
  }

  public enum Operator {
    IN("In"), NOT_IN("NotIn"), EXISTS("Exists"), DOES_NOT_EXIST("DoesNotExist");

    private final String kubernetesName;

    Operator(String kubernetesName) {
      this.kubernetesName = kubernetesName;
    }

    /** The spelling in manifests: In, NotIn, Exists, DoesNotExist. */
    public String kubernetesName() {
      return kubernetesName;
    }
  }
}
