package io.sluice.controller.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Debian's {@code chromium}, headless, for tests of the web view: a page's DOM after it ran for a few seconds of
 * virtual time ({@code --dump-dom}), a screenshot ({@code --screenshot}), or a page kept open and read through the
 * DevTools protocol while it polls, so a test can watch it change. Runs as root, so without the sandbox; every profile
 * is a directory the test gives (a temporary one). Its absence fails the test: {@code make test} installs it through
 * {@code deploy/install-deps.sh}.
 */
public final class HeadlessChromium {
  /** Virtual time a page gets before its DOM or screenshot is taken: long enough for two polls of the web view. */
  public static final int VIRTUAL_TIME_MS = 5000;
  private static final ObjectMapper JSON = new ObjectMapper();

  private HeadlessChromium() { }

  /** The chromium on PATH; fails naming what to install when there is none. */
  public static String executable() {
    for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
      Path p = Path.of(d, "chromium");
      if (Files.isExecutable(p)) {
        return p.toString();
      }
    }
    throw new AssertionError("chromium is not installed (no chromium on PATH): the web view is tested in Debian's "
        + "headless Chromium; run deploy/install-deps.sh (make test does) or apt-get install -y chromium");
  }

  private static List<String> command(Path profile, String... more) {
    List<String> cmd = new java.util.ArrayList<>(List.of(executable(), "--headless", "--no-sandbox", "--disable-gpu",
        "--user-data-dir=" + profile, "--no-first-run", "--hide-scrollbars"));
    cmd.addAll(List.of(more));
    return cmd;
  }

  /** The page's DOM, serialized, after {@link #VIRTUAL_TIME_MS} of virtual time. */
  public static String dumpDom(Path profile, String url) {
    Sh.Result r = Sh.exec(90, Sh.cmd(command(profile, "--virtual-time-budget=" + VIRTUAL_TIME_MS, "--dump-dom", url)));
    if (r.code() != 0) {
      throw new AssertionError("chromium --dump-dom " + url + " exited " + r.code() + ": " + r.err());
    }
    return r.out();
  }

  /** A PNG of the page at {@code width}x{@code height} after {@link #VIRTUAL_TIME_MS} of virtual time. */
  public static void screenshot(Path profile, String url, Path png, int width, int height) {
    Sh.Result r = Sh.exec(90, Sh.cmd(command(profile, "--virtual-time-budget=" + VIRTUAL_TIME_MS,
        "--window-size=" + width + "," + height, "--screenshot=" + png.toAbsolutePath(), url)));
    if (r.code() != 0 || !Files.isRegularFile(png)) {
      throw new AssertionError("chromium --screenshot " + url + " exited " + r.code() + " without " + png + ": " + r.err());
    }
  }

  /** Opens {@code url} in a headless Chromium that stays up, in real time, until {@link Page#close()}. */
  public static Page open(Path profile, String url) {
    try {
      Files.deleteIfExists(profile.resolve("DevToolsActivePort"));
      Process p = new ProcessBuilder(command(profile, "--remote-debugging-port=0", "--window-size=1400,1000", url))
          .redirectErrorStream(true).redirectOutput(profile.resolve("chromium.log").toFile())
          .start();
      try {
        return new Page(p, profile);
      } catch (RuntimeException | Error e) {
        p.destroyForcibly();
        throw e;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A page in a running Chromium, read through the DevTools protocol (a WebSocket to its page target). */
  public static final class Page implements AutoCloseable {
    private final Process process;
    private final WebSocket socket;
    private final Map<Integer, CompletableFuture<JsonNode>> replies = new ConcurrentHashMap<>();
    private final AtomicInteger ids = new AtomicInteger();

    private Page(Process process, Path profile) throws IOException {
      this.process = process;
      Path portFile = profile.resolve("DevToolsActivePort");
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      String port = null;
      while (port == null) {
        if (Files.exists(portFile) && !Files.readString(portFile).isBlank()) {
          port = Files.readString(portFile).lines().findFirst().orElseThrow().trim();
        } else if (!process.isAlive() || System.nanoTime() > deadline) {
          throw new AssertionError("chromium wrote no DevTools port in " + profile + " (exit "
              + (process.isAlive() ? "none, still running" : process.exitValue()) + ")");
        } else {
          Ovs.sleep(50);
        }
      }
      HttpClient http = HttpClient.newHttpClient();
      String ws = null;
      while (ws == null) {
        try {
          String list = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list"))
              .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
          for (JsonNode t : JSON.readTree(list)) {
            if ("page".equals(t.path("type").asText())) {
              ws = t.get("webSocketDebuggerUrl").asText();
            }
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AssertionError(e);
        }
        if (ws == null) {
          if (System.nanoTime() > deadline) {
            throw new AssertionError("chromium on DevTools port " + port + " shows no page");
          }
          Ovs.sleep(50);
        }
      }
      socket = http.newWebSocketBuilder().buildAsync(URI.create(ws), new WebSocket.Listener() {
        private final StringBuilder message = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
          message.append(data);
          if (last) {
            try {
              JsonNode m = JSON.readTree(message.toString());
              CompletableFuture<JsonNode> f = m.has("id") ? replies.remove(m.get("id").asInt()) : null;
              if (f != null) {
                f.complete(m);
              }
            } catch (IOException e) {
              // not JSON: not a reply anyone waits for
            }
            message.setLength(0);
          }
          w.request(1);
          return null;
        }
      }).join();
    }

    /** The value of a JavaScript expression in the page (as JSON: strings, numbers, booleans, arrays). */
    public JsonNode evaluate(String expression) {
      int id = ids.incrementAndGet();
      CompletableFuture<JsonNode> reply = new CompletableFuture<>();
      replies.put(id, reply);
      ObjectNode call = JSON.createObjectNode().put("id", id).put("method", "Runtime.evaluate");
      call.putObject("params").put("expression", expression).put("returnByValue", true);
      socket.sendText(call.toString(), true).join();
      try {
        JsonNode r = reply.get(10, TimeUnit.SECONDS);
        if (r.has("error") || r.path("result").has("exceptionDetails")) {
          throw new AssertionError("evaluating " + expression + " in chromium: " + r);
        }
        return r.path("result").path("result").path("value");
      } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
        throw new AssertionError("chromium did not answer Runtime.evaluate of " + expression, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }

    /** The page's DOM as it is now, serialized (empty while the page has none yet: it is still being loaded). */
    public String dom() {
      return evaluate("document.documentElement ? document.documentElement.outerHTML : ''").asText();
    }

    @Override
    public void close() {
      socket.abort();
      List<ProcessHandle> children = process.descendants().toList(); // renderers and helpers, by id
      process.destroy();
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          process.waitFor(10, TimeUnit.SECONDS);
        }
        children.forEach(ProcessHandle::destroy);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
    }
  }
}
