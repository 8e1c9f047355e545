package io.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.model.Protocol;
import io.sluice.model.Snapshot;
import io.sluice.renderer.reference.Endpoint;
import io.sluice.renderer.reference.ReferenceEvaluator;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sluice advise} on a small shop: two web replicas (differing only in pod-template-hash), a database with a
 * named port and a second label, a cache, a monitor in another namespace, a Service in front of the database, and
 * a pod without labels. The proposal is read back through the manifest parser and judged with the reference
 * evaluator: every observed connection allowed, and nothing else that the proposal isolates.
 */
class AdviseCommandTest {
  @TempDir
  Path cluster;
  @TempDir
  Path out;

  @BeforeEach
  void writeCluster() throws Exception {
    Files.writeString(cluster.resolve("cluster.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: shop}", "---",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: ops}", "---",
        pod("shop", "web-1", "10.0.0.1", "{app: web, pod-template-hash: abc12}", ""),
        pod("shop", "web-2", "10.0.0.2", "{app: web, pod-template-hash: def34}", ""),
        pod("shop", "db-0", "10.0.0.3", "{app: db, tier: data}",
            "ports: [{name: postgres, containerPort: 5432}, {name: metrics, containerPort: 9187}]"),
        pod("shop", "cache", "10.0.0.4", "{app: cache}", ""),
        pod("shop", "stray", "10.0.0.9", "{}", ""),
        pod("ops", "monitor", "10.1.0.1", "{app: prom}", ""),
        "apiVersion: v1", "kind: Service", "metadata: {name: db, namespace: shop}",
        "spec: {clusterIP: 10.96.0.20, selector: {app: db}, ports: [{name: sql, port: 5432, targetPort: postgres}]}",
        ""));
  }

  private static String pod(String ns, String name, String ip, String labels, String ports) {
    return String.join("\n", "apiVersion: v1", "kind: Pod",
        "metadata: {name: " + name + ", namespace: " + ns + ", labels: " + labels + "}",
        "spec: {containers: [{name: c, image: x" + (ports.isEmpty() ? "" : ", " + ports) + "}]}",
        "status: {podIP: " + ip + ", conditions: [{type: Ready, status: \"True\"}]}", "---", "");
  }

  // as ovs-appctl dpctl/dump-conntrack prints them: web-1 to the database's Service (translated, and tracked again
  // in the hairpin zone would count once), web-2 straight to the database, the monitor scraping it, web-1 to an
  // outside address, an outside client to web-1, the stray pod to the database, a ping (no port: left out)
  private static final String CONNTRACK = String.join("\n",
      "tcp,orig=(src=10.0.0.1,dst=10.96.0.20,sport=40001,dport=5432),reply=(src=10.0.0.3,dst=10.0.0.1,sport=5432,dport=40001),zone=1,mark=0x0,protoinfo=(state=ESTABLISHED)",
      "tcp,orig=(src=10.0.0.1,dst=10.96.0.20,sport=40002,dport=5432),reply=(src=10.0.0.3,dst=10.0.0.1,sport=5432,dport=40002),zone=1,protoinfo=(state=TIME_WAIT)",
      "tcp,orig=(src=10.0.0.1,dst=10.0.0.3,sport=40002,dport=5432),reply=(src=10.0.0.3,dst=10.0.0.1,sport=5432,dport=40002),zone=65533",
      "tcp,orig=(src=10.0.0.2,dst=10.0.0.3,sport=40100,dport=5432),reply=(src=10.0.0.3,dst=10.0.0.2,sport=5432,dport=40100),zone=1,protoinfo=(state=ESTABLISHED)",
      "tcp,orig=(src=10.1.0.1,dst=10.0.0.3,sport=50000,dport=9187),reply=(src=10.0.0.3,dst=10.1.0.1,sport=9187,dport=50000),zone=1,protoinfo=(state=ESTABLISHED)",
      "tcp,orig=(src=10.0.0.1,dst=203.0.113.7,sport=40500,dport=443),reply=(src=203.0.113.7,dst=10.0.0.1,sport=443,dport=40500),zone=1,protoinfo=(state=ESTABLISHED)",
      "udp,orig=(src=198.51.100.1,dst=10.0.0.1,sport=5353,dport=8080),reply=(src=10.0.0.1,dst=198.51.100.1,sport=8080,dport=5353),zone=1",
      "tcp,orig=(src=10.0.0.9,dst=10.0.0.3,sport=41000,dport=5432),reply=(src=10.0.0.3,dst=10.0.0.9,sport=5432,dport=41000),zone=1,protoinfo=(state=ESTABLISHED)",
      "icmp,orig=(src=10.0.0.4,dst=10.0.0.3,id=1,type=8,code=0),reply=(src=10.0.0.3,dst=10.0.0.4,id=1,type=0,code=0),zone=1",
      "");

  @Test
  void proposesLeastPrivilegePoliciesByLabelsThatAllowExactlyWhatWasSeen() throws Exception {
    Path ct = out.resolve("ct.txt");
    Files.writeString(ct, CONNTRACK);
    CliRun r = CliRun.run("advise", "--manifests", cluster.toString(), "--conntrack", ct.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("7 connections observed (6 distinct")
        .contains("3 policies proposed")
        .contains("pod shop/stray has no labels to select it by");
    String yaml = r.out();
    // by labels, not addresses: the web replicas are one workload (app=web), the database is app=db alone
    assertThat(yaml).contains("name: advised-web").contains("name: advised-db").contains("name: advised-prom")
        .doesNotContain("pod-template-hash").doesNotContain("tier").doesNotContain("10.0.0.1/32")
        .doesNotContain("10.0.0.2/32").contains("kubernetes.io/metadata.name: ops")
        .contains("port: postgres").contains("port: metrics").contains("cidr: 203.0.113.7/32")
        .contains("cidr: 198.51.100.1/32").contains("cidr: 10.0.0.9/32");

    // read back: the cluster plus the proposal, judged by the reference evaluator
    Files.writeString(cluster.resolve("advised.yaml"), yaml);
    StringWriter warnings = new StringWriter();
    Snapshot after = ExplainCommand.load(cluster, false, new PrintWriter(warnings));
    assertThat(warnings.toString()).isEmpty();
    assertThat(after.networkPolicies()).hasSize(3);
    ReferenceEvaluator ref = new ReferenceEvaluator();
    // every observed connection
    assertThat(allowed(ref, after, "10.0.0.1", "10.0.0.3", Protocol.TCP, 5432)).isTrue();
    assertThat(allowed(ref, after, "10.0.0.2", "10.0.0.3", Protocol.TCP, 5432)).isTrue();
    assertThat(allowed(ref, after, "10.1.0.1", "10.0.0.3", Protocol.TCP, 9187)).isTrue();
    assertThat(allowed(ref, after, "10.0.0.1", "203.0.113.7", Protocol.TCP, 443)).isTrue();
    assertThat(allowed(ref, after, "198.51.100.1", "10.0.0.1", Protocol.UDP, 8080)).isTrue();
    assertThat(allowed(ref, after, "10.0.0.9", "10.0.0.3", Protocol.TCP, 5432)).isTrue();
    // nothing else reaches or leaves the isolated workloads
    assertThat(allowed(ref, after, "10.0.0.1", "10.0.0.3", Protocol.TCP, 9187)).as("web to metrics").isFalse();
    assertThat(allowed(ref, after, "10.1.0.1", "10.0.0.3", Protocol.TCP, 5432)).as("monitor to postgres").isFalse();
    assertThat(allowed(ref, after, "10.0.0.4", "10.0.0.3", Protocol.TCP, 5432)).as("cache to db").isFalse();
    assertThat(allowed(ref, after, "10.0.0.1", "10.0.0.4", Protocol.TCP, 6379)).as("web egress to cache").isFalse();
    assertThat(allowed(ref, after, "10.0.0.3", "10.0.0.1", Protocol.TCP, 8080)).as("db egress").isFalse();
    assertThat(allowed(ref, after, "10.0.0.1", "203.0.113.8", Protocol.TCP, 443)).as("another address").isFalse();
    assertThat(allowed(ref, after, "10.1.0.1", "10.0.0.4", Protocol.TCP, 80)).as("monitor egress").isFalse();
    // the cache took part in nothing with a port: not isolated
    assertThat(allowed(ref, after, "10.0.0.4", "10.0.0.1", Protocol.TCP, 8080)).as("cache to web").isFalse();
    assertThat(allowed(ref, after, "10.0.0.9", "10.0.0.4", Protocol.TCP, 6379)).as("stray to cache").isTrue();
  }

  @Test
  void aZoneFilterKeepsOnlyThatZonesEntries() throws Exception {
    Path ct = out.resolve("ct.txt");
    Files.writeString(ct, CONNTRACK + "tcp,orig=(src=10.0.0.4,dst=10.0.0.3,sport=1,dport=5432),reply=(src=10.0.0.3,"
        + "dst=10.0.0.4,sport=5432,dport=1),zone=7\n");
    CliRun r = CliRun.run("advise", "--manifests", cluster.toString(), "--conntrack", ct.toString(), "--zone", "7");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("1 connections observed (1 distinct");
    assertThat(r.out()).contains("app: cache").doesNotContain("app: web");
  }

  @Test
  void onlyIngressAndOneNamespaceWhenAskedAndFilesPerNamespace() throws Exception {
    Path ct = out.resolve("ct.txt");
    Files.writeString(ct, CONNTRACK);
    Path dir = out.resolve("advice");
    CliRun r = CliRun.run("advise", "--manifests", cluster.toString(), "--conntrack", ct.toString(), "--policy-types",
        "Ingress", "-n", "shop", "--output", dir.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out().strip()).endsWith("shop-advised.yaml");
    String yaml = Files.readString(dir.resolve("shop-advised.yaml"));
    assertThat(yaml).contains("- Ingress").doesNotContain("Egress").doesNotContain("advised-prom")
        .doesNotContain("203.0.113.7");
    assertThat(Files.list(dir)).hasSize(1);
  }

  @Test
  void theAuditLogCountsAllowedEntriesAndDeniedOnesOnlyWhenAsked() throws Exception {
    Path log = out.resolve("audit.log");
    Files.writeString(log, String.join("\n",
        "{\"time\":\"t\",\"switch\":\"s\",\"direction\":\"ingress\",\"verdict\":\"allow\",\"policy\":\"shop/x\",\"rule\":0,"
            + "\"protocol\":\"TCP\",\"source\":{\"namespace\":\"shop\",\"pod\":\"web-1\",\"ip\":\"10.0.0.1\",\"port\":40000},"
            + "\"destination\":{\"namespace\":\"shop\",\"pod\":\"db-0\",\"ip\":\"10.0.0.3\",\"port\":5432},\"length\":74,\"count\":4}",
        "{\"verdict\":\"deny\",\"policy\":\"isolation\",\"protocol\":\"TCP\",\"source\":{\"ip\":\"10.0.0.4\"},"
            + "\"destination\":{\"ip\":\"10.0.0.3\",\"port\":6000},\"count\":2}",
        "{\"verdict\":\"deny\",\"policy\":\"isolation\",\"protocol\":\"ICMP\",\"source\":{\"ip\":\"10.0.0.4\"},"
            + "\"destination\":{\"ip\":\"10.0.0.3\"},\"count\":1}",
        "not json", ""));
    CliRun r = CliRun.run("advise", "--manifests", cluster.toString(), "--audit-log", log.toString(), "--policy-types", "Ingress");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("4 connections observed (1 distinct, 3 entries without a port or verdict left out)")
        .contains("audit.log:4: not a JSON audit entry");
    assertThat(r.out()).contains("port: postgres").doesNotContain("6000");

    r = CliRun.run("advise", "--manifests", cluster.toString(), "--audit-log", log.toString(), "--policy-types", "Ingress",
        "--include-denied");
    assertThat(r.err()).contains("6 connections observed (2 distinct");
    assertThat(r.out()).contains("port: 6000").contains("app: cache");
  }

  @Test
  void aSelectorThatAlsoSelectsMoreLabelledPodsIsNotedAndNumericLabelValuesStayStrings() throws Exception {
    Path q = out.resolve("q");
    Files.createDirectories(q);
    Files.writeString(q.resolve("q.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: q}", "---",
        pod("q", "a", "10.9.0.1", "{app: api}", ""), pod("q", "b", "10.9.0.2", "{app: api, track: canary}", ""),
        pod("q", "c", "10.9.0.3", "{app: \"7\"}", ""), ""));
    Path ct = out.resolve("q.txt");
    Files.writeString(ct, "tcp,orig=(src=10.9.0.3,dst=10.9.0.1,sport=1234,dport=80),reply=(src=10.9.0.1,dst=10.9.0.3,"
        + "sport=80,dport=1234),zone=1\n");
    CliRun r = CliRun.run("advise", "--manifests", q.toString(), "--conntrack", ct.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("also selects [q/b], which carry more labels");
    assertThat(r.out()).contains("app: \"7\"");
    Files.writeString(q.resolve("advised.yaml"), r.out());
    StringWriter warnings = new StringWriter();
    Snapshot after = ExplainCommand.load(q, false, new PrintWriter(warnings));
    assertThat(warnings.toString()).isEmpty();
    assertThat(after.networkPolicies()).hasSize(2);
  }

  @Test
  void badInputIsAUsageErrorNamingTheFlag() {
    CliRun r = CliRun.run("advise", "--manifests", cluster.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("give observed connections");
    r = CliRun.run("advise", "--manifests", cluster.toString(), "--conntrack", out.resolve("missing").toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--conntrack").contains("missing: cannot be read");
    r = CliRun.run("advise", "--manifests", cluster.toString(), "--conntrack", "-", "--policy-types", "Sideways");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--policy-types Sideways: expected Ingress or Egress");
  }

  private static boolean allowed(ReferenceEvaluator ref, Snapshot s, String from, String to, Protocol p, int port) {
    return ref.evaluate(s, Endpoint.ip(from), Endpoint.ip(to), p, port).allowed();
  }
}
