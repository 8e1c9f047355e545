package io.sluice.watcher.manifest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.nodes.NodeId;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.resolver.Resolver;

class FastYamlFactoryTest {
  @Test
  void decidesStringsExactlyAsSnakeYamlsResolver() {
    Resolver resolver = new Resolver();
    List<String> values = new ArrayList<>(List.of("yes", "Yes", "YES", "no", "No", "NO", "on", "ON", "off", "Off",
        "true", "True", "TRUE", "false", "FALSE", "null", "Null", "NULL", "~", " ", "<<", "!", "&", "*", "nulls",
        "node-1", "namespace", "Namespace", "NetworkPolicy", "team-07", "TCP", "tcp", "onion", "n", "y", "Y", "N",
        "o", "O", "t", "f", "F", "T", "yess", "yes ", "12", "1.5", ".5", "-", "+1", "10.0.0.1", "2001-12-14",
        "0x1F", "0b1", "0o7", "1_000", ".inf", ".NaN", "pod-1", "web", "Ingress", "http", "a b", "é", "~x"));
    for (char a = 32; a < 127; a++) {
      values.add(String.valueOf(a));
      for (char b = 32; b < 127; b += 3) {
        values.add("" + a + b);
      }
    }
    java.util.Random random = new java.util.Random(7);
    String chars = "0123456789.-+:_eExabT Zt\t/mMiInNfF~y";
    for (int i = 0; i < 50_000; i++) {
      StringBuilder b = new StringBuilder();
      for (int n = 1 + random.nextInt(12); n > 0; n--) {
        b.append(chars.charAt(random.nextInt(chars.length())));
      }
      values.add(b.toString());
    }
    values.addAll(List.of("10.64.0.1", "10.0.0.0/8", "100m", "128Mi", "7d4b9c0", "8080", "1.5e3", "2001-12-14t21:59:43.10-05:00",
        "2001-12-14 21:59:43.10 -5", "12:30:45", "-.inf", "+.5", "0b1010", "0x_1F", "1:20.5", ".nan", "1.2.3"));
    for (String v : values) {
      boolean str = resolver.resolve(NodeId.scalar, v, true) == Tag.STR;
      if (FastYamlFactory.PlainScalars.isString(v)) {
        assertThat(str).as(v).isTrue();
      }
    }
    assertThat(FastYamlFactory.PlainScalars.isString("pod-1")).isTrue();
    assertThat(FastYamlFactory.PlainScalars.isString("node-1")).isTrue();
    assertThat(FastYamlFactory.PlainScalars.isString("Namespace")).isTrue();
    assertThat(FastYamlFactory.PlainScalars.isString("no")).isFalse();
    assertThat(FastYamlFactory.PlainScalars.isString("10.64.0.1")).isTrue();
    assertThat(FastYamlFactory.PlainScalars.isString("128Mi")).isTrue();
    assertThat(FastYamlFactory.PlainScalars.isString("8080")).isFalse();
    assertThat(FastYamlFactory.PlainScalars.isString("Null")).isFalse();
  }

  @Test
  void givesTheSameTokensAsJacksonsFactory() throws Exception {
    String yaml = "a: yes\nb: no\nc: 1\nd: 1.5\ne: null\nf: ~\ng: node\nh: \"yes\"\ni: !!str 5\nj: ''\nk:\nl: [On, off, x]\n"
        + "m: 0x1F\nn: 2001-12-14\no: <<\np: Namespace\n";
    try (JsonParser a = new YAMLFactory().createParser(yaml.getBytes());
         JsonParser b = new FastYamlFactory().createParser(yaml.getBytes())) {
      for (JsonToken t = a.nextToken(); t != null; t = a.nextToken()) {
        assertThat(b.nextToken()).isEqualTo(t);
        assertThat(b.getText()).isEqualTo(a.getText());
      }
      assertThat(b.nextToken()).isNull();
    }
  }
}
