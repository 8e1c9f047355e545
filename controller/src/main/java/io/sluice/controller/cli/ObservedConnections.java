package io.sluice.controller.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.model.Protocol;
import io.sluice.renderer.advisor.Connection;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Observed connections, read from what Sluice and Open vSwitch write down: the audit log (JSON lines, or the JSON
 * array {@code /api/v1/audit} answers) and the connection tracker ({@code ovs-appctl dpctl/dump-conntrack}).
 */
final class ObservedConnections {
  private ObservedConnections() { }

  /** What was read, and how many entries were left out (other verdicts, no port, unreadable lines). */
  record Read(List<Connection> connections, int skipped, List<String> problems) { }

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A file's text ({@code -}: standard input), or a usage error naming the flag and the file. */
  static String read(String file, String flag) {
    try {
      if ("-".equals(file)) {
        return new String(System.in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      }
      return java.nio.file.Files.readString(java.nio.file.Path.of(file), java.nio.charset.StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalArgumentException(flag + " " + file + ": cannot be read (" + e.getMessage() + ")");
    }
  }

  /**
   * Audit entries: one JSON object per line, or one JSON array of them. An entry counts when its verdict is
   * {@code allow} (or {@code deny} too, with {@code includeDenied}) and it names a TCP, UDP or SCTP destination port;
   * its {@code count} is how many times it was seen.
   */
  static Read audit(String text, String where, boolean includeDenied) {
    List<Connection> out = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    int[] skipped = {0};
    String trimmed = text.strip();
    if (trimmed.startsWith("[")) {
      try {
        for (JsonNode e : JSON.readTree(trimmed)) {
          entry(e, where, includeDenied, out, skipped, problems);
        }
      } catch (IOException e) {
        problems.add(where + ": not a JSON array of audit entries: " + e.getMessage());
      }
      return new Read(out, skipped[0], problems);
    }
    String[] lines = text.split("\n");
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty()) {
        continue;
      }
      try {
        entry(JSON.readTree(line), where + ":" + (i + 1), includeDenied, out, skipped, problems);
      } catch (IOException e) {
        skipped[0]++;
        problems.add(where + ":" + (i + 1) + ": not a JSON audit entry");
      }
    }
    return new Read(out, skipped[0], problems);
  }

  private static void entry(JsonNode e, String where, boolean includeDenied, List<Connection> out, int[] skipped,
                            List<String> problems) {
    String verdict = e.path("verdict").asText();
    Protocol protocol = protocol(e.path("protocol").asText());
    int port = e.path("destination").path("port").asInt(0);
    String source = e.path("source").path("ip").asText("");
    String destination = e.path("destination").path("ip").asText("");
    boolean wanted = "allow".equals(verdict) || includeDenied && "deny".equals(verdict);
    if (!wanted || protocol == null || port < 1 || port > 65535 || source.isEmpty() || destination.isEmpty()) {
      skipped[0]++;
      return;
    }
    long count = Math.max(1, e.path("count").asLong(1));
    try {
      out.add(new Connection(source, destination, protocol, port, count));
    } catch (IllegalArgumentException ex) {
      skipped[0]++;
      problems.add(where + ": " + ex.getMessage());
    }
  }

  // tcp,orig=(src=A,dst=B,sport=1,dport=2),reply=(src=C,dst=D,sport=3,dport=4),zone=...
  private static final Pattern CONNTRACK = Pattern.compile(
      "^(tcp|udp|sctp),orig=\\(src=([^,]+),dst=([^,]+),sport=(\\d+),dport=(\\d+)\\),"
          + "reply=\\(src=([^,]+),dst=([^,]+),sport=(\\d+),dport=(\\d+)\\)");

  /**
   * The connection tracker's entries as {@code ovs-appctl dpctl/dump-conntrack} prints them. The destination is
   * where the connection really went (the reply's source: a Service's endpoint, not its virtual address); one
   * connection tracked in several zones (the switch's own, hairpin, masquerade) counts once. ICMP and other
   * protocols without ports are left out.
   */
  static Read conntrack(String text) {
    return conntrack(text, java.util.Set.of());
  }

  private static final Pattern ZONE = Pattern.compile(",zone=(\\d+)");

  /** As {@link #conntrack(String)}, keeping only entries of these conntrack zones (empty: every zone). */
  static Read conntrack(String text, java.util.Set<Integer> zones) {
    List<Connection> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    int skipped = 0;
    for (String line : text.split("\n")) {
      String l = line.strip();
      if (l.isEmpty()) {
        continue;
      }
      Matcher m = CONNTRACK.matcher(l);
      if (!m.find()) {
        skipped++;
        continue;
      }
      if (!zones.isEmpty()) {
        Matcher z = ZONE.matcher(l);
        if (!z.find() || !zones.contains(Integer.parseInt(z.group(1)))) {
          skipped++;
          continue;
        }
      }
      String source = m.group(2);
      String sourcePort = m.group(4);
      String destination = m.group(6);
      int port = Integer.parseInt(m.group(8));
      if (!seen.add(m.group(1) + " " + source + " " + sourcePort + " " + destination + " " + port)) {
        continue;
      }
      if (port < 1 || port > 65535) {
        skipped++;
        continue;
      }
      out.add(new Connection(source, destination, Protocol.valueOf(m.group(1).toUpperCase(Locale.ROOT)), port, 1));
    }
    return new Read(out, skipped, List.of());
  }

  private static Protocol protocol(String text) {
    for (Protocol p : Protocol.values()) {
      if (p.name().equalsIgnoreCase(text)) {
        return p;
      }
    }
    return null;
  }
}
