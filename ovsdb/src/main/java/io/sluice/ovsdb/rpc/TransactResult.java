package io.sluice.ovsdb.rpc;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The reply to a {@code transact}: one result per operation, plus possibly one more for a commit-time error
 * (RFC 7047 section 4.1.3). The transaction committed only if no element carries an {@code error}.
 */
public record TransactResult(List<JsonNode> results) {
  public TransactResult {
    results = List.copyOf(results);
  }

  static TransactResult of(JsonNode reply) {
    if (reply == null || !reply.isArray()) {
      throw new RpcException(RpcException.Kind.PROTOCOL, "transact reply is not an array: " + reply);
    }
    List<JsonNode> r = new ArrayList<>();
    reply.forEach(n -> r.add(n == null ? Json.NODES.nullNode() : n));
    return new TransactResult(r);
  }

  /** The first error with its operation index, e.g. {@code op 2: constraint violation: ...}. */
  public Optional<String> error() {
    for (int i = 0; i < results.size(); i++) {
      JsonNode n = results.get(i);
      if (n != null && n.isObject() && n.has("error")) {
        return Optional.of("op " + i + ": " + JsonRpcHandler.errorText(n));
      }
    }
    return Optional.empty();
  }

  public boolean ok() {
    return error().isEmpty();
  }

  /** The error text of the first failing operation (e.g. {@code timed out} for a failed wait). */
  public Optional<String> errorKind() {
    for (JsonNode n : results) {
      if (n != null && n.isObject() && n.has("error")) {
        return Optional.of(n.get("error").asText());
      }
    }
    return Optional.empty();
  }

  /** The UUID an insert at {@code index} created. */
  public UUID uuid(int index) {
    return UUID.fromString(results.get(index).get("uuid").get(1).asText());
  }

  /** The rows a select at {@code index} returned. */
  public List<JsonNode> rows(int index) {
    List<JsonNode> rows = new ArrayList<>();
    results.get(index).get("rows").forEach(rows::add);
    return rows;
  }

  /** How many rows an update, mutate or delete at {@code index} touched. */
  public long count(int index) {
    return results.get(index).get("count").asLong();
  }
}
