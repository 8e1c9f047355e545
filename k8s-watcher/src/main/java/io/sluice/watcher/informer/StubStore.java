package io.sluice.watcher.informer;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;

/**
 * The informer's own cache, reduced to what the informer itself needs: each object is kept as an empty object of its
 * kind with only name, namespace, uid and resourceVersion (the informer compares resource versions on re-lists and
 * names deleted objects from here). Everything the compiler reads lives once, converted, in the model; the full
 * objects pass through the event handler and are dropped. This is the informer "transform" taken to its end: no
 * managedFields, annotations, images, env or volumes are cached at all.
 */
final class StubStore<T extends HasMetadata> extends BasicItemStore<T> {
  private final Class<T> type;
  /** Looked up once: at start-up every listed object passes through {@link #stub}. */
  private final Constructor<T> empty;

  StubStore(Class<T> type) {
    super(Cache::metaNamespaceKeyFunc);
    this.type = type;
    try {
      this.empty = type.getDeclaredConstructor();
    } catch (NoSuchMethodException e) {
      throw new IllegalArgumentException("cannot make an empty " + type.getSimpleName(), e);
    }
  }

  /**
   * Not the full state: the informer then hands each listed object to the handlers as it arrives (the full object),
   * instead of deferring the adds of the first list and handing over what the store kept (the stub).
   */
  @Override
  public boolean isFullState() {
    return false;
  }

  @Override
  public T put(String key, T obj) {
    return super.put(key, stub(obj));
  }

  /** An object of the same kind carrying only name, namespace, uid and resourceVersion. */
  T stub(T obj) {
    ObjectMeta m = obj.getMetadata();
    ObjectMeta s = new ObjectMeta();
    if (m != null) {
      s.setName(m.getName());
      s.setNamespace(m.getNamespace());
      s.setUid(m.getUid());
      s.setResourceVersion(m.getResourceVersion());
    }
    try {
      T copy = empty.newInstance();
      copy.setMetadata(s);
      return copy;
    } catch (InstantiationException | IllegalAccessException | InvocationTargetException e) {
      throw new IllegalStateException("cannot make an empty " + type.getSimpleName(), e);
    }
  }
}
