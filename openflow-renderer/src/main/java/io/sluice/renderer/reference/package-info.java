/**
 * The reference evaluator of Kubernetes NetworkPolicy ({@link io.sluice.renderer.reference.ReferenceEvaluator}):
 * given a snapshot, may a new connection from A to B on a protocol and port pass, and why
 * ({@link io.sluice.renderer.reference.Verdict}). It is the oracle the compiler is tested against and what
 * {@code sluice explain} prints, so it is written straight from the API's rules and shares no code with the compiler
 * (nor any flow type). Pure: no I/O, no state.
 *
 * <p>Services: {@link io.sluice.renderer.reference.ServiceResolver} reads which endpoints a connection to a Service
 * port may be translated to, as kube-proxy does (see its documentation), and
 * {@link io.sluice.renderer.reference.ServiceVerdict} judges a new connection to a virtual address and port: no usable
 * endpoint, the client is refused; otherwise, for each endpoint, the NetworkPolicy verdict on the translated
 * connection, from the client to the endpoint's address and target port (upstream judges the endpoint pod's ingress
 * and the client's egress toward the endpoint, never toward the virtual address). Which endpoint a connection gets is
 * the data plane's choice, so the reference gives one verdict per endpoint. Session affinity, traffic policies Local,
 * NodePorts and masquerade are not modelled: they choose among endpoints or change the client's address, and their
 * tests check the compiled tables directly.
 *
 * <p>The rules, as the API documents them and the upstream e2e tests expect:
 * <ul>
 *   <li>A connection passes if the source's egress side and the destination's ingress side both allow it. A side
 *       allows it if the pod is not isolated in that direction, or if some rule of some policy isolating it allows
 *       it (rules add up; there is no deny).</li>
 *   <li>A policy isolates the pods its podSelector selects in its own namespace (the empty selector: all of them),
 *       for each direction in its policyTypes, and only for those: an Egress-only policy leaves ingress open and its
 *       ingress rules count for nothing.</li>
 *   <li>A rule allows the connection if one of its peers matches the other end (no peers: any end, inside or outside
 *       the cluster) and one of its ports matches (no ports: every port and protocol).</li>
 *   <li>Peers: podSelector alone means pods of the policy's namespace; namespaceSelector alone, all pods of the
 *       namespaces it selects; both in one peer, pods matching both (AND), whereas two peers are alternatives (OR).
 *       ipBlock: addresses in cidr but in no except, IPv4 or IPv6.</li>
 *   <li>Ports: the protocol must be the same; a number, a range number..endPort, or a name. A name is looked up in the
 *       container ports of the destination (for ingress the selected pod, for egress the peer) with the same
 *       protocol, so one named port may mean different numbers on different pods.</li>
 *   <li>A pod's traffic to itself is never governed.</li>
 * </ul>
 *
 * <p>Sluice's choices where the API leaves room:
 * <ul>
 *   <li>ipBlock matches any address in cidr minus except, pod addresses included (upstream leaves ipBlock for pod
 *       IPs to the implementation).</li>
 *   <li>hostNetwork pods are never isolated, and as the other end they are their node's address: only ipBlocks (or a
 *       rule with no peers) match them, never pod or namespace selectors, and named ports never match on them.</li>
 *   <li>A named port on an address outside the cluster matches nothing.</li>
 *   <li>An address that belongs to a pod (not hostNetwork) is that pod; an address that belongs to several is an
 *       error. An address of hostNetwork pods only stays an address.</li>
 *   <li>Each connection has one address family: that of an address given for either end, otherwise that of the
 *       source pod's primary (first) IP. A pod is then represented by its first IP of that family; a pod with none
 *       is an error, as is a pod with no IP at all (it can neither send nor receive).</li>
 *   <li>A pod's namespace that the snapshot lacks reads as the API server would create it: no annotations and only
 *       the {@code kubernetes.io/metadata.name} label. Existing namespaces are read as the model holds them.</li>
 *   <li>IP literals are read like the API server's legacy parser (IPv4 octets may have leading zeros, read as
 *       decimal; CIDR host bits are ignored). A cidr or except that does not parse makes its ipBlock match nothing,
 *       so a bad block never opens traffic.</li>
 *   <li>With {@code legacyIsolation}, a namespace annotated {@code net.beta.kubernetes.io/network-policy:
 *       {"ingress": {"isolation": "DefaultDeny"}}} makes its pods ingress-isolated (in addition to any policy); a
 *       value that is not JSON, or any other isolation value, isolates nothing.</li>
 *   <li>A policy marked {@code allowOnly} (an {@code extensions/v1beta1} policy, Kubernetes 1.3–1.6) isolates
 *       nothing by itself: its rules allow traffic only to pods isolated otherwise (the annotation, or a v1 policy),
 *       so without the annotation it has no effect, as that API's documentation states.</li>
 * </ul>
 */
package io.sluice.renderer.reference;
