package io.sluice.ovsdb.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * An ovsdb-server of our own, in a temp dir, with the vswitch schema and no ovs-vswitchd: nothing assigns ofports,
 * so tests set them. Stopped (and its files removed) by close(), also after failures.
 */
public final class PrivateOvsdbServer implements AutoCloseable {
  private static final String SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema";
  private final Path dir;
  private final Path db;
  private final Path sock;
  private final Path ctl;
  private final Path pid;
  private final List<String> extraArgs;
  private boolean running;

  public PrivateOvsdbServer() {
    this(new String[0]);
  }

  /** With more ovsdb-server options, e.g. {@code --remote=pssl:PORT:127.0.0.1 --private-key=...}. */
  public PrivateOvsdbServer(String... extraArgs) {
    this.extraArgs = List.of(extraArgs);
    try {
      dir = Files.createTempDirectory("sluice-ovsdb-");
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    db = dir.resolve("conf.db");
    sock = dir.resolve("db.sock");
    ctl = dir.resolve("ovsdb-server.ctl");
    pid = dir.resolve("ovsdb-server.pid");
    Sh.run("ovsdb-tool", "create", db.toString(), SCHEMA);
    start();
    vsctl("init");
  }

  public String socket() {
    return sock.toString();
  }

  public String endpoint() {
    return "unix:" + sock;
  }

  public Path dir() {
    return dir;
  }

  public void start() {
    List<String> cmd = new ArrayList<>(List.of("ovsdb-server", "--remote=punix:" + sock,
        "--remote=db:Open_vSwitch,Open_vSwitch,manager_options", "--pidfile=" + pid, "--unixctl=" + ctl,
        "--log-file=" + dir.resolve("ovsdb-server.log"), "--detach", "--no-chdir"));
    cmd.addAll(extraArgs);
    cmd.add(db.toString());
    Sh.run(cmd);
    running = true;
  }

  /** Stops the server, keeping the database (start() brings it back with the same data). */
  public void stop() {
    if (running) {
      java.util.Optional<ProcessHandle> proc = process();
      Sh.Result r = Sh.exec(10, "ovs-appctl", "-t", ctl.toString(), "exit");
      if (r.code() != 0) {
        proc.ifPresent(ProcessHandle::destroyForcibly);
      }
      running = false;
      // ovs-appctl returns before the server has removed its pidfile and socket: wait for the process itself.
      proc.ifPresent(h -> {
        try {
          h.onExit().get(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
          h.destroyForcibly();
        }
      });
      for (int i = 0; i < 50 && Files.exists(sock); i++) {
        sleep(20);
      }
    }
  }

  public void restart() {
    stop();
    start();
  }

  /** ovs-vsctl against this server, without waiting for a vswitchd (there is none). */
  public String vsctl(String... args) {
    List<String> cmd = new ArrayList<>(List.of("ovs-vsctl", "--db=unix:" + sock, "--no-wait", "--timeout=5"));
    cmd.addAll(Arrays.asList(args));
    return Sh.run(cmd);
  }

  private java.util.Optional<ProcessHandle> process() {
    try {
      return ProcessHandle.of(Long.parseLong(Files.readString(pid).trim()));
    } catch (IOException | NumberFormatException e) {
      return java.util.Optional.empty();
    }
  }

  @Override
  public void close() {
    try {
      stop();
    } finally {
      try (Stream<Path> s = Files.walk(dir)) {
        s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException | java.io.UncheckedIOException e) {
        // best effort: a file that vanished while walking is already gone
      }
    }
  }

  static void sleep(long ms) {
    try {
      java.lang.Thread.sleep(ms);
    } catch (InterruptedException e) {
      java.lang.Thread.currentThread().interrupt();
    }
  }
}
