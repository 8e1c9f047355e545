package io.sluice.controller.session;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.projectfloodlight.openflow.types.DatapathId;

/**
 * {@code --switches FILE}: the datapath ids that may connect, each optionally with the certificate name (CN) its
 * TLS peer must present. One entry per line: the datapath id ({@code 00:00:00:00:00:00:d0:d1}, {@code 0xd0d1} or
 * decimal), then optionally the name (the rest of the line, spaces included, as ovs-pki writes it:
 * {@code sw id:...}). {@code #} starts a comment; blank lines are skipped.
 *
 * <pre>
 * # rack 1
 * 00:00:00:00:00:00:d0:d1  sw id:87c3d478-9f9a-4dae-bcde-9e36bd90ea07
 * 0xd0d2                   # any certificate the CA signed
 * </pre>
 */
public record SwitchAllowList(String source, Map<Long, Optional<String>> entries) implements Admission {
  public SwitchAllowList {
    entries = Map.copyOf(entries);
  }

  /** Reads FILE; any bad line is an error naming the file and the line. */
  public static SwitchAllowList read(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalArgumentException(file + " cannot be read: " + e.getMessage(), e);
    }
    return parse(file.toString(), lines);
  }

  public static SwitchAllowList parse(String source, List<String> lines) {
    Map<Long, Optional<String>> out = new LinkedHashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      int hash = line.indexOf('#');
      String t = (hash < 0 ? line : line.substring(0, hash)).strip();
      if (t.isEmpty()) {
        continue;
      }
      String where = source + " line " + (i + 1);
      int space = indexOfSpace(t);
      String id = space < 0 ? t : t.substring(0, space);
      String name = space < 0 ? "" : t.substring(space).strip();
      long dpid = dpid(id, where);
      if (out.putIfAbsent(dpid, name.isEmpty() ? Optional.empty() : Optional.of(name)) != null) {
        throw new IllegalArgumentException(where + ": datapath id " + DatapathId.of(dpid) + " is listed twice");
      }
    }
    return new SwitchAllowList(source, out);
  }

  private static int indexOfSpace(String t) {
    for (int i = 0; i < t.length(); i++) {
      if (Character.isWhitespace(t.charAt(i))) {
        return i;
      }
    }
    return -1;
  }

  static long dpid(String id, String where) {
    try {
      if (id.indexOf(':') >= 0) {
        String[] bytes = id.split(":", -1);
        if (bytes.length != 8) {
          throw new NumberFormatException("not 8 bytes");
        }
        long v = 0;
        for (String b : bytes) {
          if (b.length() != 2) {
            throw new NumberFormatException("not 2 hex digits: '" + b + "'");
          }
          v = v << 8 | Integer.parseInt(b, 16);
        }
        return v;
      }
      if (id.startsWith("0x") || id.startsWith("0X")) {
        String hex = id.substring(2);
        if (hex.isEmpty() || hex.length() > 16) {
          throw new NumberFormatException("1 to 16 hex digits after 0x");
        }
        return Long.parseUnsignedLong(hex, 16);
      }
      return Long.parseUnsignedLong(id);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(where + ": '" + id + "' is not a datapath id (write 00:00:00:00:00:00:d0:d1, "
          + "0xd0d1 or a decimal number)", e);
    }
  }

  @Override
  public String refusal(DatapathId dpid, String certificateName) {
    Optional<String> required = entries.get(dpid.getLong());
    if (required == null) {
      return "datapath id " + dpid + " is not listed in --switches " + source;
    }
    if (required.isEmpty() || required.get().equals(certificateName)) {
      return null;
    }
    return certificateName == null
        ? "datapath id " + dpid + " must present certificate name '" + required.get() + "' (--switches " + source
            + ") but connected without TLS"
        : "datapath id " + dpid + " presented certificate name '" + certificateName + "', --switches " + source
            + " requires '" + required.get() + "'";
  }
}
