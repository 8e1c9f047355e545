package io.sluice.controller.session;

/** A request the switch answered with an error, or that could not be completed. */
public class OpenFlowException extends RuntimeException {
  private final transient SwitchError error;

  public OpenFlowException(String message, SwitchError error) {
    super(message);
    this.error = error;
  }

  public OpenFlowException(String message) {
    this(message, null);
  }

  /** The switch's error, when the switch sent one. */
  public SwitchError error() {
    return error;
  }
}
