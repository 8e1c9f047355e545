package io.sluice.ovsdb;

import io.netty.handler.ssl.SslContext;
import java.time.Duration;
import java.util.Objects;

/**
 * TLS for {@code ssl:} and {@code pssl:} endpoints, as ovsdb-server's {@code --private-key}, {@code --certificate}
 * and {@code --ca-cert} give it. {@code client} dials {@code ssl:} targets: it presents Sluice's certificate and
 * accepts only a server certificate signed by the CA. {@code server} serves {@code pssl:} listeners: it requires a
 * client certificate signed by the CA. A handshake not done within {@code handshakeTimeout} closes the connection.
 */
public record OvsdbTls(SslContext client, SslContext server, Duration handshakeTimeout) {
  public OvsdbTls {
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(server, "server");
    if (!client.isClient() || server.isClient()) {
      throw new IllegalArgumentException("OvsdbTls needs a client context and a server context");
    }
    if (handshakeTimeout.isZero() || handshakeTimeout.isNegative()) {
      throw new IllegalArgumentException("TLS handshake timeout must be positive, got " + handshakeTimeout);
    }
  }
}
