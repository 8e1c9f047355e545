package io.sluice.controller.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.sluice.model.Protocol;
import io.sluice.model.Snapshot;
import io.sluice.renderer.reference.Endpoint;
import io.sluice.renderer.reference.EndpointException;
import io.sluice.renderer.reference.ReferenceEvaluator;
import io.sluice.renderer.reference.Verdict;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sluice test FILE...}: policy expectations checked against the reference evaluator (the upstream
 * semantics {@code explain} answers with) for a manifest directory, for CI before a change is merged. A file holds
 * {@code tests:}, each either one connection ({@code from}, {@code to}, {@code port}, {@code expect: allowed|denied})
 * or a whole matrix as Cyclonus prints it ({@code matrix:} with {@code port} and a table of {@code .} allowed and
 * {@code X} denied, rows the sources, columns the destinations). Exit code 0 when every expectation holds, 1 when one
 * does not, 2 for a file that cannot be read; {@code --junit FILE} writes a JUnit XML report. With {@code --live}
 * each expectation is also checked on real traffic ({@link LiveProbe}).
 */
@Command(name = "test", mixinStandardHelpOptions = true,
    description = "Check policy expectations (YAML files) against a manifest directory with the reference evaluator, "
        + "and with --live on real traffic through a running Sluice: exit 0 when all hold, 1 when one does not, 2 for "
        + "an unreadable file.")
final class TestCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "FILE", arity = "1..*", description = "Expectation files (YAML).")
  List<Path> files;

  @Option(names = "--manifests", required = true, paramLabel = "DIR",
      description = "The manifests (Namespaces, Pods, NetworkPolicies, Services...) the expectations are about.")
  Path manifests;

  @Option(names = "--junit", paramLabel = "FILE", description = "Also write a JUnit XML report there.")
  Path junit;

  @Option(names = "--legacy-isolation", description = "As sluice run --legacy-isolation.")
  boolean legacyIsolation;

  @Option(names = "--live", description = "Also check each expectation on real traffic: one TCP connection attempt "
      + "from inside the source pod's network namespace through the switch (run on the node, as root; see --api).")
  boolean live;

  @Option(names = "--api", defaultValue = "http://127.0.0.1:8181", paramLabel = "URL",
      description = "With --live: the running controller's status API (default ${DEFAULT-VALUE}).")
  String api;

  @Option(names = "--api-token-file", paramLabel = "FILE",
      description = "With --live: the status API's token (sluice run --http-token-file), when it wants one.")
  Path apiTokenFile;

  @Option(names = "--live-timeout", defaultValue = "2", paramLabel = "SECONDS",
      description = "With --live: how long a connection attempt may go unanswered before it counts as dropped "
          + "(default ${DEFAULT-VALUE}).")
  int liveTimeout;

  /** One checked expectation; {@code skipped}: a live check that cannot be made by its nature (UDP, SCTP). */
  record Result(String file, String name, String from, String to, String port, boolean expectedAllowed,
                Boolean allowed, String detail, boolean skipped) {
    Result(String file, String name, String from, String to, String port, boolean expectedAllowed, Boolean allowed,
           String detail) {
      this(file, name, from, to, port, expectedAllowed, allowed, detail, false);
    }

    boolean passed() {
      return skipped || allowed != null && allowed == expectedAllowed;
    }
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Snapshot snapshot;
    try {
      snapshot = ExplainCommand.load(manifests, legacyIsolation, err);
    } catch (IllegalArgumentException e) {
      err.println("sluice test: " + e.getMessage());
      err.flush();
      return ExplainCommand.USAGE;
    }
    ReferenceEvaluator oracle = new ReferenceEvaluator(legacyIsolation);
    List<Result> results = new ArrayList<>();
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    for (Path f : files) {
      JsonNode doc;
      try {
        doc = yaml.readTree(f.toFile());
      } catch (IOException e) {
        err.println("sluice test: " + f + ": " + e.getMessage());
        err.flush();
        return ExplainCommand.USAGE;
      }
      JsonNode tests = doc == null ? null : doc.get("tests");
      if (tests == null || !tests.isArray()) {
        err.println("sluice test: " + f + ": expected a list under \"tests:\"");
        err.flush();
        return ExplainCommand.USAGE;
      }
      for (int i = 0; i < tests.size(); i++) {
        String where = f + ": tests[" + i + "]";
        try {
          JsonNode t = tests.get(i);
          if (t.has("matrix")) {
            results.addAll(matrix(f.toString(), where, t, snapshot, oracle));
          } else {
            results.add(one(f.toString(), where, t, snapshot, oracle));
          }
        } catch (IllegalArgumentException e) {
          err.println("sluice test: " + where + ": " + e.getMessage());
          err.flush();
          return ExplainCommand.USAGE;
        }
      }
    }
    if (live) {
      LiveProbe probe = new LiveProbe(api, apiTokenFile, java.time.Duration.ofSeconds(Math.max(1, liveTimeout)));
      List<Result> checked = new ArrayList<>();
      for (Result r : results) {
        LiveProbe.Outcome o = probe.probe(r.from(), r.to(), r.port());
        checked.add(new Result(r.file(), "[live] " + r.name(), r.from(), r.to(), r.port(), r.expectedAllowed(),
            o.allowed(), o.detail(), o.skipped()));
      }
      results.addAll(checked);
    }
    long failed = results.stream().filter(r -> !r.passed()).count();
    long skipped = results.stream().filter(Result::skipped).count();
    for (Result r : results) {
      if (r.skipped()) {
        out.printf("NOT JUDGED %s: %s: %s%n", r.file(), r.name(), r.detail());
      } else if (!r.passed()) {
        out.printf("FAIL %s: %s: expected %s, %s%n", r.file(), r.name(), r.expectedAllowed() ? "allowed" : "denied",
            r.detail());
      }
    }
    out.printf("%d expectations, %d passed, %d failed%s%n", results.size(), results.size() - failed - skipped, failed,
        skipped == 0 ? "" : ", " + skipped + " not judged live");
    out.flush();
    if (junit != null) {
      try {
        Files.writeString(junit, junitXml(results), StandardCharsets.UTF_8);
      } catch (IOException e) {
        err.println("sluice test: --junit " + junit + ": " + e.getMessage());
        err.flush();
        return ExplainCommand.USAGE;
      }
    }
    return failed == 0 ? 0 : 1;
  }

  private static String text(JsonNode t, String field, String where) {
    JsonNode v = t.get(field);
    if (v == null || v.isNull() || v.isContainerNode()) {
      throw new IllegalArgumentException("\"" + field + "\" is required (text)");
    }
    return v.asText();
  }

  private static boolean expectAllowed(String expect) {
    return switch (expect.toLowerCase(Locale.ROOT)) {
      case "allowed", "allow" -> true;
      case "denied", "deny" -> false;
      default -> throw new IllegalArgumentException("expect: allowed or denied, got " + expect);
    };
  }

  private Result one(String file, String where, JsonNode t, Snapshot snap, ReferenceEvaluator oracle) {
    String from = text(t, "from", where);
    String to = text(t, "to", where);
    String port = text(t, "port", where);
    boolean want = expectAllowed(text(t, "expect", where));
    String name = t.has("name") ? t.get("name").asText() : from + " -> " + to + " " + port;
    return evaluate(file, name, from, to, port, want, snap, oracle);
  }

  private Result evaluate(String file, String name, String from, String to, String port, boolean want, Snapshot snap,
                          ReferenceEvaluator oracle) {
    Endpoint src = ExplainCommand.endpoint(from, "from");
    Endpoint dst = ExplainCommand.endpoint(to, "to");
    Protocol protocol = ExplainCommand.protocol(port);
    int number = ExplainCommand.portNumber(port);
    try {
      Verdict v = oracle.evaluate(snap, src, dst, protocol, number);
      return new Result(file, name, from, to, port, want, v.allowed(), v.toString().replace('\n', ' '));
    } catch (EndpointException e) {
      return new Result(file, name, from, to, port, want, null,
          (e.source() ? "from " : "to ") + e.endpoint() + ": " + e.reason());
    }
  }

  /**
   * A Cyclonus truth table: a header row naming the destinations, then one row per source; cells {@code .} (allowed)
   * or {@code X} (denied); {@code -} or empty is not checked. Borders ({@code +---+}) and pipes are ignored.
   */
  private List<Result> matrix(String file, String where, JsonNode t, Snapshot snap, ReferenceEvaluator oracle) {
    String port = text(t, "port", where);
    List<List<String>> rows = new ArrayList<>();
    for (String line : text(t, "matrix", where).split("\n")) {
      String l = line.strip();
      if (l.isEmpty() || l.startsWith("+")) {
        continue;
      }
      List<String> cells = new ArrayList<>();
      for (String c : l.split("\\|")) {
        if (!c.isBlank() || !cells.isEmpty()) {
          cells.add(c.strip());
        }
      }
      while (!cells.isEmpty() && cells.get(cells.size() - 1).isEmpty() && l.endsWith("|")) {
        cells.remove(cells.size() - 1);
      }
      rows.add(cells.size() == 1 ? List.of(l.split("\\s+")) : cells);
    }
    if (rows.size() < 2) {
      throw new IllegalArgumentException("matrix: a header row of destinations and at least one source row");
    }
    List<String> header = rows.get(0);
    List<Result> out = new ArrayList<>();
    for (List<String> row : rows.subList(1, rows.size())) {
      if (row.size() != header.size()) {
        throw new IllegalArgumentException("matrix: row " + row.get(0) + " has " + (row.size() - 1) + " cells, the "
            + "header " + (header.size() - 1) + " destinations");
      }
      for (int c = 1; c < row.size(); c++) {
        String cell = row.get(c);
        if (cell.isEmpty() || cell.equals("-")) {
          continue;
        }
        boolean want = switch (cell) {
          case ".", "\u2713" -> true;
          case "X", "x", "\u2717" -> false;
          default -> throw new IllegalArgumentException("matrix: cell " + row.get(0) + " -> " + header.get(c) + " is \""
              + cell + "\"; use . (allowed), X (denied) or - (not checked)");
        };
        out.add(evaluate(file, row.get(0) + " -> " + header.get(c) + " " + port, row.get(0), header.get(c), port,
            want, snap, oracle));
      }
    }
    return out;
  }

  static String junitXml(List<Result> results) {
    long failures = results.stream().filter(r -> !r.passed()).count();
    long skipped = results.stream().filter(Result::skipped).count();
    StringBuilder x = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.append("<testsuite name=\"sluice-policy-tests\" tests=\"").append(results.size()).append("\" failures=\"")
        .append(failures).append("\" errors=\"0\" skipped=\"").append(skipped).append("\">\n");
    for (Result r : results) {
      x.append("  <testcase classname=\"").append(xml(r.file())).append("\" name=\"").append(xml(r.name()))
          .append("\"");
      if (r.skipped()) {
        x.append(">\n    <skipped message=\"").append(xml(r.detail())).append("\"/>\n  </testcase>\n");
      } else if (r.passed()) {
        x.append("/>\n");
      } else {
        x.append(">\n    <failure message=\"").append(xml("expected " + (r.expectedAllowed() ? "allowed" : "denied")))
            .append("\">").append(xml(r.detail())).append("</failure>\n  </testcase>\n");
      }
    }
    return x.append("</testsuite>\n").toString();
  }

  private static String xml(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (char c : s.toCharArray()) {
      switch (c) {
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '&' -> b.append("&amp;");
        case '"' -> b.append("&quot;");
        default -> b.append(c < 0x20 && c != '\t' && c != '\n' ? ' ' : c);
      }
    }
    return b.toString();
  }
}
