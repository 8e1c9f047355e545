package io.sluice.ovsdb.cache;

import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;

/** Typed, immutable rows of the Open_vSwitch database tables that Sluice monitors. */
public final class OvsRows {
  private OvsRows() {
  }

  /** The single root row of table Open_vSwitch. */
  public record OpenVSwitch(UUID uuid, Set<UUID> bridges, Map<String, String> externalIds,
      Map<String, String> otherConfig, String ovsVersion) {
    static OpenVSwitch of(Row r) {
      return new OpenVSwitch(r.uuid(), r.uuids("bridges"), r.stringMap("external_ids"), r.stringMap("other_config"),
          r.string("ovs_version"));
    }

    /** {@code external_ids:system-id}, the node's stable name, or empty. */
    public String systemId() {
      return externalIds.getOrDefault("system-id", "");
    }
  }

  public record Bridge(UUID uuid, String name, Set<UUID> ports, String datapathId, String datapathType,
      Set<String> protocols, Set<UUID> controllers, String failMode, Map<String, String> otherConfig,
      Map<String, String> externalIds) {
    static Bridge of(Row r) {
      return new Bridge(r.uuid(), r.string("name"), r.uuids("ports"), r.string("datapath_id"),
          r.string("datapath_type"), r.strings("protocols"), r.uuids("controller"), r.string("fail_mode"),
          r.stringMap("other_config"), r.stringMap("external_ids"));
    }

    /**
     * The 64-bit datapath id: column {@code datapath_id} (set by ovs-vswitchd), else {@code other_config:datapath-id}
     * (what vswitchd will use), else empty.
     */
    public OptionalLong dpid() {
      OptionalLong d = parseHex(datapathId);
      return d.isPresent() ? d : parseHex(otherConfig.getOrDefault("datapath-id", ""));
    }

    private static OptionalLong parseHex(String s) {
      String h = s.startsWith("0x") ? s.substring(2) : s;
      if (h.isEmpty() || h.length() > 16) {
        return OptionalLong.empty();
      }
      try {
        return OptionalLong.of(Long.parseUnsignedLong(h, 16));
      } catch (NumberFormatException e) {
        return OptionalLong.empty();
      }
    }
  }

  public record Port(UUID uuid, String name, Set<UUID> interfaces, Map<String, String> externalIds) {
    static Port of(Row r) {
      return new Port(r.uuid(), r.string("name"), r.uuids("interfaces"), r.stringMap("external_ids"));
    }
  }

  /** {@code ofport} is empty until ovs-vswitchd assigns one, and -1 when the interface failed. */
  public record Interface(UUID uuid, String name, String type, OptionalLong ofport, String macInUse,
      Map<String, String> externalIds, String error) {
    static Interface of(Row r) {
      return new Interface(r.uuid(), r.string("name"), r.string("type"), r.optionalLong("ofport"),
          r.string("mac_in_use"), r.stringMap("external_ids"), r.string("error"));
    }

    /** A usable OpenFlow port number: present and positive. */
    /**
     * Whether the interface has a port number a flow can name: 1..0xfeff (OVS's own range; -1 is a failed interface,
     * 0xff00 and above are reserved). Anything else a server sends (a hostile one: 99999999999) binds nothing.
     */
    public boolean hasOfport() {
      return ofport.isPresent() && ofport.getAsLong() >= 1 && ofport.getAsLong() <= 0xfeff;
    }
  }

  public record Controller(UUID uuid, String target, boolean connected) {
    static Controller of(Row r) {
      return new Controller(r.uuid(), r.string("target"), r.bool("is_connected"));
    }
  }
}
