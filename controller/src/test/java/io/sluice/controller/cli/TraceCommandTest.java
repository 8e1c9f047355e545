package io.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
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
import picocli.CommandLine;

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
        body = "{\"0x5c0243f07b4601c3\": {\"policy\": \"trc/db-allow\", \"direction\": \"ingress\", \"rule\": 0}}";
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

  private TraceIT.Run run(String from, String... more) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new SluiceCli());
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    List<String> args = new java.util.ArrayList<>(List.of("trace", "--api",
        "http://127.0.0.1:" + api.getAddress().getPort(), "--ovs-appctl", dir.resolve("ovs-appctl").toString(),
        "--from", from, "--to", "trc/db", "--port", "5432"));
    args.addAll(List.of(more));
    return new TraceIT.Run(cli.execute(args.toArray(String[]::new)), out.toString(), err.toString());
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
