package io.sluice.ovsdb.actuate;

import io.sluice.model.ObjectRef;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A pod's switch port: the port/interface name (the host side of the pod's veth, or an internal port), its
 * interface type ("" for an existing device such as a veth, {@code internal} for an OVS-made one), the pod it
 * belongs to, and optionally the pod's MAC ({@code external_ids:attached-mac}).
 */
public record PodPortSpec(String name, String type, ObjectRef pod, String mac) {
  public PodPortSpec {
    Objects.requireNonNull(name, "name");
    if (name.isEmpty() || name.length() > 15) {
      throw new IllegalArgumentException("port name must be 1..15 characters, got '" + name + "'");
    }
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(pod, "pod");
    if (pod.namespace().isEmpty()) {
      throw new IllegalArgumentException("pod " + pod + " needs a namespace");
    }
    mac = mac == null ? "" : mac;
  }

  /** The Interface external_ids this port must carry (the keys Sluice owns; others are left alone). */
  Map<String, String> externalIds() {
    Map<String, String> m = new HashMap<>();
    m.put("pod-namespace", pod.namespace());
    m.put("pod-name", pod.name());
    if (!mac.isEmpty()) {
      m.put("attached-mac", mac);
    }
    return Map.copyOf(m);
  }

  static final java.util.Set<String> OWNED_KEYS = java.util.Set.of("pod-namespace", "pod-name", "attached-mac");
}
