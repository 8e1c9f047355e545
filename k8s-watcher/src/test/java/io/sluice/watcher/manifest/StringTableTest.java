package io.sluice.watcher.manifest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class StringTableTest {
  @Test
  void equalStringsShareTheFirstInstance() {
    StringTable t = new StringTable(64);
    String a = new String("app");
    String b = new String("app");
    assertThat(t.canonical(a)).isSameAs(a);
    assertThat(t.canonical(b)).isSameAs(a);
  }

  @Test
  void aCollisionReplacesTheSlotAndLongStringsAreLeftAlone() {
    StringTable t = new StringTable(1);
    String a = t.canonical(new String("web"));
    String db = t.canonical(new String("db"));
    assertThat(db).isEqualTo("db");
    String web = new String("web");
    assertThat(t.canonical(web)).isSameAs(web).isNotSameAs(a);
    String lng = "x".repeat(65);
    assertThat(t.canonical(lng)).isSameAs(lng);
    assertThat(t.canonical(new String(lng))).isNotSameAs(lng);
  }

  @Test
  void sizeMustBeAPowerOfTwo() {
    assertThatThrownBy(() -> new StringTable(12)).isInstanceOf(IllegalArgumentException.class);
  }
}
