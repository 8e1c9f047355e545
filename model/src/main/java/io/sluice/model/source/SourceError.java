package io.sluice.model.source;

import java.util.Objects;

/**
 * One problem with one object, as {@code /api/v1/errors} serves it. {@code file} is where the object came from (the
 * manifest file, or the informer's resource, e.g. {@code informer:networkpolicies}), {@code document} the 0-based
 * document index in the file (-1 when not applicable), {@code line} the 1-based line the document starts at (0 if
 * unknown). {@code kind}, {@code namespace} and {@code name} are empty when the document did not say. {@code field}
 * is an API-server field path such as {@code spec.ingress[0].from[0].ipBlock.except[0]} (empty for whole-document
 * problems) and {@code reason} the API server's text after the field, e.g. {@code Invalid value: "10.1.0.0/16": must
 * be a strict subset of `cidr`}.
 */
public record SourceError(String file, int document, int line, String kind, String namespace, String name,
                          String field, String reason) {
  public SourceError {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(field, "field");
    Objects.requireNonNull(reason, "reason");
  }

  /** The error as the API server prints it: {@code field: reason}, or just the reason without a field. */
  public String message() {
    return field.isEmpty() ? reason : field + ": " + reason;
  }

  /** {@code Kind ns/name}, or as much of it as is known. */
  public String object() {
    String ref = namespace.isEmpty() ? name : namespace + "/" + name;
    return (kind + " " + ref).trim();
  }

  /** One log line: where, what, why. */
  @Override
  public String toString() {
    StringBuilder b = new StringBuilder(file);
    if (document >= 0) {
      b.append(" doc ").append(document);
    }
    if (line > 0) {
      b.append(" (line ").append(line).append(')');
    }
    if (!object().isEmpty()) {
      b.append(' ').append(object());
    }
    return b.append(": ").append(message()).toString();
  }
}
