package io.sluice.controller.runtime;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.sluice.controller.session.SessionMetrics;
import io.sluice.controller.sync.SyncMetrics;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** Sluice's Prometheus metrics, in one registry of their own. */
public final class ControllerMetrics implements SessionMetrics, SyncMetrics {
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Gauge switchesConnected = Gauge.builder().name("sluice_switches_connected")
      .help("OpenFlow switches with an active session").register(registry);
  private final Gauge flows = Gauge.builder().name("sluice_switch_flows")
      .help("Flows Sluice holds on each switch").labelNames("datapath_id").register(registry);
  private final Gauge realized = Gauge.builder().name("sluice_switch_realized_generation")
      .help("Last model generation each switch confirmed").labelNames("datapath_id").register(registry);
  private final Histogram bundleCommit = Histogram.builder().name("sluice_bundle_commit_seconds")
      .help("From first byte of a change to the confirming barrier reply")
      .classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
      .register(registry);
  private final Counter flowMods = Counter.builder().name("sluice_flow_mods_total")
      .help("Flow-mods sent").labelNames("datapath_id").register(registry);
  private final Counter pushFailures = Counter.builder().name("sluice_push_failures_total")
      .help("Changes a switch refused (left as before)").labelNames("datapath_id").register(registry);
  private final Gauge echoRtt = Gauge.builder().name("sluice_echo_rtt_seconds")
      .help("Last echo round trip per switch").labelNames("datapath_id").register(registry);
  private final Counter decodeFailures = Counter.builder().name("sluice_openflow_decode_failures_total")
      .help("OpenFlow messages that could not be decoded (connection kept)").labelNames("version", "type").register(registry);
  private final Counter refused = Counter.builder().name("sluice_openflow_handshake_refused_total")
      .help("Switches refused at HELLO for lack of a common OpenFlow version").register(registry);
  private final Gauge rulePackets = Gauge.builder().name("sluice_policy_rule_packets")
      .help("Packets of new connections a NetworkPolicy rule allowed (summed over switches; read at scrape)")
      .labelNames("policy", "direction", "rule").register(registry);
  private final Gauge isolationDrops = Gauge.builder().name("sluice_policy_isolation_dropped_packets")
      .help("Packets of new connections dropped because no rule allowed them (summed over switches)").register(registry);
  private final Counter ctFlushes = Counter.builder().name("sluice_conntrack_flushes_total")
      .help("Conntrack flushes sent for UDP/SCTP backends gone from a switch's Services").labelNames("datapath_id")
      .register(registry);
  private final Counter ctFlushFailures = Counter.builder().name("sluice_conntrack_flush_failures_total")
      .help("Conntrack flushes a switch refused or did not confirm (its tables changed regardless)")
      .labelNames("datapath_id").register(registry);
  private final Gauge generation = Gauge.builder().name("sluice_model_generation")
      .help("Current model generation").register(registry);

  @Override
  public void conntrackFlushed(String dpid, int flushes, boolean ok) {
    ctFlushes.labelValues(dpid).inc(flushes);
    if (!ok) {
      ctFlushFailures.labelValues(dpid).inc();
    }
  }

  @Override
  public void decodeFailure(int version, int type) {
    decodeFailures.labelValues(Integer.toString(version), Integer.toString(type)).inc();
  }

  @Override
  public void handshakeRefused() {
    refused.inc();
  }

  /** Handshakes refused so far (for tests). */
  public long refusedHandshakes() {
    return (long) refused.get();
  }

  @Override
  public void echoRtt(String dpid, double seconds) {
    echoRtt.labelValues(dpid).set(seconds);
  }

  @Override
  public void switchConnected(String dpid, boolean connected, int connectedCount) {
    switchesConnected.set(connectedCount);
    if (!connected) {
      echoRtt.remove(dpid);
    }
  }

  @Override
  public void pushed(String dpid, int mods, double seconds, boolean ok, int flowCount, long realizedGeneration) {
    flowMods.labelValues(dpid).inc(mods);
    bundleCommit.observe(seconds);
    if (!ok) {
      pushFailures.labelValues(dpid).inc();
    }
    flows.labelValues(dpid).set(flowCount);
    realized.labelValues(dpid).set(realizedGeneration);
  }

  @Override
  public void generation(long g) {
    generation.set(g);
  }

  /** Sets the per-rule packet counters read from the switches. */
  public void policyCounters(java.util.Map<String[], Long> rules, long dropped) {
    rulePackets.clear();
    rules.forEach((labels, packets) -> rulePackets.labelValues(labels).set(packets));
    isolationDrops.set(dropped);
  }

  /** The Prometheus text exposition of every metric. */
  public byte[] scrape() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      PrometheusTextFormatWriter.create().write(out, registry.scrape(),
          io.prometheus.metrics.config.EscapingScheme.UNDERSCORE_ESCAPING);
    } catch (IOException e) {
      return ("# scrape failed: " + e).getBytes(StandardCharsets.UTF_8);
    }
    return out.toByteArray();
  }
}
