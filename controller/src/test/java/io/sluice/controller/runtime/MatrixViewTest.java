package io.sluice.controller.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.model.ClusterModel;
import io.sluice.model.ObjectRef;
import io.sluice.model.Snapshot;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.policy.PolicyCompiler;
import io.sluice.renderer.policy.PolicyIndex;
import io.sluice.watcher.manifest.ManifestSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What /api/v1/matrix answers from a model: the reference evaluator's verdict for every pair of a namespace's pods,
 * judged on the destination's named container ports (or the port asked), evidence where an allowing rule has counted packets,
 * and 400-worthy errors naming the parameter. db declares 5432 and 9000 (named) and 7000 (unnamed: the model keeps only
 * named ports) and admits web on 5432 only; probe declares nothing and is not isolated.
 */
class MatrixViewTest {
  private final ObjectMapper json = new ObjectMapper();
  @TempDir
  Path dir;
  Snapshot snap;
  List<PolicyCompiler.RuleRef> rules;

  @BeforeEach
  void model() throws Exception {
    Files.writeString(dir.resolve("c.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: shop}", "---",
        "apiVersion: v1", "kind: Pod", "metadata: {name: web, namespace: shop, labels: {app: web}}",
        "spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]}",
        "status: {podIP: 10.0.0.1}", "---",
        "apiVersion: v1", "kind: Pod", "metadata: {name: db, namespace: shop, labels: {app: db}}",
        "spec: {containers: [{name: c, image: x, ports: [{name: pg, containerPort: 5432}, {name: stats, containerPort: 9000, protocol: UDP}, {containerPort: 7000}]}]}",
        "status: {podIP: 10.0.0.2}", "---",
        "apiVersion: v1", "kind: Pod", "metadata: {name: probe, namespace: shop, labels: {app: probe}}",
        "spec: {containers: [{name: c, image: x}]}", "status: {podIP: 10.0.0.3}", "---",
        "apiVersion: v1", "kind: Pod", "metadata: {name: other, namespace: elsewhere, labels: {app: web}}",
        "spec: {containers: [{name: c, image: x}]}", "status: {podIP: 10.0.1.1}", "---",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: db-allow, namespace: shop}",
        "spec:", "  podSelector: {matchLabels: {app: db}}", "  ingress:",
        "  - from: [{podSelector: {matchLabels: {app: web}}}]", "    ports: [{port: 5432}]", ""));
    ClusterModel model = new ClusterModel(1);
    ManifestSource source = new ManifestSource(dir, Duration.ofMillis(10), 1);
    source.start(model::apply);
    source.stop();
    snap = model.snapshot();
    rules = PolicyIndex.of(snap).rules();
  }

  private JsonNode matrix(Map<Long, long[]> counters, String port) {
    return json.valueToTree(MatrixView.of(snap, false, rules, counters, "shop", port));
  }

  private static JsonNode cell(JsonNode m, String from, String to) {
    for (JsonNode row : m.get("rows")) {
      if (row.get("from").asText().equals(from)) {
        for (JsonNode c : row.get("cells")) {
          if (c.get("to").asText().equals(to)) {
            return c;
          }
        }
      }
    }
    throw new AssertionError("no cell " + from + " -> " + to + " in " + m);
  }

  @Test
  void everyPairOfTheNamespaceIsJudgedOnTheDestinationsDeclaredPorts() {
    JsonNode m = matrix(null, null);
    assertThat(m.get("namespace").asText()).isEqualTo("shop");
    assertThat(m.get("port").asText()).isEqualTo("declared");
    assertThat(m.get("generation").asLong()).isEqualTo(snap.generation());
    assertThat(m.get("pods").toString()).as("only the namespace's pods, sorted").isEqualTo("[\"db\",\"probe\",\"web\"]");
    assertThat(m.get("rows")).hasSize(3).allSatisfy(r -> assertThat(r.get("cells")).hasSize(3));
    assertThat(m.get("truncated").isNull()).isTrue();

    JsonNode webDb = cell(m, "web", "db");
    assertThat(webDb.get("verdict").asText()).as("5432 allowed, 9000/UDP not: %s", webDb).isEqualTo("partial");
    assertThat(webDb.get("ports").get(0).get("port").asText()).isEqualTo("5432/TCP");
    assertThat(webDb.get("ports").get(0).get("allowed").asBoolean()).isTrue();
    assertThat(webDb.get("ports").get(0).get("allowedBy").toString()).contains("shop/db-allow ingress rule 0");
    assertThat(webDb.get("ports").get(1).get("port").asText()).isEqualTo("9000/UDP");
    assertThat(webDb.get("ports").get(1).get("allowed").asBoolean()).isFalse();
    assertThat(webDb.get("ports").get(1).get("explanation").toString()).contains("no rule allows");
    assertThat(webDb.get("ports")).as("an unnamed port is not in the model").hasSize(2);

    assertThat(cell(m, "probe", "db").get("verdict").asText()).isEqualTo("denied");
    JsonNode dbProbe = cell(m, "db", "probe");
    assertThat(dbProbe.get("verdict").asText()).isEqualTo("allowed");
    assertThat(dbProbe.get("ports").get(0).get("port").asText()).as("probe declares no port")
        .isEqualTo(MatrixView.DEFAULT_PORT + "/TCP");
    assertThat(cell(m, "web", "web").get("verdict").asText()).isEqualTo("allowed");
  }

  @Test
  void aPortAskedJudgesEveryCellOnIt() {
    JsonNode m = matrix(null, "5432");
    assertThat(m.get("port").asText()).isEqualTo("5432/TCP");
    assertThat(cell(m, "web", "db").get("verdict").asText()).isEqualTo("allowed");
    assertThat(cell(m, "probe", "db").get("verdict").asText()).isEqualTo("denied");
    assertThat(cell(matrix(null, "5432/udp"), "web", "db").get("verdict").asText()).isEqualTo("denied");
    assertThat(cell(matrix(null, "9000/UDP"), "db", "web").get("ports")).hasSize(1);
  }

  @Test
  void evidenceIsAnAllowingRulesCountedPackets() {
    JsonNode unread = matrix(null, "5432");
    assertThat(unread.get("countersRead").asBoolean()).isFalse();
    assertThat(unread.get("isolationDrops").isNull()).isTrue();
    assertThat(cell(unread, "web", "db").get("evidence").asBoolean()).isFalse();
    assertThat(cell(unread, "web", "db").get("ports").get(0).get("packets").isNull()).isTrue();

    Map<Long, long[]> counters = new HashMap<>();
    for (PolicyCompiler.RuleRef r : rules) {
      counters.put(SluiceRuntime.ruleCookie(r.id()), new long[] {0, 0});
    }
    JsonNode zero = matrix(counters, "5432");
    assertThat(cell(zero, "web", "db").get("evidence").asBoolean()).as("counted nothing yet").isFalse();
    assertThat(cell(zero, "web", "db").get("ports").get(0).get("packets").asLong()).isZero();
    assertThat(zero.get("isolationDrops").asLong()).isZero();

    PolicyCompiler.RuleRef dbAllow = rules.stream()
        .filter(r -> r.policy().equals(new ObjectRef("shop", "db-allow"))).findFirst().orElseThrow();
    counters.put(SluiceRuntime.ruleCookie(dbAllow.id()), new long[] {3, 180});
    counters.put(Cookie.of(Cookie.Category.ISOLATION, 0, 0).value(), new long[] {7, 420});
    JsonNode used = matrix(counters, "5432");
    assertThat(cell(used, "web", "db").get("evidence").asBoolean()).isTrue();
    assertThat(cell(used, "web", "db").get("ports").get(0).get("packets").asLong()).isEqualTo(3);
    assertThat(cell(used, "probe", "db").get("evidence").asBoolean())
        .as("a denied cell: isolation drops are not attributed to pods").isFalse();
    assertThat(cell(used, "db", "probe").get("evidence").asBoolean()).as("allowed by no rule: nothing counts it")
        .isFalse();
    assertThat(cell(used, "db", "probe").get("ports").get(0).get("packets").isNull()).isTrue();
    assertThat(used.get("isolationDrops").asLong()).isEqualTo(7);
  }

  @Test
  void aPodWithoutAnAddressIsAnUnknownCell() throws Exception {
    Files.writeString(dir.resolve("d.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Pod", "metadata: {name: pending, namespace: shop}",
        "spec: {containers: [{name: c, image: x}]}", ""));
    ClusterModel model = new ClusterModel(1);
    ManifestSource source = new ManifestSource(dir, Duration.ofMillis(10), 1);
    source.start(model::apply);
    source.stop();
    snap = model.snapshot();
    JsonNode c = cell(matrix(null, null), "web", "pending");
    assertThat(c.get("verdict").asText()).isEqualTo("unknown");
    assertThat(c.get("error").asText()).contains("shop/pending").contains("no IP");
  }

  @Test
  void aLargeNamespaceIsCutToTheFirstPods() throws Exception {
    StringBuilder many = new StringBuilder();
    for (int i = 0; i < MatrixView.MAX_PODS + 5; i++) {
      many.append(String.join("\n", "apiVersion: v1", "kind: Pod",
          String.format("metadata: {name: p%03d, namespace: big}", i), "spec: {containers: [{name: c, image: x}]}",
          "status: {podIP: 10.9." + (i / 200) + "." + (i % 200 + 1) + "}", "---", ""));
    }
    Files.writeString(dir.resolve("big.yaml"), many.toString());
    ClusterModel model = new ClusterModel(1);
    ManifestSource source = new ManifestSource(dir, Duration.ofMillis(10), 1);
    source.start(model::apply);
    source.stop();
    JsonNode m = json.valueToTree(MatrixView.of(model.snapshot(), false, rules, null, "big", "80"));
    assertThat(m.get("pods")).hasSize(MatrixView.MAX_PODS);
    assertThat(m.get("pods").get(0).asText()).isEqualTo("p000");
    assertThat(m.get("rows")).hasSize(MatrixView.MAX_PODS);
    assertThat(m.get("truncated").asInt()).isEqualTo(MatrixView.MAX_PODS + 5);
  }

  @Test
  void badInputNamesTheParameter() {
    assertThatThrownBy(() -> MatrixView.of(snap, false, rules, null, null, null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("namespace: required");
    assertThatThrownBy(() -> MatrixView.of(snap, false, rules, null, "nope", null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("namespace: no namespace nope");
    assertThatThrownBy(() -> matrix(null, "http")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("port http: expected a port number 1-65535");
    assertThatThrownBy(() -> matrix(null, "0")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("port 0:");
    assertThatThrownBy(() -> matrix(null, "80/icmp")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("port 80/icmp: protocol must be TCP, UDP or SCTP");
    assertThatThrownBy(() -> matrix(null, "")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("port: empty");
  }

  @Test
  void namespacesAreThoseWithAManifestOrAPod() {
    assertThat(MatrixView.namespaces(snap)).containsExactly("elsewhere", "shop");
    assertThat(cell(json.valueToTree(MatrixView.of(snap, false, rules, null, "elsewhere", null)), "other", "other")
        .get("verdict").asText()).isEqualTo("allowed");
  }
}
