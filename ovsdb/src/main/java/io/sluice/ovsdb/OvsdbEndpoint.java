package io.sluice.ovsdb;

import java.util.Objects;

/**
 * Where to find an ovsdb-server, in ovs-vsctl's own notation: {@code unix:PATH}, {@code tcp:HOST:PORT} and
 * {@code ssl:HOST:PORT} connect to it (and reconnect); {@code ptcp:PORT[:HOST]} and {@code pssl:PORT[:HOST]} listen
 * for servers that were told {@code ovs-vsctl set-manager tcp:CONTROLLER:PORT} (or {@code ssl:}). The TLS kinds need
 * a key, certificate and CA certificate (see {@link OvsdbTls}). IPv6 hosts go in brackets: {@code tcp:[::1]:6640}.
 */
public record OvsdbEndpoint(Kind kind, String host, int port, String path) {
  public enum Kind { UNIX, TCP, PTCP, SSL, PSSL }

  public OvsdbEndpoint {
    Objects.requireNonNull(kind, "kind");
    if (kind == Kind.UNIX) {
      if (path == null || path.isEmpty()) {
        throw new IllegalArgumentException("unix endpoint needs a socket path, e.g. unix:/var/run/openvswitch/db.sock");
      }
    } else {
      Objects.requireNonNull(host, "host");
      if (port < 0 || port > 65535 || ((kind == Kind.TCP || kind == Kind.SSL) && port == 0)) {
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

  /** Connect over TLS to {@code host:port}. */
  public static OvsdbEndpoint ssl(String host, int port) {
    return new OvsdbEndpoint(Kind.SSL, host, port, null);
  }

  /** Listen over TLS on {@code host:port}; port 0 picks a free port. */
  public static OvsdbEndpoint pssl(String host, int port) {
    return new OvsdbEndpoint(Kind.PSSL, host, port, null);
  }

  /** Listen on {@code host:port}; port 0 picks a free port (see {@link OvsdbSource#listenPort}). */
  public static OvsdbEndpoint ptcp(String host, int port) {
    return new OvsdbEndpoint(Kind.PTCP, host, port, null);
  }

  /**
   * Parses an OVSDB target as ovs-vsctl writes it: {@code unix:PATH}, {@code tcp:HOST:PORT} or
   * {@code ssl:HOST:PORT} (port 1..65535), {@code ptcp:PORT[:HOST]} or {@code pssl:PORT[:HOST]} (port 0..65535, 0 for
   * any free one). Anything else is an error naming what is accepted, notably a bare {@code HOST:PORT} (only
   * {@link #parseListen} takes that): a target is never misread as something it is not.
   */
  public static OvsdbEndpoint parse(String text) {
    Objects.requireNonNull(text, "endpoint");
    String t = text.trim();
    try {
      if (t.startsWith("unix:")) {
        return unix(t.substring(5));
      }
      if (t.startsWith("tcp:") || t.startsWith("ssl:")) {
        boolean tls = t.startsWith("ssl:");
        HostPort hp = HostPort.parse(t.substring(4));
        if (hp.port == 0) {
          throw new IllegalArgumentException("port 0");
        }
        return tls ? ssl(hp.host, hp.port) : tcp(hp.host, hp.port);
      }
      if (t.startsWith("ptcp:") || t.startsWith("pssl:")) {
        boolean tls = t.startsWith("pssl:");
        String rest = t.substring(5);
        int colon = rest.indexOf(':');
        int port = port(colon < 0 ? rest : rest.substring(0, colon));
        String host = colon < 0 ? "0.0.0.0" : unbracket(rest.substring(colon + 1));
        if (host.isEmpty()) {
          throw new IllegalArgumentException("empty host");
        }
        return tls ? pssl(host, port) : ptcp(host, port);
      }
      throw new IllegalArgumentException("unknown kind of target");
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("bad OVSDB endpoint '" + text
          + "': expected unix:PATH, tcp:HOST:PORT, ssl:HOST:PORT, ptcp:PORT[:HOST] or pssl:PORT[:HOST] ("
          + e.getMessage() + ")", e);
    }
  }

  /**
   * For {@code --ovsdb-listen}: {@code ptcp:PORT[:HOST]}, {@code pssl:PORT[:HOST]} or a bare {@code HOST:PORT} (plain
   * TCP); nothing that connects out.
   */
  public static OvsdbEndpoint parseListen(String text) {
    Objects.requireNonNull(text, "endpoint");
    String t = text.trim();
    if (t.startsWith("ptcp:") || t.startsWith("pssl:")) {
      return parse(t);
    }
    if (t.indexOf(':') < 0 || t.startsWith("unix:") || t.startsWith("tcp:") || t.startsWith("ssl:")) {
      throw new IllegalArgumentException("bad OVSDB listen address '" + text
          + "': expected HOST:PORT, ptcp:PORT[:HOST] or pssl:PORT[:HOST]");
    }
    try {
      HostPort hp = HostPort.parse(t);
      return ptcp(hp.host, hp.port);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("bad OVSDB listen address '" + text
          + "': expected HOST:PORT, ptcp:PORT[:HOST] or pssl:PORT[:HOST] (" + e.getMessage() + ")", e);
    }
  }

  private static int port(String s) {
    int p = Integer.parseInt(s);
    if (p < 0 || p > 65535) {
      throw new IllegalArgumentException("port " + p + " out of range");
    }
    return p;
  }

  private record HostPort(String host, int port) {
    static HostPort parse(String s) {
      int colon = s.lastIndexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException("missing :PORT");
      }
      String host = unbracket(s.substring(0, colon));
      if (host.isEmpty() || host.indexOf(':') >= 0 && !s.startsWith("[")) {
        throw new IllegalArgumentException("bad host '" + s.substring(0, colon) + "' (bracket IPv6 addresses: [::1])");
      }
      return new HostPort(host, OvsdbEndpoint.port(s.substring(colon + 1)));
    }
  }

  private static String unbracket(String h) {
    return h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
  }

  public boolean isPassive() {
    return kind == Kind.PTCP || kind == Kind.PSSL;
  }

  /** True for {@code ssl:} and {@code pssl:}. */
  public boolean isTls() {
    return kind == Kind.SSL || kind == Kind.PSSL;
  }

  @Override
  public String toString() {
    String h = host != null && host.contains(":") ? "[" + host + "]" : host;
    return switch (kind) {
      case UNIX -> "unix:" + path;
      case TCP -> "tcp:" + h + ":" + port;
      case PTCP -> "ptcp:" + port + ":" + h;
      case SSL -> "ssl:" + h + ":" + port;
      case PSSL -> "pssl:" + port + ":" + h;
    };
  }
}
