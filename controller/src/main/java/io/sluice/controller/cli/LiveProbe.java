package io.sluice.controller.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.model.Protocol;
import io.sluice.renderer.reference.Addresses;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code sluice test --live}: one real TCP connection attempt per expectation, from inside the source pod's network
 * namespace, through the switch Sluice programs. The running controller says where the source is (its switch port,
 * {@code /api/v1/trace}); the namespace holding the other end of that port's veth is found by interface index (named
 * namespaces under {@code /run/netns} and every process's, so container runtimes' and Mininet's too). A connection
 * that opens, or that the destination refuses (its RST proves the SYN arrived), is allowed; one with no answer within
 * the timeout was dropped. UDP and SCTP have no handshake to observe and are not judged live. Run it on the node, as
 * root (it enters namespaces).
 */
final class LiveProbe {
  /**
   * What a live attempt showed: allowed, denied, or null with why it could not be judged; {@code skipped} when it
   * cannot be judged live by its nature (a protocol without a handshake), not because something is missing.
   */
  record Outcome(Boolean allowed, String detail, boolean skipped) {
    Outcome(Boolean allowed, String detail) {
      this(allowed, detail, false);
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern LINK = Pattern.compile("^(\\d+): ([^:@]+)(?:@if(\\d+))?:");

  private final String api;
  private final java.nio.file.Path tokenFile;
  private final Duration timeout;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final Map<String, Path> namespaceOfPort = new HashMap<>();

  LiveProbe(String api, java.nio.file.Path tokenFile, Duration timeout) {
    this.api = api.replaceAll("/+$", "");
    this.tokenFile = tokenFile;
    this.timeout = timeout;
  }

  Outcome probe(String from, String to, String port) {
    Protocol protocol = ExplainCommand.protocol(port);
    if (protocol != Protocol.TCP) {
      return new Outcome(null, "not judged live: " + protocol + " has no handshake to observe (TCP only)", true);
    }
    JsonNode ctx;
    try {
      ctx = context(from, to, port);
    } catch (TraceCommand.Failure e) {
      return new Outcome(null, "not judged live: " + e.getMessage());
    }
    String portName = ctx.path("from").path("portName").asText("");
    String ip = ctx.path("to").path("ip").asText("");
    if (portName.isEmpty()) {
      return new Outcome(null, "not judged live: " + from + " is not a pod on a port of a switch Sluice manages");
    }
    // both go into a command line run as root: only what they must be (an IP literal, an interface name)
    if (Addresses.canonical(ip) == null) {
      return new Outcome(null, "not judged live: the controller gave no IP address for " + to + " (got '" + ip + "')");
    }
    if (!portName.matches("[A-Za-z0-9_.:-]{1,15}")) {
      return new Outcome(null, "not judged live: the controller gave no interface name for " + from);
    }
    Path netns;
    try {
      netns = namespaceOfPort.computeIfAbsent(portName, this::namespaceOf);
    } catch (TraceCommand.Failure e) {
      return new Outcome(null, "not judged live: " + e.getMessage());
    }
    int number = ExplainCommand.portNumber(port);
    // the address and port are arguments of the script, never part of it
    List<String> cmd = List.of("nsenter", "--net=" + netns, "timeout", Long.toString(Math.max(1, timeout.toSeconds())),
        "bash", "-c", "exec 3<>\"/dev/tcp/$1/$2\"", "sluice-live", Addresses.canonical(ip), Integer.toString(number));
    Result r = exec(cmd, timeout.toSeconds() + 10);
    if (r.code == 0) {
      return new Outcome(true, "live: connected to " + ip + ":" + number + " from " + from + "'s namespace");
    }
    if (r.stderr.contains("Connection refused")) {
      return new Outcome(true, "live: refused by " + ip + ":" + number + " itself (nothing listens; the SYN arrived)");
    }
    if (r.code == 124) {
      return new Outcome(false, "live: no answer from " + ip + ":" + number + " in " + timeout.toSeconds()
          + " s (dropped)");
    }
    return new Outcome(null, "not judged live: " + String.join(" ", cmd) + " exited " + r.code + ": " + r.stderr.strip());
  }

  private JsonNode context(String from, String to, String port) {
    String q = "?from=" + enc(from) + "&to=" + enc(to) + "&port=" + enc(port);
    URI uri = StatusApi.uri(api, "/api/v1/trace" + q);
    HttpResponse<String> r = StatusApi.get(http, api, uri, tokenFile);
    if (r.statusCode() != 200) {
      throw new TraceCommand.Failure(uri + ": HTTP " + r.statusCode() + " " + r.body().strip());
    }
    try {
      return JSON.readTree(r.body());
    } catch (IOException e) {
      throw new TraceCommand.Failure(uri + ": not JSON");
    }
  }

  /** The network namespace holding the peer of the veth {@code portName} (or the port itself, moved there). */
  private Path namespaceOf(String portName) {
    Path dev = Path.of("/sys/class/net", portName);
    int ifindex = readInt(dev.resolve("ifindex"), portName);
    int peer = readInt(dev.resolve("iflink"), portName);
    String own = inode(Path.of("/proc/self/ns/net"));
    for (Path ns : candidates(own)) {
      Result r = exec(List.of("nsenter", "--net=" + ns, "ip", "-o", "link", "show"), 10);
      if (r.code != 0) {
        continue;
      }
      for (String line : r.stdout.split("\n")) {
        Matcher m = LINK.matcher(line);
        if (m.find() && Integer.parseInt(m.group(1)) == peer && m.group(3) != null
            && Integer.parseInt(m.group(3)) == ifindex) {
          return ns;
        }
      }
    }
    throw new TraceCommand.Failure("no network namespace on this machine holds the other end of " + portName
        + " (ifindex " + ifindex + ", peer " + peer + "): run sluice test --live on the source pod's node, as root");
  }

  /** Named namespaces first, then one process per other namespace (by inode), never this one's own. */
  private static List<Path> candidates(String own) {
    Map<String, Path> byInode = new LinkedHashMap<>();
    List<Path> roots = new ArrayList<>();
    Path named = Path.of("/run/netns");
    if (Files.isDirectory(named)) {
      try (var s = Files.list(named)) {
        s.sorted().forEach(roots::add);
      } catch (IOException e) {
        // unreadable: only process namespaces then
      }
    }
    for (Path p : roots) {
      byInode.putIfAbsent("named " + p, p);
    }
    try (var s = Files.list(Path.of("/proc"))) {
      s.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).forEach(p -> {
        Path ns = p.resolve("ns/net");
        String inode = inode(ns);
        if (inode != null && !inode.equals(own)) {
          byInode.putIfAbsent(inode, ns);
        }
      });
    } catch (IOException e) {
      // no /proc: only named namespaces
    }
    return new ArrayList<>(byInode.values());
  }

  private static String inode(Path nsLink) {
    try {
      return Files.readSymbolicLink(nsLink).toString();
    } catch (IOException | SecurityException | UnsupportedOperationException e) {
      return null;
    }
  }

  private static int readInt(Path file, String portName) {
    try {
      return Integer.parseInt(Files.readString(file).strip());
    } catch (IOException | NumberFormatException e) {
      throw new TraceCommand.Failure("switch port " + portName + " is not a network device here (" + file
          + "): run sluice test --live on the source pod's node");
    }
  }

  private record Result(int code, String stdout, String stderr) { }

  private static Result exec(List<String> cmd, long seconds) {
    Process p;
    try {
      p = new ProcessBuilder(cmd).start();
    } catch (IOException e) {
      throw new TraceCommand.Failure(cmd.get(0) + " cannot be run (" + e.getMessage() + ")");
    }
    try (InputStream o = p.getInputStream(); InputStream e = p.getErrorStream()) {
      p.getOutputStream().close();
      if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new Result(-1, "", "no end in " + seconds + " s");
      }
      return new Result(p.exitValue(), new String(o.readAllBytes(), StandardCharsets.UTF_8),
          new String(e.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException ex) {
      return new Result(-1, "", ex.getMessage());
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      return new Result(-1, "", "interrupted");
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
