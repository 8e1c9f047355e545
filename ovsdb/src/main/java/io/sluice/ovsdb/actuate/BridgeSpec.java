package io.sluice.ovsdb.actuate;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;

/**
 * A bridge as Sluice wants it: name, datapath type ({@code netdev} for the userspace datapath, {@code system} for
 * the kernel one), OpenFlow versions, controller targets (e.g. {@code tcp:127.0.0.1:6653}), fail mode (Sluice uses
 * {@code secure}: keep flows when the controller is away) and optionally a fixed datapath id
 * ({@code other_config:datapath-id}). Extra {@code otherConfig} entries are set too; other keys are left alone.
 */
public record BridgeSpec(String name, String datapathType, Set<String> protocols, List<String> controllers,
    String failMode, OptionalLong datapathId, Map<String, String> otherConfig) {
  public BridgeSpec {
    Objects.requireNonNull(name, "name");
    if (name.isEmpty() || name.length() > 15) {
      throw new IllegalArgumentException("bridge name must be 1..15 characters, got '" + name + "'");
    }
    Objects.requireNonNull(datapathType, "datapathType");
    protocols = Set.copyOf(protocols);
    controllers = List.copyOf(controllers);
    if (!failMode.equals("secure") && !failMode.equals("standalone")) {
      throw new IllegalArgumentException("fail mode must be secure or standalone, got " + failMode);
    }
    Objects.requireNonNull(datapathId, "datapathId");
    otherConfig = Map.copyOf(otherConfig);
    if (otherConfig.containsKey("datapath-id")) {
      throw new IllegalArgumentException("set the datapath id with datapathId, not otherConfig");
    }
  }

  /** A Sluice bridge: fail-mode secure, OpenFlow 1.3–1.5, one controller. */
  public static BridgeSpec of(String name, String datapathType, String controller, OptionalLong datapathId) {
    return new BridgeSpec(name, datapathType, Set.of("OpenFlow13", "OpenFlow14", "OpenFlow15"), List.of(controller),
        "secure", datapathId, Map.of());
  }

  /** The other_config entries this spec owns, datapath-id included. */
  Map<String, String> wantedOtherConfig() {
    if (datapathId.isEmpty()) {
      return otherConfig;
    }
    Map<String, String> m = new java.util.HashMap<>(otherConfig);
    m.put("datapath-id", String.format("%016x", datapathId.getAsLong()));
    return Map.copyOf(m);
  }
}
