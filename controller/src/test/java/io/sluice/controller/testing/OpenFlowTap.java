package io.sluice.controller.testing;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A TCP relay between a switch and a controller that records, in order, every message the controller sends, so a
 * test can see what went out in which order (inside bundles too). Point the bridge at {@link #port()}; each switch
 * connection is relayed to the controller's port (a restarted controller on the same port is reached again when
 * the switch reconnects). Messages are recorded as short text: {@code FLOW_MOD ADD}, {@code GROUP_MOD INSERT_BUCKET},
 * {@code METER_MOD DELETE}, {@code BARRIER}, {@code BUNDLE OPEN}, {@code BUNDLE COMMIT}, and a bundled message as
 * {@code [GROUP_MOD ADD]} (standard OF1.4/1.5 bundles and OVS's ONF extension for OF1.3 alike).
 */
public final class OpenFlowTap implements AutoCloseable {
  private final int controllerPort;
  private final ServerSocket listener;
  private final List<String> sent = Collections.synchronizedList(new ArrayList<>());
  private final List<Socket> sockets = Collections.synchronizedList(new ArrayList<>());
  private volatile boolean closed;

  public OpenFlowTap(int controllerPort) throws IOException {
    this.controllerPort = controllerPort;
    this.listener = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
    Thread t = new Thread(this::acceptLoop, "openflow-tap-accept");
    t.setDaemon(true);
    t.start();
  }

  public int port() {
    return listener.getLocalPort();
  }

  /** What the controller sent since the last {@link #clear}, in order. */
  public List<String> sent() {
    synchronized (sent) {
      return List.copyOf(sent);
    }
  }

  public void clear() {
    sent.clear();
  }

  private void acceptLoop() {
    while (!closed) {
      Socket sw;
      try {
        sw = listener.accept();
      } catch (IOException e) {
        continue; // closed, or a failed accept
      }
      try {
        Socket ctl = new Socket(InetAddress.getLoopbackAddress(), controllerPort);
        sockets.add(sw);
        sockets.add(ctl);
        pump(sw, ctl, false);
        pump(ctl, sw, true);
      } catch (IOException e) {
        quietClose(sw); // the controller is not listening (yet): the switch reconnects
      }
    }
  }

  /** Copies whole messages from one side to the other; closes both when either ends. */
  private void pump(Socket from, Socket to, boolean record) {
    Thread t = new Thread(() -> {
      try (DataInputStream in = new DataInputStream(from.getInputStream())) {
        OutputStream out = to.getOutputStream();
        byte[] h = new byte[8];
        while (true) {
          in.readFully(h);
          int len = (h[2] & 0xff) << 8 | (h[3] & 0xff);
          byte[] m = new byte[Math.max(8, len)];
          System.arraycopy(h, 0, m, 0, 8);
          in.readFully(m, 8, m.length - 8);
          if (record) {
            sent.add(describe(m, 0));
          }
          out.write(m);
          out.flush();
        }
      } catch (IOException e) {
        quietClose(from);
        quietClose(to);
      }
    }, "openflow-tap-" + (record ? "down" : "up"));
    t.setDaemon(true);
    t.start();
  }

  private static int u16(byte[] m, int p) {
    return (m[p] & 0xff) << 8 | (m[p + 1] & 0xff);
  }

  private static long u32(byte[] m, int p) {
    return (long) u16(m, p) << 16 | u16(m, p + 2);
  }

  /** The message at {@code p} as short text. */
  static String describe(byte[] m, int p) {
    int type = m[p + 1] & 0xff;
    return switch (type) {
      case 14 -> "FLOW_MOD " + pick(m[p + 25] & 0xff, "ADD", "MODIFY", "MODIFY_STRICT", "DELETE", "DELETE_STRICT");
      case 15 -> "GROUP_MOD " + pick(u16(m, p + 8), "ADD", "MODIFY", "DELETE", "INSERT_BUCKET", "4", "REMOVE_BUCKET");
      case 29 -> "METER_MOD " + pick(u16(m, p + 8), "ADD", "MODIFY", "DELETE");
      case 20 -> "BARRIER";
      case 18 -> "MULTIPART " + u16(m, p + 8);
      case 33 -> "BUNDLE " + control(u16(m, p + 12));
      case 34 -> "[" + describe(m, p + 16) + "]";
      case 4 -> u32(m, p + 8) == 0x4f4e4600L && u32(m, p + 12) == 2300 ? "BUNDLE " + control(u16(m, p + 20))
          : u32(m, p + 8) == 0x4f4e4600L && u32(m, p + 12) == 2301 ? "[" + describe(m, p + 24) + "]"
          : "EXPERIMENTER";
      default -> "TYPE " + type;
    };
  }

  private static String control(int t) {
    return pick(t, "OPEN", "OPEN_REPLY", "CLOSE", "CLOSE_REPLY", "COMMIT", "COMMIT_REPLY", "DISCARD");
  }

  private static String pick(int i, String... names) {
    return i >= 0 && i < names.length ? names[i] : String.valueOf(i);
  }

  private static void quietClose(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      listener.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    synchronized (sockets) {
      sockets.forEach(OpenFlowTap::quietClose);
    }
  }
}
