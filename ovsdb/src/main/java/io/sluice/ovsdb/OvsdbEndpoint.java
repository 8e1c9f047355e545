package io.sluice.ovsdb;

import java.util.Objects;

/**
 * Where to find an ovsdb-server, in ovs-vsctl's own notation: {@code unix:PATH} and {@code tcp:HOST:PORT} connect
 * to it (and reconnect); {@code ptcp:PORT[:HOST]} listens for servers that were told
 * {@code ovs-vsctl set-manager tcp:CONTROLLER:PORT}. IPv6 hosts go in brackets: {@code tcp:[::1]:6640}.
 */
public record OvsdbEndpoint(Kind kind, String host, int port, String path) {
  public enum Kind { UNIX, TCP, PTCP }

  public OvsdbEndpoint {
    Objects.requireNonNull(kind, "kind");
    if (kind == Kind.UNIX) {
      if (path == null || path.isEmpty()) {
        throw new IllegalArgumentException("unix endpoint needs a socket path, e.g. unix:/var/run/openvswitch/db.sock");
      }
    } else {
      Objects.requireNonNull(host, "host");
      if (port < 0 || port > 65535 || (kind == Kind.TCP && port == 0)) {
        throw new IllegalArgumentException("bad port " + port + " in " + kind.name().toLowerCase() + " endpoint");
      }
    }
  }

  public static OvsdbEndpoint unix(String path) {
    return new OvsdbEndpoint(Kind.UNIX, null, 0, path);
  }

  public static OvsdbEndpoint tcp(String host, int port) {
    return new OvsdbEndpoint(Kind.TCP, host, port, null);
  }

  /** Listen on {@code host:port}; port 0 picks a free port (see {@link OvsdbSource#listenPort}). */
  public static OvsdbEndpoint ptcp(String host, int port) {
    return new OvsdbEndpoint(Kind.PTCP, host, port, null);
  }

  /**
   * Parses {@code unix:PATH}, {@code tcp:HOST:PORT}, {@code ptcp:PORT[:HOST]} (ovs-vsctl order) and, for the
   * {@code --ovsdb-listen} flag, a bare {@code HOST:PORT} as ptcp.
   */
  public static OvsdbEndpoint parse(String text) {
    Objects.requireNonNull(text, "endpoint");
    String t = text.trim();
    try {
      if (t.startsWith("unix:")) {
        return unix(t.substring(5));
      }
      if (t.startsWith("tcp:")) {
        HostPort hp = HostPort.parse(t.substring(4));
        return tcp(hp.host, hp.port);
      }
      if (t.startsWith("ptcp:")) {
        String rest = t.substring(5);
        int colon = rest.indexOf(':');
        int port = Integer.parseInt(colon < 0 ? rest : rest.substring(0, colon));
        String host = colon < 0 ? "0.0.0.0" : unbracket(rest.substring(colon + 1));
        return ptcp(host, port);
      }
      HostPort hp = HostPort.parse(t);
      return ptcp(hp.host, hp.port);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("bad OVSDB endpoint '" + text
          + "': expected unix:PATH, tcp:HOST:PORT or ptcp:PORT[:HOST] (" + e.getMessage() + ")", e);
    }
  }

  private record HostPort(String host, int port) {
    static HostPort parse(String s) {
      int colon = s.lastIndexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException("missing :PORT");
      }
      return new HostPort(unbracket(s.substring(0, colon)), Integer.parseInt(s.substring(colon + 1)));
    }
  }

  private static String unbracket(String h) {
    return h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
  }

  public boolean isPassive() {
    return kind == Kind.PTCP;
  }

  @Override
  public String toString() {
    String h = host != null && host.contains(":") ? "[" + host + "]" : host;
    return switch (kind) {
      case UNIX -> "unix:" + path;
      case TCP -> "tcp:" + h + ":" + port;
      case PTCP -> "ptcp:" + port + ":" + h;
    };
  }
}
