/**
 * Services: kube-proxy's job as OpenFlow. {@link io.sluice.renderer.service.ServiceTables} compiles every Service of
 * a snapshot into the ServiceLB table's flows (one per virtual address and port, new connections only) and one
 * {@code select} group per Service port and address family, whose buckets rewrite the destination MAC to the
 * endpoint's and DNAT through conntrack ({@code ct(commit,nat(dst=...))}) in the switch's own zone, marking the
 * connection as translated but not yet judged by NetworkPolicy; the policy tables then judge the translated packet
 * (the endpoint pod's address and port, as upstream requires) and the commit clears the mark. Replies are un-NATed by
 * the conntrack lookup at the head of the pipeline. docs/pipeline.md describes the tables.
 *
 * <p>The result does not depend on the switch (the zone is read from the packet's {@code ct_zone}), so one
 * compile per generation serves every switch, and a Service whose inputs did not change keeps its compiled flows
 * and groups (identical objects) from one generation to the next.
 */
package io.sluice.renderer.service;
