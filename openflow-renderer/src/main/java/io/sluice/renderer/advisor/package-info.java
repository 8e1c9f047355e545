/**
 * Policy analysis on the model, with the reference evaluator as judge: {@link io.sluice.renderer.advisor.Advisor}
 * proposes least-privilege NetworkPolicies from observed connections; {@link io.sluice.renderer.advisor.PolicyDiff}
 * says what a candidate set of policies would break or newly allow. Pure functions of a snapshot: no I/O.
 */
package io.sluice.renderer.advisor;
