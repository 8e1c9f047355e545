package io.sluice.controller.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.sync.SwitchStatus;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.Sh;
import io.sluice.watcher.informer.ObjectEvents;
import io.sluice.watcher.testing.MockApiServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sluice against a Kubernetes API server (fabric8's mock in CRUD mode: a real HTTP API with watches), on a real OVS
 * bridge with namespace hosts: objects created, changed and deleted through the API change real TCP traffic; the API
 * server stops and comes back with changes made meanwhile; an invalid object becomes an Event and an error.
 */
class KubernetesApiIT {
  @TempDir
  Path dir;

  private static final Map<String, String> IPS = Map.of("web", "10.72.0.1", "db", "10.72.0.2", "prb", "10.72.0.3");

  private static Pod pod(String ns, String name, String ip, Map<String, String> labels, String portName, int port) {
    return new PodBuilder().withNewMetadata().withNamespace(ns).withName(name).withLabels(labels)
        .withAnnotations(Map.of("kubectl.kubernetes.io/last-applied-configuration", "{}")).endMetadata()
        .withNewSpec().withNodeName("node-1").addNewContainer().withName("c").withImage("registry.local/app:1")
        .addNewPort().withName(portName).withContainerPort(port).endPort().endContainer().endSpec()
        .withNewStatus().withPhase("Running").withPodIP(ip).addNewPodIP(ip).addNewCondition().withType("Ready")
        .withStatus("True").endCondition().endStatus().build();
  }

  private static NetworkPolicy dbAllowsWeb() {
    return new NetworkPolicyBuilder().withNewMetadata().withNamespace("shop").withName("db-allow").endMetadata()
        .withNewSpec().withNewPodSelector().addToMatchLabels("app", "db").endPodSelector()
        .addNewIngress().addNewFrom().withNewPodSelector().addToMatchLabels("app", "web").endPodSelector().endFrom()
        .addNewPort().withNewPort("pg").endPort().endIngress().endSpec().build();
  }

  @Test
  void objectsThroughTheApiChangeRealTrafficAndSurviveAnApiServerRestart() throws Exception {
    List<Process> servers = new ArrayList<>();
    try (MockApiServer api = new MockApiServer(); KubernetesClient kc = api.client()) {
      kc.resource(new NamespaceBuilder().withNewMetadata().withName("shop").endMetadata().build()).create();
      kc.resource(pod("shop", "web", IPS.get("web"), Map.of("app", "web"), "http", 80)).create();
      kc.resource(pod("shop", "db", IPS.get("db"), Map.of("app", "db"), "pg", 5432)).create();
      kc.resource(pod("shop", "probe", IPS.get("prb"), Map.of("app", "probe"), "http", 80)).create();
      kc.resource(dbAllowsWeb()).create();
      RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0),
          new InetSocketAddress("127.0.0.1", 0), Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, null,
          List.of("unix:/var/run/openvswitch/db.sock"), null, false,
          new RuntimeConfig.Kubernetes(api.kubeconfig(dir)));
      try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
        String br = ovs.bridge("ka", 0x7e21, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
        ovs.host(br, "web", IPS.get("web") + "/24", "0a:58:0a:48:00:01", "shop", "web");
        ovs.host(br, "db", IPS.get("db") + "/24", "0a:58:0a:48:00:02", "shop", "db");
        ovs.host(br, "prb", IPS.get("prb") + "/24", "0a:58:0a:48:00:03", "shop", "probe");
        for (String[] s : new String[][] {{"db", "5432"}, {"web", "80"}, {"prb", "80"}}) {
          servers.add(new ProcessBuilder("ip", "netns", "exec", ovs.name(s[0]), "nc", "-lk", "-p", s[1]).start());
        }
        awaitRealized(rt, 3);
        assertThat(get(rt, "/readyz").statusCode()).isEqualTo(200);
        Map<String, Boolean> expected = new LinkedHashMap<>();
        expected.put("web db 5432", true);
        expected.put("prb db 5432", false); // only app=web may reach db
        expected.put("db web 80", true);
        assertMatrix(ovs, expected);

        // A label patched through the API: probe becomes a web client.
        kc.pods().inNamespace("shop").withName("probe").edit(p -> new PodBuilder(p).editMetadata()
            .addToLabels("app", "web").endMetadata().build());
        awaitModel(rt, () -> rt.model().snapshot().pods().values().stream()
            .anyMatch(p -> p.ref().name().equals("probe") && "web".equals(p.labels().get("app"))));
        awaitRealized(rt, 3);
        expected.put("prb db 5432", true);
        assertMatrix(ovs, expected);

        // The API server goes away: the last state stays enforced, /readyz says why.
        api.stop();
        awaitModel(rt, () -> get(rt, "/readyz").statusCode() == 503);
        assertThat(get(rt, "/readyz").body()).contains("Kubernetes API watch lost");
        assertMatrix(ovs, expected);
        // Changed meanwhile (through another API server in front of the same store): the policy goes away and
        // the probe is a probe again. When the API server is back, only that difference is applied.
        api.whileStopped(other -> {
          other.pods().inNamespace("shop").withName("probe").edit(p -> new PodBuilder(p).editMetadata()
              .addToLabels("app", "probe").endMetadata().build());
          other.network().v1().networkPolicies().inNamespace("shop").withName("db-allow").delete();
        });
        long before = rt.model().generation();
        api.start();
        awaitModel(rt, () -> rt.model().snapshot().networkPolicies().isEmpty());
        awaitModel(rt, () -> get(rt, "/readyz").statusCode() == 200);
        awaitRealized(rt, 3);
        assertThat(rt.model().generation() - before).as("generations for the difference").isBetween(1L, 2L);
        expected.put("prb db 5432", true); // no policy: db is open again
        expected.put("prb web 80", true);
        assertMatrix(ovs, expected);

        // A policy the converter refuses: an Event on it and an error on /api/v1/errors; the others still apply.
        NetworkPolicy bad = new NetworkPolicyBuilder().withNewMetadata().withNamespace("shop").withName("bad")
            .endMetadata().withNewSpec().withNewPodSelector().endPodSelector().addNewIngress().addNewPort()
            .withProtocol("ICMP").endPort().endIngress().endSpec().build();
        kc.resource(bad).create();
        kc.resource(dbAllowsWeb()).create();
        awaitModel(rt, () -> !kc.v1().events().inNamespace("shop").list().getItems().isEmpty());
        var event = kc.v1().events().inNamespace("shop").list().getItems().get(0);
        assertThat(event.getReason()).isEqualTo(ObjectEvents.REASON);
        assertThat(event.getInvolvedObject().getName()).isEqualTo("bad");
        JsonNode errors = new ObjectMapper().readTree(get(rt, "/api/v1/errors").body());
        assertThat(errors).hasSize(1);
        assertThat(errors.get(0).get("object").asText()).isEqualTo("NetworkPolicy shop/bad");
        assertThat(errors.get(0).get("message").asText()).isEqualTo(event.getMessage());
        awaitModel(rt, () -> rt.model().snapshot().networkPolicies().size() == 1);
        awaitRealized(rt, 3);
        expected.put("prb db 5432", false);
        assertMatrix(ovs, expected);

        // Deleted through the API.
        kc.pods().inNamespace("shop").withName("web").delete();
        awaitModel(rt, () -> rt.model().snapshot().pods().size() == 2);
      }
    } finally {
      servers.forEach(Process::destroyForcibly);
    }
  }

  /**
   * A rule the switch refuses (its IngressRule table is full, as in FailClosedIT) is reported where operators of a
   * cluster look: a Warning Event on the policy, with the text /api/v1/errors has.
   */
  @Test
  void aRuleTheSwitchRefusesBecomesAnEventOnItsPolicy() throws Exception {
    try (MockApiServer api = new MockApiServer()) {
      try (KubernetesClient kc = api.client()) {
        kc.resource(new NamespaceBuilder().withNewMetadata().withName("shop").endMetadata().build()).create();
        kc.resource(pod("shop", "web", "10.73.0.1", Map.of("app", "web"), "http", 80)).create();
        kc.resource(pod("shop", "db", "10.73.0.2", Map.of("app", "db"), "pg", 5432)).create();
        kc.resource(dbAllowsWeb()).create();
      }
      RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0),
          new InetSocketAddress("127.0.0.1", 0), Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, null,
          List.of("unix:/var/run/openvswitch/db.sock"), null, false, new RuntimeConfig.Kubernetes(api.kubeconfig(dir)));
      try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg); KubernetesClient kc = api.client()) {
        String br = ovs.bridge("ke", 0x7e23, "OpenFlow13,OpenFlow14,OpenFlow15", 0);
        // table 40 takes two flows: its miss flow and db's default deny; the rule's flows do not fit
        Sh.run("ovs-vsctl", "--", "--id=@ft", "create", "Flow_Table", "flow_limit=2", "overflow_policy=refuse",
            "--", "set", "Bridge", br, "flow_tables:40=@ft");
        ovs.setController(br, rt.openflowPort());
        ovs.host(br, "web", "10.73.0.1/24", "0a:58:0a:49:00:01", "shop", "web");
        ovs.host(br, "db", "10.73.0.2/24", "0a:58:0a:49:00:02", "shop", "db");
        awaitModel(rt, () -> !rt.switches().withheldRules().isEmpty());
        awaitModel(rt, () -> kc.v1().events().inNamespace("shop").list().getItems().stream()
            .anyMatch(e -> e.getInvolvedObject().getName().equals("db-allow")));
        var event = kc.v1().events().inNamespace("shop").list().getItems().stream()
            .filter(e -> e.getInvolvedObject().getName().equals("db-allow")).findFirst().orElseThrow();
        assertThat(event.getType()).isEqualTo("Warning");
        assertThat(event.getReason()).isEqualTo(ObjectEvents.REASON);
        assertThat(event.getInvolvedObject().getKind()).isEqualTo("NetworkPolicy");
        assertThat(event.getMessage()).contains("TABLE_FULL").contains("stay isolated");
        JsonNode errors = new ObjectMapper().readTree(get(rt, "/api/v1/errors").body());
        assertThat(errors.findValuesAsText("message")).contains(event.getMessage());
        // reported once however often the switch refuses it again (ObjectEvents drops repeats)
        Ovs.sleep(4500);
        assertThat(kc.v1().events().inNamespace("shop").list().getItems().stream()
            .filter(e -> e.getInvolvedObject().getName().equals("db-allow")).count()).isEqualTo(1);
      }
    }
  }

  @Test
  void anIgnoredPreV1AnnotationFromTheApiIsAWarning() throws Exception {
    try (MockApiServer api = new MockApiServer()) {
      try (KubernetesClient kc = api.client()) {
        kc.resource(new NamespaceBuilder().withNewMetadata().withName("old").addToAnnotations(
            "net.beta.kubernetes.io/network-policy", "{\"ingress\": {\"isolation\": \"DefaultDeny\"}}")
            .endMetadata().build()).create();
      }
      RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0),
          new InetSocketAddress("127.0.0.1", 0), Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, null,
          List.of(), null, false, new RuntimeConfig.Kubernetes(api.kubeconfig(dir)));
      try (SluiceRuntime rt = SluiceRuntime.start(cfg)) {
        awaitModel(rt, () -> rt.model().snapshot().namespaces().containsKey("old"));
        JsonNode warnings = new ObjectMapper().readTree(get(rt, "/api/v1/warnings").body());
        assertThat(warnings.findValuesAsText("object")).containsExactly("Namespace old");
        assertThat(warnings.get(0).get("reason").asText()).startsWith("Ignored: ").contains("--legacy-isolation");
      }
    }
  }

  @Test
  void noFlowChangesUntilEveryInformerHasListed() throws Exception {
    try (MockApiServer api = new MockApiServer()) {
      try (KubernetesClient kc = api.client()) {
        kc.resource(new NamespaceBuilder().withNewMetadata().withName("shop").endMetadata().build()).create();
        kc.resource(pod("shop", "db", IPS.get("db"), Map.of("app", "db"), "pg", 5432)).create();
      }
      api.stop(); // unreachable when Sluice starts
      RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0),
          new InetSocketAddress("127.0.0.1", 0), Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, null,
          List.of(), null, false, new RuntimeConfig.Kubernetes(api.kubeconfig(dir)));
      try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
        // A controller target first (port 1: nobody), as OVS flushes a bridge's flows when it gets its first one.
        String br = ovs.bridge("kh", 0x7e22, "OpenFlow13,OpenFlow14,OpenFlow15", 1);
        // What the switch enforces from before (e.g. an earlier Sluice): it must stay until the cluster is read.
        Sh.run("ovs-ofctl", "-O", "OpenFlow13", "add-flow", br, "table=0,priority=7,cookie=0x5151,ip,actions=drop");
        ovs.setController(br, rt.openflowPort());
        awaitModel(rt, () -> rt.switches().statuses().stream().anyMatch(SwitchStatus::connected));
        Ovs.sleep(1500);
        assertThat(ovs.flows(br)).as("flows while the informers have not listed").singleElement()
            .asString().contains("cookie=0x5151");
        var ready = get(rt, "/readyz");
        assertThat(ready.statusCode()).isEqualTo(503);
        assertThat(ready.body()).contains("Kubernetes informers not synced yet");
        long empty = rt.model().generation();
        assertThat(rt.model().snapshot().pods()).isEmpty();
        api.start();
        awaitModel(rt, () -> rt.model().snapshot().pods().size() == 1);
        awaitModel(rt, () -> rt.switches().statuses().stream()
            .allMatch(st -> st.connected() && st.realizedGeneration() == rt.model().generation()));
        assertThat(rt.model().generation()).as("the listed state arrives as one generation").isEqualTo(empty + 1);
        // Now realized (the marker is not Sluice's: reconcile leaves foreign cookies alone).
        assertThat(ovs.flows(br)).hasSizeGreaterThan(5).anyMatch(f -> f.contains("cookie=0x5c01"));
        assertThat(get(rt, "/readyz").statusCode()).isEqualTo(200);
      }
    }
  }

  /**
   * As a user would: {@code kubectl apply -f examples/demo} against the API server (the mock, with the discovery
   * documents kubectl needs; {@code --validate=false} because it serves no OpenAPI schema), then
   * {@code kubectl delete} of the policies.
   */
  @Test
  void kubectlApplyOfTheDemoIsEnforced() throws Exception {
    Path demo = Path.of("..", "examples", "demo").toAbsolutePath().normalize();
    Map<String, String> ips = Map.of("web1", "10.244.0.11", "api1", "10.244.0.21", "db1", "10.244.0.22");
    List<Process> servers = new ArrayList<>();
    try (MockApiServer api = new MockApiServer()) {
      Path kubeconfig = api.kubeconfig(dir);
      Sh.Result applied = Sh.exec(60, "kubectl", "--kubeconfig", kubeconfig.toString(), "apply", "--validate=false",
          "-f", demo.toString());
      assertThat(applied.code()).as(applied.toString()).isZero();
      RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0),
          new InetSocketAddress("127.0.0.1", 0), Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, null,
          List.of("unix:/var/run/openvswitch/db.sock"), null, false, new RuntimeConfig.Kubernetes(kubeconfig));
      try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
        String br = ovs.bridge("kd", 0x7e23, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
        ovs.host(br, "web1", ips.get("web1") + "/16", "0a:58:0a:f4:00:0b", "frontend", "web-1");
        ovs.host(br, "api1", ips.get("api1") + "/16", "0a:58:0a:f4:00:15", "backend", "api-1");
        ovs.host(br, "db1", ips.get("db1") + "/16", "0a:58:0a:f4:00:16", "backend", "db-1");
        for (String h : List.of("web1", "api1", "db1")) {
          servers.add(new ProcessBuilder("ip", "netns", "exec", ovs.name(h), "nc", "-lk", "-p", "8080").start());
        }
        awaitModel(rt, () -> rt.model().snapshot().networkPolicies().size() == 2);
        awaitRealized(rt, 3, "frontend", "backend");
        Map<String, Boolean> expected = new LinkedHashMap<>();
        expected.put("api1 db1 8080", true);   // db-from-api
        expected.put("web1 db1 8080", false);
        expected.put("web1 api1 8080", true);  // api-from-frontend: namespace team=web
        expected.put("db1 api1 8080", false);
        expected.put("api1 web1 8080", true);  // web is not isolated
        assertMatrix(ovs, ips, expected);
        Sh.Result deleted = Sh.exec(60, "kubectl", "--kubeconfig", kubeconfig.toString(), "delete",
            "-f", demo.resolve("20-policies.yaml").toString());
        assertThat(deleted.code()).as(deleted.toString()).isZero();
        awaitModel(rt, () -> rt.model().snapshot().networkPolicies().isEmpty());
        awaitRealized(rt, 3, "frontend", "backend");
        expected.replaceAll((k, v) -> true);
        assertMatrix(ovs, ips, expected);
      }
    } finally {
      servers.forEach(Process::destroyForcibly);
    }
  }


  static HttpResponse<String> get(SluiceRuntime rt, String path) {
    try {
      return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + rt.httpPort()
          + path)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static void awaitModel(SluiceRuntime rt, BooleanSupplier condition) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return;
      }
      Ovs.sleep(20);
    }
    throw new AssertionError("condition not met within 20 s; model generation " + rt.model().generation());
  }

  static void awaitRealized(SluiceRuntime rt, int pods) {
    awaitRealized(rt, pods, "shop");
  }

  /** Every connected switch realized the model's generation, with {@code pods} pods of these namespaces bound. */
  static void awaitRealized(SluiceRuntime rt, int pods, String... namespaces) {
    List<String> ns = List.of(namespaces);
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      List<SwitchStatus> st = rt.switches().statuses();
      long bound = rt.model().snapshot().bindings().keySet().stream().filter(r -> ns.contains(r.namespace())).count();
      if (bound == pods && !st.isEmpty()
          && st.stream().allMatch(s -> s.connected() && s.realizedGeneration() == rt.model().generation())) {
        Sh.run("ovs-appctl", "revalidator/purge");
        return;
      }
      Ovs.sleep(20);
    }
    throw new AssertionError("not realized: generation " + rt.model().generation() + ", " + rt.switches().statuses());
  }

  static void assertMatrix(Ovs ovs, Map<String, Boolean> expected) {
    assertMatrix(ovs, IPS, expected);
  }

  static void assertMatrix(Ovs ovs, Map<String, String> ips, Map<String, Boolean> expected) {
    Map<String, CompletableFuture<Boolean>> probes = new LinkedHashMap<>();
    for (String k : expected.keySet()) {
      String[] p = k.split(" ");
      probes.put(k, CompletableFuture.supplyAsync(
          () -> ovs.inHost(p[0], 10, "nc", "-z", "-w", "1", ips.get(p[1]), p[2]).code() == 0));
    }
    Map<String, Boolean> observed = new LinkedHashMap<>();
    probes.forEach((k, f) -> observed.put(k, f.join()));
    assertThat(observed).as("observed TCP connectivity (from to port)").isEqualTo(expected);
  }
}
