package io.sluice.ovsdb;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code --ovsdb-nodes FILE}: the ovsdb-servers served, by {@code external_ids:system-id}, each optionally with the
 * certificate name ({@link CertificateName}) the server must present over TLS ({@code ssl:} or {@code pssl:}). One
 * entry per line: the system-id, then optionally the name (the rest of the line, spaces included, as ovs-pki writes
 * it: {@code sw id:...}). {@code #} starts a comment; blank lines are skipped. The same syntax as
 * {@code --switches}, with system-ids instead of datapath ids.
 *
 * <pre>
 * # rack 1
 * node-1  sw id:87c3d478-9f9a-4dae-bcde-9e36bd90ea07
 * node-2                   # any certificate the CA signed, or a plain connection
 * </pre>
 */
public record OvsdbNodeAllowList(String source, Map<String, Optional<String>> entries) {
  public OvsdbNodeAllowList {
    entries = Map.copyOf(entries);
  }

  /** System-ids without certificate names (any certificate, or a plain connection), as listed by {@code source}. */
  public static OvsdbNodeAllowList of(String source, Collection<String> systemIds) {
    Map<String, Optional<String>> out = new LinkedHashMap<>();
    systemIds.forEach(id -> out.put(id, Optional.empty()));
    return new OvsdbNodeAllowList(source, out);
  }

  /** Reads FILE; an unreadable or empty file, or any bad line, is an error naming the file (and the line). */
  public static OvsdbNodeAllowList read(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalArgumentException(file + " cannot be read: " + e.getMessage(), e);
    }
    return parse(file.toString(), lines);
  }

  public static OvsdbNodeAllowList parse(String source, List<String> lines) {
    Map<String, Optional<String>> out = new LinkedHashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      int hash = line.indexOf('#');
      String t = (hash < 0 ? line : line.substring(0, hash)).strip();
      if (t.isEmpty()) {
        continue;
      }
      String where = source + " line " + (i + 1);
      if (t.chars().anyMatch(c -> Character.isISOControl(c) && !Character.isWhitespace(c))) {
        throw new IllegalArgumentException(where + ": control character in '" + t + "'");
      }
      int space = indexOfSpace(t);
      String id = space < 0 ? t : t.substring(0, space);
      String name = space < 0 ? "" : t.substring(space).strip();
      if (out.putIfAbsent(id, name.isEmpty() ? Optional.empty() : Optional.of(name)) != null) {
        throw new IllegalArgumentException(where + ": system-id " + id + " is listed twice");
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(source + " lists no system-id: no ovsdb-server could be served");
    }
    return new OvsdbNodeAllowList(source, out);
  }

  private static int indexOfSpace(String t) {
    for (int i = 0; i < t.length(); i++) {
      if (Character.isWhitespace(t.charAt(i))) {
        return i;
      }
    }
    return -1;
  }

  /** True when some entry requires a certificate name (so only TLS connections can match it). */
  public boolean namesCertificates() {
    return entries.values().stream().anyMatch(Optional::isPresent);
  }

  /**
   * Why a server reporting {@code systemId} (empty: none) and presenting {@code certificateName} (null: a plain
   * connection, or no certificate) is refused, or null when it is admitted.
   */
  public String refusal(String systemId, String certificateName) {
    Optional<String> required = entries.get(systemId);
    if (required == null) {
      return systemId.isEmpty() ? "no external_ids:system-id (the --ovsdb-nodes list names every server admitted)"
          : "system-id " + systemId + " is not in the --ovsdb-nodes list";
    }
    if (required.isEmpty() || required.get().equals(certificateName)) {
      return null;
    }
    return certificateName == null
        ? "system-id " + systemId + " must present certificate name '" + required.get() + "' (--ovsdb-nodes "
            + source + ") but connected without TLS"
        : "system-id " + systemId + " presented certificate name '" + certificateName + "', --ovsdb-nodes " + source
            + " requires '" + required.get() + "'";
  }
}
