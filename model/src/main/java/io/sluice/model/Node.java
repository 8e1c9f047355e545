package io.sluice.model;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A Kubernetes node: its name, labels and the addresses of its {@code InternalIP} entries in
 * {@code status.addresses} (IPv4 or IPv6 literals, in the order given). Services need them for NodePorts and for
 * traffic a node sends to a Service on behalf of itself.
 *
 * @param datapathIds the switches (OpenFlow datapath ids) that are this node's datapath, from the Node's annotation
 *                    {@value #DATAPATH_IDS_ANNOTATION} (comma-separated, hex with {@code 0x} or decimal): a switch
 *                    listed here answers NodePorts on this node's addresses, and its "local" endpoints (traffic
 *                    policies Local) are the ones whose {@code nodeName} is this node. Empty when not annotated.
 * @param attachment  where the node attaches to a switch it does not run (a top-of-rack port), from the annotation
 *                    {@value #ATTACHMENT_ANNOTATION}: every pod whose {@code spec.nodeName} is this node sits behind
 *                    that port, with the node's own addresses. Null when not annotated.
 */
public record Node(String name, Map<String, String> labels, List<String> internalIPs, Set<Long> datapathIds,
                   Attachment attachment) {
  /** The Node annotation that names its switches' datapath ids. */
  public static final String DATAPATH_IDS_ANNOTATION = "sluice.io/datapath-ids";
  /** The Node annotation that names the switch port the node sits behind: {@code "<datapath id>/<port>"}. */
  public static final String ATTACHMENT_ANNOTATION = "sluice.io/attachment";

  /** A switch port: datapath id and OpenFlow port number (1-65279). */
  public record Attachment(long dpid, long port) {
    public Attachment {
      if (port < 1 || port >= 0xff00) {
        throw new IllegalArgumentException("port " + port + " is not a physical OpenFlow port (1-65279)");
      }
    }

    @Override
    public String toString() {
      return String.format("0x%016x/%d", dpid, port);
    }
  }

  public Node {
    Objects.requireNonNull(name, "name");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("name must not be empty");
    }
    labels = Map.copyOf(labels);
    internalIPs = List.copyOf(internalIPs);
    datapathIds = Set.copyOf(datapathIds);
  }

  /** A node that names no attachment. */
  public Node(String name, Map<String, String> labels, List<String> internalIPs, Set<Long> datapathIds) {
    this(name, labels, internalIPs, datapathIds, null);
  }

  /** A node that names no switch. */
  public Node(String name, Map<String, String> labels, List<String> internalIPs) {
    this(name, labels, internalIPs, Set.of(), null);
  }
}
