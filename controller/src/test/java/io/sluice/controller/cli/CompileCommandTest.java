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
        .contains("table=40, priority=100,ip,nw_dst=10.0.0.2 actions=drop")
        .contains("table=30, priority=300,ip,in_port=1,nw_dst=10.0.0.2 actions=goto_table:50");
  }

  @Test
  void aMissingDirectoryIsAUsageError() {
    StringWriter err = new StringWriter();
    CommandLine cl = new CommandLine(new SluiceCli());
    cl.setErr(new PrintWriter(err));
    assertThat(cl.execute("compile", "--manifests", dir.resolve("nope").toString())).isEqualTo(2);
    assertThat(err.toString()).contains("--manifests").contains("not a directory");
  }
}
