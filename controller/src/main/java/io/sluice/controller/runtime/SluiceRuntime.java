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
import io.sluice.renderer.policy.PolicyCompiler;
import io.sluice.renderer.policy.PolicyIndex;
import java.util.Map;
import io.sluice.model.ModelEvent;
import io.sluice.ovsdb.OvsdbEndpoint;
import io.sluice.ovsdb.OvsdbSource;
import io.sluice.ovsdb.OvsdbStatus;
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

  private final ClusterModel model;
  private final SwitchManager switches;
  private final OpenFlowServer openflow;
  private final StatusServer http;
  private final ControllerMetrics metrics;
  private final Source manifests;
  private final PolicyIndexes indexes;
  private final OvsdbSource ovsdb;

  private SluiceRuntime(Injector injector, RuntimeConfig cfg) throws IOException, InterruptedException {
    model = injector.getInstance(ClusterModel.class);
    metrics = injector.getInstance(ControllerMetrics.class);
    switches = injector.getInstance(SwitchManager.class);
    indexes = injector.getInstance(PolicyIndexes.class);
    model.subscribe(s -> switches.modelChanged(s.generation()));
    switches.modelChanged(model.generation());
    SessionConfig sessionConfig = new SessionConfig(cfg.echoInterval(), SessionConfig.DEFAULT.handshakeTimeout());
    http = new StatusServer(cfg.http(), new StatusServer.Views() {
      @Override
      public long generation() {
        return model.generation();
      }

      @Override
      public List<SwitchStatus> switches() {
        return switches.statuses();
      }

      @Override
      public String notReadyReason() {
        if (openflow == null) {
          return "OpenFlow listener not up yet";
        }
        if (manifests != null && !manifests.ready()) {
          return "manifest directory " + cfg.manifests() + " not loaded yet";
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
      public byte[] metrics() {
        Map<Long, long[]> counters = readPolicyCounters();
        if (counters != null) {
          Map<String[], Long> rules = new java.util.LinkedHashMap<>();
          for (PolicyCompiler.RuleRef r : indexes.of(model.snapshot()).rules()) {
            long[] c = counters.get(r.id());
            String[] key = {r.policy().toString(), r.direction(), Integer.toString(r.rule())};
            rules.merge(key, c == null ? 0 : c[0], Long::sum);
          }
          long[] dropped = counters.get(0L);
          metrics.policyCounters(rules, dropped == null ? 0 : dropped[0]);
        }
        return metrics.scrape();
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
        Map<Long, String> withheld = switches.withheldRules();
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
            long[] c = counters == null ? null : counters.get(r.id());
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
        return manifests == null ? List.of() : manifests.errors().stream().map(e -> {
          java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
          m.put("file", e.file());
          m.put("document", e.document());
          m.put("line", e.line());
          m.put("object", e.object());
          m.put("field", e.field());
          m.put("reason", e.reason());
          m.put("message", e.message());
          return m;
        }).toList();
      }
    });
    RejectResponder rejects = new RejectResponder(switches);
    try {
      openflow = new OpenFlowServer(cfg.openflow(), () -> new SwitchSession(sessionConfig, rejects, metrics), cfg.workers());
    } catch (RuntimeException | InterruptedException e) {
      http.close();
      throw e;
    }
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
      ovsdb = new OvsdbSource(endpoints);
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
      Source src = new ManifestSource(cfg.manifests());
      try {
        src.start(model::apply);
      } catch (RuntimeException e) {
        close();
        throw new IllegalArgumentException("--manifests " + cfg.manifests() + ": " + e.getMessage(), e);
      }
      manifests = src;
      LOG.info("manifests from {} loaded: model generation {}, {} namespaces, {} pods, {} network policies, {} invalid documents",
          cfg.manifests(), model.generation(), model.snapshot().namespaces().size(), model.snapshot().pods().size(),
          model.snapshot().networkPolicies().size(), src.errors().size());
    } else {
      manifests = null;
    }
  }

  /** Per-rule counters from every connected switch, or null when they could not be read in time. */
  private Map<Long, long[]> readPolicyCounters() {
    try {
      return switches.policyCounters().get(2, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.debug("policy counters not read: {}", e.toString());
      return null;
    }
  }

  /** Starts everything; throws if a listen address is taken. */
  public static SluiceRuntime start(RuntimeConfig cfg) throws IOException, InterruptedException {
    Injector injector = Guice.createInjector(new Wiring(cfg));
    SluiceRuntime rt = new SluiceRuntime(injector, cfg);
    LOG.info("Sluice running: OpenFlow on {}, status API on http://{}:{}/ (model generation {})",
        rt.openflow.localAddress(), cfg.http().getHostString(), rt.http.address().getPort(), rt.model.generation());
    return rt;
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

  public int httpPort() {
    return http.address().getPort();
  }

  @Override
  public void close() {
    LOG.info("Sluice stopping; switches keep their flows (fail-mode secure)");
    if (manifests != null) {
      manifests.stop();
    }
    if (ovsdb != null) {
      ovsdb.stop();
    }
    http.close();
    openflow.close();
    switches.close();
  }

  /** Guice wiring: one instance of each service. */
  static final class Wiring extends AbstractModule {
    private final RuntimeConfig cfg;

    Wiring(RuntimeConfig cfg) {
      this.cfg = cfg;
    }

    @Override
    protected void configure() {
      bind(RuntimeConfig.class).toInstance(cfg);
      bind(ControllerMetrics.class).in(Singleton.class);
      bind(FlowCodec.class).to(OvsFlowCodec.class).in(Singleton.class);
      bind(PolicyIndexes.class).in(Singleton.class);
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
      return new Renderer(PipelineProfile.ovs(), (int) ((System.currentTimeMillis() / 1000) & 0xffff), cfg.legacyIsolation());
    }

    @Provides
    @Singleton
    SwitchManager switchManager(FlowCodec codec, Renderer renderer, ClusterModel model, ControllerMetrics metrics,
                                PolicyIndexes indexes) {
      OFControllerRole role = switch (cfg.role()) {
        case MASTER -> OFControllerRole.ROLE_MASTER;
        case SLAVE -> OFControllerRole.ROLE_SLAVE;
        case EQUAL -> OFControllerRole.ROLE_EQUAL;
      };
      return new SwitchManager(codec, dpid -> indexes.render(renderer, model.snapshot(), dpid), metrics,
          new SwitchManager.Role(role, cfg.roleGenerationId()));
    }
  }
}
