package io.sluice.controller.testing;

import io.sluice.controller.tls.TlsFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * A certificate authority made by Open vSwitch's own {@code ovs-pki} in a directory of the test's, laid out as OVS
 * documents it: {@code pki/controllerca} signs controllers, {@code pki/switchca} signs switches and OVSDB servers.
 */
public final class Pki {
  private final Path dir;

  /** Runs {@code ovs-pki init} under {@code dir}. */
  public Pki(Path dir) {
    this.dir = dir;
    ovsPki("init");
  }

  private String ovsPki(String... args) {
    List<String> cmd = new ArrayList<>(List.of("sh", "-c", "cd \"$0\" && exec ovs-pki \"$@\"", dir.toString(),
        "--dir=" + dir.resolve("pki"), "--log=" + dir.resolve("ovs-pki.log")));
    cmd.addAll(List.of(args));
    return Sh.run(cmd.toArray(String[]::new));
  }

  /** {@code ovs-pki req+sign NAME TYPE} (type controller or switch): NAME-privkey.pem and NAME-cert.pem. */
  public Identity sign(String name, String type) {
    ovsPki("req+sign", name, type);
    return new Identity(dir.resolve(name + "-privkey.pem"), dir.resolve(name + "-cert.pem"));
  }

  /** What controllers trust: the CA that signs switches. */
  public Path switchCa() {
    return dir.resolve("pki/switchca/cacert.pem");
  }

  /** What switches trust: the CA that signs controllers. */
  public Path controllerCa() {
    return dir.resolve("pki/controllerca/cacert.pem");
  }

  /** A key and its signed certificate. */
  public record Identity(Path privateKey, Path certificate) {
    /** The certificate's CN, e.g. {@code sw id:87c3d478-...}. */
    public String commonName() {
      try (InputStream in = Files.newInputStream(certificate)) {
        return TlsFiles.commonName((X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in));
      } catch (IOException | java.security.cert.CertificateException e) {
        throw new AssertionError(e);
      }
    }

    /** This identity trusting {@code ca}. */
    public TlsFiles trusting(Path ca) {
      return new TlsFiles(privateKey, certificate, ca).check();
    }
  }
}
