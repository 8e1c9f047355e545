package io.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sluice trace} without OVS: a stand-in status API and a stand-in ovs-appctl (a script printing a trace OVS 3.1
 * printed in TraceIT) drive the verdict logic: agreement, a disagreement when the reference says otherwise, a
 * destination whose bridge is not on this Open vSwitch (egress only), and the exit-2 cases (source bridge elsewhere,
 * ovs-appctl failing, the API answering 400). With --method packet-out, a stand-in answer of the controller's
 * packet-out trace: its steps named by cookie, the verdict compared the same way, a refusal is exit 2 with its message;
 * --method auto falls back to packet-out where ovs-appctl does not reach the source's bridge.
 */
class TraceCommandTest {
  @TempDir
  Path dir;
  HttpServer api;
  volatile String context;
  volatile String packetOut;
  volatile int packetOutStatus = 200;

  @BeforeEach
  void start() throws Exception {
    api = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 8);
    api.createContext("/api/v1/trace", ex -> {
      String q = ex.getRequestURI().getRawQuery();
      String body;
      int status = 200;
      if ("POST".equals(ex.getRequestMethod()) && q.startsWith("method=packet-out")) {
        status = packetOutStatus;
        body = packetOut;
      } else if (q.startsWith("cookies=")) {
        body = "{\"0x5c0243f07b4601c3\": {\"policy\": \"trc/db-allow\", \"direction\": \"ingress\", \"rule\": 0},"
            + " \"0x5c02bb5125d3f8b7\": {\"policy\": \"svt/web-allow\", \"direction\": \"ingress\", \"rule\": 0}}";
      } else if (q.contains("nope")) {
        status = 400;
        body = "from trc/nope: no such pod\n";
      } else {
        body = context;
      }
      byte[] b = body.getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(status, b.length);
      try (OutputStream o = ex.getResponseBody()) {
        o.write(b);
      }
    });
    api.start();
    String trace;
    try (InputStream in = getClass().getResourceAsStream("/trace/allowed.txt")) {
      trace = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    Files.writeString(dir.resolve("trace.txt"), trace);
    Files.writeString(dir.resolve("dpif.txt"), String.join("\n", "netdev@ovs-netdev: hit:1 missed:1", "  t502dtr:",
        "    t502dtr 65534/9: (tap)", "    web-b 1/10: (system)", "    db-b 2/11: (system)", ""));
    Path fake = dir.resolve("ovs-appctl");
    Files.writeString(fake, String.join("\n", "#!/bin/sh", "case \"$1\" in",
        "  dpif/show) cat " + dir.resolve("dpif.txt") + " ;;",
        "  ofproto/trace) [ \"$2\" = t502dtr ] || { echo 'no such bridge' >&2; exit 2; }; cat " + dir.resolve("trace.txt") + " ;;",
        "esac", ""));
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  @AfterEach
  void stop() {
    api.stop(0);
  }

  private static String ctx(String dstBridge, boolean allowed, boolean egressIsolated) {
    return """
        {"generation": 7, "protocol": "TCP", "port": 5432,
         "from": {"pod": "trc/web", "ip": "10.75.0.1", "datapathId": "00:00:00:00:00:00:7e:75", "ofport": 1,
                  "mac": "0a:58:0a:4b:00:01", "connected": true, "realizedGeneration": 7, "bridge": "t502dtr"},
         "to": {"pod": "trc/db", "ip": "10.75.0.2", "datapathId": "00:00:00:00:00:00:7e:99", "ofport": 2,
                "mac": "0a:58:0a:4b:00:02", "connected": true, "realizedGeneration": 7, "bridge": "%s",
                "portName": "db-b"},
         "reference": {"allowed": %s, "explanation": ["egress of trc/web: ...", "ingress of trc/db: ..."],
           "egress": {"isolation": "%s", "isolatingPolicies": [], "byNamespaceAnnotation": false, "allowedBy": []},
           "ingress": {"isolation": "ISOLATED", "isolatingPolicies": ["trc/db-allow"], "byNamespaceAnnotation": false,
                       "allowedBy": []}}}
        """.formatted(dstBridge, allowed, egressIsolated ? "ISOLATED" : "NOT_ISOLATED")
        .replace("\"isolation\": \"ISOLATED\", \"isolatingPolicies\": []",
            "\"isolation\": \"ISOLATED\", \"isolatingPolicies\": [\"trc/x\"]");
  }

  /**
   * The context of svt/client's connection to Service svt/web (10.96.86.10:80, TCP) or svt/empty (10.96.86.11) on
   * bridge t3ad0st, as TraceIT's controller answered it: the endpoints given as address, pod, OpenFlow port and
   * whether the reference allows the translated connection.
   */
  private static String serviceCtx(String vip, String service, Object[]... endpoints) {
    StringBuilder eps = new StringBuilder();
    for (Object[] e : endpoints) {
      eps.append(eps.length() == 0 ? "" : ",").append("""
          {"address": "%s", "port": 8080, "pod": "%s",
           "to": {"pod": "%s", "ip": "%s", "datapathId": "00:00:00:00:00:00:7e:86", "ofport": %d,
                  "connected": true, "realizedGeneration": 6, "bridge": "t3ad0st", "portName": "p%d"},
           "reference": {"allowed": %s, "explanation": ["ingress of %s: ..."],
             "egress": {"isolation": "NOT_ISOLATED", "isolatingPolicies": [], "byNamespaceAnnotation": false,
                        "allowedBy": []},
             "ingress": {"isolation": "ISOLATED", "isolatingPolicies": ["svt/lock-b"], "byNamespaceAnnotation": false,
                         "allowedBy": []}}}
          """.formatted(e[0], e[1], e[1], e[0], e[2], e[2], e[3], e[1]));
    }
    return """
        {"generation": 6, "protocol": "TCP", "port": 80,
         "from": {"pod": "svt/client", "ip": "10.86.0.1", "datapathId": "00:00:00:00:00:00:7e:86", "ofport": 1,
                  "mac": "0a:58:0a:56:00:01", "connected": true, "realizedGeneration": 6, "bridge": "t3ad0st"},
         "to": {"service": "%s", "ip": "%s"},
         "service": {"name": "%s", "portName": "http", "port": 80, "protocol": "TCP", "virtualAddress": "%s",
                     "byName": false, "type": "CLUSTER_IP", "sessionAffinity": "NONE",
                     "internalTrafficPolicy": "CLUSTER", "refused": %s, "endpoints": [%s]},
         "reference": {"allowed": true, "explanation": ["Service %s: ..."]}}
        """.formatted(service, vip, service, vip, endpoints.length == 0, eps, service);
  }

  /** A stand-in ovs-appctl answering traces TraceIT captured: by dp_hash for web's virtual address, empty's. */
  private Path serviceAppctl() throws Exception {
    for (String f : List.of("service-1", "service-2", "service-empty")) {
      try (InputStream in = getClass().getResourceAsStream("/trace/" + f + ".txt")) {
        Files.write(dir.resolve(f + ".txt"), in.readAllBytes());
      }
    }
    Files.writeString(dir.resolve("svc-dpif.txt"), String.join("\n", "netdev@ovs-netdev: hit:1 missed:1", "  t3ad0st:",
        "    t3ad0st 65534/17: (tap)", "    cli-b 1/18: (system)", "    wa-b 2/19: (system)", "    wb-b 3/20: (system)",
        ""));
    Path fake = dir.resolve("svc-appctl");
    Files.writeString(fake, String.join("\n", "#!/bin/sh", "echo \"$*\" >> " + dir.resolve("svc-calls.txt"),
        "case \"$1\" in",
        "  dpif/show) cat " + dir.resolve("svc-dpif.txt") + " ;;",
        "  ofproto/trace) case \"$3\" in",
        "    *nw_dst=10.96.86.11*) cat " + dir.resolve("service-empty.txt") + " ;;",
        "    dp_hash=2,*) cat " + dir.resolve("service-2.txt") + " ;;",
        "    *) cat " + dir.resolve("service-1.txt") + " ;;",
        "  esac ;;",
        "esac", ""));
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
    return fake;
  }

  private TraceIT.Run runTo(Path appctl, String to, String port, String... more) {
    return trace(appctl, "svt/client", to, port, more);
  }

  /** {@code sluice trace} against this test's API stub and a stand-in ovs-appctl. */
  private TraceIT.Run trace(Path appctl, String from, String to, String port, String... more) {
    List<String> args = new java.util.ArrayList<>(List.of("trace", "--api",
        "http://127.0.0.1:" + api.getAddress().getPort(), "--ovs-appctl", appctl.toString(),
        "--from", from, "--to", to, "--port", port));
    args.addAll(List.of(more));
    CliRun r = CliRun.run(args.toArray(String[]::new));
    return new TraceIT.Run(r.code(), r.out(), r.err());
  }

  private static final Object[] WEB_A = {"10.86.0.2", "svt/web-a", 2, true};
  private static final Object[] WEB_B = {"10.86.0.3", "svt/web-b", 3, false};

  @Test
  void aServiceIsTracedThroughEachEndpointItsGroupPicksByHash() throws Exception {
    Path appctl = serviceAppctl();
    context = serviceCtx("10.96.86.10", "svt/web", WEB_A, WEB_B);
    TraceIT.Run ok = runTo(appctl, "10.96.86.10", "80");
    assertThat(ok.code()).as(ok.out() + ok.err()).isEqualTo(TraceCommand.AGREE);
    assertThat(ok.out())
        .contains("Trace svt/client (10.86.0.1) -> Service svt/web (10.96.86.10) TCP 80, a new connection, on bridge "
            + "t3ad0st")
        .contains("Service:   svt/web port http 80/TCP at 10.96.86.10, session affinity None\n")
        .contains("Reference: 2 endpoint(s): 10.86.0.2:8080 (svt/web-a), 10.86.0.3:8080 (svt/web-b)\n")
        .contains("Switch:    table 11 ServiceLB ct_state=+new+trk,tcp,nw_dst=10.96.86.10,tp_dst=80  [priority 200, "
            + "cookie 0x5c03bb51")
        .contains("           -> group:")
        .contains("group buckets picked by dp_hash 1-2: 10.86.0.3:8080 (dp_hash=1), 10.86.0.2:8080 (dp_hash=2)\n")
        .contains("Endpoint 1/2: 10.86.0.2:8080 (svt/web-a), picked by dp_hash=2\n")
        .contains("Endpoint 2/2: 10.86.0.3:8080 (svt/web-b), picked by dp_hash=1\n")
        .contains("'dp_hash=2,tcp,in_port=1,dl_src=0a:58:0a:56:00:01,nw_src=10.86.0.1,nw_dst=10.96.86.10,nw_ttl=64,"
            + "tcp_src=49153,tcp_dst=80,tcp_flags=syn' --ct-next 'trk,new' --ct-next 'trk,new,dnat'")
        .contains("allowed by svt/web-allow ingress rule 0")
        .contains("  Switch:    ALLOWED (out of svt/web-a's port p2 (datapath port 19))")
        .contains("  Switch:    DENIED (dropped; to the controller through a meter, rule_cookie=0x5c05bb5100000000)")
        .contains("dropped: ingress isolation of svt/web-b (by svt/lock-b), no rule allowed it")
        .contains("AGREE: Service svt/web: 10.86.0.2:8080 (svt/web-a) allowed, 10.86.0.3:8080 (svt/web-b) denied")
        .doesNotContain("DISAGREEMENT");
    // two hashes found both endpoints: no more traces than those and one per endpoint (and dpif/show)
    assertThat(Files.readAllLines(dir.resolve("svc-calls.txt"))).hasSize(5);

    // one endpoint by --endpoint (address:port here)
    TraceIT.Run one = runTo(appctl, "10.96.86.10", "80", "--endpoint", "10.86.0.3:8080", "--quiet");
    assertThat(one.code()).as(one.out() + one.err()).isEqualTo(TraceCommand.AGREE);
    assertThat(one.out()).contains("Endpoint 1/1: 10.86.0.3:8080 (svt/web-b), picked by dp_hash=1")
        .doesNotContain("Endpoint 1/1: 10.86.0.2").doesNotContain("table 40")
        .contains("AGREE: Service svt/web: 10.86.0.3:8080 (svt/web-b) denied");
    TraceIT.Run none = runTo(appctl, "10.96.86.10", "80", "--endpoint", "svt/nope");
    assertThat(none.code()).isEqualTo(TraceCommand.USAGE);
    assertThat(none.err()).contains("--endpoint svt/nope: not an endpoint of Service svt/web (its endpoints: "
        + "10.86.0.2:8080 (svt/web-a), 10.86.0.3:8080 (svt/web-b))");
    assertThat(runTo(appctl, "10.96.86.10", "80", "--max-endpoints", "0").code()).isEqualTo(TraceCommand.USAGE);
    TraceIT.Run bounded = runTo(appctl, "10.96.86.10", "80", "--max-endpoints", "1");
    assertThat(bounded.code()).as(bounded.out()).isEqualTo(TraceCommand.AGREE);
    assertThat(bounded.out()).contains("Endpoint 1/1: 10.86.0.2:8080 (svt/web-a)")
        .contains("NOTE: Service svt/web has 2 endpoints: the first 1 are traced");
  }

  @Test
  void aServiceWhoseSwitchAndReferenceDifferIsADisagreement() throws Exception {
    Path appctl = serviceAppctl();
    // the reference allows web-b: the switch drops the connection its group sends there
    context = serviceCtx("10.96.86.10", "svt/web", WEB_A, new Object[] {"10.86.0.3", "svt/web-b", 3, true});
    TraceIT.Run allows = runTo(appctl, "10.96.86.10", "80");
    assertThat(allows.code()).as(allows.out()).isEqualTo(TraceCommand.DISAGREE);
    assertThat(allows.out())
        .contains("  DISAGREEMENT: the switch denies this connection, the reference evaluator allows it")
        .contains("DISAGREEMENT: Service svt/web: endpoint 10.86.0.3:8080 (svt/web-b): the switch denies the translated "
            + "connection, the reference evaluator allows it")
        .doesNotContain("AGREE: Service");

    // the reference has a third endpoint, which no hash makes the switch's group pick
    context = serviceCtx("10.96.86.10", "svt/web", WEB_A, WEB_B, new Object[] {"10.86.0.4", "svt/web-c", 4, true});
    TraceIT.Run missing = runTo(appctl, "10.96.86.10", "80");
    assertThat(missing.code()).as(missing.out()).isEqualTo(TraceCommand.DISAGREE);
    assertThat(missing.out()).contains("Endpoint 3/3: 10.86.0.4:8080 (svt/web-c)\n  NOT REACHED: no dp_hash of 1-28")
        .contains("DISAGREEMENT: Service svt/web: the switch's group never picked endpoint 10.86.0.4:8080 (svt/web-c)");

    // the reference no longer has web-b: the switch's group still sends connections there
    context = serviceCtx("10.96.86.10", "svt/web", WEB_A);
    TraceIT.Run stale = runTo(appctl, "10.96.86.10", "80");
    assertThat(stale.code()).as(stale.out()).isEqualTo(TraceCommand.DISAGREE);
    assertThat(stale.out()).contains("DISAGREEMENT: Service svt/web: the switch translated to 10.86.0.3:8080 "
        + "(dp_hash=1), which is not an endpoint of Service svt/web in the reference");
  }

  @Test
  void aServiceWithoutEndpointsIsRefusedByTheSwitchAsByTheReference() throws Exception {
    Path appctl = serviceAppctl();
    context = serviceCtx("10.96.86.11", "svt/empty");
    TraceIT.Run refused = runTo(appctl, "10.96.86.11", "80");
    assertThat(refused.code()).as(refused.out() + refused.err()).isEqualTo(TraceCommand.AGREE);
    assertThat(refused.out())
        .contains("Reference: REFUSED: no ready or serving endpoint")
        .contains("table 11 ServiceLB         refused: Service svt/empty port 80/TCP has no usable endpoint (to the "
            + "controller through a meter")
        .contains("Switch:    REFUSED (to the controller through a meter")
        .contains("AGREE: Service svt/empty: refused by the switch and by the reference evaluator");
    // the reference has an endpoint the switch does not know of: it refuses a client it should translate
    context = serviceCtx("10.96.86.11", "svt/empty", WEB_A);
    TraceIT.Run wrong = runTo(appctl, "10.96.86.11", "80");
    assertThat(wrong.code()).as(wrong.out()).isEqualTo(TraceCommand.DISAGREE);
    assertThat(wrong.out()).contains("Reference: NOT REFUSED: 1 endpoint(s)")
        .contains("DISAGREEMENT: Service svt/empty: the switch refuses the client, the reference has 1 endpoint(s)");
  }

  @Test
  void aBucketsTranslationIsReadFromItsNatAction() {
    OfprotoTrace v4 = new OfprotoTrace(List.of(new OfprotoTrace.Pass(null, List.of(), "ct(zone=3,nat),recirc(0x1)"),
        new OfprotoTrace.Pass("recirc(0x1)", List.of(), "ct(commit,zone=3,mark=0x1/0x1,nat(dst=10.0.0.12:8080)),"
            + "recirc(0x2)")));
    assertThat(ServiceTrace.translatedTo(v4)).contains(new ServiceTrace.Backend("10.0.0.12", 8080));
    OfprotoTrace v6 = new OfprotoTrace(List.of(new OfprotoTrace.Pass(null, List.of(new OfprotoTrace.Step("br", 11,
        "ipv6", 200, 0x5c03000000000001L, List.of("group:7", "bucket 0",
        "ct(commit,table=12,zone=NXM_NX_CT_ZONE[],nat(dst=[fd00::12]:8080))"), 0)), "drop")));
    assertThat(ServiceTrace.translatedTo(v6)).contains(new ServiceTrace.Backend("fd00::12", 8080));
    assertThat(new ServiceTrace.Backend("fd00::12", 8080)).hasToString("[fd00::12]:8080");
    OfprotoTrace hairpinOnly = new OfprotoTrace(List.of(new OfprotoTrace.Pass(null, List.of(),
        "ct(commit,zone=65534,nat(src=169.254.0.253)),recirc(0x3)")));
    assertThat(ServiceTrace.translatedTo(hairpinOnly)).as("a source NAT is no endpoint").isEmpty();
  }

  @Test
  void aLearnedAffinityHoldsOnlyWhereTable15TranslatesWithoutTheGroup() {
    OfprotoTrace.Step table11 = new OfprotoTrace.Step("br", 11, "tcp", 200, 0x5c03000000000007L,
        List.of("resubmit(,14)"), 0);
    OfprotoTrace.Step learned = new OfprotoTrace.Step("br", 14, "tcp,nw_src=10.0.0.1", 200, 0x5c04000000000007L,
        List.of("load:0xa00000b->NXM_NX_REG0[]", "goto_table:15"), 1);
    OfprotoTrace.Step translates = new OfprotoTrace.Step("br", 15, "tcp,reg0=0xa00000b", 200, 0x5c03000000000007L,
        List.of("learn(table=14,...)", "ct(commit,table=12,zone=NXM_NX_CT_ZONE[],nat(dst=10.0.0.11:8080))"), 0);
    OfprotoTrace.Step balances = new OfprotoTrace.Step("br", 15, "tcp", 100, 0x5c03000000000007L,
        List.of("move:NXM_OF_TCP_SRC[]->NXM_NX_REG5[0..15]", "group:7"), 0);
    assertThat(ServiceTrace.learnedStep(new OfprotoTrace(List.of(new OfprotoTrace.Pass(null,
        List.of(table11, learned, translates), "ct(commit,nat(dst=10.0.0.11:8080)),recirc(0x2)"))))).contains(learned);
    assertThat(ServiceTrace.learnedStep(new OfprotoTrace(List.of(new OfprotoTrace.Pass(null,
        List.of(table11, learned, balances), "hash(sym_l4(0)),recirc(0x2)")))))
        .as("the learned endpoint left the Service: the group balances").isEmpty();
    assertThat(ServiceTrace.learnedStep(new OfprotoTrace(List.of(new OfprotoTrace.Pass(null,
        List.of(table11, balances), "hash(sym_l4(0)),recirc(0x2)"))))).as("nothing learned").isEmpty();
  }

  private TraceIT.Run run(String from, String... more) {
    return trace(dir.resolve("ovs-appctl"), from, "trc/db", "5432", more);
  }

  @Test
  void agreementAndDisagreement() {
    context = ctx("t502dtr", true, false);
    TraceIT.Run ok = run("trc/web");
    assertThat(ok.code()).as(ok.out() + ok.err()).isEqualTo(TraceCommand.AGREE);
    assertThat(ok.out()).contains("allowed by trc/db-allow ingress rule 0")
        .contains("Switch:    ALLOWED (out of trc/db's port db-b (datapath port 11))").contains("AGREE: allowed");

    context = ctx("t502dtr", false, false);
    TraceIT.Run bad = run("trc/web");
    assertThat(bad.code()).as(bad.out()).isEqualTo(TraceCommand.DISAGREE);
    assertThat(bad.out()).contains("Reference: DENIED")
        .contains("DISAGREEMENT: the switch allows this connection, the reference evaluator denies it")
        .contains("differ from what the model compiles to");

    TraceIT.Run quiet = run("trc/web", "--quiet");
    assertThat(quiet.code()).isEqualTo(TraceCommand.DISAGREE);
    assertThat(quiet.out()).doesNotContain("table 40").contains("DISAGREEMENT");
  }

  @Test
  void aDestinationOnAnotherOpenVswitchIsComparedOnItsEgressOnly() {
    context = ctx("br-elsewhere", false, false);
    TraceIT.Run r = run("trc/web");
    assertThat(r.code()).as(r.out()).isEqualTo(TraceCommand.AGREE);
    assertThat(r.out()).contains("Switch:    ALLOWED (out of datapath port(s) [11] toward trc/db) (egress only:")
        .contains("its ingress was not traced");
    context = ctx("br-elsewhere", false, true);
    TraceIT.Run iso = run("trc/web");
    assertThat(iso.code()).as("egress isolated, no rule: the reference denies, the trace let it out")
        .isEqualTo(TraceCommand.DISAGREE);
  }

  @Test
  void unreachableOrBadInputIsExit2() {
    context = ctx("t502dtr", true, false).replace("\"bridge\": \"t502dtr\"", "\"bridge\": \"br-other\"");
    TraceIT.Run elsewhere = run("trc/web");
    assertThat(elsewhere.code()).isEqualTo(TraceCommand.USAGE);
    assertThat(elsewhere.err()).contains("bridge br-other").contains("run sluice trace on that node");

    TraceIT.Run nope = run("trc/nope");
    assertThat(nope.code()).isEqualTo(TraceCommand.USAGE);
    assertThat(nope.err()).contains("from trc/nope: no such pod");

    context = ctx("t502dtr", true, false).replace("\"ofport\": 1,", "");
    TraceIT.Run unbound = run("trc/web");
    assertThat(unbound.code()).isEqualTo(TraceCommand.USAGE);
    assertThat(unbound.err()).contains("not bound to a switch port");
  }

  /** The controller's packet-out answer: the context, the probes, the path on one switch and the verdict. */
  private static String packetOutAnswer(String context, boolean allowed) {
    String steps = allowed
        ? "{\"table\": 40, \"priority\": 200, \"cookie\": \"0x5c0243f07b4601c3\", \"match\": \"conj_id=1\", "
          + "\"grew\": 5, \"exact\": true, \"ambiguous\": false, \"forwards\": true, \"outputs\": false},"
          + "{\"table\": 90, \"priority\": 0, \"cookie\": \"0x5c01edc20000005a\", \"match\": \"\", \"grew\": 9, "
          + "\"exact\": false, \"ambiguous\": false, \"forwards\": true, \"outputs\": true}"
        : "{\"table\": 40, \"priority\": 100, \"cookie\": \"0x5c05edc200000000\", \"match\": \"ip\", \"grew\": 5, "
          + "\"exact\": true, \"ambiguous\": false, \"forwards\": false, \"outputs\": false}";
    String end = allowed ? "" : ", \"end\": " + steps;
    String rest = ", \"method\": \"packet-out\", \"probes\": {\"count\": 5, \"protocol\": \"TCP\", "
        + "\"sourcePorts\": \"61000-61004\", \"ipId\": \"0x1a2b\", \"inPort\": 1}, "
        + "\"switches\": [{\"datapathId\": \"00:00:00:00:00:00:7e:75\", \"role\": \"source and destination\", "
        + "\"steps\": [" + steps + "]" + end + ", \"notes\": []}], "
        + "\"verdict\": {\"scope\": \"destination\", \"how\": \""
        + (allowed ? "the destination's port sent 5 more packet(s) (5 probes)" : "ended in table 40") + "\", "
        + "\"allowed\": " + allowed + "}, \"notes\": [], "
        + "\"rules\": {\"0x5c0243f07b4601c3\": {\"policy\": \"trc/db-allow\", \"direction\": \"ingress\", "
        + "\"rule\": 0}}}";
    String c = context.strip();
    return c.substring(0, c.length() - 1) + rest;
  }

  @Test
  void packetOutNamesTheFlowsAndComparesWithTheReference() {
    context = ctx("t502dtr", true, false);
    packetOut = packetOutAnswer(context, true);
    TraceIT.Run ok = run("trc/web", "--method", "packet-out");
    assertThat(ok.code()).as(ok.out() + ok.err()).isEqualTo(TraceCommand.AGREE);
    assertThat(ok.out()).contains("by OpenFlow packet-out on switch 00:00:00:00:00:00:7e:75 (bridge t502dtr)")
        .contains("source ports 61000-61004, IP identification 0x1a2b")
        .contains("table 40 IngressRule       allowed by trc/db-allow ingress rule 0  [priority 200, cookie "
            + "0x5c0243f07b4601c3, +5]")
        .contains("+9: other traffic too")
        .contains("Switch:    ALLOWED (out of trc/db's port db-b: the destination's port sent 5 more packet(s)")
        .contains("AGREE: allowed");

    packetOut = packetOutAnswer(context, false);
    TraceIT.Run denied = run("trc/web", "--method", "packet-out");
    assertThat(denied.code()).as(denied.out()).isEqualTo(TraceCommand.DISAGREE);
    assertThat(denied.out()).contains("Switch:    DENIED (dropped: ingress isolation of trc/db (by trc/db-allow), no "
        + "rule allowed it (table 40 IngressRule, cookie 0x5c05edc200000000))")
        .contains("DISAGREEMENT: the switch denies this connection, the reference evaluator allows it");
  }

  @Test
  void packetOutRefusalsAndBadFlagsAreExit2() {
    context = ctx("t502dtr", true, false);
    packetOutStatus = 409;
    packetOut = "another packet-out trace is running (switch 00:00:00:00:00:00:7e:75); one at a time\n";
    TraceIT.Run busy = run("trc/web", "--method", "packet-out");
    assertThat(busy.code()).isEqualTo(TraceCommand.USAGE);
    assertThat(busy.err()).contains("another packet-out trace is running (switch 00:00:00:00:00:00:7e:75)")
        .contains("HTTP 409");
    assertThat(run("trc/web", "--method", "telepathy").err()).contains("--method telepathy: ovs-appctl, packet-out or auto");
    assertThat(run("trc/web", "--method", "packet-out", "--probes", "0").code()).isEqualTo(TraceCommand.USAGE);
  }

  @Test
  void autoFallsBackToPacketOutWhereOvsAppctlDoesNotReachTheBridge() {
    context = ctx("t502dtr", true, false).replace("\"bridge\": \"t502dtr\"", "\"bridge\": \"br-other\"");
    packetOut = packetOutAnswer(context, true);
    TraceIT.Run auto = run("trc/web", "--method", "auto");
    assertThat(auto.code()).as(auto.out() + auto.err()).isEqualTo(TraceCommand.AGREE);
    assertThat(auto.out()).contains("ovs-appctl cannot trace here (bridge br-other")
        .contains(": tracing by OpenFlow packet-out").contains("AGREE: allowed");
    context = ctx("t502dtr", true, false);
    TraceIT.Run here = run("trc/web", "--method", "auto");
    assertThat(here.out()).as("ovs-appctl reaches it: no packet-out").doesNotContain("packet-out")
        .contains("AGREE: allowed");
  }
}
