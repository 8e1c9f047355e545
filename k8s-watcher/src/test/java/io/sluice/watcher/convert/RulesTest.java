package io.sluice.watcher.convert;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class RulesTest {
  @Test
  void portNameChecksAnswerAsTheApiServersRegularExpressions() {
    Pattern charset = Pattern.compile("[-a-z0-9]+");
    Pattern oneLetter = Pattern.compile(".*[a-z].*");
    String alphabet = "az09-_AZ. \n\r\u0085\u2028\u2029\u00e9\t";
    Random r = new Random(42);
    for (int n = 0; n < 20_000; n++) {
      StringBuilder b = new StringBuilder();
      for (int len = r.nextInt(8); len > 0; len--) {
        b.append(alphabet.charAt(r.nextInt(alphabet.length())));
      }
      if (r.nextInt(50) == 0) {
        b.appendCodePoint(0x1F600);
      }
      String s = b.toString();
      assertThat(Rules.portNameCharset(s)).as("charset of %s", s).isEqualTo(charset.matcher(s).matches());
      assertThat(Rules.portNameHasLetter(s)).as("letter in %s", s).isEqualTo(oneLetter.matcher(s).matches());
    }
  }
}
