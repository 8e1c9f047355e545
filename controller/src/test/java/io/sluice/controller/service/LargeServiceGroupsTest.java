package io.sluice.controller.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.wire.GroupCodec;
import io.sluice.model.ClusterModel;
import io.sluice.model.EndpointSlice;
import io.sluice.model.ModelEvent;
import io.sluice.model.Namespace;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.PortRef;
import io.sluice.model.Protocol;
import io.sluice.model.Service;
import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Group;
import io.sluice.renderer.pipeline.PipelineProfile;
import io.sluice.renderer.service.ServiceTables;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.projectfloodlight.openflow.protocol.OFVersion;

/**
 * The renderer splits a port's endpoints into leaves of at most 400 buckets (renderer.service's {@code Leaves}): a leaf
 * of 400 of the longest buckets it writes (IPv6 DNAT with the endpoint's MAC in the label, IPv6 affinity choices), and
 * its extra weight-1 bucket, must fit one group-mod in a bundle, so OVS can report it back.
 */
class LargeServiceGroupsTest {
  /** renderer.service's Leaves.MAX_BUCKETS. */
  private static final int MAX_BUCKETS = 400;

  static List<Group> groups(Service.SessionAffinity affinity, int n) {
    List<ModelEvent> ev = new ArrayList<>();
    ev.add(new ModelEvent.NamespaceUpserted(new Namespace("shop", Map.of(), Map.of())));
    List<EndpointSlice.Endpoint> eps = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String ip = String.format("fd00:ffff:ffff:ffff:ffff:ffff:%x:%x", 0xf000 + i, 0xffff - i);
      ObjectRef pod = new ObjectRef("shop", "p" + i);
      ev.add(new ModelEvent.PodUpserted(new Pod(pod, Map.of("app", "big"), List.of(ip), List.of(), false)));
      ev.add(new ModelEvent.PortBound(new PortBinding(pod, 1, 10 + i, String.format("fe:ff:ff:ff:%02x:%02x", i >> 8,
          i & 0xff))));
      eps.add(new EndpointSlice.Endpoint(List.of(ip), true, true, false, Optional.of(pod), "node-a"));
    }
    ev.add(new ModelEvent.ServiceUpserted(new Service(new ObjectRef("shop", "big"), Service.Type.CLUSTER_IP,
        List.of("fd00::ffff"), List.of(new Service.Port("http", Protocol.TCP, 80, PortRef.of(65535), 0)),
        Map.of("app", "big"), affinity, 0)));
    ev.add(new ModelEvent.EndpointSliceUpserted(new EndpointSlice(new ObjectRef("shop", "big-1"), "big",
        EndpointSlice.AddressType.IPV6, eps, List.of(new EndpointSlice.Port("http", Protocol.TCP, OptionalInt.of(65535))))));
    return ServiceTables.of(PipelineProfile.ovs(), new ClusterModel(1).apply(ev), 1).groups();
  }

  @Test
  void aLeafOfFourHundredOfTheLongestBucketsFitsOneMessageInEveryVersion() {
    for (Service.SessionAffinity affinity : Service.SessionAffinity.values()) {
      List<Group> groups = groups(affinity, 600);
      assertThat(groups).as("600 endpoints are split").hasSizeGreaterThan(1);
      Group leaf = groups.stream().filter(g -> !(g.buckets().get(0).actions().get(0) instanceof Action.Group))
          .findFirst().orElseThrow();
      for (OFVersion v : List.of(OFVersion.OF_13, OFVersion.OF_14, OFVersion.OF_15)) {
        Group.Bucket longest = null;
        long most = 0;
        for (Group.Bucket b : leaf.buckets()) {
          long len = GroupCodec.modLength(GroupCodec.wireGroup(new Group(leaf.id(), Group.Type.SELECT, List.of(b)), v), v);
          if (len > most) {
            most = len;
            longest = b;
          }
        }
        Group full = new Group(leaf.id(), Group.Type.SELECT, Collections.nCopies(MAX_BUCKETS + 1, longest));
        GroupCodec.wireGroup(full, v); // throws GroupTooLargeException when it does not fit
        System.out.printf("%s, affinity %s: one-bucket group-mod %d bytes, %d such buckets %d bytes%n", v, affinity, most,
            MAX_BUCKETS + 1, GroupCodec.modLength(GroupCodec.wireGroup(full, v), v));
      }
    }
  }
}
