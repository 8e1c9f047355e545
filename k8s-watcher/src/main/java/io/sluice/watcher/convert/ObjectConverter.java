package io.sluice.watcher.convert;

import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.networking.v1.IPBlock;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.sluice.model.EndpointSlice;
import io.sluice.model.IpFamily;
import io.sluice.model.LabelSelector;
import io.sluice.model.Namespace;
import io.sluice.model.NetworkPolicy;
import io.sluice.model.Node;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortRef;
import io.sluice.model.Protocol;
import io.sluice.model.Service;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.Function;

/**
 * Converts fabric8 objects into model records, shared by every source. It does what the API server does on create:
 * defaulting ({@code kubernetes.io/metadata.name} on namespaces, NetworkPolicy {@code policyTypes}, port protocol
 * TCP, service type/targetPort/sessionAffinity/traffic policies), then validation with the API server's rules, field
 * paths and messages. Status fields (pod addresses and conditions, load-balancer ingress, node addresses) are read
 * and checked as a status update would check them: without a cluster, the manifest is the whole truth. An object with
 * any error yields no record. Stateless and thread-safe.
 */
public final class ObjectConverter {
  /** The namespace objects without {@code metadata.namespace} land in, as with {@code kubectl apply}. */
  public static final String DEFAULT_NAMESPACE = "default";
  public static final String NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";
  public static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";

  private static final List<String> PROTOCOLS = List.of("TCP", "UDP", "SCTP");
  private static final List<String> POLICY_TYPES = List.of("Ingress", "Egress");
  private static final List<String> TRAFFIC_POLICIES = List.of("Cluster", "Local");
  private static final List<String> IP_FAMILIES = List.of("IPv4", "IPv6");
  private static final int DEFAULT_CLIENT_IP_TIMEOUT = 10800;

  public Converted convert(HasMetadata object) {
    if (object instanceof io.fabric8.kubernetes.api.model.Namespace n) {
      return namespace(n);
    } else if (object instanceof io.fabric8.kubernetes.api.model.Pod p) {
      return pod(p);
    } else if (object instanceof io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy p) {
      return networkPolicy(p);
    } else if (object instanceof io.fabric8.kubernetes.api.model.Service s) {
      return service(s);
    } else if (object instanceof io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice s) {
      return endpointSlice(s);
    } else if (object instanceof io.fabric8.kubernetes.api.model.Node n) {
      return node(n);
    }
    throw new IllegalArgumentException("Sluice does not read " + object.getKind() + " objects");
  }

  /** The key an object would have (namespace defaulted), or null without a name. */
  public static ObjectKey keyOf(ObjectKind kind, String namespace, String name) {
    if (name == null || name.isEmpty()) {
      return null;
    }
    String ns = !kind.namespaced() ? "" : namespace == null || namespace.isEmpty() ? DEFAULT_NAMESPACE : namespace;
    return new ObjectKey(kind, new ObjectRef(ns, name));
  }

  // ---- Namespace ----

  public Converted namespace(io.fabric8.kubernetes.api.model.Namespace ns) {
    List<FieldError> errs = new ArrayList<>();
    ObjectKey key = meta(ObjectKind.NAMESPACE, ns.getMetadata(), Rules::dns1123Label, errs);
    if (!errs.isEmpty()) {
      return new Converted(key, null, errs);
    }
    Map<String, String> labels = new HashMap<>(labels(ns.getMetadata()));
    labels.put(NAMESPACE_NAME_LABEL, key.ref().name());
    Map<String, String> annotations = new HashMap<>();
    if (ns.getMetadata().getAnnotations() != null) {
      ns.getMetadata().getAnnotations().forEach((k, v) -> annotations.put(k, v == null ? "" : v));
    }
    return done(key, errs, () -> new Namespace(key.ref().name(), labels, annotations));
  }

  // ---- Pod ----

  public Converted pod(io.fabric8.kubernetes.api.model.Pod pod) {
    List<FieldError> errs = new ArrayList<>();
    ObjectKey key = meta(ObjectKind.POD, pod.getMetadata(), Rules::dns1123Subdomain, errs);
    List<Pod.NamedPort> ports = new ArrayList<>();
    boolean hostNetwork = false;
    String nodeName = "";
    if (pod.getSpec() != null) {
      hostNetwork = Boolean.TRUE.equals(pod.getSpec().getHostNetwork());
      containerPorts(pod.getSpec().getContainers(), "spec.containers", false, ports, errs);
      containerPorts(pod.getSpec().getInitContainers(), "spec.initContainers", true, ports, errs);
      if (pod.getSpec().getNodeName() != null && !pod.getSpec().getNodeName().isEmpty()) {
        nodeName = pod.getSpec().getNodeName();
        for (String m : Rules.dns1123Subdomain(nodeName)) {
          errs.add(FieldError.invalid("spec.nodeName", nodeName, m));
        }
      }
    }
    List<String> ips = new ArrayList<>();
    List<String> hostIps = new ArrayList<>();
    String phase = "";
    Boolean readyCondition = null;
    if (pod.getStatus() != null) {
      PodStatus status = pod.getStatus();
      addresses(nonNull(status.getPodIPs()).stream().map(a -> a == null ? null : a.getIp()).toList(),
          status.getPodIP(), "status.podIPs", "status.podIP", ips, errs);
      addresses(nonNull(status.getHostIPs()).stream().map(a -> a == null ? null : a.getIp()).toList(),
          status.getHostIP(), "status.hostIPs", "status.hostIP", hostIps, errs);
      phase = status.getPhase() == null ? "" : status.getPhase();
      for (PodCondition c : nonNull(status.getConditions())) {
        if (c != null && "Ready".equals(c.getType())) {
          readyCondition = "True".equals(c.getStatus());
          break;
        }
      }
    }
    boolean terminal = phase.equals("Succeeded") || phase.equals("Failed");
    // A pod's Ready condition decides. A manifest without one (no kubelet ever reported on the pod) describes a
    // running pod when its phase is Running or not given: ready, as the model's default pod is.
    boolean ready = readyCondition != null ? readyCondition : !terminal && (phase.isEmpty() || phase.equals("Running"));
    String deleted = pod.getMetadata() == null ? null : pod.getMetadata().getDeletionTimestamp();
    boolean terminating = deleted != null && !deleted.isEmpty();
    boolean host = hostNetwork;
    String node = nodeName;
    return done(key, errs, () -> new Pod(key.ref(), labels(pod.getMetadata()), ips, ports, host, hostIps, node, ready,
        terminating, terminal));
  }

  /**
   * A pod's address list (status.podIPs / hostIPs) and its single-address field (podIP / hostIP): each address must
   * be an IP, the single one is the list's first, and stands for the list when the list is empty.
   */
  private static void addresses(List<String> list, String single, String listField, String singleField,
                                List<String> out, List<FieldError> errs) {
    for (int i = 0; i < list.size(); i++) {
      String ip = list.get(i) == null ? "" : list.get(i);
      Rules.ip(ip, listField + "[" + i + "].ip", errs);
      out.add(ip);
    }
    if (single != null && !single.isEmpty()) {
      Rules.ip(single, singleField, errs);
      if (out.isEmpty()) {
        out.add(single);
      } else if (!out.get(0).equals(single)) {
        errs.add(FieldError.invalid(listField + "[0].ip", out.get(0), "must match " + singleField));
      }
    }
  }

  private static void containerPorts(List<io.fabric8.kubernetes.api.model.Container> containers, String path,
                                     boolean onlySidecars, List<Pod.NamedPort> out, List<FieldError> errs) {
    containers = nonNull(containers);
    for (int c = 0; c < containers.size(); c++) {
      io.fabric8.kubernetes.api.model.Container container = containers.get(c);
      // Init containers serve ports only as sidecars (restartPolicy: Always).
      if (container == null || onlySidecars && !"Always".equals(container.getRestartPolicy())) {
        continue;
      }
      List<ContainerPort> ports = nonNull(container.getPorts());
      for (int p = 0; p < ports.size(); p++) {
        ContainerPort port = ports.get(p);
        String pp = path + "[" + c + "].ports[" + p + "]";
        if (port == null) {
          continue;
        }
        Integer number = port.getContainerPort();
        if (number == null || !Rules.validPortNumber(number)) {
          errs.add(FieldError.invalid(pp + ".containerPort", number == null ? 0 : number, Rules.PORT_RANGE_MSG));
        }
        String protocol = protocol(port.getProtocol(), pp + ".protocol", errs);
        String name = port.getName();
        if (name != null && !name.isEmpty()) {
          for (String m : Rules.portName(name)) {
            errs.add(FieldError.invalid(pp + ".name", name, m));
          }
          if (number != null && Rules.validPortNumber(number) && protocol != null) {
            out.add(new Pod.NamedPort(name, number, protocol));
          }
        }
      }
    }
  }

  // ---- NetworkPolicy ----

  public Converted networkPolicy(io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy np) {
    List<FieldError> errs = new ArrayList<>();
    ObjectKey key = meta(ObjectKind.NETWORK_POLICY, np.getMetadata(), Rules::dns1123Subdomain, errs);
    var spec = np.getSpec() != null ? np.getSpec()
        : new io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicySpec();
    LabelSelector podSelector = selector(spec.getPodSelector(), "spec.podSelector", errs);
    List<NetworkPolicy.Rule> ingress = new ArrayList<>();
    List<NetworkPolicyIngressRule> in = nonNull(spec.getIngress());
    for (int i = 0; i < in.size(); i++) {
      NetworkPolicyIngressRule r = in.get(i) != null ? in.get(i) : new NetworkPolicyIngressRule();
      String path = "spec.ingress[" + i + "]";
      List<NetworkPolicy.Port> ports = policyPorts(r.getPorts(), path + ".ports", errs);
      List<NetworkPolicy.Peer> peers = peers(r.getFrom(), path + ".from", errs);
      ingress.add(new NetworkPolicy.Rule(peers, ports));
    }
    List<NetworkPolicy.Rule> egress = new ArrayList<>();
    List<NetworkPolicyEgressRule> out = nonNull(spec.getEgress());
    for (int i = 0; i < out.size(); i++) {
      NetworkPolicyEgressRule r = out.get(i) != null ? out.get(i) : new NetworkPolicyEgressRule();
      String path = "spec.egress[" + i + "]";
      List<NetworkPolicy.Port> ports = policyPorts(r.getPorts(), path + ".ports", errs);
      List<NetworkPolicy.Peer> peers = peers(r.getTo(), path + ".to", errs);
      egress.add(new NetworkPolicy.Rule(peers, ports));
    }
    Set<NetworkPolicy.PolicyType> types = EnumSet.noneOf(NetworkPolicy.PolicyType.class);
    List<String> given = nonNull(spec.getPolicyTypes());
    if (given.isEmpty()) {
      // SetDefaults_NetworkPolicySpec: Ingress always, Egress when there are egress rules.
      types.add(NetworkPolicy.PolicyType.INGRESS);
      if (!out.isEmpty()) {
        types.add(NetworkPolicy.PolicyType.EGRESS);
      }
    } else if (given.size() > POLICY_TYPES.size()) {
      errs.add(new FieldError("spec.policyTypes", FieldError.Type.INVALID, goSlice("networking.PolicyType", given),
          "may not specify more than two policyTypes"));
    } else {
      for (int i = 0; i < given.size(); i++) {
        String t = given.get(i) == null ? "" : given.get(i);
        switch (t) {
          case "Ingress" -> types.add(NetworkPolicy.PolicyType.INGRESS);
          case "Egress" -> types.add(NetworkPolicy.PolicyType.EGRESS);
          default -> errs.add(FieldError.notSupported("spec.policyTypes[" + i + "]", t, POLICY_TYPES));
        }
      }
    }
    var meta = np.getMetadata();
    boolean log = meta != null && meta.getAnnotations() != null
        && "true".equals(meta.getAnnotations().get(NetworkPolicy.LOG_ANNOTATION));
    return done(key, errs, () -> new NetworkPolicy(key.ref(), podSelector, types, ingress, egress).withLog(log));
  }

  private static List<NetworkPolicy.Port> policyPorts(List<NetworkPolicyPort> ports, String path,
                                                      List<FieldError> errs) {
    List<NetworkPolicy.Port> out = new ArrayList<>();
    ports = nonNull(ports);
    for (int i = 0; i < ports.size(); i++) {
      NetworkPolicyPort p = ports.get(i) != null ? ports.get(i) : new NetworkPolicyPort();
      String pp = path + "[" + i + "]";
      int before = errs.size();
      String protocol = protocol(p.getProtocol(), pp + ".protocol", errs);
      IntOrString port = p.getPort();
      Integer endPort = p.getEndPort();
      Optional<PortRef> ref = Optional.empty();
      if (port != null && port.getValue() != null) {
        if (port.getIntVal() != null) {
          int n = port.getIntVal();
          if (!Rules.validPortNumber(n)) {
            errs.add(FieldError.invalid(pp + ".port", n, Rules.PORT_RANGE_MSG));
          }
          if (endPort != null) {
            if (endPort < n) {
              // Sic: the API server reports the port's value under endPort.
              errs.add(FieldError.invalid(pp + ".endPort", n, "must be greater than or equal to `port`"));
            }
            if (!Rules.validPortNumber(endPort)) {
              errs.add(FieldError.invalid(pp + ".endPort", endPort, Rules.PORT_RANGE_MSG));
            }
          }
          ref = Rules.validPortNumber(n) ? Optional.of(PortRef.of(n)) : Optional.empty();
        } else {
          String name = port.getStrVal();
          if (endPort != null) {
            errs.add(FieldError.invalid(pp + ".endPort", endPort, "may not be specified when `port` is non-numeric"));
          }
          for (String m : Rules.portName(name)) {
            errs.add(FieldError.invalid(pp + ".port", name, m));
          }
          ref = name.isEmpty() ? Optional.empty() : Optional.of(PortRef.of(name));
        }
      } else if (endPort != null) {
        errs.add(FieldError.invalid(pp + ".endPort", endPort, "may not be specified when `port` is not specified"));
      }
      if (errs.size() == before) {
        out.add(new NetworkPolicy.Port(Protocol.valueOf(protocol), ref,
            endPort == null ? OptionalInt.empty() : OptionalInt.of(endPort)));
      }
    }
    return out;
  }

  private static List<NetworkPolicy.Peer> peers(List<NetworkPolicyPeer> peers, String path, List<FieldError> errs) {
    List<NetworkPolicy.Peer> out = new ArrayList<>();
    peers = nonNull(peers);
    for (int i = 0; i < peers.size(); i++) {
      NetworkPolicyPeer p = peers.get(i) != null ? peers.get(i) : new NetworkPolicyPeer();
      String pp = path + "[" + i + "]";
      int before = errs.size();
      int count = 0;
      LabelSelector pods = null;
      LabelSelector namespaces = null;
      if (p.getPodSelector() != null) {
        count++;
        pods = selector(p.getPodSelector(), pp + ".podSelector", errs);
      }
      if (p.getNamespaceSelector() != null) {
        count++;
        namespaces = selector(p.getNamespaceSelector(), pp + ".namespaceSelector", errs);
      }
      IPBlock block = p.getIpBlock();
      if (block != null) {
        count++;
        ipBlock(block, pp + ".ipBlock", errs);
      }
      if (count == 0) {
        errs.add(FieldError.required(pp, "must specify a peer"));
      } else if (count > 1 && block != null) {
        errs.add(FieldError.forbidden(pp, "may not specify both ipBlock and another peer"));
      } else if (errs.size() > before) {
        continue;
      } else if (block != null) {
        out.add(new NetworkPolicy.Peer.IpBlock(block.getCidr(), nonNull(block.getExcept())));
      } else if (pods != null || namespaces != null) {
        out.add(new NetworkPolicy.Peer.Pods(Optional.ofNullable(namespaces),
            pods != null ? pods : LabelSelector.EVERYTHING));
      }
    }
    return out;
  }

  private static void ipBlock(IPBlock block, String path, List<FieldError> errs) {
    String cidr = block.getCidr();
    if (cidr == null || cidr.isEmpty()) {
      errs.add(FieldError.required(path + ".cidr", ""));
      return;
    }
    Ip.Cidr net = Ip.parseCidr(cidr);
    if (net == null) {
      errs.add(FieldError.invalid(path + ".cidr", cidr, Rules.CIDR_MSG));
      return;
    }
    List<String> except = nonNull(block.getExcept());
    for (int i = 0; i < except.size(); i++) {
      String e = except.get(i) == null ? "" : except.get(i);
      String ep = path + ".except[" + i + "]";
      Ip.Cidr ex = Ip.parseCidr(e);
      if (ex == null) {
        errs.add(FieldError.invalid(ep, e, Rules.CIDR_MSG));
      } else if (!net.contains(ex.network()) || net.prefix() >= ex.prefix()) {
        errs.add(FieldError.invalid(ep, e, "must be a strict subset of `cidr`"));
      }
    }
  }

  /** ValidateLabelSelector, then the model's selector. A null selector selects everything. */
  static LabelSelector selector(io.fabric8.kubernetes.api.model.LabelSelector s, String path, List<FieldError> errs) {
    if (s == null) {
      return LabelSelector.EVERYTHING;
    }
    int before = errs.size();
    Map<String, String> matchLabels = new LinkedHashMap<>();
    if (s.getMatchLabels() != null) {
      s.getMatchLabels().forEach((k, v) -> matchLabels.put(k, v == null ? "" : v));
    }
    Rules.labels(matchLabels, path + ".matchLabels", errs);
    List<LabelSelector.Requirement> reqs = new ArrayList<>();
    List<LabelSelectorRequirement> exprs = nonNull(s.getMatchExpressions());
    for (int i = 0; i < exprs.size(); i++) {
      LabelSelectorRequirement r = exprs.get(i) != null ? exprs.get(i) : new LabelSelectorRequirement();
      String rp = path + ".matchExpressions[" + i + "]";
      List<String> values = nonNull(r.getValues());
      String op = r.getOperator() == null ? "" : r.getOperator();
      LabelSelector.Operator operator = null;
      switch (op) {
        case "In", "NotIn" -> {
          operator = op.equals("In") ? LabelSelector.Operator.IN : LabelSelector.Operator.NOT_IN;
          if (values.isEmpty()) {
            errs.add(FieldError.required(rp + ".values", "must be specified when `operator` is 'In' or 'NotIn'"));
          }
        }
        case "Exists", "DoesNotExist" -> {
          operator = op.equals("Exists") ? LabelSelector.Operator.EXISTS : LabelSelector.Operator.DOES_NOT_EXIST;
          if (!values.isEmpty()) {
            errs.add(FieldError.forbidden(rp + ".values",
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
          }
        }
        default -> errs.add(FieldError.invalid(rp + ".operator", op, "not a valid selector operator"));
      }
      String key = r.getKey() == null ? "" : r.getKey();
      for (String m : Rules.qualifiedName(key)) {
        errs.add(FieldError.invalid(rp + ".key", key, m));
      }
      for (int v = 0; v < values.size(); v++) {
        String value = values.get(v) == null ? "" : values.get(v);
        for (String m : Rules.labelValue(value)) {
          errs.add(FieldError.invalid(rp + ".values[" + v + "]", value, m));
        }
      }
      if (errs.size() == before) {
        reqs.add(new LabelSelector.Requirement(key, operator, values));
      }
    }
    return errs.size() == before ? new LabelSelector(matchLabels, reqs) : LabelSelector.EVERYTHING;
  }

  // ---- Service ----

  public Converted service(io.fabric8.kubernetes.api.model.Service svc) {
    List<FieldError> errs = new ArrayList<>();
    ObjectKey key = meta(ObjectKind.SERVICE, svc.getMetadata(), Rules::dns1035Label, errs);
    var spec = svc.getSpec() != null ? svc.getSpec() : new io.fabric8.kubernetes.api.model.ServiceSpec();
    Service.Type type = switch (spec.getType() == null ? "" : spec.getType()) {
      case "", "ClusterIP" -> Service.Type.CLUSTER_IP;
      case "NodePort" -> Service.Type.NODE_PORT;
      case "LoadBalancer" -> Service.Type.LOAD_BALANCER;
      case "ExternalName" -> Service.Type.EXTERNAL_NAME;
      default -> {
        errs.add(FieldError.notSupported("spec.type", spec.getType(),
            List.of("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")));
        yield Service.Type.CLUSTER_IP;
      }
    };
    Service.SessionAffinity affinity = switch (spec.getSessionAffinity() == null ? "" : spec.getSessionAffinity()) {
      case "", "None" -> Service.SessionAffinity.NONE;
      case "ClientIP" -> Service.SessionAffinity.CLIENT_IP;
      default -> {
        errs.add(FieldError.notSupported("spec.sessionAffinity", spec.getSessionAffinity(), List.of("ClientIP", "None")));
        yield Service.SessionAffinity.NONE;
      }
    };
    int timeout = 0;
    if (affinity == Service.SessionAffinity.CLIENT_IP) {
      timeout = DEFAULT_CLIENT_IP_TIMEOUT;
      if (spec.getSessionAffinityConfig() != null && spec.getSessionAffinityConfig().getClientIP() != null
          && spec.getSessionAffinityConfig().getClientIP().getTimeoutSeconds() != null) {
        timeout = spec.getSessionAffinityConfig().getClientIP().getTimeoutSeconds();
        if (timeout <= 0 || timeout > 86400) {
          errs.add(FieldError.invalid("spec.sessionAffinityConfig.clientIP.timeoutSeconds", timeout,
              "must be greater than 0 and less than 86400"));
        }
      }
    }
    List<String> clusterIps = new ArrayList<>(nonNull(spec.getClusterIPs()));
    if (clusterIps.isEmpty() && spec.getClusterIP() != null && !spec.getClusterIP().isEmpty()) {
      clusterIps.add(spec.getClusterIP());
    }
    int beforeClusterIps = errs.size();
    for (int i = 0; i < clusterIps.size(); i++) {
      String ip = clusterIps.get(i) == null ? "" : clusterIps.get(i);
      if (!(i == 0 && ip.equals("None") && clusterIps.size() == 1)) {
        Rules.ip(ip, "spec.clusterIPs[" + i + "]", errs);
      }
    }
    boolean clusterIpsValid = errs.size() == beforeClusterIps;
    List<Service.Port> ports = new ArrayList<>();
    List<ServicePort> given = nonNull(spec.getPorts());
    for (int i = 0; i < given.size(); i++) {
      ServicePort p = given.get(i) != null ? given.get(i) : new ServicePort();
      String pp = "spec.ports[" + i + "]";
      int before = errs.size();
      String name = p.getName() == null ? "" : p.getName();
      if (name.isEmpty()) {
        if (given.size() > 1) {
          errs.add(FieldError.required(pp + ".name", ""));
        }
      } else {
        for (String m : Rules.dns1123Label(name)) {
          errs.add(FieldError.invalid(pp + ".name", name, m));
        }
      }
      String protocol = protocol(p.getProtocol(), pp + ".protocol", errs);
      int port = p.getPort() == null ? 0 : p.getPort();
      if (!Rules.validPortNumber(port)) {
        errs.add(FieldError.invalid(pp + ".port", port, Rules.PORT_RANGE_MSG));
      }
      PortRef target = Rules.validPortNumber(port) ? PortRef.of(port) : null;
      IntOrString tp = p.getTargetPort();
      if (tp != null && tp.getValue() != null) {
        if (tp.getIntVal() != null) {
          if (tp.getIntVal() != 0) {
            if (!Rules.validPortNumber(tp.getIntVal())) {
              errs.add(FieldError.invalid(pp + ".targetPort", tp.getIntVal(), Rules.PORT_RANGE_MSG));
            } else {
              target = PortRef.of(tp.getIntVal());
            }
          }
        } else if (!tp.getStrVal().isEmpty()) {
          for (String m : Rules.portName(tp.getStrVal())) {
            errs.add(FieldError.invalid(pp + ".targetPort", tp.getStrVal(), m));
          }
          target = PortRef.of(tp.getStrVal());
        }
      }
      int nodePort = p.getNodePort() == null ? 0 : p.getNodePort();
      if (nodePort != 0 && !Rules.validPortNumber(nodePort)) {
        errs.add(FieldError.invalid(pp + ".nodePort", nodePort, Rules.PORT_RANGE_MSG));
      }
      if (errs.size() == before) {
        ports.add(new Service.Port(name, Protocol.valueOf(protocol), port, target, nodePort));
      }
    }
    Map<String, String> selector = new HashMap<>();
    if (spec.getSelector() != null) {
      spec.getSelector().forEach((k, v) -> selector.put(k, v == null ? "" : v));
    }
    Rules.labels(selector, "spec.selector", errs);
    List<IpFamily> families = ipFamilies(spec.getIpFamilies(), type, clusterIps, clusterIpsValid, errs);
    List<String> externalIps = new ArrayList<>();
    List<String> givenExternal = nonNull(spec.getExternalIPs());
    for (int i = 0; i < givenExternal.size(); i++) {
      String ip = givenExternal.get(i) == null ? "" : givenExternal.get(i);
      String path = "spec.externalIPs[" + i + "]";
      int before = errs.size();
      Rules.ip(ip, path, errs);
      if (errs.size() == before) {
        Rules.nonSpecialIp(ip, path, errs);
      }
      externalIps.add(ip);
    }
    // apiservice.ExternallyAccessible: only these may (and, after defaulting, do) have an external traffic policy.
    boolean externallyAccessible = type == Service.Type.LOAD_BALANCER || type == Service.Type.NODE_PORT
        || type == Service.Type.CLUSTER_IP && !externalIps.isEmpty();
    String etp = spec.getExternalTrafficPolicy() == null ? "" : spec.getExternalTrafficPolicy();
    Service.TrafficPolicy external = Service.TrafficPolicy.CLUSTER;
    if (!externallyAccessible) {
      if (!etp.isEmpty()) {
        errs.add(FieldError.invalid("spec.externalTrafficPolicy", etp, "may only be set for externally-accessible services"));
      }
    } else if (etp.equals("Local")) {
      external = Service.TrafficPolicy.LOCAL;
    } else if (!etp.isEmpty() && !etp.equals("Cluster")) {
      errs.add(FieldError.notSupported("spec.externalTrafficPolicy", etp, TRAFFIC_POLICIES));
    }
    int healthCheck = spec.getHealthCheckNodePort() == null ? 0 : spec.getHealthCheckNodePort();
    if (!(type == Service.Type.LOAD_BALANCER && external == Service.TrafficPolicy.LOCAL)) {
      if (healthCheck != 0) {
        errs.add(FieldError.invalid("spec.healthCheckNodePort", healthCheck,
            "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
      }
    } else if (healthCheck != 0 && !Rules.validPortNumber(healthCheck)) {
      // 0 stays 0: the API server would allocate a port here, and without a cluster there is none to allocate.
      errs.add(FieldError.invalid("spec.healthCheckNodePort", healthCheck, Rules.PORT_RANGE_MSG));
    }
    Service.TrafficPolicy internal = Service.TrafficPolicy.CLUSTER;
    String itp = spec.getInternalTrafficPolicy();
    if ("Local".equals(itp)) {
      internal = Service.TrafficPolicy.LOCAL;
    } else if (itp != null && !itp.equals("Cluster")) {
      errs.add(FieldError.notSupported("spec.internalTrafficPolicy", itp, TRAFFIC_POLICIES));
    }
    boolean publishNotReady = Boolean.TRUE.equals(spec.getPublishNotReadyAddresses());
    List<String> ingressIps = new ArrayList<>();
    List<LoadBalancerIngress> ingress = svc.getStatus() == null || svc.getStatus().getLoadBalancer() == null
        ? List.of() : nonNull(svc.getStatus().getLoadBalancer().getIngress());
    if (!ingress.isEmpty() && type != Service.Type.LOAD_BALANCER) {
      errs.add(FieldError.forbidden("status.loadBalancer.ingress", "may only be used when `spec.type` is 'LoadBalancer'"));
    } else {
      for (int i = 0; i < ingress.size(); i++) {
        String ip = ingress.get(i) == null ? null : ingress.get(i).getIp();
        if (ip != null && !ip.isEmpty()) {
          Rules.ip(ip, "status.loadBalancer.ingress[" + i + "].ip", errs);
          ingressIps.add(ip);
        }
      }
    }
    int t = timeout;
    Service.TrafficPolicy etpValue = external;
    Service.TrafficPolicy itpValue = internal;
    int hc = healthCheck;
    return done(key, errs, () -> new Service(key.ref(), type, clusterIps, ports, selector, affinity, t, externalIps,
        ingressIps, etpValue, itpValue, families, publishNotReady, hc));
  }

  /**
   * spec.ipFamilies (ValidateServiceClusterIPsRelatedFields): IPv4 or IPv6, no duplicates, none on ExternalName
   * services; at most one cluster IP per family, and each cluster IP of the family its index in ipFamilies names.
   */
  private static List<IpFamily> ipFamilies(List<String> given, Service.Type type, List<String> clusterIps,
                                           boolean clusterIpsValid, List<FieldError> errs) {
    given = nonNull(given);
    if (type == Service.Type.EXTERNAL_NAME) {
      if (!given.isEmpty()) {
        errs.add(FieldError.forbidden("spec.ipFamilies", "may not be set for ExternalName services"));
      }
      return List.of();
    }
    List<IpFamily> out = new ArrayList<>();
    Set<String> seen = new java.util.HashSet<>();
    for (int i = 0; i < given.size(); i++) {
      String f = given.get(i) == null ? "" : given.get(i);
      switch (f) {
        case "IPv4" -> out.add(IpFamily.IPV4);
        case "IPv6" -> out.add(IpFamily.IPV6);
        default -> errs.add(FieldError.notSupported("spec.ipFamilies[" + i + "]", f, IP_FAMILIES));
      }
      if (!seen.add(f)) {
        errs.add(FieldError.duplicate("spec.ipFamilies[" + i + "]", f));
      }
    }
    boolean headless = clusterIps.size() == 1 && "None".equals(clusterIps.get(0));
    if (!clusterIpsValid || headless) {
      return out;
    }
    if (clusterIps.size() > 2) {
      errs.add(new FieldError("spec.clusterIPs", FieldError.Type.INVALID, goSlice("string", clusterIps),
          "may only hold up to 2 values"));
    } else if (clusterIps.size() == 2 && IpFamily.of(clusterIps.get(0)) == IpFamily.of(clusterIps.get(1))) {
      errs.add(new FieldError("spec.clusterIPs", FieldError.Type.INVALID, goSlice("string", clusterIps),
          "may specify no more than one IP for each IP family"));
    }
    for (int i = 0; i < Math.min(clusterIps.size(), given.size()); i++) {
      IpFamily actual = IpFamily.of(clusterIps.get(i));
      if (given.get(i) != null && (given.get(i).equals("IPv4") || given.get(i).equals("IPv6"))
          && !given.get(i).equals(actual.kubernetesName())) {
        errs.add(FieldError.invalid("spec.clusterIPs[" + i + "]", clusterIps.get(i), "expected an "
            + given.get(i) + " value as indicated by `ipFamilies[" + i + "]`"));
      }
    }
    return out;
  }

  // ---- Node ----

  /**
   * A Node: name, labels and the InternalIP entries of status.addresses. The API server does not check addresses;
   * Sluice does for InternalIP ones, because Services use them as IP addresses.
   */
  public Converted node(io.fabric8.kubernetes.api.model.Node node) {
    List<FieldError> errs = new ArrayList<>();
    ObjectKey key = meta(ObjectKind.NODE, node.getMetadata(), Rules::dns1123Subdomain, errs);
    List<String> internal = new ArrayList<>();
    if (node.getStatus() != null) {
      List<NodeAddress> addresses = nonNull(node.getStatus().getAddresses());
      for (int i = 0; i < addresses.size(); i++) {
        NodeAddress a = addresses.get(i);
        if (a != null && "InternalIP".equals(a.getType())) {
          String ip = a.getAddress() == null ? "" : a.getAddress();
          Rules.ip(ip, "status.addresses[" + i + "].address", errs);
          if (!internal.contains(ip)) {
            internal.add(ip);
          }
        }
      }
    }
    java.util.Set<Long> dpids = datapathIds(node.getMetadata(), errs);
    Node.Attachment attachment = attachment(node.getMetadata(), errs);
    return done(key, errs, () -> new Node(key.ref().name(), labels(node.getMetadata()), internal, dpids, attachment));
  }

  /**
   * The switch port a Node sits behind ({@value Node#ATTACHMENT_ANNOTATION}): {@code "<datapath id>/<port>"}, the
   * datapath id as in {@value Node#DATAPATH_IDS_ANNOTATION}, the port a decimal OpenFlow port number. A malformed
   * value refuses the Node, naming the annotation.
   */
  private static Node.Attachment attachment(ObjectMeta meta, List<FieldError> errs) {
    String text = meta == null || meta.getAnnotations() == null ? null
        : meta.getAnnotations().get(Node.ATTACHMENT_ANNOTATION);
    if (text == null || text.isBlank()) {
      return null;
    }
    String field = "metadata.annotations[" + Node.ATTACHMENT_ANNOTATION + "]";
    int slash = text.lastIndexOf('/');
    List<FieldError> own = new ArrayList<>();
    java.util.Set<Long> dpid = slash <= 0 ? java.util.Set.of() : parseDatapathIds(text.substring(0, slash), field, own);
    try {
      if (slash <= 0 || !own.isEmpty() || dpid.size() != 1) {
        throw new IllegalArgumentException();
      }
      return new Node.Attachment(dpid.iterator().next(), Long.parseLong(text.substring(slash + 1).trim()));
    } catch (IllegalArgumentException e) {
      errs.add(FieldError.invalid(field, text, "must be <datapath id>/<port>: one datapath id, hex with 0x (e.g. "
          + "0x00005c0000000001) or decimal, and an OpenFlow port number 1-65279 (e.g. 0x00005c0000000001/7)"));
      return null;
    }
  }

  /**
   * The switches a Node names as its datapath ({@value Node#DATAPATH_IDS_ANNOTATION}): datapath ids separated by
   * commas, each hex with {@code 0x} (as {@code ovs-vsctl get Bridge BR datapath_id} prints it, with or without the
   * quotes removed) or decimal. A malformed entry refuses the Node, naming the annotation.
   */
  private static java.util.Set<Long> datapathIds(ObjectMeta meta, List<FieldError> errs) {
    String text = meta == null || meta.getAnnotations() == null ? null
        : meta.getAnnotations().get(Node.DATAPATH_IDS_ANNOTATION);
    if (text == null || text.isBlank()) {
      return new java.util.TreeSet<>();
    }
    return parseDatapathIds(text, "metadata.annotations[" + Node.DATAPATH_IDS_ANNOTATION + "]", errs);
  }

  private static java.util.Set<Long> parseDatapathIds(String text, String field, List<FieldError> errs) {
    java.util.Set<Long> out = new java.util.TreeSet<>();
    for (String part : text.split(",")) {
      String t = part.trim().replace("\"", "");
      try {
        if (t.startsWith("0x") || t.startsWith("0X")) {
          out.add(Long.parseUnsignedLong(t.substring(2), 16));
        } else if (t.length() == 16 && t.chars().allMatch(c -> Character.digit(c, 16) >= 0)
            && !t.chars().allMatch(Character::isDigit)) {
          out.add(Long.parseUnsignedLong(t, 16)); // OVSDB's datapath_id column: 16 hex digits
        } else {
          out.add(Long.parseUnsignedLong(t));
        }
      } catch (NumberFormatException e) {
        errs.add(FieldError.invalid(field, text, "each comma-separated entry must be a datapath id, hex with 0x "
            + "(e.g. 0x00005c0000000001) or decimal"));
        return out;
      }
    }
    return out;
  }

  // ---- EndpointSlice ----

  public Converted endpointSlice(io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice slice) {
    List<FieldError> errs = new ArrayList<>();
    ObjectKey key = meta(ObjectKind.ENDPOINT_SLICE, slice.getMetadata(), Rules::dns1123Subdomain, errs);
    String at = slice.getAddressType() == null ? "" : slice.getAddressType();
    EndpointSlice.AddressType type = switch (at) {
      case "IPv4" -> EndpointSlice.AddressType.IPV4;
      case "IPv6" -> EndpointSlice.AddressType.IPV6;
      case "FQDN" -> EndpointSlice.AddressType.FQDN;
      default -> {
        if (at.isEmpty()) {
          errs.add(FieldError.required("addressType", ""));
        } else {
          errs.add(FieldError.notSupported("addressType", at, List.of("FQDN", "IPv4", "IPv6")));
        }
        yield null;
      }
    };
    List<EndpointSlice.Endpoint> endpoints = new ArrayList<>();
    var given = nonNull(slice.getEndpoints());
    for (int i = 0; i < given.size(); i++) {
      var e = given.get(i) != null ? given.get(i) : new io.fabric8.kubernetes.api.model.discovery.v1.Endpoint();
      String ep = "endpoints[" + i + "]";
      List<String> addresses = nonNull(e.getAddresses());
      if (addresses.isEmpty()) {
        errs.add(FieldError.required(ep + ".addresses", "must contain at least 1 address"));
      }
      for (int a = 0; a < addresses.size(); a++) {
        String addr = addresses.get(a) == null ? "" : addresses.get(a);
        byte[] ip = Ip.parse(addr);
        String ap = ep + ".addresses[" + a + "]";
        if (type == EndpointSlice.AddressType.IPV4 && (ip == null || ip.length != 4)) {
          errs.add(FieldError.invalid(ap, addr, "must be a valid IPv4 address"));
        } else if (type == EndpointSlice.AddressType.IPV6 && (ip == null || ip.length != 16)) {
          errs.add(FieldError.invalid(ap, addr, "must be a valid IPv6 address"));
        } else if (type == EndpointSlice.AddressType.FQDN) {
          for (String m : Rules.dns1123Subdomain(addr)) {
            errs.add(FieldError.invalid(ap, addr, m));
          }
        }
      }
      EndpointConditions c = e.getConditions();
      boolean ready = c == null || c.getReady() == null || c.getReady();
      boolean serving = c == null || c.getServing() == null ? ready : c.getServing();
      boolean terminating = c != null && Boolean.TRUE.equals(c.getTerminating());
      Optional<ObjectRef> target = Optional.empty();
      if (e.getTargetRef() != null && "Pod".equals(e.getTargetRef().getKind()) && e.getTargetRef().getName() != null
          && !e.getTargetRef().getName().isEmpty()) {
        String ns = e.getTargetRef().getNamespace();
        target = Optional.of(new ObjectRef(ns == null || ns.isEmpty() ? key == null ? DEFAULT_NAMESPACE
            : key.ref().namespace() : ns, e.getTargetRef().getName()));
      }
      if (!addresses.isEmpty()) {
        endpoints.add(new EndpointSlice.Endpoint(addresses, ready, serving, terminating, target,
            e.getNodeName() == null ? "" : e.getNodeName()));
      }
    }
    List<EndpointSlice.Port> ports = new ArrayList<>();
    List<EndpointPort> givenPorts = nonNull(slice.getPorts());
    for (int i = 0; i < givenPorts.size(); i++) {
      EndpointPort p = givenPorts.get(i) != null ? givenPorts.get(i) : new EndpointPort();
      String pp = "ports[" + i + "]";
      int before = errs.size();
      String name = p.getName() == null ? "" : p.getName();
      if (!name.isEmpty()) {
        for (String m : Rules.dns1123Label(name)) {
          errs.add(FieldError.invalid(pp + ".name", name, m));
        }
      }
      String protocol = protocol(p.getProtocol(), pp + ".protocol", errs);
      if (p.getPort() != null && !Rules.validPortNumber(p.getPort())) {
        errs.add(FieldError.invalid(pp + ".port", p.getPort(), Rules.PORT_RANGE_MSG));
      }
      if (errs.size() == before) {
        ports.add(new EndpointSlice.Port(name, Protocol.valueOf(protocol),
            p.getPort() == null ? OptionalInt.empty() : OptionalInt.of(p.getPort())));
      }
    }
    String service = labels(slice.getMetadata()).getOrDefault(SERVICE_NAME_LABEL, "");
    return done(key, errs, () -> new EndpointSlice(key.ref(), service, type, endpoints, ports));
  }

  // ---- shared ----

  /** ValidateObjectMeta for a create: name present and well-formed, namespace well-formed, labels. */
  private static ObjectKey meta(ObjectKind kind, ObjectMeta meta, Function<String, List<String>> nameRule,
                                List<FieldError> errs) {
    if (meta == null) {
      meta = new ObjectMeta();
    }
    String name = meta.getName();
    if (name == null || name.isEmpty()) {
      errs.add(FieldError.required("metadata.name", "name or generateName is required"));
    } else {
      for (String m : nameRule.apply(name)) {
        errs.add(FieldError.invalid("metadata.name", name, m));
      }
    }
    String ns = meta.getNamespace();
    if (kind.namespaced() && ns != null && !ns.isEmpty()) {
      for (String m : Rules.dns1123Label(ns)) {
        errs.add(FieldError.invalid("metadata.namespace", ns, m));
      }
    } else if (!kind.namespaced() && ns != null && !ns.isEmpty()) {
      errs.add(FieldError.forbidden("metadata.namespace", "not allowed on this type"));
    }
    Rules.labels(meta.getLabels(), "metadata.labels", errs);
    return keyOf(kind, ns, name);
  }

  private static Map<String, String> labels(ObjectMeta meta) {
    if (meta == null || meta.getLabels() == null) {
      return Map.of();
    }
    Map<String, String> out = new HashMap<>();
    meta.getLabels().forEach((k, v) -> out.put(k, v == null ? "" : v));
    return out;
  }

  /** The protocol, defaulted to TCP; null (and an error) if unsupported. */
  private static String protocol(String protocol, String path, List<FieldError> errs) {
    if (protocol == null) {
      return "TCP";
    }
    if (!PROTOCOLS.contains(protocol)) {
      errs.add(FieldError.notSupported(path, protocol, PROTOCOLS));
      return null;
    }
    return protocol;
  }

  private static Converted done(ObjectKey key, List<FieldError> errs, java.util.function.Supplier<Object> build) {
    if (!errs.isEmpty()) {
      return new Converted(key, null, errs);
    }
    try {
      return new Converted(key, build.get(), List.of());
    } catch (IllegalArgumentException | NullPointerException e) {
      // A model invariant the rules above missed: still reject the object, never half-accept it.
      return new Converted(key, null, List.of(FieldError.invalid("", String.valueOf(e.getMessage()), "rejected by the model")));
    }
  }

  private static <T> List<T> nonNull(List<T> list) {
    return list == null ? List.of() : list;
  }

  /** Go's %#v of a named string slice, e.g. []networking.PolicyType{"Ingress", "Egress"}. */
  private static String goSlice(String type, List<String> values) {
    StringBuilder b = new StringBuilder("[]").append(type).append('{');
    for (int i = 0; i < values.size(); i++) {
      b.append(i > 0 ? ", " : "").append(FieldError.quote(values.get(i)));
    }
    return b.append('}').toString();
  }
}
