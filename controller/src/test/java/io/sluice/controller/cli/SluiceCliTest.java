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
  void addressesAndDurationsAreReadOrRejectedByName() {
    assertThat(RunCommand.address("[::1]:6653", "--listen").getPort()).isEqualTo(6653);
    assertThat(RunCommand.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(RunCommand.parseDuration("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThatThrownBy(() -> RunCommand.address("localhost", "--http")).hasMessageContaining("--http").hasMessageContaining("HOST:PORT");
    assertThatThrownBy(() -> RunCommand.parseDuration("soon")).hasMessageContaining("--echo-interval");
  }
}
