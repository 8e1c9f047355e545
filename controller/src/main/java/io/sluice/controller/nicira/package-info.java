/**
 * The Open vSwitch (Nicira, experimenter 0x00002320) extensions that OpenFlowJ 3.6.605 lacks, as exact wire bytes:
 * the NXM/OXM headers of every renderer {@link io.sluice.renderer.flow.Field} ({@link io.sluice.controller.nicira.Nxm}),
 * raw writers for ct, nat, ct_clear, resubmit(,table), reg_load, reg_load2, reg_move, conjunction, learn and the OF1.5
 * copy_field action ({@link io.sluice.controller.nicira.NiciraActions}), and an {@code OFActionExperimenter}
 * wrapper so these bytes can travel inside OpenFlowJ messages ({@link io.sluice.controller.nicira.NiciraAction}).
 * Layouts follow OVS 3.1's lib/ofp-actions.c and lib/nx-match.c and are checked against real ovs-ofctl output.
 */
package io.sluice.controller.nicira;
