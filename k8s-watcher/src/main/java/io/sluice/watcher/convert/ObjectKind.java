package io.sluice.watcher.convert;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.sluice.model.EndpointSlice;
import io.sluice.model.ModelEvent;
import io.sluice.model.Namespace;
import io.sluice.model.NetworkPolicy;
import io.sluice.model.Node;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.Service;
import java.util.Arrays;
import java.util.Optional;

/** The kinds Sluice reads, in the order their upserts are applied (namespaces first). */
public enum ObjectKind {
  NAMESPACE("Namespace", "v1", false, io.fabric8.kubernetes.api.model.Namespace.class),
  NODE("Node", "v1", false, io.fabric8.kubernetes.api.model.Node.class),
  POD("Pod", "v1", true, io.fabric8.kubernetes.api.model.Pod.class),
  SERVICE("Service", "v1", true, io.fabric8.kubernetes.api.model.Service.class),
  ENDPOINT_SLICE("EndpointSlice", "discovery.k8s.io/v1", true,
      io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice.class),
  NETWORK_POLICY("NetworkPolicy", "networking.k8s.io/v1", true,
      io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy.class);

  private final String kind;
  private final String apiVersion;
  private final boolean namespaced;
  private final Class<? extends HasMetadata> fabric8Class;

  ObjectKind(String kind, String apiVersion, boolean namespaced, Class<? extends HasMetadata> fabric8Class) {
    this.kind = kind;
    this.apiVersion = apiVersion;
    this.namespaced = namespaced;
    this.fabric8Class = fabric8Class;
  }

  /** The manifest's {@code kind}. */
  public String kind() {
    return kind;
  }

  /** The one {@code apiVersion} Sluice reads this kind in. */
  public String apiVersion() {
    return apiVersion;
  }

  public boolean namespaced() {
    return namespaced;
  }

  public Class<? extends HasMetadata> fabric8Class() {
    return fabric8Class;
  }

  public static Optional<ObjectKind> byKind(String kind) {
    return Arrays.stream(values()).filter(k -> k.kind.equals(kind)).findFirst();
  }

  /** The event that puts {@code value} (a model record of this kind) into the model. */
  public ModelEvent upsert(Object value) {
    return switch (this) {
      case NAMESPACE -> new ModelEvent.NamespaceUpserted((Namespace) value);
      case NODE -> new ModelEvent.NodeUpserted((Node) value);
      case POD -> new ModelEvent.PodUpserted((Pod) value);
      case SERVICE -> new ModelEvent.ServiceUpserted((Service) value);
      case ENDPOINT_SLICE -> new ModelEvent.EndpointSliceUpserted((EndpointSlice) value);
      case NETWORK_POLICY -> new ModelEvent.NetworkPolicyUpserted((NetworkPolicy) value);
    };
  }

  /** The event that removes the object named {@code ref} (namespace empty for namespaces and nodes). */
  public ModelEvent delete(ObjectRef ref) {
    return switch (this) {
      case NAMESPACE -> new ModelEvent.NamespaceDeleted(ref.name());
      case NODE -> new ModelEvent.NodeDeleted(ref.name());
      case POD -> new ModelEvent.PodDeleted(ref);
      case SERVICE -> new ModelEvent.ServiceDeleted(ref);
      case ENDPOINT_SLICE -> new ModelEvent.EndpointSliceDeleted(ref);
      case NETWORK_POLICY -> new ModelEvent.NetworkPolicyDeleted(ref);
    };
  }
}
