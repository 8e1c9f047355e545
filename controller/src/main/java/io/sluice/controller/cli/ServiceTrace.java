package io.sluice.controller.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.pipeline.PipelineProfile;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpClient;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code sluice trace --to} a Service: the Service tables' verdict on a new connection to its virtual address, then the
 * translated connection to each endpoint traced on through policy to the endpoint's port, each compared with the
 * reference evaluator's verdict on that endpoint.
 *
 * <p>The select group picks a bucket by a hash of the packet (OVS: {@code hash(..),recirc(..)}, the hash in
 * {@code dp_hash}) that a traced packet does not carry, so the packet is traced with {@code dp_hash} 1, 2, ... (and the
 * source port moved along, for a group that hashes the 5-tuple instead) until every endpoint has been picked by one:
 * each endpoint is then traced with a hash that picks it, through the real group, bucket, DNAT and on. The endpoints
 * the group picked must be the reference's ({@code ServiceResolver}), and each translated connection must end as the
 * reference evaluator says: out of the endpoint's port when policy allows it, dropped when not. No endpoint: the
 * switch must refuse the client (table 11 to the controller, which answers a RST or ICMP unreachable).
 */
final class ServiceTrace {
  /** At most this many endpoints of one Service are traced ({@code --max-endpoints}). */
  static final int MAX_ENDPOINTS = 64;
  /**
   * The conntrack states after each recirculation: the switch's zone (new), the bucket's DNAT commit (new, DNATed),
   * then a third and fourth for a hairpin's SNAT zone or another bridge behind a patch port.
   */
  static final List<String> CT_NEXT = List.of("trk,new", "trk,new,dnat", "trk,new", "trk,new");
  private static final Pattern NAT_DST = Pattern.compile("nat\\(dst=(\\[[0-9a-fA-F:.]+\\]|[0-9.]+)(?::(\\d+))?");

  private final TraceCommand cmd;
  private final HttpClient http;
  private final TraceCommand.DatapathPorts dp;
  private final JsonNode ctx;

  ServiceTrace(TraceCommand cmd, HttpClient http, TraceCommand.DatapathPorts dp, JsonNode ctx) {
    this.cmd = cmd;
    this.http = http;
    this.dp = dp;
    this.ctx = ctx;
  }

  /** An endpoint: its address and target port, as a bucket's {@code nat(dst=A:P)} and the reference name it. */
  record Backend(String address, int port) {
    @Override
    public String toString() {
      return (address.indexOf(':') >= 0 ? "[" + address + "]" : address) + ":" + port;
    }
  }

  /** What one traced packet to the virtual address became: the endpoint its bucket DNATed to (null: none). */
  record Pick(int hash, int sourcePort, Backend backend, OfprotoTrace trace, List<String> command) { }

  /**
   * The endpoint a trace's packet was translated to: the first {@code nat(dst=A:P)} in its flows' actions or its
   * datapath actions (a bucket's {@code ct(commit,..,nat(dst=..))}), or empty when nothing translated it.
   */
  static Optional<Backend> translatedTo(OfprotoTrace t) {
    for (OfprotoTrace.Pass p : t.passes()) {
      for (OfprotoTrace.Step s : p.steps()) {
        for (String a : s.actions()) {
          Optional<Backend> b = natDst(a);
          if (b.isPresent()) {
            return b;
          }
        }
      }
      Optional<Backend> b = natDst(p.datapathActions());
      if (b.isPresent()) {
        return b;
      }
    }
    return Optional.empty();
  }

  private static Optional<Backend> natDst(String text) {
    if (text == null) {
      return Optional.empty();
    }
    Matcher m = NAT_DST.matcher(text);
    if (!m.find() || m.group(2) == null) {
      return Optional.empty();
    }
    String a = m.group(1);
    return Optional.of(new Backend(a.startsWith("[") ? a.substring(1, a.length() - 1) : a,
        Integer.parseInt(m.group(2))));
  }

  /** The table-11 step of a trace that matched a Service flow (Sluice's cookie, category service), if any. */
  static Optional<OfprotoTrace.Step> serviceStep(OfprotoTrace t) {
    return t.steps().stream().filter(s -> s.table() == PipelineProfile.SERVICE_LB && s.matched()
        && new Cookie(s.cookie()).owned() && new Cookie(s.cookie()).category() == Cookie.Category.SERVICE).findFirst();
  }

  /**
   * The table-14 step of a trace that matched a learned flow (session affinity remembered for this client), if the
   * choice it loaded held: table 15 translated without the group. A learned endpoint that is no longer one falls
   * through to the group, which balances as without affinity.
   */
  static Optional<OfprotoTrace.Step> learnedStep(OfprotoTrace t) {
    boolean balanced = t.steps().stream().anyMatch(s -> s.table() == PipelineProfile.SERVICE_AFFINITY_ENDPOINT
        && s.actions().stream().anyMatch(a -> a.startsWith("group:")));
    return balanced ? Optional.empty() : t.steps().stream().filter(s -> s.table() == PipelineProfile.SERVICE_AFFINITY
        && s.matched() && new Cookie(s.cookie()).owned() && new Cookie(s.cookie()).isLearned()).findFirst();
  }

  /** True when the table-11 flow sends the packet to the controller: the refusal of a Service without endpoints. */
  static boolean refuses(OfprotoTrace.Step table11) {
    return table11.actions().stream().anyMatch(a -> a.startsWith("CONTROLLER") || a.startsWith("controller("));
  }

  /** The endpoint (of the context's list) that {@code --endpoint} names: an address, address:port or NS/POD. */
  static List<JsonNode> chosen(List<JsonNode> endpoints, String wanted) {
    if (wanted == null) {
      return endpoints;
    }
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode e : endpoints) {
      Backend b = backend(e);
      if (wanted.equals(e.path("pod").asText(null)) || wanted.equals(b.address()) || wanted.equals(b.toString())) {
        out.add(e);
      }
    }
    return out;
  }

  static Backend backend(JsonNode endpoint) {
    return new Backend(endpoint.path("address").asText(), endpoint.path("port").asInt());
  }

  private static String describe(JsonNode endpoint) {
    return backend(endpoint) + (endpoint.has("pod") ? " (" + endpoint.path("pod").asText() + ")" : "");
  }

  int run(PrintWriter out) {
    JsonNode src = ctx.path("from");
    JsonNode svc = ctx.path("service");
    String bridge = src.path("bridge").asText();
    String vip = svc.path("virtualAddress").asText();
    String protocol = ctx.path("protocol").asText();
    int number = ctx.path("port").asInt();
    List<JsonNode> endpoints = new ArrayList<>();
    svc.path("endpoints").forEach(endpoints::add);
    List<JsonNode> wanted = chosen(endpoints, cmd.endpoint);
    if (wanted.isEmpty() && cmd.endpoint != null) {
      throw new TraceCommand.Failure("--endpoint " + cmd.endpoint + ": not an endpoint of Service "
          + svc.path("name").asText() + " (its endpoints: " + (endpoints.isEmpty() ? "none"
          : String.join(", ", endpoints.stream().map(ServiceTrace::describe).toList())) + ")");
    }
    List<String> notes = new ArrayList<>();
    if (wanted.size() > cmd.maxEndpoints) {
      notes.add("Service " + svc.path("name").asText() + " has " + wanted.size() + " endpoints: the first "
          + cmd.maxEndpoints + " are traced (--max-endpoints, or --endpoint for one)");
      wanted = wanted.subList(0, cmd.maxEndpoints);
    }
    boolean local = "LOCAL".equals(svc.path("internalTrafficPolicy").asText());
    if (!cmd.quiet) {
      out.println("Trace " + TraceCommand.name(src) + " (" + src.path("ip").asText() + ") -> Service "
          + svc.path("name").asText() + " (" + vip + ") " + protocol + " " + number + ", a new connection, on bridge "
          + bridge + " (switch " + src.path("datapathId").asText() + ", model generation "
          + ctx.path("generation").asLong() + ")");
    }
    out.println("Service:   " + svc.path("name").asText() + " port " + (svc.path("portName").asText().isEmpty() ? ""
        : svc.path("portName").asText() + " ") + number + "/" + protocol + " at " + vip + ", session affinity "
        + ("CLIENT_IP".equals(svc.path("sessionAffinity").asText()) ? "ClientIP (timeout "
        + svc.path("sessionAffinityTimeoutSeconds").asInt() + " s)" : "None")
        + (local ? ", internalTrafficPolicy Local" : ""));
    out.println("Reference: " + (endpoints.isEmpty() ? "REFUSED: no ready or serving endpoint"
        : endpoints.size() + " endpoint(s): " + String.join(", ", endpoints.stream().map(ServiceTrace::describe)
        .toList())));

    // which endpoint each hash picks, until every wanted one is picked (or the hashes run out)
    int budget = Math.min(256, 16 + 4 * Math.max(1, endpoints.size()));
    Map<Backend, Pick> picks = new LinkedHashMap<>();
    List<Pick> untranslated = new ArrayList<>();
    Set<Backend> want = new HashSet<>();
    wanted.forEach(e -> want.add(backend(e)));
    OfprotoTrace.Step table11 = null;
    OfprotoTrace.Step learned = null;
    int tried = 0;
    // at least one trace: with no endpoint (or none wanted) it shows what the switch does with the connection
    for (int h = 1; h <= budget && (h == 1 || !picks.keySet().containsAll(want)); h++) {
      int sport = 1 + (cmd.sourcePort - 1 + h - 1) % 65535;
      String flow = "dp_hash=" + h + "," + TraceCommand.flowOf(protocol, src.path("ofport").asLong(),
          src.path("mac").asText(null), null, src.path("ip").asText(), vip, sport, number);
      List<String> command = new ArrayList<>(List.of(cmd.appctl, "ofproto/trace", bridge, flow));
      CT_NEXT.forEach(c -> {
        command.add("--ct-next");
        command.add(c);
      });
      OfprotoTrace t;
      try {
        t = OfprotoTrace.parse(TraceCommand.run(command, "ofproto/trace"));
      } catch (IllegalArgumentException e) {
        throw new TraceCommand.Failure(e.getMessage());
      }
      tried = h;
      if (table11 == null) {
        table11 = serviceStep(t).orElse(null);
      }
      if (learned == null) {
        learned = learnedStep(t).orElse(null);
      }
      Optional<Backend> b = translatedTo(t);
      Pick pick = new Pick(h, sport, b.orElse(null), t, command);
      if (b.isEmpty()) {
        untranslated.add(pick);
        if (endpoints.isEmpty() || table11 == null || learned != null) {
          break; // refused, not a Service here, or a learned choice: more hashes change nothing
        }
      } else {
        picks.putIfAbsent(b.get(), pick);
        if (learned != null) {
          break; // the client's learned endpoint: every hash picks it
        }
      }
    }

    // the Service tables' verdict
    List<String> problems = new ArrayList<>();
    // the trace shown for the Service tables: the first that was not translated, else the first pick
    Pick shown = untranslated.isEmpty() ? picks.values().iterator().next() : untranslated.get(0);
    List<TraceCommand.Hop> firstHops = List.of(new TraceCommand.Hop(bridge, shown.command(), shown.trace()));
    if (table11 == null) {
      cmd.print(out, firstHops, ctx, cmd.rules(http, firstHops), "");
      out.println("Switch:    no Service flow in table " + PipelineProfile.SERVICE_LB + " matched " + vip + ":"
          + number + "/" + protocol + ": the switch does not translate it");
      problems.add("the switch has no Service flow for " + vip + ":" + number + "/" + protocol + ", the reference "
          + (endpoints.isEmpty() ? "refuses the client" : "translates it to " + endpoints.size() + " endpoint(s)"));
      return finish(out, problems, notes, List.of(), svc);
    }
    out.println("Switch:    table " + table11.table() + " " + TraceCommand.tableName(src, table11.table()) + " "
        + table11.match() + "  [priority " + table11.priority() + ", cookie " + new Cookie(table11.cookie()) + "]");
    out.println("           -> " + TraceCommand.abbreviate(String.join(" ", table11.actions().stream()
        .takeWhile(a -> !a.startsWith("bucket")).toList()), 160));
    if (refuses(table11) || endpoints.isEmpty()) {
      boolean foreign = cmd.print(out, firstHops, ctx, cmd.rules(http, firstHops), "");
      String actions = shown.trace().finalActions();
      boolean switchRefuses = refuses(table11) && actions != null && actions.contains("controller(")
          && picks.isEmpty();
      out.println("Switch:    " + (switchRefuses ? "REFUSED (to the controller through a meter, which answers a TCP RST"
          + " or ICMP port unreachable: " + TraceCommand.abbreviate(actions, 100) + ")"
          : "NOT REFUSED (" + (picks.isEmpty() ? actions : "translated to " + picks.keySet()) + ")"));
      out.println("Reference: " + (endpoints.isEmpty() ? "REFUSED" : "NOT REFUSED: " + endpoints.size()
          + " endpoint(s)"));
      ctx.path("reference").path("explanation").forEach(l -> out.println("  " + l.asText()));
      if (foreign) {
        problems.add("flows Sluice did not install are on the path (marked NOT SLUICE'S above)");
      }
      if (switchRefuses != endpoints.isEmpty()) {
        problems.add("the switch " + (switchRefuses ? "refuses" : "does not refuse") + " the client, the reference "
            + (endpoints.isEmpty() ? "refuses it (no endpoint)" : "has " + endpoints.size() + " endpoint(s)"));
      }
      return finish(out, problems, notes, List.of("refused by the switch and by the reference evaluator (no "
          + "endpoint)"), svc);
    }
    out.println("           group buckets picked by dp_hash 1-" + tried + ": " + (picks.isEmpty() ? "none"
        : String.join(", ", picks.entrySet().stream().map(e -> e.getKey() + " (dp_hash=" + e.getValue().hash() + ")")
        .toList())));
    if (learned != null) {
      notes.add("session affinity: the switch has learned where " + TraceCommand.name(src) + " goes (table "
          + learned.table() + ", " + learned.match() + ", cookie " + new Cookie(learned.cookie()) + "): its new "
          + "connections reach " + (picks.isEmpty() ? "no endpoint" : picks.keySet().iterator().next())
          + " until the learned flow idles out; only that endpoint is traced");
    }
    // the endpoints the switch's group reaches must be the reference's
    Set<Backend> reference = new HashSet<>();
    endpoints.forEach(e -> reference.add(backend(e)));
    for (Backend b : picks.keySet()) {
      if (!reference.contains(b)) {
        problems.add("the switch translated to " + b + " (dp_hash=" + picks.get(b).hash() + "), which is not an endpoint "
            + "of Service " + svc.path("name").asText() + " in the reference");
      }
    }
    if (!untranslated.isEmpty() && learned == null) {
      problems.add("dp_hash=" + untranslated.get(0).hash() + ": the switch did not translate the connection ("
          + untranslated.get(0).trace().finalActions() + "), the reference has " + endpoints.size() + " endpoint(s)");
    }

    // each endpoint: the translated connection on through policy to its port
    List<String> verdicts = new ArrayList<>();
    int i = 0;
    for (JsonNode e : wanted) {
      i++;
      Backend b = backend(e);
      Pick pick = picks.get(b);
      out.println();
      out.println("Endpoint " + i + "/" + wanted.size() + ": " + describe(e)
          + (pick == null ? "" : ", picked by dp_hash=" + pick.hash()));
      if (pick == null) {
        if (learned != null || local) {
          out.println("  not traced: " + (learned != null ? "session affinity sends this client elsewhere"
              : "internalTrafficPolicy Local: not an endpoint on the client's node, or not picked"));
          verdicts.add(describe(e) + " not traced");
        } else {
          out.println("  NOT REACHED: no dp_hash of 1-" + tried + " made the switch's group pick it");
          problems.add("the switch's group never picked endpoint " + describe(e) + " (dp_hash 1-" + tried + ")");
        }
        continue;
      }
      ObjectNode epCtx = ctx.deepCopy();
      epCtx.set("to", e.path("to"));
      epCtx.set("reference", e.path("reference"));
      JsonNode dst = e.path("to");
      String later = TraceCommand.flowOf(protocol, 0, src.path("mac").asText(null), dst.path("mac").asText(null),
          src.path("ip").asText(), b.address(), pick.sourcePort(), b.port());
      String first = pick.command().get(3);
      Set<Long> followed = new HashSet<>();
      List<TraceCommand.Hop> hops = cmd.follow(dp, bridge, first, later, CT_NEXT, dst, followed);
      boolean foreign = cmd.print(out, hops, epCtx, cmd.rules(http, hops), "  ");
      TraceCommand.Outcome o = TraceCommand.outcome(dp, hops, followed, dst);
      StringWriter buf = new StringWriter();
      PrintWriter w = new PrintWriter(buf);
      int code = cmd.conclude(w, epCtx, o.allows(), o.how(), o.egressOnly(), o.scope(), foreign);
      w.flush();
      for (String line : buf.toString().split("\n")) {
        out.println("  " + line);
      }
      if (code != TraceCommand.AGREE) {
        problems.add("endpoint " + describe(e) + ": the switch " + (o.allows() ? "allows" : "denies")
            + " the translated connection, the reference evaluator " + (o.allows() ? "denies" : "allows") + " it");
      }
      verdicts.add(describe(e) + " " + (o.allows() ? "allowed" : "denied"));
    }
    out.println();
    return finish(out, problems, notes, verdicts, svc);
  }

  private int finish(PrintWriter out, List<String> problems, List<String> notes, List<String> verdicts, JsonNode svc) {
    notes.forEach(n -> out.println("NOTE: " + n));
    if (!problems.isEmpty()) {
      problems.forEach(p -> out.println("DISAGREEMENT: Service " + svc.path("name").asText() + ": " + p));
      return TraceCommand.DISAGREE;
    }
    out.println("AGREE: Service " + svc.path("name").asText() + ": " + String.join(", ", verdicts)
        + " (the switch and the reference evaluator)");
    return TraceCommand.AGREE;
  }
}
