/**
 * The pure compiler from model snapshots to per-switch flow tables ({@link io.sluice.renderer.Renderer}).
 * It owns all policy and service semantics and the pipeline profiles; it does no I/O and holds no state.
 * Flows print exactly as ovs-ofctl dump-flows does ({@link io.sluice.renderer.flow.OfctlFormat}).
 */
package io.sluice.renderer;
