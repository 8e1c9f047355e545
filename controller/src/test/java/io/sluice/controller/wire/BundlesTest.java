package io.sluice.controller.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.projectfloodlight.openflow.protocol.OFVersion;

/** A bundle-add's framing: the message it wraps is described only when it is too long to travel. */
class BundlesTest {
  @Test
  void aMessageThatFitsIsNeverDescribed() {
    ByteBuf out = Unpooled.buffer();
    AtomicInteger asked = new AtomicInteger();
    int start = Bundles.beginAdd(out, OFVersion.OF_14, 7, 1);
    out.writeZero(64);
    Bundles.endAdd(out, start, () -> {
      asked.incrementAndGet();
      return "FLOW a flow";
    });
    assertThat(asked).hasValue(0);
    assertThat(out.getUnsignedShort(start + 2)).isEqualTo(out.writerIndex() - start);
  }

  @Test
  void aMessageTooLongIsNamedAndRemoved() {
    ByteBuf out = Unpooled.buffer();
    out.writeZero(10);
    int start = Bundles.beginAdd(out, OFVersion.OF_14, 7, 1);
    out.writeZero(0x10000);
    assertThatThrownBy(() -> Bundles.endAdd(out, start, () -> "FLOW a long flow"))
        .isInstanceOf(Bundles.TooLongException.class).hasMessageStartingWith("FLOW a long flow is too long");
    assertThat(out.writerIndex()).isEqualTo(10);
  }
}
