package io.sluice.watcher.manifest;

import static io.sluice.watcher.manifest.Manifests.docs;
import static io.sluice.watcher.manifest.Manifests.namespace;
import static io.sluice.watcher.manifest.Manifests.pod;
import static io.sluice.watcher.manifest.Manifests.policy;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.model.ObjectRef;
import io.sluice.model.source.SourceError;
import io.sluice.watcher.convert.ObjectConverter;
import io.sluice.watcher.convert.ObjectKey;
import io.sluice.watcher.convert.ObjectKind;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ManifestParserTest {
  private final ManifestParser parser = new ManifestParser(new ObjectConverter());

  private ManifestParser.Result yaml(String text) {
    return parser.parse("dir/f.yaml", text.getBytes(StandardCharsets.UTF_8), false);
  }

  @Test
  void readsEveryDocumentAndCountsEmptyOnesOut() {
    ManifestParser.Result r = yaml("---\n" + docs(namespace("shop"), pod("shop", "a", "web", "10.0.0.1"))
        + "---\n---\n" + pod("shop", "b", "web", "10.0.0.2"));
    assertThat(r.errors()).isEmpty();
    assertThat(r.complete()).isTrue();
    assertThat(r.objects()).extracting(ManifestParser.Parsed::key).containsExactly(
        new ObjectKey(ObjectKind.NAMESPACE, new ObjectRef("", "shop")),
        new ObjectKey(ObjectKind.POD, new ObjectRef("shop", "a")),
        new ObjectKey(ObjectKind.POD, new ObjectRef("shop", "b")));
    assertThat(r.objects()).extracting(ManifestParser.Parsed::line).containsExactly(2, 7, 23);
    assertThat(r.objects()).extracting(ManifestParser.Parsed::document).containsExactly(0, 1, 3);
  }

  @Test
  void readsListsAndJson() {
    String list = "apiVersion: v1\nkind: List\nitems:\n- " + namespace("a").replace("\n", "\n  ")
        + "\n- " + namespace("b").replace("\n", "\n  ");
    assertThat(yaml(list).objects()).hasSize(2);
    String json = "{\"apiVersion\":\"v1\",\"kind\":\"NamespaceList\",\"items\":[{\"apiVersion\":\"v1\","
        + "\"kind\":\"Namespace\",\"metadata\":{\"name\":\"x\"}}]}";
    ManifestParser.Result r = parser.parse("f.json", json.getBytes(StandardCharsets.UTF_8), true);
    assertThat(r.objects()).extracting(p -> p.key().ref().name()).containsExactly("x");
  }

  @Test
  void otherKindsAreCountedNotReported() {
    ManifestParser.Result r = yaml(docs("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", namespace("shop")));
    assertThat(r.errors()).isEmpty();
    assertThat(r.objects()).hasSize(1);
    assertThat(r.ignoredKinds()).containsEntry("ConfigMap", 1).containsEntry("Deployment", 1);
  }

  @Test
  void anInvalidDocumentIsReportedWithFileDocumentObjectAndField() {
    ManifestParser.Result r = yaml(docs(namespace("shop"), policy("shop", "bad", "10.0.0.0/16", "10.1.0.0/16")));
    assertThat(r.objects()).hasSize(1);
    assertThat(r.rejected()).containsExactly(new ObjectKey(ObjectKind.NETWORK_POLICY, new ObjectRef("shop", "bad")));
    assertThat(r.errors()).containsExactly(new SourceError("dir/f.yaml", 1, 6, "NetworkPolicy", "shop", "bad",
        "spec.ingress[0].from[0].ipBlock.except[0]", "Invalid value: \"10.1.0.0/16\": must be a strict subset of `cidr`"));
    assertThat(r.errors().get(0)).hasToString("dir/f.yaml doc 1 (line 6) NetworkPolicy shop/bad: "
        + "spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: \"10.1.0.0/16\": must be a strict subset of `cidr`");
  }

  @Test
  void aWronglyTypedFieldIsReportedWithItsPath() {
    ManifestParser.Result r = yaml("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        + "  - name: c\n    ports: [{containerPort: [1]}]\n");
    assertThat(r.errors()).singleElement().satisfies(e -> {
      assertThat(e.field()).isEqualTo("spec.containers[0].ports[0].containerPort");
      assertThat(e.name()).isEqualTo("p");
      assertThat(e.namespace()).isEqualTo("default");
    });
  }

  @Test
  void anUnsupportedApiVersionIsAnError() {
    ManifestParser.Result r = yaml("apiVersion: extensions/v1beta1\nkind: NetworkPolicy\nmetadata: {name: p}\n");
    assertThat(r.errors()).extracting(SourceError::message).containsExactly(
        "apiVersion: Unsupported value: \"extensions/v1beta1\": supported values: \"networking.k8s.io/v1\"");
  }

  @Test
  void aSyntaxErrorStopsTheFileButKeepsEarlierDocuments() {
    ManifestParser.Result r = yaml(docs(namespace("a"), "kind: [unclosed\n", namespace("b")));
    assertThat(r.complete()).isFalse();
    assertThat(r.objects()).extracting(p -> p.key().ref().name()).containsExactly("a");
    assertThat(r.errors()).singleElement().satisfies(e -> {
      assertThat(e.document()).isEqualTo(1);
      assertThat(e.reason()).startsWith("cannot parse: ");
    });
  }

  @Test
  void nodesAreReadAsClusterScopedObjects() {
    ManifestParser.Result r = yaml(docs(namespace("shop"), "apiVersion: v1\nkind: Node\nmetadata: {name: node-1}\n"
        + "status: {addresses: [{type: InternalIP, address: 192.168.1.4}]}\n",
        "apiVersion: v1\nkind: Node\nmetadata: {name: node-2}\nstatus: {addresses: [{type: InternalIP, address: x}]}\n"));
    assertThat(r.objects()).extracting(ManifestParser.Parsed::key).containsExactly(
        new ObjectKey(ObjectKind.NAMESPACE, new ObjectRef("", "shop")),
        new ObjectKey(ObjectKind.NODE, new ObjectRef("", "node-1")));
    assertThat(r.objects().get(1).value()).isEqualTo(new io.sluice.model.Node("node-1", java.util.Map.of(),
        java.util.List.of("192.168.1.4")));
    assertThat(r.errors()).singleElement().hasToString("dir/f.yaml doc 2 (line 11) Node node-2: "
        + "status.addresses[0].address: Invalid value: \"x\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
  }

  @Test
  void aKeyGivenTwiceRefusesItsDocumentAndNamesTheKey() {
    String twice = pod("shop", "web", "web", "10.0.0.2").replace("    app: web\n", "    app: web\n    app: db\n");
    ManifestParser.Result r = yaml(docs(namespace("shop"), twice, pod("shop", "other", "x", "10.0.0.3")));
    assertThat(r.complete()).isTrue();
    assertThat(r.objects()).extracting(p -> p.key().ref().name()).containsExactly("shop", "other");
    assertThat(r.rejected()).containsExactly(new ObjectKey(ObjectKind.POD, new ObjectRef("shop", "web")));
    assertThat(r.errors()).singleElement().satisfies(e -> {
      assertThat(e.document()).isEqualTo(1);
      assertThat(e.object()).isEqualTo("Pod shop/web");
      assertThat(e.field()).isEqualTo("metadata.labels.app");
      assertThat(e.reason()).startsWith("Duplicate value: \"app\": the key is given more than once");
    });
  }

  @Test
  void aTopLevelKeyGivenTwiceIsNamedWhereverItIs() {
    String spec = "spec:\n  podSelector: {}\n";
    ManifestParser.Result r = yaml("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, "
        + "namespace: shop}\n" + spec + spec.replace("{}", "{matchLabels: {app: web}}"));
    assertThat(r.objects()).isEmpty();
    assertThat(r.errors()).extracting(SourceError::message).containsExactly("spec: Duplicate value: \"spec\": the key "
        + "is given more than once in the same object; strict field validation refuses the document (the last value "
        + "does not win): keep one");
  }

  @Test
  void jsonAndListItemsAreCheckedForKeysGivenTwiceToo() {
    String json = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"shop\"},"
        + "\"spec\":{\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":80,\"containerPort\":81}]}]}}";
    ManifestParser.Result r = parser.parse("f.json", json.getBytes(StandardCharsets.UTF_8), true);
    assertThat(r.objects()).isEmpty();
    assertThat(r.errors()).extracting(SourceError::field).containsExactly("spec.containers[0].ports[0].containerPort");

    String list = "apiVersion: v1\nkind: List\nitems:\n- " + namespace("a").replace("\n", "\n  ")
        + "\n- " + namespace("b").replace("\n", "\n  ") + "kind: Namespace\n";
    ManifestParser.Result l = yaml(list);
    assertThat(l.objects()).extracting(p -> p.key().ref().name()).containsExactly("a");
    assertThat(l.errors()).singleElement().satisfies(e -> {
      assertThat(e.field()).isEqualTo("items[1].kind");
      assertThat(e.object()).isEqualTo("Namespace b");
    });
  }

  /** The v1.6 documentation's example policy, verbatim. */
  static final String V1_6_POLICY = """
      apiVersion: extensions/v1beta1
      kind: NetworkPolicy
      metadata:
        name: test-network-policy
        namespace: default
      spec:
        podSelector:
          matchLabels:
            role: db
        ingress:
        - from:
          - namespaceSelector:
              matchLabels:
                project: myproject
          - podSelector:
              matchLabels:
                role: frontend
          ports:
          - protocol: tcp
            port: 6379
      """;

  private static final String ANNOTATED = """
      apiVersion: v1
      kind: Namespace
      metadata:
        name: default
        annotations:
          net.beta.kubernetes.io/network-policy: |
            {
              "ingress": {
                "isolation": "DefaultDeny"
              }
            }
      """;

  @Test
  void theV16ExampleIsReadUnderLegacyIsolationWithDeprecationWarnings() {
    ManifestParser legacy = new ManifestParser(new ObjectConverter(), ManifestSource.Limits.defaults(), true);
    ManifestParser.Result r = legacy.parse("dir/np.yaml", V1_6_POLICY.getBytes(StandardCharsets.UTF_8), false);
    assertThat(r.errors()).isEmpty();
    assertThat(r.objects()).singleElement().satisfies(p -> {
      io.sluice.model.NetworkPolicy np = (io.sluice.model.NetworkPolicy) p.value();
      assertThat(np.ref()).isEqualTo(new ObjectRef("default", "test-network-policy"));
      assertThat(np.allowOnly()).isTrue();
      assertThat(np.ingress().get(0).ports().get(0).protocol()).isEqualTo(io.sluice.model.Protocol.TCP);
    });
    assertThat(r.warnings()).extracting(SourceError::field).containsExactly("apiVersion",
        "spec.ingress[0].ports[0].protocol");
    assertThat(r.warnings()).allSatisfy(w -> assertThat(w.reason()).startsWith("Deprecated: "));
    assertThat(r.warnings().get(1).reason()).startsWith("Deprecated: \"tcp\" read as \"TCP\"");

    // Without the flag it is refused as the API server refuses it, and lowercase tcp stays invalid in v1.
    assertThat(yaml(V1_6_POLICY).errors()).extracting(SourceError::message).containsExactly(
        "apiVersion: Unsupported value: \"extensions/v1beta1\": supported values: \"networking.k8s.io/v1\"");
    ManifestParser.Result v1 = legacy.parse("dir/np.yaml", V1_6_POLICY.replace("extensions/v1beta1",
        "networking.k8s.io/v1").getBytes(StandardCharsets.UTF_8), false);
    assertThat(v1.objects()).isEmpty();
    assertThat(v1.errors()).extracting(SourceError::field).containsExactly("spec.ingress[0].ports[0].protocol");
  }

  @Test
  void theLegacyAnnotationWithoutTheFlagIsAWarningAndTheNamespaceIsRead() {
    ManifestParser.Result r = yaml(ANNOTATED);
    assertThat(r.errors()).isEmpty();
    assertThat(r.objects()).hasSize(1);
    assertThat(r.warnings()).singleElement().hasToString("dir/f.yaml doc 0 (line 1) Namespace default: "
        + "metadata.annotations[net.beta.kubernetes.io/network-policy]: Ignored: this pre-v1 isolation annotation has "
        + "no effect unless Sluice runs with --legacy-isolation; NetworkPolicies alone isolate pods");
    ManifestParser legacy = new ManifestParser(new ObjectConverter(), ManifestSource.Limits.defaults(), true);
    assertThat(legacy.parse("f.yaml", ANNOTATED.getBytes(StandardCharsets.UTF_8), false).warnings()).isEmpty();
  }
}
