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
 * The status API: /healthz, /readyz, /metrics (Prometheus text) and /api/v1/... (JSON). Read-only; it only asks the
 * runtime for views and never changes anything.
 */
public final class StatusServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StatusServer.class);

  /** What the status API reads. */
  public interface Views {
    long generation();

    List<SwitchStatus> switches();

    /** null when ready, else why not. */
    String notReadyReason();

    byte[] metrics();

    /** Problems sources found in their input (invalid manifests), newest state. */
    List<?> errors();

    /** Pods bound to switch ports, and the OVSDB connections they come from. */
    Object ports();

    /** Policies, the pods they select and their rules' packet counters. */
    Object policies();
  }

  private final HttpServer server;
  private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public StatusServer(InetSocketAddress listen, Views views) throws IOException {
    server = HttpServer.create(listen, 64);
    server.setExecutor(Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "sluice-http");
      t.setDaemon(true);
      return t;
    }));
    route("/healthz", ex -> send(ex, 200, "text/plain", "ok\n"));
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
    route("/api/v1/ports", ex -> sendJson(ex, views.ports()));
    route("/api/v1/policies", ex -> sendJson(ex, views.policies()));
    server.start();
    LOG.info("HTTP status API on http://{}:{}/", listen.getHostString(), server.getAddress().getPort());
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  private interface Handler {
    void handle(HttpExchange ex) throws IOException;
  }

  private void route(String path, Handler h) {
    server.createContext(path, ex -> {
      try (ex) {
        if (!ex.getRequestURI().getPath().equals(path)) {
          send(ex, 404, "text/plain", "no such resource: " + ex.getRequestURI().getPath() + "\n");
        } else if (!"GET".equals(ex.getRequestMethod())) {
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
    });
  }

  private void sendJson(HttpExchange ex, Object body) throws IOException {
    send(ex, 200, "application/json", json.writeValueAsBytes(body));
  }

  private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
    send(ex, status, type, body.getBytes(StandardCharsets.UTF_8));
  }

  private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
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
