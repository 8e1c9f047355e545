package io.sluice.controller.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.Pki;
import io.sluice.controller.testing.Sh;
import io.sluice.controller.testing.SluiceProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sluice run} as an operator would start it on TLS, against the machine's real Open vSwitch: OpenFlow on
 * {@code --listen pssl:}, OVSDB dialled at {@code --ovsdb ssl:} (a pssl: remote added to the running ovsdb-server for
 * the test, which uses the SSL settings of {@code ovs-vsctl set-ssl}), and {@code --switches} naming one bridge and
 * its certificate, and (when the machine's ovsdb-server has a system-id) {@code --ovsdb-nodes} naming that system-id
 * and the same certificate. The listed bridge is realized over TLS and its pod port learned over TLS; an unlisted
 * bridge is refused. set-ssl and the remote are removed after.
 */
class SluiceTlsIT {
  private static final Duration WAIT = Duration.ofSeconds(60);

  private static void await(BooleanSupplier p, String what, SluiceProcess s) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!p.getAsBoolean()) {
      if (System.nanoTime() > deadline || !s.alive()) {
        throw new AssertionError("not within " + WAIT + ": " + what + "\n" + s.log());
      }
      Ovs.sleep(100);
    }
  }

  @Test
  void sluiceRunOnTlsRealizesTheListedBridgeLearnsItsPodOverOvsdbSslAndRefusesAnUnlistedOne(@TempDir Path dir)
      throws Exception {
    String before = Sh.run("ovs-vsctl", "get-ssl").trim();
    if (!before.isEmpty()) {
      throw new AssertionError("Open vSwitch already has an SSL configuration (someone else's?); not replacing it:\n"
          + before);
    }
    Pki pki = new Pki(Files.createDirectories(dir.resolve("pki")));
    Pki.Identity ctl = pki.sign("ctl", "controller");
    Pki.Identity sw = pki.sign("sw", "switch");
    long listed = 0x7161;
    long unlisted = 0x7162;
    Path switches = Files.writeString(dir.resolve("switches"),
        "# the one bridge this test admits\n" + String.format("0x%x %s%n", listed, sw.commonName()));
    // --ovsdb-nodes naming the server's own system-id with its certificate name (when it has a system-id)
    String systemId = Sh.run("ovs-vsctl", "--if-exists", "get", "open_vswitch", ".", "external_ids:system-id").trim()
        .replace("\"", "");
    java.util.List<String> nodes = new java.util.ArrayList<>();
    if (!systemId.isEmpty()) {
      nodes.add("--ovsdb-nodes");
      nodes.add(Files.writeString(dir.resolve("nodes"), "# this machine's ovsdb-server, over TLS only\n" + systemId
          + " " + sw.commonName() + "\n").toString());
    }
    int ovsdbPort = SluiceProcess.freePort();
    String remote = "pssl:" + ovsdbPort + ":127.0.0.1";
    try (Ovs ovs = new Ovs()) {
      Sh.run("ovs-vsctl", "set-ssl", sw.privateKey().toString(), sw.certificate().toString(),
          pki.controllerCa().toString());
      Sh.run("ovs-appctl", "-t", "ovsdb-server", "ovsdb-server/add-remote", remote);
      java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("--private-key",
          ctl.privateKey().toString(), "--certificate", ctl.certificate().toString(), "--ca-cert",
          pki.switchCa().toString(), "--switches", switches.toString(), "--ovsdb", "ssl:127.0.0.1:" + ovsdbPort));
      args.addAll(nodes);
      try (SluiceProcess sluice = new SluiceProcess("tls", dir, true, args.toArray(String[]::new))) {
        String br = ovs.bridge("sl", listed, "OpenFlow13,OpenFlow14,OpenFlow15", 0);
        String other = ovs.bridge("su", unlisted, "OpenFlow13,OpenFlow14,OpenFlow15", 0);
        String pod = ovs.name("pp");
        Sh.run("ovs-vsctl", "add-port", br, pod, "--", "set", "interface", pod, "type=internal",
            "external_ids:pod-namespace=tls", "external_ids:pod-name=p1", "external_ids:attached-mac=02:00:00:00:71:61");
        for (String b : new String[] {br, other}) {
          Sh.run("ovs-vsctl", "set-controller", b, "ssl:127.0.0.1:" + sluice.openflowPort, "--",
              "set", "controller", b, "max_backoff=1000", "inactivity_probe=0");
        }
        String dpid = "00:00:00:00:00:00:71:61";
        await(() -> {
          JsonNode s = sluice.sw(dpid);
          return s != null && s.get("connected").asBoolean() && s.get("realizedGeneration").asLong() > 0;
        }, "the listed bridge connected and realized over TLS", sluice);
        assertThat(ovs.flows(br)).as("flows pushed over TLS").isNotEmpty();
        await(() -> {
          JsonNode ports = sluice.get("/api/v1/ports");
          if (ports == null) {
            return false;
          }
          for (JsonNode b : ports.get("bindings")) {
            if (b.get("pod").asText().equals("tls/p1") && b.get("datapathId").asText().equals(dpid)) {
              return true;
            }
          }
          return false;
        }, "pod tls/p1 learned over ovsdb ssl:", sluice);
        await(() -> sluice.log().contains("00:00:00:00:00:00:71:62 is not listed in --switches"),
            "the unlisted bridge refused", sluice);
        assertThat(sluice.sw("00:00:00:00:00:00:71:62")).as("the unlisted bridge's status").isNull();
        assertThat(ovs.flows(other)).isEmpty();
        assertThat(sluice.log()).as("no plain-listener warning: OpenFlow is TLS").doesNotContain("without TLS");
      } finally {
        Sh.quiet("ovs-appctl", "-t", "ovsdb-server", "ovsdb-server/remove-remote", remote);
        Sh.quiet("ovs-vsctl", "del-ssl");
      }
    }
  }
}
