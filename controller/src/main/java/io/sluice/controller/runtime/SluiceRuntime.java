package io.sluice.controller.runtime;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import io.sluice.controller.http.StatusServer;
import io.sluice.controller.session.OpenFlowServer;
import io.sluice.controller.session.SessionConfig;
import io.sluice.controller.session.SwitchSession;
import io.sluice.controller.sync.FlowCodec;
import io.sluice.controller.sync.SwitchManager;
import io.sluice.controller.sync.SwitchStatus;
import io.sluice.controller.wire.OvsFlowCodec;
import io.sluice.model.ClusterModel;
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

  private SluiceRuntime(Injector injector, RuntimeConfig cfg) throws IOException, InterruptedException {
    model = injector.getInstance(ClusterModel.class);
    metrics = injector.getInstance(ControllerMetrics.class);
    switches = injector.getInstance(SwitchManager.class);
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
        return openflow == null ? "OpenFlow listener not up yet" : null;
      }

      @Override
      public byte[] metrics() {
        return metrics.scrape();
      }
    });
    try {
      openflow = new OpenFlowServer(cfg.openflow(), () -> new SwitchSession(sessionConfig, switches, metrics), cfg.workers());
    } catch (RuntimeException | InterruptedException e) {
      http.close();
      throw e;
    }
    metrics.generation(model.generation());
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
      return new Renderer(PipelineProfile.ovs(), (int) ((System.currentTimeMillis() / 1000) & 0xffff));
    }

    @Provides
    @Singleton
    SwitchManager switchManager(FlowCodec codec, Renderer renderer, ClusterModel model, ControllerMetrics metrics) {
      OFControllerRole role = switch (cfg.role()) {
        case MASTER -> OFControllerRole.ROLE_MASTER;
        case SLAVE -> OFControllerRole.ROLE_SLAVE;
        case EQUAL -> OFControllerRole.ROLE_EQUAL;
      };
      return new SwitchManager(codec, dpid -> renderer.render(model.snapshot(), dpid), metrics,
          new SwitchManager.Role(role, cfg.roleGenerationId()));
    }
  }
}
