package io.sluice.renderer.pipeline;

import io.sluice.renderer.flow.Field;
import java.util.Set;

/**
 * One table of a pipeline profile, declared as data: its id, name, the fields its flows may match, where its
 * table-miss goes ({@code missNext} = next table id, or -1 for drop, or {@link #MISS_NORMAL}), and how many flows it
 * holds ({@code size}; {@link #UNLIMITED} for a software switch).
 */
public record Table(int id, String name, Set<Field> matchFields, int missNext, int size) {
  public static final int MISS_DROP = -1;
  public static final int MISS_NORMAL = -2;
  public static final int UNLIMITED = Integer.MAX_VALUE;

  public Table {
    matchFields = Set.copyOf(matchFields);
    if (id < 0 || id > 254) {
      throw new IllegalArgumentException("table id " + id + ": expected 0..254");
    }
    if (size < 1) {
      throw new IllegalArgumentException("table " + id + " (" + name + "): size " + size + ", expected at least 1");
    }
  }

  /** A table without a size limit (Open vSwitch's). */
  public Table(int id, String name, Set<Field> matchFields, int missNext) {
    this(id, name, matchFields, missNext, UNLIMITED);
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
