package io.sluice.ovsdb.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonFrameSplitterTest {
  private final RpcStats stats = new RpcStats();

  private List<String> split(int max, String... chunks) {
    EmbeddedChannel ch = new EmbeddedChannel(new JsonFrameSplitter(max, stats));
    for (String c : chunks) {
      ch.writeInbound(Unpooled.copiedBuffer(c, StandardCharsets.UTF_8));
    }
    List<String> out = new ArrayList<>();
    for (Object o; (o = ch.readInbound()) != null; ) {
      ByteBuf b = (ByteBuf) o;
      out.add(b.toString(StandardCharsets.UTF_8));
      b.release();
    }
    assertThat(ch.isOpen()).isTrue();
    ch.finishAndReleaseAll();
    return out;
  }

  @Test
  void concatenatedObjectsWithoutDelimiterAreCutApart() {
    assertThat(split(1000, "{\"a\":1}{\"b\":[1,{\"c\":2}]}  \n{}"))
        .containsExactly("{\"a\":1}", "{\"b\":[1,{\"c\":2}]}", "{}");
  }

  @Test
  void objectsSplitAcrossReadsAreJoined() {
    assertThat(split(1000, "{\"a\":", "[1,2", "]}{\"b", "\":2}")).containsExactly("{\"a\":[1,2]}", "{\"b\":2}");
  }

  @Test
  void bracesAndEscapedQuotesInsideStringsDoNotCount() {
    assertThat(split(1000, "{\"s\":\"}{\\\"]\\\\\"}", "{\"t\":1}"))
        .containsExactly("{\"s\":\"}{\\\"]\\\\\"}", "{\"t\":1}");
  }

  @Test
  void strayBytesBetweenObjectsAreSkipped() {
    assertThat(split(1000, "garbage]]\"x{\"a\":1}\u0000zz{\"b\":2}")).containsExactly("{\"a\":1}", "{\"b\":2}");
    assertThat(stats.strayBytes()).isGreaterThan(0);
  }

  @Test
  void oversizedObjectIsDroppedAndTheNextOneStillArrives() {
    String big = "{\"x\":\"" + "a".repeat(5000) + "\",\"y\":{\"z\":[1,2,3]}}";
    assertThat(split(1024, big.substring(0, 3000), big.substring(3000) + "{\"ok\":true}"))
        .containsExactly("{\"ok\":true}");
    assertThat(stats.oversizedFrames()).isEqualTo(1);
  }

  @Test
  void multibyteUtf8PassesThroughUnchanged() {
    assertThat(split(1000, "{\"n\":\"żółw 🐢\"}")).containsExactly("{\"n\":\"żółw 🐢\"}");
  }
}
