/**
 * Logging for operators under hostile input: {@link io.sluice.controller.logging.LogLimiter} keeps one line per kind
 * of event per period and counts what it suppressed, so no peer can flood the log.
 */
package io.sluice.controller.logging;
