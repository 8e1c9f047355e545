package io.sluice.topologies;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The Mininet tree users run (test-topologies/mininet/tree.py), under a real Sluice: pingall loses nothing. */
class TreeTopologyIT {

  @Test
  void depthTwoTreePingsAllWithoutLoss() throws Exception {
    Path script = Path.of("mininet/tree.py").toAbsolutePath();
    assertThat(script).exists();
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2);
    try (SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String prefix = "m" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100, 0xfff));
      List<String> cmd = List.of("/usr/bin/python3", script.toString(),
          "--controller", "127.0.0.1:" + rt.openflowPort(),
          "--depth", "2", "--fanout", "2", "--prefix", prefix, "--first-dpid", "0x7100",
          "--wait-realized", "http://127.0.0.1:" + rt.httpPort(), "--pingall");
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getOutputStream().close();
      String out;
      boolean done = p.waitFor(180, TimeUnit.SECONDS);
      out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!done) {
        p.destroy();
        p.waitFor(20, TimeUnit.SECONDS);
      }
      System.out.println(out);
      assertThat(done).as("tree.py finished within 180 s").isTrue();
      assertThat(p.exitValue()).as("tree.py exit status; output:\n%s", out).isZero();
      assertThat(out).contains("0% dropped");
      assertThat(rt.switches().statuses()).filteredOn(s -> s.datapathId().startsWith("00:00:00:00:00:00:71"))
          .hasSize(3);
    }
  }

  static String read(Path p) throws IOException {
    return Files.readString(p);
  }
}
