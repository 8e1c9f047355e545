package io.sluice.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The current objects, changed only by {@link #apply} (one writer at a time), handed out as generation-numbered
 * immutable snapshots. Every applied batch that changes something is one new generation.
 *
 * <p>Objects are held in {@link PersistentMap}s: an event costs O(log n) and a new snapshot shares everything it did
 * not change with the previous one, so a one-pod change among 100,000 pods neither copies nor allocates per object.
 */
public final class ClusterModel {
  private PersistentMap<String, Namespace> namespaces = PersistentMap.empty();
  private PersistentMap<ObjectRef, Pod> pods = PersistentMap.empty();
  /** Where pods sit: {@link #learnt}, and pods of a node with an attachment that OVSDB does not place. */
  private PersistentMap<ObjectRef, PortBinding> bindings = PersistentMap.empty();
  /** The bindings OVSDB reported (PortBound events); they win over a node's attachment. */
  private PersistentMap<ObjectRef, PortBinding> learnt = PersistentMap.empty();
  private PersistentMap<ObjectRef, NetworkPolicy> policies = PersistentMap.empty();
  private PersistentMap<ObjectRef, Service> services = PersistentMap.empty();
  private PersistentMap<ObjectRef, EndpointSlice> slices = PersistentMap.empty();
  private PersistentMap<Long, SwitchPorts> switchPorts = PersistentMap.empty();
  private PersistentMap<String, Node> nodes = PersistentMap.empty();
  private PersistentMap<Link.End, Link> links = PersistentMap.empty();
  private PersistentMap<String, Host> hosts = PersistentMap.empty();
  private final List<Consumer<Snapshot>> listeners = new CopyOnWriteArrayList<>();
  private volatile Snapshot current;

  public ClusterModel(long firstGeneration) {
    current = next(firstGeneration);
  }

  public Snapshot snapshot() {
    return current;
  }

  public long generation() {
    return current.generation();
  }

  /** Listeners hear about each new snapshot, on the applying thread. */
  public void subscribe(Consumer<Snapshot> listener) {
    listeners.add(listener);
  }

  /** Applies a batch as one generation; returns the snapshot (unchanged if nothing changed). */
  public synchronized Snapshot apply(List<? extends ModelEvent> events) {
    if (events.size() >= BULK && namespaces.isEmpty() && pods.isEmpty() && learnt.isEmpty() && policies.isEmpty()
        && services.isEmpty() && slices.isEmpty() && switchPorts.isEmpty() && nodes.isEmpty() && links.isEmpty()
        && hosts.isEmpty() && events.stream().noneMatch(ClusterModel::topology)) {
      return applyToEmpty(events) ? publish() : current;
    }
    boolean changed = false;
    for (ModelEvent e : events) {
      changed |= applyOne(e);
    }
    return changed ? publish() : current;
  }

  private static boolean topology(ModelEvent e) {
    return e instanceof ModelEvent.LinkUp || e instanceof ModelEvent.LinkDown || e instanceof ModelEvent.HostUpserted
        || e instanceof ModelEvent.HostDeleted;
  }

  /** Batches at least this large, applied to an empty model (the first load), build each map in one go. */
  private static final int BULK = 1024;

  /**
   * {@link #apply} for a large batch on an empty model: the same events, in order, on plain maps, and then each map is
   * built bottom up ({@link PersistentMap#build}) instead of by 100,000 path copies. Same result, same "changed".
   */
  private boolean applyToEmpty(List<? extends ModelEvent> events) {
    Map<String, Namespace> ns = new LinkedHashMap<>();
    Map<ObjectRef, Pod> pd = new LinkedHashMap<>();
    Map<ObjectRef, PortBinding> bd = new LinkedHashMap<>();
    Map<ObjectRef, NetworkPolicy> np = new LinkedHashMap<>();
    Map<ObjectRef, Service> sv = new LinkedHashMap<>();
    Map<ObjectRef, EndpointSlice> sl = new LinkedHashMap<>();
    Map<Long, SwitchPorts> sp = new LinkedHashMap<>();
    Map<String, Node> nd = new LinkedHashMap<>();
    boolean changed = false;
    for (ModelEvent e : events) {
      if (e instanceof ModelEvent.NamespaceUpserted n) {
        changed |= stage(ns, n.namespace().name(), n.namespace());
      } else if (e instanceof ModelEvent.NamespaceDeleted n) {
        changed |= ns.remove(n.name()) != null;
      } else if (e instanceof ModelEvent.NodeUpserted n) {
        changed |= stage(nd, n.node().name(), n.node());
      } else if (e instanceof ModelEvent.NodeDeleted n) {
        changed |= nd.remove(n.name()) != null;
      } else if (e instanceof ModelEvent.PodUpserted p) {
        changed |= stage(pd, p.pod().ref(), p.pod());
      } else if (e instanceof ModelEvent.PodDeleted p) {
        changed |= pd.remove(p.ref()) != null;
      } else if (e instanceof ModelEvent.PortBound b) {
        changed |= stage(bd, b.binding().pod(), b.binding());
      } else if (e instanceof ModelEvent.PortUnbound u) {
        changed |= bd.remove(u.pod()) != null;
      } else if (e instanceof ModelEvent.NetworkPolicyUpserted p) {
        changed |= stage(np, p.policy().ref(), p.policy());
      } else if (e instanceof ModelEvent.NetworkPolicyDeleted p) {
        changed |= np.remove(p.ref()) != null;
      } else if (e instanceof ModelEvent.ServiceUpserted s) {
        changed |= stage(sv, s.service().ref(), s.service());
      } else if (e instanceof ModelEvent.ServiceDeleted s) {
        changed |= sv.remove(s.ref()) != null;
      } else if (e instanceof ModelEvent.EndpointSliceUpserted s) {
        changed |= stage(sl, s.slice().ref(), s.slice());
      } else if (e instanceof ModelEvent.EndpointSliceDeleted s) {
        changed |= sl.remove(s.ref()) != null;
      } else if (e instanceof ModelEvent.SwitchPortsUpserted s) {
        changed |= stage(sp, s.ports().dpid(), s.ports());
      } else if (e instanceof ModelEvent.SwitchPortsDeleted s) {
        changed |= sp.remove(s.dpid()) != null;
      } else {
        throw new IllegalArgumentException("unknown event " + e);
      }
    }
    namespaces = PersistentMap.build(ns);
    pods = PersistentMap.build(pd);
    learnt = PersistentMap.build(bd);
    Map<ObjectRef, PortBinding> all = new LinkedHashMap<>(bd);
    for (Pod p : pd.values()) {
      Node n = p.nodeName().isEmpty() ? null : nd.get(p.nodeName());
      if (n != null && n.attachment() != null && !all.containsKey(p.ref())) {
        all.put(p.ref(), attached(p.ref(), n.attachment()));
      }
    }
    bindings = all.size() == bd.size() ? learnt : PersistentMap.build(all);
    policies = PersistentMap.build(np);
    services = PersistentMap.build(sv);
    slices = PersistentMap.build(sl);
    switchPorts = PersistentMap.build(sp);
    nodes = PersistentMap.build(nd);
    return changed;
  }

  private static PortBinding attached(ObjectRef pod, Node.Attachment a) {
    return new PortBinding(pod, a.dpid(), a.port(), null, true);
  }

  /** A pod's binding: OVSDB's, else its node's attachment, else none. */
  private PortBinding effective(ObjectRef ref) {
    PortBinding b = learnt.get(ref);
    if (b != null) {
      return b;
    }
    Pod p = pods.get(ref);
    Node n = p == null || p.nodeName().isEmpty() ? null : nodes.get(p.nodeName());
    return n == null || n.attachment() == null ? null : attached(ref, n.attachment());
  }

  /** Brings the pod's entry in {@link #bindings} up to date; true if it changed. */
  private boolean rebind(ObjectRef ref) {
    PortBinding b = effective(ref);
    return bindings != (bindings = b == null ? bindings.without(ref) : upsert(bindings, ref, b));
  }

  /** After a node's attachment changed: every pod of that node rebound (a rare event; a scan of the pods). */
  private boolean rebindNode(String name) {
    boolean changed = false;
    for (Pod p : pods.values()) {
      if (name.equals(p.nodeName())) {
        changed |= rebind(p.ref());
      }
    }
    return changed;
  }

  private static Node.Attachment attachmentOf(Node n) {
    return n == null ? null : n.attachment();
  }

  /** As {@link #upsert} on a plain map: true if it changed. */
  private static <K, V> boolean stage(Map<K, V> map, K key, V value) {
    java.util.Objects.requireNonNull(key, "key");
    java.util.Objects.requireNonNull(value, "value");
    if (value.equals(map.get(key))) {
      return false;
    }
    map.put(key, value);
    return true;
  }

  /** Starts a new generation without any object changing (e.g. a forced re-render). */
  public synchronized Snapshot bump() {
    return publish();
  }

  private Snapshot publish() {
    current = next(current.generation() + 1);
    for (Consumer<Snapshot> l : listeners) {
      l.accept(current);
    }
    return current;
  }

  private Snapshot next(long generation) {
    return new Snapshot(generation, namespaces, pods, bindings, policies, services, slices, switchPorts, nodes, links,
        hosts);
  }

  private boolean applyOne(ModelEvent e) {
    if (e instanceof ModelEvent.LinkUp l) {
      return links != (links = upsert(links, l.link().a(), l.link()));
    } else if (e instanceof ModelEvent.LinkDown l) {
      return l.link().equals(links.get(l.link().a())) && links != (links = links.without(l.link().a()));
    } else if (e instanceof ModelEvent.HostUpserted h) {
      if (h.host().samePlace(hosts.get(h.host().mac()))) {
        return false; // heard again: not a new generation
      }
      return hosts != (hosts = upsert(hosts, h.host().mac(), h.host()));
    } else if (e instanceof ModelEvent.HostDeleted h) {
      return hosts != (hosts = hosts.without(h.mac()));
    } else if (e instanceof ModelEvent.NamespaceUpserted n) {
      return namespaces != (namespaces = upsert(namespaces, n.namespace().name(), n.namespace()));
    } else if (e instanceof ModelEvent.NamespaceDeleted n) {
      return namespaces != (namespaces = namespaces.without(n.name()));
    } else if (e instanceof ModelEvent.NodeUpserted n) {
      Node.Attachment before = attachmentOf(nodes.get(n.node().name()));
      boolean changed = nodes != (nodes = upsert(nodes, n.node().name(), n.node()));
      return java.util.Objects.equals(before, n.node().attachment()) ? changed : rebindNode(n.node().name()) | changed;
    } else if (e instanceof ModelEvent.NodeDeleted n) {
      Node.Attachment before = attachmentOf(nodes.get(n.name()));
      boolean changed = nodes != (nodes = nodes.without(n.name()));
      return before == null ? changed : rebindNode(n.name()) | changed;
    } else if (e instanceof ModelEvent.PodUpserted p) {
      return (pods != (pods = upsert(pods, p.pod().ref(), p.pod()))) | rebind(p.pod().ref());
    } else if (e instanceof ModelEvent.PodDeleted p) {
      return (pods != (pods = pods.without(p.ref()))) | rebind(p.ref());
    } else if (e instanceof ModelEvent.PortBound b) {
      learnt = upsert(learnt, b.binding().pod(), b.binding());
      return rebind(b.binding().pod());
    } else if (e instanceof ModelEvent.PortUnbound u) {
      learnt = learnt.without(u.pod());
      return rebind(u.pod());
    } else if (e instanceof ModelEvent.NetworkPolicyUpserted p) {
      return policies != (policies = upsert(policies, p.policy().ref(), p.policy()));
    } else if (e instanceof ModelEvent.NetworkPolicyDeleted p) {
      return policies != (policies = policies.without(p.ref()));
    } else if (e instanceof ModelEvent.ServiceUpserted s) {
      return services != (services = upsert(services, s.service().ref(), s.service()));
    } else if (e instanceof ModelEvent.ServiceDeleted s) {
      return services != (services = services.without(s.ref()));
    } else if (e instanceof ModelEvent.EndpointSliceUpserted s) {
      return slices != (slices = upsert(slices, s.slice().ref(), s.slice()));
    } else if (e instanceof ModelEvent.EndpointSliceDeleted s) {
      return slices != (slices = slices.without(s.ref()));
    } else if (e instanceof ModelEvent.SwitchPortsUpserted s) {
      return switchPorts != (switchPorts = upsert(switchPorts, s.ports().dpid(), s.ports()));
    } else if (e instanceof ModelEvent.SwitchPortsDeleted s) {
      return switchPorts != (switchPorts = switchPorts.without(s.dpid()));
    }
    throw new IllegalArgumentException("unknown event " + e);
  }

  /** The map with key → value, or the same map if an equal value is already there. */
  private static <K, V> PersistentMap<K, V> upsert(PersistentMap<K, V> map, K key, V value) {
    return value.equals(map.get(key)) ? map : map.with(key, value);
  }
}
