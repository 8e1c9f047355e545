package io.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sluice explain --diff} against the demo's manifests: a candidate that opens db-1 to the frontend and
 * isolates web's egress to the backend; what it breaks and newly allows among the pods, against observed connections,
 * exit codes per {@code --fail-on}, and {@code --replace}.
 */
class ExplainDiffTest {
  private static final Path DEMO = Path.of("..", "examples", "demo");

  @TempDir
  Path candidate;
  @TempDir
  Path work;

  private static final String DB_FROM_API_AND_WEB = String.join("\n",
      "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy",
      "metadata: {name: db-from-api, namespace: backend, annotations: {sluice.io/log: \"true\"}}",
      "spec:", "  podSelector: {matchLabels: {app: db}}", "  ingress:",
      "  - from: [{podSelector: {matchLabels: {app: api}}}, {namespaceSelector: {matchLabels: {team: web}}}]",
      "    ports: [{port: http}]", "");
  private static final String WEB_EGRESS = String.join("\n",
      "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: web-egress, namespace: frontend}",
      "spec:", "  podSelector: {matchLabels: {app: web}}", "  policyTypes: [Egress]", "  egress:",
      "  - to: [{namespaceSelector: {matchLabels: {tier: backend}}}]", "    ports: [{protocol: TCP, port: 8080}]", "");

  @Test
  void aCandidateThatOpensOnePathAndClosesAnotherIsReportedBothWays() throws Exception {
    Files.writeString(candidate.resolve("db.yaml"), DB_FROM_API_AND_WEB);
    Files.writeString(candidate.resolve("web.yaml"), WEB_EGRESS);
    CliRun r = CliRun.run("explain", "--manifests", DEMO.toString(), "--diff", candidate.toString());
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(1);
    assertThat(r.out()).contains("2 policies changed: backend/db-from-api (modified), frontend/web-egress (added)")
        .contains("NEWLY DENIED (4):").contains("frontend/web-1 -> frontend/web-2 8080/TCP")
        // a port no rule names and no pod declares stands for every such port: web's egress is closed there too
        .contains("frontend/web-1 -> frontend/web-2 1/TCP")
        .contains("frontend/web-2 -> frontend/web-1 8080/TCP")
        .contains("NEWLY ALLOWED (2):").contains("frontend/web-1 -> backend/db-1 8080/TCP")
        .contains("frontend/web-2 -> backend/db-1 8080/TCP")
        .contains("after:  denied; egress of frontend/web-1: isolated by frontend/web-egress")
        .contains("4 newly denied, 2 newly allowed");
  }

  @Test
  void observedConnectionsSayWhatTheCandidateWouldReallyBreak() throws Exception {
    Files.writeString(candidate.resolve("web.yaml"), WEB_EGRESS);
    Path ct = work.resolve("ct.txt");
    Files.writeString(ct, String.join("\n",
        "tcp,orig=(src=10.244.0.11,dst=10.244.0.21,sport=40000,dport=8080),reply=(src=10.244.0.21,dst=10.244.0.11,sport=8080,dport=40000),zone=1",
        "tcp,orig=(src=10.244.0.11,dst=10.244.0.12,sport=40001,dport=8080),reply=(src=10.244.0.12,dst=10.244.0.11,sport=8080,dport=40001),zone=1",
        "tcp,orig=(src=10.244.0.12,dst=10.244.0.11,sport=40002,dport=8080),reply=(src=10.244.0.11,dst=10.244.0.12,sport=8080,dport=40002),zone=1",
        ""));
    CliRun r = CliRun.run("explain", "--manifests", DEMO.toString(), "--diff", candidate.toString(), "--conntrack", ct.toString(),
        "--fail-on", "observed");
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(1);
    assertThat(r.out()).contains("OBSERVED CONNECTIONS BROKEN (2):")
        .contains("frontend/web-1 -> frontend/web-2 10.244.0.12 8080/TCP (seen 1 time(s))")
        .doesNotContain("-> backend/api-1 10.244.0.21")
        .contains("2 observed connection(s) broken");

    // the web pods only ever talk to the backend: nothing observed breaks, though the pair web-1 -> web-2 would
    Files.writeString(ct, String.join("\n",
        "tcp,orig=(src=10.244.0.11,dst=10.244.0.21,sport=40000,dport=8080),reply=(src=10.244.0.21,dst=10.244.0.11,sport=8080,dport=40000),zone=1",
        ""));
    r = CliRun.run("explain", "--manifests", DEMO.toString(), "--diff", candidate.toString(), "--conntrack", ct.toString(),
        "--fail-on", "observed");
    assertThat(r.code()).as(r.out()).isZero();
    assertThat(r.out()).contains("0 observed connection(s) broken").contains("NEWLY DENIED (4):");
    r = CliRun.run("explain", "--manifests", DEMO.toString(), "--diff", candidate.toString(), "--conntrack", ct.toString());
    assertThat(r.code()).as("--fail-on denied by default").isEqualTo(1);
  }

  @Test
  void replacingEveryPolicyWithNoneOnlyAllows() {
    CliRun r = CliRun.run("explain", "--manifests", DEMO.toString(), "--diff", candidate.toString(), "--replace");
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    assertThat(r.out()).contains("(removed)").doesNotContain("NEWLY DENIED")
        .contains("frontend/web-1 -> backend/db-1 8080/TCP").contains("0 newly denied");
    r = CliRun.run("explain", "--manifests", DEMO.toString(), "--diff", candidate.toString());
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("0 policies changed");
  }

  @Test
  void diffFlagsAreCheckedAndNamed() {
    CliRun r = CliRun.run("explain", "--manifests", DEMO.toString(), "--diff", candidate.toString(), "--from", "frontend/web-1");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--diff: not with --from");
    r = CliRun.run("explain", "--manifests", DEMO.toString(), "--diff", candidate.toString(), "--fail-on", "sometimes");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--fail-on sometimes: expected denied, observed or never");
    r = CliRun.run("explain", "--manifests", DEMO.toString(), "--to", "backend/db-1", "--port", "8080");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--from and --to are required (or --diff DIR)");
    r = CliRun.run("explain", "--manifests", DEMO.toString(), "--from", "frontend/web-1", "--to", "backend/db-1", "--port",
        "8080", "--replace");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("go with --diff");
  }
}
