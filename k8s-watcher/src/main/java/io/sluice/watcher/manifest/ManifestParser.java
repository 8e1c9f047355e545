package io.sluice.watcher.manifest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.sluice.model.source.SourceError;
import io.sluice.watcher.convert.Converted;
import io.sluice.watcher.convert.FieldError;
import io.sluice.watcher.convert.ObjectConverter;
import io.sluice.watcher.convert.ObjectKey;
import io.sluice.watcher.convert.ObjectKind;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Turns one manifest file into converted objects and errors. YAML files may hold several documents; a document (or
 * a JSON file) may be a {@code kind: List} (or any {@code *List}) whose {@code items} are read one by one. Thread-safe.
 */
final class ManifestParser {
  private final ObjectMapper yaml;
  private final ObjectMapper json;
  private final ObjectConverter converter;
  private final FastReader fastYaml;
  private final FastReader fastJson;

  ManifestParser(ObjectConverter converter) {
    this.converter = converter;
    this.yaml = configure(new YAMLMapper(new FastYamlFactory()));
    this.json = configure(new ObjectMapper());
    this.fastYaml = new FastReader(yaml, converter);
    this.fastJson = new FastReader(json, converter);
  }

  private static ObjectMapper configure(ObjectMapper m) {
    // fabric8 classes keep unknown fields in additionalProperties; a typo'd field is no reason to drop an object.
    m.configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    return m;
  }

  /** A valid object read from the file. */
  record Parsed(ObjectKey key, Object value, int document, int line) { }

  /**
   * What a file holds now. {@code rejected}: keys of documents that were invalid (their last valid version stays).
   * {@code complete}: false when a syntax error stopped reading, so later documents are unknown.
   */
  record Result(List<Parsed> objects, List<ObjectKey> rejected, List<SourceError> errors, boolean complete,
                TreeMap<String, Integer> ignoredKinds) { }

  Result parse(String file, byte[] bytes, boolean isJson) {
    Result fast = (isJson ? fastJson : fastYaml).read(bytes);
    return fast != null ? fast : parseGeneral(file, bytes, isJson);
  }

  /** The general path: every kind, lists, and the exact error texts. {@link FastReader} falls back to it. */
  Result parseGeneral(String file, byte[] bytes, boolean isJson) {
    Collector c = new Collector(file);
    ObjectMapper mapper = isJson ? json : yaml;
    int document = 0;
    try (MappingIterator<TokenBuffer> it = mapper.readerFor(TokenBuffer.class).readValues(bytes)) {
      while (true) {
        int line = 0;
        try {
          if (!it.hasNextValue()) {
            break;
          }
          JsonParser p = it.getParser();
          line = p.currentTokenLocation().getLineNr();
          TokenBuffer buffer = it.nextValue();
          document(c, mapper, buffer, document, line);
        } catch (JsonProcessingException e) {
          int at = e.getLocation() != null ? e.getLocation().getLineNr() : line;
          c.errors.add(new SourceError(file, document, at, "", "", "", "", "cannot parse: " + firstLine(e.getOriginalMessage())));
          c.complete = false;
          break;
        }
        document++;
      }
    } catch (IOException e) {
      c.errors.add(new SourceError(file, document, 0, "", "", "", "", "cannot read: " + e.getMessage()));
      c.complete = false;
    }
    return new Result(c.objects, c.rejected, c.errors, c.complete, c.ignoredKinds);
  }

  private static final class Collector {
    final String file;
    final List<Parsed> objects = new ArrayList<>();
    final List<ObjectKey> rejected = new ArrayList<>();
    final List<SourceError> errors = new ArrayList<>();
    final TreeMap<String, Integer> ignoredKinds = new TreeMap<>();
    boolean complete = true;

    Collector(String file) {
      this.file = file;
    }
  }

  /** The fields that decide what a document is, read without building a tree. */
  private static final class Header {
    String kind = "";
    String apiVersion = "";
    String namespace = "";
    String name = "";
  }

  private static Header header(TokenBuffer buffer) throws IOException {
    Header h = new Header();
    try (JsonParser p = buffer.asParser()) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return h;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken t = p.nextToken();
        if (field.equals("kind") && t.isScalarValue()) {
          h.kind = p.getText();
        } else if (field.equals("apiVersion") && t.isScalarValue()) {
          h.apiVersion = p.getText();
        } else if (field.equals("metadata") && t == JsonToken.START_OBJECT) {
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            String f = p.currentName();
            t = p.nextToken();
            if (f.equals("name") && t.isScalarValue()) {
              h.name = p.getText();
            } else if (f.equals("namespace") && t.isScalarValue()) {
              h.namespace = p.getText();
            } else {
              p.skipChildren();
            }
          }
        } else {
          p.skipChildren();
        }
      }
    }
    return h;
  }

  private void document(Collector c, ObjectMapper mapper, TokenBuffer buffer, int document, int line)
      throws IOException {
    if (buffer == null) {
      return; // an empty document, e.g. a trailing "---"
    }
    JsonToken first;
    try (JsonParser p = buffer.asParser()) {
      first = p.nextToken();
    }
    if (first == null || first == JsonToken.VALUE_NULL) {
      return;
    }
    if (first != JsonToken.START_OBJECT) {
      c.errors.add(new SourceError(c.file, document, line, "", "", "", "", "Invalid value: a manifest document must be "
          + "an object with apiVersion and kind"));
      return;
    }
    String kind = header(buffer).kind;
    if (kind.endsWith("List") && ObjectKind.byKind(kind).isEmpty()) {
      JsonNode node = mapper.readTree(buffer.asParser());
      JsonNode items = node.get("items");
      if (items != null && items.isArray()) {
        for (int i = 0; i < items.size(); i++) {
          JsonNode item = items.get(i);
          TokenBuffer b = new TokenBuffer(mapper, false);
          mapper.writeTree(b, item);
          object(c, mapper, b, document, line, "items[" + i + "].");
        }
        return;
      }
    }
    object(c, mapper, buffer, document, line, "");
  }

  private void object(Collector c, ObjectMapper mapper, TokenBuffer buffer, int document, int line, String prefix)
      throws IOException {
    Header h = header(buffer);
    String kind = h.kind;
    String apiVersion = h.apiVersion;
    String namespace = h.namespace;
    String name = h.name;
    if (kind.isEmpty()) {
      c.errors.add(new SourceError(c.file, document, line, "", namespace, name, prefix + "kind", "Required value"));
      return;
    }
    Optional<ObjectKind> known = ObjectKind.byKind(kind);
    if (known.isEmpty()) {
      c.ignoredKinds.merge(kind, 1, Integer::sum);
      return;
    }
    ObjectKind k = known.get();
    ObjectKey key = ObjectConverter.keyOf(k, namespace, name);
    String ns = key == null ? namespace : key.ref().namespace();
    if (!apiVersion.equals(k.apiVersion())) {
      c.errors.add(new SourceError(c.file, document, line, kind, ns, name, prefix + "apiVersion",
          FieldError.notSupported("apiVersion", apiVersion, List.of(k.apiVersion())).reason()));
      reject(c, key);
      return;
    }
    HasMetadata object;
    try {
      object = mapper.readValue(buffer.asParser(), k.fabric8Class());
    } catch (JsonProcessingException e) {
      String field = e instanceof JsonMappingException m ? path(m) : "";
      c.errors.add(new SourceError(c.file, document, line, kind, ns, name, prefix + field,
          "Invalid value: " + firstLine(e.getOriginalMessage())));
      reject(c, key);
      return;
    } catch (IllegalArgumentException e) {
      c.errors.add(new SourceError(c.file, document, line, kind, ns, name, prefix, "Invalid value: " + e.getMessage()));
      reject(c, key);
      return;
    }
    Converted conv = converter.convert(object);
    if (conv.valid()) {
      c.objects.add(new Parsed(conv.key(), conv.value(), document, line));
    } else {
      for (FieldError e : conv.errors()) {
        c.errors.add(new SourceError(c.file, document, line, kind, ns, name, prefix + e.field(), e.reason()));
      }
      reject(c, conv.key());
    }
  }

  private static void reject(Collector c, ObjectKey key) {
    if (key != null) {
      c.rejected.add(key);
    }
  }

  /** The API-server style path of a Jackson mapping error, e.g. spec.ingress[0].ports[0].port. */
  private static String path(JsonMappingException e) {
    StringBuilder b = new StringBuilder();
    for (JsonMappingException.Reference r : e.getPath()) {
      if (r.getFieldName() != null) {
        if (!b.isEmpty()) {
          b.append('.');
        }
        b.append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        b.append('[').append(r.getIndex()).append(']');
      }
    }
    return b.toString();
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
