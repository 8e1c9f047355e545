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
    for (String flag : new String[] {"--listen", "--http", "--echo-interval", "--role", "--role-generation-id", "--workers",
        "--kubeconfig", "--in-cluster", "--manifests", "--leader-elect", "--lease-duration", "--shards",
        "--max-switches", "--max-switches-per-address", "--write-stall-timeout", "--reply-max-bytes", "--reply-timeout",
        "--max-manifest-bytes", "--ovsdb-max-message-bytes", "--ovsdb-nodes", "--ovsdb-max-peers", "--private-key", "--certificate", "--ca-cert", "--switches", "pssl:PORT[:HOST]",
        "ssl:HOST:PORT", "--metrics-per-rule"}) {
      assertThat(help).contains(flag);
    }
    assertThat(help).contains("0.0.0.0:6653").contains("127.0.0.1:8181");
  }

  @Test
  void theReadmeFlagTableHasEveryRunFlag() throws Exception {
    String readme = java.nio.file.Files.readString(java.nio.file.Path.of("..", "README.md"));
    for (String flag : SluiceCliAccess.runFlags()) {
      if (!java.util.Set.of("-h", "--help", "-V", "--version").contains(flag)) {
        assertThat(readme).as("README.md's flag table lists %s", flag).containsPattern(
            "(?m)^\\| (?:\\\\\\||[^|\\n])*`" + flag + "[ `]"); // in the first column (\\| is a | in it)
      }
    }
  }

  @Test
  void aMalformedTargetStopsStartUpWithExitCode2AndAMessage() {
    for (String[] args : new String[][] {{"--ovsdb", "ssl:127.0.0.1"}, {"--ovsdb", "127.0.0.1:6640"},
        {"--ovsdb-listen", "tcp:127.0.0.1:6640"}, {"--listen", "6653"}, {"--listen", "tcp:127.0.0.1:6653"},
        {"--listen", "pssl:x"}, {"--ovsdb-listen", "pssl:70000"}, {"--echo-interval", "soon"},
        {"--max-switches", "0"}, {"--max-switches-per-address", "-1"}, {"--workers", "0"}, {"--write-stall-timeout", "soon"},
        {"--reply-max-bytes", "1000"}, {"--reply-timeout", "0s"}, {"--max-manifest-bytes", "0"},
        {"--ovsdb-max-message-bytes", "1000"}, {"--ovsdb-nodes", "/nonexistent/nodes.txt"},
        {"--ovsdb-max-peers", "0"}, {"--lldp-interval", "soon"}, {"--host-timeout", "soon"}}) {
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

  /** Runs {@code sluice run} on loopback ports with {@code args}; returns {exit code, standard error}. */
  private static Object[] runAndFail(String... args) {
    StringWriter err = new StringWriter();
    CommandLine cl = new CommandLine(new SluiceCli());
    cl.setErr(new PrintWriter(err));
    java.util.List<String> all = new java.util.ArrayList<>(java.util.List.of("run", "--http", "127.0.0.1:0"));
    if (!java.util.List.of(args).contains("--listen")) {
      all.addAll(java.util.List.of("--listen", "127.0.0.1:0"));
    }
    all.addAll(java.util.List.of(args));
    return new Object[] {cl.execute(all.toArray(String[]::new)), err.toString()};
  }

  @Test
  void aTlsTargetWithoutKeyCertificateAndCaStopsStartUpNamingTheMissingFlags(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    String[][] cases = {
        {"--ovsdb", "ssl:127.0.0.1:6640"},
        {"--ovsdb-listen", "pssl:0:127.0.0.1"},
        {"--listen", "pssl:0:127.0.0.1"},
    };
    for (String[] c : cases) {
      Object[] r = runAndFail(c);
      assertThat(r[0]).as("exit code for %s %s", c[0], c[1]).isEqualTo(2);
      assertThat((String) r[1]).as("message for %s %s", c[0], c[1]).startsWith("sluice run: ").contains(c[0])
          .contains(c[1]).contains("--private-key").contains("--certificate").contains("--ca-cert");
    }
    java.nio.file.Path junk = java.nio.file.Files.writeString(dir.resolve("junk.pem"), "not a certificate\n");
    String[][] partial = {
        {"--private-key", junk.toString()},
        {"--private-key", junk.toString(), "--ca-cert", junk.toString()},
        {"--ca-cert", junk.toString(), "--certificate", junk.toString()},
        {"--private-key", dir.resolve("missing.pem").toString(), "--certificate", junk.toString(), "--ca-cert",
            junk.toString()},
        {"--private-key", junk.toString(), "--certificate", junk.toString(), "--ca-cert", junk.toString()},
        {"--switches", dir.resolve("missing.txt").toString()},
    };
    String[] expected = {"--certificate and --ca-cert: TLS needs", "--certificate: TLS needs", "--private-key: TLS needs",
        "--private-key: " + dir.resolve("missing.pem") + " does not exist", "--private-key: " + junk
        + " holds no PEM private key", "--switches: " + dir.resolve("missing.txt") + " cannot be read"};
    for (int i = 0; i < partial.length; i++) {
      Object[] r = runAndFail(partial[i]);
      assertThat(r[0]).as("exit code for %s", java.util.List.of(partial[i])).isEqualTo(2);
      assertThat((String) r[1]).as("message for %s", java.util.List.of(partial[i])).startsWith("sluice run: ")
          .contains(expected[i]);
    }
    java.nio.file.Path list = java.nio.file.Files.writeString(dir.resolve("switches"), "0xd0d1\nnot-a-dpid name\n");
    Object[] r = runAndFail("--switches", list.toString());
    assertThat(r[0]).isEqualTo(2);
    assertThat((String) r[1]).contains("--switches: " + list + " line 2: 'not-a-dpid' is not a datapath id");
    java.nio.file.Path named = java.nio.file.Files.writeString(dir.resolve("named"), "0xd0d1 sw id:x\n");
    r = runAndFail("--switches", named.toString());
    assertThat(r[0]).as("certificate names with a plain listener").isEqualTo(2);
    assertThat((String) r[1]).contains("--switches " + named + " names certificates, but --listen 127.0.0.1:0 is not TLS");

    java.nio.file.Path nodes = java.nio.file.Files.writeString(dir.resolve("nodes"), "node-1\n# c\nnode-1 sw id:x\n");
    r = runAndFail("--ovsdb", "tcp:127.0.0.1:6640", "--ovsdb-nodes", nodes.toString());
    assertThat(r[0]).isEqualTo(2);
    assertThat((String) r[1]).contains("--ovsdb-nodes: " + nodes + " line 3: system-id node-1 is listed twice");
    java.nio.file.Path namedNodes = java.nio.file.Files.writeString(dir.resolve("named-nodes"),
        "node-1\nnode-2 sw id:x  # only over TLS\n");
    r = runAndFail("--ovsdb", "tcp:127.0.0.1:6640", "--ovsdb", "unix:/nonexistent/db.sock", "--ovsdb-listen",
        "ptcp:0:127.0.0.1", "--ovsdb-nodes", namedNodes.toString());
    assertThat(r[0]).as("certificate names with plain OVSDB targets only").isEqualTo(2);
    assertThat((String) r[1]).contains("--ovsdb-nodes " + namedNodes + " names certificates, but no OVSDB target is "
        + "TLS (--ovsdb tcp:127.0.0.1:6640, --ovsdb unix:/nonexistent/db.sock, --ovsdb-listen ptcp:0:127.0.0.1)");
  }

  @Test
  void listenTakesHostPortAndOvsPassiveTargets() {
    assertThat(RunCommand.listenAddress("127.0.0.1:6653"))
        .isEqualTo(new RunCommand.Listen(new java.net.InetSocketAddress("127.0.0.1", 6653), false));
    assertThat(RunCommand.listenAddress("ptcp:6653"))
        .isEqualTo(new RunCommand.Listen(new java.net.InetSocketAddress("0.0.0.0", 6653), false));
    assertThat(RunCommand.listenAddress("pssl:6653"))
        .isEqualTo(new RunCommand.Listen(new java.net.InetSocketAddress("0.0.0.0", 6653), true));
    assertThat(RunCommand.listenAddress("pssl:6653:127.0.0.1"))
        .isEqualTo(new RunCommand.Listen(new java.net.InetSocketAddress("127.0.0.1", 6653), true));
    assertThat(RunCommand.listenAddress("pssl:6653:[::1]"))
        .isEqualTo(new RunCommand.Listen(new java.net.InetSocketAddress("::1", 6653), true));
    assertThatThrownBy(() -> RunCommand.listenAddress("ssl:127.0.0.1:6653")).hasMessageContaining("pssl:PORT[:HOST]");
    assertThatThrownBy(() -> RunCommand.listenAddress("pssl:")).hasMessageContaining("--listen");
  }

  @Test
  void kubernetesFlagsAreCheckedBeforeAnythingStarts(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    java.nio.file.Path kubeconfig = java.nio.file.Files.writeString(dir.resolve("kubeconfig"), "apiVersion: v1\n");
    String[][] cases = {
        {"--kubeconfig", kubeconfig.toString(), "--manifests", dir.toString()},
        {"--in-cluster", "--manifests", dir.toString()},
        {"--in-cluster", "--kubeconfig", kubeconfig.toString()},
        {"--kubeconfig", dir.resolve("missing").toString()},
    };
    String[] expected = {"--kubeconfig and --manifests are exclusive", "--in-cluster and --manifests are exclusive",
        "--kubeconfig and --in-cluster are exclusive", "--kubeconfig: " + dir.resolve("missing") + " does not exist"};
    for (int i = 0; i < cases.length; i++) {
      StringWriter err = new StringWriter();
      CommandLine cl = new CommandLine(new SluiceCli());
      cl.setErr(new PrintWriter(err));
      java.util.List<String> all = new java.util.ArrayList<>(java.util.List.of("run", "--http", "127.0.0.1:0",
          "--listen", "127.0.0.1:0"));
      all.addAll(java.util.List.of(cases[i]));
      assertThat(cl.execute(all.toArray(String[]::new))).as("exit code for %s", all).isEqualTo(2);
      assertThat(err.toString()).as("message for %s", all).startsWith("sluice run: ").contains(expected[i]);
    }
    // --in-cluster outside a pod: refused at start with what to do instead
    if (System.getenv("KUBERNETES_SERVICE_HOST") == null) {
      StringWriter err = new StringWriter();
      CommandLine cl = new CommandLine(new SluiceCli());
      cl.setErr(new PrintWriter(err));
      assertThat(cl.execute("run", "--http", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--in-cluster")).isEqualTo(2);
      assertThat(err.toString()).contains("--in-cluster: not running in a Kubernetes pod").contains("--kubeconfig");
    }
  }

  @Test
  void addressesAndDurationsAreReadOrRejectedByName() {
    assertThat(RunCommand.address("[::1]:6653", "--listen").getPort()).isEqualTo(6653);
    assertThat(RunCommand.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(RunCommand.parseDuration("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(RunCommand.parseDuration("2m", "--reply-timeout")).isEqualTo(Duration.ofMinutes(2));
    assertThatThrownBy(() -> RunCommand.address("localhost", "--http")).hasMessageContaining("--http").hasMessageContaining("HOST:PORT");
    assertThatThrownBy(() -> RunCommand.parseDuration("soon")).hasMessageContaining("--echo-interval");
  }
}
