package io.sluice.controller.sync;

import io.sluice.controller.session.SwitchPort;
import java.util.List;

/**
 * What the status API shows of one switch ({@code flows}, {@code groups}, {@code meters}: Sluice's that it holds;
 * {@code tables}: its flows per table against the table's size in the switch's profile). realizedGeneration is the last model generation whose tables the switch
 * confirmed with a barrier; a harness waits until it equals the model's generation on every connected switch.
 */
public record SwitchStatus(String datapathId, boolean connected, String version, String address, String role,
                           long realizedGeneration, int flows, int groups, int meters, boolean atomic, String lastError,
                           List<SwitchPort> ports, List<TableUse> tables) {
  public SwitchStatus {
    ports = List.copyOf(ports);
    tables = List.copyOf(tables);
  }

  public SwitchStatus(String datapathId, boolean connected, String version, String address, String role,
                      long realizedGeneration, int flows, int groups, int meters, boolean atomic, String lastError,
                      List<SwitchPort> ports) {
    this(datapathId, connected, version, address, role, realizedGeneration, flows, groups, meters, atomic, lastError,
        ports, List.of());
  }

  /**
   * Sluice's flows in one table of the switch after its last push, and what its profile says of the table (its name
   * and size; null when the profile does not declare it, e.g. a table id the profile lacks).
   */
  public record TableUse(int id, String name, int flows, Integer size) { }

  /** The same status with the tables described (names and sizes from the switch's profile). */
  public SwitchStatus withTables(List<TableUse> described) {
    return new SwitchStatus(datapathId, connected, version, address, role, realizedGeneration, flows, groups, meters,
        atomic, lastError, ports, described);
  }
}
