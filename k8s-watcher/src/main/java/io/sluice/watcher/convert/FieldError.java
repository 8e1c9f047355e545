package io.sluice.watcher.convert;

import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A validation error in the API server's shape ({@code k8s.io/apimachinery/pkg/util/validation/field.Error}):
 * {@code toString()} prints exactly what the API server would, e.g.
 * {@code spec.ingress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive}.
 *
 * @param value the bad value as Go's error printer renders it (strings quoted), or null when the type prints none
 */
public record FieldError(String field, Type type, String value, String detail) {
  public FieldError {
    Objects.requireNonNull(field, "field");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(detail, "detail");
  }

  public enum Type {
    INVALID("Invalid value"), REQUIRED("Required value"), NOT_SUPPORTED("Unsupported value"), FORBIDDEN("Forbidden"),
    DUPLICATE("Duplicate value"), TOO_LONG("Too long");

    private final String text;

    Type(String text) {
      this.text = text;
    }

    public String text() {
      return text;
    }
  }

  public static FieldError invalid(String field, String value, String detail) {
    return new FieldError(field, Type.INVALID, quote(value), detail);
  }

  public static FieldError invalid(String field, long value, String detail) {
    return new FieldError(field, Type.INVALID, Long.toString(value), detail);
  }

  public static FieldError required(String field, String detail) {
    return new FieldError(field, Type.REQUIRED, null, detail);
  }

  public static FieldError forbidden(String field, String detail) {
    return new FieldError(field, Type.FORBIDDEN, null, detail);
  }

  public static FieldError notSupported(String field, String value, List<String> supported) {
    String detail = supported.isEmpty() ? ""
        : "supported values: " + supported.stream().map(FieldError::quote).collect(Collectors.joining(", "));
    return new FieldError(field, Type.NOT_SUPPORTED, quote(value), detail);
  }

  public static FieldError duplicate(String field, String value) {
    return new FieldError(field, Type.DUPLICATE, quote(value), "");
  }

  /** The text after {@code field: }. */
  public String reason() {
    String s = value == null ? type.text() : type.text() + ": " + value;
    return detail.isEmpty() ? s : s + ": " + detail;
  }

  @Override
  public String toString() {
    return field + ": " + reason();
  }

  /** Go's %q for the strings that occur in manifests. */
  static String quote(String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\t' -> b.append("\\t");
        case '\r' -> b.append("\\r");
        default -> {
          if (c < 0x20 || c == 0x7f) {
            b.append(String.format("\\x%02x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }
}
