package io.sluice.renderer.service;

import io.sluice.model.EndpointSlice;
import io.sluice.model.Protocol;
import io.sluice.model.Service;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which endpoints one Service port sends new connections to, as kube-proxy chooses them from the Service's
 * EndpointSlices: the slices of the address family, the slice port with the Service port's name and protocol (its
 * number is the target port, resolved per slice), the first address of each endpoint. Ready endpoints; when none is
 * ready, the serving ones that are terminating (KEP-1669). One entry per distinct address and port.
 */
final class Endpoints {
  private Endpoints() { }

  /** One backend of a Service port: where to send, and the endpoint it came from. */
  record Backend(byte[] address, String text, int port, EndpointSlice.Endpoint endpoint) {
    String key() {
      return text + "|" + port;
    }
  }

  static List<Backend> of(Service.Port sp, boolean v6, List<EndpointSlice> slices) {
    return of(sp, v6, slices, e -> true);
  }

  /** The same among the endpoints {@code which} accepts (a node's own, for a Local traffic policy). */
  static List<Backend> of(Service.Port sp, boolean v6, List<EndpointSlice> slices,
                          java.util.function.Predicate<EndpointSlice.Endpoint> which) {
    Map<String, Backend> ready = new LinkedHashMap<>();
    Map<String, Backend> terminating = new LinkedHashMap<>();
    for (EndpointSlice s : slices) {
      if (s.addressType() != (v6 ? EndpointSlice.AddressType.IPV6 : EndpointSlice.AddressType.IPV4)) {
        continue;
      }
      int port = portOf(s, sp.name(), sp.protocol());
      if (port < 0) {
        continue;
      }
      for (EndpointSlice.Endpoint e : s.endpoints()) {
        if (!which.test(e)) {
          continue;
        }
        byte[] raw;
        try {
          raw = Addresses.parse(e.addresses().get(0));
        } catch (IllegalArgumentException bad) {
          continue; // the source validated slices; an address of another family is not this family's endpoint
        }
        if ((raw.length == 16) != v6) {
          continue;
        }
        Backend b = new Backend(raw, Addresses.text(raw), port, e);
        if (e.ready()) {
          ready.putIfAbsent(b.key(), b);
        } else if (e.serving() && e.terminating()) {
          terminating.putIfAbsent(b.key(), b);
        }
      }
    }
    List<Backend> out = new ArrayList<>((ready.isEmpty() ? terminating : ready).values());
    out.sort(ORDER);
    return out;
  }

  private static final Comparator<Backend> ORDER = (a, b) -> {
    int c = java.util.Arrays.compareUnsigned(a.address(), b.address());
    return c != 0 ? c : Integer.compare(a.port(), b.port());
  };

  /** The slice's number for a Service port (by name and protocol), or -1 when the slice does not carry it. */
  private static int portOf(EndpointSlice s, String name, Protocol protocol) {
    for (EndpointSlice.Port p : s.ports()) {
      if (p.name().equals(name) && p.protocol() == protocol && p.port().isPresent()) {
        return p.port().getAsInt();
      }
    }
    return -1;
  }
}
