package io.sluice.controller.wire;

import static io.sluice.renderer.flow.Field.CT_LABEL;
import static io.sluice.renderer.flow.Field.CT_MARK;
import static io.sluice.renderer.flow.Field.ETH_DST;
import static io.sluice.renderer.flow.Field.REG0;
import static io.sluice.renderer.flow.Field.REG1;
import static io.sluice.renderer.flow.Field.REG3;
import static io.sluice.renderer.flow.Field.REG4;

import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.FieldValue;
import io.sluice.renderer.flow.Group;
import io.sluice.renderer.flow.Meter;
import io.sluice.renderer.flow.OfctlFormat;
import java.util.ArrayList;
import java.util.List;

/** Groups and meters covering what the wire layer encodes for them; the bytes to expect come from real OVS. */
public final class GoldenGroups {
  private GoldenGroups() { }

  static final long SELECT = Group.ownedId(0x10);
  static final long ALL = Group.ownedId(0x11);
  static final long INDIRECT = Group.ownedId(0x12);
  static final long EMPTY = Group.ownedId(0x13);
  static final long AFFINITY = Group.ownedId(0x14);

  static Group.Bucket bucket(int weight, Action... actions) {
    return new Group.Bucket(weight, List.of(actions));
  }

  /** A bucket as a Service endpoint: address to reg3, port to reg4, on to table 12. */
  public static Group.Bucket endpoint(int i) {
    return bucket(1, new Action.SetField(FieldValue.exact(REG3, 0x0a000000L + i)),
        new Action.SetField(FieldValue.exact(REG4, 8000 + i % 1000)), new Action.Resubmit(12));
  }

  static Action.Ct ct(boolean commit, int zone, int table, Action.Nat nat, Action... exec) {
    return new Action.Ct(commit, false, zone, null, 0, table, nat, List.of(exec));
  }

  /** Every golden group; valid for add-group in OF1.3, 1.4 and 1.5. */
  public static List<Group> all() {
    List<Group> g = new ArrayList<>();
    g.add(new Group(SELECT, Group.Type.SELECT, List.of(
        bucket(100, new Action.SetField(FieldValue.exact(REG3, 0x0a000001L)), new Action.SetField(FieldValue.exact(REG4, 0x50)),
            new Action.Resubmit(12)),
        bucket(1, ct(true, 3, -1, new Action.Nat(Action.NatKind.DST, "10.0.0.1", null, 80, 0, false, false, false)),
            new Action.Resubmit(5)),
        bucket(0, new Action.Load(REG3, 4, 8, 5), new Action.Move(REG0, 0, REG1, 16, 16), new Action.Output(1)),
        bucket(7, ct(true, 9, 7, null, new Action.SetField(FieldValue.exact(CT_MARK, 0x654321)),
            new Action.SetField(FieldValue.exact(CT_LABEL, 5)))))));
    g.add(new Group(ALL, Group.Type.ALL, List.of(
        bucket(1, new Action.Output(1)), bucket(1, new Action.Group(SELECT)),
        bucket(1, new Action.DecTtl(), new Action.Output(2)))));
    g.add(new Group(INDIRECT, Group.Type.INDIRECT, List.of(
        bucket(1, new Action.CtClear(), new Action.SetField(FieldValue.exact(ETH_DST, 0x001122334455L)), new Action.InPort()))));
    g.add(new Group(EMPTY, Group.Type.SELECT, List.of()));
    // session affinity: each bucket loads its endpoint into the affinity registers and resubmits (OVS runs a bucket as
    // an action set, which drops a learn: table 15 learns instead)
    g.add(new Group(AFFINITY, Group.Type.SELECT, List.of(
        bucket(100, new Action.SetField(FieldValue.exact(REG0, 0x0a00000bL)), new Action.Load(REG4, 0, 17, 0x11f90),
            new Action.Resubmit(15)),
        bucket(100, new Action.SetField(FieldValue.exact(REG0, 0xfd000001L)), new Action.SetField(FieldValue.exact(REG1, 0)),
            new Action.Load(REG4, 0, 17, 0x11f90), new Action.Resubmit(15)))));
    return g;
  }

  public static List<Meter> meters() {
    return List.of(new Meter(0x5c00, true, 100, 20), new Meter(0x5c01, false, 1000, 200),
        new Meter(0x5cff, false, 0xffffffffL, 0xffffffffL));
  }

  /** add-group / mod-group text of the group (OfctlFormat's, without its leading space). */
  static String text(Group g) {
    return OfctlFormat.group(g).substring(1);
  }

  /**
   * One bucket as insert-buckets / mod-group text: its id and, always, its weight as OVS holds it (insert-buckets
   * assumes weight 0 when none is given).
   */
  static String bucketText(long id, int weight, Group.Bucket b) {
    return "bucket=bucket_id:" + id + ",weight:" + weight + ",actions=" + OfctlFormat.actions(b.actions());
  }

  /** add-meter text. */
  static String meterText(Meter m) {
    return "meter=" + m.id() + "," + (m.packets() ? "pktps" : "kbps") + ",burst,band=type=drop,rate=" + m.rate()
        + ",burst_size=" + m.burstSize();
  }
}
