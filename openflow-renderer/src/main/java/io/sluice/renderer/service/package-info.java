/**
 * Services: kube-proxy's job as OpenFlow. {@link io.sluice.renderer.service.ServiceTables} compiles every Service of
 * a snapshot into the ServiceLB table's flows (one per virtual address and port, new connections only) and one
 * {@code select} group per Service port and address family, whose buckets rewrite the destination MAC to the
 * endpoint's and DNAT through conntrack ({@code ct(commit,nat(dst=...))}) in the switch's own zone, marking the
 * connection as translated but not yet judged by NetworkPolicy; the policy tables then judge the translated packet
 * (the endpoint pod's address and port, as upstream requires) and the commit clears the mark. Replies are un-NATed by
 * the conntrack lookup at the head of the pipeline. docs/pipeline.md describes the tables.
 *
 * <p>A port with more endpoints than one group-mod holds (over 400, {@code Leaves}) gets a group of groups: its group
 * (same id, same flows) has one bucket {@code group:<leaf>} per leaf, weighted by the leaf's endpoints, and each leaf
 * is a select group of its endpoints' buckets (the endpoints whose address and port hash to it, so one endpoint's change
 * touches its leaf and the parent's weights only), plus a weight-1 bucket that keeps OVS from choosing within the
 * leaf by the same datapath-hash bits as the parent.
 *
 * <p>{@code sessionAffinity: ClientIP}: the ServiceLB flow first looks up the flows the switch learned (table 14,
 * client + virtual address + protocol + port → the endpoint in registers), then table 15 learns (or re-learns) the
 * loaded endpoint with the Service's timeout as idle timeout and DNATs to it, or applies the group when nothing usable
 * was loaded; the group's buckets then only load their endpoint and resubmit to 15.
 *
 * <p>NodePorts and Local traffic policies differ per node: {@link io.sluice.renderer.service.ServiceTables#nodeFlows}
 * holds each node's table-11 flows (its addresses on each NodePort; Local addresses to the group of its own endpoints,
 * or dropped; with {@code externalTrafficPolicy: Cluster}, the masquerade to the node's address in tables 10 and 60;
 * a {@code healthCheckNodePort} on its addresses sent to the controller, {@code ServiceTables#health} giving the
 * answer), which the renderer adds to the switches of that node ({@code ServiceTables#nodeOf}: the Node whose
 * {@code sluice.io/datapath-ids} annotation names the switch). Everything else, groups included, does not depend on
 * the switch (the zone is read from the packet's {@code ct_zone}), so one compile per generation serves every switch, and a Service whose inputs did not change keeps its compiled flows
 * and groups (identical objects) from one generation to the next.
 */
package io.sluice.renderer.service;
