package io.sluice.watcher.manifest;

import static io.sluice.watcher.manifest.Manifests.docs;
import static io.sluice.watcher.manifest.Manifests.namespace;
import static io.sluice.watcher.manifest.Manifests.pod;
import static io.sluice.watcher.manifest.Manifests.policy;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.watcher.convert.ObjectConverter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The fast path returns exactly what the general path returns, or gives up. */
class FastReaderTest {
  private final ManifestParser parser = new ManifestParser(new ObjectConverter());

  static final String NS = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-00042\n  labels:\n    team: team-42\n"
      + "    env: prod\n";
  static final String POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  namespace: ns-00042\n  name: pod-00042-0\n"
      + "  labels:\n    app: web\n    version: \"v0\"\n    pod-template-hash: 7d4b9c0\n  annotations:\n"
      + "    owner: team-42@example.com\nspec:\n  nodeName: node-42\n  containers:\n  - name: web\n"
      + "    image: registry.example.com/web:1.2.3\n    ports:\n    - {name: http, containerPort: 8080, protocol: TCP}\n"
      + "    - {name: metrics, containerPort: 9090}\n    resources:\n      requests: {cpu: 100m, memory: 128Mi}\n"
      + "status:\n  phase: Running\n  podIP: 10.64.0.169\n  podIPs:\n  - ip: 10.64.0.169\n";
  static final String DENY = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  namespace: ns-00042\n"
      + "  name: default-deny\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n";
  static final String WEB = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  namespace: ns-00042\n"
      + "  name: web-from-prod\nspec:\n  podSelector:\n    matchLabels: {app: web}\n  ingress:\n"
      + "  - from:\n    - namespaceSelector:\n        matchExpressions:\n"
      + "        - {key: env, operator: In, values: [prod]}\n      podSelector:\n        matchLabels: {app: web}\n"
      + "    - ipBlock:\n        cidr: 10.0.0.0/8\n        except: [10.1.0.0/16, 10.2.0.0/16]\n"
      + "    ports:\n    - {port: http}\n    - {protocol: TCP, port: 8000, endPort: 8100}\n";
  static final String DB = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  namespace: ns-00042\n"
      + "  name: db-egress\nspec:\n  podSelector:\n    matchLabels: {app: db}\n  egress:\n"
      + "  - to:\n    - podSelector:\n        matchExpressions:\n        - {key: app, operator: Exists}\n"
      + "    ports:\n    - {protocol: UDP, port: 53}\n";
  static final String BENCH_FILE = docs(NS, POD, DENY, WEB, DB);
  /** A pod as a cluster reports it: being deleted, with conditions. */
  static final String LIVE_POD = POD.replace("  name: pod-00042-0\n", "  name: pod-00042-0\n"
      + "  deletionTimestamp: \"2024-05-01T10:00:00Z\"\n  deletionGracePeriodSeconds: 30\n")
      .replace("  phase: Running\n", "  phase: Running\n  conditions:\n"
      + "  - {type: Ready, status: \"True\", lastTransitionTime: \"2024-05-01T09:00:00Z\"}\n"
      + "  - {type: ContainersReady, status: \"False\", reason: ContainersNotReady, message: x, observedGeneration: 3}\n"
      + "  hostIP: 192.168.1.4\n  hostIPs:\n  - ip: 192.168.1.4\n  - {ip: 'fd01::4'}\n");

  private ManifestParser.Result fast(String text, boolean json) {
    return new FastReader(json ? new ObjectMapper() : new com.fasterxml.jackson.dataformat.yaml.YAMLMapper(),
        new ObjectConverter()).read(text.getBytes(StandardCharsets.UTF_8));
  }

  /** Fast and general agree; returns whether the fast path took the file. */
  private boolean same(String text, boolean json) {
    ManifestParser.Result f = fast(text, json);
    ManifestParser.Result g = parser.parseGeneral("f", text.getBytes(StandardCharsets.UTF_8), json);
    if (f == null) {
      return false;
    }
    assertThat(g.errors()).as(text).isEmpty();
    assertThat(g.rejected()).as(text).isEmpty();
    assertThat(g.complete()).as(text).isTrue();
    assertThat(g.ignoredKinds()).as(text).isEmpty();
    assertThat(f.objects()).as(text).isEqualTo(g.objects());
    return true;
  }

  @Test
  void takesTheCommonShapes() {
    assertThat(same(BENCH_FILE, false)).isTrue();
    assertThat(same("---\n" + docs(namespace("shop"), pod("shop", "a", "web", "10.0.0.1")) + "---\n---\n"
        + pod("shop", "b", "web", "10.0.0.2"), false)).isTrue();
    assertThat(same(POD.replace("spec:\n", "spec:\n  hostNetwork: true\n  restartPolicy: Always\n"
        + "  initContainers:\n  - name: side\n    restartPolicy: Always\n    ports: [{name: side, containerPort: 7}]\n"
        + "    command: [a, b]\n    env: [{name: X, value: y}]\n"), false)).isTrue();
    assertThat(same(POD.replace("metadata:\n", "metadata:\n  creationTimestamp: null\n  uid: abc\n"), false)).isTrue();
    assertThat(same(POD.replace("requests: {cpu: 100m, memory: 128Mi}", "requests: {cpu: 100m, memory: 128Mi}\n"
        + "      limits: {cpu: \"1\", memory: 1Gi}\n      claims: [{name: x}]"), false)).isTrue();
    assertThat(same(POD + "extra: {unknown: [1, 2, {a: b}]}\n", false)).isTrue();
    assertThat(same("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"labels\":{\"a\":\"b\"}},"
        + "\"spec\":{\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":80,\"name\":\"http\"}]}]},"
        + "\"status\":{\"podIP\":\"10.0.0.1\"}}", true)).isTrue();
    assertThat(same("", false)).isTrue();
    assertThat(same(docs(NS, LIVE_POD), false)).isTrue();
  }

  @Test
  void givesUpWhereTheGeneralPathReportsSomething() {
    assertThat(same(docs(namespace("a"), "kind: [unclosed\n", namespace("b")), false)).isFalse();
    assertThat(same(docs(namespace("shop"), policy("shop", "bad", "10.0.0.0/16", "10.1.0.0/16")), false)).isFalse();
    assertThat(same(POD.replace("containerPort: 8080", "containerPort: [1]"), false)).isFalse();
    assertThat(same(POD.replace("spec:\n", "spec:\n  restartPolicy: [1]\n"), false)).isFalse();
    assertThat(same(POD.replace("nodeName: node-42", "nodeName: node-42\n  tolerations: 5"), false)).isFalse();
    assertThat(same(POD.replace("cpu: 100m", "cpu: [1]"), false)).isFalse();
    assertThat(same("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", false)).isFalse();
    assertThat(same("apiVersion: v1\nkind: List\nitems: []\n", false)).isFalse();
    assertThat(same("apiVersion: extensions/v1beta1\nkind: NetworkPolicy\nmetadata: {name: p}\n", false)).isFalse();
    assertThat(same(LIVE_POD.replace("status: \"True\"", "status: true"), false)).isFalse();
    assertThat(same(LIVE_POD.replace("observedGeneration: 3", "observedGeneration: [3]"), false)).isFalse();
  }

  /** Random one-line edits of a realistic file: wherever the fast path answers, it answers as the general path. */
  @Test
  void agreesWithTheGeneralPathOnMutations() {
    assertThat(mutations(BENCH_FILE, 42, 2000)).isGreaterThan(100);
  }

  @Test
  void agreesWithTheGeneralPathOnMutationsOfALivePod() {
    assertThat(mutations(docs(NS, LIVE_POD), 7, 1000)).isGreaterThan(50);
  }

  /** How many of {@code rounds} random edits of {@code file} the fast path took (each checked against the general). */
  private int mutations(String file, long seed, int rounds) {
    String[] values = {"1", "0", "-1", "99999", "4294967296", "1.5", "null", "~", "", "yes", "true", "\"8080\"",
        "[a]", "[]", "{}", "{a: b}", "\"\"", "x y", "Ingress", "TCP", "SCTP", "tcp", "http", "10.0.0.0/16", "Ready",
        "\"True\"", "\"False\"", "Succeeded", "Failed",
        "10.1.0.0/16", "In", "NotIn", "Exists", "\"v1\"", "!!str 5", "&a x", "0x50", "8_0", "In,", "-", "a: b"};
    Random random = new Random(seed);
    String[] lines = file.split("\n", -1);
    int taken = 0;
    for (int i = 0; i < rounds; i++) {
      String[] copy = lines.clone();
      int edits = 1 + random.nextInt(2);
      for (int e = 0; e < edits; e++) {
        int at = random.nextInt(copy.length);
        String line = copy[at];
        int colon = line.lastIndexOf(": ");
        switch (random.nextInt(4)) {
          case 0 -> copy[at] = "";
          case 1 -> copy[at] = colon > 0 ? line.substring(0, colon + 2) + values[random.nextInt(values.length)]
              : line + values[random.nextInt(values.length)];
          case 2 -> copy[at] = line + "\n" + line;
          default -> {
            int other = random.nextInt(copy.length);
            copy[at] = copy[other];
            copy[other] = line;
          }
        }
      }
      if (same(String.join("\n", copy), false)) {
        taken++;
      }
    }
    return taken;
  }
}
