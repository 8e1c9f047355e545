package io.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sluice test}: expectations and Cyclonus matrices against the demo's manifests, exit codes, JUnit XML. */
class TestCommandTest {
  private static final Path DEMO = Path.of("..", "examples", "demo");
  private static final Path EXAMPLE = Path.of("..", "examples", "policy-tests", "demo.yaml");

  @TempDir
  Path dir;

  @Test
  void theShippedExampleHoldsForTheDemoAndWritesAJUnitReport() throws Exception {
    Path report = dir.resolve("report.xml");
    CliRun r = CliRun.run("test", "--manifests", DEMO.toString(), "--junit", report.toString(), EXAMPLE.toString());
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    // 3 single expectations and the matrix's 12 checked cells
    assertThat(r.out()).contains("15 expectations, 15 passed, 0 failed");
    String xml = Files.readString(report);
    assertThat(xml).contains("<testsuite name=\"sluice-policy-tests\" tests=\"15\" failures=\"0\"")
        .contains("name=\"the web tier never reaches the database\"").doesNotContain("<failure");
  }

  @Test
  void aWrongExpectationFailsWithExitCode1AndIsReported() throws Exception {
    Path f = dir.resolve("wrong.yaml");
    Files.writeString(f, """
        tests:
          - from: frontend/web-1
            to: backend/db-1
            port: 8080
            expect: allowed
          - port: 8080/tcp
            matrix: |
              | TCP/8080      | backend/db-1 | frontend/web-2 |
              | backend/api-1 | X            | .              |
        """);
    Path report = dir.resolve("r.xml");
    CliRun r = CliRun.run("test", "--manifests", DEMO.toString(), "--junit", report.toString(), f.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.out()).contains("FAIL").contains("frontend/web-1 -> backend/db-1 8080: expected allowed")
        .contains("backend/api-1 -> backend/db-1 8080/tcp: expected denied")
        .contains("3 expectations, 1 passed, 2 failed");
    assertThat(Files.readString(report)).contains("failures=\"2\"").contains("<failure message=\"expected allowed\">");
  }

  @Test
  void badFilesAreUsageErrorsNamingTheFileAndTheEntry() throws Exception {
    Path f = dir.resolve("bad.yaml");
    Files.writeString(f, "tests:\n  - from: frontend/web-1\n    to: backend/db-1\n    port: 8080\n    expect: maybe\n");
    CliRun r = CliRun.run("test", "--manifests", DEMO.toString(), f.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("bad.yaml: tests[0]").contains("expect: allowed or denied, got maybe");

    Files.writeString(f, "tests:\n  - port: 80\n    matrix: |\n      | TCP/80 | backend/db-1 |\n      | backend/api-1 | ? |\n");
    r = CliRun.run("test", "--manifests", DEMO.toString(), f.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("cell backend/api-1 -> backend/db-1 is \"?\"");

    Files.writeString(f, "nothing: here\n");
    r = CliRun.run("test", "--manifests", DEMO.toString(), f.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("expected a list under \"tests:\"");
  }
}
