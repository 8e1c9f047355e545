/**
 * The fabric: topology discovery and host tracking on the switches that carry the stateless pipeline. {@link
 * io.sluice.controller.fabric.FabricDiscovery} sends an authenticated LLDP frame ({@link
 * io.sluice.controller.fabric.Lldp}) out of every physical port each interval, turns the ones that come back into
 * links, and learns hosts that are not pods from the ARP and neighbour discovery copies the switches send ({@link
 * io.sluice.controller.fabric.HostPackets}). It only reports model events (LinkUp/LinkDown, HostUpserted/HostDeleted);
 * forwarding over the links is the renderer's business. It also answers the ARP requests and IPv6 neighbour
 * solicitations the switches send it instead of flooding them, for known endpoints ({@link
 * io.sluice.controller.fabric.ProxyArp}, {@link io.sluice.controller.fabric.ProxyNd}). It ends each switch's flood
 * hold-down ({@link io.sluice.controller.sync.FloodHoldDown}): probed as soon as its base flows are in, released once
 * the answers had time to come back. Every packet-in is treated as hostile: parsed with bounds
 * checks, budgeted per switch, and bounded in what it may make Sluice remember.
 */
package io.sluice.controller.fabric;
