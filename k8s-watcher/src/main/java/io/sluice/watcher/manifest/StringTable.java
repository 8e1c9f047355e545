package io.sluice.watcher.manifest;

/**
 * A small, lossy table of recently read strings, so that the values repeated across thousands of manifests (label
 * keys and values, namespaces, protocols, port names, images) share one instance instead of one per object. Fewer
 * live strings mean a smaller model and less for the garbage collector to copy while a large directory loads.
 *
 * <p>Bounded: a slot holds the last string that hashed to it, so unique values (pod names, addresses) only displace
 * each other. Thread-safe without locks: a slot is read and written whole, and strings are immutable, so a racing
 * reader at worst misses a match and keeps its own equal copy.
 */
final class StringTable {
  private static final int MAX_LENGTH = 64;
  private final String[] slots;
  private final int mask;

  /** @param size number of slots, a power of two */
  StringTable(int size) {
    if (size < 1 || Integer.bitCount(size) != 1) {
      throw new IllegalArgumentException("size must be a power of two, got " + size);
    }
    slots = new String[size];
    mask = size - 1;
  }

  /** An instance equal to {@code s}: the one seen before if it is still in the table, else {@code s} itself. */
  String canonical(String s) {
    if (s.length() > MAX_LENGTH) {
      return s;
    }
    int h = s.hashCode();
    int i = (h ^ (h >>> 15)) & mask;
    String seen = slots[i];
    if (seen != null && seen.hashCode() == h && seen.equals(s)) {
      return seen;
    }
    slots[i] = s;
    return s;
  }
}
