package io.sluice.renderer.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.model.ClusterModel;
import io.sluice.model.EndpointSlice;
import io.sluice.model.ModelEvent;
import io.sluice.model.ObjectRef;
import io.sluice.model.PortRef;
import io.sluice.model.Protocol;
import io.sluice.model.Service;
import io.sluice.model.Snapshot;
import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.Group;
import io.sluice.renderer.pipeline.PipelineProfile;
import io.sluice.renderer.reference.ServiceResolver;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The compiled Service tables against the reference reading of Service translation, on random Services and slices:
 * for every Service port and virtual address, the group its flow applies DNATs to exactly the backends the reference
 * names (and a port without backends has no flow).
 */
class ServiceAgreementTest {
  private static final Protocol[] PROTOCOLS = Protocol.values();

  @Test
  void groupsHoldExactlyTheReferenceBackends() {
    for (int seed = 0; seed < 300; seed++) {
      check(seed);
    }
  }

  private static void check(int seed) {
    java.util.Random r = new java.util.Random(seed);
    List<ModelEvent> ev = new ArrayList<>();
    int services = 1 + r.nextInt(4);
    for (int s = 0; s < services; s++) {
      List<Service.Port> ports = new ArrayList<>();
      int n = 1 + r.nextInt(3);
      for (int p = 0; p < n; p++) {
        ports.add(new Service.Port(n == 1 ? "" : "p" + p, PROTOCOLS[r.nextInt(PROTOCOLS.length)], 80 + r.nextInt(3),
            PortRef.of(8000 + p), 0));
      }
      ports = dedupe(ports);
      List<String> vips = switch (r.nextInt(4)) {
        case 0 -> List.of("10.96.0." + (s + 1));
        case 1 -> List.of("fd00:96::" + (s + 1));
        case 2 -> List.of("10.96.0." + (s + 1), "fd00:96::" + (s + 1));
        default -> List.of("None");
      };
      ev.add(new ModelEvent.ServiceUpserted(new Service(new ObjectRef("ns", "s" + s), Service.Type.CLUSTER_IP, vips, ports,
          Map.of("app", "s" + s), Service.SessionAffinity.NONE, 0)));
      int slices = r.nextInt(3);
      for (int k = 0; k < slices; k++) {
        boolean v6 = r.nextBoolean();
        List<EndpointSlice.Port> sp = new ArrayList<>();
        for (Service.Port p : ports) {
          if (r.nextInt(4) > 0) {
            sp.add(new EndpointSlice.Port(p.name(), r.nextInt(6) == 0 ? PROTOCOLS[r.nextInt(PROTOCOLS.length)] : p.protocol(),
                OptionalInt.of(9000 + r.nextInt(3))));
          }
        }
        List<EndpointSlice.Endpoint> eps = new ArrayList<>();
        int m = r.nextInt(5);
        for (int e = 0; e < m; e++) {
          String a = v6 ? "fd00::" + (1 + r.nextInt(6)) : "10.0.0." + (1 + r.nextInt(6));
          boolean ready = r.nextInt(3) > 0;
          eps.add(new EndpointSlice.Endpoint(List.of(a), ready, ready || r.nextBoolean(), !ready && r.nextBoolean(),
              Optional.empty(), "n"));
        }
        ev.add(new ModelEvent.EndpointSliceUpserted(new EndpointSlice(new ObjectRef("ns", "s" + s + "-" + k), "s" + s,
            v6 ? EndpointSlice.AddressType.IPV6 : EndpointSlice.AddressType.IPV4, eps, dedupeSlicePorts(sp))));
      }
    }
    Snapshot snap = new ClusterModel(1).apply(ev);
    ServiceTables t = ServiceTables.of(PipelineProfile.ovs(), snap, 1);
    Map<Long, Group> groups = new java.util.HashMap<>();
    t.groups().forEach(g -> groups.put(g.id(), g));
    int checked = 0;
    for (Service s : snap.services().values()) {
      for (String vip : s.clusterIPs()) {
        if (vip.equals("None")) {
          continue;
        }
        for (Service.Port p : s.ports()) {
          Set<String> expected = new TreeSet<>();
          ServiceResolver.byVirtualAddress(snap, vip, p.protocol(), p.port()).orElseThrow().backends()
              .forEach(b -> expected.add(b.toString()));
          Set<String> compiled = new TreeSet<>();
          for (Flow f : t.flows()) {
            if (f.table() == PipelineProfile.SERVICE_LB && f.toString().contains("_dst=" + vip + ",tp_dst=" + p.port() + " ")
                && f.match().get(io.sluice.renderer.flow.Field.IP_PROTO).longValue() == proto(p.protocol())) {
              if (!(f.actions().get(0) instanceof Action.Group ga)) {
                assertThat(f.actions()).as("seed " + seed + ": a port without backends is refused")
                    .contains(new Action.Controller(ServiceTables.REJECT_MAX_LEN));
                continue;
              }
              Group g = groups.get(ga.groupId());
              for (Group.Bucket b : g.buckets()) {
                Action.Nat nat = ((Action.Ct) b.actions().get(b.actions().size() - 1)).nat();
                compiled.add(new ServiceResolver.Backend(nat.minAddr(), nat.minPort(), Optional.empty()).toString());
              }
            }
          }
          assertThat(compiled).as("seed " + seed + ": " + s.ref() + " " + vip + " " + p).isEqualTo(expected);
        }
      }
    }
  }

  private static int proto(Protocol p) {
    return switch (p) {
      case TCP -> 6;
      case UDP -> 17;
      case SCTP -> 132;
    };
  }

  /** Kubernetes refuses two ports with the same number and protocol, or the same name. */
  private static List<Service.Port> dedupe(List<Service.Port> ports) {
    List<Service.Port> out = new ArrayList<>();
    for (Service.Port p : ports) {
      if (out.stream().noneMatch(q -> q.port() == p.port() && q.protocol() == p.protocol())) {
        out.add(p);
      }
    }
    return out;
  }

  private static List<EndpointSlice.Port> dedupeSlicePorts(List<EndpointSlice.Port> ports) {
    List<EndpointSlice.Port> out = new ArrayList<>();
    for (EndpointSlice.Port p : ports) {
      if (out.stream().noneMatch(q -> q.name().equals(p.name()))) {
        out.add(p);
      }
    }
    return out;
  }
}
