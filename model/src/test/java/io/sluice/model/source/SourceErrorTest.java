package io.sluice.model.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SourceErrorTest {
  @Test
  void printsWhereWhatAndWhyAsOneLogLine() {
    SourceError e = new SourceError("dir/f.yaml", 1, 6, "NetworkPolicy", "shop", "bad",
        "spec.podSelector", "Required value");
    assertThat(e.message()).isEqualTo("spec.podSelector: Required value");
    assertThat(e.object()).isEqualTo("NetworkPolicy shop/bad");
    assertThat(e).hasToString("dir/f.yaml doc 1 (line 6) NetworkPolicy shop/bad: spec.podSelector: Required value");
  }

  @Test
  void leavesOutWhatTheDocumentDidNotSay() {
    SourceError e = new SourceError("informer:nodes", -1, 0, "", "", "", "", "cannot parse: bad token");
    assertThat(e.message()).isEqualTo("cannot parse: bad token");
    assertThat(e.object()).isEmpty();
    assertThat(e).hasToString("informer:nodes: cannot parse: bad token");
  }

  @Test
  void clusterScopedObjectsHaveNoNamespaceInTheirName() {
    assertThat(new SourceError("f.yaml", 0, 1, "Node", "", "n1", "", "x").object()).isEqualTo("Node n1");
  }

  @Test
  void refusesMissingTexts() {
    assertThatThrownBy(() -> new SourceError("f.yaml", 0, 1, "Pod", "ns", "p", null, "x"))
        .isInstanceOf(NullPointerException.class).hasMessage("field");
  }
}
