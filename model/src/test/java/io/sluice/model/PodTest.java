package io.sluice.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PodTest {
  private final ObjectRef ref = new ObjectRef("shop", "web-1");

  @Test
  void olderConstructorsDescribeAReadyRunningPodWithoutANode() {
    Pod five = new Pod(ref, Map.of("app", "web"), List.of("10.0.0.2"), List.of(), false);
    Pod six = new Pod(ref, Map.of("app", "web"), List.of("10.0.0.2"), List.of(), false, List.of("192.168.1.4"));
    for (Pod p : List.of(five, six)) {
      assertThat(p.nodeName()).isEmpty();
      assertThat(p.ready()).isTrue();
      assertThat(p.terminating()).isFalse();
      assertThat(p.terminal()).isFalse();
    }
    assertThat(six.hostIps()).containsExactly("192.168.1.4");
  }

  @Test
  void withLabelsKeepsEverythingElse() {
    Pod p = new Pod(ref, Map.of("app", "web"), List.of("10.0.0.2"), List.of(new Pod.NamedPort("http", 8080, "TCP")),
        true, List.of("192.168.1.4"), "node-1", false, true, false);
    Pod q = p.withLabels(Map.of("app", "api"));
    assertThat(q.labels()).containsExactly(Map.entry("app", "api"));
    assertThat(q).isEqualTo(new Pod(ref, Map.of("app", "api"), p.ips(), p.ports(), true, p.hostIps(), "node-1", false,
        true, false));
  }
}
