package io.sluice.controller.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.sluice.controller.sync.SwitchStatus;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The status API: /healthz, /readyz, /metrics (Prometheus text) and /api/v1/... (JSON), and the web view at / (static
 * files shipped in the jar that read the same API). It only asks the runtime for views and never changes a flow or
 * the model; one request sends packets (a packet-out trace's probes): it is served on POST only.
 */
public final class StatusServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StatusServer.class);

  /** What the status API reads. */
  public interface Views {
    long generation();

    List<SwitchStatus> switches();

    /** null when ready, else why not. */
    String notReadyReason();

    /** null while the process does its job, else what stopped working that only a restart mends. */
    default String unhealthyReason() {
      return null;
    }

    byte[] metrics();

    /** Problems sources found in their input (invalid manifests), newest state. */
    List<?> errors();

    /** What sources read but warn about (deprecated forms accepted, annotations ignored), newest state. */
    default List<?> warnings() {
      return List.of();
    }

    /** Pods bound to switch ports, and the OVSDB connections they come from. */
    Object ports();

    /** Policies, the pods they select and their rules' packet counters. */
    Object policies();

    /** The audit log's recent entries, newest first, filtered (null: any). */
    default List<?> audit(String namespace, String pod, String policy, int limit) {
      return List.of();
    }

    /**
     * What {@code sluice trace} needs to trace a new connection on the switches: both ends' pods, addresses, MACs,
     * switches, bridges and ports, and the reference evaluator's verdict.
     *
     * @throws IllegalArgumentException for bad or unknown endpoints and ports (answered 400 with its message)
     */
    default Object trace(String from, String to, String port) {
      throw new IllegalArgumentException("not served here");
    }

    /**
     * Traces a new connection by OpenFlow packet-out ({@code sluice trace --method packet-out}): injects
     * {@code probes} probes on the source's switch and reads which flows they went through. Changes no flow, but sends
     * real packets: served on POST only.
     *
     * @param probes how many probes, null for the default
     * @throws IllegalArgumentException for bad or unknown endpoints and ports (answered 400 with its message)
     * @throws Refused when the trace cannot be done (answered with its status and message)
     */
    default Object tracePacketOut(String from, String to, String port, String probes) {
      throw new IllegalArgumentException("not served here");
    }

    /** The policy rules behind the given policy cookies (hex, comma separated). */
    default Object traceRules(String cookies) {
      return Map.of();
    }

    /** The namespaces the model knows (with a manifest or with pods), sorted. */
    default List<String> namespaces() {
      return List.of();
    }

    /**
     * The connectivity matrix of a namespace's pods by the reference evaluator, with the rule counters' evidence.
     *
     * @param port {@code N[/PROTO]}, or null for each destination's named container ports
     * @throws IllegalArgumentException for a missing or unknown namespace or a bad port (answered 400 with its message)
     */
    default Object matrix(String namespace, String port) {
      throw new IllegalArgumentException("not served here");
    }
  }

  /** A request the views cannot answer, with the HTTP status to answer and why. */
  public static final class Refused extends RuntimeException {
    private final int status;

    public Refused(int status, String message) {
      super(message);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }

  /** Everything from this origin only: no inline script or style, no other host. */
  static final String CONTENT_SECURITY_POLICY =
      "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

  /** A file of the web view: its content type and bytes, read once from the jar. */
  private record WebFile(String type, byte[] body) { }

  private final HttpServer server;
  private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Paths served without the token: the kubelet's probes. */
  static final java.util.Set<String> OPEN_PATHS = java.util.Set.of("/healthz", "/readyz");

  private final byte[] token;
  private final io.sluice.controller.logging.LogLimiter refusals =
      new io.sluice.controller.logging.LogLimiter(java.time.Duration.ofSeconds(10));

  public StatusServer(InetSocketAddress listen, Views views) throws IOException {
    this(listen, views, null);
  }

  /**
   * @param token when not null, every request but {@link #OPEN_PATHS} and the web view's static files must carry
   *              {@code Authorization: Bearer TOKEN}; others are answered 401
   */
  public StatusServer(InetSocketAddress listen, Views views, String token) throws IOException {
    this.token = token == null ? null : token.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    WebFile page = new WebFile("text/html; charset=utf-8", resource("web/index.html"));
    Map<String, WebFile> web = Map.of("/", page, "/index.html", page,
        "/app.js", new WebFile("text/javascript; charset=utf-8", resource("web/app.js")),
        "/style.css", new WebFile("text/css; charset=utf-8", resource("web/style.css")));
    server = HttpServer.create(listen, 64);
    server.setExecutor(Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "sluice-http");
      t.setDaemon(true);
      return t;
    }));
    route("/healthz", ex -> {
      String why = views.unhealthyReason();
      send(ex, why == null ? 200 : 503, "text/plain", why == null ? "ok\n" : "unhealthy: " + why + "\n");
    });
    route("/readyz", ex -> {
      String why = views.notReadyReason();
      send(ex, why == null ? 200 : 503, "text/plain", why == null ? "ready\n" : "not ready: " + why + "\n");
    });
    route("/metrics", ex -> send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", views.metrics()));
    route("/api/v1/realization", ex -> {
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("generation", views.generation());
      body.put("switches", views.switches().stream().map(s -> {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("datapathId", s.datapathId());
        m.put("connected", s.connected());
        m.put("realizedGeneration", s.realizedGeneration());
        m.put("flows", s.flows());
        m.put("groups", s.groups());
        m.put("meters", s.meters());
        if (s.lastError() != null) {
          m.put("lastError", s.lastError());
        }
        return m;
      }).toList());
      sendJson(ex, body);
    });
    route("/api/v1/switches", ex -> sendJson(ex, views.switches()));
    route("/api/v1/errors", ex -> sendJson(ex, views.errors()));
    route("/api/v1/warnings", ex -> sendJson(ex, views.warnings()));
    route("/api/v1/ports", ex -> sendJson(ex, views.ports()));
    route("/api/v1/policies", ex -> sendJson(ex, views.policies()));
    route("/api/v1/audit", ex -> {
      Map<String, String> q = query(ex.getRequestURI().getRawQuery());
      int limit;
      try {
        limit = Integer.parseInt(q.getOrDefault("limit", "100"));
      } catch (NumberFormatException e) {
        limit = -1;
      }
      if (limit < 1 || limit > 10_000) {
        send(ex, 400, "text/plain", "limit: a number of entries, 1..10000 (default 100), got " + q.get("limit") + "\n");
        return;
      }
      sendJson(ex, views.audit(q.get("namespace"), q.get("pod"), q.get("policy"), limit));
    });
    route("/api/v1/namespaces", ex -> sendJson(ex, views.namespaces()));
    route("/api/v1/matrix", ex -> {
      Map<String, String> q = query(ex.getRequestURI().getRawQuery());
      Object body;
      try {
        body = views.matrix(q.get("namespace"), q.get("port"));
      } catch (IllegalArgumentException e) {
        send(ex, 400, "text/plain", e.getMessage() + "\n");
        return;
      }
      sendJson(ex, body);
    });
    server.createContext("/", ex -> {
      try (ex) {
        WebFile file = web.get(ex.getRequestURI().getPath());
        if (file == null) {
          send(ex, 404, "text/plain", "no such resource: " + ex.getRequestURI().getPath() + "\n");
        } else if (!"GET".equals(ex.getRequestMethod())) {
          send(ex, 405, "text/plain", "only GET is served here\n");
        } else {
          ex.getResponseHeaders().set("Cache-Control", "no-cache");
          send(ex, 200, file.type(), file.body());
        }
      } catch (IOException | RuntimeException e) {
        LOG.warn("HTTP {} failed: {}", ex.getRequestURI().getPath(), e.toString());
      }
    });
    route("/api/v1/trace", true, ex -> {
      Map<String, String> q = query(ex.getRequestURI().getRawQuery());
      String method = q.getOrDefault("method", "ovs-appctl");
      boolean post = "POST".equals(ex.getRequestMethod());
      Object body;
      try {
        if ("packet-out".equals(method)) {
          if (!post) {
            send(ex, 405, "text/plain", "method=packet-out sends packets into the network: POST it (sluice trace "
                + "--method packet-out does)\n");
            return;
          }
          if (ex.getRequestHeaders().getFirst("Origin") != null) {
            // a browser's cross-site form may POST here without the token when none is configured; the CLI never
            // sends Origin, and the web view does not trace
            send(ex, 403, "text/plain", "method=packet-out is not served to web pages (the request has an Origin)\n");
            return;
          }
          body = views.tracePacketOut(q.get("from"), q.get("to"), q.get("port"), q.get("probes"));
        } else if (post) {
          send(ex, 405, "text/plain", "only method=packet-out is POSTed here; the rest is GET\n");
          return;
        } else if (!"ovs-appctl".equals(method)) {
          send(ex, 400, "text/plain", "method: ovs-appctl (the context to trace with it, the default) or packet-out, "
              + "got " + method + "\n");
          return;
        } else {
          body = q.containsKey("cookies") ? views.traceRules(q.get("cookies"))
              : views.trace(q.get("from"), q.get("to"), q.get("port"));
        }
      } catch (IllegalArgumentException e) {
        send(ex, 400, "text/plain", e.getMessage() + "\n");
        return;
      } catch (Refused e) {
        send(ex, e.status(), "text/plain", e.getMessage() + "\n");
        return;
      }
      sendJson(ex, body);
    });
    server.start();
    LOG.info("HTTP status API on http://{}:{}/", listen.getHostString(), server.getAddress().getPort());
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  private interface Handler {
    void handle(HttpExchange ex) throws IOException;
  }

  /** No token configured, or the request carries it (compared in constant time); a refusal is logged, rate-limited. */
  private boolean authorized(HttpExchange ex) {
    if (token == null) {
      return true;
    }
    String h = ex.getRequestHeaders().getFirst("Authorization");
    byte[] given = h != null && h.startsWith("Bearer ")
        ? h.substring(7).strip().getBytes(java.nio.charset.StandardCharsets.UTF_8) : new byte[0];
    if (java.security.MessageDigest.isEqual(given, token)) {
      return true;
    }
    long suppressed = refusals.admit("401");
    if (suppressed >= 0) {
      LOG.warn("HTTP {} from {}: refused, {}{}", ex.getRequestURI().getPath(), ex.getRemoteAddress(),
          h == null ? "no token" : "wrong token", refusals.suffix(suppressed));
    }
    return false;
  }

  private void route(String path, Handler h) {
    route(path, false, h);
  }

  /**
   * Serves {@code view}'s answer as JSON on GET {@code path} (under /api/v1/), behind the token like the other API
   * paths: for parts of Sluice that start after the server (the fabric's /api/v1/topology and /api/v1/hosts).
   */
  public void json(String path, java.util.function.Supplier<?> view) {
    if (!path.startsWith("/api/v1/")) {
      throw new IllegalArgumentException("API views live under /api/v1/, not " + path);
    }
    route(path, ex -> sendJson(ex, view.get()));
  }

  /** A path served with the token (unless open); {@code post}: POST is let through to the handler too. */
  private void route(String path, boolean post, Handler h) {
    server.createContext(path, ex -> {
      try (ex) {
        serve(ex, path, post, h);
      }
    });
  }

  /** One request of a route: the exchange is closed by the caller, after an error's 500 has gone out too. */
  private void serve(HttpExchange ex, String path, boolean post, Handler h) {
    try {
      if (!ex.getRequestURI().getPath().equals(path)) {
        send(ex, 404, "text/plain", "no such resource: " + ex.getRequestURI().getPath() + "\n");
      } else if (!OPEN_PATHS.contains(path) && !authorized(ex)) {
        ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"sluice\"");
        send(ex, 401, "text/plain", "unauthorized: this status API wants Authorization: Bearer <token> (the token of "
            + "sluice run --http-token-file; sluice trace, test --live and advise take it with --api-token-file)\n");
      } else if (!"GET".equals(ex.getRequestMethod()) && !(post && "POST".equals(ex.getRequestMethod()))) {
        send(ex, 405, "text/plain", "only GET is served here\n");
      } else {
        h.handle(ex);
      }
    } catch (IOException | RuntimeException e) {
      LOG.warn("HTTP {} failed: {}", path, e.toString());
      try {
        send(ex, 500, "text/plain", "internal error: " + e + "\n");
      } catch (IOException | RuntimeException ignored) {
        // headers were already sent; the client sees a cut response
      }
    }
  }

  /** A query string's parameters (the first of each name), decoded. */
  static Map<String, String> query(String raw) {
    Map<String, String> out = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      return out;
    }
    for (String part : raw.split("&", 64)) {
      int eq = part.indexOf('=');
      String k = java.net.URLDecoder.decode(eq < 0 ? part : part.substring(0, eq), StandardCharsets.UTF_8);
      String v = eq < 0 ? "" : java.net.URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
      out.putIfAbsent(k, v);
    }
    return out;
  }

  /** A file of the web view from the jar (next to this class). */
  private static byte[] resource(String name) throws IOException {
    try (java.io.InputStream in = StatusServer.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IOException("the web view's " + name + " is missing from the class path (a broken build)");
      }
      return in.readAllBytes();
    }
  }

  private void sendJson(HttpExchange ex, Object body) throws IOException {
    send(ex, 200, "application/json", json.writeValueAsBytes(body));
  }

  private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
    send(ex, status, type, body.getBytes(StandardCharsets.UTF_8));
  }

  private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
    ex.getResponseHeaders().set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
    ex.sendResponseHeaders(status, body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
