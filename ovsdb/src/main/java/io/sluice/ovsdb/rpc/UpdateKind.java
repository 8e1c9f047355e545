package io.sluice.ovsdb.rpc;

/** The table-update format: RFC 7047 {@code update} (whole rows) or OVS's {@code update2}/{@code update3} (diffs). */
public enum UpdateKind {
  UPDATE,
  UPDATE2
}
