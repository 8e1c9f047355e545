package io.sluice.model;

import java.util.Objects;

/** A port given by number or by the name of a container port (Kubernetes' IntOrString for ports). */
public sealed interface PortRef {
  static PortRef of(int number) {
    return new Numbered(number);
  }

  static PortRef of(String name) {
    return new Named(name);
  }

  /** A port number, 1–65535. */
  record Numbered(int number) implements PortRef {
    public Numbered {
      if (number < 1 || number > 65535) {
        throw new IllegalArgumentException("port " + number + " must be between 1 and 65535, inclusive");
      }
    }

    @Override
    public String toString() {
      return Integer.toString(number);
    }
  }

  /** A named container port, resolved per pod. */
  record Named(String name) implements PortRef {
    public Named {
      Objects.requireNonNull(name, "name");
      if (name.isEmpty()) {
        throw new IllegalArgumentException("port name must not be empty");
      }
    }

    @Override
    public String toString() {
      return name;
    }
  }
}
