package io.sluice.renderer.reference;

import io.sluice.model.ObjectRef;
import java.util.Objects;

/** One end of a connection: a pod by name, or an IP address (outside the cluster, or a pod's, a node's). */
public sealed interface Endpoint {
  /** A pod, which must exist and have an IP when it is evaluated. */
  record PodRef(ObjectRef ref) implements Endpoint {
    public PodRef {
      Objects.requireNonNull(ref, "ref");
      if (ref.namespace().isEmpty()) {
        throw new IllegalArgumentException("pod " + ref + ": a pod needs a namespace (NS/POD)");
      }
    }

    @Override
    public String toString() {
      return ref.toString();
    }
  }

  /** An IPv4 or IPv6 address literal, without prefix or zone. A pod's address is evaluated as that pod. */
  record Address(String ip) implements Endpoint {
    public Address {
      if (Ip.parse(ip) == null) {
        throw new IllegalArgumentException("'" + ip + "' is not an IPv4 or IPv6 address");
      }
    }

    @Override
    public String toString() {
      return ip;
    }
  }

  static Endpoint pod(String namespace, String name) {
    return new PodRef(new ObjectRef(namespace, name));
  }

  static Endpoint pod(ObjectRef ref) {
    return new PodRef(ref);
  }

  static Endpoint ip(String address) {
    return new Address(address);
  }

  /** {@code NS/POD} or an IP address, as typed on a command line. */
  static Endpoint parse(String text) {
    Objects.requireNonNull(text, "text");
    int slash = text.indexOf('/');
    if (slash < 0) {
      if (Ip.parse(text) == null) {
        throw new IllegalArgumentException("'" + text + "' is neither NS/POD nor an IP address");
      }
      return new Address(text);
    }
    String namespace = text.substring(0, slash);
    String name = text.substring(slash + 1);
    if (Ip.parse(namespace) != null) {
      throw new IllegalArgumentException("'" + text + "' is a CIDR: give one address, or NS/POD");
    }
    if (namespace.isEmpty() || name.isEmpty() || name.indexOf('/') >= 0) {
      throw new IllegalArgumentException("'" + text + "' is neither NS/POD nor an IP address");
    }
    return pod(namespace, name);
  }
}
