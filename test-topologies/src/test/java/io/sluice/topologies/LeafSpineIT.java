package io.sluice.topologies;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.profile.ProfileChoice;
import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The Mininet leaf-spine fabric users run (test-topologies/mininet/leafspine.py): 2 spines, 3 leaves, 2 hosts per
 * leaf, OpenFlow 1.3-only switches with only openflow13-generic's tables, under a real Sluice given that profile for
 * every switch. LLDP finds all 6 links, pingall loses nothing, and with a spine link taken down during a ping at 10 ms
 * intervals traffic recovers; the loss is printed as BENCH lines.
 */
class LeafSpineIT {
  @Test
  void leafSpineFabricPingsAllAndSurvivesASpineLinkFailure() throws Exception {
    Path script = Path.of("mininet/leafspine.py").toAbsolutePath();
    assertThat(script).exists();
    long first = 0x7200;
    List<String> profiles = new ArrayList<>();
    for (int s = 0; s < 2; s++) {
      profiles.add(String.format("0x%x=openflow13-generic", first + s));
    }
    for (int l = 0; l < 3; l++) {
      profiles.add(String.format("0x%x=openflow13-generic", first + 0x10 + l));
    }
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2).withProfiles(ProfileChoice.parse(profiles, null));
    try (SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String prefix = "f" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100, 0xfff));
      String url = "http://127.0.0.1:" + rt.httpPort();
      List<String> cmd = List.of("/usr/bin/python3", script.toString(),
          "--controller", "127.0.0.1:" + rt.openflowPort(), "--spines", "2", "--leaves", "3", "--hosts-per-leaf", "2",
          "--prefix", prefix, "--first-dpid", "0x" + Long.toHexString(first), "--table-limits", "1024,2048,8192",
          "--wait-links", url, "--wait-realized", url, "--pingall", "--link-down-during-ping");
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getOutputStream().close();
      boolean done = p.waitFor(240, TimeUnit.SECONDS);
      if (!done) {
        p.destroy();
        p.waitFor(30, TimeUnit.SECONDS);
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      System.out.println(out);
      assertThat(done).as("leafspine.py finished within 240 s").isTrue();
      assertThat(p.exitValue()).as("leafspine.py exit status; output:\n%s", out).isZero();
      assertThat(out).contains("links: 6 discovered").contains("0% dropped").contains("BENCH leafspine.link_down_loss_ms");
    }
  }
}
