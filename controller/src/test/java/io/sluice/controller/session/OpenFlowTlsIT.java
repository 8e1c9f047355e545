package io.sluice.controller.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.Pki;
import io.sluice.controller.testing.Sh;
import io.sluice.controller.testing.TestController;
import io.sluice.controller.tls.TlsFiles;
import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.flow.Field;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.Match;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * OpenFlow over TLS with the machine's real Open vSwitch, keys made by ovs-pki: a bridge told
 * {@code set-controller BR ssl:127.0.0.1:PORT} (after {@code ovs-vsctl set-ssl}) is realized; a peer whose
 * certificate another CA signed, or that does not speak TLS at all, is refused; with {@code --switches}, a datapath id
 * not listed, or presenting another certificate name than the one listed, is refused after its features reply.
 * {@code set-ssl} is global to the running OVS: it is set for these tests and removed after (tcp controllers of
 * other tests are not affected by it).
 */
class OpenFlowTlsIT {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static Path dir;
  private static Pki pki;
  private static Pki otherPki;
  private static Pki.Identity controller;
  private static Pki.Identity sw;
  private static Pki.Identity stranger;

  @BeforeAll
  static void pkiAndOvs() throws Exception {
    Ovs.ensureRunning();
    String before = Sh.run("ovs-vsctl", "get-ssl").trim();
    if (!before.isEmpty()) {
      throw new AssertionError("Open vSwitch already has an SSL configuration (someone else's?); not replacing it:\n"
          + before);
    }
    dir = Files.createTempDirectory("sluice-tls-");
    pki = new Pki(Files.createDirectories(dir.resolve("a")));
    controller = pki.sign("ctl", "controller");
    sw = pki.sign("sw", "switch");
    otherPki = new Pki(Files.createDirectories(dir.resolve("b")));
    stranger = otherPki.sign("sw", "switch");
    Sh.run("ovs-vsctl", "set-ssl", sw.privateKey().toString(), sw.certificate().toString(), pki.controllerCa().toString());
  }

  @AfterAll
  static void cleanUp() throws Exception {
    Sh.quiet("ovs-vsctl", "del-ssl");
    if (dir != null) {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** ip,nw_dst=10.0.0.1 in table 0, sent to table 90: a flow to find on the bridge. */
  private static Flow toHost() {
    Match m = Match.builder().ipv4().exact(Field.IPV4_DST, 0x0a000001L).build();
    return new Flow(0, 100, m, List.of(new Action.GotoTable(90)), Cookie.of(Cookie.Category.BENCH, 1, 1));
  }

  private static OpenFlowServer.Tls tls(TlsFiles files) {
    return new OpenFlowServer.Tls(files.server(), TlsFiles.HANDSHAKE_TIMEOUT);
  }

  private static void sslController(String br, int port) {
    Sh.run("ovs-vsctl", "set-controller", br, "ssl:127.0.0.1:" + port, "--",
        "set", "controller", br, "max_backoff=1000", "inactivity_probe=0");
  }

  private static void await(BooleanSupplier p, String what) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!p.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + WAIT + ": " + what);
      }
      Ovs.sleep(50);
    }
  }

  @Test
  void aBridgeOverTlsIsRealizedAndListedSwitchesWithTheWrongNameOrNoEntryAreRefused() throws Exception {
    long listed = 0x7151;
    long wrongName = 0x7152;
    long unlisted = 0x7153;
    SwitchAllowList list = SwitchAllowList.parse("switches.txt", List.of(
        "0x7151 " + sw.commonName(), String.format("%d sw id:not-this-one", wrongName)));
    AtomicInteger refused = new AtomicInteger();
    Admission counting = (dpid, name) -> {
      String why = list.refusal(dpid, name);
      if (why != null) {
        refused.incrementAndGet();
      }
      return why;
    };
    try (Ovs ovs = new Ovs();
         TestController c = new TestController(Duration.ofMillis(500), tls(controller.trusting(pki.switchCa())), counting)) {
      String br = ovs.bridge("ts", listed, "OpenFlow13,OpenFlow14,OpenFlow15", 0);
      String other = ovs.bridge("tw", wrongName, "OpenFlow13,OpenFlow14,OpenFlow15", 0);
      String third = ovs.bridge("tu", unlisted, "OpenFlow13,OpenFlow14,OpenFlow15", 0);
      c.setFlows(listed, List.of(toHost()));
      c.setFlows(wrongName, List.of(toHost()));
      c.setFlows(unlisted, List.of(toHost()));
      sslController(br, c.port());
      sslController(other, c.port());
      sslController(third, c.port());

      c.awaitRealized(listed, WAIT);
      assertThat(ovs.flows(br)).as("flows pushed over TLS").anyMatch(l -> l.contains("nw_dst=10.0.0.1"));
      // OVS writes is_connected with its periodic status update, a few seconds later
      await(() -> Sh.run("ovs-vsctl", "get", "controller", br, "is_connected").trim().equals("true"),
          "OVS reports its ssl: controller connected");

      await(() -> refused.get() >= 4, "both unwanted bridges refused (each retries)");
      assertThat(c.manager().connectedCount()).as("only the listed switch with its name is connected").isEqualTo(1);
      assertThat(ovs.flows(other)).as("flows of the switch presenting another name").noneMatch(l -> l.contains("nw_dst="));
      assertThat(ovs.flows(third)).as("flows of the unlisted switch").noneMatch(l -> l.contains("nw_dst="));
      assertThat(c.server().refusedTlsHandshakes()).as("their TLS was fine: refused by the list").isZero();
    }
  }

  @Test
  void aSwitchWhoseCertificateAnotherCaSignedIsRefused() throws Exception {
    // Sluice presents a certificate the switch trusts but trusts only the other CA's switches: OVS's own
    // certificate (signed by the first CA) is refused by Sluice, not the other way round.
    long dpid = 0x7154;
    try (Ovs ovs = new Ovs();
         TestController c = new TestController(Duration.ofMillis(500), tls(controller.trusting(otherPki.switchCa())),
             Admission.ALL)) {
      String br = ovs.bridge("tc", dpid, "OpenFlow13,OpenFlow14,OpenFlow15", 0);
      c.setFlows(dpid, List.of(toHost()));
      sslController(br, c.port());
      await(() -> c.server().refusedTlsHandshakes() >= 2, "the switch's handshakes refused (it retries)");
      assertThat(c.manager().connectedCount()).isZero();
      assertThat(ovs.flows(br)).noneMatch(l -> l.contains("nw_dst="));
      assertThat(Sh.run("ovs-vsctl", "get", "controller", br, "is_connected").trim()).isEqualTo("false");
    }
  }

  @Test
  void aTlsClientWithAnotherCasCertificateAndAPlainClientAreRefusedBeforeOpenFlow() throws Exception {
    try (TestController c = new TestController(Duration.ofMillis(500), tls(controller.trusting(pki.switchCa())),
        Admission.ALL)) {
      // a TLS client presenting a certificate of the other CA (it trusts the server, so only the server can refuse)
      SSLContext ctx = SSLContext.getInstance("TLS");
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("k", readKey(stranger.privateKey()), new char[0], readCerts(stranger.certificate()));
      kmf.init(ks, new char[0]);
      ctx.init(new javax.net.ssl.KeyManager[] {new Insistent((javax.net.ssl.X509KeyManager) kmf.getKeyManagers()[0])},
          new javax.net.ssl.TrustManager[] {new TrustAll()}, null);
      long before = c.server().refusedTlsHandshakes();
      try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", c.port())) {
        s.setSoTimeout(20_000);
        s.setEnabledProtocols(new String[] {"TLSv1.2"}); // in 1.2 the server's refusal ends the handshake itself
        boolean refused;
        try {
          s.startHandshake();
          refused = s.getInputStream().read() < 0;
        } catch (java.io.IOException e) {
          refused = true;
        }
        assertThat(refused).as("handshake or first read fails").isTrue();
      }
      await(() -> c.server().refusedTlsHandshakes() > before, "the stranger counted as refused");

      // a plain OpenFlow peer: its HELLO is not TLS; it never gets Sluice's HELLO
      long plainBefore = c.server().refusedTlsHandshakes();
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", c.port()), 5_000);
        s.setSoTimeout(20_000);
        s.getOutputStream().write(new byte[] {4, 0, 0, 8, 0, 0, 0, 1}); // OpenFlow 1.3 HELLO
        assertThat(firstByteBeforeEnd(s.getInputStream())).as("no OpenFlow HELLO comes back (closed, at most a TLS "
            + "alert)").isIn(-1, 21);
      }
      await(() -> c.server().refusedTlsHandshakes() > plainBefore, "the plain peer counted as refused");
      assertThat(c.manager().connectedCount()).isZero();
    }
  }

  @Test
  void aPeerThatNeverFinishesTheHandshakeHoldsItsSlotUntilTheHandshakeTimeoutClosesIt() throws Exception {
    SessionListener none = new SessionListener() {
      @Override
      public void active(SwitchSession session) { }

      @Override
      public void closed(SwitchSession session, String reason) { }
    };
    try (OpenFlowServer server = new OpenFlowServer(new InetSocketAddress("127.0.0.1", 0),
        () -> new SwitchSession(new SessionConfig(Duration.ofSeconds(1), Duration.ofSeconds(30)), none,
            SessionMetrics.NONE), 1, OpenFlowServer.Limits.defaults().withConnections(1, 1),
        new OpenFlowServer.Tls(controller.trusting(pki.switchCa()).server(), Duration.ofSeconds(2)));
         Socket silent = new Socket()) {
      silent.connect(server.localAddress(), 5_000);
      silent.setSoTimeout(30_000);
      await(() -> server.connections().size() == 1, "the silent peer counted");
      try (Socket second = new Socket()) {
        second.connect(server.localAddress(), 5_000);
        second.setSoTimeout(30_000);
        assertThat(second.getInputStream().read()).as("a second connection past --max-switches 1: closed").isEqualTo(-1);
      }
      assertThat(server.refusedConnections()).isEqualTo(1);
      assertThat(firstByteBeforeEnd(silent.getInputStream())).as("closed by the TLS handshake timeout (at most an alert)")
          .isIn(-1, 21);
      await(() -> server.connections().isEmpty(), "its slot released");
      assertThat(server.refusedTlsHandshakes()).isEqualTo(1);
    }
  }

  /** Reads to the end of the stream; returns the first byte (-1 when there was none). 21 is a TLS alert record. */
  private static int firstByteBeforeEnd(InputStream in) throws java.io.IOException {
    int first = in.read();
    for (int b = first; b >= 0; b = in.read()) {
      // drain
    }
    return first;
  }

  private static java.security.PrivateKey readKey(Path pem) throws Exception {
    String b64 = Files.readString(pem).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    return java.security.KeyFactory.getInstance("RSA")
        .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(java.util.Base64.getDecoder().decode(b64)));
  }

  private static java.security.cert.Certificate[] readCerts(Path pem) throws Exception {
    try (InputStream in = Files.newInputStream(pem)) {
      return java.security.cert.CertificateFactory.getInstance("X.509").generateCertificates(in)
          .toArray(java.security.cert.Certificate[]::new);
    }
  }

  /** Presents the stranger's certificate although the server names another CA (the JDK would send none). */
  private static final class Insistent extends javax.net.ssl.X509ExtendedKeyManager {
    private final javax.net.ssl.X509KeyManager keys;

    Insistent(javax.net.ssl.X509KeyManager keys) {
      this.keys = keys;
    }

    @Override
    public String[] getClientAliases(String keyType, java.security.Principal[] issuers) {
      return new String[] {"k"};
    }

    @Override
    public String chooseClientAlias(String[] keyType, java.security.Principal[] issuers, Socket socket) {
      return "k";
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, java.security.Principal[] issuers,
                                          javax.net.ssl.SSLEngine engine) {
      return "k";
    }

    @Override
    public String[] getServerAliases(String keyType, java.security.Principal[] issuers) {
      return null;
    }

    @Override
    public String chooseServerAlias(String keyType, java.security.Principal[] issuers, Socket socket) {
      return null;
    }

    @Override
    public java.security.cert.X509Certificate[] getCertificateChain(String alias) {
      return keys.getCertificateChain(alias);
    }

    @Override
    public java.security.PrivateKey getPrivateKey(String alias) {
      return keys.getPrivateKey(alias);
    }
  }

  /** The stranger trusts any server: the test is about the server refusing it. */
  private static final class TrustAll implements javax.net.ssl.X509TrustManager {
    @Override
    public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType) { }

    @Override
    public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType) { }

    @Override
    public java.security.cert.X509Certificate[] getAcceptedIssuers() {
      return new java.security.cert.X509Certificate[0];
    }
  }
}
