package io.sluice.controller.bench;

import io.sluice.controller.cli.SluiceCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import picocli.CommandLine;

/**
 * {@code sluice advise} on {@value #CONNECTIONS} observed connections (issue 13): {@code advise.10k_connections_s},
 * the median wall time of the whole command in this JVM (read the manifests, parse the conntrack dump, group into
 * workloads, propose, check every distinct connection with the reference evaluator, write the YAML), over
 * {@value #RUNS} runs after one warm-up run (printed as {@code advise.first_run_s}). The cluster: {@value #NAMESPACES}
 * namespaces of {@value #PODS_PER_NAMESPACE} pods in workloads of 5 (each pod its own pod-template-hash), two named
 * ports each; connections between random pods of random namespaces on one of the destination's ports, one in ten to
 * an address outside the cluster, one in ten through a shared source port range (repeats).
 * <pre>deploy/bench.sh advise</pre>
 */
public final class AdviseBench {
  static final int CONNECTIONS = 10_000;
  static final int NAMESPACES = 50;
  static final int PODS_PER_NAMESPACE = 20;
  static final int RUNS = 5;

  private AdviseBench() { }

  public static void main(String[] args) throws Exception {
    Path dir = Files.createTempDirectory("sluice-advise-bench");
    Path manifests = Files.createDirectories(dir.resolve("manifests"));
    StringBuilder y = new StringBuilder();
    List<String> ips = new ArrayList<>();
    for (int n = 0; n < NAMESPACES; n++) {
      y.append("apiVersion: v1\nkind: Namespace\nmetadata: {name: ns").append(n).append("}\n---\n");
      for (int p = 0; p < PODS_PER_NAMESPACE; p++) {
        String ip = "10.80." + n + "." + (p + 1);
        ips.add(ip);
        y.append("apiVersion: v1\nkind: Pod\nmetadata: {name: p").append(p).append(", namespace: ns").append(n)
            .append(", labels: {app: w").append(p / 5).append(", pod-template-hash: h").append(p).append("}}\n")
            .append("spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}, ")
            .append("{name: metrics, containerPort: 9090}]}]}\nstatus: {podIP: ").append(ip).append("}\n---\n");
      }
    }
    Files.writeString(manifests.resolve("cluster.yaml"), y);
    Random rnd = new Random(42);
    StringBuilder ct = new StringBuilder();
    int[] ports = {8080, 9090};
    for (int i = 0; i < CONNECTIONS; i++) {
      String src = ips.get(rnd.nextInt(ips.size()));
      String dst = rnd.nextInt(10) == 0 ? "203.0.113." + (1 + rnd.nextInt(50)) : ips.get(rnd.nextInt(ips.size()));
      int port = rnd.nextInt(10) == 0 ? 443 : ports[rnd.nextInt(2)];
      int sport = 32768 + (rnd.nextInt(10) == 0 ? rnd.nextInt(10) : i % 28000);
      ct.append("tcp,orig=(src=").append(src).append(",dst=").append(dst).append(",sport=").append(sport)
          .append(",dport=").append(port).append("),reply=(src=").append(dst).append(",dst=").append(src)
          .append(",sport=").append(port).append(",dport=").append(sport)
          .append("),zone=1,protoinfo=(state=ESTABLISHED)\n");
    }
    Path dump = dir.resolve("conntrack.txt");
    Files.writeString(dump, ct);

    List<Double> seconds = new ArrayList<>();
    String summary = "";
    for (int run = 0; run <= RUNS; run++) {
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      CommandLine cl = new CommandLine(new SluiceCli());
      cl.setOut(new PrintWriter(out));
      cl.setErr(new PrintWriter(err));
      long t0 = System.nanoTime();
      int code = cl.execute("advise", "--manifests", manifests.toString(), "--conntrack", dump.toString());
      double s = (System.nanoTime() - t0) / 1e9;
      if (code != 0) {
        throw new AssertionError("sluice advise exited " + code + ": " + err);
      }
      summary = err.toString().lines().findFirst().orElse("");
      if (run == 0) {
        System.out.printf(Locale.ROOT, "BENCH advise.first_run_s %.3f s%n", s);
      } else {
        seconds.add(s);
      }
    }
    seconds.sort(null);
    System.out.println(summary);
    System.out.printf(Locale.ROOT, "BENCH advise.10k_connections_s %.3f s%n", seconds.get(seconds.size() / 2));
  }
}
