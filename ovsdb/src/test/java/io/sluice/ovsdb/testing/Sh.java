package io.sluice.ovsdb.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a command with a timeout and captures its output. */
public final class Sh {
  private Sh() {
  }

  public record Result(int code, String out, String err) {
    public String outTrim() {
      return out.trim();
    }
  }

  public static Result exec(int timeoutSeconds, String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
          .start();
      // Small outputs only: read after exit is fine, but drain concurrently to be safe.
      var out = new java.util.concurrent.CompletableFuture<String>();
      var err = new java.util.concurrent.CompletableFuture<String>();
      startDaemon(() -> out.complete(read(p.getInputStream())));
      startDaemon(() -> err.complete(read(p.getErrorStream())));
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("timed out after " + timeoutSeconds + " s: " + String.join(" ", cmd));
      }
      return new Result(p.exitValue(), out.get(5, TimeUnit.SECONDS), err.get(5, TimeUnit.SECONDS));
    } catch (IOException | InterruptedException | java.util.concurrent.ExecutionException
        | java.util.concurrent.TimeoutException e) {
      throw new AssertionError("cannot run " + String.join(" ", cmd) + ": " + e, e);
    }
  }

  /** Runs and insists on exit code 0 and an empty stderr apart from harmless warnings. */
  public static String run(String... cmd) {
    Result r = exec(30, cmd);
    if (r.code() != 0) {
      throw new AssertionError("failed (" + r.code() + "): " + String.join(" ", cmd) + "\n" + r.out() + r.err());
    }
    return r.out();
  }

  public static String run(List<String> cmd) {
    return run(cmd.toArray(String[]::new));
  }

  private static String read(java.io.InputStream in) {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  private static void startDaemon(Runnable r) {
    Thread t = new Thread(r, "sh-reader");
    t.setDaemon(true);
    t.start();
  }
}
