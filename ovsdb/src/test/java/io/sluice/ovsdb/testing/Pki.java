package io.sluice.ovsdb.testing;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLException;

/**
 * A certificate authority made by Open vSwitch's {@code ovs-pki} under a test's directory: {@code pki/controllerca}
 * signs controllers (Sluice), {@code pki/switchca} signs switches and their ovsdb-servers.
 */
public final class Pki {
  private final Path dir;

  public Pki(Path dir) {
    this.dir = dir;
    ovsPki("init");
  }

  private void ovsPki(String... args) {
    List<String> cmd = new ArrayList<>(List.of("sh", "-c", "cd \"$0\" && exec ovs-pki \"$@\"", dir.toString(),
        "--dir=" + dir.resolve("pki"), "--log=" + dir.resolve("ovs-pki.log")));
    cmd.addAll(List.of(args));
    Sh.run(cmd);
  }

  /** {@code ovs-pki req+sign NAME TYPE}: NAME-privkey.pem and NAME-cert.pem. */
  public Identity sign(String name, String type) {
    ovsPki("req+sign", name, type);
    return new Identity(dir.resolve(name + "-privkey.pem"), dir.resolve(name + "-cert.pem"));
  }

  public Path switchCa() {
    return dir.resolve("pki/switchca/cacert.pem");
  }

  public Path controllerCa() {
    return dir.resolve("pki/controllerca/cacert.pem");
  }

  public record Identity(Path privateKey, Path certificate) {
    /** Dials servers whose certificate {@code ca} signed, presenting this identity. */
    public SslContext client(Path ca) throws SSLException {
      return SslContextBuilder.forClient().keyManager(certificate.toFile(), privateKey.toFile())
          .trustManager(ca.toFile()).endpointIdentificationAlgorithm(null).build();
    }

    /** Serves peers whose certificate {@code ca} signed, presenting this identity. */
    public SslContext server(Path ca) throws SSLException {
      return SslContextBuilder.forServer(certificate.toFile(), privateKey.toFile()).trustManager(ca.toFile())
          .clientAuth(ClientAuth.REQUIRE).build();
    }
  }
}
