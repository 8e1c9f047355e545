package io.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ExplainCommandTest {
  @TempDir
  Path dir;

  private String out;
  private String err;

  @BeforeEach
  void manifests() throws IOException {
    Files.writeString(dir.resolve("00-namespaces.yaml"), """
        apiVersion: v1
        kind: Namespace
        metadata: {name: frontend, labels: {team: web}}
        ---
        apiVersion: v1
        kind: Namespace
        metadata:
          name: backend
        """);
    Files.writeString(dir.resolve("10-pods.yaml"), """
        apiVersion: v1
        kind: Pod
        metadata: {name: web-1, namespace: frontend, labels: {app: web}}
        spec: {containers: [{name: web, image: nginx}]}
        status: {podIP: 10.0.1.5, podIPs: [{ip: 10.0.1.5}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: db-1, namespace: backend, labels: {app: db}}
        spec:
          containers:
          - name: db
            image: postgres
            ports: [{name: pg, containerPort: 5432}]
        status: {podIP: 10.0.2.7}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: pending, namespace: backend}
        spec: {containers: [{name: c, image: busybox}]}
        """);
    Files.writeString(dir.resolve("20-policies.yaml"), """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: db-allow, namespace: backend}
        spec:
          podSelector: {matchLabels: {app: db}}
          ingress:
          - from: [{namespaceSelector: {matchLabels: {team: web}}}]
            ports: [{port: pg}]
        """);
  }

  private int explain(String... args) {
    StringWriter o = new StringWriter();
    StringWriter e = new StringWriter();
    CommandLine cl = new CommandLine(new SluiceCli());
    cl.setOut(new PrintWriter(o));
    cl.setErr(new PrintWriter(e));
    List<String> all = new ArrayList<>(List.of("explain", "--manifests", dir.toString()));
    all.addAll(List.of(args));
    int code = cl.execute(all.toArray(String[]::new));
    out = o.toString();
    err = e.toString();
    return code;
  }

  @Test
  void allowedConnectionPrintsAllowedAndTheRuleThatAllowedIt() {
    assertThat(explain("--from", "frontend/web-1", "--to", "backend/db-1", "--port", "5432")).isZero();
    assertThat(out.lines().toList()).containsExactly(
        "ALLOWED",
        "egress of frontend/web-1: not isolated (no policy with Egress selects it)",
        "ingress of backend/db-1: isolated by backend/db-allow (rule 0 allows from frontend/web-1 on TCP 5432)");
    assertThat(err).isEmpty();
  }

  @Test
  void deniedConnectionExitsOneAndSaysNoRuleAllowed() {
    assertThat(explain("--from", "frontend/web-1", "--to", "backend/db-1", "--port", "5432/udp")).isEqualTo(1);
    assertThat(out.lines().toList()).containsExactly(
        "DENIED",
        "egress of frontend/web-1: not isolated (no policy with Egress selects it)",
        "ingress of backend/db-1: isolated by backend/db-allow (no rule allows from frontend/web-1 on UDP 5432)");
  }

  @Test
  void addressesAreAcceptedAndAPodsAddressMeansThePod() {
    assertThat(explain("--from", "203.0.113.9", "--to", "10.0.2.7", "--port", "5432/TCP")).isEqualTo(1);
    assertThat(out).contains("egress of 203.0.113.9: not isolated").contains("ingress of backend/db-1: isolated");
    assertThat(explain("--from", "10.0.1.5", "--to", "2001:db8::1", "--port", "443")).isEqualTo(2);
    assertThat(err).contains("--to 2001:db8::1");
  }

  @Test
  void legacyIsolationFlagHonoursTheNamespaceAnnotation() throws IOException {
    Files.writeString(dir.resolve("00-namespaces.yaml"), """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: frontend
          annotations:
            net.beta.kubernetes.io/network-policy: '{"ingress": {"isolation": "DefaultDeny"}}'
        """);
    assertThat(explain("--from", "backend/db-1", "--to", "frontend/web-1", "--port", "80")).isZero();
    assertThat(explain("--from", "backend/db-1", "--to", "frontend/web-1", "--port", "80", "--legacy-isolation"))
        .isEqualTo(1);
    assertThat(out).contains("ingress of frontend/web-1: isolated by namespace annotation "
        + "net.beta.kubernetes.io/network-policy (DefaultDeny)");
  }

  @Test
  void theV16ExampleBehavesAsItsDocumentSaysUnderLegacyIsolation() throws IOException {
    // examples/legacy-v1.6: the v1.6 documentation's policy verbatim (extensions/v1beta1, protocol: tcp).
    Path example = Path.of("..", "examples", "legacy-v1.6");
    try (var files = Files.list(dir)) {
      for (Path f : files.toList()) {
        Files.delete(f);
      }
    }
    try (var files = Files.list(example)) {
      for (Path f : files.toList()) {
        Files.copy(f, dir.resolve(f.getFileName()));
      }
    }
    String[] legacy = {"--port", "6379", "--legacy-isolation"};
    // With the DefaultDeny annotation, only what the policy allows reaches the pods.
    assertThat(explain(with(legacy, "--from", "default/frontend", "--to", "default/db"))).as(out).isZero();
    assertThat(err).contains("apiVersion: Deprecated: extensions/v1beta1 NetworkPolicy")
        .contains("spec.ingress[0].ports[0].protocol: Deprecated: \"tcp\" read as \"TCP\"");
    assertThat(explain(with(legacy, "--from", "myproject/client", "--to", "default/db"))).as(out).isZero();
    assertThat(explain(with(legacy, "--from", "default/other", "--to", "default/db"))).as(out).isEqualTo(1);
    assertThat(explain("--from", "default/frontend", "--to", "default/db", "--port", "80", "--legacy-isolation"))
        .as(out).isEqualTo(1);
    assertThat(explain(with(legacy, "--from", "default/db", "--to", "default/frontend"))).as(out).isEqualTo(1);

    // Without the annotation the policy has no effect.
    Files.writeString(dir.resolve("00-namespaces.yaml"), Files.readString(dir.resolve("00-namespaces.yaml"))
        .replace("net.beta.kubernetes.io/network-policy", "example.com/unused"));
    assertThat(explain(with(legacy, "--from", "default/other", "--to", "default/db"))).as(out).isZero();
    assertThat(out).contains("ingress of default/db: not isolated");

    // Without the flag the policy is refused as the API server refuses it.
    assertThat(explain("--from", "default/other", "--to", "default/db", "--port", "6379")).isZero();
    assertThat(err).contains("apiVersion: Unsupported value: \"extensions/v1beta1\"");
  }

  private static String[] with(String[] tail, String... head) {
    List<String> all = new ArrayList<>(List.of(head));
    all.addAll(List.of(tail));
    return all.toArray(String[]::new);
  }

  @Test
  void theIgnoredLegacyAnnotationIsAWarningWithoutTheFlag() throws IOException {
    Files.writeString(dir.resolve("00-namespaces.yaml"), """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: frontend
          annotations:
            net.beta.kubernetes.io/network-policy: '{"ingress": {"isolation": "DefaultDeny"}}'
        """);
    assertThat(explain("--from", "backend/db-1", "--to", "frontend/web-1", "--port", "80")).isZero();
    assertThat(err).contains("Namespace frontend: metadata.annotations[net.beta.kubernetes.io/network-policy]: "
        + "Ignored: ");
    assertThat(explain("--from", "backend/db-1", "--to", "frontend/web-1", "--port", "80", "--legacy-isolation"))
        .isEqualTo(1);
    assertThat(err).doesNotContain("Ignored");
  }

  @Test
  void invalidDocumentsAreWarningsOnStderr() throws IOException {
    Files.writeString(dir.resolve("30-bad.yaml"), """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: bad, namespace: backend}
        spec:
          podSelector: {}
          ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [192.168.0.0/16]}}]}]
        """);
    assertThat(explain("--from", "frontend/web-1", "--to", "backend/db-1", "--port", "5432")).isZero();
    assertThat(err).startsWith("warning: ").contains("30-bad.yaml").contains("NetworkPolicy backend/bad")
        .contains("must be a strict subset of `cidr`");
    assertThat(out).startsWith("ALLOWED");
  }

  @Test
  void badFlagsAndEndpointsExitTwoNamingTheFlag() {
    assertThat(explain("--from", "frontend/web-1", "--to", "backend/db-1", "--port", "http")).isEqualTo(2);
    assertThat(err).contains("--port http");
    assertThat(explain("--from", "frontend/web-1", "--to", "backend/db-1", "--port", "53/icmp")).isEqualTo(2);
    assertThat(err).contains("--port 53/icmp").contains("TCP, UDP or SCTP");
    assertThat(explain("--from", "frontend/web-1", "--to", "backend/db-1", "--port", "70000")).isEqualTo(2);
    assertThat(explain("--from", "web-1", "--to", "backend/db-1", "--port", "80")).isEqualTo(2);
    assertThat(err).contains("--from").contains("web-1");
    assertThat(explain("--from", "frontend/nope", "--to", "backend/db-1", "--port", "80")).isEqualTo(2);
    assertThat(err).contains("--from frontend/nope: no such pod");
    assertThat(explain("--from", "frontend/web-1", "--to", "backend/pending", "--port", "80")).isEqualTo(2);
    assertThat(err).contains("--to backend/pending: pod has no IP");
    assertThat(explain("--from", "frontend/web-1", "--port", "80")).isEqualTo(2);
    assertThat(err).contains("--to");
    assertThat(out).isEmpty();
  }

  @Test
  void aMissingManifestDirectoryIsAUsageError() {
    StringWriter e = new StringWriter();
    CommandLine cl = new CommandLine(new SluiceCli());
    cl.setErr(new PrintWriter(e));
    int code = cl.execute("explain", "--manifests", dir.resolve("nope").toString(), "--from", "frontend/web-1",
        "--to", "backend/db-1", "--port", "80");
    assertThat(code).isEqualTo(2);
    assertThat(e.toString()).contains("--manifests").contains("nope");
  }

  @Test
  void helpListsExplain() {
    StringWriter o = new StringWriter();
    CommandLine cl = new CommandLine(new SluiceCli());
    cl.setOut(new PrintWriter(o));
    cl.execute("explain", "--help");
    assertThat(o.toString()).contains("--manifests").contains("--from").contains("--to").contains("--port")
        .contains("--legacy-isolation");
  }

  private void service() throws IOException {
    Files.writeString(dir.resolve("30-service.yaml"), """
        apiVersion: v1
        kind: Service
        metadata: {name: db, namespace: backend}
        spec:
          clusterIP: 10.96.0.7
          selector: {app: db}
          ports: [{name: sql, port: 5432, targetPort: pg}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: db-x1, namespace: backend, labels: {kubernetes.io/service-name: db}}
        addressType: IPv4
        ports: [{name: sql, port: 5432, protocol: TCP}]
        endpoints:
        - addresses: [10.0.2.7]
          conditions: {ready: true}
          targetRef: {kind: Pod, namespace: backend, name: db-1}
        """);
  }

  @Test
  void aServiceIsTranslatedAndJudgedForEachEndpoint() throws IOException {
    service();
    assertThat(explain("--from", "frontend/web-1", "--to", "backend/db:sql")).isZero();
    assertThat(out.lines().toList()).containsExactly(
        "Service backend/db port sql (TCP 5432, IPv4): 1 endpoint(s)",
        "-> 10.0.2.7:5432 (backend/db-1): ALLOWED",
        "   egress of frontend/web-1: not isolated (no policy with Egress selects it)",
        "   ingress of backend/db-1: isolated by backend/db-allow (rule 0 allows from frontend/web-1 on TCP 5432)");
    // the cluster IP and port are the same Service port; an outside address is not allowed by the policy
    assertThat(explain("--from", "192.0.2.1", "--to", "10.96.0.7", "--port", "5432")).isEqualTo(1);
    assertThat(out).startsWith("Service backend/db port sql (TCP 5432, IPv4): 1 endpoint(s)")
        .contains("-> 10.0.2.7:5432 (backend/db-1): DENIED");
    assertThat(explain("--from", "frontend/web-1", "--to", "backend/db:http")).isEqualTo(2);
    assertThat(err).contains("Service backend/db has no port http");
    assertThat(explain("--from", "frontend/web-1", "--to", "backend/db:sql", "--port", "1")).isEqualTo(2);
  }

  @Test
  void twoPodsBehindTheirNodesSwitchPortAreNotJudgedByTheSwitchAndExplainSaysSo() throws IOException {
    Files.writeString(dir.resolve("30-node.yaml"), """
        apiVersion: v1
        kind: Node
        metadata: {name: rack-7, annotations: {sluice.io/attachment: '0x5c01/7'}}
        status: {addresses: [{type: InternalIP, address: 192.168.7.1}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: api-1, namespace: backend, labels: {app: api}}
        spec: {nodeName: rack-7, containers: [{name: c, image: x}]}
        status: {podIP: 10.0.2.8}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: db-2, namespace: backend, labels: {app: db}}
        spec: {nodeName: rack-7, containers: [{name: c, image: x}]}
        status: {podIP: 10.0.2.9}
        """);
    assertThat(explain("--from", "backend/api-1", "--to", "10.0.2.9", "--port", "5432")).isEqualTo(1);
    assertThat(out).contains("note: backend/api-1 and backend/db-2 sit behind one switch port (node rack-7, attached at "
        + "0x0000000000005c01/7): their traffic stays inside the node and never reaches the switch");
    // pods on ports of their own, or one of them elsewhere: no note
    assertThat(explain("--from", "backend/api-1", "--to", "frontend/web-1", "--port", "80")).isZero();
    assertThat(out).doesNotContain("note:");
  }
}
