/**
 * The OpenFlow wire layer for flows: {@link io.sluice.controller.wire.FlowEncoder} turns a renderer
 * {@link io.sluice.renderer.flow.Flow} into OFPT_FLOW_MOD bytes exactly as OVS 3.1's own encoder would for OF1.3,
 * OF1.4 and OF1.5 (checked against ovs-ofctl); {@link io.sluice.controller.wire.FlowStatsParser} reads OFPMP_FLOW
 * reply bodies of those versions tolerantly (OpenFlowJ cannot read them from OVS); both give the same canonical
 * {@link io.sluice.controller.wire.WireFlow} so desired and actual flows can be diffed by equality.
 * {@link io.sluice.controller.wire.MatchCodec} encodes and decodes the OXM/NXM match TLVs.
 */
package io.sluice.controller.wire;
