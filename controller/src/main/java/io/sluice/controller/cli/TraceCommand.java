package io.sluice.controller.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.pipeline.PipelineProfile;
import io.sluice.renderer.pipeline.Table;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sluice trace}: the verdict of the flows that really carry traffic, next to the reference evaluator's. Asks
 * the running controller where both ends are ({@code /api/v1/trace}), traces a new connection's first packet with
 * {@code ovs-appctl ofproto/trace} on the source's bridge (OVS follows patch ports into other bridges of the same
 * ovs-vswitchd), names the policy and rule behind each flow's cookie, and compares.
 */
@Command(name = "trace", mixinStandardHelpOptions = true,
    description = {"Trace a new connection FROM -> TO on a port through the flows installed on the switch (ovs-appctl",
        "ofproto/trace on the source's bridge, or --method packet-out: probes injected by the controller over",
        "OpenFlow), print each table's verdict with the policy and rule behind each flow's",
        "cookie, and the reference evaluator's answer (sluice explain's) from the running controller's model.",
        "Run it on the node whose Open vSwitch holds the source's bridge (packet-out: anywhere the API is reached).",
        "To a Service (its virtual address, or NS/SVC): the Service tables' verdict, then each endpoint's translated",
        "connection, picked by dp_hash, traced on and compared with the reference (ovs-appctl only).",
        "Exit code: 0 the switch and the reference agree (allowed or denied), 3 DISAGREEMENT, 2 bad flags, unknown",
        "endpoints, controller or ovs-appctl not reachable, a packet-out trace refused (busy, switch not connected)."})
final class TraceCommand implements Callable<Integer> {
  static final int AGREE = 0;
  static final int USAGE = 2;
  static final int DISAGREE = 3;

  @Spec
  CommandSpec spec;

  @Option(names = "--from", required = true, paramLabel = "NS/POD|IP",
      description = "The source: a pod, or a pod's address. It must be bound to a switch port Sluice knows (OVSDB).")
  String from;

  @Option(names = "--to", required = true, paramLabel = "NS/POD|IP",
      description = {"The destination: a pod, or an IPv4/IPv6 address (a pod's address means that pod); a Service's",
          "virtual address (ClusterIP, externalIP, load-balancer IP) with one of its ports, or NS/SVC where no pod has",
          "that name, traces the Service and each of its endpoints."})
  String to;

  @Option(names = "--port", required = true, paramLabel = "N[/PROTO]",
      description = "Destination port, optionally with protocol TCP, UDP or SCTP (default TCP), e.g. 5432, 53/udp.")
  String port;

  @Option(names = "--api", defaultValue = "http://127.0.0.1:8181", paramLabel = "URL",
      description = "The controller's status API (sluice run --http), default ${DEFAULT-VALUE}.")
  String api;

  @Option(names = "--api-token-file", paramLabel = "FILE",
      description = "The status API's token (sluice run --http-token-file), when it wants one.")
  java.nio.file.Path apiTokenFile;

  @Option(names = "--ovs-appctl", defaultValue = "ovs-appctl", paramLabel = "PATH",
      description = "The ovs-appctl to run (default ${DEFAULT-VALUE}, from PATH).")
  String appctl;

  @Option(names = "--source-port", defaultValue = "49152", paramLabel = "N",
      description = "The traced packet's source port (default ${DEFAULT-VALUE}); policies never match on it.")
  int sourcePort;

  @Option(names = "--quiet", description = "Print only the verdict lines (and a disagreement).")
  boolean quiet;

  @Option(names = "--endpoint", paramLabel = "IP[:PORT]|NS/POD",
      description = {"With --to a Service: trace only the connection translated to this endpoint (default: each",
          "endpoint, at most --max-endpoints)."})
  String endpoint;

  @Option(names = "--max-endpoints", defaultValue = "16", paramLabel = "N",
      description = "With --to a Service: trace at most this many of its endpoints (1-64, default ${DEFAULT-VALUE}).")
  int maxEndpoints;

  @Option(names = "--method", defaultValue = "ovs-appctl", paramLabel = "ovs-appctl|packet-out|auto",
      description = {"How to trace (default ${DEFAULT-VALUE}): ovs-appctl ofproto/trace here (no packet is sent);",
          "packet-out: the controller injects probes on the source's switch over OpenFlow and reads which flows' "
              + "counters they moved (any switch it holds, also remote or hardware; the probes are real packets and "
              + "reach the destination when allowed); auto: ovs-appctl where it reaches the source's bridge, else "
              + "packet-out."})
  String method;

  @Option(names = "--probes", defaultValue = "5", paramLabel = "K",
      description = "With packet-out: how many probes, each a new connection (1-20, default ${DEFAULT-VALUE}).")
  int probes;

  private final ObjectMapper json = new ObjectMapper();

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      return trace(out);
    } catch (Failure e) {
      err.println("sluice trace: " + e.getMessage());
      err.flush();
      return USAGE;
    } finally {
      out.flush();
    }
  }

  /** Bad input, or something needed that is not reachable: exit 2 with this message. */
  static final class Failure extends RuntimeException {
    Failure(String message) {
      super(message);
    }
  }

  private int trace(PrintWriter out) {
    if (sourcePort < 1 || sourcePort > 65535) {
      throw new Failure("--source-port " + sourcePort + ": 1-65535");
    }
    if (!List.of("ovs-appctl", "packet-out", "auto").contains(method)) {
      throw new Failure("--method " + method + ": ovs-appctl, packet-out or auto");
    }
    if (probes < 1 || probes > 20) {
      throw new Failure("--probes " + probes + ": 1-20");
    }
    if (maxEndpoints < 1 || maxEndpoints > ServiceTrace.MAX_ENDPOINTS) {
      throw new Failure("--max-endpoints " + maxEndpoints + ": 1-" + ServiceTrace.MAX_ENDPOINTS);
    }
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    if ("packet-out".equals(method)) {
      return packetOut(out, http);
    }
    JsonNode ctx = get(http, "/api/v1/trace?from=" + enc(from) + "&to=" + enc(to) + "&port=" + enc(port));
    JsonNode src = ctx.path("from");
    JsonNode dst = ctx.path("to");
    String srcName = name(src);
    String dstName = name(dst);
    if (!src.has("ofport")) {
      throw new Failure("--from " + from + ": " + srcName + (src.has("pod") ? " is not bound to a switch port Sluice "
          + "knows (no OVSDB binding" + (src.path("hostNetwork").asBoolean() ? ", a hostNetwork pod" : "") + ")"
          : " is not a pod's address") + ": there is no port to trace its packet from");
    }
    if (!src.has("bridge")) {
      throw new Failure("--from " + from + ": the controller does not know the bridge name of switch "
          + src.path("datapathId").asText() + " (not connected?)");
    }
    String bridge = src.path("bridge").asText();
    DatapathPorts dp;
    try {
      dp = DatapathPorts.parse(run(List.of(appctl, "dpif/show"), "dpif/show"));
      if (!dp.hasBridge(bridge)) {
        throw new Failure("bridge " + bridge + " (switch " + src.path("datapathId").asText() + ", of " + srcName
            + ") is not on the Open vSwitch that " + appctl + " reaches here: run sluice trace on that node, or trace "
            + "with --method packet-out");
      }
    } catch (Failure e) {
      if (!"auto".equals(method)) {
        throw e;
      }
      if (!quiet) {
        out.println("ovs-appctl cannot trace here (" + e.getMessage() + "): tracing by OpenFlow packet-out");
      }
      return packetOut(out, http);
    }
    if (ctx.has("service")) {
      return new ServiceTrace(this, http, dp, ctx).run(out);
    }
    String flow = flow(ctx, sourcePort);
    Set<Long> followed = new java.util.HashSet<>(); // datapath ports left by into a bridge traced next
    List<Hop> hops = follow(dp, bridge, flow, flow, CT_NEXT, dst, followed);
    JsonNode rules = rules(http, hops);
    String protocol = ctx.path("protocol").asText();
    int number = ctx.path("port").asInt();
    if (!quiet) {
      out.println("Trace " + srcName + " (" + src.path("ip").asText() + ") -> " + dstName + " (" + dst.path("ip").asText()
          + ") " + protocol + " " + number + ", a new connection, on bridge " + bridge + " (switch "
          + src.path("datapathId").asText() + ", model generation " + ctx.path("generation").asLong() + ")"
          + viaVeth(hops));
    }
    boolean foreign = print(out, hops, ctx, rules, "");
    Outcome o = outcome(dp, hops, followed, dst);
    return conclude(out, ctx, o.allows(), o.how(), o.egressOnly(), o.scope(), foreign);
  }

  /** The conntrack states the trace resumes with after each recirculation, for a connection to a pod or address. */
  static final List<String> CT_NEXT = List.of("trk,new", "trk,new");

  /** ", then BR2, BR3 over veth links" when the packet was followed beyond its first bridge. */
  static String viaVeth(List<Hop> hops) {
    return hops.size() > 1 ? ", then " + String.join(", ", hops.subList(1, hops.size()).stream()
        .map(Hop::bridge).toList()) + " over veth links" : "";
  }

  /**
   * Traces a packet hop by hop: on {@code bridge} with {@code flow}, then across each veth link to another bridge of
   * this ovs-vswitchd the packet leaves by (emulated nodes, Mininet switches), with {@code laterFlow} entering by the
   * link's port, until it reaches the destination's port or leaves this host. {@code followed} receives the datapath
   * ports left by into a bridge traced next.
   */
  List<Hop> follow(DatapathPorts dp, String bridge, String flow, String laterFlow, List<String> ctNext, JsonNode dst,
                   Set<Long> followed) {
    Long dstDp = destinationDatapathPort(dp, dst);
    List<Hop> hops = new ArrayList<>();
    Set<String> visited = new LinkedHashSet<>();
    String hopBridge = bridge;
    String hopFlow = flow;
    while (hopBridge != null && visited.add(hopBridge) && hops.size() < MAX_HOPS) {
      List<String> cmd = new ArrayList<>(List.of(appctl, "ofproto/trace", hopBridge, hopFlow));
      for (String state : hops.isEmpty() ? ctNext : CT_NEXT) {
        cmd.add("--ct-next");
        cmd.add(state);
      }
      OfprotoTrace t;
      try {
        t = OfprotoTrace.parse(run(cmd, "ofproto/trace"));
      } catch (IllegalArgumentException e) {
        throw new Failure(e.getMessage());
      }
      hops.add(new Hop(hopBridge, List.copyOf(cmd), t));
      List<Long> left = new ArrayList<>();
      t.passes().forEach(p -> left.addAll(OfprotoTrace.outputs(p.datapathActions())));
      hopBridge = null;
      if (dstDp != null && left.contains(dstDp)) {
        break;
      }
      Long via = null;
      for (long o : left) {
        DatapathPorts.Port port = dp.byDatapathPort(o);
        DatapathPorts.Port peer = port == null ? null : vethPeer(dp, port, SYS_CLASS_NET);
        if (peer != null && !visited.contains(peer.bridge())) {
          via = o;
          hopBridge = peer.bridge();
          hopFlow = laterFlow.replaceFirst("in_port=\\d+", "in_port=" + peer.ofport());
          if (peer.bridge().equals(dst.path("bridge").asText())) {
            break; // the link toward the destination's own bridge, if the packet was flooded over several
          }
        }
      }
      if (via != null) {
        followed.add(via);
      }
    }
    return hops;
  }

  /** The destination's datapath port, when it is a pod on a bridge of this ovs-vswitchd; else null. */
  static Long destinationDatapathPort(DatapathPorts dp, JsonNode dst) {
    return dst.has("bridge") && dst.has("ofport")
        ? dp.datapathPort(dst.path("bridge").asText(), dst.path("ofport").asLong()) : null;
  }

  /** What the controller's model says the policy rule cookies on the hops' path stand for. */
  JsonNode rules(HttpClient http, List<Hop> hops) {
    Set<String> policyCookies = new LinkedHashSet<>();
    for (Hop h : hops) {
      for (OfprotoTrace.Step s : h.trace().steps()) {
        if (s.matched() && new Cookie(s.cookie()).owned() && new Cookie(s.cookie()).isRuleAllow()) {
          policyCookies.add(new Cookie(s.cookie()).toString());
        }
      }
    }
    return policyCookies.isEmpty() ? json.createObjectNode()
        : get(http, "/api/v1/trace?cookies=" + enc(String.join(",", policyCookies)));
  }

  /**
   * Prints each hop's command, passes and tables (each line after {@code indent}), with what each flow's cookie means
   * in {@code ctx}; true when some flow on the path is not Sluice's. Nothing with --quiet, but the answer.
   */
  boolean print(PrintWriter out, List<Hop> hops, JsonNode ctx, JsonNode rules, String indent) {
    boolean foreign = false;
    for (Hop h : hops) {
      if (!quiet) {
        out.println(indent + "$ " + String.join(" ", h.command().stream().map(TraceCommand::shellQuote).toList()));
      }
      for (OfprotoTrace.Pass p : h.trace().passes()) {
        if (!quiet && p.resumed() != null) {
          out.println(indent + "  -- " + p.resumed());
        }
        for (OfprotoTrace.Step s : p.steps()) {
          JsonNode party = partyOn(ctx, s.bridge(), null);
          Meaning m = meaning(s, ctx, rules, party.path("stateless").asBoolean());
          foreign |= m.foreign();
          if (!quiet) {
            out.printf(Locale.ROOT, "%s  %s table %2d %-17s %s%s%n", indent, s.bridge(), s.table(),
                tableName(party, s.table()), m.text(),
                s.matched() ? "  [priority " + s.priority() + ", cookie " + new Cookie(s.cookie()) + "]" : "");
            if (!s.actions().isEmpty()) {
              out.println(indent + "        " + abbreviate(String.join(" ", s.actions()), 160));
            }
          }
        }
        if (!quiet) {
          out.println(indent + "  Datapath actions: " + p.datapathActions());
        }
      }
    }
    return foreign;
  }

  /**
   * The switch's verdict on a traced packet: allowed when it left by the destination's port (a pod on this
   * ovs-vswitchd), or left this host (a destination elsewhere: egress only).
   */
  record Outcome(boolean allows, String how, boolean egressOnly, String scope) { }

  static Outcome outcome(DatapathPorts dp, List<Hop> hops, Set<Long> followed, JsonNode dst) {
    String dstName = name(dst);
    Long dstDp = destinationDatapathPort(dp, dst);
    // every pass outputs where it goes before it recirculates (NORMAL may flood into a patch port and on): the
    // packet leaves by the union of all passes' outputs
    List<Long> outputs = new ArrayList<>();
    hops.forEach(h -> h.trace().passes().forEach(p -> outputs.addAll(OfprotoTrace.outputs(p.datapathActions()))));
    String actions = hops.get(hops.size() - 1).trace().finalActions();
    boolean dstLocal = dstDp != null;
    // a destination elsewhere: the packet must leave this host by some port, not just into the next bridge traced
    List<Long> leaving = outputs.stream().filter(o -> !followed.contains(o)).toList();
    boolean switchAllows = dstLocal ? outputs.contains(dstDp) : !leaving.isEmpty();
    boolean audited = actions != null && actions.contains("userspace(") && actions.contains("controller(");
    String how;
    if (switchAllows) {
      how = dstLocal ? "out of " + dstName + "'s port " + dst.path("portName").asText(dst.path("ofport").asText())
          + " (datapath port " + dstDp + ")" : "out of datapath port(s) " + outputs + " toward " + dstName;
    } else {
      how = actions == null ? "no datapath actions" : "drop".equals(actions) ? "dropped"
          : audited ? "dropped; to the controller through a meter" + (actions.contains("rule_cookie=")
              ? ", " + actions.substring(actions.indexOf("rule_cookie=")).split("[,)]")[0] : "")
          : "not out of " + dstName + "'s port (" + abbreviate(actions, 120) + ")";
      if (!outputs.isEmpty()) {
        how += "; out of datapath port(s) " + outputs;
      }
    }
    boolean egressOnly = !dstLocal && dst.has("ofport");
    String scope = egressOnly ? " (egress only: " + dstName + "'s switch " + dst.path("datapathId").asText()
        + " is not on this Open vSwitch, its ingress was not traced)" : "";
    return new Outcome(switchAllows, how, egressOnly, scope);
  }

  /**
   * Prints the switch's verdict next to the reference's, what may explain a difference, and returns the exit code.
   *
   * @param egressOnly only the source's switch was traced: compare with the reference's egress side alone
   */
  int conclude(PrintWriter out, JsonNode ctx, boolean switchAllows, String how, boolean egressOnly, String scope,
               boolean foreign) {
    JsonNode src = ctx.path("from");
    JsonNode dst = ctx.path("to");
    JsonNode ref = ctx.path("reference");
    boolean refAllows;
    if (!egressOnly) {
      refAllows = ref.path("allowed").asBoolean();
    } else {
      // the destination's switch was not traced: only the source's switch (its egress)
      JsonNode eg = ref.path("egress");
      refAllows = !"ISOLATED".equals(eg.path("isolation").asText()) || eg.path("allowedBy").size() > 0;
    }
    out.println("Switch:    " + (switchAllows ? "ALLOWED" : "DENIED") + " (" + how + ")" + scope);
    out.println("Reference: " + (ref.path("allowed").asBoolean() ? "ALLOWED" : "DENIED"));
    ref.path("explanation").forEach(l -> out.println("  " + l.asText()));
    if (foreign) {
      out.println("WARNING: the packet matched flows Sluice did not install (marked NOT SLUICE'S above)");
    }
    long generation = ctx.path("generation").asLong();
    List<String> stale = new ArrayList<>();
    for (JsonNode party : List.of(src, dst)) {
      if (party.has("realizedGeneration") && (!party.path("connected").asBoolean()
          || party.path("realizedGeneration").asLong() != generation)) {
        String sw = party.path("datapathId").asText();
        String line = "switch " + sw + " (" + name(party) + ") " + (party.path("connected").asBoolean()
            ? "has realized generation " + party.path("realizedGeneration").asLong() + ", not yet the model's "
            + generation : "is not connected: its flows are those it last had");
        if (!stale.contains(line)) {
          stale.add(line);
        }
      }
    }
    stale.forEach(l -> out.println("NOTE: " + l));
    if (switchAllows != refAllows) {
      out.println("DISAGREEMENT: the switch " + (switchAllows ? "allows" : "denies") + " this connection, the reference "
          + "evaluator " + (refAllows ? "allows" : "denies") + " it" + (foreign
          ? "; flows that are not Sluice's are on its path" : !stale.isEmpty()
          ? "; the switch has not realized the model yet (see NOTE)"
          : "; the switch's flows differ from what the model compiles to (a Sluice bug, or a change in flight: "
          + "trace again, and see /api/v1/realization and /api/v1/errors)"));
      return DISAGREE;
    }
    out.println("AGREE: " + (switchAllows ? "allowed" : "denied") + " by the switch and by the reference evaluator");
    return AGREE;
  }

  /**
   * The trace by OpenFlow packet-out: the running controller injects the probes on the source's switch and reads
   * which flows' counters they moved ({@code POST /api/v1/trace?method=packet-out}); printed per switch and table with
   * what each flow's cookie means, then compared as the ovs-appctl trace is.
   */
  private int packetOut(PrintWriter out, HttpClient http) {
    URI uri = StatusApi.uri(api, "/api/v1/trace?method=packet-out&from=" + enc(from) + "&to=" + enc(to) + "&port="
        + enc(port) + "&probes=" + probes);
    HttpResponse<String> r = StatusApi.post(http, api, uri, apiTokenFile, Duration.ofSeconds(40));
    if (r.statusCode() == 404 || (r.statusCode() == 405 && !r.body().contains("packet-out"))) {
      throw new Failure(uri + ": " + r.statusCode() + ", the controller at " + api + " has no packet-out trace (an "
          + "older Sluice?)");
    }
    if (r.statusCode() != 200) {
      throw new Failure(r.body().strip() + " (HTTP " + r.statusCode() + " from " + api + ")");
    }
    JsonNode res;
    try {
      res = json.readTree(r.body());
    } catch (IOException e) {
      throw new Failure(uri + ": not JSON: " + e.getMessage());
    }
    JsonNode src = res.path("from");
    JsonNode dst = res.path("to");
    String srcName = name(src);
    String dstName = name(dst);
    JsonNode pr = res.path("probes");
    int k = pr.path("count").asInt();
    if (!quiet) {
      out.println("Trace " + srcName + " (" + src.path("ip").asText() + ") -> " + dstName + " (" + dst.path("ip").asText()
          + ") " + res.path("protocol").asText() + " " + res.path("port").asInt() + ", new connections, by OpenFlow "
          + "packet-out on switch " + src.path("datapathId").asText() + (src.has("bridge") ? " (bridge "
          + src.path("bridge").asText() + ")" : "") + ", model generation " + res.path("generation").asLong());
      out.println("Probes: " + k + " " + pr.path("protocol").asText() + " first packets in at OpenFlow port "
          + pr.path("inPort").asLong() + ", source ports " + pr.path("sourcePorts").asText()
          + (pr.has("ipId") ? ", IP identification " + pr.path("ipId").asText() : ", flow label "
          + pr.path("flowLabel").asText()) + "; each step is a flow whose packet counter grew by " + k
          + " or more (exactly " + k + ": the probes' alone; more: other traffic too)");
    }
    boolean foreign = false;
    String endText = null;
    for (JsonNode sw : res.path("switches")) {
      if (!quiet) {
        out.println("switch " + sw.path("datapathId").asText() + " (" + sw.path("role").asText() + ")");
      }
      if (sw.path("steps").isEmpty() && !quiet) {
        out.println("  no flow grew by " + k + " or more: the probes matched nothing here");
      }
      JsonNode party = partyOn(res, null, sw.path("datapathId").asText());
      boolean stateless = party.path("stateless").asBoolean();
      for (JsonNode st : sw.path("steps")) {
        OfprotoTrace.Step s = step(st);
        Meaning m = meaning(s, res, res.path("rules"), stateless);
        foreign |= m.foreign();
        if (!quiet) {
          long grew = st.path("grew").asLong();
          out.printf(Locale.ROOT, "  table %2d %-17s %s  [priority %d, cookie %s, +%d%s]%n", s.table(),
              tableName(party, s.table()), m.text(), s.priority(), new Cookie(s.cookie()), grew,
              st.path("ambiguous").asBoolean() ? ": AMBIGUOUS, no flow of this table grew by exactly " + k
                  : grew > k ? ": other traffic too" : "");
        }
      }
      JsonNode end = sw.path("end");
      if (!end.isMissingNode() && endText == null) {
        OfprotoTrace.Step s = step(end);
        endText = meaning(s, res, res.path("rules"), stateless).text() + " (table " + s.table() + " "
            + tableName(party, s.table())
            + ", cookie " + new Cookie(s.cookie()) + ")";
      }
      if (!quiet) {
        sw.path("notes").forEach(n -> out.println("  NOTE: " + n.asText()));
      }
    }
    if (!quiet) {
      res.path("notes").forEach(n -> out.println("NOTE: " + n.asText()));
    }
    JsonNode v = res.path("verdict");
    boolean switchAllows = v.path("allowed").asBoolean();
    boolean egressOnly = "egress".equals(v.path("scope").asText());
    String how;
    if (switchAllows) {
      how = egressOnly ? v.path("how").asText() + " toward " + dstName
          : "out of " + dstName + "'s port " + dst.path("portName").asText(dst.path("ofport").asText()) + ": "
          + v.path("how").asText();
    } else {
      how = endText != null ? endText : v.path("how").asText();
    }
    String scope = egressOnly && dst.has("ofport") ? " (egress only: " + dstName + "'s switch "
        + dst.path("datapathId").asText() + " is not connected to this controller, its ingress was not traced)" : "";
    return conclude(out, res, switchAllows, how, egressOnly && dst.has("ofport"), scope, foreign);
  }

  /** A step of the packet-out path as the ovs-appctl trace's step, for {@link #meaning}. */
  private static OfprotoTrace.Step step(JsonNode st) {
    String c = st.path("cookie").asText();
    return new OfprotoTrace.Step(null, st.path("table").asInt(), st.path("match").asText(), st.path("priority").asInt(),
        Long.parseUnsignedLong(c.startsWith("0x") ? c.substring(2) : c, 16),
        st.path("forwards").asBoolean() ? List.of(st.path("outputs").asBoolean() ? "output" : "goto_table") : List.of(),
        0);
  }

  /** At most this many bridges are traced in a row. */
  static final int MAX_HOPS = 8;
  private static final Path SYS_CLASS_NET = Path.of("/sys/class/net");

  /** One bridge's trace of the packet. */
  record Hop(String bridge, List<String> command, OfprotoTrace trace) { }

  /** What one table step means, and whether its flow is not Sluice's. */
  record Meaning(String text, boolean foreign) { }

  /**
   * The context's end (from or to) on a bridge (by name) or switch (by datapath id): its switch's profile, tables and
   * whether it carries the stateless pipeline; a missing node when neither end is there (a transit switch).
   */
  static JsonNode partyOn(JsonNode ctx, String bridge, String datapathId) {
    for (String end : List.of("from", "to")) {
      JsonNode p = ctx.path(end);
      if ((bridge != null && bridge.equals(p.path("bridge").asText(null)))
          || (datapathId != null && datapathId.equals(p.path("datapathId").asText(null)))) {
        return p;
      }
    }
    return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
  }

  /** A table's name in the profile of the switch the context says (Open vSwitch's pipeline when it says none). */
  static String tableName(JsonNode party, int table) {
    JsonNode names = party.path("tables");
    if (names.isObject()) {
      return names.path(Integer.toString(table)).asText("?");
    }
    Table t = PipelineProfile.ovs().tables().get(table);
    return t == null ? "?" : t.name();
  }

  static Meaning meaning(OfprotoTrace.Step s, JsonNode ctx, JsonNode rules) {
    return meaning(s, ctx, rules, false);
  }

  /** What a step means; {@code stateless}: the switch carries the stateless pipeline (the bands of StatelessPolicy). */
  static Meaning meaning(OfprotoTrace.Step s, JsonNode ctx, JsonNode rules, boolean stateless) {
    if (!s.matched()) {
      return new Meaning("no flow matched (no table-miss flow)", false);
    }
    Cookie c = new Cookie(s.cookie());
    if (!c.owned()) {
      return new Meaning("NOT SLUICE'S: a flow Sluice did not install (cookie " + c + ", " + s.match() + ")", true);
    }
    String src = name(ctx.path("from"));
    String dst = name(ctx.path("to"));
    if (stateless && c.category() != Cookie.Category.POLICY) {
      return new Meaning(statelessMeaning(s, c, ctx, src, dst), false);
    }
    boolean egressTable = s.table() == PipelineProfile.EGRESS_RULE;
    boolean drops = s.actions().isEmpty() || s.actions().stream().allMatch(a -> a.equals("drop"))
        || s.actions().stream().anyMatch(a -> a.startsWith("CONTROLLER") || a.startsWith("controller("));
    return new Meaning(switch (c.category()) {
      case POLICY -> {
        JsonNode r = rules.path(c.toString());
        yield r.isMissingNode() ? "allowed by a policy rule (id " + c.objectId() + ") the controller's model no longer has"
            : "allowed by " + r.path("policy").asText() + " " + r.path("direction").asText() + " rule "
            + r.path("rule").asInt();
      }
      case ISOLATION -> {
        JsonNode side = ctx.path("reference").path(egressTable ? "egress" : "ingress");
        String who = egressTable ? src : dst;
        List<String> by = new ArrayList<>();
        side.path("isolatingPolicies").forEach(p -> by.add(p.asText()));
        if (side.path("byNamespaceAnnotation").asBoolean()) {
          by.add("its namespace's annotation");
        }
        yield "dropped: " + (egressTable ? "egress" : "ingress") + " isolation of " + who
            + (by.isEmpty() ? "" : " (by " + String.join(", ", by) + ")") + ", no rule allowed it";
      }
      case EXEMPTION -> "not governed: a pod with itself or its own node";
      case ADMISSION -> s.table() == PipelineProfile.CLASSIFIER
          ? (drops ? "dropped: the port may not send this (closed port, or a source address not the pod's)"
              : s.match().contains("nw_src=") || s.match().contains("ipv6_src=")
              ? "admitted: the pod's port, sending from its own address"
              : "admitted: a port that is not a pod's (LOCAL, uplink, patch, tunnel)")
          : drops ? "dropped: the destination's pod port is still closed" : "admission";
      case SERVICE -> service(s, ctx, c);
      case LEARNED -> "learned by the switch (session affinity)";
      case AUDIT -> "audit log: a copy to the controller (a logged policy allowed it)";
      case BASE -> base(s, drops, src, dst);
      default -> "category " + c.category();
    }, false);
  }

  /** A Service flow (tables 11-15), named after the Service the context traces to, if it does. */
  private static String service(OfprotoTrace.Step s, JsonNode ctx, Cookie c) {
    JsonNode svc = ctx.path("service");
    String name = svc.isObject() ? "Service " + svc.path("name").asText() + " port " + svc.path("port").asInt() + "/"
        + svc.path("protocol").asText() : "a Service";
    String group = s.actions().stream().filter(a -> a.startsWith("group:")).findFirst()
        .map(a -> a.substring("group:".length())).orElse(null);
    return switch (s.table()) {
      case PipelineProfile.SERVICE_LB -> ServiceTrace.refuses(s)
          ? "refused: " + name + " has no usable endpoint (to the controller through a meter, which answers a TCP RST"
              + " or ICMP port unreachable)"
          : group != null ? name + ": a new connection to its virtual address, balanced by select group " + group
          : s.actions().stream().anyMatch(a -> a.startsWith("resubmit(,14)"))
          ? name + ": a new connection, session affinity: the client's learned endpoint (table 14), then table 15"
          : s.actions().stream().allMatch(a -> a.equals("drop"))
          ? "dropped: " + name + " has no endpoint on this node (traffic policy Local)" : name;
      case PipelineProfile.SERVICE_ENDPOINT -> s.priority() >= 110
          ? "hairpin: a pod reaching itself through " + name + ", sent back to its own port"
          : "translated by " + name + ": to the endpoint's MAC (from the connection's ct_label)";
      case PipelineProfile.SERVICE_AFFINITY_ENDPOINT -> group != null
          ? "session affinity: nothing learned for this client, balanced by select group " + group
          : "session affinity: learn this endpoint for the client, and translate to it";
      default -> name + " (group " + c.objectId() + ")";
    };
  }

  /** A stateless switch's flow, by its band (docs/pipeline.md, "Stateless NetworkPolicy"). */
  private static String statelessMeaning(OfprotoTrace.Step s, Cookie c, JsonNode ctx, String src, String dst) {
    boolean drops = s.actions().isEmpty() || s.actions().stream().allMatch(a -> a.equals("drop"));
    if (c.category() == Cookie.Category.EXEMPTION) {
      return "not governed: a pod with itself or its own node";
    }
    if (c.category() == Cookie.Category.ISOLATION) {
      return switch (s.priority()) {
        case io.sluice.renderer.policy.StatelessPolicy.LOCAL_SOURCE_DROP ->
            "dropped: from a pod's port to " + dst + ", and no allow of both sides (" + src + "'s egress, " + dst
                + "'s ingress) matched, first packet or reply";
        case io.sluice.renderer.policy.StatelessPolicy.LOCAL_DROP -> "dropped: ingress isolation of " + dst
            + isolatedBy(ctx, "ingress") + ", no rule allowed it (nor is it a reply its egress admits)";
        case io.sluice.renderer.policy.StatelessPolicy.SOURCE_DROP -> "dropped: egress isolation of " + src
            + isolatedBy(ctx, "egress") + ", no rule allowed it, or a source address not the pod's";
        default -> "dropped (stateless policy)";
      };
    }
    if (c.objectId() == io.sluice.renderer.policy.StatelessPolicy.OPEN_OBJECT) {
      return switch (s.priority()) {
        case io.sluice.renderer.policy.StatelessPolicy.LOCAL_ALLOW ->
            "allowed: between two pods of this switch, neither side denies it (a first packet, or reply-shaped)";
        case io.sluice.renderer.policy.StatelessPolicy.NODE_TO_LOCAL ->
            "allowed: from an attached node's own address, to " + dst + ", whose side admits it";
        case io.sluice.renderer.policy.StatelessPolicy.LOCAL_FROM_OUTSIDE -> "allowed: to " + dst
            + ", whose side admits it (not isolated, or reply-shaped)";
        case io.sluice.renderer.policy.StatelessPolicy.SOURCE_ALLOW -> "allowed: from " + src
            + ", whose side lets it out (not isolated, or reply-shaped)";
        default -> "allowed (stateless policy)";
      };
    }
    if (drops) {
      return s.priority() == 0 ? "table-miss: dropped" : "base pipeline: dropped";
    }
    if (s.actions().stream().anyMatch(a -> a.startsWith("group:"))) {
      return "fabric: along the shortest paths (select group)";
    }
    if (s.actions().stream().allMatch(a -> a.startsWith("goto_table:"))) {
      return "on to the next table";
    }
    if (s.actions().stream().anyMatch(a -> a.equals("ALL") || a.equals("FLOOD") || a.startsWith("output:ALL"))) {
      return "forwarded: flooded along the spanning tree (no known port for the destination)";
    }
    return s.actions().stream().anyMatch(a -> a.startsWith("output:")) ? "forwarded: to the destination MAC's port"
        : "base pipeline";
  }

  private static String isolatedBy(JsonNode ctx, String side) {
    List<String> by = new ArrayList<>();
    ctx.path("reference").path(side).path("isolatingPolicies").forEach(p -> by.add(p.asText()));
    return by.isEmpty() ? "" : " (by " + String.join(", ", by) + ")";
  }

  private static String base(OfprotoTrace.Step s, boolean drops, String src, String dst) {
    boolean onward = s.actions().stream().anyMatch(a -> a.startsWith("ct(") || a.startsWith("goto") || a.equals("NORMAL"));
    if (drops && !onward) {
      return "base pipeline: dropped";
    }
    if (s.table() == PipelineProfile.SERVICE_ENDPOINT && s.priority() != 0) {
      // the Service tables' fixed flows (docs/pipeline.md, table 12)
      return s.actions().stream().anyMatch(a -> a.startsWith("move:NXM_NX_CT_LABEL"))
          ? "translated by a Service: to its endpoint's MAC (from the connection's ct_label)"
          : s.actions().stream().anyMatch(a -> a.contains("IN_PORT")) ? "hairpin: a reply, back out of its port"
          : "hairpin: a pod reaching itself through a Service, SNATed and sent back";
    }
    if (s.priority() != 0) {
      return "base pipeline";
    }
    return switch (s.table()) {
      case PipelineProfile.SERVICE_LB -> "table-miss: not a new connection to a Service";
      case PipelineProfile.SERVICE_ENDPOINT -> "table-miss: not translated by a Service";
      case PipelineProfile.CT_STATE -> "table-miss: a new connection, judged by policy";
      case PipelineProfile.EGRESS_RULE -> "table-miss: " + src + " is not egress-isolated";
      case PipelineProfile.INGRESS_RULE -> "table-miss: " + dst + " is not ingress-isolated";
      case PipelineProfile.L2_FORWARDING -> "forwarded (NORMAL)";
      default -> "table-miss";
    };
  }

  /** The ofproto/trace flow of the connection's first packet, from the context's ports, MACs and addresses. */
  static String flow(JsonNode ctx, int sourcePort) {
    JsonNode src = ctx.path("from");
    JsonNode dst = ctx.path("to");
    return flowOf(ctx.path("protocol").asText(), src.path("ofport").asLong(), src.path("mac").asText(null),
        dst.path("mac").asText(null), src.path("ip").asText(), dst.path("ip").asText(), sourcePort,
        ctx.path("port").asInt());
  }

  /** A new connection's first packet (a TCP SYN) in ofproto/trace's flow syntax; a null MAC is left out. */
  static String flowOf(String protocol, long inPort, String srcMac, String dstMac, String srcIp, String dstIp,
                       int sourcePort, int port) {
    boolean v6 = srcIp.indexOf(':') >= 0;
    String proto = protocol.toLowerCase(Locale.ROOT);
    StringBuilder f = new StringBuilder(proto).append(v6 ? "6" : "").append(",in_port=").append(inPort);
    if (srcMac != null) {
      f.append(",dl_src=").append(srcMac);
    }
    if (dstMac != null) {
      f.append(",dl_dst=").append(dstMac);
    }
    f.append(v6 ? ",ipv6_src=" : ",nw_src=").append(srcIp)
        .append(v6 ? ",ipv6_dst=" : ",nw_dst=").append(dstIp)
        .append(",nw_ttl=64")
        .append(",").append(proto).append("_src=").append(sourcePort).append(",").append(proto).append("_dst=").append(port);
    if ("tcp".equals(proto)) {
      f.append(",tcp_flags=syn");
    }
    return f.toString();
  }

  /** {@link #flowOf} from the default source port. */
  static String flowOf(String protocol, long inPort, String srcMac, String dstMac, String srcIp, String dstIp,
                       int port) {
    return flowOf(protocol, inPort, srcMac, dstMac, srcIp, dstIp, 49152, port);
  }

  static String name(JsonNode party) {
    return party.has("pod") ? party.path("pod").asText() : party.has("service") ? "Service "
        + party.path("service").asText() : party.path("ip").asText();
  }

  JsonNode get(HttpClient http, String path) {
    URI uri = StatusApi.uri(api, path);
    HttpResponse<String> r = StatusApi.get(http, api, uri, apiTokenFile);
    if (r.statusCode() == 400 || r.statusCode() == 401) {
      throw new Failure(r.body().strip());
    }
    if (r.statusCode() == 404) {
      throw new Failure(uri + ": 404, the controller at " + api + " has no trace API (an older Sluice?)");
    }
    if (r.statusCode() != 200) {
      throw new Failure(uri + ": HTTP " + r.statusCode() + " " + r.body().strip());
    }
    try {
      return json.readTree(r.body());
    } catch (IOException e) {
      throw new Failure(uri + ": not JSON: " + e.getMessage());
    }
  }

  /** Runs a command (10 s at most); its standard output, or a Failure saying why not. */
  static String run(List<String> cmd, String what) {
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
    } catch (IOException e) {
      throw new Failure(cmd.get(0) + " cannot be run (" + e.getMessage() + "): install Open vSwitch's tools or give "
          + "--ovs-appctl");
    }
    try (InputStream stdout = p.getInputStream(); InputStream stderr = p.getErrorStream()) {
      byte[] o = stdout.readAllBytes();
      byte[] e = stderr.readAllBytes();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new Failure(String.join(" ", cmd) + ": no answer in 10 s");
      }
      if (p.exitValue() != 0) {
        throw new Failure(cmd.get(0) + " " + what + " failed (exit " + p.exitValue() + "): "
            + new String(e, StandardCharsets.UTF_8).strip() + " -- is ovs-vswitchd running here, and may this user "
            + "reach its control socket?");
      }
      return new String(o, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new Failure(String.join(" ", cmd) + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Failure("interrupted");
    }
  }

  /** ovs-appctl dpif/show: each bridge's OpenFlow ports and their datapath port numbers. */
  /**
   * dpif/show: each bridge's OpenFlow ports and their datapath port numbers, and each port's name (its bridge, its
   * OpenFlow port and its datapath port).
   */
  record DatapathPorts(Map<String, Map<Long, Long>> bridges, Map<String, Port> ports) {
    /** One port of a bridge. */
    record Port(String name, String bridge, long ofport, long datapathPort) { }

    boolean hasBridge(String bridge) {
      return bridges.containsKey(bridge);
    }

    /** The datapath port of a bridge's OpenFlow port, or null. */
    Long datapathPort(String bridge, long ofport) {
      Map<Long, Long> m = bridges.get(bridge);
      return m == null ? null : m.get(ofport);
    }

    /** The port with this datapath port number, or null. */
    Port byDatapathPort(long dp) {
      for (Port p : ports.values()) {
        if (p.datapathPort() == dp) {
          return p;
        }
      }
      return null;
    }

    static DatapathPorts parse(String text) {
      Map<String, Map<Long, Long>> out = new HashMap<>();
      Map<String, Port> ports = new HashMap<>();
      Map<Long, Long> current = null;
      String bridge = null;
      java.util.regex.Pattern port = java.util.regex.Pattern.compile("^\\s+(\\S+) (\\d+)/(\\d+):.*");
      for (String line : text.split("\n")) {
        if (line.matches("^  \\S.*:\\s*$")) {
          current = new HashMap<>();
          bridge = line.trim().substring(0, line.trim().length() - 1);
          out.put(bridge, current);
        } else if (current != null && line.startsWith("    ")) {
          java.util.regex.Matcher m = port.matcher(line);
          if (m.matches()) {
            current.put(Long.parseLong(m.group(2)), Long.parseLong(m.group(3)));
            ports.put(m.group(1), new Port(m.group(1), bridge, Long.parseLong(m.group(2)),
                Long.parseLong(m.group(3))));
          }
        }
      }
      return new DatapathPorts(out, ports);
    }
  }

  /**
   * The OVS port at the other end of a veth that is itself an OVS port (a link between two bridges of this
   * ovs-vswitchd, as between emulated nodes or Mininet switches), or null: found by the interfaces' indexes in
   * {@code /sys/class/net}.
   */
  static DatapathPorts.Port vethPeer(DatapathPorts dp, DatapathPorts.Port port, Path sysClassNet) {
    try {
      Path dev = sysClassNet.resolve(port.name());
      int ifindex = Integer.parseInt(Files.readString(dev.resolve("ifindex")).strip());
      int iflink = Integer.parseInt(Files.readString(dev.resolve("iflink")).strip());
      if (ifindex == iflink) {
        return null;
      }
      for (DatapathPorts.Port other : dp.ports().values()) {
        Path o = sysClassNet.resolve(other.name());
        if (other != port && Files.isRegularFile(o.resolve("ifindex"))
            && Integer.parseInt(Files.readString(o.resolve("ifindex")).strip()) == iflink
            && Integer.parseInt(Files.readString(o.resolve("iflink")).strip()) == ifindex) {
          return other;
        }
      }
    } catch (IOException | NumberFormatException e) {
      return null; // not a network device here (a tap, an internal port): no link to follow
    }
    return null;
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  static String shellQuote(String s) {
    return s.matches("[A-Za-z0-9_./:=-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
  }

  static String abbreviate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max - 3) + "...";
  }
}
