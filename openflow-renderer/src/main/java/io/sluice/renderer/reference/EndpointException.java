package io.sluice.renderer.reference;

import java.util.Objects;

/**
 * An endpoint that cannot take part in a connection: a pod that does not exist or has no IP yet, an address that
 * belongs to several pods, or a source and destination of different address families.
 */
public final class EndpointException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final boolean source;
  private final transient Endpoint endpoint;
  private final String reason;

  EndpointException(boolean source, Endpoint endpoint, String reason) {
    super((source ? "from " : "to ") + endpoint + ": " + reason);
    this.source = source;
    this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** True for the source (from), false for the destination (to). */
  public boolean source() {
    return source;
  }

  public Endpoint endpoint() {
    return endpoint;
  }

  /** What is wrong with the endpoint, without naming it. */
  public String reason() {
    return reason;
  }
}
