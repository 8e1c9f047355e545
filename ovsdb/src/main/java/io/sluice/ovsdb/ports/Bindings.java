package io.sluice.ovsdb.ports;

import io.sluice.model.ObjectRef;
import io.sluice.model.PortBinding;
import io.sluice.model.SwitchPorts;
import io.sluice.ovsdb.cache.OvsRows.Bridge;
import io.sluice.ovsdb.cache.OvsRows.Interface;
import io.sluice.ovsdb.cache.OvsRows.Port;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.UUID;

/**
 * Which pod sits on which switch port, read from one server's tables: an Interface with {@code external_ids}
 * {@code pod-namespace} and {@code pod-name}, a usable ofport (not empty, not -1), in a Port of a Bridge whose
 * datapath id is known. The MAC is {@code external_ids:attached-mac}, else {@code mac_in_use}, else "".
 * Pure: no I/O, no state.
 */
public final class Bindings {
  public static final String POD_NAMESPACE = "pod-namespace";
  public static final String POD_NAME = "pod-name";
  public static final String ATTACHED_MAC = "attached-mac";

  private Bindings() {
  }

  /** Pod → binding. When two interfaces claim one pod, the lowest (dpid, ofport) wins, so the choice is stable. */
  public static Map<ObjectRef, PortBinding> compute(Map<UUID, Bridge> bridges, Map<UUID, Port> ports,
      Map<UUID, Interface> interfaces) {
    Map<ObjectRef, PortBinding> out = new HashMap<>();
    Comparator<PortBinding> order = Comparator.comparingLong(PortBinding::dpid).thenComparingLong(PortBinding::ofport);
    for (Bridge br : bridges.values()) {
      OptionalLong dpid = br.dpid();
      if (dpid.isEmpty()) {
        continue;
      }
      for (Interface i : interfacesOf(br, ports, interfaces)) {
        ObjectRef pod = i.hasOfport() ? podOf(i) : null;
        if (pod != null) {
          PortBinding b = new PortBinding(pod, dpid.getAsLong(), i.ofport().getAsLong(), macOf(i));
          out.merge(pod, b, (x, y) -> order.compare(x, y) <= 0 ? x : y);
        }
      }
    }
    return out;
  }

  /**
   * Pods whose interface exists and is labelled but is not realized yet: no ofport assigned (empty, not -1) or a
   * bridge without datapath id. Right after ovsdb-server restarts, these ephemeral columns are empty until
   * ovs-vswitchd writes them again.
   */
  public static java.util.Set<ObjectRef> unrealized(Map<UUID, Bridge> bridges, Map<UUID, Port> ports,
      Map<UUID, Interface> interfaces) {
    java.util.Set<ObjectRef> out = new java.util.HashSet<>();
    for (Bridge br : bridges.values()) {
      boolean noDpid = br.dpid().isEmpty();
      for (Interface i : interfacesOf(br, ports, interfaces)) {
        ObjectRef pod = podOf(i);
        if (pod != null && (noDpid || i.ofport().isEmpty())) {
          out.add(pod);
        }
      }
    }
    return out;
  }

  /**
   * Each bridge's ports that are not pods (uplinks, patch ports, tunnels, internal ports of the node): an interface
   * with a usable ofport and no pod labels, by datapath id. A bridge listed here is managed: Sluice closes every
   * other port of it that is not a known pod's.
   */
  public static Map<Long, SwitchPorts> openPorts(Map<UUID, Bridge> bridges, Map<UUID, Port> ports,
      Map<UUID, Interface> interfaces) {
    Map<Long, SwitchPorts> out = new HashMap<>();
    for (Bridge br : bridges.values()) {
      OptionalLong dpid = br.dpid();
      if (dpid.isEmpty()) {
        continue;
      }
      java.util.Set<Long> open = new java.util.TreeSet<>();
      for (Interface i : interfacesOf(br, ports, interfaces)) {
        // 65534 is the bridge's own internal port as OVSDB numbers it: OpenFlow calls it LOCAL, always open
        if (i.hasOfport() && podOf(i) == null && i.ofport().getAsLong() < 0xff00) {
          open.add(i.ofport().getAsLong());
        }
      }
      out.put(dpid.getAsLong(), new SwitchPorts(dpid.getAsLong(), open));
    }
    return out;
  }

  /** The interfaces of a bridge's ports that the cache holds. */
  private static java.util.List<Interface> interfacesOf(Bridge br, Map<UUID, Port> ports, Map<UUID, Interface> interfaces) {
    java.util.List<Interface> out = new java.util.ArrayList<>();
    for (UUID pu : br.ports()) {
      Port p = ports.get(pu);
      if (p != null) {
        for (UUID iu : p.interfaces()) {
          Interface i = interfaces.get(iu);
          if (i != null) {
            out.add(i);
          }
        }
      }
    }
    return out;
  }

  /** The pod an interface is labelled with, or null. */
  static ObjectRef podOf(Interface i) {
    String ns = i.externalIds().getOrDefault(POD_NAMESPACE, "");
    String name = i.externalIds().getOrDefault(POD_NAME, "");
    if (ns.isEmpty() || name.isEmpty()) {
      return null;
    }
    return new ObjectRef(ns, name);
  }

  static String macOf(Interface i) {
    String attached = i.externalIds().getOrDefault(ATTACHED_MAC, "");
    return attached.isEmpty() ? i.macInUse() : attached;
  }
}
