package io.sluice.watcher.manifest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.BeanDeserializerBase;
import com.fasterxml.jackson.databind.deser.DefaultDeserializationContext;
import com.fasterxml.jackson.databind.deser.SettableBeanProperty;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.HostIP;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.networking.v1.IPBlock;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicySpec;
import io.sluice.watcher.convert.Converted;
import io.sluice.watcher.convert.ObjectConverter;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The fast path of {@link ManifestParser} for the common case: a file whose every document is a valid Namespace, Pod
 * or NetworkPolicy. It reads the file's tokens once, straight from Jackson's parser into the fabric8 objects (no token
 * buffer, no second pass for the header, no reflection for the fields the converter reads) and converts them with the
 * same {@link ObjectConverter}. Fields it does not build itself go through Jackson's own deserializer for that
 * property (so they fail exactly when Jackson would) or, if fabric8 has no such property, are skipped as Jackson skips
 * them.
 *
 * <p>It gives up on anything else ({@code null}): another kind or apiVersion, a {@code *List}, a token of an unexpected
 * type (a number where a string is expected, a null, ...), a field order it does not expect, a syntax error, an invalid
 * object. The caller then parses the whole file the general way, which produces every error text; so this path only
 * ever returns what the general path would have returned. Thread-safe.
 */
final class FastReader {
  /** Thrown to give up; no stack trace, it is control flow. */
  private static final class Bail extends RuntimeException {
    Bail() {
      super(null, null, false, false);
    }
  }

  private static final Bail BAIL = new Bail();
  /** Shared by every reader: the same label values recur in every file. */
  private static final StringTable STRINGS = new StringTable(8192);

  private final ObjectMapper mapper;
  private final ObjectConverter converter;
  private final Map<Class<?>, BeanDeserializerBase> beans = new ConcurrentHashMap<>();

  private final int maxDocuments;

  FastReader(ObjectMapper mapper, ObjectConverter converter) {
    this(mapper, converter, Integer.MAX_VALUE);
  }

  /** @param maxDocuments more documents than this: give up (the general path reports the limit) */
  FastReader(ObjectMapper mapper, ObjectConverter converter, int maxDocuments) {
    this.mapper = mapper;
    this.converter = converter;
    this.maxDocuments = maxDocuments;
  }

  /** The file's objects, or null if the general path must read it. */
  ManifestParser.Result read(byte[] bytes) {
    try (JsonParser p = mapper.getFactory().createParser(bytes)) {
      // A key given twice gives up on the file: the general path names it (strict field validation).
      p.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
      DeserializationContext ctxt = ((DefaultDeserializationContext) mapper.getDeserializationContext())
          .createInstance(mapper.getDeserializationConfig(), p, mapper.getInjectableValues());
      List<ManifestParser.Parsed> objects = new ArrayList<>();
      int document = 0;
      for (JsonToken t = p.nextToken(); t != null; t = p.nextToken(), document++) {
        if (document >= maxDocuments) {
          return null;
        }
        if (t == JsonToken.VALUE_NULL) {
          continue; // an empty document
        }
        if (t != JsonToken.START_OBJECT) {
          return null;
        }
        int line = p.currentTokenLocation().getLineNr();
        Converted conv = converter.convert(object(p, ctxt));
        if (!conv.valid()) {
          return null;
        }
        objects.add(new ManifestParser.Parsed(conv.key(), conv.value(), document, line));
      }
      return new ManifestParser.Result(objects, new ArrayList<>(), new ArrayList<>(), true, new TreeMap<>());
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  // ---- top level ----

  private HasMetadata object(JsonParser p, DeserializationContext ctxt) throws IOException {
    // apiVersion and kind first (in either order), as nearly every manifest has them.
    String apiVersion = null;
    String kind = null;
    while (apiVersion == null || kind == null) {
      String f = field(p);
      if (f.equals("apiVersion") && apiVersion == null) {
        apiVersion = string(p);
      } else if (f.equals("kind") && kind == null) {
        kind = string(p);
      } else {
        throw BAIL;
      }
    }
    switch (kind) {
      case "Namespace" -> {
        expect(apiVersion, "v1");
        Namespace ns = new Namespace();
        ns.setApiVersion(apiVersion);
        ns.setKind(kind);
        for (String f; (f = nextField(p)) != null; ) {
          if (f.equals("metadata")) {
            ns.setMetadata(meta(p, ctxt));
          } else {
            top(p, ctxt, Namespace.class, f);
          }
        }
        return ns;
      }
      case "Pod" -> {
        expect(apiVersion, "v1");
        Pod pod = new Pod();
        pod.setApiVersion(apiVersion);
        pod.setKind(kind);
        for (String f; (f = nextField(p)) != null; ) {
          switch (f) {
            case "metadata" -> pod.setMetadata(meta(p, ctxt));
            case "spec" -> pod.setSpec(podSpec(p, ctxt));
            case "status" -> pod.setStatus(podStatus(p, ctxt));
            default -> top(p, ctxt, Pod.class, f);
          }
        }
        return pod;
      }
      case "NetworkPolicy" -> {
        expect(apiVersion, "networking.k8s.io/v1");
        NetworkPolicy np = new NetworkPolicy();
        np.setApiVersion(apiVersion);
        np.setKind(kind);
        for (String f; (f = nextField(p)) != null; ) {
          switch (f) {
            case "metadata" -> np.setMetadata(meta(p, ctxt));
            case "spec" -> np.setSpec(policySpec(p, ctxt));
            default -> top(p, ctxt, NetworkPolicy.class, f);
          }
        }
        return np;
      }
      default -> throw BAIL;
    }
  }

  /** A further top-level field; a second kind or apiVersion decides what the document is: the general path reads it. */
  private void top(JsonParser p, DeserializationContext ctxt, Class<?> type, String field) throws IOException {
    if (field.equals("kind") || field.equals("apiVersion")) {
      throw BAIL;
    }
    other(p, ctxt, type, field);
  }

  private static void expect(String apiVersion, String wanted) {
    if (!apiVersion.equals(wanted)) {
      throw BAIL;
    }
  }

  private ObjectMeta meta(JsonParser p, DeserializationContext ctxt) throws IOException {
    startObject(p);
    ObjectMeta m = new ObjectMeta();
    for (String f; (f = nextField(p)) != null; ) {
      switch (f) {
        case "name" -> m.setName(unique(p));
        case "namespace" -> m.setNamespace(string(p));
        case "labels" -> m.setLabels(stringMap(p));
        case "annotations" -> m.setAnnotations(stringMap(p));
        case "deletionTimestamp" -> m.setDeletionTimestamp(unique(p));
        default -> other(p, ctxt, ObjectMeta.class, f);
      }
    }
    return m;
  }

  // ---- Pod ----

  private PodSpec podSpec(JsonParser p, DeserializationContext ctxt) throws IOException {
    startObject(p);
    PodSpec s = new PodSpec();
    for (String f; (f = nextField(p)) != null; ) {
      switch (f) {
        case "containers" -> s.setContainers(containers(p, ctxt));
        case "initContainers" -> s.setInitContainers(containers(p, ctxt));
        case "nodeName" -> s.setNodeName(string(p));
        case "hostNetwork" -> s.setHostNetwork(bool(p));
        default -> other(p, ctxt, PodSpec.class, f);
      }
    }
    return s;
  }

  private List<Container> containers(JsonParser p, DeserializationContext ctxt) throws IOException {
    startArray(p);
    List<Container> out = new ArrayList<>();
    while (p.nextToken() != JsonToken.END_ARRAY) {
      expectStartObject(p);
      Container c = new Container();
      for (String f; (f = nextField(p)) != null; ) {
        switch (f) {
          case "name" -> c.setName(string(p));
          case "image" -> c.setImage(string(p));
          case "restartPolicy" -> c.setRestartPolicy(string(p));
          case "ports" -> c.setPorts(containerPorts(p, ctxt));
          case "resources" -> c.setResources(resources(p, ctxt));
          default -> other(p, ctxt, Container.class, f);
        }
      }
      out.add(c);
    }
    return out;
  }

  private ResourceRequirements resources(JsonParser p, DeserializationContext ctxt) throws IOException {
    startObject(p);
    ResourceRequirements r = new ResourceRequirements();
    for (String f; (f = nextField(p)) != null; ) {
      switch (f) {
        case "requests" -> r.setRequests(quantities(p));
        case "limits" -> r.setLimits(quantities(p));
        default -> other(p, ctxt, ResourceRequirements.class, f);
      }
    }
    return r;
  }

  /** What Quantity.Deserializer makes of a string: {@code new Quantity(text)} (which may throw: then we give up). */
  private static Map<String, Quantity> quantities(JsonParser p) throws IOException {
    startObject(p);
    Map<String, Quantity> m = new LinkedHashMap<>();
    for (String f; (f = nextField(p)) != null; ) {
      m.put(f, new Quantity(string(p)));
    }
    return m;
  }

  private List<ContainerPort> containerPorts(JsonParser p, DeserializationContext ctxt) throws IOException {
    startArray(p);
    List<ContainerPort> out = new ArrayList<>();
    while (p.nextToken() != JsonToken.END_ARRAY) {
      expectStartObject(p);
      ContainerPort port = new ContainerPort();
      for (String f; (f = nextField(p)) != null; ) {
        switch (f) {
          case "name" -> port.setName(string(p));
          case "containerPort" -> port.setContainerPort(integer(p));
          case "protocol" -> port.setProtocol(string(p));
          default -> other(p, ctxt, ContainerPort.class, f);
        }
      }
      out.add(port);
    }
    return out;
  }

  private PodStatus podStatus(JsonParser p, DeserializationContext ctxt) throws IOException {
    startObject(p);
    PodStatus s = new PodStatus();
    for (String f; (f = nextField(p)) != null; ) {
      switch (f) {
        case "phase" -> s.setPhase(string(p));
        case "podIP" -> s.setPodIP(unique(p));
        case "podIPs" -> {
          startArray(p);
          List<PodIP> ips = new ArrayList<>();
          while (p.nextToken() != JsonToken.END_ARRAY) {
            expectStartObject(p);
            PodIP ip = new PodIP();
            for (String g; (g = nextField(p)) != null; ) {
              if (g.equals("ip")) {
                ip.setIp(unique(p));
              } else {
                other(p, ctxt, PodIP.class, g);
              }
            }
            ips.add(ip);
          }
          s.setPodIPs(ips);
        }
        case "hostIP" -> s.setHostIP(string(p));
        case "hostIPs" -> {
          startArray(p);
          List<HostIP> ips = new ArrayList<>();
          while (p.nextToken() != JsonToken.END_ARRAY) {
            expectStartObject(p);
            HostIP ip = new HostIP();
            for (String g; (g = nextField(p)) != null; ) {
              if (g.equals("ip")) {
                ip.setIp(string(p));
              } else {
                other(p, ctxt, HostIP.class, g);
              }
            }
            ips.add(ip);
          }
          s.setHostIPs(ips);
        }
        case "conditions" -> s.setConditions(podConditions(p, ctxt));
        default -> other(p, ctxt, PodStatus.class, f);
      }
    }
    return s;
  }

  /** Type and status are what the converter reads (and recur in every pod: one instance each); the rest as Jackson. */
  private List<PodCondition> podConditions(JsonParser p, DeserializationContext ctxt) throws IOException {
    startArray(p);
    List<PodCondition> out = new ArrayList<>();
    while (p.nextToken() != JsonToken.END_ARRAY) {
      expectStartObject(p);
      PodCondition c = new PodCondition();
      for (String f; (f = nextField(p)) != null; ) {
        switch (f) {
          case "type" -> c.setType(string(p));
          case "status" -> c.setStatus(string(p));
          default -> other(p, ctxt, PodCondition.class, f);
        }
      }
      out.add(c);
    }
    return out;
  }

  // ---- NetworkPolicy ----

  private NetworkPolicySpec policySpec(JsonParser p, DeserializationContext ctxt) throws IOException {
    startObject(p);
    NetworkPolicySpec s = new NetworkPolicySpec();
    for (String f; (f = nextField(p)) != null; ) {
      switch (f) {
        case "podSelector" -> s.setPodSelector(selector(p, ctxt));
        case "policyTypes" -> s.setPolicyTypes(stringList(p));
        case "ingress" -> {
          startArray(p);
          List<NetworkPolicyIngressRule> rules = new ArrayList<>();
          while (p.nextToken() != JsonToken.END_ARRAY) {
            expectStartObject(p);
            NetworkPolicyIngressRule r = new NetworkPolicyIngressRule();
            for (String g; (g = nextField(p)) != null; ) {
              switch (g) {
                case "from" -> r.setFrom(peers(p, ctxt));
                case "ports" -> r.setPorts(policyPorts(p, ctxt));
                default -> other(p, ctxt, NetworkPolicyIngressRule.class, g);
              }
            }
            rules.add(r);
          }
          s.setIngress(rules);
        }
        case "egress" -> {
          startArray(p);
          List<NetworkPolicyEgressRule> rules = new ArrayList<>();
          while (p.nextToken() != JsonToken.END_ARRAY) {
            expectStartObject(p);
            NetworkPolicyEgressRule r = new NetworkPolicyEgressRule();
            for (String g; (g = nextField(p)) != null; ) {
              switch (g) {
                case "to" -> r.setTo(peers(p, ctxt));
                case "ports" -> r.setPorts(policyPorts(p, ctxt));
                default -> other(p, ctxt, NetworkPolicyEgressRule.class, g);
              }
            }
            rules.add(r);
          }
          s.setEgress(rules);
        }
        default -> other(p, ctxt, NetworkPolicySpec.class, f);
      }
    }
    return s;
  }

  private List<NetworkPolicyPeer> peers(JsonParser p, DeserializationContext ctxt) throws IOException {
    startArray(p);
    List<NetworkPolicyPeer> out = new ArrayList<>();
    while (p.nextToken() != JsonToken.END_ARRAY) {
      expectStartObject(p);
      NetworkPolicyPeer peer = new NetworkPolicyPeer();
      for (String f; (f = nextField(p)) != null; ) {
        switch (f) {
          case "podSelector" -> peer.setPodSelector(selector(p, ctxt));
          case "namespaceSelector" -> peer.setNamespaceSelector(selector(p, ctxt));
          case "ipBlock" -> {
            startObject(p);
            IPBlock b = new IPBlock();
            for (String g; (g = nextField(p)) != null; ) {
              switch (g) {
                case "cidr" -> b.setCidr(string(p));
                case "except" -> b.setExcept(stringList(p));
                default -> other(p, ctxt, IPBlock.class, g);
              }
            }
            peer.setIpBlock(b);
          }
          default -> other(p, ctxt, NetworkPolicyPeer.class, f);
        }
      }
      out.add(peer);
    }
    return out;
  }

  private List<NetworkPolicyPort> policyPorts(JsonParser p, DeserializationContext ctxt) throws IOException {
    startArray(p);
    List<NetworkPolicyPort> out = new ArrayList<>();
    while (p.nextToken() != JsonToken.END_ARRAY) {
      expectStartObject(p);
      NetworkPolicyPort port = new NetworkPolicyPort();
      for (String f; (f = nextField(p)) != null; ) {
        switch (f) {
          case "protocol" -> port.setProtocol(string(p));
          case "endPort" -> port.setEndPort(integer(p));
          case "port" -> {
            JsonToken t = p.nextToken();
            if (t == JsonToken.VALUE_STRING) {
              port.setPort(new IntOrString(p.getText()));
            } else if (t == JsonToken.VALUE_NUMBER_INT && p.getNumberType() == JsonParser.NumberType.INT) {
              port.setPort(new IntOrString(p.getIntValue()));
            } else {
              throw BAIL;
            }
          }
          default -> other(p, ctxt, NetworkPolicyPort.class, f);
        }
      }
      out.add(port);
    }
    return out;
  }

  private LabelSelector selector(JsonParser p, DeserializationContext ctxt) throws IOException {
    startObject(p);
    LabelSelector s = new LabelSelector();
    for (String f; (f = nextField(p)) != null; ) {
      switch (f) {
        case "matchLabels" -> s.setMatchLabels(stringMap(p));
        case "matchExpressions" -> {
          startArray(p);
          List<LabelSelectorRequirement> reqs = new ArrayList<>();
          while (p.nextToken() != JsonToken.END_ARRAY) {
            expectStartObject(p);
            LabelSelectorRequirement r = new LabelSelectorRequirement();
            for (String g; (g = nextField(p)) != null; ) {
              switch (g) {
                case "key" -> r.setKey(string(p));
                case "operator" -> r.setOperator(string(p));
                case "values" -> r.setValues(stringList(p));
                default -> other(p, ctxt, LabelSelectorRequirement.class, g);
              }
            }
            reqs.add(r);
          }
          s.setMatchExpressions(reqs);
        }
        default -> other(p, ctxt, LabelSelector.class, f);
      }
    }
    return s;
  }

  // ---- tokens ----

  /**
   * A field this path does not build: Jackson's own deserializer for that property reads (and checks) it, or, where
   * fabric8 has no such property, it is skipped as Jackson would (the any-setter takes any value). The value is
   * dropped, so every field the converter reads must be built above.
   */
  private void other(JsonParser p, DeserializationContext ctxt, Class<?> type, String field) throws IOException {
    BeanDeserializerBase bean = beans.get(type);
    if (bean == null) {
      JsonDeserializer<Object> d = ctxt.findRootValueDeserializer(ctxt.constructType(type));
      if (!(d instanceof BeanDeserializerBase b)) {
        throw BAIL;
      }
      bean = b;
      beans.put(type, bean);
    }
    JsonToken t = p.nextToken();
    SettableBeanProperty prop = bean.findProperty(field);
    if (prop == null) {
      if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
        p.skipChildren();
      }
      return;
    }
    prop.deserialize(p, ctxt);
  }

  /** The next field's name, or null at the end of the object. */
  private static String nextField(JsonParser p) throws IOException {
    JsonToken t = p.nextToken();
    if (t == JsonToken.FIELD_NAME) {
      return p.currentName();
    }
    if (t == JsonToken.END_OBJECT) {
      return null;
    }
    throw BAIL;
  }

  private static String field(JsonParser p) throws IOException {
    String f = nextField(p);
    if (f == null) {
      throw BAIL;
    }
    return f;
  }

  private static void startObject(JsonParser p) throws IOException {
    if (p.nextToken() != JsonToken.START_OBJECT) {
      throw BAIL;
    }
  }

  private static void expectStartObject(JsonParser p) {
    if (p.currentToken() != JsonToken.START_OBJECT) {
      throw BAIL;
    }
  }

  private static void startArray(JsonParser p) throws IOException {
    if (p.nextToken() != JsonToken.START_ARRAY) {
      throw BAIL;
    }
  }

  /** A string value that many objects are likely to share (labels, namespaces, protocols): one instance for all. */
  private static String string(JsonParser p) throws IOException {
    return STRINGS.canonical(unique(p));
  }

  /** A string value that is usually unique to its object (names, addresses): not worth a table slot. */
  private static String unique(JsonParser p) throws IOException {
    if (p.nextToken() != JsonToken.VALUE_STRING) {
      throw BAIL;
    }
    return p.getText();
  }

  private static Integer integer(JsonParser p) throws IOException {
    if (p.nextToken() != JsonToken.VALUE_NUMBER_INT || p.getNumberType() != JsonParser.NumberType.INT) {
      throw BAIL;
    }
    return p.getIntValue();
  }

  private static Boolean bool(JsonParser p) throws IOException {
    JsonToken t = p.nextToken();
    if (t == JsonToken.VALUE_TRUE) {
      return Boolean.TRUE;
    }
    if (t == JsonToken.VALUE_FALSE) {
      return Boolean.FALSE;
    }
    throw BAIL;
  }

  private static Map<String, String> stringMap(JsonParser p) throws IOException {
    startObject(p);
    Map<String, String> m = new LinkedHashMap<>();
    for (String f; (f = nextField(p)) != null; ) {
      m.put(STRINGS.canonical(f), string(p));
    }
    return m;
  }

  private static List<String> stringList(JsonParser p) throws IOException {
    startArray(p);
    List<String> out = new ArrayList<>();
    for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
      if (t != JsonToken.VALUE_STRING) {
        throw BAIL;
      }
      out.add(STRINGS.canonical(p.getText()));
    }
    return out;
  }
}
