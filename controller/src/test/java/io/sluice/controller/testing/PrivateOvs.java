package io.sluice.controller.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A test's own Open vSwitch (ovsdb-server and ovs-vswitchd) next to the system one, so that a test may restart or kill
 * it: ovs-ctl and the ovs-* tools run with {@code OVS_RUNDIR}, {@code OVS_LOGDIR}, {@code OVS_DBDIR} and
 * {@code OVS_SYSCONFDIR} in a temporary directory; its database socket is {@link #dbTarget()}.
 *
 * <p>Its bridges use the {@code dummy} datapath type (vswitchd runs with {@code --enable-dummy}): the same userspace
 * datapath as {@code netdev}, but a second vswitchd cannot open a {@code netdev} one here, because that creates a tap
 * device named {@code ovs-netdev}, which the system instance already holds ("creating tap device failed: Device or
 * resource busy"). Veth ports attach to it as to {@code netdev}; its conntrack is its own.
 *
 * <p>Only processes named by this instance's pidfiles are ever stopped or killed.
 */
public final class PrivateOvs implements AutoCloseable {
  public static final String DATAPATH_TYPE = "dummy";
  private static final String OVS_CTL = "/usr/share/openvswitch/scripts/ovs-ctl";
  private static final String[] START = {"--system-id=random", "--no-monitor", "--no-mlockall",
      "--ovs-vswitchd-options=--enable-dummy"};
  private final Path home;
  private final Path run;

  public PrivateOvs() throws IOException {
    home = Files.createTempDirectory("sluice-ovs");
    run = home.resolve("run");
    for (String d : new String[] {"run", "log", "db", "etc/openvswitch"}) {
      Files.createDirectories(home.resolve(d));
    }
    try {
      ctl("start");
      awaitVswitchd();
    } catch (RuntimeException | AssertionError e) {
      close();
      throw e;
    }
  }

  /** {@code env OVS_...=...}: prepend to a command to run it against this instance. */
  public String[] env() {
    return new String[] {"env", "OVS_RUNDIR=" + run, "OVS_LOGDIR=" + home.resolve("log"),
        "OVS_DBDIR=" + home.resolve("db"), "OVS_SYSCONFDIR=" + home.resolve("etc")};
  }

  /** OVSDB target for Sluice: {@code unix:<rundir>/db.sock}. */
  public String dbTarget() {
    return "unix:" + run.resolve("db.sock");
  }

  /** Runs an ovs-* tool (or any command) against this instance; stdout, failing on a non-zero exit. */
  public String run(String... cmd) {
    return Sh.run(with(cmd));
  }

  private String[] with(String... cmd) {
    List<String> all = new ArrayList<>(List.of(env()));
    all.addAll(List.of(cmd));
    return Sh.cmd(all);
  }

  private String ctl(String... args) {
    List<String> cmd = new ArrayList<>(List.of(OVS_CTL));
    cmd.addAll(List.of(START));
    cmd.addAll(List.of(args));
    Sh.Result r = Sh.exec(120, with(Sh.cmd(cmd)));
    if (r.code() != 0) {
      throw new AssertionError("ovs-ctl " + String.join(" ", args) + " exited " + r.code() + ": " + r.err() + r.out());
    }
    return r.out() + r.err();
  }

  /**
   * {@code ovs-ctl restart}: saves flows, restarts both daemons, restores them under flow-restore-wait; returns what
   * ovs-ctl printed.
   */
  public String restart() {
    String out = ctl("restart");
    awaitVswitchd();
    return out;
  }

  /** SIGKILL to ovs-vswitchd (its flows die with it), waiting until it is gone; returns its pid. */
  public long killVswitchd() {
    long pid = pid("ovs-vswitchd");
    Sh.run("kill", "-9", Long.toString(pid));
    for (int i = 0; i < 500 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false); i++) {
      Ovs.sleep(10);
    }
    return pid;
  }

  /** Starts ovs-vswitchd alone (the database keeps the bridges), with no saved flows to restore. */
  public void startVswitchd() {
    ctl("--no-ovsdb-server", "start");
    awaitVswitchd();
  }

  private long pid(String daemon) {
    try {
      return Long.parseLong(Files.readString(run.resolve(daemon + ".pid")).trim());
    } catch (IOException | NumberFormatException e) {
      throw new AssertionError("no pidfile for " + daemon + " in " + run, e);
    }
  }

  private void awaitVswitchd() {
    for (int i = 0; i < 100; i++) {
      if (Sh.exec(10, with("ovs-appctl", "-t", "ovs-vswitchd", "version")).code() == 0
          && Sh.exec(10, with("ovs-vsctl", "--timeout=3", "show")).code() == 0) {
        return;
      }
      Ovs.sleep(50);
    }
    throw new AssertionError("private Open vSwitch in " + home + " did not come up");
  }

  /** Lines of the current ovs-vswitchd's log (since its last start) that contain a given text. */
  public List<String> logSinceStart(String contains) {
    try {
      List<String> lines = Files.readAllLines(home.resolve("log/ovs-vswitchd.log"));
      int start = 0;
      for (int i = 0; i < lines.size(); i++) {
        if (lines.get(i).contains("|bridge|INFO|ovs-vswitchd (Open vSwitch)")) {
          start = i;
        }
      }
      return lines.subList(start, lines.size()).stream().filter(l -> l.contains(contains)).toList();
    } catch (IOException e) {
      throw new AssertionError("cannot read the vswitchd log in " + home, e);
    }
  }

  /** The tail of this instance's vswitchd log, for failure messages. */
  public String logTail() {
    try {
      List<String> lines = Files.readAllLines(home.resolve("log/ovs-vswitchd.log"));
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  @Override
  public void close() {
    try {
      Sh.quiet(with(OVS_CTL, "stop"));
    } finally {
      for (String d : new String[] {"ovs-vswitchd", "ovsdb-server"}) {
        Path f = run.resolve(d + ".pid");
        try {
          if (Files.exists(f)) {
            long pid = Long.parseLong(Files.readString(f).trim());
            // only if it is still ours: its command line names this instance's directory
            ProcessHandle.of(pid).filter(h -> h.info().commandLine().orElse("").contains(home.toString()))
                .ifPresent(ProcessHandle::destroyForcibly);
          }
        } catch (IOException | NumberFormatException ignored) {
          // best effort
        }
      }
      try (Stream<Path> all = Files.walk(home)) {
        all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException ignored) {
        // best effort
      }
    }
  }
}
