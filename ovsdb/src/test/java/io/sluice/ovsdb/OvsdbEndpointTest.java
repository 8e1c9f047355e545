package io.sluice.ovsdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class OvsdbEndpointTest {
  @Test
  void parsesTheOvsVsctlNotations() {
    assertThat(OvsdbEndpoint.parse("unix:/var/run/openvswitch/db.sock"))
        .isEqualTo(OvsdbEndpoint.unix("/var/run/openvswitch/db.sock"));
    assertThat(OvsdbEndpoint.parse("tcp:10.0.0.1:6640")).isEqualTo(OvsdbEndpoint.tcp("10.0.0.1", 6640));
    assertThat(OvsdbEndpoint.parse("tcp:[::1]:6640")).isEqualTo(OvsdbEndpoint.tcp("::1", 6640));
    assertThat(OvsdbEndpoint.parse("ptcp:6640")).isEqualTo(OvsdbEndpoint.ptcp("0.0.0.0", 6640));
    assertThat(OvsdbEndpoint.parse("ptcp:6640:127.0.0.1")).isEqualTo(OvsdbEndpoint.ptcp("127.0.0.1", 6640));
    assertThat(OvsdbEndpoint.parseListen("127.0.0.1:6641")).isEqualTo(OvsdbEndpoint.ptcp("127.0.0.1", 6641));
    assertThat(OvsdbEndpoint.parseListen("ptcp:6641:127.0.0.1")).isEqualTo(OvsdbEndpoint.ptcp("127.0.0.1", 6641));
  }

  @Test
  void readsTheTlsKindsAsOvsWritesThem() {
    assertThat(OvsdbEndpoint.parse("ssl:10.0.0.1:6640")).isEqualTo(OvsdbEndpoint.ssl("10.0.0.1", 6640));
    assertThat(OvsdbEndpoint.parse("ssl:[::1]:6640")).isEqualTo(OvsdbEndpoint.ssl("::1", 6640));
    assertThat(OvsdbEndpoint.parse("pssl:6640")).isEqualTo(OvsdbEndpoint.pssl("0.0.0.0", 6640));
    assertThat(OvsdbEndpoint.parseListen("pssl:6641:127.0.0.1")).isEqualTo(OvsdbEndpoint.pssl("127.0.0.1", 6641));
    assertThat(OvsdbEndpoint.parse("ssl:h:1").isTls()).isTrue();
    assertThat(OvsdbEndpoint.parse("ssl:h:1").isPassive()).isFalse();
    assertThat(OvsdbEndpoint.parse("pssl:1").isPassive()).isTrue();
    assertThat(OvsdbEndpoint.parse("tcp:h:1").isTls()).isFalse();
  }

  @Test
  void printsBackWhatItParses() {
    for (String s : new String[] {"unix:/x.sock", "tcp:h:1", "tcp:[::1]:6640", "ptcp:6640:127.0.0.1", "ssl:h:1",
        "pssl:6640:127.0.0.1", "ssl:[::1]:6640"}) {
      assertThat(OvsdbEndpoint.parse(s).toString()).isEqualTo(s);
    }
  }

  @Test
  void rejectsNonsenseWithAHint() {
    assertThatThrownBy(() -> OvsdbEndpoint.parse("tcp:host")).hasMessageContaining("tcp:HOST:PORT");
    assertThatThrownBy(() -> OvsdbEndpoint.parse("unix:")).hasMessageContaining("unix:PATH");
    assertThatThrownBy(() -> OvsdbEndpoint.parse("tcp:h:99999")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void neverMisreadsATargetItDoesNotOffer() {
    // ssl:HOST:PORT used to be taken for a listener on host "ssl:HOST"
    assertThatThrownBy(() -> OvsdbEndpoint.parse("ssl:127.0.0.1")).hasMessageContaining("ssl:HOST:PORT");
    assertThatThrownBy(() -> OvsdbEndpoint.parse("ssl:h:0")).hasMessageContaining("port 0");
    assertThatThrownBy(() -> OvsdbEndpoint.parse("pssl:x")).hasMessageContaining("pssl:PORT[:HOST]");
    assertThatThrownBy(() -> OvsdbEndpoint.parse("127.0.0.1:6640")).hasMessageContaining("unix:PATH");
    assertThatThrownBy(() -> OvsdbEndpoint.parseListen("tcp:127.0.0.1:6640")).hasMessageContaining("HOST:PORT");
    assertThatThrownBy(() -> OvsdbEndpoint.parseListen("ssl:127.0.0.1:6640")).hasMessageContaining("HOST:PORT");
    assertThatThrownBy(() -> OvsdbEndpoint.parse("tcp:ssl:1:6640")).hasMessageContaining("bracket");
    assertThatThrownBy(() -> OvsdbEndpoint.parse("tcp:h:0")).hasMessageContaining("port 0");
    assertThatThrownBy(() -> OvsdbEndpoint.parse("ptcp:70000")).hasMessageContaining("out of range");
    assertThatThrownBy(() -> OvsdbEndpoint.parse("udp:h:1")).hasMessageContaining("unknown kind");
  }
}
