package io.sluice.renderer.advisor;

import io.sluice.model.Protocol;
import java.util.Objects;

/**
 * One observed connection: the address that opened it, the address and port it reached (after any Service
 * translation, as NetworkPolicy sees it), and how many times it was seen.
 */
public record Connection(String source, String destination, Protocol protocol, int port, long count) {
  public Connection {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(destination, "destination");
    Objects.requireNonNull(protocol, "protocol");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " must be between 1 and 65535");
    }
    if (count < 1) {
      throw new IllegalArgumentException("count " + count + " must be at least 1");
    }
  }

  @Override
  public String toString() {
    return source + " -> " + (destination.indexOf(':') >= 0 ? "[" + destination + "]" : destination) + ":" + port
        + "/" + protocol;
  }
}
