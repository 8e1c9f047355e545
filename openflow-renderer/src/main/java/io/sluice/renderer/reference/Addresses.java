package io.sluice.renderer.reference;

/** IP literals in one canonical text, so that addresses written differently ({@code fd00::1}, {@code fd00:0::01}) compare equal. */
public final class Addresses {
  private Addresses() { }

  /**
   * The address in canonical text: IPv4 as four decimal octets, IPv6 as eight lower-case hex groups without
   * compression; null if {@code text} is not an IPv4 or IPv6 literal. Nothing is looked up.
   */
  public static String canonical(String text) {
    byte[] b = Ip.parse(text);
    if (b == null) {
      return null;
    }
    StringBuilder sb = new StringBuilder(b.length == 4 ? 15 : 39);
    if (b.length == 4) {
      for (int i = 0; i < 4; i++) {
        sb.append(i == 0 ? "" : ".").append(b[i] & 0xff);
      }
    } else {
      for (int i = 0; i < 16; i += 2) {
        sb.append(i == 0 ? "" : ":").append(Integer.toHexString((b[i] & 0xff) << 8 | (b[i + 1] & 0xff)));
      }
    }
    return sb.toString();
  }

  /** Whether the literal is an IPv6 address (false for IPv4 and for anything that is not an address). */
  public static boolean isV6(String text) {
    byte[] b = Ip.parse(text);
    return b != null && b.length == 16;
  }
}
