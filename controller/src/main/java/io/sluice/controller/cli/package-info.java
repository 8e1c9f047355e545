/**
 * The {@code sluice} command line (picocli): {@code run} the controller; {@code compile} a manifest directory to
 * flows; {@code explain} and {@code test} connections against the reference evaluator; {@code trace} a connection
 * through the flows installed on the switch ({@code ovs-appctl ofproto/trace}, read by {@link
 * io.sluice.controller.cli.OfprotoTrace}), each flow named by its cookie, next to the reference evaluator's verdict
 * that the running controller gives on {@code /api/v1/trace}; {@code advise} least-privilege policies from observed
 * connections ({@code ovs-appctl dpctl/dump-conntrack}, the audit log), and {@code explain --diff} what candidate
 * policies would change, both built in the renderer's {@code advisor} package.
 */
package io.sluice.controller.cli;
