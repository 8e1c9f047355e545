package io.sluice.controller.tls;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;

/**
 * Sluice's TLS identity and trust, as Open vSwitch's {@code --private-key}, {@code --certificate} and
 * {@code --ca-cert} name them (PEM files; {@code ovs-pki} writes them as they are needed: the controller's key and
 * certificate, and {@code switchca/cacert.pem} to check the switches). Both southbound protocols use them: listeners
 * require a peer certificate signed by the CA, and outgoing connections accept only a server certificate signed by
 * it. Names are not checked against host names (OVS does not either); the peer's certificate CN is the name
 * {@code --switches} compares.
 */
public record TlsFiles(Path privateKey, Path certificate, Path caCert) {
  /** How long a TLS handshake may take before the connection is closed. */
  public static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(5);
  /** What OVS 3.x's OpenSSL speaks by default, and nothing older. */
  static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

  /**
   * The three flags together, or null when none is given; a partial set is an error naming the missing flags.
   */
  public static TlsFiles of(Path privateKey, Path certificate, Path caCert) {
    if (privateKey == null && certificate == null && caCert == null) {
      return null;
    }
    List<String> missing = new ArrayList<>();
    if (privateKey == null) {
      missing.add("--private-key");
    }
    if (certificate == null) {
      missing.add("--certificate");
    }
    if (caCert == null) {
      missing.add("--ca-cert");
    }
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException(String.join(" and ", missing) + ": TLS needs --private-key, --certificate "
          + "and --ca-cert together");
    }
    return new TlsFiles(privateKey, certificate, caCert);
  }

  /** For listeners: presents our certificate, requires one signed by the CA from every peer. */
  public SslContext server() {
    Loaded l = load();
    return build(SslContextBuilder.forServer(l.key(), l.chain()).clientAuth(ClientAuth.REQUIRE), l);
  }

  /** For outgoing connections: presents our certificate, accepts only a server certificate signed by the CA. */
  public SslContext client() {
    Loaded l = load();
    return build(SslContextBuilder.forClient().keyManager(l.key(), l.chain()).endpointIdentificationAlgorithm(null), l);
  }

  /**
   * Reads every file now, so that a bad one stops start-up with a message naming its flag: unreadable, not PEM, a key
   * that does not belong to the certificate, an expired certificate.
   */
  public TlsFiles check() {
    Loaded l = load();
    X509Certificate mine = l.chain()[0];
    if (mine.getNotAfter().getTime() < System.currentTimeMillis()) {
      throw new IllegalArgumentException("--certificate: " + certificate + " expired on " + mine.getNotAfter());
    }
    if (!belongTogether(l.key(), mine)) {
      throw new IllegalArgumentException("--private-key: " + privateKey + " is not the key of --certificate "
          + certificate + " (give the NAME-privkey.pem and NAME-cert.pem ovs-pki made together)");
    }
    server();
    client();
    return this;
  }

  private record Loaded(PrivateKey key, X509Certificate[] chain, X509Certificate[] cas) { }

  private Loaded load() {
    return new Loaded(readKey(privateKey), certificates(certificate, "--certificate").toArray(X509Certificate[]::new),
        certificates(caCert, "--ca-cert").toArray(X509Certificate[]::new));
  }

  private SslContext build(SslContextBuilder b, Loaded l) {
    try {
      return b.sslProvider(SslProvider.JDK).protocols(PROTOCOLS).trustManager(l.cas()).build();
    } catch (SSLException | RuntimeException e) {
      throw new IllegalArgumentException("--private-key/--certificate/--ca-cert: cannot use " + privateKey + ", "
          + certificate + " and " + caCert + ": " + rootMessage(e), e);
    }
  }

  /**
   * A PEM private key: PKCS#8 ({@code BEGIN PRIVATE KEY}, what ovs-pki writes with OpenSSL 3) or PKCS#1 RSA
   * ({@code BEGIN RSA PRIVATE KEY}, older OpenSSL). Encrypted keys are refused: OVS takes no passphrase either.
   */
  static PrivateKey readKey(Path p) {
    readable(p, "--private-key");
    String pem;
    try {
      pem = Files.readString(p, java.nio.charset.StandardCharsets.US_ASCII);
    } catch (IOException | java.io.UncheckedIOException e) {
      throw new IllegalArgumentException("--private-key: " + p + " cannot be read: " + rootMessage(e), e);
    }
    java.util.regex.Matcher m = java.util.regex.Pattern
        .compile("-----BEGIN ([A-Z ]*PRIVATE KEY)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----").matcher(pem);
    if (!m.find()) {
      throw new IllegalArgumentException("--private-key: " + p + " holds no PEM private key");
    }
    byte[] der;
    try {
      der = java.util.Base64.getMimeDecoder().decode(m.group(2));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--private-key: " + p + " is not valid PEM: " + e.getMessage(), e);
    }
    switch (m.group(1)) {
      case "PRIVATE KEY" -> { }
      case "RSA PRIVATE KEY" -> der = pkcs8OfRsa(der);
      case "ENCRYPTED PRIVATE KEY" -> throw new IllegalArgumentException("--private-key: " + p + " is encrypted; "
          + "give an unencrypted key (openssl pkey -in KEY -out KEY.pem), as ovs-pki writes it");
      default -> throw new IllegalArgumentException("--private-key: " + p + " is a " + m.group(1) + "; convert it "
          + "to PKCS#8 with openssl pkey -in KEY -out KEY.pem");
    }
    java.security.spec.PKCS8EncodedKeySpec spec = new java.security.spec.PKCS8EncodedKeySpec(der);
    for (String alg : new String[] {"RSA", "EC", "Ed25519", "Ed448"}) {
      try {
        return java.security.KeyFactory.getInstance(alg).generatePrivate(spec);
      } catch (java.security.GeneralSecurityException e) {
        // try the next kind
      }
    }
    throw new IllegalArgumentException("--private-key: " + p + " is not an RSA, EC or EdDSA key Sluice can read");
  }

  /** Wraps a PKCS#1 RSAPrivateKey in a PKCS#8 PrivateKeyInfo (version 0, rsaEncryption, the key as OCTET STRING). */
  private static byte[] pkcs8OfRsa(byte[] pkcs1) {
    byte[] head = {0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d,
        0x01, 0x01, 0x01, 0x05, 0x00};
    java.io.ByteArrayOutputStream octets = new java.io.ByteArrayOutputStream();
    octets.write(0x04);
    derLength(octets, pkcs1.length);
    octets.writeBytes(pkcs1);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    out.write(0x30);
    derLength(out, head.length + octets.size());
    out.writeBytes(head);
    out.writeBytes(octets.toByteArray());
    return out.toByteArray();
  }

  private static void derLength(java.io.ByteArrayOutputStream out, int n) {
    if (n < 0x80) {
      out.write(n);
    } else if (n < 0x100) {
      out.write(0x81);
      out.write(n);
    } else if (n < 0x10000) {
      out.write(0x82);
      out.write(n >> 8);
      out.write(n & 0xff);
    } else {
      out.write(0x83);
      out.write(n >> 16);
      out.write(n >> 8 & 0xff);
      out.write(n & 0xff);
    }
  }

  /** Whether a signature made with {@code key} verifies with the certificate's public key. */
  static boolean belongTogether(PrivateKey key, X509Certificate cert) {
    String alg = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      default -> key.getAlgorithm(); // Ed25519, Ed448
    };
    try {
      byte[] probe = "sluice key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      java.security.Signature sign = java.security.Signature.getInstance(alg);
      sign.initSign(key);
      sign.update(probe);
      byte[] sig = sign.sign();
      java.security.Signature verify = java.security.Signature.getInstance(alg);
      verify.initVerify(cert.getPublicKey());
      verify.update(probe);
      return verify.verify(sig);
    } catch (java.security.GeneralSecurityException e) {
      return false;
    }
  }

  private static void readable(Path p, String flag) {
    if (!Files.isReadable(p)) {
      throw new IllegalArgumentException(flag + ": " + p + " does not exist or cannot be read");
    }
  }

  private static List<X509Certificate> certificates(Path p, String flag) {
    readable(p, flag);
    try (var in = Files.newInputStream(p)) {
      List<X509Certificate> out = new ArrayList<>();
      for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        out.add((X509Certificate) c);
      }
      if (out.isEmpty()) {
        throw new IllegalArgumentException(flag + ": " + p + " holds no PEM certificate");
      }
      return out;
    } catch (IOException | CertificateException e) {
      throw new IllegalArgumentException(flag + ": " + p + " is not a PEM certificate: " + rootMessage(e), e);
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }

  /**
   * The CN of the peer's certificate (OVS names a peer by it), or null when it presented none; the same name the
   * OVSDB allow-list compares ({@link io.sluice.ovsdb.CertificateName}).
   */
  public static String peerName(SSLSession session) {
    return io.sluice.ovsdb.CertificateName.ofPeer(session);
  }

  public static String commonName(X509Certificate c) {
    return io.sluice.ovsdb.CertificateName.of(c);
  }
}
