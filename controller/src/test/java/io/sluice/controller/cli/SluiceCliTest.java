package io.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class SluiceCliTest {
  private static String run(String... args) {
    StringWriter out = new StringWriter();
    CommandLine cl = new CommandLine(new SluiceCli());
    cl.setOut(new PrintWriter(out));
    cl.execute(args);
    return out.toString();
  }

  @Test
  void helpListsTheSubcommands() {
    assertThat(run("--help")).contains("run").contains("help");
  }

  @Test
  void runHelpDocumentsEveryFlag() {
    String help = run("run", "--help");
    for (String flag : new String[] {"--listen", "--http", "--echo-interval", "--role", "--role-generation-id", "--workers"}) {
      assertThat(help).contains(flag);
    }
    assertThat(help).contains("0.0.0.0:6653").contains("127.0.0.1:8181");
  }

  @Test
  void aMalformedTargetStopsStartUpWithExitCode2AndAMessage() {
    for (String[] args : new String[][] {{"--ovsdb", "ssl:127.0.0.1:6640"}, {"--ovsdb", "127.0.0.1:6640"},
        {"--ovsdb-listen", "tcp:127.0.0.1:6640"}, {"--listen", "6653"}, {"--echo-interval", "soon"}}) {
      StringWriter err = new StringWriter();
      CommandLine cl = new CommandLine(new SluiceCli());
      cl.setErr(new PrintWriter(err));
      String[] all = args[0].equals("--listen") ? new String[] {"run", "--http", "127.0.0.1:0", args[0], args[1]}
          : new String[] {"run", "--http", "127.0.0.1:0", "--listen", "127.0.0.1:0", args[0], args[1]};
      assertThat(cl.execute(all)).as("exit code for %s %s", args[0], args[1]).isEqualTo(2);
      assertThat(err.toString()).as("message for %s %s", args[0], args[1]).startsWith("sluice run: ")
          .contains(args[0]).contains(args[1]);
    }
  }

  @Test
  void addressesAndDurationsAreReadOrRejectedByName() {
    assertThat(RunCommand.address("[::1]:6653", "--listen").getPort()).isEqualTo(6653);
    assertThat(RunCommand.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(RunCommand.parseDuration("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThatThrownBy(() -> RunCommand.address("localhost", "--http")).hasMessageContaining("--http").hasMessageContaining("HOST:PORT");
    assertThatThrownBy(() -> RunCommand.parseDuration("soon")).hasMessageContaining("--echo-interval");
  }
}
