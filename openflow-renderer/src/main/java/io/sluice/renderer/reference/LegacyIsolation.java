package io.sluice.renderer.reference;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The pre-v1 isolation switch: a namespace annotated
 * {@code net.beta.kubernetes.io/network-policy: {"ingress": {"isolation": "DefaultDeny"}}} makes every pod in it
 * ingress-isolated. The value is read as Kubernetes 1.3–1.6 read it (Go's {@code json.Unmarshal} into
 * {@code {Ingress *{Isolation string}}}): other keys are ignored and key names match regardless of case. A value that
 * is not valid JSON isolates nothing, as it did then.
 */
final class LegacyIsolation {
  static final String ANNOTATION = "net.beta.kubernetes.io/network-policy";
  static final String DEFAULT_DENY = "DefaultDeny";

  private LegacyIsolation() { }

  /** True if these namespace annotations ask for ingress DefaultDeny. */
  static boolean defaultDenyIngress(Map<String, String> annotations) {
    String value = annotations.get(ANNOTATION);
    if (value == null) {
      return false;
    }
    Object json;
    try {
      json = new Json(value).document();
    } catch (IllegalArgumentException e) {
      return false;
    }
    Object ingress = field(json, "ingress");
    return DEFAULT_DENY.equals(field(ingress, "isolation"));
  }

  /** The member named {@code key} (exact name first, then any case) of a JSON object, or null. */
  private static Object field(Object json, String key) {
    if (!(json instanceof Map<?, ?> object)) {
      return null;
    }
    if (object.containsKey(key)) {
      return object.get(key);
    }
    for (Map.Entry<?, ?> e : object.entrySet()) {
      if (((String) e.getKey()).equalsIgnoreCase(key)) {
        return e.getValue();
      }
    }
    return null;
  }

  /**
   * Just enough JSON (RFC 8259) to read the annotation: objects become maps, strings strings; arrays, numbers,
   * booleans and null are checked for syntax and read as null. Malformed text throws IllegalArgumentException.
   */
  private static final class Json {
    private final String text;
    private int pos;

    Json(String text) {
      this.text = text;
    }

    Object document() {
      Object v = value();
      skipSpace();
      if (pos != text.length()) {
        throw error();
      }
      return v;
    }

    private Object value() {
      skipSpace();
      if (pos >= text.length()) {
        throw error();
      }
      char c = text.charAt(pos);
      if (c == '{') {
        return object();
      } else if (c == '[') {
        array();
        return null;
      } else if (c == '"') {
        return string();
      } else if (literal("true") || literal("false") || literal("null")) {
        return null;
      }
      number();
      return null;
    }

    private Map<String, Object> object() {
      Map<String, Object> out = new LinkedHashMap<>();
      pos++;
      skipSpace();
      if (peek('}')) {
        pos++;
        return out;
      }
      while (true) {
        skipSpace();
        if (!peek('"')) {
          throw error();
        }
        String key = string();
        skipSpace();
        expect(':');
        out.put(key, value());
        skipSpace();
        if (peek(',')) {
          pos++;
        } else {
          expect('}');
          return out;
        }
      }
    }

    private void array() {
      pos++;
      skipSpace();
      if (peek(']')) {
        pos++;
        return;
      }
      while (true) {
        value();
        skipSpace();
        if (peek(',')) {
          pos++;
        } else {
          expect(']');
          return;
        }
      }
    }

    private String string() {
      StringBuilder b = new StringBuilder();
      pos++;
      while (pos < text.length()) {
        char c = text.charAt(pos++);
        if (c == '"') {
          return b.toString();
        } else if (c < 0x20) {
          throw error();
        } else if (c != '\\') {
          b.append(c);
        } else if (pos < text.length()) {
          char e = text.charAt(pos++);
          switch (e) {
            case '"', '\\', '/' -> b.append(e);
            case 'b' -> b.append('\b');
            case 'f' -> b.append('\f');
            case 'n' -> b.append('\n');
            case 'r' -> b.append('\r');
            case 't' -> b.append('\t');
            case 'u' -> {
              if (pos + 4 > text.length()) {
                throw error();
              }
              try {
                b.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
              } catch (NumberFormatException x) {
                throw error();
              }
              pos += 4;
            }
            default -> throw error();
          }
        }
      }
      throw error();
    }

    private void number() {
      int start = pos;
      while (pos < text.length() && "+-0123456789.eE".indexOf(text.charAt(pos)) >= 0) {
        pos++;
      }
      if (!text.substring(start, pos).matches("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?")) {
        throw error();
      }
    }

    private boolean literal(String word) {
      if (text.startsWith(word, pos)) {
        pos += word.length();
        return true;
      }
      return false;
    }

    private void skipSpace() {
      while (pos < text.length() && " \t\r\n".indexOf(text.charAt(pos)) >= 0) {
        pos++;
      }
    }

    private boolean peek(char c) {
      return pos < text.length() && text.charAt(pos) == c;
    }

    private void expect(char c) {
      if (!peek(c)) {
        throw error();
      }
      pos++;
    }

    private IllegalArgumentException error() {
      return new IllegalArgumentException("invalid JSON at offset " + pos);
    }
  }
}
