/**
 * The controller's part in Services: refusing clients of a Service that has no usable endpoint. The renderer sends
 * their first packets through a per-switch meter to the controller ({@code CONTROLLER} action, cookie category
 * SERVICE); {@link io.sluice.controller.service.RejectResponder} answers each with a TCP RST or an ICMP/ICMPv6 port
 * unreachable, sent back out of the port the packet came in on. It also answers load balancers' probes of a
 * {@code healthCheckNodePort} (table 10, the health cookie, meter 23553) with kube-proxy's HTTP answer, segment by
 * segment and keeping nothing ({@link io.sluice.controller.service.HealthChecks}), from the count of ready local
 * endpoints the renderer gives ({@code ServiceTables#health}). No Service semantics live here: which packets come
 * and what the count is are the renderer's.
 */
package io.sluice.controller.service;
