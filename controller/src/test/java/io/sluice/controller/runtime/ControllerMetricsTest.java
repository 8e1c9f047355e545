package io.sluice.controller.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class ControllerMetricsTest {

  private static long series(ControllerMetrics m, String name) {
    return new String(m.scrape(), StandardCharsets.UTF_8).lines().filter(l -> l.startsWith(name + "{")).count();
  }

  @Test
  void decodeFailuresOfEveryVersionAndTypeBytePeersCanSendMakeABoundedNumberOfSeries() {
    ControllerMetrics m = new ControllerMetrics();
    for (int v = 0; v < 256; v++) {
      for (int t = 0; t < 256; t++) {
        m.decodeFailure(v, t);
      }
    }
    // 7 version values (1..6, other) x 37 type values (0..35, other)
    assertThat(series(m, "sluice_openflow_decode_failures_total")).isLessThanOrEqualTo(7 * 37);
    assertThat(new String(m.scrape(), StandardCharsets.UTF_8))
        .contains("sluice_openflow_decode_failures_total{type=\"19\",version=\"4\"} 1.0")
        .contains("sluice_openflow_decode_failures_total{type=\"other\",version=\"other\"} " + (250.0 * 220));
  }

  @Test
  void aSwitchsSeriesGoWhenItDisconnectsAndLateReportsDoNotBringThemBack() {
    ControllerMetrics m = new ControllerMetrics();
    m.switchConnected("00:00:00:00:00:00:00:01", true, 1);
    m.pushed("00:00:00:00:00:00:00:01", 3, 0.01, true, 3, 2);
    m.echoRtt("00:00:00:00:00:00:00:01", 0.001);
    m.conntrackFlushed("00:00:00:00:00:00:00:01", 1, false);
    assertThat(new String(m.scrape(), StandardCharsets.UTF_8)).contains("datapath_id=\"00:00:00:00:00:00:00:01\"");
    m.switchConnected("00:00:00:00:00:00:00:01", false, 0);
    m.pushed("00:00:00:00:00:00:00:01", 3, 0.01, true, 3, 2); // a push that finished after the disconnect
    m.echoRtt("00:00:00:00:00:00:00:01", 0.001);
    assertThat(new String(m.scrape(), StandardCharsets.UTF_8)).doesNotContain("datapath_id=");
  }

  /** Metrics with a series in every family Sluice registers (per-rule ones included). */
  static ControllerMetrics populated() {
    ControllerMetrics m = new ControllerMetrics(true);
    String dpid = "00:00:00:00:00:00:00:01";
    m.switchConnected(dpid, true, 1);
    m.generation(3);
    m.pushed(dpid, 5, 0.004, false, 12, 3);
    m.echoRtt(dpid, 0.0005);
    m.decodeFailure(4, 19);
    m.handshakeRefused();
    m.conntrackFlushed(dpid, 2, false);
    m.ovsdbRefusedPeers(() -> 4);
    m.auditPacket("deny");
    m.auditEntry("deny");
    m.auditDropped();
    m.auditMeterDropped(3, 0);
    m.policyCounters(new ControllerMetrics.PolicyCounts(Map.of("shop/db-allow", new long[] {7, 700}),
        Map.of(List.of("shop/db-allow", "Ingress", "0"), new long[] {7, 700}), new long[] {2, 196}));
    return m;
  }

  private static String text(ControllerMetrics m) {
    return new String(m.scrape(), StandardCharsets.UTF_8);
  }

  /** The names families are exposed under: counters with their _total. */
  private static Set<String> registeredFamilies(ControllerMetrics m) {
    Set<String> out = new TreeSet<>();
    m.registered().forEach(s -> out.add(s.getMetadata().getPrometheusName()
        + (s instanceof CounterSnapshot ? "_total" : "")));
    return out;
  }

  @Test
  void everyRegisteredFamilyFollowsTheNamingConventions() {
    ControllerMetrics m = populated();
    String text = text(m);
    assertThat(MetricsConventions.parse(text).keySet()).as("every registered family has a series here")
        .containsExactlyInAnyOrderElementsOf(registeredFamilies(m));
    assertThat(MetricsConventions.violations(text)).as(text).isEmpty();
  }

  @Test
  void policyCountersAreCountersWithTheirBytesAndPerRuleSeriesOnlyWhenAskedFor() {
    String text = text(populated());
    assertThat(text).contains("# TYPE sluice_policy_isolation_dropped_packets_total counter")
        .contains("sluice_policy_isolation_dropped_packets_total 2.0")
        .contains("sluice_policy_isolation_dropped_bytes_total 196.0")
        .contains("sluice_policy_allowed_packets_total{policy=\"shop/db-allow\"} 7.0")
        .contains("sluice_policy_allowed_bytes_total{policy=\"shop/db-allow\"} 700.0")
        .contains("sluice_policy_rule_allowed_packets_total{direction=\"Ingress\",policy=\"shop/db-allow\",rule=\"0\"} 7.0")
        .contains("sluice_policy_rule_allowed_bytes_total{direction=\"Ingress\",policy=\"shop/db-allow\",rule=\"0\"} 700.0")
        .contains("sluice_ovsdb_peers_refused_total 4.0");

    ControllerMetrics perPolicy = new ControllerMetrics();
    perPolicy.policyCounters(new ControllerMetrics.PolicyCounts(Map.of("shop/db-allow", new long[] {7, 700}),
        Map.of(List.of("shop/db-allow", "Ingress", "0"), new long[] {7, 700}), new long[] {2, 196}));
    assertThat(text(perPolicy)).contains("sluice_policy_allowed_packets_total{policy=\"shop/db-allow\"} 7.0")
        .doesNotContain("sluice_policy_rule_").doesNotContain("rule=");
    assertThat(registeredFamilies(perPolicy)).noneMatch(n -> n.startsWith("sluice_policy_rule_"));
  }

  @Test
  void beforeTheFirstReadThereAreNoPolicySeriesRatherThanZeros() {
    assertThat(text(new ControllerMetrics(true))).doesNotContain("sluice_policy_");
  }

  @Test
  void theConventionsCheckFindsBadlyNamedMetrics() throws Exception {
    // from the client itself: a gauge in milliseconds, a counter without help, an unbounded label
    PrometheusRegistry r = new PrometheusRegistry();
    Gauge.builder().name("sluice_bundle_commit_ms").help("latency").register(r).set(3);
    Counter.builder().name("sluice_things_total").register(r).inc();
    Gauge.builder().name("sluice_pod_bytes").help("per pod").labelNames("pod_ip").register(r).labelValues("10.0.0.1").set(1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter.create().write(out, r.scrape(),
        io.prometheus.metrics.config.EscapingScheme.UNDERSCORE_ESCAPING);
    assertThat(MetricsConventions.violations(out.toString(StandardCharsets.UTF_8))).containsExactlyInAnyOrder(
        "sluice_bundle_commit_ms: not in base units (seconds, bytes, ratios)",
        "sluice_things_total: no HELP",
        "sluice_pod_bytes: label pod_ip is not one of " + new TreeSet<>(MetricsConventions.LABELS));
    // what a client that does not add _total itself would expose, and a gauge pretending to be a counter
    assertThat(MetricsConventions.violations("# HELP sluice_drops x\n# TYPE sluice_drops counter\nsluice_drops 1\n"))
        .containsExactly("sluice_drops: a counter not ending in _total");
    assertThat(MetricsConventions.violations("# HELP sluice_drops_total x\n# TYPE sluice_drops_total gauge\n"
        + "sluice_drops_total 1\n")).containsExactly("sluice_drops_total: a gauge ending in _total (only counters may)");
    assertThat(MetricsConventions.violations("# HELP flows x\n# TYPE flows gauge\nflows 1\n"))
        .containsExactly("flows: not sluice_ followed by lower case, digits and underscores");
    assertThat(MetricsConventions.violations("sluice_orphan 1\n")).contains("sluice_orphan: no HELP", "sluice_orphan: no TYPE");
    assertThat(MetricsConventions.violations("")).containsExactly("no metric families at all");
  }
}
