package io.sluice.controller.runtime;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import io.sluice.controller.http.StatusServer;
import io.sluice.controller.service.RejectResponder;
import io.sluice.controller.session.OpenFlowServer;
import io.sluice.controller.session.SessionConfig;
import io.sluice.controller.session.SwitchSession;
import io.sluice.controller.sync.FlowCodec;
import io.sluice.controller.sync.SwitchManager;
import io.sluice.controller.sync.SwitchStatus;
import io.sluice.controller.sync.OvsFlowCodec;
import io.sluice.model.ClusterModel;
import io.sluice.model.NetworkPolicy;
import io.sluice.model.ObjectRef;
import io.sluice.model.Snapshot;
import io.sluice.model.source.Source;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.policy.PolicyCompiler;
import io.sluice.renderer.policy.PolicyIndex;
import java.util.Map;
import io.sluice.model.ModelEvent;
import io.sluice.ovsdb.OvsdbEndpoint;
import io.sluice.ovsdb.OvsdbSource;
import io.sluice.ovsdb.OvsdbStatus;
import io.sluice.watcher.informer.Clients;
import io.sluice.watcher.informer.InformerSource;
import io.sluice.watcher.informer.ObjectEvents;
import io.sluice.watcher.manifest.ManifestSource;
import io.sluice.renderer.Renderer;
import io.sluice.renderer.pipeline.PipelineProfile;
import java.io.IOException;
import java.util.List;
import org.projectfloodlight.openflow.protocol.OFControllerRole;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running controller: model, renderer, switch sync, OpenFlow listener and status API, wired with Guice.
 * The only place that knows every part.
 */
public final class SluiceRuntime implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SluiceRuntime.class);
  /** Policy counters older than this are read again in the background when the status API is asked for them. */
  static final java.time.Duration COUNTERS_MAX_AGE = java.time.Duration.ofSeconds(1);

  private final ClusterModel model;
  private final SwitchManager switches;
  private final OpenFlowServer openflow;
  private final StatusServer http;
  private final ControllerMetrics metrics;
  private final Source manifests;
  private final io.fabric8.kubernetes.client.KubernetesClient kube;
  private final InformerSource informers;
  private final ObjectEvents kubeEvents;
  private final io.sluice.controller.ha.Leadership leadership;
  private final java.util.concurrent.ScheduledExecutorService eventTimer;
  private final PolicyIndexes indexes;
  private final io.sluice.controller.trace.PacketOutTracer packetOut;
  private final OvsdbSource ovsdb;
  private final PolicyCounterCache counters;
  private final io.sluice.controller.audit.AuditLog audit;
  private final io.sluice.controller.profile.ProfileChoice profiles;
  private io.sluice.controller.profile.ProfileCheck profileCheck;
  /** LLDP discovery and host tracking: the model's links and hosts. */
  private io.sluice.controller.fabric.FabricDiscovery fabric;
  private final io.sluice.controller.sync.FloodHoldDown holdDown;
  /** Addresses to pods and rule ids to rules, for the audit log: rebuilt when the model's generation moves. */
  private volatile AuditNames auditNames;

  private SluiceRuntime(Injector injector, RuntimeConfig cfg) throws IOException, InterruptedException {
    model = injector.getInstance(ClusterModel.class);
    metrics = injector.getInstance(ControllerMetrics.class);
    switches = injector.getInstance(SwitchManager.class);
    indexes = injector.getInstance(PolicyIndexes.class);
    holdDown = injector.getInstance(io.sluice.controller.sync.FloodHoldDown.class);
    counters = new PolicyCounterCache(switches::policyCounters, COUNTERS_MAX_AGE);
    profiles = cfg.profiles();
    audit = new io.sluice.controller.audit.AuditLog(cfg.audit(), new io.sluice.controller.audit.AuditLog.Names() {
      @Override
      public java.util.Optional<io.sluice.model.ObjectRef> podAt(String ip) {
        return java.util.Optional.ofNullable(auditNames().pods().get(ip));
      }

      @Override
      public java.util.Optional<PolicyCompiler.RuleRef> rule(long id) {
        return java.util.Optional.ofNullable(auditNames().rules().get(id));
      }
    }, metrics);
    model.subscribe(s -> switches.modelChanged(s.generation()));
    switches.modelChanged(model.generation());
    SessionConfig sessionConfig = new SessionConfig(cfg.echoInterval(), SessionConfig.DEFAULT.handshakeTimeout(),
        cfg.bounds().writeStallTimeout(), cfg.bounds().replyMaxBytes(), cfg.bounds().replyTimeout());
    packetOut = new io.sluice.controller.trace.PacketOutTracer(new io.sluice.controller.trace.PacketOutTracer.Switches() {
      @Override
      public SwitchSession session(long dpid) {
        return switches.session(dpid);
      }

      @Override
      public String mayNotWrite(long dpid) {
        SwitchManager.Role role = switches.role(SwitchManager.shardOf(dpid, switches.shards()));
        return role.writes() ? null : "its role here is " + role.role() + (role.role() == OFControllerRole.ROLE_EQUAL
            ? " as a standby that does not write" : "");
      }
    });
    http = new StatusServer(cfg.http(), new StatusServer.Views() {
      @Override
      public long generation() {
        return model.generation();
      }

      @Override
      public List<SwitchStatus> switches() {
        return switches.statuses().stream().map(SluiceRuntime.this::describeTables).toList();
      }

      @Override
      public String notReadyReason() {
        if (openflow == null) {
          return "OpenFlow listener not up yet";
        }
        if (manifests != null && !manifests.ready()) {
          return "manifest directory " + cfg.manifests() + " not loaded yet";
        }
        if (informers != null && informers.notReadyReason() != null) {
          return informers.notReadyReason();
        }
        if (ovsdb != null && !ovsdb.ready()) {
          return "OVSDB not in sync: " + ovsdb.status().stream()
              .filter(st -> st.state() != OvsdbStatus.State.SYNCED && st.state() != OvsdbStatus.State.LISTENING)
              .map(st -> st.name() + " " + st.state() + (st.lastError() == null ? "" : " (" + st.lastError() + ")"))
              .collect(java.util.stream.Collectors.joining(", "));
        }
        return null;
      }

      @Override
      public List<?> warnings() {
        List<io.sluice.model.source.SourceError> all = new java.util.ArrayList<>(
            manifests instanceof ManifestSource m ? m.warnings() : List.of());
        all.addAll(ignoredAnnotations);
        if (profileCheck != null) {
          profileCheck.mismatches().forEach((dpid, text) -> all.add(new io.sluice.model.source.SourceError("switch", 0, 0,
              "Switch", "", org.projectfloodlight.openflow.types.DatapathId.of(dpid).toString(), "profile", text)));
        }
        return all.stream().map(SluiceRuntime::errorJson).toList();
      }

      @Override
      public String unhealthyReason() {
        return manifests instanceof ManifestSource m ? m.failure() : null;
      }

      @Override
      public byte[] metrics() {
        Map<Long, long[]> counters = readPolicyCounters();
        if (counters != null) {
          long[] deny = counters.getOrDefault(io.sluice.controller.sync.SwitchManager.AUDIT_DENY_METER_KEY, new long[2]);
          long[] allow = counters.getOrDefault(io.sluice.controller.sync.SwitchManager.AUDIT_ALLOW_METER_KEY, new long[2]);
          metrics.auditMeterDropped(deny[0], allow[0]);
          // each rule has several ids (both parts): summed under its labels, compared by value, not by array identity
          Snapshot snap = model.snapshot();
          Map<String, long[]> perPolicy = new java.util.TreeMap<>();
          for (ObjectRef p : snap.networkPolicies().keySet()) {
            perPolicy.put(p.toString(), new long[2]); // a policy without rules (or traffic) shows as 0
          }
          Map<List<String>, long[]> perRule = new java.util.LinkedHashMap<>();
          for (PolicyCompiler.RuleRef r : indexes.of(snap).rules()) {
            long[] c = counters.get(ruleCookie(r.id()));
            long[] p = perPolicy.computeIfAbsent(r.policy().toString(), k -> new long[2]);
            long[] t = metrics.perRule() ? perRule.computeIfAbsent(
                List.of(r.policy().toString(), r.direction(), Integer.toString(r.rule())), k -> new long[2]) : null;
            if (c != null) {
              p[0] += c[0];
              p[1] += c[1];
              if (t != null) {
                t[0] += c[0];
                t[1] += c[1];
              }
            }
          }
          long[] dropped = new long[2];
          for (Map.Entry<Long, long[]> e : counters.entrySet()) {
            if (new Cookie(e.getKey()).isIsolationDrop()) {
              dropped[0] += e.getValue()[0];
              dropped[1] += e.getValue()[1];
            }
          }
          metrics.policyCounters(new ControllerMetrics.PolicyCounts(perPolicy, perRule, dropped));
        }
        return metrics.scrape();
      }

      @Override
      public List<?> audit(String namespace, String pod, String policy, int limit) {
        return audit.recent(namespace, pod, policy, limit);
      }

      @Override
      public Object trace(String from, String to, String port) {
        return TraceContext.of(model.snapshot(), switches.statuses(), SluiceRuntime.this::profileOrNull,
            cfg.legacyIsolation(), from, to, port);
      }

      @Override
      public Object tracePacketOut(String from, String to, String port, String probes) {
        Snapshot snap = model.snapshot();
        Map<String, Object> ctx = TraceContext.of(snap, switches.statuses(), SluiceRuntime.this::profileOrNull,
            cfg.legacyIsolation(), from, to, port);
        Map<String, Object> out = new java.util.LinkedHashMap<>(ctx);
        try {
          out.putAll(packetOut.trace(TraceContext.packetOutRequest(ctx, probes)));
        } catch (io.sluice.controller.trace.PacketOutTracer.Refused e) {
          throw new StatusServer.Refused(e.status(), e.getMessage());
        }
        // what the policy cookies on the path name, as ?cookies= answers
        List<String> cookies = new java.util.ArrayList<>();
        for (Object sw : (List<?>) out.get("switches")) {
          for (Object st : (List<?>) ((Map<?, ?>) sw).get("steps")) {
            cookies.add((String) ((Map<?, ?>) st).get("cookie"));
          }
        }
        out.put("rules", TraceContext.rules(indexes.of(snap), String.join(",", cookies)));
        return out;
      }

      @Override
      public List<String> namespaces() {
        return MatrixView.namespaces(model.snapshot());
      }

      @Override
      public Object matrix(String namespace, String port) {
        Snapshot snap = model.snapshot();
        return MatrixView.of(snap, cfg.legacyIsolation(), indexes.of(snap).rules(), readPolicyCounters(), namespace, port);
      }

      @Override
      public Object traceRules(String cookies) {
        return TraceContext.rules(indexes.of(model.snapshot()), cookies);
      }

      @Override
      public Object policies() {
        Snapshot snap = model.snapshot();
        PolicyIndex index = indexes.of(snap);
        Map<Long, long[]> counters = readPolicyCounters();
        Map<ObjectRef, List<PolicyCompiler.RuleRef>> byPolicy = new java.util.TreeMap<>();
        for (PolicyCompiler.RuleRef r : index.rules()) {
          byPolicy.computeIfAbsent(r.policy(), k -> new java.util.ArrayList<>()).add(r);
        }
        Map<Long, String> withheld = withheldIncludingShared(index, snap);
        boolean realized = switches.statuses().stream().filter(st -> st.connected())
            .allMatch(st -> st.realizedGeneration() == snap.generation());
        List<Object> out = new java.util.ArrayList<>();
        for (NetworkPolicy np : new java.util.TreeMap<>(snap.networkPolicies()).values()) {
          Map<String, Object> m = new java.util.LinkedHashMap<>();
          m.put("policy", np.ref().toString());
          m.put("policyTypes", np.policyTypes().stream().map(NetworkPolicy.PolicyType::kubernetesName).sorted().toList());
          m.put("selectedPods", index.selectedBy(np).stream().map(p -> p.ref().toString()).sorted().toList());
          m.put("realizedOnAllSwitches", realized);
          List<Object> rules = new java.util.ArrayList<>();
          Map<String, long[]> perRule = new java.util.LinkedHashMap<>();
          Map<String, String> refused = new java.util.HashMap<>();
          for (PolicyCompiler.RuleRef r : byPolicy.getOrDefault(np.ref(), List.of())) {
            if (withheld.containsKey(r.id())) {
              refused.put(r.direction() + "/" + r.rule(), withheld.get(r.id()));
            }
            long[] c = counters == null ? null : counters.get(ruleCookie(r.id()));
            long[] t = perRule.computeIfAbsent(r.direction() + "/" + r.rule(), k -> new long[2]);
            if (c != null) {
              t[0] += c[0];
              t[1] += c[1];
            }
          }
          perRule.forEach((k, c) -> {
            Map<String, Object> rm = new java.util.LinkedHashMap<>();
            rm.put("direction", k.substring(0, k.indexOf('/')));
            rm.put("rule", Integer.parseInt(k.substring(k.indexOf('/') + 1)));
            rm.put("packets", counters == null ? null : c[0]);
            rm.put("bytes", counters == null ? null : c[1]);
            rm.put("realized", !refused.containsKey(k));
            if (refused.containsKey(k)) {
              rm.put("error", "not realized, its pods stay isolated: " + refused.get(k));
            }
            index.sharesFlowsWith(np, k.startsWith("Ingress"), (Integer) rm.get("rule"))
                .ifPresent(owner -> rm.put("flowsSharedWith", owner + " (an identical rule: its traffic is counted there)"));
            rules.add(rm);
          });
          m.put("rules", rules);
          out.add(m);
        }
        return out;
      }

      @Override
      public Object ports() {
        java.util.Map<String, Object> body = new java.util.LinkedHashMap<>();
        body.put("bindings", ovsdb == null ? List.of() : ovsdb.bindings().values().stream()
            .sorted(java.util.Comparator.comparing(b -> b.pod()))
            .map(b -> {
              java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
              m.put("pod", b.pod().toString());
              m.put("datapathId", org.projectfloodlight.openflow.types.DatapathId.of(b.dpid()).toString());
              m.put("ofport", b.ofport());
              m.put("mac", b.mac());
              return m;
            }).toList());
        body.put("ovsdb", ovsdb == null ? List.of() : ovsdb.status().stream().map(st -> {
          java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
          m.put("name", st.name());
          m.put("state", st.state().toString());
          m.put("since", String.valueOf(st.since()));
          m.put("systemId", st.systemId());
          m.put("lastError", st.lastError());
          m.put("interfaces", st.interfaces());
          m.put("bindings", st.bindings());
          m.put("reconnects", st.reconnects());
          return m;
        }).toList());
        return body;
      }

      @Override
      public List<?> errors() {
        List<io.sluice.model.source.SourceError> all = new java.util.ArrayList<>();
        if (manifests != null) {
          all.addAll(manifests.errors());
        }
        if (informers != null) {
          all.addAll(informers.errors());
        }
        all.addAll(SluiceRuntime.this.realizationErrors());
        return all.stream().map(SluiceRuntime::errorJson).toList();
      }
    }, cfg.security().httpToken());
    if (cfg.manifests() != null || cfg.kubernetes() != null) {
      switches.hold(); // until the intent source has its whole first state
    }
    if (cfg.kubernetes() != null) {
      try {
        kube = Clients.create(cfg.kubernetes().kubeconfig());
      } catch (RuntimeException e) {
        close();
        throw new IllegalArgumentException(cfg.kubernetes().kubeconfig() == null ? "--in-cluster: " + e.getMessage()
            : "--kubeconfig: " + e.getMessage(), e);
      }
      kubeEvents = new ObjectEvents(kube);
      eventTimer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sluice-realization-events");
        t.setDaemon(true);
        return t;
      });
      eventTimer.scheduleWithFixedDelay(this::reportRealizationErrors, 2, 2, java.util.concurrent.TimeUnit.SECONDS);
      informers = new InformerSource(kube, InformerSource.Settings.DEFAULT, kubeEvents::report);
      if (cfg.leaderElection() != null) {
        leadership = new io.sluice.controller.ha.Leadership(kube, cfg.leaderElection(), switches);
        leadership.start();
      } else {
        leadership = null;
      }
      // The informers start here, before the OpenFlow listener and the rest: their lists (the API server answering,
      // the client decoding, the converters) take seconds and nothing reaches the model before all have listed, so
      // they overlap with the rest of the start-up instead of following it.
      informers.start(batch -> {
        model.apply(batch);
        if (!cfg.legacyIsolation()) {
          noteIgnoredAnnotations(model.snapshot());
        }
        if (switches.holding()) {
          LOG.info("Kubernetes API: first state applied as model generation {}: {} namespaces, {} pods, {} network "
                  + "policies, {} services; switches are reconciled now", model.generation(),
              model.snapshot().namespaces().size(), model.snapshot().pods().size(),
              model.snapshot().networkPolicies().size(), model.snapshot().services().size());
          switches.release();
        }
      });
    } else {
      kube = null;
      kubeEvents = null;
      eventTimer = null;
      informers = null;
      leadership = null;
    }
    RejectResponder rejects = new RejectResponder(switches, (dpid, port) -> {
      var st = indexes.latestServices();
      return st == null ? java.util.Optional.empty() : st.health(st.nodeOf(dpid), port);
    });
    try {
      RuntimeConfig.Security sec = cfg.security();
      io.sluice.controller.session.Admission admission = sec.switches() != null ? sec.switches()
          : io.sluice.controller.session.Admission.ALL;
      io.sluice.controller.audit.AuditListener audited = new io.sluice.controller.audit.AuditListener(
          profileCheck = new io.sluice.controller.profile.ProfileCheck(rejects, profiles), audit);
      // Fabric discovery and host tracking (issue 12) first: it takes the stateless pipeline's LLDP and ARP/ND
      // PACKET_INs and sends LLDP only where this replica writes; its events reach the model in batches, off the loops.
      fabric = new io.sluice.controller.fabric.FabricDiscovery(audited, cfg.fabric(),
          io.sluice.controller.fabric.Lldp.random(),
          dpid -> switches.role(SwitchManager.shardOf(dpid, switches.shards())).writes()
              && io.sluice.controller.profile.ProfileChoice.carriesStatelessPipeline(profiles.of(dpid).profile()),
          model::snapshot, model::apply, System::currentTimeMillis, () -> System.nanoTime() / 1_000_000);
      fabric.holdDown(holdDown);
      metrics.fabric(fabric::stats);
      http.json("/api/v1/topology", fabric::topology);
      http.json("/api/v1/hosts", fabric::hosts);
      io.sluice.controller.fabric.FabricDiscovery fabricListener = fabric;
      openflow = new OpenFlowServer(cfg.openflow(), () -> new SwitchSession(sessionConfig, fabricListener, metrics,
          admission),
          cfg.workers(),
          OpenFlowServer.Limits.defaults().withConnections(cfg.bounds().maxSwitches(), cfg.bounds().maxPerAddress()),
          sec.openflowTls()
              ? new OpenFlowServer.Tls(sec.tls().server(), io.sluice.controller.tls.TlsFiles.HANDSHAKE_TIMEOUT)
              : null);
      if (!sec.openflowTls()) {
        warnIfExposed("OpenFlow", cfg.openflow().getAddress() != null ? cfg.openflow().getAddress()
            : openflow.localAddress().getAddress(), "--listen pssl:PORT[:HOST]");
      }
      if (sec.switches() != null) {
        LOG.info("OpenFlow: only the {} datapath ids listed in {} may connect (--switches)",
            sec.switches().entries().size(), sec.switches().source());
      }
    } catch (RuntimeException | InterruptedException e) {
      stopKubernetes();
      http.close();
      if (fabric != null) {
        fabric.close();
      }
      throw e;
    }
    fabric.start();
    metrics.generation(model.generation());
    if (!cfg.ovsdb().isEmpty() || cfg.ovsdbListen() != null) {
      List<OvsdbEndpoint> endpoints = new java.util.ArrayList<>();
      try {
        cfg.ovsdb().forEach(e -> endpoints.add(OvsdbEndpoint.parse(e)));
        if (cfg.ovsdbListen() != null) {
          endpoints.add(OvsdbEndpoint.parseListen(cfg.ovsdbListen()));
        }
      } catch (RuntimeException e) {
        close();
        throw new IllegalArgumentException("--ovsdb: " + e.getMessage(), e);
      }
      io.sluice.controller.tls.TlsFiles tls = cfg.security().tls();
      ovsdb = new OvsdbSource(endpoints, OvsdbSource.Options.defaults().withMaxFrameBytes(
          cfg.bounds().ovsdbMaxMessageBytes()).withAllowedNodes(cfg.security().ovsdbNodes())
          .withMaxPeers(cfg.bounds().ovsdbMaxPeers()), tls == null ? null
          : new io.sluice.ovsdb.OvsdbTls(tls.client(), tls.server(),
              io.sluice.controller.tls.TlsFiles.HANDSHAKE_TIMEOUT));
      metrics.ovsdbRefusedPeers(ovsdb::refusedPeers);
      for (OvsdbEndpoint e : endpoints) {
        if (e.kind() == OvsdbEndpoint.Kind.PTCP) {
          try {
            warnIfExposed("OVSDB", java.net.InetAddress.getByName(e.host()), "--ovsdb-listen pssl:PORT[:HOST]");
          } catch (java.net.UnknownHostException x) {
            LOG.debug("OVSDB {}: host not resolved for the exposure check: {}", e, x.getMessage());
          }
        }
      }
      ovsdb.start(events -> {
        for (ModelEvent e : events) {
          if (e instanceof ModelEvent.PortBound b) {
            LOG.info("pod {} bound to switch {} port {} ({})", b.binding().pod(),
                org.projectfloodlight.openflow.types.DatapathId.of(b.binding().dpid()), b.binding().ofport(), b.binding().mac());
          } else if (e instanceof ModelEvent.PortUnbound u) {
            LOG.info("pod {} no longer bound to a switch port", u.pod());
          }
        }
        model.apply(events);
      });
      LOG.info("OVSDB: watching {} (not in sync until each answers; see /readyz and /api/v1/ports)", endpoints);
    } else {
      ovsdb = null;
    }
    if (cfg.manifests() != null) {
      Source src = new ManifestSource(cfg.manifests(), ManifestSource.DEFAULT_DEBOUNCE,
          Math.min(4, Runtime.getRuntime().availableProcessors()),
          ManifestSource.Limits.defaults().withMaxFileBytes(cfg.bounds().maxManifestBytes()), cfg.legacyIsolation());
      try {
        src.start(model::apply);
      } catch (RuntimeException e) {
        close();
        throw new IllegalArgumentException("--manifests " + cfg.manifests() + ": " + e.getMessage(), e);
      }
      manifests = src;
      switches.release();
      LOG.info("manifests from {} loaded: model generation {}, {} namespaces, {} pods, {} network policies, {} invalid documents",
          cfg.manifests(), model.generation(), model.snapshot().namespaces().size(), model.snapshot().pods().size(),
          model.snapshot().networkPolicies().size(), src.errors().size());
    } else {
      manifests = null;
    }
  }

  /**
   * Per-rule counters as last read from the connected switches (null before the first read), never waiting on a
   * switch: a stale copy starts one background read, so the status API answers from what Sluice holds.
   */
  /** The key of a rule's allow flows in {@link #readPolicyCounters}: its cookie without the round. */
  static long ruleCookie(long ruleId) {
    return Cookie.of(Cookie.Category.POLICY, 0, ruleId).value();
  }

  private Map<Long, long[]> readPolicyCounters() {
    return counters.current();
  }

  /** Starts everything; throws if a listen address is taken. */
  public static SluiceRuntime start(RuntimeConfig cfg) throws IOException, InterruptedException {
    Injector injector = Guice.createInjector(new Wiring(cfg));
    SluiceRuntime rt = new SluiceRuntime(injector, cfg);
    LOG.info("Sluice running: OpenFlow on {}, status API on http://{}:{}/ (model generation {})",
        rt.openflow.localAddress(), cfg.http().getHostString(), rt.http.address().getPort(), rt.model.generation());
    return rt;
  }

  /**
   * True once every Kubernetes informer has listed and the lists are converted (the first state is being handed to
   * the model, or has been); false without {@code --kubeconfig}/{@code --in-cluster}.
   */
  public boolean informersListed() {
    return informers != null && informers.ready();
  }

  public ClusterModel model() {
    return model;
  }

  public SwitchManager switches() {
    return switches;
  }

  public int openflowPort() {
    return openflow.localAddress().getPort();
  }

  /** The OpenFlow connections open now (peers in the handshake included). */
  /** One line at start when a plain listener is reachable from other hosts: anyone there can speak to it. */
  private static void warnIfExposed(String protocol, java.net.InetAddress bound, String instead) {
    if (!bound.isLoopbackAddress()) {
      LOG.warn("{} listens on {} without TLS: any host that reaches it is trusted as a peer; for labs only "
          + "(use {} with --private-key, --certificate and --ca-cert)", protocol, bound.getHostAddress(), instead);
    }
  }

  public List<OpenFlowServer.Connection> openflowConnections() {
    return openflow.connections();
  }

  public int httpPort() {
    return http.address().getPort();
  }

  @Override
  public void close() {
    LOG.info("Sluice stopping; switches keep their flows (fail-mode secure)");
    if (manifests != null) {
      manifests.stop();
    }
    stopKubernetes();
    if (ovsdb != null) {
      ovsdb.stop();
    }
    http.close();
    if (fabric != null) {
      fabric.close();
    }
    if (openflow != null) { // null when the start failed before the listener was made
      openflow.close();
    }
    switches.close();
    audit.close();
  }

  private void stopKubernetes() {
    if (leadership != null) {
      leadership.close(); // gives the Leases up: a standby takes over at once
    }
    if (informers != null) {
      informers.stop();
    }
    if (eventTimer != null) {
      eventTimer.shutdownNow();
    }
    if (kubeEvents != null) {
      kubeEvents.close();
    }
    if (kube != null) {
      kube.close();
    }
  }

  /** What the audit log names things with, for one model generation. */
  private record AuditNames(long generation, Map<String, io.sluice.model.ObjectRef> pods,
                            Map<Long, PolicyCompiler.RuleRef> rules) { }

  private AuditNames auditNames() {
    AuditNames n = auditNames;
    Snapshot snap = model.snapshot();
    if (n != null && n.generation() == snap.generation()) {
      return n;
    }
    Map<String, io.sluice.model.ObjectRef> pods = new java.util.HashMap<>();
    for (io.sluice.model.Pod p : snap.pods().values()) {
      if (!p.hostNetwork()) {
        for (String ip : p.ips()) {
          pods.put(canonicalIp(ip), p.ref());
        }
      }
    }
    Map<Long, PolicyCompiler.RuleRef> rules = new java.util.HashMap<>();
    for (PolicyCompiler.RuleRef r : indexes.of(snap).rules()) {
      rules.put(r.id(), r);
    }
    n = new AuditNames(snap.generation(), pods, rules);
    auditNames = n;
    return n;
  }

  /** An address as the audit log writes it ({@link java.net.InetAddress#getHostAddress()}). */
  private static String canonicalIp(String ip) {
    if (!ip.matches("[0-9A-Fa-f:.]+")) {
      return ip; // not an address literal: never looked up
    }
    try {
      return java.net.InetAddress.getByName(ip).getHostAddress();
    } catch (java.net.UnknownHostException e) {
      return ip;
    }
  }

  /** Guice wiring: one instance of each service. */
  /**
   * Policy rules a switch refused (their pods stay isolated: fail closed), one error per policy rule, in the form
   * {@code /api/v1/errors} and the Kubernetes Events use: file {@code switch}, the rule's field path.
   */
  /** Namespaces from the API whose pre-v1 isolation annotation is ignored (no --legacy-isolation), as warnings. */
  private volatile List<io.sluice.model.source.SourceError> ignoredAnnotations = List.of();

  /**
   * Lists the cluster's Namespaces that carry the pre-v1 isolation annotation while --legacy-isolation is off, and
   * logs each once when it first appears (the manifest source does the same for its files).
   */
  private void noteIgnoredAnnotations(Snapshot snap) {
    List<io.sluice.model.source.SourceError> now = new java.util.ArrayList<>();
    for (io.sluice.model.Namespace ns : new java.util.TreeMap<>(snap.namespaces()).values()) {
      if (ns.annotations().containsKey(io.sluice.renderer.reference.ReferenceEvaluator.LEGACY_ISOLATION_ANNOTATION)) {
        now.add(new io.sluice.model.source.SourceError("informer:namespaces", -1, 0, "Namespace", "", ns.name(),
            "metadata.annotations[" + io.sluice.renderer.reference.ReferenceEvaluator.LEGACY_ISOLATION_ANNOTATION + "]", "Ignored: this pre-v1 "
            + "isolation annotation has no effect unless Sluice runs with --legacy-isolation; NetworkPolicies alone "
            + "isolate pods"));
      }
    }
    java.util.Set<io.sluice.model.source.SourceError> before = new java.util.HashSet<>(ignoredAnnotations);
    for (io.sluice.model.source.SourceError w : now) {
      if (!before.contains(w)) {
        LOG.warn("Kubernetes API: warning: {}", w);
      }
    }
    ignoredAnnotations = List.copyOf(now);
  }

  /** One entry of /api/v1/errors or /api/v1/warnings. */
  private static Map<String, Object> errorJson(io.sluice.model.source.SourceError e) {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("file", e.file());
    m.put("document", e.document());
    m.put("line", e.line());
    m.put("object", e.object());
    m.put("field", e.field());
    m.put("reason", e.reason());
    m.put("message", e.message());
    return m;
  }

  List<io.sluice.model.source.SourceError> realizationErrors() {
    List<io.sluice.model.source.SourceError> out = new java.util.ArrayList<>(profileErrors());
    out.addAll(withheldRuleErrors());
    return out;
  }

  /** One error per connected switch whose profile cannot carry the pipeline (it drops everything meanwhile). */
  private List<io.sluice.model.source.SourceError> profileErrors() {
    List<io.sluice.model.source.SourceError> out = new java.util.ArrayList<>();
    for (SwitchStatus st : switches.statuses()) {
      long dpid = org.projectfloodlight.openflow.types.DatapathId.of(st.datapathId()).getLong();
      if (!st.connected() || profiles.compiles(dpid)
          || io.sluice.controller.profile.ProfileChoice.carriesStatelessPipeline(profiles.of(dpid).profile())) {
        continue;
      }
      var d = profiles.of(dpid);
      List<String> lacks = io.sluice.controller.profile.ProfileChoice.cannotCarry(d.profile(), model.snapshot());
      out.add(new io.sluice.model.source.SourceError("switch", 0, 0, "Switch", "", st.datapathId(), "profile",
          "profile " + d.name() + " (" + d.source() + ") cannot carry " + (lacks.isEmpty() ? "Sluice's ovs pipeline"
              : String.join("; ", lacks)) + ", and its tables fit no stateless layout ("
              + io.sluice.renderer.StatelessRenderer.unsupported(d.profile()) + "), so this switch drops everything (fail "
              + "closed). Give it --profile " + st.datapathId() + "=ovs if it is Open vSwitch, or a profile whose tables "
              + "are one, or Classifier, Policy and Forwarding."));
    }
    return out;
  }

  /**
   * The rules withheld on some switch (refused, or over a table's budget), by rule id, and the rules that share the
   * flows of a withheld one (an identical rule has no flows of its own: it fails closed with its owner).
   */
  private Map<Long, String> withheldIncludingShared(PolicyIndex index, Snapshot snap) {
    Map<Long, String> withheld = switches.withheldRules();
    if (withheld.isEmpty()) {
      return withheld;
    }
    Map<String, List<Long>> idsByRule = new java.util.HashMap<>();
    for (PolicyCompiler.RuleRef r : index.rules()) {
      idsByRule.computeIfAbsent(r.policy() + " " + r.direction() + " rule " + r.rule(), k -> new java.util.ArrayList<>())
          .add(r.id());
    }
    Map<Long, String> out = new java.util.HashMap<>(withheld);
    for (PolicyCompiler.RuleRef r : index.rules()) {
      NetworkPolicy np = snap.networkPolicies().get(r.policy());
      if (out.containsKey(r.id()) || np == null) {
        continue;
      }
      index.sharesFlowsWith(np, "Ingress".equals(r.direction()), r.rule()).ifPresent(owner -> {
        for (Long id : idsByRule.getOrDefault(owner, List.of())) {
          String why = withheld.get(id);
          if (why != null) {
            out.putIfAbsent(r.id(), why + " (through " + owner + ", an identical rule whose flows it shares)");
          }
        }
      });
    }
    return out;
  }

  private List<io.sluice.model.source.SourceError> withheldRuleErrors() {
    Snapshot snap = model.snapshot();
    PolicyIndex idx = indexes.of(snap);
    Map<Long, String> withheld = withheldIncludingShared(idx, snap);
    if (withheld.isEmpty()) {
      return List.of();
    }
    Map<String, io.sluice.model.source.SourceError> out = new java.util.TreeMap<>();
    for (PolicyCompiler.RuleRef r : idx.rules()) {
      String why = withheld.get(r.id());
      if (why != null) {
        String field = "spec." + r.direction().toLowerCase(java.util.Locale.ROOT) + "[" + r.rule() + "]";
        out.putIfAbsent(r.policy() + " " + field, new io.sluice.model.source.SourceError("switch", -1, 0,
            "NetworkPolicy", r.policy().namespace(), r.policy().name(), field,
            "Not realized: " + why + "; the pods it selects stay isolated"));
      }
    }
    return List.copyOf(out.values());
  }

  /** Reports each rule a switch refused as a Kubernetes Event on its policy (ObjectEvents drops repeats). */
  private void reportRealizationErrors() {
    try {
      for (io.sluice.model.source.SourceError e : realizationErrors()) {
        kubeEvents.report(new ObjectEvents.Refusal(io.sluice.watcher.convert.ObjectKind.NETWORK_POLICY, e.namespace(),
            e.name(), null, null, e.message()));
      }
    } catch (RuntimeException ex) {
      LOG.debug("realization errors not reported: {}", ex.toString());
    }
  }

  static final class Wiring extends AbstractModule {
    private final RuntimeConfig cfg;

    Wiring(RuntimeConfig cfg) {
      this.cfg = cfg;
    }

    @Override
    protected void configure() {
      bind(RuntimeConfig.class).toInstance(cfg);
      bind(FlowCodec.class).to(OvsFlowCodec.class).in(Singleton.class);
      bind(PolicyIndexes.class).in(Singleton.class);
    }

    @Provides
    @Singleton
    ControllerMetrics metrics() {
      return new ControllerMetrics(cfg.metricsPerRule());
    }

    @Provides
    @Singleton
    ClusterModel model() {
      return new ClusterModel(1);
    }

    @Provides
    @Singleton
    Renderer renderer() {
      // the round stamped into cookies: which incarnation wrote a flow (diffs ignore it)
      return new Renderer(PipelineProfile.ovs().withAuditRates(cfg.audit().denyRate(), cfg.audit().allowRate()),
          (int) ((System.currentTimeMillis() / 1000) & 0xffff), cfg.legacyIsolation());
    }

    /** The flood hold-down of the switches that carry the stateless pipeline (fabric forwarding). */
    @Provides
    @Singleton
    io.sluice.controller.sync.FloodHoldDown floodHoldDown() {
      io.sluice.controller.profile.ProfileChoice profiles = cfg.profiles();
      return new io.sluice.controller.sync.FloodHoldDown(dpid -> !profiles.compiles(dpid)
          && io.sluice.controller.profile.ProfileChoice.carriesStatelessPipeline(profiles.of(dpid).profile()));
    }

    @Provides
    @Singleton
    SwitchManager switchManager(FlowCodec codec, Renderer renderer, ClusterModel model, ControllerMetrics metrics,
                                PolicyIndexes indexes, io.sluice.controller.sync.FloodHoldDown holdDown) {
      OFControllerRole role = switch (cfg.role()) {
        case MASTER -> OFControllerRole.ROLE_MASTER;
        case SLAVE -> OFControllerRole.ROLE_SLAVE;
        case EQUAL -> OFControllerRole.ROLE_EQUAL;
      };
      // a switch whose profile cannot carry the pipeline gets a drop-all flow (fail closed; reported as an error)
      io.sluice.controller.profile.ProfileChoice profiles = cfg.profiles();
      // a switch without conntrack whose tables it can lay out gets the stateless pipeline (a renderer per profile)
      Map<String, io.sluice.renderer.StatelessRenderer> stateless = new java.util.concurrent.ConcurrentHashMap<>();
      java.util.function.LongFunction<io.sluice.renderer.flow.DesiredTables> render = dpid -> {
        Snapshot snap = model.snapshot();
        if (profiles.compiles(dpid)) {
          return indexes.render(renderer, snap, dpid);
        }
        PipelineProfile p = profiles.of(dpid).profile();
        if (io.sluice.controller.profile.ProfileChoice.carriesStatelessPipeline(p)) {
          return stateless.computeIfAbsent(p.name(), n -> new io.sluice.renderer.StatelessRenderer(p, renderer.round(),
              cfg.legacyIsolation())).render(indexes.of(snap), dpid, holdDown.held(dpid));
        }
        return io.sluice.controller.profile.ProfileChoice.failClosed(dpid, snap.generation());
      };
      SwitchManager m;
      if (cfg.leaderElection() != null) {
        // Every shard starts as a standby: no role asked, nothing written, until its Lease says who leads.
        m = new SwitchManager(codec, render::apply, metrics,
            SwitchManager.Role.STANDBY, cfg.leaderElection().shards(), SwitchManager.Options.defaults());
      } else {
        m = new SwitchManager(codec, render::apply, metrics, new SwitchManager.Role(role, cfg.roleGenerationId()));
      }
      // a switch with fabric forwarding floods nothing until discovery has found its links
      m.floodHoldDown(holdDown);
      // a profile without bundles gets its changes in two ordered phases, restricting first
      m.bundlesFor(dpid -> profiles.of(dpid).profile().capabilities().bundles());
      // a profile's limited tables: policy rules that would overflow one are withheld (fail closed) and reported
      m.budgetsFor(dpid -> {
        PipelineProfile p = profiles.of(dpid).profile();
        Map<Integer, Integer> sizes = new java.util.HashMap<>();
        Map<Integer, String> names = new java.util.HashMap<>();
        for (io.sluice.renderer.pipeline.Table t : p.tables().values()) {
          names.put(t.id(), t.name());
          if (t.size() < io.sluice.renderer.pipeline.Table.UNLIMITED) {
            sizes.put(t.id(), t.size());
          }
        }
        return sizes.isEmpty() ? SwitchManager.TableBudgets.NONE : new SwitchManager.TableBudgets(p.name(), names, sizes);
      });
      return m;
    }
  }

  /** The profile a switch is given, or null when it cannot be told (a bad profile file). */
  private io.sluice.renderer.pipeline.PipelineProfile profileOrNull(long dpid) {
    try {
      return profiles.of(dpid).profile();
    } catch (RuntimeException e) {
      return null;
    }
  }

  /**
   * A switch's status with every table of its profile: the profile's name and size for each, and Sluice's flows in it
   * after the last push (0 for a declared table it has none in; a table the profile does not declare keeps null).
   */
  private SwitchStatus describeTables(SwitchStatus st) {
    io.sluice.renderer.pipeline.PipelineProfile p;
    try {
      p = profiles.of(org.projectfloodlight.openflow.types.DatapathId.of(st.datapathId()).getLong()).profile();
    } catch (RuntimeException e) {
      return st;
    }
    Map<Integer, Integer> flows = new java.util.TreeMap<>();
    st.tables().forEach(t -> flows.put(t.id(), t.flows()));
    Map<Integer, SwitchStatus.TableUse> out = new java.util.TreeMap<>();
    for (io.sluice.renderer.pipeline.Table t : p.tables().values()) {
      out.put(t.id(), new SwitchStatus.TableUse(t.id(), t.name(), flows.getOrDefault(t.id(), 0),
          t.size() == io.sluice.renderer.pipeline.Table.UNLIMITED ? null : t.size()));
    }
    flows.forEach((id, n) -> out.putIfAbsent(id, new SwitchStatus.TableUse(id, null, n, null)));
    return st.withTables(List.copyOf(out.values()));
  }
}
