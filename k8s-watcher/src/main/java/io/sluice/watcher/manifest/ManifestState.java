package io.sluice.watcher.manifest;

import io.sluice.model.EndpointSlice;
import io.sluice.model.ModelEvent;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.Service;
import io.sluice.model.source.SourceError;
import io.sluice.watcher.convert.ObjectKey;
import io.sluice.watcher.convert.ObjectKind;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What every file currently contributes, and which file wins each object. Files are keyed by their path relative to
 * the manifest directory; when two files define the same object the one first in path order wins (so a restart
 * gives the same answer) and the other is reported. Applying new file contents returns the net events: an object
 * that moves between files, or a file that is rewritten unchanged, produces none. The events also carry the
 * EndpointSlices derived for the directory's Services ({@link DerivedSlices}); a slice the directory gives under the
 * same name hides a derived one. Not thread-safe: one writer.
 */
final class ManifestState {
  /** One object a file contributes; {@code value} is the model record. */
  record Entry(Object value, int document, int line) { }

  /** A file as last read: its content hash, objects and own errors. */
  record FileState(long hash, Map<ObjectKey, Entry> objects, List<SourceError> errors) { }

  private final String root;
  private final Map<String, FileState> files = new HashMap<>();
  /** Per file, the warnings of its last read (files without any are absent). */
  private final Map<String, List<SourceError>> warnings = new HashMap<>();
  /** Key → defining file (a String) or, when several define it, a TreeSet of them. */
  private final Map<ObjectKey, Object> owners = new HashMap<>();
  private final Set<ObjectKey> duplicated = new HashSet<>();
  private final DerivedSlices derived = new DerivedSlices();

  /** @param root the directory as the user named it, to print file names under it */
  ManifestState(String root) {
    this.root = root;
  }

  FileState file(String rel) {
    return files.get(rel);
  }

  Set<String> files() {
    return files.keySet();
  }

  /** A file's new contents (null: the file is gone). */
  record Change(String file, long hash, ManifestParser.Result result) { }

  /** Applies the changes (in path order) and returns the net events, namespaces' upserts first. */
  List<ModelEvent> apply(List<Change> changes) {
    Staging batch = begin();
    batch.add(changes);
    return batch.finish();
  }

  /** Starts one batch that is handed over in parts (see {@link Staging}). */
  Staging begin() {
    return new Staging();
  }

  /**
   * One batch applied in parts, so a large load can be applied while its later files are still being parsed. The
   * parts must follow each other in path order (every file of a part after every file of the parts before); then
   * the state and the events of {@link #finish} are exactly those of one {@link #apply} of all parts together.
   */
  final class Staging {
    /** Each touched key's winner before the batch; path, then document order: deterministic events. */
    private final Map<ObjectKey, Object> before = new LinkedHashMap<>();
    private String last;

    /** Applies the next part. */
    void add(List<Change> changes) {
      if (changes.isEmpty()) {
        return;
      }
      List<Change> sorted = new ArrayList<>(changes);
      sorted.sort(Comparator.comparing(Change::file));
      if (last != null && sorted.get(0).file().compareTo(last) < 0) {
        throw new IllegalArgumentException("batch parts out of path order: " + sorted.get(0).file() + " after " + last);
      }
      last = sorted.get(sorted.size() - 1).file();
      stage(sorted, before);
    }

    /** The net events of every part, namespaces' upserts first. */
    List<ModelEvent> finish() {
      return events(before);
    }
  }

  private void stage(List<Change> sorted, Map<ObjectKey, Object> before) {
    for (Change ch : sorted) {
      FileState old = files.get(ch.file());
      Map<ObjectKey, Entry> objects = new LinkedHashMap<>();
      List<SourceError> errors = new ArrayList<>();
      if (ch.result() != null) {
        ManifestParser.Result r = ch.result();
        errors.addAll(r.errors());
        for (ManifestParser.Parsed p : r.objects()) {
          Entry prev = objects.putIfAbsent(p.key(), new Entry(p.value(), p.document(), p.line()));
          if (prev != null) {
            errors.add(error(ch.file(), p.document(), p.line(), p.key(), "Duplicate value: \"" + p.key().ref().name()
                + "\": already defined in document " + prev.document() + " of this file; this copy is ignored"));
          }
        }
        if (old != null) {
          // The last valid version of an object stays in force while its document is invalid or unreadable.
          for (ObjectKey k : r.rejected()) {
            Entry e = old.objects().get(k);
            if (e != null) {
              objects.putIfAbsent(k, e);
            }
          }
          if (!r.complete()) {
            old.objects().forEach(objects::putIfAbsent);
          }
        }
      }
      Set<ObjectKey> touched = new HashSet<>(objects.keySet());
      if (old != null) {
        touched.addAll(old.objects().keySet());
      }
      for (ObjectKey k : touched) {
        before.computeIfAbsent(k, x -> Objects.requireNonNullElse(winner(x), NONE));
      }
      if (old != null) {
        for (ObjectKey k : old.objects().keySet()) {
          if (!objects.containsKey(k)) {
            removeOwner(k, ch.file());
          }
        }
      }
      for (ObjectKey k : objects.keySet()) {
        if (old == null || !old.objects().containsKey(k)) {
          addOwner(k, ch.file());
        }
      }
      if (ch.result() == null) {
        files.remove(ch.file());
        warnings.remove(ch.file());
      } else {
        files.put(ch.file(), new FileState(ch.hash(), objects, List.copyOf(errors)));
        if (ch.result().warnings().isEmpty()) {
          warnings.remove(ch.file());
        } else {
          warnings.put(ch.file(), List.copyOf(ch.result().warnings()));
        }
      }
    }
  }

  private List<ModelEvent> events(Map<ObjectKey, Object> before) {
    // Upserts kind by kind (namespaces first), then deletes in the reverse kind order (namespaces last).
    Map<ObjectKind, List<ModelEvent>> upserts = new EnumMap<>(ObjectKind.class);
    Map<ObjectKind, List<ModelEvent>> deletes = new EnumMap<>(ObjectKind.class);
    // The directory's own slices (before, after): merged below with the derived ones, which they hide name by name.
    Map<ObjectRef, EndpointSlice[]> givenSlices = new LinkedHashMap<>();
    before.forEach((k, was) -> {
      Object now = winner(k);
      Object old = was == NONE ? null : was;
      if (Objects.equals(now, old)) {
        return;
      }
      switch (k.kind()) {
        case POD -> derived.pod(k.ref(), (Pod) old, (Pod) now);
        case SERVICE -> derived.service(k.ref(), (Service) old, (Service) now);
        case ENDPOINT_SLICE -> {
          derived.givenSlice(k.ref(), (EndpointSlice) old, (EndpointSlice) now);
          givenSlices.put(k.ref(), new EndpointSlice[] {(EndpointSlice) old, (EndpointSlice) now});
          return;
        }
        default -> { }
      }
      add(now == null ? deletes : upserts, k.kind(), now == null ? k.kind().delete(k.ref()) : k.kind().upsert(now));
    });
    Map<ObjectRef, DerivedSlices.Change> derivedChanges = derived.finish(this::podsIn);
    Set<ObjectRef> slices = new LinkedHashSet<>(givenSlices.keySet());
    slices.addAll(derivedChanges.keySet());
    for (ObjectRef ref : slices) {
      EndpointSlice[] g = givenSlices.get(ref);
      DerivedSlices.Change d = derivedChanges.get(ref);
      EndpointSlice givenNow = g != null ? g[1] : (EndpointSlice) winner(new ObjectKey(ObjectKind.ENDPOINT_SLICE, ref));
      EndpointSlice givenWas = g != null ? g[0] : givenNow;
      EndpointSlice derivedNow = d != null ? d.after() : derived.get(ref);
      EndpointSlice derivedWas = d != null ? d.before() : derivedNow;
      EndpointSlice was = givenWas != null ? givenWas : derivedWas;
      EndpointSlice now = givenNow != null ? givenNow : derivedNow;
      if (!Objects.equals(was, now)) {
        add(now == null ? deletes : upserts, ObjectKind.ENDPOINT_SLICE,
            now == null ? ObjectKind.ENDPOINT_SLICE.delete(ref) : ObjectKind.ENDPOINT_SLICE.upsert(now));
      }
    }
    List<ModelEvent> events = new ArrayList<>();
    upserts.values().forEach(events::addAll);
    List<ObjectKind> kinds = new ArrayList<>(deletes.keySet());
    java.util.Collections.reverse(kinds);
    kinds.forEach(kind -> events.addAll(deletes.get(kind)));
    return events;
  }

  private static void add(Map<ObjectKind, List<ModelEvent>> byKind, ObjectKind kind, ModelEvent e) {
    byKind.computeIfAbsent(kind, x -> new ArrayList<>()).add(e);
  }

  /** The pods in force in these namespaces (for the derivation, when a namespace gets its first Service). */
  private List<Pod> podsIn(Set<String> namespaces) {
    List<Pod> out = new ArrayList<>();
    for (ObjectKey k : owners.keySet()) {
      if (k.kind() == ObjectKind.POD && namespaces.contains(k.ref().namespace())) {
        out.add((Pod) winner(k));
      }
    }
    return out;
  }

  /** How many EndpointSlices are derived from Services and pods now (see {@link DerivedSlices}). */
  int derivedSlices() {
    return derived.size();
  }

  private static final Object NONE = new Object();

  /** The value in force for a key: the first owning file's. */
  private Object winner(ObjectKey k) {
    String f = firstOwner(k);
    return f == null ? null : files.get(f).objects().get(k).value();
  }

  @SuppressWarnings("unchecked")
  private String firstOwner(ObjectKey k) {
    Object o = owners.get(k);
    return o == null ? null : o instanceof String s ? s : ((TreeSet<String>) o).first();
  }

  @SuppressWarnings("unchecked")
  private void addOwner(ObjectKey k, String file) {
    Object o = owners.get(k);
    if (o == null) {
      owners.put(k, file);
    } else if (o instanceof String s) {
      TreeSet<String> set = new TreeSet<>(List.of(s, file));
      owners.put(k, set);
      duplicated.add(k);
    } else {
      ((TreeSet<String>) o).add(file);
    }
  }

  @SuppressWarnings("unchecked")
  private void removeOwner(ObjectKey k, String file) {
    Object o = owners.get(k);
    if (o instanceof String) {
      owners.remove(k);
    } else if (o instanceof TreeSet<?> t) {
      TreeSet<String> set = (TreeSet<String>) t;
      set.remove(file);
      if (set.size() == 1) {
        owners.put(k, set.first());
        duplicated.remove(k);
      }
    }
  }

  /** Every file's warnings (deprecated forms read, annotations ignored), sorted by file and document. */
  List<SourceError> warnings() {
    List<SourceError> out = new ArrayList<>();
    warnings.values().forEach(out::addAll);
    out.sort(Comparator.comparing(SourceError::file).thenComparingInt(SourceError::document)
        .thenComparing(SourceError::field));
    return List.copyOf(out);
  }

  /** Every file's errors and one error per losing copy of a duplicated object, sorted by file and document. */
  @SuppressWarnings("unchecked")
  List<SourceError> errors() {
    List<SourceError> out = new ArrayList<>();
    for (FileState f : files.values()) {
      out.addAll(f.errors());
    }
    for (ObjectKey k : duplicated) {
      TreeSet<String> set = (TreeSet<String>) owners.get(k);
      String winner = set.first();
      Entry w = files.get(winner).objects().get(k);
      for (String loser : set.tailSet(winner, false)) {
        Entry e = files.get(loser).objects().get(k);
        out.add(error(loser, e.document(), e.line(), k, "Duplicate value: \"" + k.ref().name() + "\": "
            + k.kind().kind() + " " + k.ref() + " is already defined in " + display(winner) + " (document "
            + w.document() + "), which stays in force; this copy in " + display(loser) + " is ignored"));
      }
    }
    out.sort(Comparator.comparing(SourceError::file).thenComparingInt(SourceError::document)
        .thenComparing(SourceError::field));
    return List.copyOf(out);
  }

  private SourceError error(String file, int document, int line, ObjectKey k, String reason) {
    return new SourceError(display(file), document, line, k.kind().kind(), k.ref().namespace(), k.ref().name(),
        "metadata.name", reason);
  }

  String display(String rel) {
    return root.endsWith("/") ? root + rel : root + "/" + rel;
  }

  /** Counts of objects in force, per kind. */
  Map<ObjectKind, Integer> counts() {
    Map<ObjectKind, Integer> counts = new TreeMap<>();
    for (ObjectKey k : owners.keySet()) {
      counts.merge(k.kind(), 1, Integer::sum);
    }
    return counts;
  }
}
