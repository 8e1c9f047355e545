package io.sluice.controller.runtime;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.sluice.controller.session.SessionMetrics;
import io.sluice.controller.sync.SyncMetrics;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Sluice's Prometheus metrics, in one registry of their own. Names follow the Prometheus conventions: prefix
 * {@code sluice_}, counters end in {@code _total}, durations in seconds ({@code _seconds}), sizes in bytes
 * ({@code _bytes}); label sets are bounded (per switch: datapath_id, removed when the switch goes; per policy: bounded
 * by the NetworkPolicies; per rule only with {@code sluice run --metrics-per-rule}).
 */
public final class ControllerMetrics implements SessionMetrics, SyncMetrics, io.sluice.controller.audit.AuditLog.Metrics {
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final boolean perRule;
  /** The policy flows' counters last read from the switches; null until the first read. */
  private volatile PolicyCounts policyCounts;
  private volatile java.util.function.LongSupplier ovsdbRefusedPeers = () -> 0;
  private final Gauge switchesConnected = Gauge.builder().name("sluice_switches_connected")
      .help("OpenFlow switches with an active session").register(registry);
  private final Gauge flows = Gauge.builder().name("sluice_switch_flows")
      .help("Flows Sluice holds on each switch").labelNames("datapath_id").register(registry);
  private final Gauge realized = Gauge.builder().name("sluice_switch_realized_generation")
      .help("Last model generation each switch confirmed").labelNames("datapath_id").register(registry);
  private final Histogram bundleCommit = Histogram.builder().name("sluice_bundle_commit_seconds")
      .help("Seconds from the first byte of a change sent to a switch to the confirming barrier reply")
      .classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
      .register(registry);
  private final Counter flowMods = Counter.builder().name("sluice_flow_mods_total")
      .help("Flow-mods sent").labelNames("datapath_id").register(registry);
  private final Counter pushFailures = Counter.builder().name("sluice_push_failures_total")
      .help("Changes a switch refused (left as before)").labelNames("datapath_id").register(registry);
  private final Gauge echoRtt = Gauge.builder().name("sluice_echo_rtt_seconds")
      .help("Last echo request round trip per switch, in seconds").labelNames("datapath_id").register(registry);
  private final Counter decodeFailures = Counter.builder().name("sluice_openflow_decode_failures_total")
      .help("OpenFlow messages that could not be decoded (connection kept)").labelNames("version", "type").register(registry);
  private final Counter refused = Counter.builder().name("sluice_openflow_handshake_refused_total")
      .help("Switches refused in the OpenFlow handshake: no common version, or datapath id not admitted by --switches")
      .register(registry);
  private final Counter ctFlushes = Counter.builder().name("sluice_conntrack_flushes_total")
      .help("Conntrack flushes sent for UDP/SCTP backends gone from a switch's Services").labelNames("datapath_id")
      .register(registry);
  private final Counter ctFlushFailures = Counter.builder().name("sluice_conntrack_flush_failures_total")
      .help("Conntrack flushes a switch refused or did not confirm (its tables changed regardless)")
      .labelNames("datapath_id").register(registry);
  private final Counter auditPackets = Counter.builder().name("sluice_audit_packets_total")
      .help("Audit PACKET_INs the switches sent: new connections denied, or allowed by a logged policy (what their "
          + "meters let through)").labelNames("verdict").register(registry);
  private final Counter auditEntries = Counter.builder().name("sluice_audit_events_total")
      .help("Audit log entries written (repeats within 1 s merged into one)").labelNames("verdict").register(registry);
  private final Counter auditDropped = Counter.builder().name("sluice_audit_dropped_total")
      .help("Audit PACKET_INs Sluice dropped because its queue was full").register(registry);
  private final Gauge generation = Gauge.builder().name("sluice_model_generation")
      .help("Current model generation").register(registry);

  private volatile long[] auditMeterDropped;

  public ControllerMetrics() {
    this(false);
  }

  /** {@code perRule}: also the per-rule policy counters (labels policy, direction, rule). */
  public ControllerMetrics(boolean perRule) {
    this.perRule = perRule;
    CounterWithCallback.builder().name("sluice_policy_isolation_dropped_packets_total")
        .help("Packets of new connections dropped because no NetworkPolicy rule allowed them (summed over the "
            + "connected switches' isolation-drop flows; read at scrape)")
        .callback(cb -> {
          PolicyCounts c = policyCounts;
          if (c != null) {
            cb.call(c.isolationDropped()[0]);
          }
        }).register(registry);
    CounterWithCallback.builder().name("sluice_policy_isolation_dropped_bytes_total")
        .help("Bytes of the packets counted by sluice_policy_isolation_dropped_packets_total")
        .callback(cb -> {
          PolicyCounts c = policyCounts;
          if (c != null) {
            cb.call(c.isolationDropped()[1]);
          }
        }).register(registry);
    CounterWithCallback.builder().name("sluice_policy_allowed_packets_total")
        .help("Packets of new connections a NetworkPolicy's rules allowed (all its rules, summed over the connected "
            + "switches; read at scrape)")
        .labelNames("policy").callback(cb -> {
          PolicyCounts c = policyCounts;
          if (c != null) {
            c.perPolicy().forEach((policy, v) -> cb.call(v[0], policy));
          }
        }).register(registry);
    CounterWithCallback.builder().name("sluice_policy_allowed_bytes_total")
        .help("Bytes of the packets counted by sluice_policy_allowed_packets_total")
        .labelNames("policy").callback(cb -> {
          PolicyCounts c = policyCounts;
          if (c != null) {
            c.perPolicy().forEach((policy, v) -> cb.call(v[1], policy));
          }
        }).register(registry);
    if (perRule) {
      CounterWithCallback.builder().name("sluice_policy_rule_allowed_packets_total")
          .help("Packets of new connections one NetworkPolicy rule allowed (summed over the connected switches; "
              + "read at scrape; only with --metrics-per-rule)")
          .labelNames("policy", "direction", "rule").callback(cb -> {
            PolicyCounts c = policyCounts;
            if (c != null) {
              c.perRule().forEach((labels, v) -> cb.call(v[0], labels.toArray(String[]::new)));
            }
          }).register(registry);
      CounterWithCallback.builder().name("sluice_policy_rule_allowed_bytes_total")
          .help("Bytes of the packets counted by sluice_policy_rule_allowed_packets_total (only with "
              + "--metrics-per-rule)")
          .labelNames("policy", "direction", "rule").callback(cb -> {
            PolicyCounts c = policyCounts;
            if (c != null) {
              c.perRule().forEach((labels, v) -> cb.call(v[1], labels.toArray(String[]::new)));
            }
          }).register(registry);
    }
    CounterWithCallback.builder().name("sluice_audit_meter_dropped_total")
        .help("Audit PACKET_INs the switches' audit meters dropped (over their rate; the traffic itself is not "
            + "affected), summed over the connected switches; read at scrape").labelNames("verdict")
        .callback(cb -> {
          long[] d = auditMeterDropped;
          if (d != null) {
            cb.call(d[0], "deny");
            cb.call(d[1], "allow");
          }
        }).register(registry);
    CounterWithCallback.builder().name("sluice_ovsdb_peers_refused_total")
        .help("ovsdb-servers that connected to --ovsdb-listen and were closed because --ovsdb-max-peers were "
            + "already connected")
        .callback(cb -> cb.call(ovsdbRefusedPeers.getAsLong())).register(registry);
  }

  /**
   * Policy flow counters, each {packets, bytes}: {@code perPolicy} by policy (namespace/name), {@code perRule} by
   * (policy, direction, rule index), and the isolation drops. The switches' flow counters only grow while the flows
   * stay; a sum can fall (a switch disconnects, a flow is replaced), which Prometheus' rate() reads as a reset.
   */
  public record PolicyCounts(java.util.Map<String, long[]> perPolicy, java.util.Map<java.util.List<String>, long[]> perRule,
                             long[] isolationDropped) {
    public PolicyCounts {
      perPolicy = java.util.Map.copyOf(perPolicy);
      perRule = java.util.Map.copyOf(perRule);
      isolationDropped = isolationDropped.clone();
    }
  }

  /** Whether the per-rule policy counters are exposed ({@code --metrics-per-rule}). */
  public boolean perRule() {
    return perRule;
  }

  /** Datapath ids with series: the connected switches. A switch's series are removed when it disconnects. */
  private final java.util.Set<String> live = new java.util.HashSet<>();

  @Override
  public synchronized void conntrackFlushed(String dpid, int flushes, boolean ok) {
    if (!live.contains(dpid)) {
      return; // reported after the switch left: its series are gone and stay gone
    }
    ctFlushes.labelValues(dpid).inc(flushes);
    if (!ok) {
      ctFlushFailures.labelValues(dpid).inc();
    }
  }

  @Override
  public void decodeFailure(int version, int type) {
    decodeFailures.labelValues(versionLabel(version), typeLabel(type)).inc();
  }

  /**
   * Label values a peer cannot multiply: a version or type byte is whatever the peer sends, and 256 × 256 series from
   * one peer sending garbage would outgrow everything else. Known OpenFlow versions (1..6) and message types (0..35)
   * keep their number; anything else is "other".
   */
  static String versionLabel(int version) {
    return version >= 1 && version <= 6 ? Integer.toString(version) : "other";
  }

  static String typeLabel(int type) {
    return type >= 0 && type <= 35 ? Integer.toString(type) : "other";
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
  public synchronized void echoRtt(String dpid, double seconds) {
    if (live.contains(dpid)) {
      echoRtt.labelValues(dpid).set(seconds);
    }
  }

  @Override
  public synchronized void switchConnected(String dpid, boolean connected, int connectedCount) {
    switchesConnected.set(connectedCount);
    if (connected) {
      live.add(dpid);
    } else {
      live.remove(dpid);
      for (var perSwitch : java.util.List.of(flows, realized, echoRtt)) {
        perSwitch.remove(dpid);
      }
      for (var perSwitch : java.util.List.of(flowMods, pushFailures, ctFlushes, ctFlushFailures)) {
        perSwitch.remove(dpid);
      }
    }
  }

  @Override
  public synchronized void pushed(String dpid, int mods, double seconds, boolean ok, int flowCount, long realizedGeneration) {
    bundleCommit.observe(seconds);
    if (!live.contains(dpid)) {
      return;
    }
    flowMods.labelValues(dpid).inc(mods);
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

  /** The policy flows' counters last read from the switches, exposed at the next scrape. */
  public void policyCounters(PolicyCounts counts) {
    policyCounts = counts;
  }

  /** Packets the audit meters dropped, {deny, allow}, summed over the switches (null: not read yet). */
  public void auditMeterDropped(long deny, long allow) {
    auditMeterDropped = new long[] {deny, allow};
  }

  /** Where the OVSDB listener's refused connections are counted (none: 0). */
  public void ovsdbRefusedPeers(java.util.function.LongSupplier refused) {
    ovsdbRefusedPeers = refused;
  }

  /** The fabric's links, hosts and LLDP counters, read at scrape (call once). */
  public void fabric(java.util.function.Supplier<io.sluice.controller.fabric.FabricDiscovery.Stats> stats) {
    io.prometheus.metrics.core.metrics.GaugeWithCallback.builder().name("sluice_fabric_links")
        .help("Links between switch ports LLDP discovery sees now").callback(cb -> cb.call(stats.get().links()))
        .register(registry);
    io.prometheus.metrics.core.metrics.GaugeWithCallback.builder().name("sluice_fabric_hosts")
        .help("Hosts (not pods) learned from ARP and neighbour discovery").callback(cb -> cb.call(stats.get().hosts()))
        .register(registry);
    CounterWithCallback.builder().name("sluice_fabric_lldp_sent_total")
        .help("LLDP frames sent by packet-out").callback(cb -> cb.call(stats.get().lldpSent())).register(registry);
    CounterWithCallback.builder().name("sluice_fabric_lldp_received_total")
        .help("LLDP frames of this process received back and believed")
        .callback(cb -> cb.call(stats.get().lldpReceived())).register(registry);
    CounterWithCallback.builder().name("sluice_fabric_lldp_rejected_total")
        .help("LLDP frames not believed: malformed, foreign (not this process's), forged (bad HMAC), stale")
        .labelNames("reason").callback(cb -> stats.get().lldpRejected().forEach((r, n) -> cb.call(n, r)))
        .register(registry);
    CounterWithCallback.builder().name("sluice_fabric_packet_ins_dropped_total")
        .help("Fabric PACKET_INs (LLDP, ARP/ND copies) dropped because their switch exceeded its budget")
        .callback(cb -> cb.call(stats.get().packetsDropped())).register(registry);
    CounterWithCallback.builder().name("sluice_fabric_packet_ins_unreadable_total")
        .help("Fabric PACKET_INs that were cut short or not ARP, neighbour discovery or LLDP")
        .callback(cb -> cb.call(stats.get().unreadable())).register(registry);
    CounterWithCallback.builder().name("sluice_fabric_refused_total")
        .help("Hosts and links not remembered because the fabric's bounds were reached").labelNames("kind")
        .callback(cb -> {
          var s = stats.get();
          cb.call(s.hostsRefused(), "host");
          cb.call(s.linksRefused(), "link");
        }).register(registry);
    CounterWithCallback.builder().name("sluice_fabric_proxy_arp_replies_total")
        .help("ARP replies the controller sent for known endpoints (proxy ARP), instead of flooding the request")
        .callback(cb -> cb.call(stats.get().proxyArpReplies())).register(registry);
    CounterWithCallback.builder().name("sluice_fabric_proxy_arp_unanswered_total")
        .help("ARP requests sent to the controller for proxy ARP and not answered: malformed, not_request, gratuitous, "
            + "probe, unknown_target, own_address").labelNames("reason")
        .callback(cb -> stats.get().proxyArpUnanswered().forEach((r, n) -> cb.call(n, r))).register(registry);
    CounterWithCallback.builder().name("sluice_fabric_proxy_nd_replies_total")
        .help("IPv6 neighbour advertisements the controller sent for known endpoints (proxy ND), instead of flooding "
            + "the solicitation").callback(cb -> cb.call(stats.get().proxyNdReplies())).register(registry);
    CounterWithCallback.builder().name("sluice_fabric_proxy_nd_unanswered_total")
        .help("IPv6 neighbour solicitations sent to the controller for proxy ND and not answered: malformed, "
            + "not_request, probe (duplicate address detection), unknown_target, own_address").labelNames("reason")
        .callback(cb -> stats.get().proxyNdUnanswered().forEach((r, n) -> cb.call(n, r))).register(registry);
  }

  /** Every registered family, series or not (for tests: the exposition leaves out families without series). */
  io.prometheus.metrics.model.snapshots.MetricSnapshots registered() {
    return registry.scrape();
  }

  /** The Prometheus text exposition of every metric. */
  @Override
  public void auditPacket(String verdict) {
    auditPackets.labelValues(verdict).inc();
  }

  @Override
  public void auditEntry(String verdict) {
    auditEntries.labelValues(verdict).inc();
  }

  @Override
  public void auditDropped() {
    auditDropped.inc();
  }

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
