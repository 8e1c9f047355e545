package io.sluice.ovsdb.cache;

import io.sluice.ovsdb.cache.OvsRows.Bridge;
import io.sluice.ovsdb.cache.OvsRows.Controller;
import io.sluice.ovsdb.cache.OvsRows.Interface;
import io.sluice.ovsdb.cache.OvsRows.OpenVSwitch;
import io.sluice.ovsdb.cache.OvsRows.Port;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/** An immutable copy of one server's monitored tables, by row UUID. */
public record CacheSnapshot(long version, Map<UUID, OpenVSwitch> switches, Map<UUID, Bridge> bridges,
    Map<UUID, Port> ports, Map<UUID, Interface> interfaces, Map<UUID, Controller> controllers) {
  public CacheSnapshot {
    switches = Map.copyOf(switches);
    bridges = Map.copyOf(bridges);
    ports = Map.copyOf(ports);
    interfaces = Map.copyOf(interfaces);
    controllers = Map.copyOf(controllers);
  }

  public Optional<OpenVSwitch> root() {
    return switches.values().stream().findFirst();
  }

  public Optional<Bridge> bridge(String name) {
    return bridges.values().stream().filter(b -> b.name().equals(name)).findFirst();
  }

  public Optional<Interface> iface(String name) {
    return interfaces.values().stream().filter(i -> i.name().equals(name)).findFirst();
  }
}
