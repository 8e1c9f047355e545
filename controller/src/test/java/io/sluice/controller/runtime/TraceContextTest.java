package io.sluice.controller.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.controller.session.SwitchPort;
import io.sluice.controller.sync.SwitchStatus;
import io.sluice.model.ClusterModel;
import io.sluice.model.ObjectRef;
import io.sluice.model.PortBinding;
import io.sluice.model.Snapshot;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.policy.PolicyCompiler;
import io.sluice.renderer.policy.PolicyIndex;
import io.sluice.watcher.manifest.ManifestSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What /api/v1/trace answers from a model: both ends with their switch, bridge (the LOCAL port's name), port and MAC
 * when bound; the reference verdict with its sides; rule names for policy cookies only; 400-worthy errors naming the
 * parameter.
 */
class TraceContextTest {
  @TempDir
  Path dir;
  Snapshot snap;
  final List<SwitchStatus> switches = List.of(new SwitchStatus("00:00:00:00:00:00:00:2a", true, "OF1.5", "x", "EQUAL",
      1, 10, 0, 2, true, null, List.of(new SwitchPort(0xfffffffeL, "br-int", "00:00:00:00:00:01", true),
      new SwitchPort(7, "db-veth", "00:00:00:00:00:02", true))));

  @BeforeEach
  void model() throws Exception {
    Files.writeString(dir.resolve("c.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: shop}", "---",
        "apiVersion: v1", "kind: Pod", "metadata: {name: web, namespace: shop, labels: {app: web}}",
        "spec: {containers: [{name: c, image: x}]}", "status: {podIP: 10.0.0.1}", "---",
        "apiVersion: v1", "kind: Pod", "metadata: {name: db, namespace: shop, labels: {app: db}}",
        "spec: {containers: [{name: c, image: x}]}", "status: {podIP: 10.0.0.2}", "---",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: db-allow, namespace: shop}",
        "spec:", "  podSelector: {matchLabels: {app: db}}", "  ingress:",
        "  - from: [{podSelector: {matchLabels: {app: web}}}]", "    ports: [{port: 5432}]", "---",
        "apiVersion: v1", "kind: Service", "metadata: {name: dbs, namespace: shop}",
        "spec: {clusterIP: 10.96.0.5, selector: {app: db}, ports: [{port: 5432}]}", ""));
    Snapshot s = load(dir);
    ObjectRef db = new ObjectRef("shop", "db");
    snap = new Snapshot(s.generation(), s.namespaces(), s.pods(),
        Map.of(db, new PortBinding(db, 42, 7, "0a:58:0a:00:00:02")), s.networkPolicies(), s.services(),
        s.endpointSlices(), s.switchPorts(), s.nodes());
  }

  /** The model of a manifest directory. */
  private static Snapshot load(Path manifests) throws Exception {
    ClusterModel model = new ClusterModel(1);
    ManifestSource source = new ManifestSource(manifests, Duration.ofMillis(10), 1);
    source.start(model::apply);
    source.stop();
    return model.snapshot();
  }

  @Test
  void bothEndsAndTheReferenceVerdict() {
    Map<String, Object> c = TraceContext.of(snap, switches, false, "shop/web", "10.0.0.2", "5432/tcp");
    assertThat(c).containsEntry("protocol", "TCP").containsEntry("port", 5432);
    @SuppressWarnings("unchecked") Map<String, Object> from = (Map<String, Object>) c.get("from");
    @SuppressWarnings("unchecked") Map<String, Object> to = (Map<String, Object>) c.get("to");
    assertThat(from).containsEntry("pod", "shop/web").containsEntry("ip", "10.0.0.1").doesNotContainKey("ofport");
    assertThat(to).containsEntry("pod", "shop/db").containsEntry("ofport", 7L).containsEntry("bridge", "br-int")
        .containsEntry("portName", "db-veth").containsEntry("mac", "0a:58:0a:00:00:02")
        .containsEntry("datapathId", "00:00:00:00:00:00:00:2a").containsEntry("connected", true)
        .containsEntry("realizedGeneration", 1L);
    @SuppressWarnings("unchecked") Map<String, Object> ref = (Map<String, Object>) c.get("reference");
    assertThat(ref).containsEntry("allowed", true);
    assertThat(ref.get("ingress").toString()).contains("ISOLATED").contains("shop/db-allow ingress rule 0");
    Map<String, Object> denied = TraceContext.of(snap, switches, false, "shop/db", "shop/db", "22");
    assertThat(((Map<?, ?>) denied.get("reference")).get("allowed")).as("a pod may reach itself").isEqualTo(true);
    Map<String, Object> other = TraceContext.of(snap, switches, false, "shop/web", "shop/db", "5433");
    assertThat(((Map<?, ?>) other.get("reference")).get("allowed")).isEqualTo(false);
  }

  @Test
  void badInputNamesTheParameter() {
    assertThatThrownBy(() -> TraceContext.of(snap, switches, false, "shop/nope", "shop/db", "5432"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("from shop/nope");
    assertThatThrownBy(() -> TraceContext.of(snap, switches, false, "shop/web", "not an ip", "5432"))
        .hasMessageStartingWith("to: ");
    assertThatThrownBy(() -> TraceContext.of(snap, switches, false, "shop/web", "shop/db", "0"))
        .hasMessageStartingWith("port 0");
    assertThatThrownBy(() -> TraceContext.of(snap, switches, false, "shop/web", "shop/db", "53/icmp"))
        .hasMessageContaining("TCP, UDP or SCTP");
    assertThatThrownBy(() -> TraceContext.of(snap, switches, false, "shop/web", null, "53"))
        .hasMessageContaining("required");
    assertThatThrownBy(() -> TraceContext.of(snap, switches, false, "shop/web", "shop/dbs", "5433"))
        .hasMessageStartingWith("to: Service shop/dbs has no port TCP 5433");
  }

  @Test
  @SuppressWarnings("unchecked")
  void aServiceByVirtualAddressOrNameHasEachEndpointWithItsReferenceVerdict() {
    for (String to : List.of("10.96.0.5", "shop/dbs")) {
      Map<String, Object> c = TraceContext.of(snap, switches, false, "shop/web", to, "5432");
      assertThat((Map<Object, Object>) c.get("to")).as(to).containsEntry("service", "shop/dbs")
          .containsEntry("ip", "10.96.0.5");
      Map<Object, Object> svc = (Map<Object, Object>) c.get("service");
      assertThat(svc).containsEntry("name", "shop/dbs").containsEntry("virtualAddress", "10.96.0.5")
          .containsEntry("port", 5432).containsEntry("refused", false).containsEntry("sessionAffinity", "NONE")
          .containsEntry("byName", !to.startsWith("10."));
      List<Object> endpoints = (List<Object>) svc.get("endpoints");
      assertThat(endpoints).hasSize(1);
      Map<Object, Object> db = (Map<Object, Object>) endpoints.get(0);
      assertThat(db).containsEntry("address", "10.0.0.2").containsEntry("port", 5432).containsEntry("pod", "shop/db");
      assertThat((Map<Object, Object>) db.get("to")).containsEntry("ofport", 7L).containsEntry("bridge", "br-int");
      assertThat((Map<Object, Object>) db.get("reference")).containsEntry("allowed", true);
      // the endpoint's own verdict: db's ingress admits web on 5432 (the target port), so the Service's too
      assertThat(((Map<Object, Object>) c.get("reference")).get("allowed")).isEqualTo(true);
      assertThatThrownBy(() -> TraceContext.packetOutRequest(c, null)).hasMessageContaining("Service shop/dbs's virtual "
          + "address");
    }
    // db reaching itself through its own Service: a pod with itself is not governed, whatever db-allow says
    Map<String, Object> self = TraceContext.of(snap, switches, false, "shop/db", "10.96.0.5", "5432");
    Map<Object, Object> only = (Map<Object, Object>) ((List<Object>) ((Map<Object, Object>) self.get("service")).get("endpoints")).get(0);
    assertThat((Map<Object, Object>) only.get("reference")).as("a pod reaching itself through its Service")
        .containsEntry("allowed", true);
    // a pod with the Service's name is the pod (a pod wins), and a virtual address on another port is an address
    assertThat(TraceContext.of(snap, switches, false, "shop/web", "10.96.0.5", "80")).doesNotContainKey("service");
  }

  @Test
  void aNodePortIsRefusedWithWhatToTraceInstead() throws Exception {
    Path d = Files.createDirectories(dir.resolve("np"));
    Files.writeString(d.resolve("c.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: shop}", "---",
        "apiVersion: v1", "kind: Pod", "metadata: {name: web, namespace: shop, labels: {app: web}}",
        "spec: {containers: [{name: c, image: x}]}", "status: {podIP: 10.0.0.1}", "---",
        "apiVersion: v1", "kind: Node", "metadata: {name: n1}",
        "status: {addresses: [{type: InternalIP, address: 192.168.1.10}]}", "---",
        "apiVersion: v1", "kind: Service", "metadata: {name: front, namespace: shop}",
        "spec: {type: NodePort, clusterIP: 10.96.0.9, selector: {app: web}, ports: [{port: 80, nodePort: 30080}]}", ""));
    Snapshot s = load(d);
    assertThatThrownBy(() -> TraceContext.of(s, switches, false, "shop/web", "192.168.1.10", "30080/tcp"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Service shop/front's NodePort on node n1")
        .hasMessageContaining("--to shop/front --port 80/TCP");
    // the node's address on another port, and another address on the NodePort, are addresses
    assertThat(TraceContext.of(s, switches, false, "shop/web", "192.168.1.10", "22/tcp")).doesNotContainKey("service");
    assertThat(TraceContext.of(s, switches, false, "shop/web", "192.168.1.11", "30080/tcp")).doesNotContainKey("service");
  }

  @Test
  void policyCookiesAreNamedOthersAreNot() {
    PolicyIndex index = PolicyIndex.of(snap);
    PolicyCompiler.RuleRef r = index.rules().get(0);
    String cookie = Cookie.of(Cookie.Category.POLICY, 0x1234, r.id()).toString();
    String isolation = Cookie.of(Cookie.Category.ISOLATION, 1, 0).toString();
    Map<String, Object> names = TraceContext.rules(index, cookie + "," + isolation + ",0x1234");
    assertThat(names).containsOnlyKeys(cookie);
    assertThat(names.get(cookie).toString()).contains("policy=shop/db-allow").contains("direction=ingress")
        .contains("rule=0");
    assertThat(TraceContext.rules(index, "")).isEmpty();
    assertThatThrownBy(() -> TraceContext.rules(index, "0xzz")).hasMessageContaining("not a hexadecimal cookie");
  }
}
