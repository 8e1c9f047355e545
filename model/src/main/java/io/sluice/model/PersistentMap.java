package io.sluice.model;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * An immutable hash map (a hash array mapped trie) whose versions share structure: {@link #with} and {@link #without}
 * copy only the path from the root to the changed entry (a few small arrays), so the model can hand out a new
 * snapshot per generation without copying 100,000 pods. The {@link Map} view is read-only; nulls are not allowed.
 */
public final class PersistentMap<K, V> extends AbstractMap<K, V> {
  private static final PersistentMap<Object, Object> EMPTY = new PersistentMap<>(null, 0);
  private static final Object NOT_FOUND = new Object();
  private static final int BITS = 5;
  private static final int MASK = (1 << BITS) - 1;

  private final Node root;
  private final int size;
  private Set<Entry<K, V>> entrySet;

  private PersistentMap(Node root, int size) {
    this.root = root;
    this.size = size;
  }

  @SuppressWarnings("unchecked")
  public static <K, V> PersistentMap<K, V> empty() {
    return (PersistentMap<K, V>) EMPTY;
  }

  /** The map itself if it is already persistent, else a persistent copy. */
  @SuppressWarnings("unchecked")
  public static <K, V> PersistentMap<K, V> copyOf(Map<? extends K, ? extends V> map) {
    if (map instanceof PersistentMap<?, ?> p) {
      return (PersistentMap<K, V>) p;
    }
    PersistentMap<K, V> out = empty();
    for (Entry<? extends K, ? extends V> e : map.entrySet()) {
      out = out.with(e.getKey(), e.getValue());
    }
    return out;
  }

  /**
   * A map of {@code entries} (iteration order: the order keys with equal hashes keep among themselves), built bottom
   * up: every node is allocated once, where adding the entries one by one with {@link #with} copies the path to each.
   * For loading a large batch into an empty map.
   */
  public static <K, V> PersistentMap<K, V> build(Map<? extends K, ? extends V> entries) {
    int n = entries.size();
    if (n == 0) {
      return empty();
    }
    Object[] keys = new Object[n];
    Object[] values = new Object[n];
    int[] hashes = new int[n];
    int i = 0;
    for (Entry<? extends K, ? extends V> e : entries.entrySet()) {
      keys[i] = Objects.requireNonNull(e.getKey(), "key");
      values[i] = Objects.requireNonNull(e.getValue(), "value");
      hashes[i] = hash(keys[i]);
      i++;
    }
    int[] order = new int[n];
    for (i = 0; i < n; i++) {
      order[i] = i;
    }
    return new PersistentMap<>(build(keys, values, hashes, order, new int[n], 0, n, 0), n);
  }

  /** The node for order[from, to), entries whose hashes agree below {@code shift}; at least two of them. */
  private static Node build(Object[] keys, Object[] values, int[] hashes, int[] order, int[] scratch, int from,
                            int to, int shift) {
    // Stable counting sort by the 5 bits at this level; then bucket b is order[from + end(b-1), from + end(b)).
    int[] end = new int[32];
    for (int i = from; i < to; i++) {
      end[index(hashes[order[i]], shift)]++;
    }
    int buckets = 0;
    for (int b = 0, sum = 0; b < 32; b++) {
      buckets += end[b] > 0 ? 1 : 0;
      int c = end[b];
      end[b] = sum; // start for now
      sum += c;
    }
    for (int i = from; i < to; i++) {
      int o = order[i];
      scratch[from + end[index(hashes[o], shift)]++] = o;
    }
    System.arraycopy(scratch, from, order, from, to - from);
    Object[] slots = new Object[2 * buckets];
    int bitmap = 0;
    int p = 0;
    for (int b = 0, start = 0; b < 32; start = end[b], b++) {
      int lo = from + start;
      int hi = from + end[b];
      if (hi == lo) {
        continue;
      }
      bitmap |= 1 << b;
      if (hi - lo == 1) {
        slots[p] = keys[order[lo]];
        slots[p + 1] = values[order[lo]];
      } else {
        boolean sameHash = true;
        for (int i = lo + 1; i < hi && sameHash; i++) {
          sameHash = hashes[order[i]] == hashes[order[lo]];
        }
        if (sameHash) {
          Object[] kvs = new Object[2 * (hi - lo)];
          for (int i = lo; i < hi; i++) {
            kvs[2 * (i - lo)] = keys[order[i]];
            kvs[2 * (i - lo) + 1] = values[order[i]];
          }
          slots[p + 1] = new CollisionNode(hashes[order[lo]], kvs);
        } else {
          slots[p + 1] = build(keys, values, hashes, order, scratch, lo, hi, shift + BITS);
        }
      }
      p += 2;
    }
    return new BitmapNode(bitmap, slots);
  }

  /** This map with {@code key} mapped to {@code value}; {@code this} if it already was (by identity). */
  public PersistentMap<K, V> with(K key, V value) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    boolean[] added = new boolean[1];
    Node r = root == null ? BitmapNode.EMPTY : root;
    Node n = r.with(key, value, hash(key), 0, added);
    return n == root ? this : new PersistentMap<>(n, added[0] ? size + 1 : size);
  }

  /** This map without {@code key}; {@code this} if it had no such key. */
  public PersistentMap<K, V> without(Object key) {
    if (root == null || key == null) {
      return this;
    }
    Node n = root.without(key, hash(key), 0);
    if (n == root) {
      return this;
    }
    return n == null ? empty() : new PersistentMap<>(n, size - 1);
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public boolean isEmpty() {
    return size == 0;
  }

  @Override
  @SuppressWarnings("unchecked")
  public V get(Object key) {
    if (root == null || key == null) {
      return null;
    }
    Object v = root.find(key, hash(key), 0);
    return v == NOT_FOUND ? null : (V) v;
  }

  @Override
  public boolean containsKey(Object key) {
    return root != null && key != null && root.find(key, hash(key), 0) != NOT_FOUND;
  }

  @Override
  @SuppressWarnings("unchecked")
  public void forEach(BiConsumer<? super K, ? super V> action) {
    if (root != null) {
      root.forEach((BiConsumer<Object, Object>) action);
    }
  }

  @Override
  public Set<Entry<K, V>> entrySet() {
    Set<Entry<K, V>> s = entrySet;
    if (s == null) {
      s = new AbstractSet<>() {
        @Override
        public Iterator<Entry<K, V>> iterator() {
          return new Iter<>(root);
        }

        @Override
        public int size() {
          return size;
        }
      };
      entrySet = s;
    }
    return s;
  }

  /** Receives one difference found by {@link #diff}: a key added (old null), removed (new null) or replaced. */
  @FunctionalInterface
  public interface DiffListener<K, V> {
    void changed(K key, V oldValue, V newValue);
  }

  /**
   * Reports every key whose value differs (by identity) between two versions of a map, visiting only the parts of
   * the trie they do not share: between neighbouring model generations this costs about the number of changed
   * entries times the trie's depth, not the size of the map. Stops early and returns false once more than
   * {@code limit} differences were found (the listener has then heard some of them); true when all were reported.
   */
  @SuppressWarnings("unchecked")
  public static <K, V> boolean diff(PersistentMap<K, V> before, PersistentMap<K, V> after, int limit,
                                    DiffListener<? super K, ? super V> listener) {
    int[] budget = {limit};
    return diffNodes(before.root, after.root, 0, budget, (DiffListener<Object, Object>) listener);
  }

  private static boolean diffNodes(Node a, Node b, int shift, int[] budget, DiffListener<Object, Object> l) {
    if (a == b) {
      return true;
    }
    if (a instanceof BitmapNode x && b instanceof BitmapNode y) {
      int all = x.bitmap | y.bitmap;
      while (all != 0) {
        int bit = Integer.lowestOneBit(all);
        all &= ~bit;
        boolean inX = (x.bitmap & bit) != 0;
        boolean inY = (y.bitmap & bit) != 0;
        Object kx = inX ? x.slots[x.pos(bit)] : null;
        Object vx = inX ? x.slots[x.pos(bit) + 1] : null;
        Object ky = inY ? y.slots[y.pos(bit)] : null;
        Object vy = inY ? y.slots[y.pos(bit) + 1] : null;
        if (inX && inY && kx == null && ky == null) {
          if (!diffNodes((Node) vx, (Node) vy, shift + BITS, budget, l)) {
            return false;
          }
        } else if (inX && inY && kx != null && ky != null && kx.equals(ky)) {
          if (vx != vy && !report(kx, vx, vy, budget, l)) {
            return false;
          }
        } else if (!diffSmall(inX ? kx : null, inX ? vx : null, inY ? ky : null, inY ? vy : null, budget, l)) {
          return false;
        }
      }
      return true;
    }
    return diffSmall(null, a, null, b, budget, l);
  }

  /** The general case below one slot (an entry, a subtree, a collision node or nothing on each side). */
  private static boolean diffSmall(Object kx, Object vx, Object ky, Object vy, int[] budget, DiffListener<Object, Object> l) {
    Map<Object, Object> xs = new java.util.LinkedHashMap<>();
    Map<Object, Object> ys = new java.util.LinkedHashMap<>();
    collect(kx, vx, xs);
    collect(ky, vy, ys);
    for (Map.Entry<Object, Object> e : xs.entrySet()) {
      Object other = ys.get(e.getKey());
      if (other != e.getValue() && !report(e.getKey(), e.getValue(), other, budget, l)) {
        return false;
      }
    }
    for (Map.Entry<Object, Object> e : ys.entrySet()) {
      if (!xs.containsKey(e.getKey()) && !report(e.getKey(), null, e.getValue(), budget, l)) {
        return false;
      }
    }
    return true;
  }

  private static void collect(Object key, Object valueOrNode, Map<Object, Object> into) {
    if (key != null) {
      into.put(key, valueOrNode);
    } else if (valueOrNode != null) {
      ((Node) valueOrNode).forEach(into::put);
    }
  }

  private static boolean report(Object key, Object before, Object after, int[] budget, DiffListener<Object, Object> l) {
    if (--budget[0] < 0) {
      return false;
    }
    l.changed(key, before, after);
    return true;
  }

  private static int hash(Object key) {
    int h = key.hashCode();
    return h ^ (h >>> 16);
  }

  private static int index(int hash, int shift) {
    return (hash >>> shift) & MASK;
  }

  private interface Node {
    Object find(Object key, int hash, int shift);

    Node with(Object key, Object value, int hash, int shift, boolean[] added);

    /** The node without key; the same node if absent; null if it became empty. */
    Node without(Object key, int hash, int shift);

    void forEach(BiConsumer<Object, Object> action);
  }

  /** Slots come in pairs: (key, value) for an entry, (null, child node) for a subtree. */
  private static final class BitmapNode implements Node {
    static final BitmapNode EMPTY = new BitmapNode(0, new Object[0]);
    final int bitmap;
    final Object[] slots;

    BitmapNode(int bitmap, Object[] slots) {
      this.bitmap = bitmap;
      this.slots = slots;
    }

    private int pos(int bit) {
      return 2 * Integer.bitCount(bitmap & (bit - 1));
    }

    @Override
    public Object find(Object key, int hash, int shift) {
      int bit = 1 << index(hash, shift);
      if ((bitmap & bit) == 0) {
        return NOT_FOUND;
      }
      int p = pos(bit);
      Object k = slots[p];
      if (k == null) {
        return ((Node) slots[p + 1]).find(key, hash, shift + BITS);
      }
      return key.equals(k) ? slots[p + 1] : NOT_FOUND;
    }

    @Override
    public Node with(Object key, Object value, int hash, int shift, boolean[] added) {
      int bit = 1 << index(hash, shift);
      int p = pos(bit);
      if ((bitmap & bit) == 0) {
        Object[] s = new Object[slots.length + 2];
        System.arraycopy(slots, 0, s, 0, p);
        s[p] = key;
        s[p + 1] = value;
        System.arraycopy(slots, p, s, p + 2, slots.length - p);
        added[0] = true;
        return new BitmapNode(bitmap | bit, s);
      }
      Object k = slots[p];
      if (k == null) {
        Node child = (Node) slots[p + 1];
        Node c = child.with(key, value, hash, shift + BITS, added);
        return c == child ? this : replace(p + 1, c);
      }
      if (key.equals(k)) {
        return slots[p + 1] == value ? this : replace(p + 1, value);
      }
      added[0] = true;
      Node sub = pair(k, slots[p + 1], PersistentMap.hash(k), key, value, hash, shift + BITS);
      Object[] s = slots.clone();
      s[p] = null;
      s[p + 1] = sub;
      return new BitmapNode(bitmap, s);
    }

    private BitmapNode replace(int slot, Object o) {
      Object[] s = slots.clone();
      s[slot] = o;
      return new BitmapNode(bitmap, s);
    }

    private static Node pair(Object k1, Object v1, int h1, Object k2, Object v2, int h2, int shift) {
      if (h1 == h2) {
        return new CollisionNode(h1, new Object[] {k1, v1, k2, v2});
      }
      int i1 = index(h1, shift);
      int i2 = index(h2, shift);
      if (i1 == i2) {
        return new BitmapNode(1 << i1, new Object[] {null, pair(k1, v1, h1, k2, v2, h2, shift + BITS)});
      }
      return i1 < i2
          ? new BitmapNode((1 << i1) | (1 << i2), new Object[] {k1, v1, k2, v2})
          : new BitmapNode((1 << i1) | (1 << i2), new Object[] {k2, v2, k1, v1});
    }

    @Override
    public Node without(Object key, int hash, int shift) {
      int bit = 1 << index(hash, shift);
      if ((bitmap & bit) == 0) {
        return this;
      }
      int p = pos(bit);
      Object k = slots[p];
      if (k == null) {
        Node child = (Node) slots[p + 1];
        Node c = child.without(key, hash, shift + BITS);
        if (c == child) {
          return this;
        }
        return c == null ? remove(bit, p) : replace(p + 1, c);
      }
      return key.equals(k) ? remove(bit, p) : this;
    }

    private Node remove(int bit, int p) {
      if (bitmap == bit) {
        return null;
      }
      Object[] s = new Object[slots.length - 2];
      System.arraycopy(slots, 0, s, 0, p);
      System.arraycopy(slots, p + 2, s, p, slots.length - p - 2);
      return new BitmapNode(bitmap & ~bit, s);
    }

    @Override
    public void forEach(BiConsumer<Object, Object> action) {
      for (int i = 0; i < slots.length; i += 2) {
        if (slots[i] == null) {
          ((Node) slots[i + 1]).forEach(action);
        } else {
          action.accept(slots[i], slots[i + 1]);
        }
      }
    }
  }

  /** Keys whose full 32-bit hashes are equal. */
  private static final class CollisionNode implements Node {
    final int hash;
    final Object[] kvs;

    CollisionNode(int hash, Object[] kvs) {
      this.hash = hash;
      this.kvs = kvs;
    }

    private int indexOf(Object key) {
      for (int i = 0; i < kvs.length; i += 2) {
        if (key.equals(kvs[i])) {
          return i;
        }
      }
      return -1;
    }

    @Override
    public Object find(Object key, int h, int shift) {
      int i = h == hash ? indexOf(key) : -1;
      return i < 0 ? NOT_FOUND : kvs[i + 1];
    }

    @Override
    public Node with(Object key, Object value, int h, int shift, boolean[] added) {
      if (h != hash) {
        // Split: this collision bucket becomes one child of a bitmap node at this level.
        Node holder = new BitmapNode(1 << index(hash, shift), new Object[] {null, this});
        return holder.with(key, value, h, shift, added);
      }
      int i = indexOf(key);
      if (i >= 0) {
        if (kvs[i + 1] == value) {
          return this;
        }
        Object[] s = kvs.clone();
        s[i + 1] = value;
        return new CollisionNode(hash, s);
      }
      Object[] s = Arrays.copyOf(kvs, kvs.length + 2);
      s[kvs.length] = key;
      s[kvs.length + 1] = value;
      added[0] = true;
      return new CollisionNode(hash, s);
    }

    @Override
    public Node without(Object key, int h, int shift) {
      int i = h == hash ? indexOf(key) : -1;
      if (i < 0) {
        return this;
      }
      if (kvs.length == 2) {
        return null;
      }
      Object[] s = new Object[kvs.length - 2];
      System.arraycopy(kvs, 0, s, 0, i);
      System.arraycopy(kvs, i + 2, s, i, kvs.length - i - 2);
      return new CollisionNode(hash, s);
    }

    @Override
    public void forEach(BiConsumer<Object, Object> action) {
      for (int i = 0; i < kvs.length; i += 2) {
        action.accept(kvs[i], kvs[i + 1]);
      }
    }
  }

  /** Depth-first over the trie with an explicit stack. */
  private static final class Iter<K, V> implements Iterator<Entry<K, V>> {
    private final ArrayDeque<Object[]> arrays = new ArrayDeque<>();
    private final ArrayDeque<int[]> positions = new ArrayDeque<>();
    private Entry<K, V> next;

    Iter(Node root) {
      if (root != null) {
        push(root);
      }
      advance();
    }

    private void push(Node n) {
      arrays.push(n instanceof BitmapNode b ? b.slots : ((CollisionNode) n).kvs);
      positions.push(new int[] {0});
    }

    @SuppressWarnings("unchecked")
    private void advance() {
      next = null;
      while (!arrays.isEmpty()) {
        Object[] a = arrays.peek();
        int[] pos = positions.peek();
        if (pos[0] >= a.length) {
          arrays.pop();
          positions.pop();
          continue;
        }
        int i = pos[0];
        pos[0] += 2;
        if (a[i] == null) {
          push((Node) a[i + 1]);
        } else {
          next = new SimpleImmutableEntry<>((K) a[i], (V) a[i + 1]);
          return;
        }
      }
    }

    @Override
    public boolean hasNext() {
      return next != null;
    }

    @Override
    public Entry<K, V> next() {
      if (next == null) {
        throw new NoSuchElementException();
      }
      Entry<K, V> e = next;
      advance();
      return e;
    }
  }
}
