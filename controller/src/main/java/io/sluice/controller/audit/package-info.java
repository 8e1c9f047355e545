/**
 * The audit log: new connections that NetworkPolicy denied (isolation) or that a logged policy's rule allowed, as
 * the switches report them in PACKET_INs (metered on the switch, so logging never slows or changes a verdict). Each
 * is named with pods and policies, merged with its repeats within a second, written as one JSON line to a rotated
 * file ({@code --audit-log}) and kept in a bounded recent window ({@code /api/v1/audit}).
 */
package io.sluice.controller.audit;
