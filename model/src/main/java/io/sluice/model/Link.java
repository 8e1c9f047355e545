package io.sluice.model;

import java.util.Objects;

/**
 * A link between two switch ports (found by LLDP, or declared): undirected, its ends in order ({@link #a} the lower),
 * so the same link has one value whichever way it was seen.
 */
public record Link(End a, End b) {
  /** One end of a link: a switch (datapath id) and its OpenFlow port number. */
  public record End(long dpid, long port) implements Comparable<End> {
    @Override
    public int compareTo(End o) {
      int c = Long.compareUnsigned(dpid, o.dpid);
      return c != 0 ? c : Long.compareUnsigned(port, o.port);
    }

    @Override
    public String toString() {
      return String.format("%016x/%d", dpid, port);
    }
  }

  public Link {
    Objects.requireNonNull(a, "a");
    Objects.requireNonNull(b, "b");
    if (a.compareTo(b) > 0) {
      End t = a;
      a = b;
      b = t;
    }
    if (a.equals(b)) {
      throw new IllegalArgumentException("a link joins two different ports, not " + a + " to itself");
    }
  }

  public static Link of(long dpidA, long portA, long dpidB, long portB) {
    return new Link(new End(dpidA, portA), new End(dpidB, portB));
  }

  /** The end on switch {@code dpid} (the first, for a link between two ports of one switch), or null. */
  public End on(long dpid) {
    return a.dpid() == dpid ? a : b.dpid() == dpid ? b : null;
  }

  /** The other end from {@code end}. */
  public End other(End end) {
    return end.equals(a) ? b : a;
  }

  @Override
  public String toString() {
    return a + " <-> " + b;
  }
}
