package io.sluice.controller.runtime;

import io.sluice.controller.session.SwitchPort;
import io.sluice.controller.sync.SwitchStatus;
import io.sluice.model.ObjectRef;
import io.sluice.model.PortBinding;
import io.sluice.model.Protocol;
import io.sluice.model.Snapshot;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.policy.PolicyCompiler;
import io.sluice.renderer.policy.PolicyIndex;
import io.sluice.renderer.reference.Endpoint;
import io.sluice.renderer.reference.EndpointException;
import io.sluice.renderer.reference.ReferenceEvaluator;
import io.sluice.renderer.reference.ServiceResolver;
import io.sluice.renderer.reference.Verdict;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.projectfloodlight.openflow.types.DatapathId;

/**
 * What {@code sluice trace} needs from the running controller, read from the model it holds: where each end of a
 * connection is (pod, address, MAC, switch, bridge name, OpenFlow port), the reference evaluator's verdict on the
 * connection, and what the rule ids in policy cookies stand for. No policy logic of its own: the verdict is
 * {@link ReferenceEvaluator}'s, the rule names are {@link PolicyIndex#rules()}.
 */
final class TraceContext {
  /** OpenFlow's LOCAL port: its name is the bridge's. */
  private static final long LOCAL = 0xfffffffeL;

  private TraceContext() { }

  /**
   * The context of a new connection {@code from -> to} on {@code port} ({@code N[/PROTO]}).
   *
   * @throws IllegalArgumentException for bad input (the message says which parameter)
   */
  static Map<String, Object> of(Snapshot snap, List<SwitchStatus> switches, boolean legacyIsolation, String from,
                                String to, String port) {
    return of(snap, switches, dpid -> null, legacyIsolation, from, to, port);
  }

  /**
   * As {@link #of(Snapshot, List, boolean, String, String, String)}, with each end's switch's profile ({@code
   * profileOf}, null when unknown): its name, whether it carries the stateless pipeline, and its table names.
   */
  static Map<String, Object> of(Snapshot snap, List<SwitchStatus> switches,
                                java.util.function.LongFunction<io.sluice.renderer.pipeline.PipelineProfile> profileOf,
                                boolean legacyIsolation, String from, String to, String port) {
    if (from == null || to == null || port == null) {
      throw new IllegalArgumentException("from, to and port are required (from=NS/POD|IP&to=NS/POD|IP&port=N[/PROTO])");
    }
    Endpoint src = endpoint(from, "from");
    Endpoint dst = endpoint(to, "to");
    Protocol protocol = protocol(port);
    int number = portNumber(port);
    java.util.Optional<ServiceTarget> service = service(snap, src, dst, protocol, number);
    if (service.isPresent()) {
      return serviceContext(snap, switches, profileOf, legacyIsolation, src, service.get(), protocol, number);
    }
    Verdict v;
    try {
      v = new ReferenceEvaluator(legacyIsolation).evaluate(snap, src, dst, protocol, number);
    } catch (EndpointException e) {
      throw new IllegalArgumentException((e.source() ? "from " : "to ") + e.endpoint() + ": " + e.reason(), e);
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("generation", snap.generation());
    body.put("protocol", protocol.name());
    body.put("port", number);
    body.put("from", party(snap, switches, profileOf, v.from()));
    body.put("to", party(snap, switches, profileOf, v.to()));
    body.put("reference", reference(v));
    return body;
  }

  /** A Service port reached at one virtual address: by that address, or by the Service's name. */
  private record ServiceTarget(ServiceResolver.Resolved resolved, String virtualAddress, boolean byName) { }

  /**
   * The Service a destination names, if it does: a virtual address (cluster IP, externalIP, load-balancer IP) with a
   * Service port on this protocol and number, or {@code NS/NAME} where no pod has that name but a Service does (then
   * its first cluster IP of the client's address family).
   */
  private static java.util.Optional<ServiceTarget> service(Snapshot snap, Endpoint src, Endpoint dst, Protocol protocol,
                                                           int number) {
    if (dst instanceof Endpoint.Address a) {
      java.util.Optional<ServiceTarget> t = ServiceResolver.byVirtualAddress(snap, a.ip(), protocol, number)
          .map(r -> new ServiceTarget(r, a.ip(), false));
      if (t.isEmpty()) {
        refuseNodePort(snap, a.ip(), protocol, number);
      }
      return t;
    }
    ObjectRef ref = ((Endpoint.PodRef) dst).ref();
    if (snap.pods().containsKey(ref) || !snap.services().containsKey(ref)) {
      return java.util.Optional.empty(); // a pod (or nothing: the reference evaluator names what is missing)
    }
    io.sluice.model.Service s = snap.services().get(ref);
    // the client's family: its address, or its pod's first address (as the reference evaluator reads a pod)
    String clientIp = src instanceof Endpoint.Address a ? a.ip()
        : java.util.Optional.ofNullable(snap.pods().get(((Endpoint.PodRef) src).ref()))
            .filter(p -> !p.ips().isEmpty()).map(p -> p.ips().get(0)).orElse(null);
    if (clientIp == null) {
      throw new IllegalArgumentException("from " + src + ": no such pod with an address");
    }
    boolean v6 = clientIp.indexOf(':') >= 0;
    String vip = s.clusterIPs().stream().filter(ip -> (ip.indexOf(':') >= 0) == v6).findFirst().orElseThrow(() ->
        new IllegalArgumentException("to: Service " + ref + " has no cluster IP of the client's family (IPv"
            + (v6 ? "6" : "4") + "): " + s.clusterIPs()));
    if (s.ports().stream().noneMatch(p -> p.port() == number && p.protocol() == protocol)) {
      throw new IllegalArgumentException("to: Service " + ref + " has no port " + protocol + " " + number + " (its ports: "
          + s.ports().stream().map(p -> p.protocol() + " " + p.port() + (p.name().isEmpty() ? "" : " (" + p.name() + ")"))
          .toList() + ")");
    }
    return ServiceResolver.byVirtualAddress(snap, vip, protocol, number).map(r -> new ServiceTarget(r, vip, true));
  }

  /**
   * A node's address with a Service's NodePort: the switch translates such a connection (the NodePort flows of table
   * 11), which the trace does not follow yet; traced as a plain address, the switch and the reference would disagree
   * for no fault of either. Says so, and what to trace instead.
   */
  private static void refuseNodePort(Snapshot snap, String ip, Protocol protocol, int number) {
    ServiceResolver.byNodePort(snap, ip, protocol, number).ifPresent(np -> {
      throw new IllegalArgumentException("to: " + ip + " port " + number + "/" + protocol + " is Service "
          + np.service().ref() + "'s NodePort on node " + np.node().name() + ", which sluice trace does not follow; "
          + "trace the Service by name (--to " + np.service().ref() + " --port " + np.port().port() + "/" + protocol
          + ") or one of its endpoints");
    });
  }

  /**
   * The context of a new connection to a Service port: the client, the Service port and virtual address, and per
   * endpoint (the reference's, {@link ServiceResolver}) where it is and the reference evaluator's verdict on the
   * translated connection ({@link io.sluice.renderer.reference.ServiceVerdict}); no endpoint: the client is refused.
   */
  private static Map<String, Object> serviceContext(Snapshot snap, List<SwitchStatus> switches,
      java.util.function.LongFunction<io.sluice.renderer.pipeline.PipelineProfile> profileOf, boolean legacyIsolation,
      Endpoint src, ServiceTarget target, Protocol protocol, int number) {
    ReferenceEvaluator evaluator = new ReferenceEvaluator(legacyIsolation);
    io.sluice.renderer.reference.ServiceVerdict sv;
    Verdict.Party client;
    try {
      sv = io.sluice.renderer.reference.ServiceVerdict.of(evaluator, snap, src, target.resolved());
      // the client as the evaluator reads it (a pod by name or by address), whatever the endpoints are
      client = evaluator.evaluate(snap, src, Endpoint.ip(target.virtualAddress()), protocol, number).from();
    } catch (EndpointException e) {
      throw new IllegalArgumentException((e.source() ? "from " : "to ") + e.endpoint() + ": " + e.reason(), e);
    }
    io.sluice.model.Service s = target.resolved().service();
    io.sluice.model.Service.Port sp = target.resolved().port();
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("generation", snap.generation());
    body.put("protocol", protocol.name());
    body.put("port", number);
    body.put("from", party(snap, switches, profileOf, client));
    Map<String, Object> to = new LinkedHashMap<>();
    to.put("service", s.ref().toString());
    to.put("ip", target.virtualAddress());
    body.put("to", to);
    Map<String, Object> svc = new LinkedHashMap<>();
    svc.put("name", s.ref().toString());
    svc.put("portName", sp.name());
    svc.put("port", sp.port());
    svc.put("protocol", sp.protocol().name());
    svc.put("virtualAddress", target.virtualAddress());
    svc.put("byName", target.byName());
    svc.put("type", s.type().name());
    svc.put("sessionAffinity", s.sessionAffinity().name());
    if (s.sessionAffinity() == io.sluice.model.Service.SessionAffinity.CLIENT_IP) {
      svc.put("sessionAffinityTimeoutSeconds", s.sessionAffinityTimeoutSeconds());
    }
    svc.put("internalTrafficPolicy", s.internalTrafficPolicy().name());
    svc.put("refused", sv.refused());
    List<Object> endpoints = new ArrayList<>();
    for (io.sluice.renderer.reference.ServiceVerdict.Translation t : sv.translations()) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("address", t.backend().address());
      e.put("port", t.backend().port());
      t.backend().pod().ifPresent(p -> e.put("pod", p.toString()));
      e.put("to", party(snap, switches, profileOf, t.verdict().to()));
      e.put("reference", reference(t.verdict()));
      endpoints.add(e);
    }
    svc.put("endpoints", endpoints);
    body.put("service", svc);
    Map<String, Object> verdict = new LinkedHashMap<>();
    boolean any = sv.translations().stream().anyMatch(t -> t.verdict().allowed());
    verdict.put("allowed", any);
    verdict.put("explanation", sv.refused()
        ? List.of("Service " + s.ref() + " port " + sp.port() + "/" + sp.protocol() + " has no ready or serving "
            + "endpoint: the client is refused (TCP RST, ICMP port unreachable otherwise)")
        : List.of("Service " + s.ref() + ": " + sv.translations().size() + " endpoint(s), "
            + sv.translations().stream().filter(t -> t.verdict().allowed()).count() + " of them allowed by policy"));
    body.put("reference", verdict);
    return body;
  }

  private static Map<String, Object> reference(Verdict v) {
    Map<String, Object> verdict = new LinkedHashMap<>();
    verdict.put("allowed", v.allowed());
    verdict.put("explanation", v.explanation());
    verdict.put("egress", side(v.egress()));
    verdict.put("ingress", side(v.ingress()));
    return verdict;
  }

  /** What each cookie's rule id names, for the policy rule cookies among {@code cookies} (hex, comma separated). */
  static Map<String, Object> rules(PolicyIndex index, String cookies) {
    Map<Long, PolicyCompiler.RuleRef> byId = new java.util.HashMap<>();
    for (PolicyCompiler.RuleRef r : index.rules()) {
      byId.putIfAbsent(r.id(), r);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    if (cookies == null || cookies.isBlank()) {
      return out;
    }
    for (String c : cookies.split(",", 256)) {
      String hex = c.trim().toLowerCase(Locale.ROOT);
      long value;
      try {
        value = Long.parseUnsignedLong(hex.startsWith("0x") ? hex.substring(2) : hex, 16);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("cookies: '" + c + "' is not a hexadecimal cookie", e);
      }
      Cookie cookie = new Cookie(value);
      if (cookie.owned() && cookie.isRuleAllow()) {
        PolicyCompiler.RuleRef r = byId.get(cookie.objectId());
        if (r != null) {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("policy", r.policy().toString());
          m.put("direction", r.direction().toLowerCase(Locale.ROOT));
          m.put("rule", r.rule());
          out.put(cookie.toString(), m);
        }
      }
    }
    return out;
  }

  /**
   * The packet-out trace of the connection of a context ({@link #of}): from the source's port with its MAC and
   * address, to the destination's (its switch and port when it is a pod bound to one).
   *
   * @param probes how many probes (null: the default)
   * @throws IllegalArgumentException when the source is not a pod on a switch port with a known MAC, or probes is bad
   */
  static io.sluice.controller.trace.PacketOutTracer.Request packetOutRequest(Map<String, Object> ctx, String probes) {
    if (ctx.containsKey("service")) {
      throw new IllegalArgumentException("to: " + ((Map<?, ?>) ctx.get("to")).get("ip") + " is Service "
          + ((Map<?, ?>) ctx.get("to")).get("service") + "'s virtual address: a packet-out trace follows one new "
          + "connection to a pod or address; trace the Service with ovs-appctl (sluice trace --method ovs-appctl, on "
          + "the client's node), or give one of its endpoints");
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> src = (Map<String, Object>) ctx.get("from");
    @SuppressWarnings("unchecked")
    Map<String, Object> dst = (Map<String, Object>) ctx.get("to");
    String who = src.containsKey("pod") ? (String) src.get("pod") : (String) src.get("ip");
    if (!src.containsKey("ofport")) {
      throw new IllegalArgumentException("from: " + who + (src.containsKey("pod") ? " is not bound to a switch port "
          + "Sluice knows (no OVSDB binding)" : " is not a pod's address") + ": there is no port to inject its packet at");
    }
    if (!src.containsKey("mac")) {
      throw new IllegalArgumentException("from: " + who + "'s port has no MAC Sluice knows (external_ids:attached-mac):"
          + " a probe needs the pod's own source MAC to pass table 0");
    }
    int k = io.sluice.controller.trace.PacketOutTracer.DEFAULT_PROBES;
    if (probes != null) {
      if (!probes.matches("[0-9]{1,3}")) {
        throw new IllegalArgumentException("probes: a number 1-" + io.sluice.controller.trace.PacketOutTracer.MAX_PROBES
            + ", got " + probes);
      }
      k = Integer.parseInt(probes);
    }
    boolean dstBound = dst.containsKey("ofport") && dst.containsKey("datapathId");
    return new io.sluice.controller.trace.PacketOutTracer.Request(
        DatapathId.of((String) src.get("datapathId")).getLong(), ((Number) src.get("ofport")).longValue(),
        (String) src.get("mac"), (String) src.get("ip"),
        dstBound ? DatapathId.of((String) dst.get("datapathId")).getLong() : null,
        dstBound ? ((Number) dst.get("ofport")).longValue() : null, (String) dst.get("mac"), (String) dst.get("ip"),
        Protocol.valueOf((String) ctx.get("protocol")), ((Number) ctx.get("port")).intValue(), k);
  }

  private static Map<String, Object> party(Snapshot snap, List<SwitchStatus> switches,
                                           java.util.function.LongFunction<io.sluice.renderer.pipeline.PipelineProfile> profileOf,
                                           Verdict.Party p) {
    Map<String, Object> m = new LinkedHashMap<>();
    p.pod().ifPresent(ref -> m.put("pod", ref.toString()));
    m.put("ip", p.address());
    m.put("hostNetwork", p.hostNetwork());
    PortBinding b = p.pod().map(ref -> snap.bindings().get(ref)).orElse(null);
    if (b != null && !p.hostNetwork()) {
      m.put("datapathId", DatapathId.of(b.dpid()).toString());
      m.put("ofport", b.ofport());
      if (b.mac() != null) {
        m.put("mac", b.mac());
      }
      if (b.attached()) {
        m.put("attached", true); // behind its node's port, with its neighbours: told apart by address
      }
      io.sluice.renderer.pipeline.PipelineProfile profile = profileOf.apply(b.dpid());
      if (profile != null) {
        m.put("profile", profile.name());
        m.put("stateless", io.sluice.controller.profile.ProfileChoice.carriesStatelessPipeline(profile));
        Map<String, String> tables = new LinkedHashMap<>();
        profile.tables().values().forEach(t -> tables.put(Integer.toString(t.id()), t.name()));
        m.put("tables", tables);
      }
      for (SwitchStatus s : switches) {
        if (DatapathId.of(s.datapathId()).getLong() == b.dpid()) {
          m.put("connected", s.connected());
          m.put("realizedGeneration", s.realizedGeneration());
          for (SwitchPort sp : s.ports()) {
            if (sp.portNo() == LOCAL) {
              m.put("bridge", sp.name());
            }
            if (sp.portNo() == b.ofport()) {
              m.put("portName", sp.name());
            }
          }
        }
      }
    }
    return m;
  }

  private static Map<String, Object> side(Verdict.Side s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("isolation", s.isolation().name());
    m.put("isolatingPolicies", s.isolatingPolicies().stream().map(ObjectRef::toString).toList());
    m.put("byNamespaceAnnotation", s.byNamespaceAnnotation());
    List<String> rules = new ArrayList<>();
    s.allowedBy().forEach(r -> rules.add(r.toString()));
    m.put("allowedBy", rules);
    return m;
  }

  private static Endpoint endpoint(String text, String name) {
    try {
      return Endpoint.parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
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
    throw new IllegalArgumentException("port " + text + ": protocol must be TCP, UDP or SCTP");
  }

  /** The number of N/PROTO: 1–65535. */
  static int portNumber(String text) {
    int slash = text.indexOf('/');
    String digits = slash < 0 ? text : text.substring(0, slash);
    if (!digits.matches("[0-9]{1,5}") || Integer.parseInt(digits) < 1 || Integer.parseInt(digits) > 65535) {
      throw new IllegalArgumentException("port " + text + ": expected a port number 1-65535, optionally with "
          + "/TCP, /UDP or /SCTP");
    }
    return Integer.parseInt(digits);
  }
}
