package io.sluice.controller.profile;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.sluice.renderer.flow.Field;
import io.sluice.renderer.pipeline.Capabilities;
import io.sluice.renderer.pipeline.PipelineProfile;
import io.sluice.renderer.pipeline.Table;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Pipeline profiles as data: one YAML file per kind of switch (tables with their ids, sizes, allowed match fields
 * and misses; capabilities; what the switch says of itself), shipped in the renderer's jar under
 * {@code io/sluice/renderer/profiles/} or read from a directory of the operator's. Errors name the file and field.
 */
public final class Profiles {
  /** The profiles Sluice ships. */
  public static final List<String> BUILT_IN = List.of("ovs", "openflow13-generic", "openflow13-single-table");
  private static final String RESOURCES = "io/sluice/renderer/profiles/";
  private static final Set<String> TOP = Set.of("name", "description", "openflow", "capabilities", "expect", "tables");

  private Profiles() { }

  /** A profile file read: the profile, and what it says besides (the OpenFlow versions, the expected hardware). */
  public record Declared(PipelineProfile profile, String description, List<String> openflow, String expectHardware,
                         String source) {
    public String name() {
      return profile.name();
    }
  }

  /** A shipped profile by name. */
  public static Declared builtIn(String name) {
    try (InputStream in = Profiles.class.getClassLoader().getResourceAsStream(RESOURCES + name + ".yaml")) {
      if (in == null) {
        throw new IllegalArgumentException("no profile named " + name + "; shipped: " + String.join(", ", BUILT_IN));
      }
      return parse(RESOURCES + name + ".yaml", new ObjectMapper(new YAMLFactory()).readTree(in));
    } catch (IOException e) {
      throw new IllegalArgumentException("profile " + name + ": " + e.getMessage(), e);
    }
  }

  /** A profile from a file of the operator's. */
  public static Declared read(Path file) {
    try {
      return parse(file.toString(), new ObjectMapper(new YAMLFactory()).readTree(Files.readString(file)));
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /** Every profile by name: the shipped ones, then those of {@code dir} (if given; a file's name may replace one). */
  public static Map<String, Declared> all(Path dir) {
    Map<String, Declared> out = new LinkedHashMap<>();
    for (String n : BUILT_IN) {
      out.put(n, builtIn(n));
    }
    if (dir != null) {
      try (var files = Files.list(dir)) {
        for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
          Declared d = read(f);
          out.put(d.name(), d);
        }
      } catch (IOException e) {
        throw new IllegalArgumentException(dir + ": " + e.getMessage(), e);
      }
    }
    return out;
  }

  static Declared parse(String source, JsonNode doc) {
    if (doc == null || !doc.isObject()) {
      throw new IllegalArgumentException(source + ": expected a profile (a mapping with name, capabilities, tables)");
    }
    doc.fieldNames().forEachRemaining(f -> {
      if (!TOP.contains(f)) {
        throw new IllegalArgumentException(source + ": " + f + ": unknown field (expected one of " + TOP + ")");
      }
    });
    String name = text(doc, "name", source);
    if (!name.matches("[a-z0-9][a-z0-9-]{0,62}")) {
      throw new IllegalArgumentException(source + ": name: " + name + ": lowercase letters, digits and dashes");
    }
    JsonNode caps = doc.get("capabilities");
    if (caps == null || !caps.isObject()) {
      throw new IllegalArgumentException(source + ": capabilities: required (conntrack, conjunction, nicira, meters, "
          + "bundles, groupTypes)");
    }
    Set<String> groups = new java.util.TreeSet<>();
    JsonNode g = caps.get("groupTypes");
    if (g != null) {
      g.forEach(x -> groups.add(x.asText()));
    }
    Capabilities c;
    try {
      c = new Capabilities(flag(caps, "conntrack", source), flag(caps, "conjunction", source), flag(caps, "nicira", source),
          flag(caps, "meters", source), flag(caps, "bundles", source), groups);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": capabilities.groupTypes: " + e.getMessage(), e);
    }
    JsonNode tables = doc.get("tables");
    if (tables == null || !tables.isArray() || tables.isEmpty()) {
      throw new IllegalArgumentException(source + ": tables: required, a list of tables");
    }
    List<Table> out = new ArrayList<>();
    for (int i = 0; i < tables.size(); i++) {
      JsonNode t = tables.get(i);
      String where = source + ": tables[" + i + "]";
      int id = t.path("id").asInt(-1);
      String tname = text(t, "name", where);
      int size = t.has("size") ? t.get("size").asInt(0) : Table.UNLIMITED;
      String miss = text(t, "miss", where);
      int missNext = switch (miss) {
        case "drop" -> Table.MISS_DROP;
        case "normal" -> Table.MISS_NORMAL;
        default -> {
          if (!miss.matches("[0-9]{1,3}")) {
            throw new IllegalArgumentException(where + ".miss: " + miss + ": a table id, drop or normal");
          }
          yield Integer.parseInt(miss);
        }
      };
      Set<Field> fields = EnumSet.noneOf(Field.class);
      JsonNode m = t.get("match");
      if (m != null && m.isTextual() && m.asText().equals("any")) {
        fields = EnumSet.allOf(Field.class);
      } else if (m != null && m.isArray()) {
        for (JsonNode f : m) {
          try {
            fields.add(Field.valueOf(f.asText().toUpperCase(Locale.ROOT)));
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ".match: " + f.asText() + ": unknown field", e);
          }
        }
      } else {
        throw new IllegalArgumentException(where + ".match: a list of fields, or any");
      }
      try {
        out.add(new Table(id, tname, fields, missNext, size));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
      }
    }
    PipelineProfile p;
    try {
      p = PipelineProfile.of(name, out, c);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
    }
    List<String> versions = new ArrayList<>();
    JsonNode v = doc.get("openflow");
    if (v != null) {
      v.forEach(x -> versions.add(x.asText()));
    }
    JsonNode expect = doc.get("expect");
    String hw = expect != null && expect.has("hardware") ? expect.get("hardware").asText() : null;
    return new Declared(p, doc.path("description").asText(""), versions, hw, source);
  }

  private static String text(JsonNode n, String field, String where) {
    JsonNode v = n.get(field);
    if (v == null || !v.isValueNode()) {
      throw new IllegalArgumentException(where + ": " + field + ": required");
    }
    return v.asText();
  }

  private static boolean flag(JsonNode caps, String field, String where) {
    JsonNode v = caps.get(field);
    if (v == null || !v.isBoolean()) {
      throw new IllegalArgumentException(where + ": capabilities." + field + ": required, true or false");
    }
    return v.asBoolean();
  }
}
