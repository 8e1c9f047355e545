package io.sluice.controller.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.sluice.model.LabelSelector;
import io.sluice.model.NetworkPolicy;
import io.sluice.model.PortRef;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Sluice's NetworkPolicy records written back as {@code networking.k8s.io/v1} manifests, ready for kubectl apply. */
final class PolicyYaml {
  private PolicyYaml() { }

  private static final YAMLMapper YAML = new YAMLMapper(new YAMLFactory()
      .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
      // a label value "2" must stay a string (matchLabels is map[string]string): numbers as text are quoted
      .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
      .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER));

  /** The policies as one multi-document YAML text ({@code ---} between documents). */
  static String write(List<NetworkPolicy> policies) {
    StringBuilder sb = new StringBuilder();
    for (NetworkPolicy p : policies) {
      if (sb.length() > 0) {
        sb.append("---\n");
      }
      try {
        sb.append(YAML.writeValueAsString(manifest(p)));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(p.ref() + ": " + e.getMessage(), e);
      }
    }
    return sb.toString();
  }

  static Map<String, Object> manifest(NetworkPolicy p) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("apiVersion", "networking.k8s.io/v1");
    m.put("kind", "NetworkPolicy");
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("name", p.ref().name());
    meta.put("namespace", p.ref().namespace());
    m.put("metadata", meta);
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("podSelector", selector(p.podSelector()));
    List<String> types = new ArrayList<>();
    if (p.isolatesIngress()) {
      types.add("Ingress");
    }
    if (p.isolatesEgress()) {
      types.add("Egress");
    }
    spec.put("policyTypes", types);
    if (p.isolatesIngress()) {
      spec.put("ingress", rules(p.ingress(), "from"));
    }
    if (p.isolatesEgress()) {
      spec.put("egress", rules(p.egress(), "to"));
    }
    m.put("spec", spec);
    return m;
  }

  private static List<Object> rules(List<NetworkPolicy.Rule> rules, String peersField) {
    List<Object> out = new ArrayList<>();
    for (NetworkPolicy.Rule r : rules) {
      Map<String, Object> rule = new LinkedHashMap<>();
      if (!r.peers().isEmpty()) {
        List<Object> peers = new ArrayList<>();
        for (NetworkPolicy.Peer peer : r.peers()) {
          Map<String, Object> pm = new LinkedHashMap<>();
          if (peer instanceof NetworkPolicy.Peer.IpBlock b) {
            Map<String, Object> block = new LinkedHashMap<>();
            block.put("cidr", b.cidr());
            if (!b.except().isEmpty()) {
              block.put("except", b.except());
            }
            pm.put("ipBlock", block);
          } else {
            NetworkPolicy.Peer.Pods pods = (NetworkPolicy.Peer.Pods) peer;
            pods.namespaceSelector().ifPresent(ns -> pm.put("namespaceSelector", selector(ns)));
            pm.put("podSelector", selector(pods.podSelector()));
          }
          peers.add(pm);
        }
        rule.put(peersField, peers);
      }
      if (!r.ports().isEmpty()) {
        List<Object> ports = new ArrayList<>();
        for (NetworkPolicy.Port port : r.ports()) {
          Map<String, Object> pm = new LinkedHashMap<>();
          pm.put("protocol", port.protocol().name());
          port.port().ifPresent(ref -> pm.put("port", ref instanceof PortRef.Numbered n ? (Object) n.number()
              : ref.toString()));
          port.endPort().ifPresent(e -> pm.put("endPort", e));
          ports.add(pm);
        }
        rule.put("ports", ports);
      }
      out.add(rule);
    }
    return out;
  }

  private static Map<String, Object> selector(LabelSelector s) {
    Map<String, Object> m = new LinkedHashMap<>();
    if (!s.matchLabels().isEmpty()) {
      m.put("matchLabels", new TreeMap<>(s.matchLabels()));
    }
    if (!s.matchExpressions().isEmpty()) {
      List<Object> exprs = new ArrayList<>();
      for (LabelSelector.Requirement r : s.matchExpressions()) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("key", r.key());
        e.put("operator", r.operator().kubernetesName());
        if (!r.values().isEmpty()) {
          e.put("values", r.values());
        }
        exprs.add(e);
      }
      m.put("matchExpressions", exprs);
    }
    return m;
  }
}
