package io.sluice.ovsdb;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.model.ObjectRef;
import io.sluice.ovsdb.testing.EventLog;
import io.sluice.ovsdb.testing.Pki;
import io.sluice.ovsdb.testing.PrivateOvsdbServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * OVSDB over TLS against an ovsdb-server of our own, keys made by ovs-pki: Sluice dials {@code ssl:} and learns port
 * bindings; an ovsdb-server told {@code set-manager ssl:} reaches a {@code pssl:} listener; a server certificate from
 * another CA is refused by the client, and a plain client or one presenting another CA's certificate gets nothing
 * from the listener.
 */
class TlsBindingsIT {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final ObjectRef A = new ObjectRef("ns", "a");
  private static final OvsdbSource.Options FAST = OvsdbSource.Options.defaults()
      .withBackoff(Duration.ofMillis(100), Duration.ofMillis(500));
  private static Path dir;
  private static Pki pki;
  private static Pki other;
  private static Pki.Identity sluice;
  private static Pki.Identity server;
  private static Pki.Identity stranger;
  /** Signed by the same CA as {@code server}, under another name. */
  private static Pki.Identity sibling;

  private PrivateOvsdbServer srv;
  private final List<PrivateOvsdbServer> more = new java.util.ArrayList<>();
  private OvsdbSource source;

  @BeforeAll
  static void keys() throws IOException {
    dir = Files.createTempDirectory("sluice-ovsdb-tls-");
    pki = new Pki(Files.createDirectories(dir.resolve("a")));
    sluice = pki.sign("ctl", "controller");
    server = pki.sign("sw", "switch");
    sibling = pki.sign("sw2", "switch");
    other = new Pki(Files.createDirectories(dir.resolve("b")));
    stranger = other.sign("sw", "switch");
  }

  @AfterAll
  static void removeKeys() throws IOException {
    try (var files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @AfterEach
  void cleanUp() {
    try {
      if (source != null) {
        source.stop();
      }
    } finally {
      more.forEach(PrivateOvsdbServer::close);
      if (srv != null) {
        srv.close();
      }
    }
  }

  /** Sluice's TLS: its controller certificate, trusting the servers' CA ({@code ca}). */
  private static OvsdbTls tls(Path ca) throws IOException {
    return new OvsdbTls(sluice.client(ca), sluice.server(ca), Duration.ofSeconds(5));
  }

  private PrivateOvsdbServer serverWithSsl(String... remotes) {
    return serverWithSsl(server, "a", 0xaa, remotes);
  }

  /** A server presenting {@code id}, pod ns/{@code pod} on port 5 of a bridge with datapath id {@code dpid}. */
  private PrivateOvsdbServer serverWithSsl(Pki.Identity id, String pod, long dpid, String... remotes) {
    List<String> args = new java.util.ArrayList<>(List.of("--private-key=" + id.privateKey(),
        "--certificate=" + id.certificate(), "--ca-cert=" + pki.controllerCa()));
    for (String r : remotes) {
      args.add("--remote=" + r);
    }
    PrivateOvsdbServer s = new PrivateOvsdbServer(args.toArray(String[]::new));
    s.vsctl("add-br", "br0", "--", "set", "bridge", "br0", String.format("other_config:datapath-id=%016x", dpid), "--",
        "add-port", "br0", "p" + pod, "--", "set", "interface", "p" + pod, "ofport=5", "external_ids:pod-namespace=ns",
        "external_ids:pod-name=" + pod, "external_ids:attached-mac=02:00:00:00:00:0a");
    return s;
  }

  /** The CN of a certificate ovs-pki made ({@code sw id:...}), read from its subject without Sluice's code. */
  private static String cn(Pki.Identity id) throws IOException, java.security.cert.CertificateException {
    try (InputStream in = Files.newInputStream(id.certificate())) {
      String subject = ((java.security.cert.X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
          .generateCertificate(in)).getSubjectX500Principal().getName();
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?:^|,)CN=([^,]+)").matcher(subject);
      assertThat(m.find()).as("a CN in %s", subject).isTrue();
      return m.group(1);
    }
  }

  @Test
  void anOvsdbNodesListServesAListedSystemIdOnlyWithItsCertificateName() throws Exception {
    String name = cn(server);
    String otherName = cn(sibling);
    assertThat(name).startsWith("sw id:").isNotEqualTo(otherName);
    OvsdbNodeAllowList nodes = OvsdbNodeAllowList.parse("nodes.txt", List.of(
        "# node-1 and node-2 must present the certificate ovs-pki made for 'sw'",
        "node-1 " + name,
        "node-2 " + name));
    int p1 = freePort();
    int p2 = freePort();
    int p3 = freePort();
    // node-1, presenting its certificate: served
    srv = serverWithSsl(server, "a", 0xaa, "pssl:" + p1 + ":127.0.0.1");
    srv.vsctl("set", "open_vswitch", ".", "external_ids:system-id=node-1");
    // also node-1, but presenting another certificate of the same CA: refused
    PrivateOvsdbServer wrongName = serverWithSsl(sibling, "b", 0xbb, "pssl:" + p2 + ":127.0.0.1");
    more.add(wrongName);
    wrongName.vsctl("set", "open_vswitch", ".", "external_ids:system-id=node-1");
    // the right certificate, but a system-id not on the list: refused
    PrivateOvsdbServer unlisted = serverWithSsl(server, "c", 0xcc, "pssl:" + p3 + ":127.0.0.1");
    more.add(unlisted);
    unlisted.vsctl("set", "open_vswitch", ".", "external_ids:system-id=node-9");
    // node-2, listed with a name, reached over a plain unix socket: refused
    PrivateOvsdbServer plain = serverWithSsl(server, "d", 0xdd);
    more.add(plain);
    plain.vsctl("set", "open_vswitch", ".", "external_ids:system-id=node-2");

    OvsdbEndpoint right = OvsdbEndpoint.parse("ssl:127.0.0.1:" + p1);
    OvsdbEndpoint wrong = OvsdbEndpoint.parse("ssl:127.0.0.1:" + p2);
    OvsdbEndpoint other = OvsdbEndpoint.parse("ssl:127.0.0.1:" + p3);
    OvsdbEndpoint unix = OvsdbEndpoint.parse(plain.endpoint());
    source = new OvsdbSource(List.of(wrong, other, unix, right), FAST.withAllowedNodes(nodes), tls(pki.switchCa()));
    source.start(new EventLog());
    EventLog.await(() -> source.bindings().containsKey(A), WAIT, "node-1's pod bound over ssl:");
    EventLog.await(() -> error(wrong).equals("refused: system-id node-1 presented certificate name '" + otherName
        + "', --ovsdb-nodes nodes.txt requires '" + name + "'"), WAIT, "node-1 with another certificate refused");
    EventLog.await(() -> error(other).equals("refused: system-id node-9 is not in the --ovsdb-nodes list"), WAIT,
        "unlisted node-9 refused");
    EventLog.await(() -> error(unix).equals("refused: system-id node-2 must present certificate name '" + name
        + "' (--ovsdb-nodes nodes.txt) but connected without TLS"), WAIT, "node-2 over unix: refused");
    Thread.sleep(300);
    assertThat(source.bindings()).as("only the listed server with the listed name binds").containsOnlyKeys(A);
    assertThat(source.status()).filteredOn(s -> s.name().equals(right.toString())).singleElement()
        .satisfies(s -> assertThat(s.state()).isEqualTo(OvsdbStatus.State.SYNCED))
        .satisfies(s -> assertThat(s.systemId()).isEqualTo("node-1"));
  }

  private String error(OvsdbEndpoint e) {
    return source.status().stream().filter(s -> s.name().equals(e.toString())).findFirst().orElseThrow().lastError();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void sluiceDialsAnSslServerAndLearnsItsBindings() throws Exception {
    int port = freePort();
    srv = serverWithSsl("pssl:" + port + ":127.0.0.1");
    OvsdbEndpoint e = OvsdbEndpoint.parse("ssl:127.0.0.1:" + port);
    source = new OvsdbSource(List.of(e), FAST, tls(pki.switchCa()));
    source.start(new EventLog());
    EventLog.await(() -> source.bindings().containsKey(A), WAIT, "pod a bound over ssl:");
    assertThat(source.bindings().get(A).ofport()).isEqualTo(5);
    assertThat(source.ready()).isTrue();
  }

  @Test
  void aServerCertificateFromAnotherCaIsRefused() throws Exception {
    int port = freePort();
    srv = serverWithSsl("pssl:" + port + ":127.0.0.1");
    OvsdbEndpoint e = OvsdbEndpoint.parse("ssl:127.0.0.1:" + port);
    source = new OvsdbSource(List.of(e), FAST, tls(other.switchCa()));
    source.start(new EventLog());
    EventLog.await(() -> source.status().get(0).lastError().contains("TLS handshake failed"), WAIT,
        "the handshake refused, said in the status");
    assertThat(source.bindings()).isEmpty();
    assertThat(source.ready()).isFalse();
  }

  @Test
  void aPsslListenerServesAServerToldSetManagerSslAndRefusesPlainAndStrangerClients() throws Exception {
    srv = serverWithSsl();
    OvsdbEndpoint listen = OvsdbEndpoint.parse("pssl:0:127.0.0.1");
    source = new OvsdbSource(List.of(listen), FAST, tls(pki.switchCa()));
    source.start(new EventLog());
    EventLog.await(() -> source.listenPort(listen).isPresent(), WAIT, "listening");
    int port = source.listenPort(listen).orElseThrow();

    // a plain JSON-RPC client: its request is not TLS, nothing comes back, the connection is closed
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(20_000);
      s.getOutputStream().write("{\"id\":1,\"method\":\"echo\",\"params\":[]}".getBytes(StandardCharsets.UTF_8));
      assertThat(firstByteBeforeEnd(s.getInputStream())).as("no JSON reply (closed, at most a TLS alert)").isIn(-1, 21);
    }
    // a TLS client whose certificate another CA signed (TLS 1.2: the server's refusal ends the handshake itself)
    assertThat(strangerHandshakeAndRead(port)).as("the stranger is refused").isFalse();
    assertThat(source.status()).as("neither peer reached a session").hasSize(1);

    // the real server, told set-manager ssl:, is admitted and synced
    srv.vsctl("set-manager", "ssl:127.0.0.1:" + port);
    EventLog.await(() -> source.bindings().containsKey(A), WAIT, "pod a bound over pssl:");
    assertThat(source.status()).anyMatch(s -> s.name().startsWith("pssl:" + port + " peer 127.0.0.1:"));
  }

  private static int firstByteBeforeEnd(InputStream in) throws IOException {
    int first = in.read();
    for (int b = first; b >= 0; b = in.read()) {
      // drain
    }
    return first;
  }

  /** A TLS handshake as the stranger; true if it succeeds and an answer to an echo can be read. */
  private static boolean strangerHandshakeAndRead(int port) throws Exception {
    try (Socket raw = new Socket("127.0.0.1", port)) {
      raw.setSoTimeout(20_000);
      javax.net.ssl.SSLSocketFactory f = jdkContext().getSocketFactory();
      try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) f.createSocket(raw, "127.0.0.1", port, true)) {
        s.setEnabledProtocols(new String[] {"TLSv1.2"});
        s.startHandshake();
        s.getOutputStream().write("{\"id\":1,\"method\":\"echo\",\"params\":[]}".getBytes(StandardCharsets.UTF_8));
        return s.getInputStream().read() >= 0;
      } catch (IOException e) {
        return false;
      }
    }
  }

  /** A JDK context that presents the stranger's certificate whatever the server asks for, and trusts any server. */
  private static javax.net.ssl.SSLContext jdkContext() throws Exception {
    String b64 = Files.readString(stranger.privateKey()).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    java.security.PrivateKey key = java.security.KeyFactory.getInstance("RSA")
        .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(java.util.Base64.getDecoder().decode(b64)));
    java.security.cert.X509Certificate cert;
    try (InputStream in = Files.newInputStream(stranger.certificate())) {
      cert = (java.security.cert.X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
          .generateCertificate(in);
    }
    javax.net.ssl.X509ExtendedKeyManager km = new javax.net.ssl.X509ExtendedKeyManager() {
      @Override
      public String[] getClientAliases(String t, java.security.Principal[] i) {
        return new String[] {"k"};
      }

      @Override
      public String chooseClientAlias(String[] t, java.security.Principal[] i, Socket s) {
        return "k";
      }

      @Override
      public String[] getServerAliases(String t, java.security.Principal[] i) {
        return null;
      }

      @Override
      public String chooseServerAlias(String t, java.security.Principal[] i, Socket s) {
        return null;
      }

      @Override
      public java.security.cert.X509Certificate[] getCertificateChain(String alias) {
        return new java.security.cert.X509Certificate[] {cert};
      }

      @Override
      public java.security.PrivateKey getPrivateKey(String alias) {
        return key;
      }
    };
    javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
    ctx.init(new javax.net.ssl.KeyManager[] {km},
        io.netty.handler.ssl.util.InsecureTrustManagerFactory.INSTANCE.getTrustManagers(), null);
    return ctx;
  }
}
