package io.sluice.renderer.service;

import java.util.ArrayList;
import java.util.List;

/**
 * How one port's backends are spread over select groups. Up to {@link #MAX_BUCKETS} backends: one group, as always.
 * More: a group of groups, whose leaves each hold the backends whose address and port hash to it (so a backend's leaf
 * does not depend on the other backends: adding or removing one changes its leaf only, and the parent's weights). The
 * number of leaves is a power of two, the smallest that gives at most {@link #LEAF_TARGET} backends per leaf on
 * average, doubled while a leaf would hold more than {@link #MAX_BUCKETS} (up to {@link #MAX_LEAVES}); doubling
 * splits each leaf in two.
 *
 * <p>Why these numbers: the longest bucket Sluice writes (an IPv6 DNAT with the endpoint's MAC in the label) is
 * 136 bytes in OF1.5, so 400 buckets (54 KB) and the leaf's extra bucket fit one 64 KB group-mod with bundle framing,
 * with room to spare ({@code LargeServiceGroupsTest} in controller checks it; 481 would be the most).
 *
 * <p>How OVS 3.1 chooses (seen with {@code ofproto/trace} megaflows): a select group without a selection method whose
 * weights need at most 256 hash slots (16 or more, a power of two, at least the total weight over the smallest)
 * uses the packet's datapath hash, computed once ({@code hash(sym_l4(0)),recirc}) and then read by every such group
 * the packet meets: slot = dp_hash's low bits. A parent and a leaf both chosen that way pick by the same low bits, so
 * a leaf only ever uses the buckets whose slots agree with its parent slot's bits (measured: 2 leaves of 250, 1,000
 * connections reached 345 distinct endpoints instead of about 432). Other groups are chosen by OVS's default method,
 * a hash of the 5-tuple scored against each bucket id, which does not follow dp_hash's low bits. So the parent (at
 * most {@link #MAX_LEAVES} buckets of similar weights) keeps the datapath hash and shares its slots out by weight, and
 * each leaf gets one more bucket, of weight {@link #OFF_DP_HASH_WEIGHT}, repeating its first endpoint: its total over
 * its smallest weight is then above 256, so OVS uses the default method there (that bucket scores at most a
 * hundredth of the others and is practically never chosen). Two default-method levels would correlate too (the same
 * scores for the same bucket ids), which is why there are at most 64 leaves. Pure.
 */
final class Leaves {
  private Leaves() { }

  /** The most buckets one group holds. */
  static final int MAX_BUCKETS = 400;
  /** The average leaf size the number of leaves aims at (below the limit, as hashing spreads unevenly). */
  static final int LEAF_TARGET = 320;
  /**
   * The most leaves: the parent must keep OVS's dp_hash selection (its total weight over its smallest leaf at most
   * 256). More than 64 × 400 endpoints make leaves larger than {@link #MAX_BUCKETS}, until one does not fit a
   * message and sync refuses it.
   */
  static final int MAX_LEAVES = 64;
  /** The weight of each leaf's extra bucket (the others have 100): keeps OVS off dp_hash within the leaf. */
  static final int OFF_DP_HASH_WEIGHT = 1;

  /** The backends of each leaf, in the order given; one list (all of them) when they fit one group. */
  static List<List<Endpoints.Backend>> of(List<Endpoints.Backend> backends) {
    if (backends.size() <= MAX_BUCKETS) {
      return List.of(backends);
    }
    long[] hashes = new long[backends.size()];
    for (int i = 0; i < hashes.length; i++) {
      hashes[i] = hash(backends.get(i));
    }
    int n = 2;
    while (n < MAX_LEAVES && (backends.size() + n - 1) / n > LEAF_TARGET) {
      n *= 2;
    }
    while (true) {
      int[] sizes = new int[n];
      int largest = 0;
      for (long h : hashes) {
        largest = Math.max(largest, ++sizes[(int) (h & (n - 1))]);
      }
      if (largest <= MAX_BUCKETS || n >= MAX_LEAVES) {
        break;
      }
      n *= 2;
    }
    List<List<Endpoints.Backend>> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(new ArrayList<>());
    }
    for (int i = 0; i < hashes.length; i++) {
      out.get((int) (hashes[i] & (n - 1))).add(backends.get(i));
    }
    return out.stream().map(List::copyOf).toList();
  }

  /** The number of groups a port with these backends gets besides its own: 0, or the number of leaves. */
  static int count(List<Endpoints.Backend> backends) {
    return backends.size() <= MAX_BUCKETS ? 0 : of(backends).size();
  }

  /** FNV-1a over the address and port, finished so that the low bits depend on every input bit. */
  static long hash(Endpoints.Backend b) {
    long h = 0xcbf29ce484222325L;
    for (byte x : b.address()) {
      h = (h ^ (x & 0xff)) * 0x100000001b3L;
    }
    h = (h ^ (b.port() >>> 8 & 0xff)) * 0x100000001b3L;
    h = (h ^ (b.port() & 0xff)) * 0x100000001b3L;
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    return h;
  }
}
