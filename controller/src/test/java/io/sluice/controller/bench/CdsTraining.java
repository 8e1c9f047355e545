package io.sluice.controller.bench;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.sync.SwitchStatus;
import io.sluice.controller.testing.FakeSwitch;
import io.sluice.controller.testing.SluiceProcess;
import io.sluice.model.ModelEvent;
import io.sluice.model.ObjectRef;
import io.sluice.model.PortBinding;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.projectfloodlight.openflow.types.DatapathId;

/**
 * The training run for Sluice's class-data sharing archive ({@code deploy/cds.sh}, run by {@code make build}): Sluice
 * starts as {@code k8s.startup_10k_pods_s} measures it, against an API server in a process of its own
 * ({@link MockApiProcess}, 20 namespaces of the bench's objects) and a switch ({@link FakeSwitch}) holding the pods of
 * one namespace, until the switch has confirmed the first generation. The JVM running it lists the classes it loaded
 * ({@code -XX:DumpLoadedClassList}); the archive is then made from that list for the launcher's class path, where the
 * classes of this harness are not found and are left out.
 */
public final class CdsTraining {
  private static final long DPID = 0x5c000000000000ffL;

  private CdsTraining() { }

  public static void main(String[] args) throws Exception {
    int namespaces = 20;
    Path dir = Files.createTempDirectory("sluice-cds-training");
    EventLoopGroup group = new NioEventLoopGroup(1);
    try (MockApiProcess api = MockApiProcess.start(namespaces, Duration.ofMinutes(3), Duration.ofMinutes(5))) {
      int port = SluiceProcess.freePort();
      RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", port),
          new InetSocketAddress("127.0.0.1", 0), Duration.ofSeconds(5), RuntimeConfig.Role.EQUAL, 0, 2, null,
          List.of(), null, false, new RuntimeConfig.Kubernetes(api.kubeconfig(dir)));
      try (SluiceRuntime rt = SluiceRuntime.start(cfg);
           FakeSwitch sw = FakeSwitch.connect(group, port, DPID, FakeSwitch.Mode.WELL_BEHAVED)) {
        List<ModelEvent> bindings = new ArrayList<>();
        for (int p = 0; p < 10; p++) {
          bindings.add(new ModelEvent.PortBound(new PortBinding(new ObjectRef("ns-0", "pod-" + p), DPID, p + 1,
              String.format("0a:58:0a:00:00:%02x", p))));
        }
        rt.model().apply(bindings);
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (!(rt.informersListed() && rt.model().snapshot().pods().size() == namespaces * 10 && realized(rt))) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("CDS training: Sluice did not realize the first generation in 2 min");
          }
          Thread.sleep(20);
        }
        System.err.printf("CDS training: %d pods realized on %s%n", namespaces * 10, DatapathId.of(DPID));
      }
    } finally {
      group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS);
    }
    System.exit(0); // the class list is written as the JVM exits
  }

  private static boolean realized(SluiceRuntime rt) {
    String name = DatapathId.of(DPID).toString();
    SwitchStatus s = rt.switches().statuses().stream().filter(x -> x.datapathId().equals(name)).findFirst()
        .orElse(null);
    return s != null && s.connected() && s.realizedGeneration() == rt.model().generation();
  }
}
