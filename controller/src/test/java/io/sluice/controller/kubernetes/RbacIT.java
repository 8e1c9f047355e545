package io.sluice.controller.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.sluice.controller.ha.Leadership;
import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.watcher.testing.MockApiServer;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/kubernetes/rbac.yaml grants exactly what Sluice uses: Sluice runs against the mock API server with every
 * feature that talks to it (the six informers, leader election, an Event for a refused object, a graceful shutdown
 * that gives the Lease up), every request it makes is recorded and turned into (API group, resource, verb), and that
 * set must equal the rules' set: nothing used is missing, nothing granted is unused.
 */
class RbacIT {
  @TempDir
  Path dir;

  private static final Pattern PATH = Pattern.compile(
      "^/(?:api/v1|apis/([^/]+)/v1)(?:/namespaces/([^/?]+))?/([^/?]+)(?:/([^/?]+))?(?:\\?(.*))?$");

  @Test
  void theRulesCoverEveryCallAndNothingMore() throws Exception {
    try (MockApiServer api = new MockApiServer(); KubernetesClient kc = api.client()) {
      kc.resource(new NamespaceBuilder().withNewMetadata().withName("sluice-system").endMetadata().build()).create();
      kc.resource(new NamespaceBuilder().withNewMetadata().withName("app").endMetadata().build()).create();
      kc.resource(new NetworkPolicyBuilder().withNewMetadata().withNamespace("app").withName("bad").endMetadata()
          .withNewSpec().withNewPodSelector().endPodSelector().addNewIngress().addNewPort().withProtocol("ICMP")
          .endPort().endIngress().endSpec().build()).create();
      int before = api.requests().size();
      RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0),
          new InetSocketAddress("127.0.0.1", 0), Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 1, null,
          List.of(), null, false, new RuntimeConfig.Kubernetes(api.kubeconfig(dir)),
          new Leadership.Settings("sluice-system", "sluice", "rbac-test", Duration.ofSeconds(2),
              Duration.ofMillis(1500), Duration.ofMillis(250), 1));
      try (SluiceRuntime rt = SluiceRuntime.start(cfg)) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline && (kc.v1().events().inNamespace("app").list().getItems().isEmpty()
            || leaseHolder(kc).isEmpty() || api.requests().stream().noneMatch(r -> r.startsWith("PATCH ") && r.contains("/leases/")))) {
          Thread.sleep(50);
        }
      }
      Set<String> used = new TreeSet<>();
      for (String r : api.requests().subList(before, api.requests().size())) {
        if (r.contains("/api/v1/namespaces/app/events?") || r.endsWith("/api/v1/namespaces/app/events")) {
          // the test's own reads of Events are recorded too; Sluice only creates them
          if (!r.startsWith("POST ")) {
            continue;
          }
        }
        used.add(call(r));
      }
      // (the test's own Lease reads are GETs Sluice makes as well, so they change nothing)
      Set<String> granted = new TreeSet<>();
      for (HasMetadata o : DeploymentManifestsTest.load(Path.of("..", "deploy", "kubernetes", "rbac.yaml"))) {
        List<PolicyRule> rules = o instanceof ClusterRole c ? c.getRules() : o instanceof Role r ? r.getRules()
            : List.of();
        for (PolicyRule rule : rules) {
          for (String g : rule.getApiGroups()) {
            for (String res : rule.getResources()) {
              for (String v : rule.getVerbs()) {
                granted.add(g + "/" + res + ":" + v);
              }
            }
          }
        }
      }
      assertThat(used).as("calls Sluice made").isSubsetOf(granted);
      assertThat(granted).as("rules granted").isSubsetOf(used);
    }
  }

  private static String leaseHolder(KubernetesClient kc) {
    Lease l = kc.resources(Lease.class).inNamespace("sluice-system").withName("sluice").get();
    return l == null || l.getSpec() == null || l.getSpec().getHolderIdentity() == null ? ""
        : l.getSpec().getHolderIdentity();
  }

  /** {@code METHOD PATH} as {@code group/resource:verb}. */
  static String call(String request) {
    String method = request.substring(0, request.indexOf(' '));
    String path = request.substring(request.indexOf(' ') + 1);
    Matcher m = PATH.matcher(path);
    if (!m.matches()) {
      return "unrecognized:" + request;
    }
    String group = m.group(1) == null ? "" : m.group(1);
    String resource = m.group(3);
    boolean named = m.group(4) != null;
    String query = m.group(5) == null ? "" : m.group(5);
    String verb = switch (method) {
      case "GET" -> query.contains("watch=true") ? "watch" : named ? "get" : "list";
      case "POST" -> "create";
      case "PUT" -> "update";
      case "PATCH" -> "patch";
      case "DELETE" -> "delete";
      default -> method;
    };
    return group + "/" + resource + ":" + verb;
  }
}
