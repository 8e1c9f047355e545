package io.sluice.watcher.manifest;

/**
 * Text from files (names, values, parser messages) made safe for one log line: control characters (CR, LF, tab,
 * escape, ...), DEL and Unicode line and paragraph separators are written as escapes ({@code \n}, {@code \r},
 * {@code \t}, {@code \\u2028}), and a backslash as two, so a file cannot end the line and write a forged one.
 */
final class LogText {
  private LogText() {
  }

  static String escape(String s) {
    if (s == null) {
      return "null";
    }
    int i = 0;
    while (i < s.length() && safe(s.charAt(i))) {
      i++;
    }
    if (i == s.length()) {
      return s;
    }
    StringBuilder b = new StringBuilder(s.length() + 16).append(s, 0, i);
    for (; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        case '\\' -> b.append("\\\\");
        default -> {
          if (safe(c)) {
            b.append(c);
          } else {
            b.append(String.format("\\u%04x", (int) c));
          }
        }
      }
    }
    return b.toString();
  }

  private static boolean safe(char c) {
    return c >= 0x20 && c != 0x7f && c != '\\' && !(c >= 0x80 && c <= 0x9f) && c != '\u2028' && c != '\u2029';
  }
}
