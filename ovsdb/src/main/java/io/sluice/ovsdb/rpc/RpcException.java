package io.sluice.ovsdb.rpc;

/** A JSON-RPC call that did not succeed: the server's error, a timeout, or a closed connection. */
public class RpcException extends RuntimeException {
  private final Kind kind;

  public enum Kind { SERVER_ERROR, TIMEOUT, CLOSED, PROTOCOL }

  public RpcException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }

  /** The JSON-RPC error text from the server, such as {@code unknown method}. */
  public boolean isServerError(String error) {
    return kind == Kind.SERVER_ERROR && getMessage() != null && getMessage().startsWith(error);
  }
}
