package io.sluice.controller.wire;

import java.io.File;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.projectfloodlight.openflow.protocol.OFVersion;

/**
 * Gets real OVS encodings: runs {@code ovs-ofctl --no-names -O OpenFlowXX CMD unix:SOCK TEXT} against a tiny
 * listener on a unix socket that answers HELLO (same version), ECHO and BARRIER_REQUEST, and returns the other
 * messages ovs-ofctl sent (the FLOW_MOD) as raw bytes. Also runs {@code ovs-ofctl parse-actions}. No bridge needed.
 * Fails (never skips) when ovs-ofctl is missing.
 */
public final class OfctlCapture {
  private OfctlCapture() { }

  public static final String OVS_OFCTL = "ovs-ofctl";

  /** Fails with a clear message when ovs-ofctl is not installed. */
  public static void requireOvsOfctl() {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, OVS_OFCTL))) {
        return;
      }
    }
    throw new AssertionError("ovs-ofctl is not installed (or not on PATH): these tests compare against real Open vSwitch "
        + "encodings; install it with `apt-get install -y openvswitch-switch`");
  }

  public static String ofName(OFVersion v) {
    return switch (v) {
      case OF_13 -> "OpenFlow13";
      case OF_14 -> "OpenFlow14";
      case OF_15 -> "OpenFlow15";
      default -> throw new IllegalArgumentException(v.toString());
    };
  }

  /** ovs-ofctl add-flow: the FLOW_MOD it sends. */
  public static byte[] addFlow(OFVersion v, String flowText) {
    return single(capture(v, List.of("add-flow"), flowText), flowText);
  }

  /** ovs-ofctl --strict mod-flows. */
  public static byte[] modFlowStrict(OFVersion v, String flowText) {
    return single(capture(v, List.of("--strict", "mod-flows"), flowText), flowText);
  }

  /** ovs-ofctl --strict del-flows. */
  public static byte[] delFlowStrict(OFVersion v, String flowText) {
    return single(capture(v, List.of("--strict", "del-flows"), flowText), flowText);
  }

  private static byte[] single(List<byte[]> msgs, String text) {
    if (msgs.size() != 1) {
      throw new AssertionError("ovs-ofctl sent " + msgs.size() + " messages (expected one FLOW_MOD) for " + text);
    }
    return msgs.get(0);
  }

  /** Runs ovs-ofctl with {@code cmd} against a listener and returns what it sent besides HELLO and BARRIER. */
  public static List<byte[]> capture(OFVersion v, List<String> cmd, String text) {
    return capture(v, cmd, List.of(text));
  }

  /**
   * As {@link #capture(OFVersion, List, String)} for commands that take several arguments after the switch (e.g.
   * {@code ct-flush SWITCH ZONE ORIG REPLY}); an empty argument is passed as an empty string.
   */
  public static List<byte[]> capture(OFVersion v, List<String> cmd, List<String> args) {
    String text = String.join(" ", args);
    requireOvsOfctl();
    Path sock = Path.of("/tmp", "sluice-cap-" + UUID.randomUUID().toString().substring(0, 8) + ".sock");
    List<byte[]> out = new ArrayList<>();
    Process p = null;
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
         Selector sel = Selector.open()) {
      server.bind(UnixDomainSocketAddress.of(sock));
      server.configureBlocking(false);
      server.register(sel, SelectionKey.OP_ACCEPT);
      List<String> argv = new ArrayList<>(List.of(OVS_OFCTL, "--no-names", "-O", ofName(v)));
      argv.addAll(cmd);
      argv.add("unix:" + sock);
      argv.addAll(args);
      p = new ProcessBuilder(argv).redirectErrorStream(true).start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      SocketChannel ch = null;
      ByteBuffer buf = ByteBuffer.allocate(1 << 16);
      while (System.nanoTime() < deadline) {
        if (ch == null && !p.isAlive()) {
          break; // exited before connecting: an error we report below
        }
        sel.select(100);
        if (ch == null) {
          ch = server.accept();
          if (ch == null) {
            continue;
          }
          ch.configureBlocking(false);
          ch.register(sel, SelectionKey.OP_READ);
          continue;
        }
        sel.selectedKeys().clear();
        int n = ch.read(buf);
        if (n < 0) {
          break;
        }
        buf.flip();
        while (buf.remaining() >= 8) {
          int len = buf.getShort(buf.position() + 2) & 0xffff;
          if (buf.remaining() < len) {
            break;
          }
          byte[] m = new byte[len];
          buf.get(m);
          int type = m[1] & 0xff;
          if (type == 0 || type == 2 || type == 20) { // HELLO, ECHO_REQUEST, BARRIER_REQUEST
            byte[] reply = {(byte) v.getWireVersion(), (byte) (type == 0 ? 0 : type + 1), 0, 8, m[4], m[5], m[6], m[7]};
            ch.write(ByteBuffer.wrap(reply));
          } else {
            out.add(m);
          }
        }
        buf.compact();
      }
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        throw new AssertionError("ovs-ofctl did not finish for " + text);
      }
      String msg = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new AssertionError("ovs-ofctl " + argv + " failed (" + p.exitValue() + "): " + msg.trim());
      }
      if (ch != null) {
        ch.close();
      }
      return out;
    } catch (IOException e) {
      throw new AssertionError("capture failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    } finally {
      if (p != null) {
        p.destroy();
      }
      try {
        Files.deleteIfExists(sock);
      } catch (IOException ignored) {
        // best effort
      }
    }
  }

  /** {@code ovs-ofctl parse-actions OpenFlowXX}: one hex action list per line in, one text per line out. */
  public static List<String> parseActions(OFVersion v, List<byte[]> actionLists) {
    requireOvsOfctl();
    StringBuilder in = new StringBuilder();
    for (byte[] a : actionLists) {
      in.append(HexFormat.of().formatHex(a)).append('\n');
    }
    try {
      Process p = new ProcessBuilder(OVS_OFCTL, "parse-actions", ofName(v)).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      p.getOutputStream().write(in.toString().getBytes(StandardCharsets.UTF_8));
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new AssertionError("ovs-ofctl parse-actions failed: " + out);
      }
      List<String> lines = new ArrayList<>();
      for (String l : out.split("\n")) {
        if (!l.isBlank()) {
          lines.add(l.trim());
        }
      }
      return lines;
    } catch (IOException e) {
      throw new AssertionError("ovs-ofctl parse-actions failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The xid of a message. */
  public static long xid(byte[] msg) {
    return ((msg[4] & 0xffL) << 24) | ((msg[5] & 0xff) << 16) | ((msg[6] & 0xff) << 8) | (msg[7] & 0xff);
  }

  public static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }
}
