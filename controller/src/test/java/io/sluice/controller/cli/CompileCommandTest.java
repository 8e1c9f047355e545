package io.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CompileCommandTest {
  @TempDir
  Path dir;

  @Test
  void printsTheDesiredFlowsOfTheVirtualSwitchInOfctlSyntax() throws Exception {
    Files.writeString(dir.resolve("all.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: shop}", "---",
        "apiVersion: v1", "kind: Pod", "metadata: {name: web, namespace: shop, labels: {app: web}}",
        "spec: {containers: [{name: c, image: x}]}", "status: {podIP: 10.0.0.1}", "---",
        "apiVersion: v1", "kind: Pod", "metadata: {name: db, namespace: shop, labels: {app: db}}",
        "spec: {containers: [{name: c, image: x, ports: [{name: pg, containerPort: 5432}]}]}", "status: {podIP: 10.0.0.2}", "---",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: db, namespace: shop}",
        "spec: {podSelector: {matchLabels: {app: db}}, ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: pg}]}]}",
        ""));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = new CommandLine(new SluiceCli());
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute("compile", "--manifests", dir.toString());
    assertThat(code).as(err.toString()).isZero();
    assertThat(out.toString())
        .startsWith("# switch 00:00:00:00:00:00:00:00")
        // db sits on virtual port 1 (shop/db sorts before shop/web): its pg port pairs with its address
        .contains("table=40, priority=200,tcp,nw_dst=10.0.0.2,tp_dst=5432 actions=conjunction(")
        .contains("table=40, priority=200,ip,nw_src=10.0.0.1 actions=conjunction(")
        .contains("table=40, priority=100,ip,nw_dst=10.0.0.2 actions=meter:23554,CONTROLLER:128")
        .contains("table=30, priority=300,ip,in_port=1,nw_dst=10.0.0.2 actions=goto_table:50");
  }

  @Test
  void legacyIsolationCompilesTheV16ExampleWithTheAnnotationsDefaultDrop() throws Exception {
    try (var files = Files.list(Path.of("..", "examples", "legacy-v1.6"))) {
      for (Path f : files.toList()) {
        Files.copy(f, dir.resolve(f.getFileName()));
      }
    }
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = new CommandLine(new SluiceCli());
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    assertThat(cl.execute("compile", "--manifests", dir.toString(), "--legacy-isolation")).as(err.toString()).isZero();
    assertThat(err.toString()).contains("Deprecated: extensions/v1beta1 NetworkPolicy");
    assertThat(out.toString())
        .contains("table=40, priority=200,ip,nw_dst=10.16.0.2 actions=conjunction(")
        .contains("table=40, priority=200,ip,nw_src=10.16.0.3 actions=conjunction(")
        .contains("table=40, priority=200,ip,nw_src=10.16.1.2 actions=conjunction(")
        .contains("table=40, priority=200,tcp,tp_dst=6379 actions=conjunction(")
        .contains("table=40, priority=100,ip,nw_dst=10.16.0.2 actions=meter:23554,CONTROLLER:128")
        .contains("table=40, priority=100,ip,nw_dst=10.16.0.4 actions=meter:23554,CONTROLLER:128")
        .doesNotContain("nw_dst=10.16.1.2 actions=meter");
    // Without the flag the policy is refused and nothing is isolated.
    StringWriter plain = new StringWriter();
    cl.setOut(new PrintWriter(plain));
    assertThat(cl.execute("compile", "--manifests", dir.toString())).isZero();
    assertThat(plain.toString()).doesNotContain("table=40, priority=100,");
  }

  @Test
  void aClientIpServicePrintsItsLearnAsOvsDoes() throws Exception {
    Files.writeString(dir.resolve("all.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: shop}", "---",
        "apiVersion: v1", "kind: Pod", "metadata: {name: web, namespace: shop, labels: {app: web}}",
        "spec: {containers: [{name: c, image: x}]}", "status: {podIP: 10.0.0.1}", "---",
        "apiVersion: v1", "kind: Service", "metadata: {name: web, namespace: shop}",
        "spec: {clusterIP: 10.96.0.10, selector: {app: web}, ports: [{port: 80, targetPort: 8080}],",
        "  sessionAffinity: ClientIP, sessionAffinityConfig: {clientIP: {timeoutSeconds: 30}}}", ""));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = new CommandLine(new SluiceCli());
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute("compile", "--manifests", dir.toString());
    assertThat(code).as(err.toString()).isZero();
    assertThat(out.toString())
        .contains("table=11, priority=200,ct_state=+new+trk,tcp,nw_dst=10.96.0.10,tp_dst=80 actions=resubmit(,14),goto_table:15")
        .contains("table=15, priority=200,tcp,reg0=0xa000001,reg4=0x11f90/0x1ffff,nw_dst=10.96.0.10,tp_dst=80 actions="
            + "learn(table=14,idle_timeout=30,priority=200,cookie=0x5c04")
        .contains(",eth_type=0x800,nw_proto=6,NXM_OF_IP_SRC[],NXM_OF_IP_DST[],NXM_OF_TCP_DST[],"
            + "load:0xa000001->NXM_NX_REG0[],load:0x11f90->NXM_NX_REG4[0..16]),ct(commit,table=12,");
  }

  @Test
  void aMissingDirectoryIsAUsageError() {
    StringWriter err = new StringWriter();
    CommandLine cl = new CommandLine(new SluiceCli());
    cl.setErr(new PrintWriter(err));
    assertThat(cl.execute("compile", "--manifests", dir.resolve("nope").toString())).isEqualTo(2);
    assertThat(err.toString()).contains("--manifests").contains("not a directory");
  }

  @Test
  void podsOfANodeWithAnAttachmentAreCompiledBehindItsPort() throws Exception {
    Files.writeString(dir.resolve("all.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: tor}", "---",
        "apiVersion: v1", "kind: Node", "metadata: {name: rack-1, annotations: {sluice.io/attachment: '0x7e93/3'}}",
        "status: {addresses: [{type: InternalIP, address: 10.73.0.100}]}", "---",
        "apiVersion: v1", "kind: Pod", "metadata: {name: a, namespace: tor, labels: {app: a}}",
        "spec: {nodeName: rack-1, containers: [{name: c, image: x}]}", "status: {podIP: 10.73.0.11}", "---",
        "apiVersion: v1", "kind: Pod", "metadata: {name: b, namespace: tor, labels: {app: b}}",
        "spec: {nodeName: rack-1, containers: [{name: c, image: x}]}", "status: {podIP: 10.73.0.12}", "---",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: b, namespace: tor}",
        "spec: {podSelector: {matchLabels: {app: b}}, policyTypes: [Egress]}", ""));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = new CommandLine(new SluiceCli());
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    assertThat(cl.execute("compile", "--manifests", dir.toString(), "--switch", "0x7e93")).as(err.toString()).isZero();
    // b's egress isolation on the node's port, told from a's traffic by its address
    assertThat(out.toString())
        .contains("table=30, priority=100,ip,in_port=3,nw_src=10.73.0.12 actions=meter:23554,CONTROLLER:128")
        .doesNotContain("in_port=3 actions=meter");
  }
}
