package io.sluice.ovsdb.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.ovsdb.rpc.Json;
import io.sluice.ovsdb.rpc.UpdateKind;
import java.io.InputStream;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OvsdbCacheTest {
  static final String BR = "11111111-1111-1111-1111-111111111111";
  static final String P1 = "22222222-2222-2222-2222-222222222221";
  static final String P2 = "22222222-2222-2222-2222-222222222222";
  static final String I1 = "33333333-3333-3333-3333-333333333331";

  private final OvsdbCache cache = new OvsdbCache("test");

  static DbSchema schema() {
    try (InputStream in = OvsdbCacheTest.class.getResourceAsStream("/vswitch-monitored.ovsschema")) {
      return DbSchema.parse(Json.MAPPER.readTree(in));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static JsonNode json(String s) {
    try {
      return Json.MAPPER.readTree(s.replace('\'', '"'));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @BeforeEach
  void load() {
    cache.schema(schema());
    cache.apply(json("{'Bridge':{'" + BR + "':{'initial':{'name':'br0','ports':['uuid','" + P1 + "'],"
        + "'datapath_id':'00000000000000a1','protocols':['set',['OpenFlow13','OpenFlow15']]}}},"
        + "'Port':{'" + P1 + "':{'initial':{'name':'p1','interfaces':['uuid','" + I1 + "']}}},"
        + "'Interface':{'" + I1 + "':{'initial':{'name':'p1','external_ids':['map',[['pod-name','a'],"
        + "['pod-namespace','ns']]]}}}}"), UpdateKind.UPDATE2);
  }

  @Test
  void update2InitialRowsGetSchemaDefaultsForOmittedColumns() {
    CacheSnapshot s = cache.snapshot();
    OvsRows.Interface i = s.interfaces().get(UUID.fromString(I1));
    assertThat(i.ofport()).isEmpty();
    assertThat(i.type()).isEmpty();
    assertThat(i.externalIds()).containsEntry("pod-name", "a").containsEntry("pod-namespace", "ns");
    OvsRows.Bridge b = s.bridges().get(UUID.fromString(BR));
    assertThat(b.ports()).containsExactly(UUID.fromString(P1));
    assertThat(b.protocols()).containsExactlyInAnyOrder("OpenFlow13", "OpenFlow15");
    assertThat(b.failMode()).isEmpty();
    assertThat(b.dpid()).isEqualTo(OptionalLong.of(0xa1));
  }

  @Test
  void update2ModifyTogglesSetElementsAndMergesMapDiffs() {
    cache.apply(json("{'Bridge':{'" + BR + "':{'modify':{'ports':['set',[['uuid','" + P1 + "'],['uuid','" + P2
        + "']]],'protocols':'OpenFlow14','fail_mode':'secure'}}},"
        + "'Interface':{'" + I1 + "':{'modify':{'ofport':7,'external_ids':['map',[['pod-name','b'],"
        + "['pod-namespace','ns'],['attached-mac','aa:bb:cc:dd:ee:ff']]]}}}}"), UpdateKind.UPDATE2);
    CacheSnapshot s = cache.snapshot();
    OvsRows.Bridge b = s.bridges().get(UUID.fromString(BR));
    assertThat(b.ports()).containsExactly(UUID.fromString(P2));
    assertThat(b.protocols()).containsExactlyInAnyOrder("OpenFlow13", "OpenFlow14", "OpenFlow15");
    assertThat(b.failMode()).isEqualTo("secure");
    OvsRows.Interface i = s.interfaces().get(UUID.fromString(I1));
    assertThat(i.ofport()).isEqualTo(OptionalLong.of(7));
    // changed value replaced, same value removed, new key added
    assertThat(i.externalIds()).isEqualTo(Map.of("pod-name", "b", "attached-mac", "aa:bb:cc:dd:ee:ff"));
  }

  @Test
  void update2DeleteRemovesTheRow() {
    assertThat(cache.apply(json("{'Port':{'" + P1 + "':{'delete':null}}}"), UpdateKind.UPDATE2)).isTrue();
    assertThat(cache.snapshot().ports()).isEmpty();
  }

  @Test
  void rfc7047UpdatesReplaceColumnsAndDeleteWithoutNew() {
    cache.apply(json("{'Interface':{'" + I1 + "':{'old':{'ofport':['set',[]]},'new':{'name':'p1','ofport':9,"
        + "'external_ids':['map',[]]}}}}"), UpdateKind.UPDATE);
    OvsRows.Interface i = cache.snapshot().interfaces().get(UUID.fromString(I1));
    assertThat(i.ofport()).isEqualTo(OptionalLong.of(9));
    assertThat(i.externalIds()).isEmpty();
    cache.apply(json("{'Interface':{'" + I1 + "':{'old':{'name':'p1'}}}}"), UpdateKind.UPDATE);
    assertThat(cache.snapshot().interfaces()).isEmpty();
  }

  @Test
  void unreadableRowIsSkippedAndTheRestApplied() {
    cache.apply(json("{'Interface':{'" + I1 + "':{'modify':{'ofport':'seven'}},'not-a-uuid':{'insert':{}}},"
        + "'Port':{'" + P2 + "':{'insert':{'name':'p2'}}},'NoSuchTable':{'x':{}}}"), UpdateKind.UPDATE2);
    assertThat(cache.badRows()).isEqualTo(2);
    assertThat(cache.snapshot().ports()).containsKey(UUID.fromString(P2));
    assertThat(cache.snapshot().interfaces().get(UUID.fromString(I1)).ofport()).isEmpty();
  }

  @Test
  void modifyOfUnknownRowIsSkipped() {
    cache.apply(json("{'Port':{'" + P2 + "':{'modify':{'name':'x'}}}}"), UpdateKind.UPDATE2);
    assertThat(cache.snapshot().ports()).doesNotContainKey(UUID.fromString(P2));
    assertThat(cache.badRows()).isEqualTo(1);
  }

  @Test
  void snapshotsAreImmutableAndSharedUntilTheNextChange() {
    CacheSnapshot a = cache.snapshot();
    assertThat(cache.snapshot()).isSameAs(a);
    assertThatThrownBy(() -> a.ports().clear()).isInstanceOf(UnsupportedOperationException.class);
    cache.apply(json("{'Port':{'" + P2 + "':{'insert':{'name':'p2'}}}}"), UpdateKind.UPDATE2);
    assertThat(cache.snapshot()).isNotSameAs(a);
    assertThat(a.ports()).hasSize(1);
  }

  @Test
  void monitorRequestsAskOnlyForColumnsTheSchemaHas() {
    JsonNode req = cache.monitorRequests();
    assertThat(req.get("Interface").get("columns").toString()).contains("\"ofport\"", "\"external_ids\"");
    assertThat(Set.of(req.fieldNames().next())).isNotEmpty();
  }

  @Test
  void bridgeDpidFallsBackToOtherConfig() {
    OvsRows.Bridge b = new OvsRows.Bridge(UUID.randomUUID(), "b", Set.of(), "", "", Set.of(), Set.of(), "",
        Map.of("datapath-id", "0000000000000abc"), Map.of());
    assertThat(b.dpid()).isEqualTo(OptionalLong.of(0xabc));
    OvsRows.Bridge none = new OvsRows.Bridge(UUID.randomUUID(), "b", Set.of(), "zz", "", Set.of(), Set.of(), "",
        Map.of(), Map.of());
    assertThat(none.dpid()).isEmpty();
  }
}
