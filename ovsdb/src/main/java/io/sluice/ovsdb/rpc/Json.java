package io.sluice.ovsdb.rpc;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

/** The one Jackson mapper of this module: thread-safe, limits nesting and number sizes of peer input. */
public final class Json {
  public static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
          .streamReadConstraints(StreamReadConstraints.builder()
              .maxNestingDepth(64)
              .maxNumberLength(64)
              .maxStringLength(16 * 1024 * 1024)
              .build())
          .build())
      .build();
  public static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private Json() {
  }
}
