package io.sluice.topologies;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Services test topology (test-topologies/README.md, "The Services topology") with 1 and 3 bridges, run by the
 * harness users run: each bridge a node with its host network (sluice-role=node) and Node manifest, an external host
 * behind an uplink port, a gateway no port owns. Every pod, node and the external host reach each other (the
 * scenario's expected.txt), and every client reaches every endpoint of each Service, ClusterIP and externalIP, with no
 * connection failing (its services.txt). {@code services-three-nodes} joins its three bridges by veth links (a new
 * datapath pass per node, as with a vswitchd per node) and also checks NodePorts across nodes, who each endpoint saw
 * the connection come from (the translating node's address under externalTrafficPolicy Cluster, the client's under
 * Local) and that a Local NodePort on a node without endpoints drops every connection. Nothing of the run is left
 * behind.
 */
class ServiceTopologyIT {

  static final long TIMEOUT_S = 300;

  @BeforeAll
  static void openVSwitchRuns() throws Exception {
    // Starts ovsdb-server and ovs-vswitchd only when they do not answer; a running Open vSwitch is left as it is.
    Path start = MatrixScript.MODULE.getParent().resolve("deploy/ovs-start.sh");
    Process p = new ProcessBuilder(start.toString()).redirectErrorStream(true).start();
    p.getOutputStream().close();
    boolean done = p.waitFor(60, TimeUnit.SECONDS);
    if (!done) {
      p.destroyForcibly();
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(done && p.exitValue() == 0).as("deploy/ovs-start.sh: %s", out).isTrue();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"services-one-bridge", "services-three-bridges", "services-three-nodes"})
  void everyClientReachesEveryEndpointAndNothingIsLeft(String scenario) throws Exception {
    assertThat(MatrixScript.SLUICE).exists();
    String prefix = "sv" + String.format("%04x", ThreadLocalRandom.current().nextInt(0x10000));

    MatrixScript.Result r = MatrixScript.run(scenario, TIMEOUT_S, "--prefix", prefix);

    assertThat(r.finished()).as("matrix.py %s finished within %d s; output:\n%s", scenario, TIMEOUT_S, r.output())
        .isTrue();
    assertThat(r.exitStatus()).as("matrix.py %s exit status (0 = matrix and Services OK, 1 = mismatch, "
        + "2 = setup); output:\n%s", scenario, r.output()).isZero();
    assertThat(r.output()).contains("initial: matrix OK").contains("initial: services OK")
        .contains("Cleaned up: bridges, namespaces, veths and processes of run " + prefix);
    assertThat(leftovers(prefix)).as("bridges, namespaces and interfaces of run %s after it ended", prefix).isEmpty();
  }

  /** Bridges, network namespaces and interfaces whose names start with the run's prefix. */
  static List<String> leftovers(String prefix) throws IOException, InterruptedException {
    List<String> found = new ArrayList<>();
    Process p = new ProcessBuilder("ovs-vsctl", "--timeout=10", "list-br").redirectErrorStream(true).start();
    p.getOutputStream().close();
    String bridges = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(20, TimeUnit.SECONDS) && p.exitValue() == 0).as("ovs-vsctl list-br: %s", bridges).isTrue();
    bridges.lines().filter(b -> b.startsWith(prefix + "-")).map(b -> "bridge " + b).forEach(found::add);
    for (String dir : List.of("/run/netns", "/sys/class/net")) {
      Path d = Path.of(dir);
      if (!Files.isDirectory(d)) {
        continue;
      }
      try (Stream<Path> names = Files.list(d)) {
        names.map(n -> n.getFileName().toString()).filter(n -> n.startsWith(prefix + "-"))
            .map(n -> dir + "/" + n).forEach(found::add);
      }
    }
    return found;
  }
}
