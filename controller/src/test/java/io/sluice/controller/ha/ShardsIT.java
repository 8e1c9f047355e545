package io.sluice.controller.ha;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.sluice.controller.sync.SwitchManager;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.SluiceProcess;
import io.sluice.watcher.testing.MockApiServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.projectfloodlight.openflow.types.DatapathId;

/**
 * Two shards on two real OVS bridges, two replicas: each replica leads one shard (one Lease each); killing one moves
 * only its shard to the other, whose own shard keeps its leader and term.
 */
class ShardsIT {
  @TempDir
  Path dir;

  @Test
  void eachReplicaLeadsAShardAndAShardFailsOverAlone() throws Exception {
    long[] dpids = new long[2];
    for (long d = 0x7e40; dpids[0] == 0 || dpids[1] == 0; d++) {
      int shard = SwitchManager.shardOf(d, 2);
      if (dpids[shard] == 0) {
        dpids[shard] = d;
      }
    }
    assertThat(Leadership.preferredShard("a", 2)).isNotEqualTo(Leadership.preferredShard("b", 2));
    try (MockApiServer api = new MockApiServer(); KubernetesClient kc = api.client(); Ovs ovs = new Ovs()) {
      kc.resource(new NamespaceBuilder().withNewMetadata().withName("ha").endMetadata().build()).create();
      Path kubeconfig = api.kubeconfig(dir);
      String[] common = {"--kubeconfig", kubeconfig.toString(), "--leader-elect", "--lease-namespace", "ha",
          "--lease-duration", "6s", "--renew-deadline", "4s", "--retry-period", "500ms", "--shards", "2"};
      try (SluiceProcess a = new SluiceProcess("a", dir, SluiceProcess.args(common, "--identity", "a"));
           SluiceProcess b = new SluiceProcess("b", dir, SluiceProcess.args(common, "--identity", "b"))) {
        Map<String, SluiceProcess> replicas = Map.of("a", a, "b", b);
        String[] bridges = new String[2];
        for (int i = 0; i < 2; i++) {
          bridges[i] = ovs.bridge("s" + i, dpids[i], "OpenFlow13,OpenFlow14,OpenFlow15", 1);
          Ovs.setControllers(bridges[i], a.openflowPort, b.openflowPort);
        }
        String sw0 = DatapathId.of(dpids[0]).toString();
        String sw1 = DatapathId.of(dpids[1]).toString();
        try {
          await(45, "each shard led and realized by its holder", () -> {
            String h0 = holder(kc, 0);
            String h1 = holder(kc, 1);
            return h0 != null && h1 != null && replicas.get(h0).realizedAsMaster(sw0)
                && replicas.get(h1).realizedAsMaster(sw1);
          });
        } catch (AssertionError e) {
          throw new AssertionError(e.getMessage() + "\n--- a:\n" + a.log() + "\n--- b:\n" + b.log(), e);
        }
        assertThat(holder(kc, 0)).as("replicas spread over the shards\n--- a:\n%s\n--- b:\n%s", a.log(), b.log())
            .isNotEqualTo(holder(kc, 1));
        SluiceProcess lead0 = replicas.get(holder(kc, 0));
        SluiceProcess lead1 = replicas.get(holder(kc, 1));
        // Each replica asks for SLAVE on the other shard's switch once it has observed that shard's leader (the
        // elector reports it a retry period or so after the leader won); until then it stands by and writes nothing.
        try {
          await(10, "each replica is SLAVE on the shard it does not lead", () ->
              "SLAVE".equals(lead1.sw(sw0).get("role").asText()) && "SLAVE".equals(lead0.sw(sw1).get("role").asText()));
        } catch (AssertionError e) {
          throw new AssertionError(e.getMessage() + ": " + lead1.name + " on " + sw0 + " " + lead1.sw(sw0) + ", "
              + lead0.name + " on " + sw1 + " " + lead0.sw(sw1) + "\n--- a:\n" + a.log() + "\n--- b:\n" + b.log(), e);
        }
        int term1 = transitions(kc, 1);
        String flowsOf1 = String.join("\n", ovs.flows(bridges[1]));

        lead0.kill();
        await(20, "shard 0 moves to the other replica", () -> lead1.name.equals(holder(kc, 0))
            && lead1.realizedAsMaster(sw0));
        assertThat(holder(kc, 1)).as("shard 1 keeps its leader").isEqualTo(lead1.name);
        assertThat(transitions(kc, 1)).as("and its term").isEqualTo(term1);
        assertThat(lead1.realizedAsMaster(sw1)).isTrue();
        assertThat(String.join("\n", ovs.flows(bridges[1]))).isEqualTo(flowsOf1);
        assertThat(lead1.log()).contains("leader of shard 0").doesNotContain("lost the lead of shard 1");
      }
    }
  }


  private static String holder(KubernetesClient kc, int shard) {
    Lease l = kc.resources(Lease.class).inNamespace("ha").withName("sluice-shard-" + shard).get();
    return l == null || l.getSpec() == null ? null : l.getSpec().getHolderIdentity();
  }

  private static int transitions(KubernetesClient kc, int shard) {
    Lease l = kc.resources(Lease.class).inNamespace("ha").withName("sluice-shard-" + shard).get();
    Integer n = l.getSpec().getLeaseTransitions();
    return n == null ? 0 : n;
  }

  private static void await(int seconds, String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return;
      }
      Ovs.sleep(50);
    }
    throw new AssertionError("not within " + seconds + " s: " + what);
  }
}
