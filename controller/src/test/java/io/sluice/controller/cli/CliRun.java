package io.sluice.controller.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** Runs {@code sluice ARGS...} in this JVM, as the command line does, and keeps its exit code and both outputs. */
record CliRun(int code, String out, String err) {
  static CliRun run(String... args) {
    StringWriter o = new StringWriter();
    StringWriter e = new StringWriter();
    CommandLine cl = new CommandLine(new SluiceCli());
    cl.setOut(new PrintWriter(o));
    cl.setErr(new PrintWriter(e));
    int code = cl.execute(args);
    return new CliRun(code, o.toString(), e.toString());
  }
}
