package io.sluice.controller.fabric;

import io.sluice.controller.testing.Sh;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Frames read back by tcpdump, a decoder written independently of Sluice's: for byte-for-byte tests of built frames. */
final class Pcap {
  private Pcap() { }

  /**
   * tcpdump's reading of one Ethernet frame (a pcap file in {@code dir}). Without tcpdump the test fails: make test
   * installs it (deploy/install-deps.sh).
   */
  static String decoded(Path dir, byte[] frame, String... flags) throws IOException {
    if (!Files.isExecutable(Path.of("/usr/bin/tcpdump")) && !Files.isExecutable(Path.of("/usr/sbin/tcpdump"))) {
      throw new AssertionError("tcpdump is not installed: run deploy/install-deps.sh (make test does)");
    }
    ByteArrayOutputStream pcap = new ByteArrayOutputStream();
    ByteBuffer h = ByteBuffer.allocate(24 + 16).order(ByteOrder.LITTLE_ENDIAN);
    h.putInt(0xa1b2c3d4).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(65535).putInt(1);
    h.putInt(0).putInt(0).putInt(frame.length).putInt(frame.length);
    pcap.write(h.array());
    pcap.write(frame);
    Path f = Files.createTempFile(dir, "frame", ".pcap");
    Files.write(f, pcap.toByteArray());
    List<String> cmd = new ArrayList<>(List.of("tcpdump", "-nn", "-e"));
    cmd.addAll(List.of(flags));
    cmd.addAll(List.of("-r", f.toString()));
    return Sh.run(cmd.toArray(String[]::new));
  }
}
