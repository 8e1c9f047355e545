package io.sluice.controller.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.wire.Bytes;
import io.sluice.renderer.flow.Cookie;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A change without bundles in two phases: what restricts first (drops added, allows removed, a changed allow removed),
 * what permits second (allows added, the changed allow added back, drops removed), so nothing in between is open that
 * the old or the new tables close.
 */
class OrderedChangesTest {
  private static final long ALLOW = Cookie.of(Cookie.Category.POLICY, 1, 7).value();
  private static final long ISOLATION = Cookie.of(Cookie.Category.ISOLATION, 1, 0).value();
  private static final long BASE = Cookie.of(Cookie.Category.BASE, 1, 0).value();
  private static final Bytes GOTO = Bytes.of(new byte[] {1, 2, 3, 4});
  private static final Bytes GOTO_ELSEWHERE = Bytes.of(new byte[] {1, 2, 3, 5});

  private static FlowCodec.Entry entry(String key, long cookie, Bytes body) {
    return new FlowCodec.Entry(key, cookie, body, null, 0, 0, 0);
  }

  private static SwitchOp op(FlowCodec.Entry e, SwitchOp.Kind kind) {
    return SwitchOp.flow(kind, e, e.cookie(), (out, xid) -> { });
  }

  private static List<String> names(List<SwitchOp> ops) {
    return ops.stream().map(o -> o.kind() + " " + ((FlowCodec.Entry) o.subject()).key()).toList();
  }

  @Test
  void restrictFirstPermitSecond() {
    FlowCodec.Entry newDrop = entry("isolate-db", ISOLATION, Bytes.EMPTY);
    FlowCodec.Entry plainDrop = entry("closed-port", BASE, Bytes.EMPTY);
    FlowCodec.Entry newAllow = entry("allow-web", ALLOW, GOTO);
    FlowCodec.Entry goneAllow = entry("allow-old", ALLOW, GOTO);
    FlowCodec.Entry goneDrop = entry("isolate-cache", ISOLATION, Bytes.EMPTY);
    FlowCodec.Entry changedOld = entry("allow-shared", ALLOW, GOTO);
    FlowCodec.Entry changedNew = entry("allow-shared", ALLOW, GOTO_ELSEWHERE);
    FlowCodec.Entry opened = entry("was-dropped", ALLOW, GOTO);
    FlowCodec.Entry closedOld = entry("now-dropped", ALLOW, GOTO);
    FlowCodec.Entry closedNew = entry("now-dropped", ISOLATION, Bytes.EMPTY);
    Map<Object, FlowCodec.Entry> have = Map.of("allow-old", goneAllow, "isolate-cache", goneDrop,
        "allow-shared", changedOld, "was-dropped", entry("was-dropped", ISOLATION, Bytes.EMPTY),
        "now-dropped", closedOld);

    OrderedChanges.Phases p = OrderedChanges.phases(List.of(
        op(newAllow, SwitchOp.Kind.ADD), op(newDrop, SwitchOp.Kind.ADD), op(plainDrop, SwitchOp.Kind.ADD),
        op(changedNew, SwitchOp.Kind.MODIFY), op(opened, SwitchOp.Kind.ADD), op(closedNew, SwitchOp.Kind.MODIFY),
        op(goneAllow, SwitchOp.Kind.DELETE), op(goneDrop, SwitchOp.Kind.DELETE)), have, OrderedChangesTest::op);

    assertThat(names(p.restrict())).containsExactly("ADD isolate-db", "ADD closed-port", "DELETE allow-shared",
        "MODIFY now-dropped", "DELETE allow-old");
    assertThat(names(p.permit())).containsExactly("ADD allow-web", "ADD allow-shared", "ADD was-dropped",
        "DELETE isolate-cache");
    // the changed allow comes back with its new actions
    assertThat(((FlowCodec.Entry) p.permit().get(1).subject()).body()).isEqualTo(GOTO_ELSEWHERE);
  }

  @Test
  void whatStopsTrafficIsAnIsolationDropOrAFlowWithoutActions() {
    assertThat(OrderedChanges.denies(entry("a", ISOLATION, GOTO))).as("audited drop: meter and controller").isTrue();
    assertThat(OrderedChanges.denies(entry("b", BASE, Bytes.EMPTY))).isTrue();
    assertThat(OrderedChanges.denies(entry("c", ALLOW, GOTO))).isFalse();
    assertThat(OrderedChanges.denies(entry("d", BASE, GOTO))).isFalse();
  }
}
