package io.sluice.renderer.pipeline;

import io.sluice.renderer.flow.Field;
import java.util.Set;

/**
 * One table of a pipeline profile, declared as data: its id, name, the fields its flows may match, and where
 * its table-miss goes ({@code missNext} = next table id, or -1 for drop, or {@link #MISS_NORMAL}).
 */
public record Table(int id, String name, Set<Field> matchFields, int missNext) {
  public static final int MISS_DROP = -1;
  public static final int MISS_NORMAL = -2;

  public Table {
    matchFields = Set.copyOf(matchFields);
  }

  /** The fields this table may match, as a {@link Field#bit} set. */
  public long matchFieldBits() {
    long bits = 0;
    for (Field f : matchFields) {
      bits |= Field.bit(f);
    }
    return bits;
  }
}
