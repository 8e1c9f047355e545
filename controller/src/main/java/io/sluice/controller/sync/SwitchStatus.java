package io.sluice.controller.sync;

import io.sluice.controller.session.SwitchPort;
import java.util.List;

/**
 * What the status API shows of one switch ({@code flows}, {@code groups}, {@code meters}: Sluice's that it holds). realizedGeneration is the last model generation whose tables the switch
 * confirmed with a barrier; a harness waits until it equals the model's generation on every connected switch.
 */
public record SwitchStatus(String datapathId, boolean connected, String version, String address, String role,
                           long realizedGeneration, int flows, int groups, int meters, boolean atomic, String lastError,
                           List<SwitchPort> ports) {
  public SwitchStatus {
    ports = List.copyOf(ports);
  }
}
