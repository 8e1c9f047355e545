package io.sluice.controller.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code sluice run} as a separate process (its own JVM, the test's class path), so a test can kill it with SIGKILL
 * as a node failure would. Output goes to a file next to the test's temporary files; {@link #log()} reads it.
 */
public final class SluiceProcess implements AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Process process;
  private final Path log;
  public final int openflowPort;
  public final int httpPort;
  public final String name;

  public SluiceProcess(String name, Path dir, String... args) {
    this(name, dir, false, args);
  }

  /** With {@code pssl}, OpenFlow listens with {@code --listen pssl:PORT:127.0.0.1} (args must give the TLS files). */
  public SluiceProcess(String name, Path dir, boolean pssl, String... args) {
    this.name = name;
    this.openflowPort = freePort();
    this.httpPort = freePort();
    this.log = dir.resolve(name + ".log");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "-cp", System.getProperty("java.class.path"), "io.sluice.controller.cli.SluiceCli", "run",
        "--listen", pssl ? "pssl:" + openflowPort + ":127.0.0.1" : "127.0.0.1:" + openflowPort,
        "--http", "127.0.0.1:" + httpPort, "--echo-interval", "500ms"));
    cmd.addAll(List.of(args));
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
      pb.environment().put("SLUICE_LOG_LEVEL", "INFO"); // the tests' WARN would hide what these tests read
      process = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code common} followed by {@code more}: the flags replicas share plus this one's own. */
  public static String[] args(String[] common, String... more) {
    String[] all = java.util.Arrays.copyOf(common, common.length + more.length);
    System.arraycopy(more, 0, all, common.length, more.length);
    return all;
  }

  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The JVM's process id (for /proc/PID/status: resident memory, threads). */
  public long pid() {
    return process.pid();
  }

  public boolean alive() {
    return process.isAlive();
  }

  /** SIGKILL: no shutdown hook runs, the Lease is not given up. */
  public void kill() {
    process.destroyForcibly();
    try {
      process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "";
    }
  }

  /** GET on the status API as JSON, or null when it does not answer. */
  public JsonNode get(String path) {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
          .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** The switch's entry in /api/v1/switches, or null. */
  public JsonNode sw(String datapathId) {
    JsonNode all = get("/api/v1/switches");
    if (all != null) {
      for (JsonNode s : all) {
        if (s.get("datapathId").asText().equals(datapathId)) {
          return s;
        }
      }
    }
    return null;
  }

  /** True when this process is MASTER of the switch and the switch confirmed the model's generation. */
  public boolean realizedAsMaster(String datapathId) {
    JsonNode s = sw(datapathId);
    JsonNode r = get("/api/v1/realization");
    return s != null && r != null && s.get("connected").asBoolean() && "MASTER".equals(s.get("role").asText())
        && s.get("realizedGeneration").asLong() == r.get("generation").asLong();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
    }
  }
}
