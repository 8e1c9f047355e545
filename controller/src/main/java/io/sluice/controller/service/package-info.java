/**
 * The controller's part in Services: refusing clients of a Service that has no usable endpoint. The renderer sends
 * their first packets through a per-switch meter to the controller ({@code CONTROLLER} action, cookie category
 * SERVICE); {@link io.sluice.controller.service.RejectResponder} answers each with a TCP RST or an ICMP/ICMPv6 port
 * unreachable, sent back out of the port the packet came in on. No Service semantics live here: which packets come
 * is the renderer's choice.
 */
package io.sluice.controller.service;
