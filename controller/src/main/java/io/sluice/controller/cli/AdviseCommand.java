package io.sluice.controller.cli;

import io.sluice.model.NetworkPolicy;
import io.sluice.model.Snapshot;
import io.sluice.renderer.advisor.Advisor;
import io.sluice.renderer.advisor.Connection;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice advise}: least-privilege NetworkPolicies, as YAML per namespace, from the connections the pods
 * really opened (the connection tracker of the switches, or the audit log), built by {@link Advisor}.
 */
@Command(name = "advise", mixinStandardHelpOptions = true,
    description = {"Propose least-privilege NetworkPolicies from observed connections, as YAML ready for kubectl apply.",
        "Connections come from the switches' connection tracker (--ovs-conntrack, or a saved",
        "`ovs-appctl dpctl/dump-conntrack` with --conntrack) and/or the audit log (--audit-log files, or a running",
        "controller's window with --api). Peers are grouped by their labels and namespaces, not by addresses; ports",
        "by the container port's name where it has one. Every observed connection is then checked against the",
        "current policies plus the proposal with the reference evaluator.",
        "Exit code: 0 proposed (or nothing observed), 1 some observed connection would still be denied, 2 bad input."})
final class AdviseCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--manifests", required = true, paramLabel = "DIR",
      description = "The cluster's manifests (Namespaces, Pods, Services, EndpointSlices, NetworkPolicies): addresses "
          + "are mapped to pods, and their labels chosen, from here.")
  Path manifests;

  @Option(names = "--conntrack", paramLabel = "FILE",
      description = "Output of `ovs-appctl dpctl/dump-conntrack` saved on a node (- for standard input).")
  List<String> conntrack = new ArrayList<>();

  @Option(names = "--ovs-conntrack",
      description = "Read the connection tracker of the Open vSwitch on this machine (ovs-appctl dpctl/dump-conntrack).")
  boolean ovsConntrack;

  @Option(names = "--zone", paramLabel = "N",
      description = "Keep only conntrack entries of this zone (repeat it; default every zone). Sluice's switches commit "
          + "in their own zone (see /api/v1/trace or the flows' ct(zone=...)); other zones may hold connections "
          + "that are not the pods'.")
  List<Integer> zones = new ArrayList<>();

  @Option(names = "--ovs-appctl", defaultValue = "ovs-appctl", paramLabel = "PATH",
      description = "The ovs-appctl to run for --ovs-conntrack (default ${DEFAULT-VALUE}).")
  String ovsAppctl;

  @Option(names = "--audit-log", paramLabel = "FILE",
      description = "An audit log written with sluice run --audit-log (JSON lines), or a saved /api/v1/audit answer.")
  List<Path> auditLogs = new ArrayList<>();

  @Option(names = "--api", paramLabel = "URL",
      description = "Read the recent audit window of the running controller there (e.g. http://127.0.0.1:8181).")
  String api;

  @Option(names = "--api-token-file", paramLabel = "FILE",
      description = "With --api: the status API's token (sluice run --http-token-file), when it wants one.")
  Path apiTokenFile;

  @Option(names = "--include-denied",
      description = "Also propose to allow the audit log's denied connections (for a trial of default deny; by default "
          + "only allowed ones count).")
  boolean includeDenied;

  @Option(names = "--policy-types", split = ",", defaultValue = "Ingress,Egress", paramLabel = "TYPE",
      description = "Which directions to isolate and allow: Ingress, Egress, or both (default ${DEFAULT-VALUE}).")
  List<String> policyTypes;

  @Option(names = {"--namespace", "-n"}, paramLabel = "NS",
      description = "Propose only for pods of this namespace (repeat it for several; default: every namespace seen).")
  List<String> namespaces = new ArrayList<>();

  @Option(names = "--output", paramLabel = "DIR",
      description = "Write one file per namespace, DIR/<namespace>-advised.yaml, instead of printing the YAML.")
  Path output;

  @Option(names = "--legacy-isolation", description = "As sluice run --legacy-isolation.")
  boolean legacyIsolation;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      Advisor.Options options = options();
      if (conntrack.isEmpty() && !ovsConntrack && auditLogs.isEmpty() && api == null) {
        throw new IllegalArgumentException("give observed connections: --ovs-conntrack, --conntrack FILE, "
            + "--audit-log FILE or --api URL");
      }
      Snapshot snapshot = ExplainCommand.load(manifests, legacyIsolation, err);
      List<Connection> observed = new ArrayList<>();
      int skipped = 0;
      for (ObservedConnections.Read r : reads()) {
        observed.addAll(r.connections());
        skipped += r.skipped();
        r.problems().stream().limit(20).forEach(p -> err.println("warning: " + p));
      }
      Advisor.Advice advice = Advisor.advise(snapshot, observed, options);
      err.printf("sluice advise: %d connections observed (%d distinct, %d entries without a port or verdict left out): "
              + "%d policies proposed%n", advice.observed(), advice.distinct(), skipped, advice.policies().size());
      advice.notes().stream().limit(50).forEach(n -> err.println("note: " + n));
      if (advice.notes().size() > 50) {
        err.println("note: ... and " + (advice.notes().size() - 50) + " more");
      }
      for (Connection c : advice.stillDenied()) {
        err.println("still denied (by the policies already there): " + c + " seen " + c.count() + " time(s)");
      }
      err.flush();
      write(advice.policies(), out);
      return advice.stillDenied().isEmpty() ? 0 : 1;
    } catch (IllegalArgumentException | TraceCommand.Failure e) {
      err.println("sluice advise: " + e.getMessage());
      err.flush();
      return ExplainCommand.USAGE;
    }
  }

  private Advisor.Options options() {
    boolean ingress = false;
    boolean egress = false;
    for (String t : policyTypes) {
      switch (t.strip().toLowerCase(Locale.ROOT)) {
        case "ingress" -> ingress = true;
        case "egress" -> egress = true;
        default -> throw new IllegalArgumentException("--policy-types " + t + ": expected Ingress or Egress");
      }
    }
    return new Advisor.Options(ingress, egress, Set.copyOf(namespaces), legacyIsolation);
  }

  private List<ObservedConnections.Read> reads() {
    List<ObservedConnections.Read> reads = new ArrayList<>();
    for (String f : conntrack) {
      reads.add(ObservedConnections.conntrack(ObservedConnections.read(f, "--conntrack"), Set.copyOf(zones)));
    }
    if (ovsConntrack) {
      reads.add(ObservedConnections.conntrack(
          TraceCommand.run(List.of(ovsAppctl, "dpctl/dump-conntrack"), "dpctl/dump-conntrack"), Set.copyOf(zones)));
    }
    for (Path f : auditLogs) {
      reads.add(ObservedConnections.audit(ObservedConnections.read(f.toString(), "--audit-log"), f.toString(), includeDenied));
    }
    if (api != null) {
      reads.add(ObservedConnections.audit(auditWindow(), api + "/api/v1/audit", includeDenied));
    }
    return reads;
  }

  private String auditWindow() {
    URI uri = StatusApi.uri(api, "/api/v1/audit?limit=10000");
    HttpResponse<String> r = StatusApi.get(HttpClient.newHttpClient(), api, uri, apiTokenFile);
    if (r.statusCode() != 200) {
      throw new IllegalArgumentException("--api: " + uri + " answered HTTP " + r.statusCode() + ": " + r.body().strip());
    }
    return r.body();
  }

  private void write(List<NetworkPolicy> policies, PrintWriter out) {
    if (output == null) {
      out.print(PolicyYaml.write(policies));
      out.flush();
      return;
    }
    Map<String, List<NetworkPolicy>> byNamespace = new LinkedHashMap<>();
    for (NetworkPolicy p : policies) {
      byNamespace.computeIfAbsent(p.ref().namespace(), k -> new ArrayList<>()).add(p);
    }
    try {
      Files.createDirectories(output);
      for (Map.Entry<String, List<NetworkPolicy>> e : byNamespace.entrySet()) {
        Path file = output.resolve(e.getKey() + "-advised.yaml");
        Files.writeString(file, PolicyYaml.write(e.getValue()), StandardCharsets.UTF_8);
        out.println(file);
      }
      out.flush();
    } catch (IOException e) {
      throw new IllegalArgumentException("--output " + output + ": " + e.getMessage());
    }
  }
}
