package io.sluice.ovsdb.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Hostile and broken input must never throw out of the pipeline, close the connection or stop later messages
 * from being served. Each try drives the real pipeline (splitter, decoder, handler) in an EmbeddedChannel, which
 * rethrows anything that escapes a handler.
 */
class RpcFuzzTest {
  private static final List<String> VALID = List.of(
      "{\"method\":\"echo\",\"params\":[],\"id\":\"echo\"}",
      "{\"method\":\"update\",\"params\":[\"sluice\",{\"Interface\":{\"0b1c7c1e-6a9e-4a4e-9a3c-0d2f1f0e9a11\":"
          + "{\"new\":{\"name\":\"p1\",\"ofport\":3,\"external_ids\":[\"map\",[[\"pod-name\",\"a\"]]]}}}}],\"id\":null}",
      "{\"method\":\"update2\",\"params\":[\"sluice\",{\"Bridge\":{\"0b1c7c1e-6a9e-4a4e-9a3c-0d2f1f0e9a12\":"
          + "{\"modify\":{\"ports\":[\"set\",[[\"uuid\",\"0b1c7c1e-6a9e-4a4e-9a3c-0d2f1f0e9a13\"]]]}}}}],\"id\":null}",
      "{\"method\":\"update3\",\"params\":[\"sluice\",\"6c1b\",{}],\"id\":null}",
      "{\"id\":1,\"result\":[{\"rows\":[]},{\"count\":1}],\"error\":null}",
      "{\"id\":2,\"result\":null,\"error\":{\"error\":\"syntax error\",\"details\":\"x\"}}",
      "{\"method\":\"locked\",\"params\":[\"lk\"],\"id\":null}",
      "{\"method\":\"transact\",\"params\":[\"Open_vSwitch\",{\"op\":\"select\",\"table\":\"Bridge\",\"where\":[]}],"
          + "\"id\":9}");

  /** Notifications go to a listener that throws, as a buggy cache would: must be contained too. */
  private static RpcHarness harness() {
    RpcHarness h = new RpcHarness(4096, Duration.ofSeconds(5));
    h.client.listener((id, kind, txn, updates) -> {
      if (updates.size() > 0) {
        throw new IllegalStateException("listener bug");
      }
    });
    return h;
  }

  private static void assertStillServes(RpcHarness h) {
    h.written();
    h.feed("{\"method\":\"echo\",\"params\":[\"probe\"],\"id\":\"probe-id\"}");
    List<JsonNode> out = h.written();
    assertThat(out).anySatisfy(n -> assertThat(n.path("id").asText()).isEqualTo("probe-id"));
    assertThat(h.ch.isActive()).isTrue();
    h.ch.checkException();
  }

  @Property(tries = 400)
  void treeMutatedMessagesAreAnsweredOrDropped(@ForAll("mutatedMessages") String msg,
      @ForAll @IntRange(min = 1, max = 64) int chunk) {
    RpcHarness h = harness();
    byte[] b = msg.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < b.length; i += chunk) {
      h.feed(java.util.Arrays.copyOfRange(b, i, Math.min(b.length, i + chunk)));
    }
    assertStillServes(h);
  }

  @Property(tries = 400)
  void randomBytesNeverThrowOrCloseTheConnection(@ForAll @Size(max = 3000) byte[] junk) {
    RpcHarness h = harness();
    h.feed(junk);
    h.written();
    assertThat(h.ch.isActive()).isTrue();
    h.ch.checkException();
  }

  @Property(tries = 400)
  void byteMutatedMessagesNeverThrowOrCloseTheConnection(@ForAll("byteMutations") byte[] bytes) {
    RpcHarness h = harness();
    h.feed(bytes);
    assertThat(h.ch.isActive()).isTrue();
    h.ch.checkException();
  }

  @Example
  void deeplyNestedAndHugeMessagesAreDroppedAndTheNextServed() {
    RpcHarness h = harness();
    h.feed("{\"method\":\"echo\",\"params\":" + "[".repeat(1000) + "]".repeat(1000) + ",\"id\":1}");
    h.feed("{\"method\":\"echo\",\"params\":[\"" + "x".repeat(100_000) + "\"],\"id\":2}");
    h.feed("{\"id\":1e999999,\"result\":1}{\"id\":" + "9".repeat(500) + ",\"result\":1}");
    h.feed("{\"method\":\"echo\",\"params\":[\"\\ud800\"],\"id\":3}");
    assertStillServes(h);
    assertThat(h.stats.oversizedFrames()).isEqualTo(1);
    assertThat(h.stats.malformedMessages()).isGreaterThanOrEqualTo(1);
  }

  @Provide
  Arbitrary<String> mutatedMessages() {
    return Arbitraries.of(VALID).flatMap(base -> Arbitraries.longs().map(seed -> mutate(base, new Random(seed))));
  }

  @Provide
  Arbitrary<byte[]> byteMutations() {
    return Arbitraries.of(VALID).flatMap(base -> Arbitraries.longs().map(seed -> {
      Random r = new Random(seed);
      byte[] b = base.getBytes(StandardCharsets.UTF_8);
      switch (r.nextInt(4)) {
        case 0 -> b = java.util.Arrays.copyOf(b, r.nextInt(b.length));
        case 1 -> {
          for (int i = 0; i < 1 + r.nextInt(5); i++) {
            b[r.nextInt(b.length)] = (byte) r.nextInt(256);
          }
        }
        case 2 -> {
          byte[] c = new byte[b.length + 1];
          int at = r.nextInt(b.length);
          System.arraycopy(b, 0, c, 0, at);
          c[at] = (byte) "{}[]\",:\\".charAt(r.nextInt(8));
          System.arraycopy(b, at, c, at + 1, b.length - at);
          b = c;
        }
        default -> {
          int at = r.nextInt(b.length);
          byte[] c = new byte[b.length - 1];
          System.arraycopy(b, 0, c, 0, at);
          System.arraycopy(b, at + 1, c, at, b.length - at - 1);
          b = c;
        }
      }
      return b;
    }));
  }

  /** Replaces, drops or adds members anywhere in the tree, with values of random JSON types. */
  static String mutate(String base, Random r) {
    try {
      JsonNode root = Json.MAPPER.readTree(base);
      int n = 1 + r.nextInt(4);
      for (int i = 0; i < n; i++) {
        List<JsonNode> containers = new ArrayList<>();
        collect(root, containers);
        JsonNode target = containers.get(r.nextInt(containers.size()));
        if (target instanceof ObjectNode o) {
          List<String> names = new ArrayList<>();
          for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            names.add(it.next());
          }
          int what = r.nextInt(3);
          if (what == 0 && !names.isEmpty()) {
            o.remove(names.get(r.nextInt(names.size())));
          } else if (what == 1 && !names.isEmpty()) {
            o.set(names.get(r.nextInt(names.size())), randomValue(r, 3));
          } else {
            o.set(List.of("id", "method", "params", "result", "error", "x").get(r.nextInt(6)), randomValue(r, 3));
          }
        } else if (target instanceof ArrayNode a) {
          if (a.size() > 0 && r.nextBoolean()) {
            a.set(r.nextInt(a.size()), randomValue(r, 3));
          } else if (a.size() > 0 && r.nextBoolean()) {
            a.remove(r.nextInt(a.size()));
          } else {
            a.add(randomValue(r, 3));
          }
        }
      }
      return Json.MAPPER.writeValueAsString(root);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static void collect(JsonNode n, List<JsonNode> out) {
    if (n.isContainerNode()) {
      out.add(n);
      n.forEach(c -> collect(c, out));
    }
  }

  private static JsonNode randomValue(Random r, int depth) {
    int k = r.nextInt(depth > 0 ? 9 : 6);
    return switch (k) {
      case 0 -> Json.NODES.nullNode();
      case 1 -> Json.NODES.booleanNode(r.nextBoolean());
      case 2 -> Json.NODES.numberNode(r.nextLong());
      case 3 -> Json.NODES.numberNode(r.nextDouble() * 1e300);
      case 4 -> Json.NODES.textNode(List.of("echo", "update", "update2", "update3", "locked", "stolen", "uuid",
          "set", "map", "", "\u0000", "named-uuid").get(r.nextInt(12)));
      case 5 -> Json.NODES.textNode("0b1c7c1e-6a9e-4a4e-9a3c-0d2f1f0e9a1" + r.nextInt(10));
      case 6 -> {
        ArrayNode a = Json.NODES.arrayNode();
        for (int i = r.nextInt(4); i > 0; i--) {
          a.add(randomValue(r, depth - 1));
        }
        yield a;
      }
      case 7 -> Json.NODES.arrayNode().add(List.of("set", "map", "uuid").get(r.nextInt(3)))
          .add(randomValue(r, depth - 1));
      default -> {
        ObjectNode o = Json.NODES.objectNode();
        for (int i = r.nextInt(4); i > 0; i--) {
          o.set(List.of("new", "old", "initial", "insert", "modify", "delete", "rows", "uuid").get(r.nextInt(8)),
              randomValue(r, depth - 1));
        }
        yield o;
      }
    };
  }
}
