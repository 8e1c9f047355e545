package io.sluice.controller.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.sluice.controller.testing.FakeSwitch;
import io.sluice.controller.testing.SluiceProcess;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What many switches and a hostile one cost a running Sluice ({@code sluice run} in its own JVM, -Xmx512m, the test
 * class path; a manifest directory with one namespace and one policy, so every switch gets the base pipeline and the
 * policy's flows, about 45 flows each):
 * <ul>
 *   <li>{@code load.switches_5k_rss_mb}, {@code load.switches_5k_threads}: 5,000 simulated switches over loopback
 *   ({@link FakeSwitch}: handshake, echoes, barriers, bundles, empty dumps), each realized (its table pushed and
 *   confirmed), then the process's resident memory and thread count from /proc (targets: under 1,500 MB, threads
 *   independent of the switch count: {@code load.switches_100_threads} is printed beside it);</li>
 *   <li>{@code load.hostile_peer_rss_growth_mb}: the worst flood against the same running Sluice, an echo-request flood
 *   whose replies are never read, for 20 s: the largest resident memory seen minus the resident memory before
 *   (target under 100 MB).</li>
 * </ul>
 * <pre>deploy/bench.sh load</pre>
 */
public final class LoadBench {
  private LoadBench() { }

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 5_000;
    Path dir = Files.createTempDirectory("sluice-load-bench");
    Path manifests = Files.createDirectories(dir.resolve("manifests"));
    Files.writeString(manifests.resolve("all.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: load}", "---",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: deny, namespace: load}",
        "spec: {podSelector: {}, policyTypes: [Ingress]}", ""));
    EventLoopGroup group = new NioEventLoopGroup(2);
    List<FakeSwitch> fakes = new ArrayList<>();
    try (SluiceProcess sluice = new SluiceProcess("load", dir, "--manifests", manifests.toString(),
        "--max-switches", String.valueOf(n + 100), "--max-switches-per-address", String.valueOf(n + 100))) {
      awaitRealized(sluice, 0);
      long t0 = System.nanoTime();
      int first = Math.min(100, n);
      for (int i = 0; i < first; i++) {
        fakes.add(FakeSwitch.connect(group, sluice.openflowPort, 0x10000L + i, FakeSwitch.Mode.WELL_BEHAVED));
      }
      awaitRealized(sluice, first);
      int threads100 = status(sluice.pid(), "Threads:");
      for (int i = first; i < n; i++) {
        fakes.add(FakeSwitch.connect(group, sluice.openflowPort, 0x10000L + i, FakeSwitch.Mode.WELL_BEHAVED));
      }
      awaitRealized(sluice, n);
      double seconds = (System.nanoTime() - t0) / 1e9;
      System.gc();
      Thread.sleep(3_000); // steady state: echoes flowing, nothing pushing
      long rssKb = status(sluice.pid(), "VmRSS:");
      int threads = status(sluice.pid(), "Threads:");
      System.err.printf(Locale.ROOT, "%d switches connected and realized in %.1f s%n", n, seconds);
      System.out.printf(Locale.ROOT, "BENCH load.switches_5k_rss_mb %.0f MB%n", rssKb / 1024.0);
      System.out.printf(Locale.ROOT, "BENCH load.switches_5k_threads %d threads%n", threads);
      System.out.printf(Locale.ROOT, "BENCH load.switches_100_threads %d threads%n", threads100);

      long before = status(sluice.pid(), "VmRSS:");
      long peak = before;
      try (SocketChannel peer = SocketChannel.open()) {
        peer.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 4096);
        peer.connect(new InetSocketAddress("127.0.0.1", sluice.openflowPort));
        peer.configureBlocking(false);
        ByteBuffer hello = ByteBuffer.allocate(8).put((byte) 4).put((byte) 0).putShort((short) 8).putInt(1).flip();
        while (hello.hasRemaining()) {
          peer.write(hello);
        }
        ByteBuffer echoes = ByteBuffer.allocate(64 * 1024);
        while (echoes.hasRemaining()) {
          echoes.put((byte) 4).put((byte) 2).putShort((short) 8).putInt(7);
        }
        echoes.flip();
        long sent = 0;
        long end = System.nanoTime() + 20_000_000_000L;
        long nextSample = 0;
        while (System.nanoTime() < end && peer.isOpen()) {
          int w;
          try {
            w = peer.write(echoes);
          } catch (IOException closed) {
            break; // Sluice closed it (write stall): the bound did its job
          }
          sent += w;
          if (!echoes.hasRemaining()) {
            echoes.rewind();
          }
          if (w == 0) {
            Thread.sleep(1);
          }
          if (System.nanoTime() > nextSample) {
            peak = Math.max(peak, status(sluice.pid(), "VmRSS:"));
            nextSample = System.nanoTime() + 200_000_000L;
          }
        }
        peak = Math.max(peak, status(sluice.pid(), "VmRSS:"));
        System.err.printf(Locale.ROOT, "echo flood: %d bytes of requests sent; RSS %d -> peak %d kB%n", sent, before,
            peak);
      }
      System.out.printf(Locale.ROOT, "BENCH load.hostile_peer_rss_growth_mb %.1f MB%n", (peak - before) / 1024.0);
    } finally {
      fakes.forEach(FakeSwitch::close);
      group.shutdownGracefully().sync();
    }
  }

  /** Waits (at most 10 min) until {@code n} switches are connected and have realized the model's generation. */
  private static void awaitRealized(SluiceProcess sluice, int n) throws InterruptedException {
    long deadline = System.nanoTime() + 600_000_000_000L;
    while (System.nanoTime() < deadline) {
      JsonNode r = sluice.get("/api/v1/realization");
      if (r != null) {
        long gen = r.get("generation").asLong();
        int done = 0;
        for (JsonNode s : r.get("switches")) {
          if (s.get("connected").asBoolean() && s.get("realizedGeneration").asLong() == gen) {
            done++;
          }
        }
        if (done >= n && (n > 0 || gen > 0)) {
          return;
        }
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException(n + " switches not realized within 10 min:\n" + sluice.log());
  }

  /** A number from /proc/PID/status (VmRSS in kB, Threads). */
  private static int status(long pid, String key) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
      if (line.startsWith(key)) {
        return Integer.parseInt(line.substring(key.length()).trim().split("\\s+")[0]);
      }
    }
    throw new IllegalStateException(key + " not in /proc/" + pid + "/status");
  }
}
