package io.sluice.controller.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.controller.testing.Pki;
import io.sluice.controller.testing.Sh;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The key, certificate and CA files as ovs-pki and openssl write them (IT: it runs both tools): PKCS#8 and PKCS#1
 * keys are read; a key that is not the certificate's and an encrypted key stop start-up naming the flag.
 */
class TlsFilesIT {
  @Test
  void readsOvsPkiFilesAndOlderRsaKeysAndRefusesMismatchedOrEncryptedKeys(@TempDir Path dir) throws Exception {
    Pki pki = new Pki(Files.createDirectories(dir.resolve("pki")));
    Pki.Identity ctl = pki.sign("ctl", "controller");
    Pki.Identity other = pki.sign("other", "controller");

    assertThat(Files.readString(ctl.privateKey())).startsWith("-----BEGIN PRIVATE KEY-----");
    TlsFiles files = new TlsFiles(ctl.privateKey(), ctl.certificate(), pki.switchCa()).check();
    assertThat(files.server().isServer()).isTrue();
    assertThat(files.client().isClient()).isTrue();
    assertThat(ctl.commonName()).startsWith("ctl id:");

    Path pkcs1 = dir.resolve("ctl-rsa.pem");
    Sh.run("openssl", "pkey", "-in", ctl.privateKey().toString(), "-traditional", "-out", pkcs1.toString());
    assertThat(Files.readString(pkcs1)).startsWith("-----BEGIN RSA PRIVATE KEY-----");
    assertThat(TlsFiles.readKey(pkcs1)).isEqualTo(TlsFiles.readKey(ctl.privateKey()));
    new TlsFiles(pkcs1, ctl.certificate(), pki.switchCa()).check();

    assertThatThrownBy(() -> new TlsFiles(other.privateKey(), ctl.certificate(), pki.switchCa()).check())
        .hasMessageContaining("--private-key: " + other.privateKey() + " is not the key of --certificate "
            + ctl.certificate());

    Path encrypted = dir.resolve("ctl-enc.pem");
    Sh.run("openssl", "pkey", "-in", ctl.privateKey().toString(), "-aes256", "-passout", "pass:secret", "-out",
        encrypted.toString());
    assertThatThrownBy(() -> new TlsFiles(encrypted, ctl.certificate(), pki.switchCa()).check())
        .hasMessageContaining("--private-key: " + encrypted + " is encrypted");

    assertThatThrownBy(() -> new TlsFiles(ctl.privateKey(), ctl.certificate(), ctl.privateKey()).check())
        .hasMessageContaining("--ca-cert: " + ctl.privateKey());
  }
}
