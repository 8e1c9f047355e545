/**
 * The OpenFlow wire layer: every byte Sluice writes to a switch, and the tolerant readers of what OVS sends back.
 * Writers match OVS 3.1's own encoders byte for byte for OF1.3, OF1.4 and OF1.5 (checked against ovs-ofctl at test
 * time); readers give canonical forms that compare equal to the encoded desired ones, so sync diffs by equality.
 * <ul>
 *   <li>Flows: {@link io.sluice.controller.wire.FlowEncoder} writes OFPT_FLOW_MOD (a leading meter as the OF1.3/1.4
 *       meter instruction or the OF1.5 meter action) and the action lists group buckets reuse;
 *       {@link io.sluice.controller.wire.FlowStatsParser} reads OFPMP_FLOW replies (OpenFlowJ cannot read them from
 *       OVS); both meet in {@link io.sluice.controller.wire.WireFlow}. {@link io.sluice.controller.wire.MatchCodec}
 *       encodes and decodes the OXM/NXM match TLVs.</li>
 *   <li>Groups: {@link io.sluice.controller.wire.GroupCodec} writes OFPT_GROUP_MOD (add, modify, delete; OF1.5
 *       insert and remove bucket) and refuses a group one message cannot hold (OVS could not report it back);
 *       {@link io.sluice.controller.wire.GroupReplies} reads OFPMP_GROUP_DESC (Nicira actions and OF1.5 bucket
 *       properties included) and OFPMP_GROUP replies; both meet in {@link io.sluice.controller.wire.WireGroup}.</li>
 *   <li>Meters: {@link io.sluice.controller.wire.MeterCodec} writes OFPT_METER_MOD and reads OFPMP_METER_CONFIG;
 *       both meet in {@link io.sluice.controller.wire.WireMeter}.</li>
 *   <li>Bundles: {@link io.sluice.controller.wire.Bundles} frames bundle control and bundle-add messages (OF1.4/1.5,
 *       and the ONF extension on OF1.3) and barriers. Which messages go in which bundle, and when, is sync's.</li>
 *   <li>Conntrack: {@link io.sluice.controller.wire.Conntrack} writes OVS's NXT_CT_FLUSH (a zone's entries whose reply
 *       comes from one address, port and protocol) and NXT_CT_FLUSH_ZONE.</li>
 * </ul>
 * Everything here is stateless and knows nothing of sessions or sync.
 */
package io.sluice.controller.wire;
