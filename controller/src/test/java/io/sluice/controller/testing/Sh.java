package io.sluice.controller.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a command with a timeout; fails loudly with its stderr. */
public final class Sh {
  private Sh() { }

  public record Result(int code, String out, String err) { }

  public static Result exec(long timeoutSeconds, String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
      p.getOutputStream().close();
      // read both streams fully (small outputs) after exit or timeout
      java.util.concurrent.CompletableFuture<String> out = java.util.concurrent.CompletableFuture.supplyAsync(() -> slurp(p.getInputStream()));
      java.util.concurrent.CompletableFuture<String> err = java.util.concurrent.CompletableFuture.supplyAsync(() -> slurp(p.getErrorStream()));
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("timed out after " + timeoutSeconds + " s: " + String.join(" ", cmd));
      }
      return new Result(p.exitValue(), out.join(), err.join());
    } catch (IOException e) {
      throw new AssertionError("cannot run " + cmd[0] + " (" + e.getMessage() + "): install it with deploy/install-deps.sh (make test does)", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static String slurp(java.io.InputStream in) {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  /** Runs and returns stdout; a non-zero exit fails the test with stderr. */
  public static String run(String... cmd) {
    Result r = exec(60, cmd);
    if (r.code() != 0) {
      throw new AssertionError("'" + String.join(" ", cmd) + "' exited " + r.code() + ": " + r.err() + r.out());
    }
    return r.out();
  }

  /** Runs and ignores failure (cleanup). */
  public static void quiet(String... cmd) {
    try {
      exec(30, cmd);
    } catch (AssertionError ignored) {
      // best effort
    }
  }

  public static String[] cmd(List<String> parts) {
    return parts.toArray(String[]::new);
  }
}
