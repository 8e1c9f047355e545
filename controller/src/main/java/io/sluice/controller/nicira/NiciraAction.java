package io.sluice.controller.nicira;

import com.google.common.hash.PrimitiveSink;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.function.Consumer;
import org.projectfloodlight.openflow.protocol.OFActionType;
import org.projectfloodlight.openflow.protocol.OFVersion;
import org.projectfloodlight.openflow.protocol.action.OFActionExperimenter;

/**
 * A Nicira action as exact bytes, usable wherever OpenFlowJ takes an {@code OFAction} (packet-out, flow-mod
 * action lists): OpenFlowJ writes an action list by calling {@link #writeTo} on each action. Immutable; it cannot
 * be rebuilt through OpenFlowJ's builders.
 */
public final class NiciraAction implements OFActionExperimenter {
  private final OFVersion version;
  private final byte[] bytes;

  private NiciraAction(OFVersion version, byte[] bytes) {
    if (bytes.length < 16 || bytes.length % 8 != 0 || (bytes[0] & 0xff) != 0xff || (bytes[1] & 0xff) != 0xff) {
      throw new IllegalArgumentException("not a Nicira action: " + HexFormat.of().formatHex(bytes));
    }
    this.version = version;
    this.bytes = bytes;
  }

  /** Wraps the bytes one {@link NiciraActions} writer produces, e.g. {@code of(OF_13, b -> NiciraActions.ctClear(b))}. */
  public static NiciraAction of(OFVersion version, Consumer<ByteBuf> writer) {
    ByteBuf buf = Unpooled.buffer(32);
    writer.accept(buf);
    byte[] b = new byte[buf.readableBytes()];
    buf.readBytes(b);
    return new NiciraAction(version, b);
  }

  public static NiciraAction resubmitTable(OFVersion version, int table) {
    return of(version, b -> NiciraActions.resubmitTable(b, table));
  }

  public static NiciraAction conjunction(OFVersion version, long id, int clause, int nClauses) {
    return of(version, b -> NiciraActions.conjunction(b, id, clause, nClauses));
  }

  public static NiciraAction ctClear(OFVersion version) {
    return of(version, NiciraActions::ctClear);
  }

  /** The action's wire bytes (a copy). */
  public byte[] bytes() {
    return bytes.clone();
  }

  public int subtype() {
    return (bytes[8] & 0xff) << 8 | (bytes[9] & 0xff);
  }

  @Override
  public OFActionType getType() {
    return OFActionType.EXPERIMENTER;
  }

  @Override
  public long getExperimenter() {
    return NiciraActions.NX_VENDOR_ID;
  }

  @Override
  public OFVersion getVersion() {
    return version;
  }

  @Override
  public void writeTo(ByteBuf out) {
    out.writeBytes(bytes);
  }

  @Override
  public OFActionExperimenter.Builder createBuilder() {
    throw new UnsupportedOperationException("NiciraAction is built from bytes, not through OpenFlowJ builders");
  }

  @Override
  public void putTo(PrimitiveSink sink) {
    sink.putBytes(bytes);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NiciraAction a && a.version == version && Arrays.equals(a.bytes, bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes) * 31 + version.hashCode();
  }

  @Override
  public String toString() {
    return "NiciraAction(" + HexFormat.of().formatHex(bytes) + ")";
  }
}
