package io.sluice.renderer.reference;

import io.sluice.model.Protocol;
import io.sluice.model.Snapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What becomes of a new connection from a client to a Service's virtual address and port, as kube-proxy and
 * NetworkPolicy together decide: no usable endpoint, and the client is refused; otherwise the connection is translated
 * to one of the endpoints (which one is the data plane's choice), and it passes iff NetworkPolicy allows the
 * translated connection, from the client to that endpoint's address and target port (the endpoint pod's ingress, the
 * client's egress toward the endpoint, never toward the virtual address). One {@link Translation} per endpoint.
 *
 * @param service      the Service port the virtual address and port name, with its backends
 * @param translations one per backend, in the backends' order; empty when the client is refused
 */
public record ServiceVerdict(ServiceResolver.Resolved service, List<Translation> translations) {
  public ServiceVerdict {
    Objects.requireNonNull(service, "service");
    translations = List.copyOf(translations);
    if (translations.size() != service.backends().size()) {
      throw new IllegalArgumentException("one translation per backend: " + translations.size() + " for "
          + service.backends().size());
    }
  }

  /** The connection translated to one backend, and NetworkPolicy's verdict on it. */
  public record Translation(ServiceResolver.Backend backend, Verdict verdict) {
    public Translation {
      Objects.requireNonNull(backend, "backend");
      Objects.requireNonNull(verdict, "verdict");
    }
  }

  /**
   * Judges a new connection from {@code from} to {@code virtualAddress} on {@code protocol} port {@code port}, if
   * that is a Service port's virtual address and port (otherwise empty: an ordinary connection, for
   * {@link ReferenceEvaluator#evaluate}).
   *
   * @throws EndpointException as {@link ReferenceEvaluator#evaluate} does, for the client or an endpoint
   */
  public static Optional<ServiceVerdict> of(ReferenceEvaluator evaluator, Snapshot snapshot, Endpoint from,
                                            String virtualAddress, Protocol protocol, int port) {
    Objects.requireNonNull(evaluator, "evaluator");
    Objects.requireNonNull(from, "from");
    return ServiceResolver.byVirtualAddress(snapshot, virtualAddress, protocol, port)
        .map(r -> of(evaluator, snapshot, from, r));
  }

  /** Judges a new connection from {@code from} through an already resolved Service port. */
  public static ServiceVerdict of(ReferenceEvaluator evaluator, Snapshot snapshot, Endpoint from,
                                  ServiceResolver.Resolved service) {
    List<Translation> out = new ArrayList<>(service.backends().size());
    for (ServiceResolver.Backend b : service.backends()) {
      out.add(new Translation(b, evaluator.evaluate(snapshot, from, Endpoint.ip(b.address()),
          service.port().protocol(), b.port())));
    }
    return new ServiceVerdict(service, out);
  }

  /** No ready or serving endpoint: the client is refused (a TCP RST, ICMP port unreachable otherwise). */
  public boolean refused() {
    return translations.isEmpty();
  }

  /** The translation to the backend with this address and port, if it is one. */
  public Optional<Translation> to(String address, int targetPort) {
    byte[] a = Ip.parse(address);
    return translations.stream()
        .filter(t -> t.backend().port() == targetPort && java.util.Arrays.equals(Ip.parse(t.backend().address()), a))
        .findFirst();
  }
}
