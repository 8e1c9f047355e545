package io.sluice.controller.bench;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.SluiceProcess;
import io.sluice.watcher.testing.MockApiServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * {@code ha.failover_s}: two {@code sluice run --leader-elect --lease-duration 2s} processes, one real OVS bridge
 * pointed at both; the leader is killed with SIGKILL and the time to the new leader's first confirmed barrier as
 * MASTER is taken. The killed replica comes back as the standby; median of 5 failovers.
 * <pre>deploy/bench.sh ha</pre>
 */
public final class FailoverBench {
  private static final String DPID = "00:00:00:00:00:00:7e:51";

  private FailoverBench() { }

  public static void main(String[] args) throws Exception {
    Ovs.ensureRunning();
    Path dir = Files.createTempDirectory("sluice-ha-bench");
    List<Double> seconds = new ArrayList<>();
    try (MockApiServer api = new MockApiServer(); KubernetesClient kc = api.client(); Ovs ovs = new Ovs()) {
      kc.resource(new NamespaceBuilder().withNewMetadata().withName("ha").endMetadata().build()).create();
      Path kubeconfig = api.kubeconfig(dir);
      String br = ovs.bridge("hb", 0x7e51, "OpenFlow13,OpenFlow14,OpenFlow15", 1);
      SluiceProcess[] replicas = {start("a", dir, kubeconfig), start("b", dir, kubeconfig)};
      try {
        for (int round = 0; round < 5; round++) {
          Ovs.setControllers(br, replicas[0].openflowPort, replicas[1].openflowPort);
          int leader = await(kc, replicas);
          SluiceProcess standby = replicas[1 - leader];
          long deadline = System.nanoTime() + 20_000_000_000L;
          while (standby.sw(DPID) == null || !"SLAVE".equals(standby.sw(DPID).get("role").asText())) {
            if (System.nanoTime() > deadline) {
              throw new IllegalStateException("standby never SLAVE:\n" + standby.log());
            }
            Thread.sleep(20);
          }
          long t = System.nanoTime();
          replicas[leader].kill();
          while (!standby.realizedAsMaster(DPID)) {
            if (System.nanoTime() - t > 20_000_000_000L) {
              throw new IllegalStateException("no failover:\n" + standby.log());
            }
            Thread.sleep(5);
          }
          double s = (System.nanoTime() - t) / 1e9;
          seconds.add(s);
          System.err.printf(Locale.ROOT, "ha bench: failover %d: %.3f s%n", round + 1, s);
          replicas[leader] = start(replicas[leader].name, dir, kubeconfig);
        }
      } finally {
        for (SluiceProcess p : replicas) {
          p.close();
        }
      }
    }
    Collections.sort(seconds);
    System.out.printf(Locale.ROOT, "BENCH ha.failover_s %.3f s%n", seconds.get(seconds.size() / 2));
  }

  private static SluiceProcess start(String name, Path dir, Path kubeconfig) {
    return new SluiceProcess(name, dir, "--kubeconfig", kubeconfig.toString(), "--leader-elect", "--lease-namespace",
        "ha", "--identity", name, "--lease-duration", "2s", "--renew-deadline", "1500ms", "--retry-period", "250ms");
  }

  /** Index of the replica that holds the Lease and has realized the switch as MASTER. */
  private static int await(KubernetesClient kc, SluiceProcess[] replicas) throws InterruptedException {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (System.nanoTime() < deadline) {
      Lease l = kc.resources(Lease.class).inNamespace("ha").withName("sluice").get();
      String holder = l == null || l.getSpec() == null ? null : l.getSpec().getHolderIdentity();
      for (int i = 0; i < replicas.length; i++) {
        if (replicas[i].name.equals(holder) && replicas[i].realizedAsMaster(DPID)) {
          return i;
        }
      }
      Thread.sleep(20);
    }
    throw new IllegalStateException("no leader realized the switch");
  }

}
