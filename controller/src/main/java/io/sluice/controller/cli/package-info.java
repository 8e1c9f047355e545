/**
 * The {@code sluice} command line (picocli): {@code run} the controller; {@code compile} a manifest directory to
 * flows; {@code explain} and {@code test} connections against the reference evaluator; {@code trace} a connection
 * through the flows installed on the switch ({@code ovs-appctl ofproto/trace}, read by {@link
 * io.sluice.controller.cli.OfprotoTrace}), each flow named by its cookie, next to the reference evaluator's verdict
 * that the running controller gives on {@code /api/v1/trace}.
 */
package io.sluice.controller.cli;
