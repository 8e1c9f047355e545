package io.sluice.watcher.testing;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * fabric8's mock API server in CRUD mode (a real HTTP API with watches) that can be stopped and started again on the
 * same port with its objects kept, like an API server restarting in front of the same etcd. As a real API server
 * whose watch cache was rebuilt, a restarted one answers a watch from a resource version older than the restart with
 * an ERROR event carrying a 410 Status ("too old resource version"), so clients list again (the mock alone would
 * resume such a watch and never tell of objects deleted meanwhile).
 */
public final class MockApiServer implements AutoCloseable {
  /** The mock server's request log (java.util.logging, one line per request) is noise in tests. */
  private static final java.util.logging.Logger MOCK_LOG = quiet();
  private static final Pattern RV = Pattern.compile("[?&]resourceVersion=(\\d+)");

  private final KubernetesCrudDispatcher store = new KubernetesCrudDispatcher();
  private final java.util.List<String> requests = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final int port;
  private volatile long restartedAt = -1;
  private KubernetesMockServer server;

  private final Dispatcher api = new Dispatcher() {
    @Override
    public MockResponse dispatch(RecordedRequest request) {
      String path = request.getPath();
      requests.add(request.getMethod() + " " + path);
      Matcher rv = RV.matcher(path);
      if (path.contains("watch=true") && rv.find() && Long.parseLong(rv.group(1)) < restartedAt) {
        return new MockResponse().withWebSocketUpgrade(new WebSocketListener() {
          @Override
          public void onOpen(WebSocket ws, io.fabric8.mockwebserver.http.Response response) {
            ws.send("{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":"
                + "\"Failure\",\"message\":\"too old resource version\",\"reason\":\"Expired\",\"code\":410}}");
            ws.close(1000, "");
          }
        });
      }
      String discovery = DISCOVERY.get(path.contains("?") ? path.substring(0, path.indexOf('?')) : path);
      if (discovery != null && "GET".equals(request.getMethod())) {
        return new MockResponse().setResponseCode(200).setHeader("Content-Type", "application/json")
            .setBody(discovery);
      }
      MockResponse response = store.dispatch(request);
      if (watchFromVersion && path.contains("watch=true") && rv.find(0) && response.getWebSocketListener() != null) {
        response.withWebSocketUpgrade(new NewerOnly(response.getWebSocketListener(), Long.parseLong(rv.group(1))));
      }
      return response;
    }
  };

  private volatile boolean watchFromVersion;

  /**
   * Watches from a resource version send only what changed after it, as a real API server's do. The mock alone
   * starts every watch by sending each stored object it matches as ADDED, whatever version the watch names, so an
   * informer that has just listed 10,000 pods would decode them all a second time; a benchmark of start-up sets
   * this so that it measures what a real API server makes the client do. Other tests keep the mock's behaviour.
   */
  public MockApiServer watchesFromTheirVersion() {
    watchFromVersion = true;
    return this;
  }

  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();

  /** A watch's listener whose ADDED events for objects no newer than the watch's resource version are dropped. */
  private static final class NewerOnly extends WebSocketListener {
    private final WebSocketListener delegate;
    private final long from;

    NewerOnly(WebSocketListener delegate, long from) {
      this.delegate = delegate;
      this.from = from;
    }

    private WebSocket filtered(WebSocket ws) {
      return new WebSocket() {
        @Override
        public RecordedRequest request() {
          return ws.request();
        }

        @Override
        public boolean send(String text) {
          try {
            var event = JSON.readTree(text);
            String version = event.path("object").path("metadata").path("resourceVersion").asText("");
            if ("ADDED".equals(event.path("type").asText()) && !version.isEmpty() && version.chars()
                .allMatch(Character::isDigit) && Long.parseLong(version) <= from) {
              return true; // listed already: a real API server would not send it again
            }
          } catch (java.io.IOException | RuntimeException e) {
            // not an event we can read: send it as it is
          }
          return ws.send(text);
        }

        @Override
        public boolean send(byte[] bytes) {
          return ws.send(bytes);
        }

        @Override
        public boolean close(int code, String reason) {
          return ws.close(code, reason);
        }
      };
    }

    @Override
    public void onBeforeAccept(WebSocket ws, io.fabric8.mockwebserver.http.Response response) {
      delegate.onBeforeAccept(filtered(ws), response);
    }

    @Override
    public void onOpen(WebSocket ws, io.fabric8.mockwebserver.http.Response response) {
      delegate.onOpen(filtered(ws), response);
    }

    @Override
    public void onMessage(WebSocket ws, String text) {
      delegate.onMessage(filtered(ws), text);
    }

    @Override
    public void onMessage(WebSocket ws, byte[] bytes) {
      delegate.onMessage(filtered(ws), bytes);
    }

    @Override
    public void onClosing(WebSocket ws, int code, String reason) {
      delegate.onClosing(filtered(ws), code, reason);
    }

    @Override
    public void onClosed(WebSocket ws, int code, String reason) {
      delegate.onClosed(filtered(ws), code, reason);
    }

    @Override
    public void onFailure(WebSocket ws, Throwable t, io.fabric8.mockwebserver.http.Response response) {
      delegate.onFailure(filtered(ws), t, response);
    }
  }

  /**
   * The discovery documents kubectl reads before it sends anything (the mock serves none): the kinds Sluice reads,
   * Events and Leases, under their API groups.
   */
  private static final java.util.Map<String, String> DISCOVERY = discovery();

  private static java.util.Map<String, String> discovery() {
    java.util.Map<String, String> m = new java.util.HashMap<>();
    m.put("/version", "{\"major\":\"1\",\"minor\":\"32\",\"gitVersion\":\"v1.32.0\",\"platform\":\"linux/amd64\"}");
    m.put("/api", "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],\"serverAddressByClientCIDRs\":[]}");
    String[][] groups = {{"networking.k8s.io", "networkpolicies:NetworkPolicy:true"},
        {"discovery.k8s.io", "endpointslices:EndpointSlice:true"},
        {"coordination.k8s.io", "leases:Lease:true"},
        {"events.k8s.io", "events:Event:true"}};
    StringBuilder list = new StringBuilder("{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[");
    for (int i = 0; i < groups.length; i++) {
      String g = groups[i][0];
      list.append(i == 0 ? "" : ",").append("{\"name\":\"").append(g).append("\",\"versions\":[{\"groupVersion\":\"")
          .append(g).append("/v1\",\"version\":\"v1\"}],\"preferredVersion\":{\"groupVersion\":\"").append(g)
          .append("/v1\",\"version\":\"v1\"}}");
      m.put("/apis/" + g + "/v1", resources(g + "/v1", groups[i][1]));
    }
    m.put("/apis", list.append("]}").toString());
    m.put("/api/v1", resources("v1", "namespaces:Namespace:false", "nodes:Node:false", "pods:Pod:true",
        "services:Service:true", "endpoints:Endpoints:true", "events:Event:true"));
    return m;
  }

  private static String resources(String groupVersion, String... kinds) {
    StringBuilder b = new StringBuilder("{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\",\"groupVersion\":\"")
        .append(groupVersion).append("\",\"resources\":[");
    for (int i = 0; i < kinds.length; i++) {
      String[] k = kinds[i].split(":");
      b.append(i == 0 ? "" : ",").append("{\"name\":\"").append(k[0]).append("\",\"singularName\":\"")
          .append(k[1].toLowerCase(java.util.Locale.ROOT)).append("\",\"namespaced\":").append(k[2])
          .append(",\"kind\":\"").append(k[1]).append("\",\"verbs\":[\"create\",\"delete\",\"get\",\"list\","
              + "\"patch\",\"update\",\"watch\"]}");
    }
    return b.append("]}").toString();
  }

  private static java.util.logging.Logger quiet() {
    java.util.logging.Logger l = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");
    l.setLevel(java.util.logging.Level.WARNING);
    return l;
  }

  /** Starts on a free loopback port. */
  public MockApiServer() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    start();
  }

  /** Every request this server answered, as {@code METHOD PATH?QUERY}, in order. */
  public java.util.List<String> requests() {
    return java.util.List.copyOf(requests);
  }

  public int port() {
    return port;
  }

  public String url() {
    return "http://127.0.0.1:" + port;
  }

  /** A client for this server with a short watch reconnect interval. */
  public KubernetesClient client() {
    return server.createClient(b -> b.editOrNewConfig().withWatchReconnectInterval(100).endConfig());
  }

  /** Stops answering (connections refused) while keeping every object. */
  public synchronized void stop() {
    if (server != null) {
      server.destroy();
      server = null;
    }
  }

  /** Starts again on the same port with the same objects; older watches are told 410 Gone. */
  public synchronized void start() {
    if (server != null) {
      return;
    }
    if (started) {
      // Every watch from before now is too old. Decided before the server accepts anything: a client retrying
      // every 100 ms may watch at once, and a watch let through would be resumed and never told of what was deleted
      // meanwhile. A version of its own (the store's counter moved on by one) also covers a watch from the very last
      // version before the stop (a delete does not move the counter). A list answers with this version or a later
      // one, from which watches work.
      restartedAt = store.requestResourceVersion();
    }
    KubernetesMockServer s = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), api, false);
    s.init(InetAddress.getLoopbackAddress(), port);
    started = true;
    server = s;
  }

  private boolean started;

  /**
   * Changes the stored objects while this server is stopped, as another API server in front of the same etcd would:
   * through a second server on another port.
   */
  public void whileStopped(Consumer<KubernetesClient> change) {
    KubernetesMockServer other = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), store,
        false);
    other.init();
    try (KubernetesClient c = other.createClient()) {
      change.accept(c);
    } finally {
      other.destroy();
    }
  }

  /** A kubeconfig file for this server (no credentials: the mock asks for none). */
  public Path kubeconfig(Path dir) {
    return kubeconfig(dir, url());
  }

  /** A kubeconfig file {@code dir/kubeconfig} for the API server at {@code url} (no credentials). */
  public static Path kubeconfig(Path dir, String url) {
    Path f = dir.resolve("kubeconfig");
    try {
      Files.writeString(f, String.join("\n", "apiVersion: v1", "kind: Config",
          "clusters:", "- name: mock", "  cluster: {server: '" + url + "'}",
          "users:", "- name: tester", "  user: {}",
          "contexts:", "- name: mock", "  context: {cluster: mock, user: tester}",
          "current-context: mock", ""));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return f;
  }

  @Override
  public void close() {
    try {
      stop();
    } catch (IllegalStateException e) {
      // the mock's HTTP server may take longer than its own 10 s to close on a loaded machine: at teardown that is
      // not the test's outcome (stop() in the middle of a test still fails it)
      synchronized (this) {
        server = null;
      }
      System.err.println("MockApiServer: " + e.getMessage() + " at teardown (" + e.getCause() + "); left to exit");
    }
  }
}
