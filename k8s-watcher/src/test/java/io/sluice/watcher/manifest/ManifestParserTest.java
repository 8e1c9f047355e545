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
}
