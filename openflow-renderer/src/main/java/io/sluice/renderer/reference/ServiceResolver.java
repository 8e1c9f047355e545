package io.sluice.renderer.reference;

import io.sluice.model.EndpointSlice;
import io.sluice.model.ObjectRef;
import io.sluice.model.Protocol;
import io.sluice.model.Service;
import io.sluice.model.Snapshot;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The reference reading of Service translation, as kube-proxy does it: where may a new connection to a Service go?
 * Written from the API and kube-proxy's documented behaviour, sharing nothing with the compiler, so NetworkPolicy can
 * be judged on the translated connection (the endpoint pod's address and port, as upstream requires) and the compiled
 * Service tables can be compared with it. Pure and thread-safe.
 *
 * <p>Rules: ExternalName and headless Services have no virtual address. Endpoints are read from the EndpointSlices
 * labelled {@code kubernetes.io/service-name} with the Service's name in its namespace, of the address family asked
 * for; a slice port with the Service port's name and protocol gives the target port (so a named targetPort is
 * resolved per slice); each endpoint's first address. Ready endpoints are used; when there is none, those that are
 * serving and terminating (KEP-1669); the same address and port twice count once.
 */
public final class ServiceResolver {
  private ServiceResolver() { }

  /** Where a connection may be translated to: an endpoint address and port, and the pod the slice names, if any. */
  public record Backend(String address, int port, Optional<ObjectRef> pod) {
    @Override
    public String toString() {
      return (address.indexOf(':') >= 0 ? "[" + address + "]" : address) + ":" + port + pod.map(p -> " (" + p + ")").orElse("");
    }
  }

  /** A Service port and the backends of one address family (empty: nothing to reach, the client is refused). */
  public record Resolved(Service service, Service.Port port, boolean v6, List<Backend> backends) { }

  /**
   * The Service port whose virtual address (a cluster IP, an externalIP or a LoadBalancer ingress IP) is {@code ip} and whose port and protocol are these, if any.
   */
  public static Optional<Resolved> byVirtualAddress(Snapshot snap, String ip, Protocol protocol, int port) {
    byte[] wanted = Ip.parse(ip);
    if (wanted == null) {
      return Optional.empty();
    }
    for (Service s : snap.services().values()) {
      if (!hasVirtualAddress(s)) {
        continue;
      }
      List<String> vips = new ArrayList<>(s.clusterIPs());
      vips.addAll(s.externalIPs());
      vips.addAll(s.loadBalancerIngressIPs());
      for (String vip : vips) {
        byte[] v = Ip.parse(vip);
        if (v == null || !Arrays.equals(v, wanted)) {
          continue;
        }
        for (Service.Port p : s.ports()) {
          if (p.port() == port && p.protocol() == protocol) {
            return Optional.of(new Resolved(s, p, v.length == 16, backends(snap, s, p, v.length == 16)));
          }
        }
      }
    }
    return Optional.empty();
  }

  /** A Service port reached as a NodePort on one node's address. */
  public record NodePort(Service service, Service.Port port, io.sluice.model.Node node) { }

  /**
   * The Service port whose NodePort is {@code port} on this protocol, when {@code ip} is one of a node's InternalIP
   * addresses, if any.
   */
  public static Optional<NodePort> byNodePort(Snapshot snap, String ip, Protocol protocol, int port) {
    byte[] wanted = Ip.parse(ip);
    if (wanted == null) {
      return Optional.empty();
    }
    for (io.sluice.model.Node n : snap.nodes().values()) {
      if (n.internalIPs().stream().noneMatch(x -> Arrays.equals(Ip.parse(x), wanted))) {
        continue;
      }
      for (Service s : snap.services().values()) {
        for (Service.Port p : s.ports()) {
          if (p.nodePort() == port && p.protocol() == protocol) {
            return Optional.of(new NodePort(s, p, n));
          }
        }
      }
    }
    return Optional.empty();
  }

  /**
   * A Service port by the Service's name and the port's name or number, in the given family.
   *
   * @throws IllegalArgumentException if there is no such Service or port, or the Service has no virtual address
   */
  public static Resolved byName(Snapshot snap, ObjectRef service, String port, boolean v6) {
    Service s = snap.services().get(service);
    if (s == null) {
      throw new IllegalArgumentException("no Service " + service);
    }
    if (!hasVirtualAddress(s)) {
      throw new IllegalArgumentException("Service " + service + " has no virtual address ("
          + (s.type() == Service.Type.EXTERNAL_NAME ? "ExternalName" : s.headless() ? "headless" : "no cluster IP") + ")");
    }
    for (Service.Port p : s.ports()) {
      if (p.name().equals(port) || Integer.toString(p.port()).equals(port)) {
        return new Resolved(s, p, v6, backends(snap, s, p, v6));
      }
    }
    throw new IllegalArgumentException("Service " + service + " has no port " + port);
  }

  private static boolean hasVirtualAddress(Service s) {
    return s.type() != Service.Type.EXTERNAL_NAME && !s.headless() && !s.clusterIPs().isEmpty();
  }

  private static List<Backend> backends(Snapshot snap, Service s, Service.Port sp, boolean v6) {
    List<Backend> ready = new ArrayList<>();
    List<Backend> terminating = new ArrayList<>();
    EndpointSlice.AddressType family = v6 ? EndpointSlice.AddressType.IPV6 : EndpointSlice.AddressType.IPV4;
    for (EndpointSlice slice : snap.endpointSlices().values()) {
      if (!slice.ref().namespace().equals(s.ref().namespace()) || !slice.serviceName().equals(s.ref().name())
          || slice.addressType() != family) {
        continue;
      }
      Integer target = null;
      for (EndpointSlice.Port p : slice.ports()) {
        if (p.name().equals(sp.name()) && p.protocol() == sp.protocol() && p.port().isPresent()) {
          target = p.port().getAsInt();
        }
      }
      if (target == null) {
        continue;
      }
      for (EndpointSlice.Endpoint e : slice.endpoints()) {
        byte[] a = Ip.parse(e.addresses().get(0));
        if (a == null || (a.length == 16) != v6) {
          continue;
        }
        Backend b = new Backend(e.addresses().get(0), target, e.targetPod());
        List<Backend> into = e.ready() ? ready : e.serving() && e.terminating() ? terminating : null;
        if (into != null && into.stream().noneMatch(x -> Arrays.equals(Ip.parse(x.address()), a) && x.port() == b.port())) {
          into.add(b);
        }
      }
    }
    return List.copyOf(ready.isEmpty() ? terminating : ready);
  }
}
