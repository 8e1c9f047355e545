package io.sluice.ovsdb.rpc;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cuts the byte stream into top-level JSON objects. OVSDB peers send objects back to back with no delimiter.
 *
 * <p>Unlike Netty's {@code JsonObjectDecoder}, this never gives up on a connection: bytes between objects that are not
 * whitespace are skipped (and counted), and an object longer than {@code maxFrameBytes} is discarded while its
 * structure is still followed, so the object after it is found again. Whether each frame is valid JSON is the
 * decoder's business, not this one's.
 */
final class JsonFrameSplitter extends ByteToMessageDecoder {
  private static final Logger LOG = LoggerFactory.getLogger(JsonFrameSplitter.class);

  private final int maxFrameBytes;
  private final RpcStats stats;
  private int depth;
  private boolean inString;
  private boolean escaped;
  private boolean discarding;
  private long discardedBytes;
  /** Bytes after the reader index that belong to the current object and were already scanned. */
  private int scanned;

  /**
   * Consumes bytes of an object (tracking strings, escapes and depth) and stops at the byte that closes the
   * top-level object, which the caller then handles as usual.
   */
  private final io.netty.util.ByteProcessor scanner = value -> {
    if (inString) {
      if (escaped) {
        escaped = false;
      } else if (value == '\\') {
        escaped = true;
      } else if (value == '"') {
        inString = false;
      }
      return true;
    }
    if (value == '"') {
      inString = true;
    } else if (value == '{' || value == '[') {
      depth++;
    } else if (value == '}' || value == ']') {
      if (depth == 1) {
        return false;
      }
      depth--;
    }
    return true;
  };

  JsonFrameSplitter(int maxFrameBytes, RpcStats stats) {
    if (maxFrameBytes < 2) {
      throw new IllegalArgumentException("maxFrameBytes must be at least 2, got " + maxFrameBytes);
    }
    this.maxFrameBytes = maxFrameBytes;
    this.stats = stats;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    int i = in.readerIndex() + scanned;
    int end = in.writerIndex();
    while (i < end) {
      byte b = in.getByte(i);
      if (depth == 0) {
        if (b == '{') {
          int skip = i - in.readerIndex();
          if (skip > 0) {
            in.skipBytes(skip);
          }
          depth = 1;
          scanned = 1;
          i = in.readerIndex() + 1;
          continue;
        }
        if (!isWhitespace(b)) {
          stats.strayBytes.increment();
          if (LOG.isDebugEnabled()) {
            LOG.debug("{}: skipping stray byte 0x{} outside any JSON object", ctx.channel().remoteAddress(),
                Integer.toHexString(b & 0xff));
          }
        }
        i++;
        continue;
      }
      if (!discarding && depth > 0) {
        // Fast path: run through plain structure and strings with a ByteProcessor until depth returns to 0.
        int stop = in.forEachByte(i, end - i, scanner);
        if (stop < 0) {
          i = end;
          int length = i - in.readerIndex();
          if (length > maxFrameBytes) {
            discarding = true;
            stats.oversizedFrames.increment();
            in.skipBytes(length);
            discardedBytes += length;
            i = in.readerIndex();
          }
          continue;
        }
        i = stop;
        b = in.getByte(i);
      }
      if (inString) {
        if (escaped) {
          escaped = false;
        } else if (b == '\\') {
          escaped = true;
        } else if (b == '"') {
          inString = false;
        }
      } else if (b == '"') {
        inString = true;
      } else if (b == '{' || b == '[') {
        depth++;
      } else if (b == '}' || b == ']') {
        depth--;
      }
      i++;
      int length = i - in.readerIndex();
      if (depth == 0) {
        scanned = 0;
        if (!discarding && length > maxFrameBytes) {
          discarding = true;
          stats.oversizedFrames.increment();
        }
        if (discarding) {
          in.skipBytes(length);
          discarding = false;
          LOG.warn("{}: dropped a JSON-RPC message of {} bytes (limit {} bytes; if this server is really that large, "
              + "raise sluice run --ovsdb-max-message-bytes)", ctx.channel().remoteAddress(),
              discardedBytes + length, maxFrameBytes);
          discardedBytes = 0;
        } else {
          out.add(in.readRetainedSlice(length));
        }
        i = in.readerIndex();
        continue;
      }
      if (!discarding && length > maxFrameBytes) {
        discarding = true;
        stats.oversizedFrames.increment();
      }
      if (discarding) {
        // Keep memory bounded: throw away what was scanned, keep following the structure.
        in.skipBytes(length);
        discardedBytes += length;
        i = in.readerIndex();
      }
    }
    if (depth == 0) {
      // Only whitespace or stray bytes left: drop them.
      in.skipBytes(in.readableBytes());
      scanned = 0;
    } else {
      scanned = i - in.readerIndex();
    }
  }

  private static boolean isWhitespace(byte b) {
    return b == ' ' || b == '\n' || b == '\r' || b == '\t';
  }
}
