package io.sluice.watcher.convert;

import java.util.List;

/**
 * The result of converting one fabric8 object: the model record (null if invalid), the errors (empty if valid), and
 * the object's key (null only when it has no usable name).
 */
public record Converted(ObjectKey key, Object value, List<FieldError> errors) {
  public Converted {
    errors = List.copyOf(errors);
    if ((value == null) == errors.isEmpty()) {
      throw new IllegalArgumentException("exactly one of value and errors must be given");
    }
  }

  public boolean valid() {
    return value != null;
  }
}
