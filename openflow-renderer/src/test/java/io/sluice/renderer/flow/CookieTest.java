package io.sluice.renderer.flow;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

class CookieTest {
  private static final List<Predicate<Cookie>> KINDS = List.of(Cookie::isBase, Cookie::isRuleAllow,
      Cookie::isIsolationDrop, Cookie::isExemption, Cookie::isAdmission, Cookie::isLearned);

  private static long kindsTrue(Cookie c) {
    return KINDS.stream().filter(k -> k.test(c)).count();
  }

  @Test
  void eachCategoryAnswersExactlyItsOwnPredicate() {
    assertThat(Cookie.of(Cookie.Category.BASE, 3, 0xffff).isBase()).isTrue();
    assertThat(Cookie.of(Cookie.Category.POLICY, 3, 0x71de9e12L).isRuleAllow()).isTrue();
    assertThat(Cookie.of(Cookie.Category.ISOLATION, 3, 0).isIsolationDrop()).isTrue();
    assertThat(Cookie.of(Cookie.Category.EXEMPTION, 3, 0).isExemption()).isTrue();
    assertThat(Cookie.of(Cookie.Category.ADMISSION, 3, 0).isAdmission()).isTrue();
    assertThat(Cookie.of(Cookie.Category.LEARNED, 0, 7).isLearned()).isTrue();
    for (Cookie.Category c : List.of(Cookie.Category.BASE, Cookie.Category.POLICY, Cookie.Category.ISOLATION,
        Cookie.Category.EXEMPTION, Cookie.Category.ADMISSION, Cookie.Category.LEARNED)) {
      assertThat(kindsTrue(Cookie.of(c, 1, 0))).as(c.name()).isEqualTo(1);
    }
    assertThat(kindsTrue(Cookie.of(Cookie.Category.SERVICE, 1, 0))).isZero();
  }

  @Test
  void theObjectIdNoLongerTellsAnIsolationDropFromAnAllow() {
    // before, id 0 under the policy category meant both: now the category says which
    Cookie drop = Cookie.of(Cookie.Category.ISOLATION, 2, 0);
    Cookie exemption = Cookie.of(Cookie.Category.EXEMPTION, 2, 0);
    Cookie admission = Cookie.of(Cookie.Category.ADMISSION, 2, 0);
    assertThat(drop.objectId()).isEqualTo(exemption.objectId()).isEqualTo(admission.objectId());
    assertThat(exemption.isIsolationDrop()).isFalse();
    assertThat(admission.isIsolationDrop()).isFalse();
    assertThat(drop.sameObject(exemption.value())).isFalse();
  }

  @Test
  void aForeignCookieIsNoKindAtAll() {
    Cookie foreign = new Cookie(0x0005_0001_0000_0000L);
    assertThat(foreign.owned()).isFalse();
    assertThat(kindsTrue(foreign)).isZero();
  }

  @Test
  void everyPolicyKindIsSyncedAndKeepsItsKindAcrossRounds() {
    for (Cookie.Category c : List.of(Cookie.Category.POLICY, Cookie.Category.ISOLATION, Cookie.Category.EXEMPTION,
        Cookie.Category.ADMISSION)) {
      Cookie k = Cookie.of(c, 1, 5);
      assertThat(Cookie.isSynced(k.value())).as(c.name()).isTrue();
      assertThat(k.withRound(9).category()).isEqualTo(c);
      assertThat(k.sameObject(k.withRound(9).value())).isTrue();
    }
    assertThat(Cookie.isSynced(Cookie.of(Cookie.Category.LEARNED, 0, 5).value())).isFalse();
  }
}
