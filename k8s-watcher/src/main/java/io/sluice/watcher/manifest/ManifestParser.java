package io.sluice.watcher.manifest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
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
 *
 * <p>Bounded ({@link ManifestSource.Limits}): a scalar longer than {@code maxScalarChars} (and, in YAML, a line that
 * long: SnakeYAML's scanner slows down quadratically on long lines, about 4 s for one line of 1M characters), nesting
 * deeper than {@code maxDepth}, more than {@code maxDocuments} documents, or a parse that takes longer than
 * {@code parseTimeout} each make the file an error; as with a syntax error its unread objects stay as they were.
 */
final class ManifestParser {
  private final ObjectMapper yaml;
  private final ObjectMapper json;
  private final ObjectConverter converter;
  private final FastReader fastYaml;
  private final FastReader fastJson;
  private final ManifestSource.Limits limits;
  private final boolean legacyIsolation;

  /** The pre-v1 isolation annotation of a Namespace, honoured only with {@code --legacy-isolation}. */
  static final String LEGACY_ANNOTATION = "net.beta.kubernetes.io/network-policy";
  /** The API group of the pre-v1 NetworkPolicy, read only with {@code --legacy-isolation}. */
  static final String LEGACY_POLICY_API = "extensions/v1beta1";

  ManifestParser(ObjectConverter converter) {
    this(converter, ManifestSource.Limits.defaults());
  }

  ManifestParser(ObjectConverter converter, ManifestSource.Limits limits) {
    this(converter, limits, false);
  }

  /**
   * {@code legacyIsolation}: as {@code sluice run --legacy-isolation}. With it, an {@code extensions/v1beta1}
   * NetworkPolicy (and its lowercase protocols) is read with that API's meaning and a deprecation warning; without
   * it, such a policy is refused, and a Namespace's pre-v1 isolation annotation is a warning (it is ignored).
   */
  ManifestParser(ObjectConverter converter, ManifestSource.Limits limits, boolean legacyIsolation) {
    this.converter = converter;
    this.limits = limits;
    this.legacyIsolation = legacyIsolation;
    int documentChars = (int) Math.min(Integer.MAX_VALUE, limits.maxFileBytes());
    this.yaml = configure(new YAMLMapper(new FastYamlFactory(limits.maxScalarChars(), limits.maxDepth(),
        documentChars)));
    this.json = configure(new ObjectMapper(JsonFactory.builder().streamReadConstraints(StreamReadConstraints.builder()
        .maxStringLength(limits.maxScalarChars()).maxNestingDepth(limits.maxDepth()).build()).build()));
    this.fastYaml = new FastReader(yaml, converter, limits.maxDocuments());
    this.fastJson = new FastReader(json, converter, limits.maxDocuments());
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
   * {@code complete}: false when a syntax error stopped reading, so later documents are unknown. {@code warnings}:
   * what was read but deserves a word (deprecated forms accepted, a field Sluice ignores); no object is refused.
   */
  record Result(List<Parsed> objects, List<ObjectKey> rejected, List<SourceError> errors, boolean complete,
                TreeMap<String, Integer> ignoredKinds, List<SourceError> warnings) {
    Result(List<Parsed> objects, List<ObjectKey> rejected, List<SourceError> errors, boolean complete,
           TreeMap<String, Integer> ignoredKinds) {
      this(objects, rejected, errors, complete, ignoredKinds, new ArrayList<>());
    }
  }

  Result parse(String file, byte[] bytes, boolean isJson) {
    return parse(file, bytes, isJson, () -> false);
  }

  /**
   * The file's objects and errors, within the limits. {@code cancelled}: polled while parsing; when it turns true
   * (or the thread is interrupted) the parse stops with {@link ParseBudget.Cancelled}.
   */
  Result parse(String file, byte[] bytes, boolean isJson, java.util.function.BooleanSupplier cancelled) {
    if (!isJson) {
      String tooLong = longLine(bytes, limits.maxScalarChars());
      if (tooLong != null) {
        return refused(file, tooLong);
      }
    }
    ParseBudget budget = new ParseBudget(limits.parseTimeout().toNanos(), cancelled);
    budget.enter();
    try {
      Result r;
      try {
        Result fast = (isJson ? fastJson : fastYaml).read(bytes);
        r = fast != null ? fast : parseGeneral(file, bytes, isJson);
        if (!legacyIsolation) {
          ignoredAnnotations(file, r);
        }
      } catch (RuntimeException e) {
        if (!budget.cancelled() && !budget.expired()) {
          throw e;
        }
        r = null; // SnakeYAML wraps the budget's exception in its own
      }
      if (budget.cancelled()) {
        throw new ParseBudget.Cancelled();
      }
      if (budget.expired()) {
        return refused(file, "parsing took longer than the limit of " + limits.parseTimeout().toMillis() + " ms");
      }
      return r;
    } finally {
      budget.exit();
    }
  }

  /** One warning per Namespace that carries the pre-v1 isolation annotation, which only --legacy-isolation honours. */
  private static void ignoredAnnotations(String file, Result r) {
    for (Parsed p : r.objects()) {
      if (p.value() instanceof io.sluice.model.Namespace ns && ns.annotations().containsKey(LEGACY_ANNOTATION)) {
        r.warnings().add(new SourceError(file, p.document(), p.line(), "Namespace", "", ns.name(),
            "metadata.annotations[" + LEGACY_ANNOTATION + "]", "Ignored: this pre-v1 isolation annotation has no "
            + "effect unless Sluice runs with --legacy-isolation; NetworkPolicies alone isolate pods"));
      }
    }
  }

  /** A whole file refused: one error, nothing read (so, as after a syntax error, its last objects stay). */
  static Result refused(String file, String reason) {
    return new Result(new ArrayList<>(), new ArrayList<>(),
        new ArrayList<>(List.of(new SourceError(file, -1, 0, "", "", "", "", reason))), false, new TreeMap<>());
  }

  /** The first YAML line with more than {@code max} characters, described; null if there is none. */
  static String longLine(byte[] bytes, int max) {
    int chars = 0;
    int line = 1;
    for (byte b : bytes) {
      if (b == '\n') {
        line++;
        chars = 0;
      } else if ((b & 0xc0) != 0x80 && ++chars > max) {
        return "line " + line + " has more than " + max + " characters, the limit for one scalar (and, in YAML, "
            + "for one line)";
      }
    }
    return null;
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
          if (document >= limits.maxDocuments()) {
            c.errors.add(new SourceError(file, document, 0, "", "", "", "", "more than " + limits.maxDocuments()
                + " documents in one file, the limit; the rest is not read"));
            c.complete = false;
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
    return new Result(c.objects, c.rejected, c.errors, c.complete, c.ignoredKinds, c.warnings);
  }

  private static final class Collector {
    final String file;
    final List<Parsed> objects = new ArrayList<>();
    final List<ObjectKey> rejected = new ArrayList<>();
    final List<SourceError> errors = new ArrayList<>();
    final List<SourceError> warnings = new ArrayList<>();
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
    List<Duplicate> duplicates = duplicateKeys(buffer);
    if (kind.endsWith("List") && ObjectKind.byKind(kind).isEmpty()) {
      JsonNode node = mapper.readTree(buffer.asParser());
      JsonNode items = node.get("items");
      if (items != null && items.isArray() && duplicates.stream().allMatch(d -> d.path().startsWith("items["))) {
        for (int i = 0; i < items.size(); i++) {
          JsonNode item = items.get(i);
          TokenBuffer b = new TokenBuffer(mapper, false);
          mapper.writeTree(b, item);
          String prefix = "items[" + i + "].";
          List<Duplicate> own = duplicates.stream().filter(d -> d.path().startsWith(prefix)).toList();
          if (own.isEmpty()) {
            object(c, mapper, b, document, line, prefix);
          } else {
            duplicated(c, header(b), own, document, line);
          }
        }
        return;
      }
    }
    if (!duplicates.isEmpty()) {
      duplicated(c, header(buffer), duplicates, document, line);
      return;
    }
    object(c, mapper, buffer, document, line, "");
  }

  /**
   * The paths of keys given more than once in one object of this document ({@code metadata.labels.app}), in
   * document order. The API server's strict field validation refuses such a document; Jackson alone would keep the
   * last value.
   */
  static List<Duplicate> duplicateKeys(TokenBuffer buffer) throws IOException {
    List<Duplicate> found = new ArrayList<>();
    // One frame per open object (its keys so far, the current one) or array (the current index).
    java.util.ArrayList<Frame> open = new java.util.ArrayList<>();
    try (JsonParser p = buffer.asParser()) {
      for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
        Frame top = open.isEmpty() ? null : open.get(open.size() - 1);
        if (top != null && top.keys == null && t != JsonToken.END_ARRAY) {
          top.index++; // a value in an array
        }
        switch (t) {
          case START_OBJECT -> open.add(new Frame(new java.util.HashSet<>()));
          case START_ARRAY -> open.add(new Frame(null));
          case END_OBJECT, END_ARRAY -> open.remove(open.size() - 1);
          case FIELD_NAME -> {
            top.key = p.currentName();
            if (!top.keys.add(top.key)) {
              found.add(new Duplicate(path(open), top.key));
            }
          }
          default -> { }
        }
      }
    }
    return found;
  }

  /** An open object or array while looking for duplicate keys. */
  private static final class Frame {
    final java.util.Set<String> keys; // null for an array
    String key;
    int index = -1;

    Frame(java.util.Set<String> keys) {
      this.keys = keys;
    }
  }

  /** The API-server style path of the innermost key, e.g. spec.ingress[0].ports. */
  private static String path(List<Frame> open) {
    StringBuilder b = new StringBuilder();
    for (Frame f : open) {
      if (f.keys == null) {
        b.append('[').append(f.index).append(']');
      } else {
        b.append(b.isEmpty() ? "" : ".").append(f.key);
      }
    }
    return b.toString();
  }

  /** A key given twice: where ({@code metadata.labels.app}) and which. */
  record Duplicate(String path, String key) { }

  /** A document (or list item) refused for keys it gives twice: one error per key, its object not taken. */
  private static void duplicated(Collector c, Header h, List<Duplicate> duplicates, int document, int line) {
    Optional<ObjectKind> known = ObjectKind.byKind(h.kind);
    ObjectKey key = known.map(k -> ObjectConverter.keyOf(k, h.namespace, h.name)).orElse(null);
    String ns = key == null ? h.namespace : key.ref().namespace();
    for (Duplicate d : duplicates) {
      c.errors.add(new SourceError(c.file, document, line, h.kind, ns, h.name, d.path(), "Duplicate value: \"" + d.key()
          + "\": the key is given more than once in the same object; strict field validation refuses the document "
          + "(the last value does not win): keep one"));
    }
    reject(c, key);
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
    boolean preV1 = legacyIsolation && k == ObjectKind.NETWORK_POLICY && apiVersion.equals(LEGACY_POLICY_API);
    if (!apiVersion.equals(k.apiVersion()) && !preV1) {
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
    List<SourceError> deprecated = new ArrayList<>();
    if (preV1) {
      deprecated.add(new SourceError(c.file, document, line, kind, ns, name, prefix + "apiVersion", "Deprecated: "
          + LEGACY_POLICY_API + " NetworkPolicy (Kubernetes 1.6 and before) read under --legacy-isolation with that "
          + "API's meaning: it isolates no pod by itself, only the namespace's DefaultDeny annotation does; use "
          + k.apiVersion()));
      upperCaseProtocols((io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy) object, deprecated,
          new SourceError(c.file, document, line, kind, ns, name, prefix, ""));
    }
    Converted conv = converter.convert(object);
    if (conv.valid()) {
      Object value = preV1 ? ((io.sluice.model.NetworkPolicy) conv.value()).asAllowOnly() : conv.value();
      c.objects.add(new Parsed(conv.key(), value, document, line));
      c.warnings.addAll(deprecated);
    } else {
      for (FieldError e : conv.errors()) {
        c.errors.add(new SourceError(c.file, document, line, kind, ns, name, prefix + e.field(), e.reason()));
      }
      reject(c, conv.key());
    }
  }

  /**
   * The pre-v1 examples wrote {@code protocol: tcp}; v1 accepts only TCP, UDP and SCTP. Each such protocol is read
   * upper-cased, with a warning made from {@code at} (file, document, object and field prefix).
   */
  private static void upperCaseProtocols(io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy np,
                                         List<SourceError> warnings, SourceError at) {
    if (np.getSpec() == null) {
      return;
    }
    List<io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule> in = np.getSpec().getIngress();
    for (int i = 0; in != null && i < in.size(); i++) {
      if (in.get(i) != null) {
        upperCase(in.get(i).getPorts(), at.field() + "spec.ingress[" + i + "].ports", warnings, at);
      }
    }
    List<io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRule> out = np.getSpec().getEgress();
    for (int i = 0; out != null && i < out.size(); i++) {
      if (out.get(i) != null) {
        upperCase(out.get(i).getPorts(), at.field() + "spec.egress[" + i + "].ports", warnings, at);
      }
    }
  }

  private static void upperCase(List<io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort> ports,
                                String path, List<SourceError> warnings, SourceError at) {
    for (int j = 0; ports != null && j < ports.size(); j++) {
      var port = ports.get(j);
      String p = port == null ? null : port.getProtocol();
      String upper = p == null ? null : p.toUpperCase(java.util.Locale.ROOT);
      if (p != null && !p.equals(upper) && List.of("TCP", "UDP", "SCTP").contains(upper)) {
        port.setProtocol(upper);
        warnings.add(new SourceError(at.file(), at.document(), at.line(), at.kind(), at.namespace(), at.name(),
            path + "[" + j + "].protocol", "Deprecated: \"" + p + "\" read as \"" + upper + "\" under "
            + "--legacy-isolation, as pre-v1 examples wrote it; networking.k8s.io/v1 accepts only \"" + upper + "\""));
      }
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
