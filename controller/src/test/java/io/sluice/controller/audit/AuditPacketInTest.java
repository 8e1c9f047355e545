package io.sluice.controller.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.sluice.controller.service.PacketIn;
import org.junit.jupiter.api.Test;

/** The audit PACKET_IN as OVS 3.1 sends it, read back: the registers that name the rule, and the packet's headers. */
class AuditPacketInTest {
  /**
   * Captured from ovs-vswitchd over OpenFlow 1.5 (AuditLogIT): table 95, the audit cookie, in_port 1, reg6 = 0x2 and
   * reg8 = 0x37391d71 as masked OXM_OF_PKT_REG fields (xreg3, xreg4), and web's ICMP echo request to db.
   */
  private static final String OF15 = "060a00b400000000ffffffff0062015f5c08390e00000001000100348000000400000001800107100000"
      + "000200000000ffffffff000000008001091037391d7100000000ffffffff000000000000000000000a580a4a00020a580a4a00010800"
      + "45000054b843400040016dcf0a4a00010a4a00020800456360f700011439146b00000000662d040000000000101112131415161718191a"
      + "1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637";

  @Test
  void registersAndHeadersOfAnOpenFlow15PacketIn() {
    PacketIn in = PacketIn.read(Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump(OF15)));
    assertThat(in.tableId()).isEqualTo(95);
    assertThat(in.inPort()).isEqualTo(1);
    assertThat(in.totalLen()).isEqualTo(98);
    assertThat(in.reg(6)).isEqualTo(2);
    assertThat(in.reg(7)).isZero();
    assertThat(in.reg(8)).isEqualTo(0x37391d71L);
    AuditListener.Headers h = AuditListener.Headers.parse(in.data());
    assertThat(h).isEqualTo(new AuditListener.Headers("ICMP", "10.74.0.1", -1, "10.74.0.2", -1));
  }

  /** OpenFlow 1.3: OVS sends registers as NXM_NX_REGn (here reg7 = 0x1234, unmasked, and reg6 masked). */
  @Test
  void nxmRegistersOfAnOpenFlow13PacketIn() {
    String match = "00010020" + "80000004" + "00000005" + "00010d08" + "0000000200000002" + "00010e04" + "00001234";
    String packet = "0a00000000010a000000000208004500001c00000000401100000a0000010a0000020035003500080000";
    int len = 24 + 32 + 2 + packet.length() / 2;
    String hdr = String.format("040a%04x00000000", len) + "ffffffff" + String.format("%04x", packet.length() / 2)
        + "01" + "5f" + "5c08000000000001";
    PacketIn in = PacketIn.read(Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump(hdr + match + "0000"
        + packet)));
    assertThat(in.inPort()).isEqualTo(5);
    assertThat(in.reg(6)).isEqualTo(2);
    assertThat(in.reg(7)).isEqualTo(0x1234);
    assertThat(AuditListener.Headers.parse(in.data()))
        .isEqualTo(new AuditListener.Headers("UDP", "10.0.0.1", 53, "10.0.0.2", 53));
  }
}
