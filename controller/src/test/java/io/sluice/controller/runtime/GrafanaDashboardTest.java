package io.sluice.controller.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * deploy/grafana/sluice-dashboard.json against the metrics Sluice really exposes: every metric a panel's PromQL (or a
 * template variable) names is one a scrape of {@link ControllerMetrics} shows, so renaming a metric breaks this test
 * until the dashboard follows.
 */
class GrafanaDashboardTest {
  static final Path FILE = Path.of("..", "deploy", "grafana", "sluice-dashboard.json");
  private static final Pattern METRIC = Pattern.compile("\\bsluice_[a-z0-9_]+");

  private static JsonNode dashboard() throws Exception {
    return new ObjectMapper().readTree(FILE.toFile());
  }

  /** Every panel, those inside rows included. */
  private static List<JsonNode> panels(JsonNode d) {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode p : d.get("panels")) {
      out.add(p);
      p.path("panels").forEach(out::add);
    }
    return out;
  }

  /** The metric names in a PromQL expression (sluice_…; label names and values are not sluice_ here). */
  static Set<String> metricsIn(String expr) {
    Set<String> out = new TreeSet<>();
    Matcher m = METRIC.matcher(expr);
    while (m.find()) {
      out.add(m.group());
    }
    return out;
  }

  @Test
  void everyMetricThePanelsQueryIsExposed() throws Exception {
    Set<String> exposed = MetricsConventions.sampleNames(
        new String(ControllerMetricsTest.populated().scrape(), StandardCharsets.UTF_8));
    Set<String> used = new TreeSet<>();
    for (JsonNode p : panels(dashboard())) {
      if (p.get("type").asText().equals("row")) {
        continue;
      }
      assertThat(p.path("targets").size()).as("panel %s has queries", p.get("title")).isPositive();
      for (JsonNode t : p.get("targets")) {
        Set<String> names = metricsIn(t.get("expr").asText());
        assertThat(names).as("panel %s query %s names a Sluice metric", p.get("title"), t.get("expr")).isNotEmpty();
        assertThat(exposed).as("metrics of panel %s: %s", p.get("title"), t.get("expr")).containsAll(names);
        used.addAll(names);
      }
    }
    for (JsonNode v : dashboard().at("/templating/list")) {
      String q = v.path("query").isTextual() ? v.path("query").asText() : v.path("query").path("query").asText();
      assertThat(exposed).as("variable %s", v.get("name")).containsAll(metricsIn(q));
    }
    // the metrics the dashboard is about: every family but the histogram's _count/_sum (the quantiles use _bucket)
    Set<String> unused = new TreeSet<>(exposed);
    unused.removeAll(used);
    assertThat(unused).as("metrics no panel shows (add a panel, or list them here)").containsExactlyInAnyOrder("sluice_bundle_commit_seconds_count", "sluice_bundle_commit_seconds_sum",
        "sluice_policy_allowed_bytes_total", "sluice_policy_rule_allowed_bytes_total");
  }

  @Test
  void aMetricNotExposedIsFound() {
    Set<String> exposed = MetricsConventions.sampleNames(
        new String(ControllerMetricsTest.populated().scrape(), StandardCharsets.UTF_8));
    // names a panel could get wrong: a counter without _total, a unit that is not the base one
    assertThat(metricsIn("rate(sluice_flow_mods{datapath_id=~\"$sw\"}[5m]) / sluice_echo_rtt_ms"))
        .containsExactly("sluice_echo_rtt_ms", "sluice_flow_mods")
        .noneMatch(exposed::contains);
  }

  @Test
  void itImportsWithAPrometheusDataSourceAndUniquePanelIds() throws Exception {
    JsonNode d = dashboard();
    assertThat(d.get("schemaVersion").asInt()).isGreaterThanOrEqualTo(36);
    assertThat(d.at("/__inputs/0/name").asText()).isEqualTo("DS_PROMETHEUS");
    assertThat(d.at("/__inputs/0/pluginId").asText()).isEqualTo("prometheus");
    assertThat(d.get("uid").asText()).isNotBlank();
    Set<Integer> ids = new HashSet<>();
    for (JsonNode p : panels(d)) {
      assertThat(ids.add(p.get("id").asInt())).as("panel id %s unique", p.get("id")).isTrue();
      assertThat(p.path("title").asText()).isNotBlank();
      if (!p.get("type").asText().equals("row")) {
        assertThat(p.at("/datasource/uid").asText()).as("panel %s data source", p.get("title"))
            .isEqualTo("${DS_PROMETHEUS}");
        p.get("targets").forEach(t -> assertThat(t.at("/datasource/uid").asText()).isEqualTo("${DS_PROMETHEUS}"));
      }
    }
  }
}
