package io.sluice.watcher.convert;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The API server's generic validation rules (k8s.io/apimachinery/pkg/util/validation and
 * pkg/apis/meta/v1/validation), with its exact messages.
 */
final class Rules {
  private Rules() { }

  static final String QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
  private static final String QUALIFIED_NAME_MSG =
      "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  static final String LABEL_VALUE_FMT = "(" + QUALIFIED_NAME_FMT + ")?";
  private static final String LABEL_VALUE_MSG = "a valid label must be an empty string or consist of alphanumeric "
      + "characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  static final String DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
  private static final String DNS1123_LABEL_MSG = "a lowercase RFC 1123 label must consist of lower case alphanumeric "
      + "characters or '-', and must start and end with an alphanumeric character";
  static final String DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + "(\\." + DNS1123_LABEL_FMT + ")*";
  private static final String DNS1123_SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case "
      + "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  static final String DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?";
  private static final String DNS1035_LABEL_MSG = "a DNS-1035 label must consist of lower case alphanumeric "
      + "characters or '-', start with an alphabetic character, and end with an alphanumeric character";

  static final String CIDR_MSG = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";
  static final String IP_MSG = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";
  static final String PORT_RANGE_MSG = "must be between 1 and 65535, inclusive";

  // The formats above, checked by hand: these run for every label of every object, and regexes were a tenth of
  // the load time.

  private static boolean alnum(char c) {
    return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9';
  }

  private static boolean lowerAlnum(char c) {
    return c >= 'a' && c <= 'z' || c >= '0' && c <= '9';
  }

  /** {@value #QUALIFIED_NAME_FMT} */
  static boolean isQualifiedNamePart(String s) {
    int n = s.length();
    if (n == 0 || !alnum(s.charAt(0)) || !alnum(s.charAt(n - 1))) {
      return false;
    }
    for (int i = 1; i < n - 1; i++) {
      char c = s.charAt(i);
      if (!alnum(c) && c != '-' && c != '_' && c != '.') {
        return false;
      }
    }
    return true;
  }

  /** {@value #DNS1123_LABEL_FMT} */
  static boolean isDns1123Label(String s) {
    return isDns1123Label(s, 0, s.length());
  }

  private static boolean isDns1123Label(String s, int from, int to) {
    if (to <= from || !lowerAlnum(s.charAt(from)) || !lowerAlnum(s.charAt(to - 1))) {
      return false;
    }
    for (int i = from + 1; i < to - 1; i++) {
      char c = s.charAt(i);
      if (!lowerAlnum(c) && c != '-') {
        return false;
      }
    }
    return true;
  }

  /** {@value #DNS1123_SUBDOMAIN_FMT} */
  static boolean isDns1123Subdomain(String s) {
    int from = 0;
    while (true) {
      int dot = s.indexOf('.', from);
      int to = dot < 0 ? s.length() : dot;
      if (!isDns1123Label(s, from, to)) {
        return false;
      }
      if (dot < 0) {
        return true;
      }
      from = dot + 1;
    }
  }

  /** {@value #DNS1035_LABEL_FMT} */
  static boolean isDns1035Label(String s) {
    return isDns1123Label(s) && s.charAt(0) >= 'a' && s.charAt(0) <= 'z';
  }

  static String maxLenError(int n) {
    return "must be no more than " + n + " characters";
  }

  static String regexError(String msg, String fmt, String... examples) {
    if (examples.length == 0) {
      return msg + " (regex used for validation is '" + fmt + "')";
    }
    StringBuilder b = new StringBuilder(msg).append(" (e.g. ");
    for (int i = 0; i < examples.length; i++) {
      if (i > 0) {
        b.append(" or ");
      }
      b.append('\'').append(examples[i]).append("', ");
    }
    return b.append("regex used for validation is '").append(fmt).append("')").toString();
  }

  /** IsQualifiedName: label keys and selector keys. */
  static List<String> qualifiedName(String value) {
    List<String> errs = new ArrayList<>();
    String[] parts = value.split("/", -1);
    String name;
    switch (parts.length) {
      case 1 -> name = parts[0];
      case 2 -> {
        String prefix = parts[0];
        name = parts[1];
        if (prefix.isEmpty()) {
          errs.add("prefix part must be non-empty");
        } else {
          for (String m : dns1123Subdomain(prefix)) {
            errs.add("prefix part " + m);
          }
        }
      }
      default -> {
        errs.add("a qualified name " + regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
        return errs;
      }
    }
    if (name.isEmpty()) {
      errs.add("name part must be non-empty");
    } else if (name.length() > 63) {
      errs.add("name part " + maxLenError(63));
    }
    if (!isQualifiedNamePart(name)) {
      errs.add("name part " + regexError(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc"));
    }
    return errs;
  }

  static List<String> labelValue(String value) {
    List<String> errs = new ArrayList<>();
    if (value.length() > 63) {
      errs.add(maxLenError(63));
    }
    if (!(value.isEmpty() || isQualifiedNamePart(value))) {
      errs.add(regexError(LABEL_VALUE_MSG, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"));
    }
    return errs;
  }

  static List<String> dns1123Label(String value) {
    List<String> errs = new ArrayList<>();
    if (value.length() > 63) {
      errs.add(maxLenError(63));
    }
    if (!isDns1123Label(value)) {
      errs.add(regexError(DNS1123_LABEL_MSG, DNS1123_LABEL_FMT, "my-name", "123-abc"));
    }
    return errs;
  }

  static List<String> dns1123Subdomain(String value) {
    List<String> errs = new ArrayList<>();
    if (value.length() > 253) {
      errs.add(maxLenError(253));
    }
    if (!isDns1123Subdomain(value)) {
      errs.add(regexError(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, "example.com"));
    }
    return errs;
  }

  static List<String> dns1035Label(String value) {
    List<String> errs = new ArrayList<>();
    if (value.length() > 63) {
      errs.add(maxLenError(63));
    }
    if (!isDns1035Label(value)) {
      errs.add(regexError(DNS1035_LABEL_MSG, DNS1035_LABEL_FMT, "my-name", "abc-123"));
    }
    return errs;
  }

  /** IsValidPortName: an IANA_SVC_NAME. */
  static List<String> portName(String port) {
    List<String> errs = new ArrayList<>();
    if (port.length() > 15) {
      errs.add(maxLenError(15));
    }
    if (!portNameCharset(port)) {
      errs.add("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
    }
    if (!portNameHasLetter(port)) {
      errs.add("must contain at least one letter (a-z)");
    }
    if (port.contains("--")) {
      errs.add("must not contain consecutive hyphens");
    }
    if (!port.isEmpty() && (port.charAt(0) == '-' || port.charAt(port.length() - 1) == '-')) {
      errs.add("must not begin or end with a hyphen");
    }
    return errs;
  }

  /** What {@code [-a-z0-9]+} matches, without a regular expression (every container port name is checked). */
  static boolean portNameCharset(String port) {
    if (port.isEmpty()) {
      return false;
    }
    for (int i = 0; i < port.length(); i++) {
      char c = port.charAt(i);
      if (!(c == '-' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9')) {
        return false;
      }
    }
    return true;
  }

  /**
   * What {@code .*[a-z].*} matches, without a regular expression: a letter a-z, and no line terminator anywhere
   * (which {@code .} does not match).
   */
  static boolean portNameHasLetter(String port) {
    boolean letter = false;
    for (int i = 0; i < port.length(); i++) {
      char c = port.charAt(i);
      if (c == '\n' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029') {
        return false;
      }
      letter |= c >= 'a' && c <= 'z';
    }
    return letter;
  }

  static boolean validPortNumber(long port) {
    return port >= 1 && port <= 65535;
  }

  /** ValidateLabels: keys are qualified names, values label values; errors name the map, not the key. */
  static void labels(Map<String, String> labels, String field, List<FieldError> out) {
    if (labels == null) {
      return;
    }
    for (Map.Entry<String, String> e : labels.entrySet()) {
      for (String m : qualifiedName(e.getKey())) {
        out.add(FieldError.invalid(field, e.getKey(), m));
      }
      String v = e.getValue() == null ? "" : e.getValue();
      for (String m : labelValue(v)) {
        out.add(FieldError.invalid(field, v, m));
      }
    }
  }

  static void ip(String value, String field, List<FieldError> out) {
    if (Ip.parse(value) == null) {
      out.add(FieldError.invalid(field, value, IP_MSG));
    }
  }

  /**
   * ValidateNonSpecialIP (external IPs, endpoint addresses): no unspecified, loopback, link-local unicast or link-local
   * multicast address; IPv4-mapped IPv6 addresses are judged as the IPv4 address they map.
   */
  static void nonSpecialIp(String value, String field, List<FieldError> out) {
    byte[] ip = Ip.parse(value);
    if (ip == null) {
      out.add(FieldError.invalid(field, value, "must be a valid IP address"));
      return;
    }
    if (Ip.v4Mapped(ip)) {
      ip = java.util.Arrays.copyOfRange(ip, 12, 16);
    }
    boolean zero = true;
    for (byte b : ip) {
      zero &= b == 0;
    }
    boolean v4 = ip.length == 4;
    int a = ip[0] & 0xff;
    int b = ip[1] & 0xff;
    boolean loopback = v4 ? a == 127 : java.util.Arrays.equals(ip, IPV6_LOOPBACK);
    boolean linkLocal = v4 ? a == 169 && b == 254 : a == 0xfe && (b & 0xc0) == 0x80;
    boolean linkLocalMulticast = v4 ? a == 224 && b == 0 && ip[2] == 0 : a == 0xff && (b & 0x0f) == 0x02;
    if (zero) {
      out.add(FieldError.invalid(field, value, "may not be unspecified (" + value + ")"));
    }
    if (loopback) {
      out.add(FieldError.invalid(field, value, "may not be in the loopback range (127.0.0.0/8, ::1/128)"));
    }
    if (linkLocal) {
      out.add(FieldError.invalid(field, value, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"));
    }
    if (linkLocalMulticast) {
      out.add(FieldError.invalid(field, value,
          "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"));
    }
  }

  private static final byte[] IPV6_LOOPBACK = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
}
