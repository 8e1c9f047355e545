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
    assertThat(OvsdbEndpoint.parse("127.0.0.1:6641")).isEqualTo(OvsdbEndpoint.ptcp("127.0.0.1", 6641));
  }

  @Test
  void printsBackWhatItParses() {
    for (String s : new String[] {"unix:/x.sock", "tcp:h:1", "tcp:[::1]:6640", "ptcp:6640:127.0.0.1"}) {
      assertThat(OvsdbEndpoint.parse(s).toString()).isEqualTo(s);
    }
  }

  @Test
  void rejectsNonsenseWithAHint() {
    assertThatThrownBy(() -> OvsdbEndpoint.parse("tcp:host")).hasMessageContaining("tcp:HOST:PORT");
    assertThatThrownBy(() -> OvsdbEndpoint.parse("unix:")).hasMessageContaining("unix:PATH");
    assertThatThrownBy(() -> OvsdbEndpoint.parse("tcp:h:99999")).isInstanceOf(IllegalArgumentException.class);
  }
}
