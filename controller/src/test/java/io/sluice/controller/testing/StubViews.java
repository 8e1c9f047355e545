package io.sluice.controller.testing;

import io.sluice.controller.http.StatusServer;
import io.sluice.controller.sync.SwitchStatus;
import java.util.List;
import java.util.Map;

/** A status API's views with nothing in them (generation 1, ready): tests override what they serve. */
public class StubViews implements StatusServer.Views {
  @Override
  public long generation() {
    return 1;
  }

  @Override
  public List<SwitchStatus> switches() {
    return List.of();
  }

  @Override
  public String notReadyReason() {
    return null;
  }

  @Override
  public byte[] metrics() {
    return new byte[0];
  }

  @Override
  public List<?> errors() {
    return List.of();
  }

  @Override
  public Object ports() {
    return Map.of();
  }

  @Override
  public Object policies() {
    return List.of();
  }
}
