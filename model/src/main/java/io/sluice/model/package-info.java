/**
 * Sluice's own records (namespaces, nodes, pods, services, endpoint slices, policies, port bindings), the events
 * sources emit, and {@link io.sluice.model.ClusterModel}, which turns events into generation-numbered snapshots.
 * The contract sources implement is in {@code io.sluice.model.source}.
 * Depends on no other module; nothing here knows fabric8, OVSDB or OpenFlow.
 */
package io.sluice.model;
