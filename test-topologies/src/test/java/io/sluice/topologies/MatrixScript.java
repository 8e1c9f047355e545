package io.sluice.topologies;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the connectivity harness users run (test-topologies/matrix/matrix.py) on one scenario with the repository's
 * ./sluice, as a user would, and hands back how it ended and what it printed.
 */
final class MatrixScript {

  static final Path MODULE = Path.of("").toAbsolutePath();
  static final Path SCRIPT = MODULE.resolve("matrix/matrix.py");
  static final Path SCENARIOS = MODULE.resolve("matrix/scenarios");
  static final Path SLUICE = MODULE.getParent().resolve("sluice");

  /** How a run ended: {@code finished} false when it was stopped after the timeout. */
  record Result(String scenario, boolean finished, int exitStatus, String output) { }

  private MatrixScript() { }

  /**
   * Runs matrix.py on scenario {@code name} with {@code extraArgs}, at most {@code timeoutSeconds}. A run that takes
   * longer gets SIGTERM (matrix.py then removes what it made), and SIGKILL 30 s later (the next run removes a killed
   * run's leftovers).
   */
  static Result run(String name, long timeoutSeconds, String... extraArgs) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", SCRIPT.toString(),
        SCENARIOS.resolve(name).toString(), "--sluice", SLUICE.toString()));
    cmd.addAll(Arrays.asList(extraArgs));
    Path out = Files.createTempFile("matrix-" + name + "-", ".log");
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
      p.getOutputStream().close();
      boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
      if (!done) {
        p.destroy();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          p.waitFor(10, TimeUnit.SECONDS);
        }
      }
      String text = Files.readString(out, StandardCharsets.UTF_8);
      System.out.println("== matrix.py " + name + "\n" + text);
      return new Result(name, done, done ? p.exitValue() : -1, text);
    } finally {
      Files.deleteIfExists(out);
    }
  }
}
