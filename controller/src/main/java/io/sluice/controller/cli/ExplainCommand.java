package io.sluice.controller.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.sluice.model.ClusterModel;
import io.sluice.model.Protocol;
import io.sluice.model.Snapshot;
import io.sluice.model.source.SourceError;
import io.sluice.renderer.reference.Endpoint;
import io.sluice.renderer.reference.EndpointException;
import io.sluice.model.Service;
import io.sluice.renderer.advisor.Connection;
import io.sluice.renderer.advisor.PolicyDiff;
import io.sluice.renderer.reference.ReferenceEvaluator;
import io.sluice.renderer.reference.ServiceResolver;
import io.sluice.renderer.reference.Verdict;
import io.sluice.watcher.manifest.ManifestSource;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice explain}: may one endpoint open a connection to another under the policies in a manifest directory,
 * and why. Answers from the reference evaluator, not from the compiled flows.
 */
@Command(name = "explain", mixinStandardHelpOptions = true,
    description = {"Say whether a new connection FROM -> TO on a port is allowed by the NetworkPolicies in a manifest",
        "directory, and why: which policies isolate the source's egress and the destination's ingress, and which rule",
        "allowed it. Answers from the reference evaluator of the Kubernetes API rules, independent of the compiled flows.",
        "A Service (--to NS/SERVICE:PORT, or its cluster IP with --port) is first translated as kube-proxy would, and",
        "the connection is judged for each endpoint it may reach (policy applies to the translated connection).",
        "With --diff DIR: what the policies in DIR would break or newly allow (see --fail-on for the exit code).",
        "Exit code: 0 ALLOWED (every endpoint), 1 DENIED (some endpoint, or no endpoint at all), 2 bad flags or endpoints."})
final class ExplainCommand implements Callable<Integer> {
  static final int ALLOWED = 0;
  static final int DENIED = 1;
  static final int USAGE = 2;

  @Spec
  CommandSpec spec;

  @Option(names = "--manifests", required = true, paramLabel = "DIR",
      description = "Read Namespaces, Pods and NetworkPolicies from every *.yaml, *.yml and *.json below DIR. "
          + "Invalid documents are skipped with a warning.")
  Path manifests;

  @Option(names = "--from", paramLabel = "NS/POD|IP",
      description = "The source: a pod, or an IPv4/IPv6 address (a pod's address means that pod).")
  String from;

  @Option(names = "--to", paramLabel = "NS/POD|IP|NS/SERVICE:PORT",
      description = "The destination: a pod, an IPv4/IPv6 address (a pod's address means that pod; a Service's cluster "
          + "IP is translated), or a Service port by name or number.")
  String to;

  @Option(names = "--port", paramLabel = "N[/PROTO]",
      description = "Destination port, optionally with protocol TCP, UDP or SCTP (default TCP), e.g. 5432, 53/udp. "
          + "Required unless --to names a Service port.")
  String port;

  @Option(names = "--legacy-isolation",
      description = "Honour the pre-v1 namespace annotation net.beta.kubernetes.io/network-policy: "
          + "{\"ingress\": {\"isolation\": \"DefaultDeny\"}} (ingress-isolates every pod of the namespace), and read "
          + "extensions/v1beta1 NetworkPolicies with that API's meaning (they only allow), as sluice run does.")
  boolean legacyIsolation;

  @Option(names = "--diff", paramLabel = "DIR",
      description = "Instead of one connection: what the NetworkPolicies in DIR would break or newly allow, against the "
          + "manifests (every connection a changed policy decides) and against observed connections (--conntrack, "
          + "--audit-log). DIR's policies are added to the current ones, replacing those of the same namespace/name; "
          + "with --replace they are the whole new set.")
  Path diff;

  @Option(names = "--replace", description = "With --diff: DIR's policies replace every current policy.")
  boolean replace;

  @Option(names = "--conntrack", paramLabel = "FILE",
      description = "With --diff: observed connections, as `ovs-appctl dpctl/dump-conntrack` prints them.")
  List<Path> conntrack = new ArrayList<>();

  @Option(names = "--audit-log", paramLabel = "FILE",
      description = "With --diff: observed connections from an audit log (allowed entries).")
  List<Path> auditLogs = new ArrayList<>();

  @Option(names = "--fail-on", defaultValue = "denied", paramLabel = "WHAT",
      description = "With --diff, exit 1 when: denied (default: some connection allowed now would be denied), observed "
          + "(some observed connection would be denied), never.")
  String failOn;

  @Option(names = "--max-lines", defaultValue = "200", paramLabel = "N",
      description = "With --diff: print at most N connections per section (default ${DEFAULT-VALUE}).")
  int maxLines;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      if (diff != null) {
        if (from != null || to != null || port != null) {
          throw new IllegalArgumentException("--diff: not with --from, --to or --port (it judges every connection "
              + "a changed policy decides)");
        }
        return diff(out, err);
      }
      if (replace || !conntrack.isEmpty() || !auditLogs.isEmpty()) {
        throw new IllegalArgumentException("--replace, --conntrack and --audit-log go with --diff");
      }
      if (from == null || to == null) {
        throw new IllegalArgumentException("--from and --to are required (or --diff DIR)");
      }
      Endpoint source = endpoint(from, "--from");
      int colon = to.indexOf(':');
      if (to.indexOf('/') > 0 && colon > to.indexOf('/')) {
        return service(source, out);
      }
      if (port == null) {
        throw new IllegalArgumentException("--port is required unless --to names a Service port (NS/SERVICE:PORT)");
      }
      Endpoint destination = endpoint(to, "--to");
      Protocol protocol = protocol(port);
      int number = portNumber(port);
      Snapshot snapshot = load(manifests, legacyIsolation, err);
      if (destination instanceof Endpoint.Address a) {
        var vip = ServiceResolver.byVirtualAddress(snapshot, a.ip(), protocol, number);
        if (vip.isPresent()) {
          return translated(snapshot, source, vip.get(), out);
        }
      }
      Verdict verdict;
      try {
        verdict = new ReferenceEvaluator(legacyIsolation).evaluate(snapshot, source, destination, protocol, number);
      } catch (EndpointException e) {
        String flag = e.source() ? "--from" : "--to";
        throw new IllegalArgumentException(flag + " " + e.endpoint() + ": " + e.reason(), e);
      }
      out.println(verdict);
      samePort(snapshot, source, destination).ifPresent(out::println);
      out.flush();
      return verdict.allowed() ? ALLOWED : DENIED;
    } catch (IllegalArgumentException e) {
      err.println("sluice explain: " + e.getMessage());
      err.flush();
      return USAGE;
    }
  }

  /**
   * A note when both ends are pods behind one switch port (their node's attachment): their traffic never leaves the
   * node, so no switch sees it, whatever the verdict.
   */
  static java.util.Optional<String> samePort(Snapshot snapshot, Endpoint source, Endpoint destination) {
    io.sluice.model.ObjectRef a = podOf(snapshot, source);
    io.sluice.model.ObjectRef b = podOf(snapshot, destination);
    io.sluice.model.PortBinding pa = a == null ? null : snapshot.bindings().get(a);
    io.sluice.model.PortBinding pb = b == null ? null : snapshot.bindings().get(b);
    if (pa == null || pb == null || a.equals(b) || pa.dpid() != pb.dpid() || pa.ofport() != pb.ofport()
        || !(pa.attached() || pb.attached())) {
      return java.util.Optional.empty();
    }
    var pod = snapshot.pods().get(a);
    String node = pod == null || pod.nodeName().isEmpty() ? "their node" : "node " + pod.nodeName();
    return java.util.Optional.of(String.format("note: %s and %s sit behind one switch port (%s, attached at "
        + "0x%016x/%d): their traffic stays inside the node and never reaches the switch, which enforces none of this; "
        + "only a policy engine on the node can", a, b, node, pa.dpid(), pa.ofport()));
  }

  private static io.sluice.model.ObjectRef podOf(Snapshot snapshot, Endpoint e) {
    if (e instanceof Endpoint.PodRef p) {
      return p.ref();
    }
    String ip = ((Endpoint.Address) e).ip();
    for (var pod : snapshot.pods().values()) {
      if (pod.ips().contains(ip) && !pod.hostNetwork()) {
        return pod.ref();
      }
    }
    return null;
  }

  /** --to NS/SERVICE:PORT */
  private int service(Endpoint source, PrintWriter out) {
    if (port != null) {
      throw new IllegalArgumentException("--port: not with --to " + to + " (the Service port gives it)");
    }
    int slash = to.indexOf('/');
    int colon = to.indexOf(':', slash);
    String name = to.substring(slash + 1, colon);
    String servicePort = to.substring(colon + 1);
    if (slash == 0 || name.isEmpty() || servicePort.isEmpty()) {
      throw new IllegalArgumentException("--to " + to + ": expected NS/SERVICE:PORT (a port name or number)");
    }
    Snapshot snapshot = load(manifests, legacyIsolation, spec.commandLine().getErr());
    boolean v6 = sourceIsV6(snapshot, source);
    ServiceResolver.Resolved r = ServiceResolver.byName(snapshot,
        new io.sluice.model.ObjectRef(to.substring(0, slash), name), servicePort, v6);
    return translated(snapshot, source, r, out);
  }

  /** The source's family: its address's, or its pod's first address's (IPv4 when unknown). */
  private static boolean sourceIsV6(Snapshot snapshot, Endpoint source) {
    if (source instanceof Endpoint.Address a) {
      return a.ip().indexOf(':') >= 0;
    }
    var pod = snapshot.pods().get(((Endpoint.PodRef) source).ref());
    return pod != null && !pod.ips().isEmpty() && pod.ips().get(0).indexOf(':') >= 0;
  }

  /** Judges the connection once per endpoint the Service port may translate it to. */
  private int translated(Snapshot snapshot, Endpoint source, ServiceResolver.Resolved r, PrintWriter out) {
    Service.Port p = r.port();
    out.println("Service " + r.service().ref() + " port " + (p.name().isEmpty() ? "" : p.name() + " ") + "("
        + p.protocol() + " " + p.port() + ", " + (r.v6() ? "IPv6" : "IPv4") + "): " + r.backends().size() + " endpoint(s)");
    if (r.backends().isEmpty()) {
      out.println("DENIED: no ready or serving endpoint, the client is refused");
      out.flush();
      return DENIED;
    }
    boolean all = true;
    for (ServiceResolver.Backend b : r.backends()) {
      Verdict v;
      try {
        v = new ReferenceEvaluator(legacyIsolation).evaluate(snapshot, source, Endpoint.ip(b.address()), p.protocol(), b.port());
      } catch (EndpointException e) {
        throw new IllegalArgumentException((e.source() ? "--from " : "endpoint ") + e.endpoint() + ": " + e.reason(), e);
      }
      all &= v.allowed();
      out.println("-> " + b + ": " + v.toString().replace("\n", "\n   "));
    }
    out.flush();
    return all ? ALLOWED : DENIED;
  }

  /** --diff DIR: what the candidate policies change (see {@link PolicyDiff}). */
  private int diff(PrintWriter out, PrintWriter err) {
    if (!List.of("denied", "observed", "never").contains(failOn)) {
      throw new IllegalArgumentException("--fail-on " + failOn + ": expected denied, observed or never");
    }
    Snapshot current = load(manifests, legacyIsolation, err);
    Snapshot candidate = load(diff, legacyIsolation, err);
    List<Connection> observed = new ArrayList<>();
    for (Path f : conntrack) {
      observed.addAll(ObservedConnections.conntrack(ObservedConnections.read(f.toString(), "--conntrack")).connections());
    }
    for (Path f : auditLogs) {
      observed.addAll(ObservedConnections.audit(ObservedConnections.read(f.toString(), "--audit-log"), f.toString(), false).connections());
    }
    PolicyDiff.Result r = PolicyDiff.diff(current, candidate.networkPolicies().values(), replace, observed,
        legacyIsolation);
    out.printf("%d polic%s changed%s%n", r.changed().size(), r.changed().size() == 1 ? "y" : "ies",
        r.changed().isEmpty() ? "" : ": " + String.join(", ", r.changed().entrySet().stream()
            .map(e -> e.getKey() + " (" + e.getValue() + ")").toList()));
    section(out, "NEWLY DENIED", r.newlyDenied());
    section(out, "NEWLY ALLOWED", r.newlyAllowed());
    if (!observed.isEmpty()) {
      section(out, "OBSERVED CONNECTIONS BROKEN", r.observedBroken());
    }
    out.printf("%d connections judged before and after: %d newly denied, %d newly allowed%s%n", r.checked(),
        r.newlyDenied().size(), r.newlyAllowed().size(),
        observed.isEmpty() ? "" : ", " + r.observedBroken().size() + " observed connection(s) broken");
    out.flush();
    boolean fail = switch (failOn) {
      case "denied" -> !r.newlyDenied().isEmpty() || !r.observedBroken().isEmpty();
      case "observed" -> !r.observedBroken().isEmpty();
      default -> false;
    };
    return fail ? DENIED : ALLOWED;
  }

  private void section(PrintWriter out, String title, List<PolicyDiff.Change> changes) {
    if (changes.isEmpty()) {
      return;
    }
    out.printf("%s (%d):%n", title, changes.size());
    int n = 0;
    for (PolicyDiff.Change c : changes) {
      if (n++ == maxLines) {
        out.printf("  ... and %d more (--max-lines)%n", changes.size() - maxLines);
        break;
      }
      out.println("  " + c);
      out.println("    before: " + (c.before().allowed() ? "allowed" : "denied") + "; "
          + String.join("; ", c.before().explanation()));
      out.println("    after:  " + (c.after().allowed() ? "allowed" : "denied") + "; "
          + String.join("; ", c.after().explanation()));
    }
  }

  static Endpoint endpoint(String text, String flag) {
    try {
      return Endpoint.parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(flag + ": " + e.getMessage());
    }
  }

  /** The protocol after the slash of N/PROTO, TCP if none. */
  static Protocol protocol(String text) {
    int slash = text.indexOf('/');
    if (slash < 0) {
      return Protocol.TCP;
    }
    String name = text.substring(slash + 1).toUpperCase(Locale.ROOT);
    for (Protocol p : Protocol.values()) {
      if (p.name().equals(name)) {
        return p;
      }
    }
    throw new IllegalArgumentException("--port " + text + ": protocol must be TCP, UDP or SCTP");
  }

  /** The number of N/PROTO: 1–65535. */
  static int portNumber(String text) {
    int slash = text.indexOf('/');
    String digits = slash < 0 ? text : text.substring(0, slash);
    if (!digits.matches("[0-9]{1,5}") || Integer.parseInt(digits) < 1 || Integer.parseInt(digits) > 65535) {
      throw new IllegalArgumentException("--port " + text + ": expected a port number 1-65535, optionally with "
          + "/TCP, /UDP or /SCTP");
    }
    return Integer.parseInt(digits);
  }

  /** Reads the directory once into a fresh model; invalid documents become warnings on {@code err}. */
  static Snapshot load(Path dir, boolean legacyIsolation, PrintWriter err) {
    ClusterModel model = new ClusterModel(1);
    ManifestSource source = new ManifestSource(dir, ManifestSource.DEFAULT_DEBOUNCE,
        Math.min(4, Runtime.getRuntime().availableProcessors()), ManifestSource.Limits.defaults(), legacyIsolation);
    // The source logs each invalid document; here they are printed once, as warnings, so quiet it meanwhile.
    org.slf4j.Logger log = LoggerFactory.getLogger("io.sluice.watcher");
    Level before = log instanceof Logger l ? l.getLevel() : null;
    if (log instanceof Logger l) {
      l.setLevel(Level.ERROR);
    }
    try {
      source.start(model::apply);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--manifests " + dir + ": " + e.getMessage(), e);
    } finally {
      source.stop();
      if (log instanceof Logger l) {
        l.setLevel(before);
      }
    }
    for (SourceError e : source.errors()) {
      err.println("warning: " + e);
    }
    for (SourceError w : source.warnings()) {
      err.println("warning: " + w);
    }
    err.flush();
    return model.snapshot();
  }
}
