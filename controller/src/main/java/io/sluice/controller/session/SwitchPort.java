package io.sluice.controller.session;

/** A switch port as its port description says. */
public record SwitchPort(long portNo, String name, String hwAddr, boolean up) { }
