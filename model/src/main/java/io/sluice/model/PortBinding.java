package io.sluice.model;

/** Where a pod sits: a switch port, learnt from OVSDB. dpid is the 64-bit datapath id. */
public record PortBinding(ObjectRef pod, long dpid, long ofport, String mac) { }
