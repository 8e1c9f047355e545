package io.sluice.controller.fabric;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class LldpTest {
  private static final byte[] MAC = {2, 0, 0, 0, 0, 7};
  private static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes();
  private final Lldp lldp = new Lldp(KEY, 42);

  @Test
  void roundTrip() {
    byte[] f = lldp.encode(0xd0d1L, 7, MAC, 1_000_000, 3);
    assertThat(f.length).isGreaterThanOrEqualTo(60);
    assertThat(Arrays.copyOfRange(f, 0, 6)).isEqualTo(Lldp.DESTINATION);
    assertThat(Arrays.copyOfRange(f, 6, 12)).isEqualTo(MAC);
    assertThat((f[12] & 0xff) << 8 | f[13] & 0xff).isEqualTo(0x88cc);
    // chassis ID TLV: type 1, subtype 7, "dpid:" and 16 hex digits
    assertThat((f[14] & 0xff) >> 1).isEqualTo(1);
    assertThat(f[16]).isEqualTo((byte) 7);
    assertThat(new String(f, 17, 21)).isEqualTo("dpid:000000000000d0d1");
    Lldp.Heard h = lldp.decode(f, 1_000_500, 3000);
    assertThat(h).isEqualTo(new Lldp.Heard(Lldp.Verdict.OK, 0xd0d1L, 7));
  }

  @Test
  void highDpidAndPort() {
    byte[] f = lldp.encode(0xfedcba9876543210L, 0xfffffeffL, MAC, 5, 3);
    assertThat(lldp.decode(f, 5, 3000)).isEqualTo(new Lldp.Heard(Lldp.Verdict.OK, 0xfedcba9876543210L, 0xfffffeffL));
  }

  @Test
  void staleAndFutureFramesAreNotBelieved() {
    byte[] f = lldp.encode(1, 2, MAC, 10_000, 3);
    assertThat(lldp.decode(f, 13_001, 3000).verdict()).isEqualTo(Lldp.Verdict.STALE);
    assertThat(lldp.decode(f, 8_000, 3000).verdict()).isEqualTo(Lldp.Verdict.STALE);
  }

  @Test
  void anotherInstanceOrSecretIsNotBelieved() {
    byte[] f = lldp.encode(1, 2, MAC, 10_000, 3);
    assertThat(new Lldp(KEY, 43).decode(f, 10_000, 3000).verdict()).isEqualTo(Lldp.Verdict.FOREIGN);
    byte[] other = KEY.clone();
    other[0] ^= 1;
    assertThat(new Lldp(other, 42).decode(f, 10_000, 3000).verdict()).isEqualTo(Lldp.Verdict.FORGED);
  }

  @Test
  void forgedFieldsFailTheTag() {
    byte[] f = lldp.encode(0xd0d1L, 7, MAC, 10_000, 3);
    // another port number of the same length: "8" for "7"
    byte[] port = f.clone();
    int at = indexOf(port, "7".getBytes()[0], 14 + 2 + 22 + 3);
    port[at] = '8';
    assertThat(lldp.decode(port, 10_000, 3000).verdict()).isEqualTo(Lldp.Verdict.FORGED);
    // another switch
    byte[] chassis = f.clone();
    chassis[17 + 20] = '2';
    assertThat(lldp.decode(chassis, 10_000, 3000).verdict()).isEqualTo(Lldp.Verdict.FORGED);
    // the time moved forward (a replay made to look fresh)
    byte[] time = f.clone();
    time[f.length - 2 - 32 + 7] ^= 1;
    assertThat(lldp.decode(time, 10_000, 3000).verdict()).isEqualTo(Lldp.Verdict.FORGED);
    // a flipped tag bit
    byte[] tag = f.clone();
    tag[f.length - 3] ^= (byte) 0x80;
    assertThat(lldp.decode(tag, 10_000, 3000).verdict()).isEqualTo(Lldp.Verdict.FORGED);
  }

  @Test
  void truncatedFramesAreMalformedAtEveryLength() {
    byte[] f = lldp.encode(0xd0d1L, 7, MAC, 10_000, 3);
    for (int n = 0; n < f.length - 2; n++) {
      Lldp.Verdict v = lldp.decode(Arrays.copyOf(f, n), 10_000, 3000).verdict();
      assertThat(v).as("cut at %d", n).isIn(Lldp.Verdict.MALFORMED, Lldp.Verdict.FOREIGN);
    }
    assertThat(lldp.decode(null, 0, 3000).verdict()).isEqualTo(Lldp.Verdict.MALFORMED);
  }

  @Test
  void aTlvLongerThanTheFrameIsMalformed() {
    byte[] f = lldp.encode(1, 2, MAC, 10_000, 3);
    f[14] = (byte) (1 << 1 | 1); // chassis ID of length 256+
    assertThat(lldp.decode(f, 10_000, 3000).verdict()).isEqualTo(Lldp.Verdict.MALFORMED);
  }

  @Test
  void someoneElsesLldpIsForeign() {
    // a plain switch's LLDP: chassis ID subtype 4 (MAC), port ID subtype 5 (name), TTL, End
    byte[] f = {1, (byte) 0x80, (byte) 0xc2, 0, 0, 0x0e, 2, 0, 0, 0, 0, 9, (byte) 0x88, (byte) 0xcc,
        0x02, 0x07, 4, 2, 0, 0, 0, 0, 9,
        0x04, 0x05, 5, 'e', 't', 'h', '1',
        0x06, 0x02, 0, 120,
        0, 0};
    assertThat(lldp.decode(f, 0, 3000).verdict()).isEqualTo(Lldp.Verdict.FOREIGN);
    // Sluice's layout but without the organisational TLV
    byte[] ours = lldp.encode(1, 2, MAC, 10_000, 3);
    int org = ours.length - 2 - 2 - 36;
    byte[] stripped = Arrays.copyOf(ours, org + 2); // End where the organisational TLV was
    stripped[org] = 0;
    stripped[org + 1] = 0;
    assertThat(lldp.decode(stripped, 10_000, 3000).verdict()).isEqualTo(Lldp.Verdict.FOREIGN);
  }

  @Test
  void shortSecretsAreRefused() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new Lldp(new byte[8], 1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static int indexOf(byte[] a, byte b, int from) {
    for (int i = from; i < a.length; i++) {
      if (a[i] == b) {
        return i;
      }
    }
    throw new AssertionError("not found");
  }
}
