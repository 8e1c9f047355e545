package io.sluice.model;

/**
 * Where a pod sits: a switch port. dpid is the 64-bit datapath id.
 *
 * @param mac      the pod's MAC where OVSDB says it (attached-mac), else null
 * @param attached whether the binding comes from the pod's Node ({@link Node#attachment()}: a top-of-rack port the
 *                 whole node sits behind, with its other pods and its own addresses) rather than from OVSDB (a port
 *                 of the pod's own)
 */
public record PortBinding(ObjectRef pod, long dpid, long ofport, String mac, boolean attached) {
  /** A binding OVSDB reported: the pod's own port. */
  public PortBinding(ObjectRef pod, long dpid, long ofport, String mac) {
    this(pod, dpid, ofport, mac, false);
  }
}
