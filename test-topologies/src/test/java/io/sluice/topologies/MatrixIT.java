package io.sluice.topologies;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The connectivity-matrix harness users run (test-topologies/matrix/matrix.py) on the repository's ./sluice:
 * each scenario's observed matrix equals its expected.txt.
 *
 * <p>The scenarios run by default are {@link #DEFAULT_SCENARIOS} (every scenario, NetworkPolicy ones included).
 * A subset: {@code mvn verify -pl test-topologies -Dsluice.matrix.scenarios=policy-deny-all-ingress,...}
 * or {@code -Dsluice.matrix.scenarios=all} (every directory under matrix/scenarios).
 */
class MatrixIT {

  /** The one place that lists what `make test` runs. Add a scenario here when the build must keep it green. */
  static final List<String> DEFAULT_SCENARIOS = List.of("no-policy-one-bridge", "no-policy-two-bridges",
      "policy-allow-same-namespace", "policy-change-mid-test", "policy-deny-all-ingress", "policy-egress-deny",
      "policy-ipblock-except", "policy-named-ports", "policy-namespace-selector", "policy-pod-and-namespace-selector",
      "policy-node-traffic", "policy-port-range", "policy-sctp", "policy-udp");

  static final long TIMEOUT_S = 300;

  static Stream<String> scenarios() throws IOException {
    String prop = System.getProperty("sluice.matrix.scenarios", "").trim();
    if (prop.isEmpty()) {
      return DEFAULT_SCENARIOS.stream();
    }
    if (prop.equals("all")) {
      try (Stream<Path> dirs = Files.list(MatrixScript.SCENARIOS)) {
        return dirs.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList().stream();
      }
    }
    return Arrays.stream(prop.split(",")).map(String::trim).filter(s -> !s.isEmpty());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("scenarios")
  void observedMatrixEqualsExpected(String scenario) throws Exception {
    assertThat(MatrixScript.SCRIPT).exists();
    assertThat(MatrixScript.SCENARIOS.resolve(scenario).resolve("topology.json")).as("scenario %s", scenario).exists();
    assertThat(MatrixScript.SLUICE).exists();

    MatrixScript.Result r = MatrixScript.run(scenario, TIMEOUT_S);
    assertThat(r.finished()).as("matrix.py %s finished within %d s; output:\n%s", scenario, TIMEOUT_S, r.output())
        .isTrue();
    assertThat(r.exitStatus()).as("matrix.py %s exit status (0 = matrix OK, 1 = mismatch, 2 = setup); output:\n%s",
        scenario, r.output()).isZero();
    assertThat(r.output()).contains("matrix OK").contains("Cleaned up");
  }

  /** The hardware profiles every scenario also runs on (the stateless pipeline on OpenFlow 1.3-only bridges). */
  static final List<String> HARDWARE_PROFILES = List.of("openflow13-generic", "openflow13-single-table");

  static Stream<org.junit.jupiter.params.provider.Arguments> scenariosOnHardwareProfiles() throws IOException {
    String prop = System.getProperty("sluice.matrix.profiles", "").trim();
    List<String> profiles = prop.isEmpty() ? HARDWARE_PROFILES : Arrays.stream(prop.split(",")).map(String::trim).toList();
    return scenarios().flatMap(s -> profiles.stream().map(p -> org.junit.jupiter.params.provider.Arguments.of(s, p)));
  }

  /**
   * The same scenarios with every bridge given a hardware profile: the stateless pipeline (docs/pipeline.md,
   * "Stateless NetworkPolicy") gives the same matrix, since every probe is a connection's first packet and its
   * replies, which the stateless semantics judge as upstream does.
   */
  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("scenariosOnHardwareProfiles")
  void observedMatrixEqualsExpectedOnHardwareProfiles(String scenario, String profile) throws Exception {
    assertThat(MatrixScript.SLUICE).exists();
    MatrixScript.Result r = MatrixScript.run(scenario, TIMEOUT_S, "--profile", profile);
    assertThat(r.finished()).as("matrix.py %s --profile %s finished within %d s; output:\n%s", scenario, profile,
        TIMEOUT_S, r.output()).isTrue();
    assertThat(r.exitStatus()).as("matrix.py %s --profile %s exit status; output:\n%s", scenario, profile, r.output())
        .isZero();
    assertThat(r.output()).contains("matrix OK").contains("Cleaned up");
  }
}
