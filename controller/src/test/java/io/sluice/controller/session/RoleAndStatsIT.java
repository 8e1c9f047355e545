package io.sluice.controller.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.sync.SwitchManager;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.Sh;
import io.sluice.controller.testing.TestController;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.projectfloodlight.openflow.protocol.OFControllerRole;
import org.projectfloodlight.openflow.protocol.OFGroupStatsReply;
import org.projectfloodlight.openflow.protocol.OFPortStatsEntry;
import org.projectfloodlight.openflow.protocol.OFPortStatsReply;
import org.projectfloodlight.openflow.types.OFGroup;
import org.projectfloodlight.openflow.types.OFPort;

/** Role requests with generation ids, and multipart port and group statistics, against real OVS. */
class RoleAndStatsIT {

  @ParameterizedTest
  @ValueSource(strings = {"OpenFlow13", "OpenFlow15"})
  void masterAndSlaveRolesAreGrantedAndTheSlaveDoesNotWrite(String protocol) throws Exception {
    long dpid = "OpenFlow13".equals(protocol) ? 0x71 : 0x72;
    try (Ovs ovs = new Ovs();
         TestController master = new TestController(0, Duration.ofSeconds(1), new SwitchManager.Role(OFControllerRole.ROLE_MASTER, 7), 1);
         TestController slave = new TestController(0, Duration.ofSeconds(1), new SwitchManager.Role(OFControllerRole.ROLE_SLAVE, 7), 1)) {
      String br = ovs.bridge("ro", dpid, protocol, 0);
      Sh.run("ovs-vsctl", "set-controller", br, "tcp:127.0.0.1:" + master.port(), "tcp:127.0.0.1:" + slave.port());
      master.awaitRealized(dpid, Duration.ofSeconds(15));
      slave.await(dpid, Duration.ofSeconds(15), s -> s.connected() && "SLAVE".equals(s.role()), "slave connected");
      assertThat(master.status(dpid).role()).isEqualTo("MASTER");
      assertThat(slave.status(dpid).role()).isEqualTo("SLAVE");
      assertThat(slave.manager().lastPush(dpid)).as("a slave sends no flow-mods").isNull();
      // and the switch itself holds the slave to it: a flow-mod from the slave connection is refused
      SwitchSession s = slave.manager().session(dpid);
      long xid = s.nextXid();
      var mod = s.factory().buildFlowDelete().setXid(xid).setTableId(org.projectfloodlight.openflow.types.TableId.ALL).build();
      var reply = s.request(mod);
      s.barrier().get(5, TimeUnit.SECONDS);
      assertThat(reply).isCompletedExceptionally();
      assertThat(reply.handle((r, e) -> String.valueOf(e instanceof java.util.concurrent.CompletionException ? e.getCause() : e)).get()).contains("IS_SLAVE");
      assertThat(ovs.flows(br)).hasSize(io.sluice.renderer.pipeline.PipelineProfile.ovs().baseFlows(dpid, 1).size());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"OpenFlow13", "OpenFlow14", "OpenFlow15"})
  void portAndGroupStatisticsAreRead(String protocol) throws Exception {
    long dpid = 0x73 + protocol.charAt(protocol.length() - 1) - '3';
    List<SwitchSession> sessions = new ArrayList<>();
    try (Ovs ovs = new Ovs(); TestController c = new TestController(0, Duration.ofSeconds(1))) {
      String br = ovs.bridge("st", dpid, protocol, c.port());
      ovs.host(br, "p", "10.98.0.1/24", null, null, null);
      Sh.run("ovs-ofctl", "-O", protocol, "add-group", br, "group_id=5,type=select,bucket=output:1");
      c.awaitRealized(dpid, Duration.ofSeconds(15));
      SwitchSession s = c.manager().session(dpid);
      sessions.add(s);
      List<OFPortStatsReply> ports = s.multipart(s.factory().buildPortStatsRequest().setXid(s.nextXid()).setPortNo(OFPort.ANY).build())
          .get(10, TimeUnit.SECONDS);
      List<OFPortStatsEntry> entries = ports.stream().flatMap(r -> r.getEntries().stream()).toList();
      assertThat(entries).extracting(e -> e.getPortNo().getPortNumber()).contains(1);
      List<OFGroupStatsReply> groups = s.multipart(s.factory().buildGroupStatsRequest().setXid(s.nextXid()).setGroup(OFGroup.ALL).build())
          .get(10, TimeUnit.SECONDS);
      assertThat(groups.stream().flatMap(r -> r.getEntries().stream()).map(e -> e.getGroup())).contains(OFGroup.of(5));
    }
  }
}
