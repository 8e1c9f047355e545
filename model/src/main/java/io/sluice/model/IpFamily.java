package io.sluice.model;

/** An IP family as Kubernetes names it ({@code spec.ipFamilies}, EndpointSlice address types). */
public enum IpFamily {
  IPV4("IPv4"), IPV6("IPv6");

  private final String kubernetesName;

  IpFamily(String kubernetesName) {
    this.kubernetesName = kubernetesName;
  }

  /** The spelling in manifests: IPv4, IPv6. */
  public String kubernetesName() {
    return kubernetesName;
  }

  /**
   * The family of an IP literal the sources have already checked, as Kubernetes counts it: an IPv4-mapped IPv6
   * address ({@code ::ffff:10.0.0.1}, {@code ::ffff:a00:1}) is IPv4.
   */
  public static IpFamily of(String address) {
    return address.indexOf(':') < 0 || v4Mapped(address) ? IPV4 : IPV6;
  }

  /** Whether IPv6 text spells 0:0:0:0:0:ffff:x:y. */
  private static boolean v4Mapped(String address) {
    String s = address;
    int dot = s.indexOf('.');
    if (dot >= 0) {
      s = s.substring(0, s.lastIndexOf(':', dot) + 1) + "0:0"; // a trailing dotted quad is the last two groups
    }
    int gap = s.indexOf("::");
    String[] head = gap < 0 ? s.split(":", -1) : groups(s.substring(0, gap));
    String[] tail = gap < 0 ? new String[0] : groups(s.substring(gap + 2));
    String[] all = new String[8];
    java.util.Arrays.fill(all, "0");
    System.arraycopy(head, 0, all, 0, Math.min(head.length, 8));
    System.arraycopy(tail, 0, all, 8 - Math.min(tail.length, 8), Math.min(tail.length, 8));
    for (int i = 0; i < 5; i++) {
      if (Integer.parseInt(all[i], 16) != 0) {
        return false;
      }
    }
    return Integer.parseInt(all[5], 16) == 0xffff;
  }

  private static String[] groups(String s) {
    return s.isEmpty() ? new String[0] : s.split(":", -1);
  }
}
