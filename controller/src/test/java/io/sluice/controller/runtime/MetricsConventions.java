package io.sluice.controller.runtime;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a Prometheus text exposition and says where it breaks Sluice's naming rules: every family has HELP and TYPE,
 * its name starts with {@code sluice_}, counters end in {@code _total}, no unit other than base units (no
 * {@code _ms}, {@code _millis}, {@code _milliseconds}, {@code _kb}, ...), and label names come from a fixed, bounded set.
 */
public final class MetricsConventions {
  /**
   * The label names Sluice may use: each has a bounded set of values (switches, policies, rules, OpenFlow bytes; reason:
   * why an LLDP frame was not believed or a proxy ARP request not answered; kind: host or link).
   */
  public static final Set<String> LABELS = Set.of("datapath_id", "version", "type", "policy", "direction", "rule", "verdict", "le",
      "reason", "kind");

  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]*");
  private static final Pattern NOT_BASE_UNIT = Pattern.compile(
      "_(ms|millis|milliseconds|us|micros|microseconds|ns|nanos|nanoseconds|minutes|hours|kb|kib|mb|mib|gb|gib|"
          + "percent)(_|$)");
  private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([^}]*)})? \\S+( \\S+)?$");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  /** One family as exposed. */
  public record Family(String name, String type, String help, Set<String> samples, Set<String> labels) { }

  private MetricsConventions() { }

  /** The families of an exposition by name, in order; a sample without a TYPE line is a family of type null. */
  public static Map<String, Family> parse(String text) {
    Map<String, Family> out = new LinkedHashMap<>();
    Family current = null;
    for (String line : text.lines().toList()) {
      if (line.isBlank()) {
        continue;
      }
      if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
        String[] p = line.substring(7).split(" ", 2);
        Family f = out.getOrDefault(p[0], new Family(p[0], null, null, new TreeSet<>(), new TreeSet<>()));
        f = line.startsWith("# HELP ") ? new Family(f.name(), f.type(), p.length > 1 ? p[1] : "", f.samples(), f.labels())
            : new Family(f.name(), p.length > 1 ? p[1] : "", f.help(), f.samples(), f.labels());
        out.put(f.name(), f);
        current = f;
        continue;
      }
      if (line.startsWith("#")) {
        continue;
      }
      Matcher m = SAMPLE.matcher(line);
      if (!m.matches()) {
        throw new IllegalArgumentException("not a sample line: " + line);
      }
      String sample = m.group(1);
      Family f = current != null && belongs(sample, current) ? current : null;
      if (f == null) {
        f = out.computeIfAbsent(sample, n -> new Family(n, null, null, new TreeSet<>(), new TreeSet<>()));
        current = f;
      }
      f.samples().add(sample);
      if (m.group(3) != null) {
        Matcher l = LABEL.matcher(m.group(3));
        while (l.find()) {
          f.labels().add(l.group(1));
        }
      }
    }
    return out;
  }

  private static boolean belongs(String sample, Family f) {
    if (sample.equals(f.name())) {
      return true;
    }
    return "histogram".equals(f.type()) && List.of("_bucket", "_sum", "_count", "_created").stream()
        .anyMatch(s -> sample.equals(f.name() + s));
  }

  /** Every broken rule, one line each; empty when the exposition follows them all. */
  public static List<String> violations(String text) {
    List<String> out = new ArrayList<>();
    Map<String, Family> families = parse(text);
    if (families.isEmpty()) {
      out.add("no metric families at all");
    }
    for (Family f : families.values()) {
      String n = f.name();
      if (!NAME.matcher(n).matches() || !n.startsWith("sluice_")) {
        out.add(n + ": not sluice_ followed by lower case, digits and underscores");
      }
      if (f.help() == null || f.help().isBlank()) {
        out.add(n + ": no HELP");
      }
      if (f.type() == null) {
        out.add(n + ": no TYPE");
      } else if (!Set.of("counter", "gauge", "histogram").contains(f.type())) {
        out.add(n + ": type " + f.type() + " (Sluice uses counter, gauge and histogram)");
      }
      if ("counter".equals(f.type()) != n.endsWith("_total")) {
        out.add(n + ": " + ("counter".equals(f.type()) ? "a counter not ending in _total" : "a " + f.type()
            + " ending in _total (only counters may)"));
      }
      if (NOT_BASE_UNIT.matcher(n).find()) {
        out.add(n + ": not in base units (seconds, bytes, ratios)");
      }
      for (String l : f.labels()) {
        if (!LABELS.contains(l) || ("le".equals(l) && !"histogram".equals(f.type()))) {
          out.add(n + ": label " + l + " is not one of " + new TreeSet<>(LABELS));
        }
      }
    }
    return out;
  }

  /** The names of every sample line (what PromQL selects): counters' _total, histograms' _bucket, _sum, _count. */
  public static Set<String> sampleNames(String text) {
    Set<String> out = new TreeSet<>();
    parse(text).values().forEach(f -> out.addAll(f.samples()));
    return out;
  }
}
