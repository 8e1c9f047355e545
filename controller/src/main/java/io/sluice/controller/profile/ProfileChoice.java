package io.sluice.controller.profile;

import io.sluice.model.Snapshot;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.flow.DesiredTables;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.Match;
import io.sluice.renderer.pipeline.Capabilities;
import io.sluice.renderer.pipeline.PipelineProfile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.projectfloodlight.openflow.types.DatapathId;

/**
 * The profile each switch gets: {@code --profile NAME} sets the default, {@code --profile DPID=NAME} one switch's
 * (repeatable), from the shipped profiles and those of {@code --profiles DIR}. Sluice compiles the {@code ovs}
 * pipeline; a switch with another profile cannot carry it, so it gets one flow that drops everything (fail closed)
 * and an error naming the switch, its profile and what it lacks.
 */
public final class ProfileChoice {
  private final Profiles.Declared fallback;
  private final Map<Long, Profiles.Declared> byDpid;

  private ProfileChoice(Profiles.Declared fallback, Map<Long, Profiles.Declared> byDpid) {
    this.fallback = fallback;
    this.byDpid = Map.copyOf(byDpid);
  }

  /** Every switch gets {@code ovs}. */
  public static ProfileChoice ovsEverywhere() {
    return new ProfileChoice(Profiles.builtIn("ovs"), Map.of());
  }

  /** From {@code --profile} values ({@code NAME} or {@code DPID=NAME}) and the profiles directory (null: none). */
  public static ProfileChoice parse(List<String> values, Path dir) {
    Map<String, Profiles.Declared> all = Profiles.all(dir);
    Profiles.Declared fallback = all.get("ovs");
    Map<Long, Profiles.Declared> by = new HashMap<>();
    boolean defaultSet = false;
    for (String v : values) {
      int eq = v.indexOf('=');
      String name = eq < 0 ? v : v.substring(eq + 1);
      Profiles.Declared d = all.get(name);
      if (d == null) {
        throw new IllegalArgumentException(v + ": no profile named " + name + " (known: " + String.join(", ", all.keySet())
            + ")");
      }
      if (eq < 0) {
        if (defaultSet) {
          throw new IllegalArgumentException(v + ": a second default profile (give one NAME, and DPID=NAME per switch)");
        }
        fallback = d;
        defaultSet = true;
      } else {
        String id = v.substring(0, eq);
        long dpid;
        try {
          dpid = id.contains(":") ? DatapathId.of(id).getLong() : Long.decode(id);
        } catch (RuntimeException e) {
          throw new IllegalArgumentException(v + ": " + id + " is not a datapath id (00:00:00:00:00:00:d0:d1 or 0xd0d1)", e);
        }
        if (by.put(dpid, d) != null) {
          throw new IllegalArgumentException(v + ": datapath id " + id + " is given a profile twice");
        }
      }
    }
    return new ProfileChoice(fallback, by);
  }

  public Profiles.Declared of(long dpid) {
    return byDpid.getOrDefault(dpid, fallback);
  }

  /**
   * Whether the switch gets Sluice's ovs pipeline (the one the compiler builds): its profile is {@code ovs}, or one
   * with the very same tables and the capabilities the pipeline needs (a copy of ovs.yaml that, for example, says the
   * switch takes no bundles: its changes then go in ordered phases).
   */
  public boolean compiles(long dpid) {
    return carriesOvsPipeline(of(dpid).profile());
  }

  /** See {@link #compiles}. */
  public static boolean carriesOvsPipeline(PipelineProfile p) {
    if (p.name().equals("ovs")) {
      return true;
    }
    Capabilities c = p.capabilities();
    return c.missing(Capabilities.Feature.NETWORK_POLICY).isEmpty() && c.missing(Capabilities.Feature.SERVICES).isEmpty()
        && c.missing(Capabilities.Feature.AUDIT_LOG).isEmpty() && sameTables(p, PipelineProfile.ovs());
  }

  /**
   * Whether a switch of this profile gets the stateless pipeline (docs/pipeline.md, "Stateless NetworkPolicy"): it
   * cannot carry the ovs one, and its tables are one, or Classifier, Policy and Forwarding.
   */
  public static boolean carriesStatelessPipeline(PipelineProfile p) {
    return !carriesOvsPipeline(p) && io.sluice.renderer.StatelessRenderer.unsupported(p) == null;
  }

  /** The same tables (ids, names, fields, misses), whatever their sizes: sizes are budgets, not a layout. */
  private static boolean sameTables(PipelineProfile a, PipelineProfile b) {
    if (!a.tables().keySet().equals(b.tables().keySet())) {
      return false;
    }
    for (io.sluice.renderer.pipeline.Table t : a.tables().values()) {
      io.sluice.renderer.pipeline.Table o = b.tables().get(t.id());
      if (!t.name().equals(o.name()) || !t.matchFields().equals(o.matchFields()) || t.missNext() != o.missNext()) {
        return false;
      }
    }
    return true;
  }

  /** Datapath ids given a profile of their own. */
  public Map<Long, Profiles.Declared> explicit() {
    return byDpid;
  }

  public Profiles.Declared fallback() {
    return fallback;
  }

  /**
   * What a switch of this profile cannot carry of the ovs pipeline, each with the capabilities it lacks, e.g.
   * {@code NetworkPolicy (needs conntrack, conjunction)}; the base pipeline itself always needs conntrack.
   */
  public static List<String> cannotCarry(PipelineProfile p, Snapshot snap) {
    List<String> out = new ArrayList<>();
    Capabilities c = p.capabilities();
    List<String> base = c.missing(Capabilities.Feature.NETWORK_POLICY);
    if (!base.isEmpty()) {
      out.add("the stateful pipeline and NetworkPolicy (" + (snap.networkPolicies().size()) + " policies; needs "
          + String.join(", ", base) + ")");
    }
    List<String> svc = c.missing(Capabilities.Feature.SERVICES);
    if (!svc.isEmpty() && !snap.services().isEmpty()) {
      out.add("Services (" + snap.services().size() + "; needs " + String.join(", ", svc) + ")");
    }
    List<String> audit = c.missing(Capabilities.Feature.AUDIT_LOG);
    if (!audit.isEmpty()) {
      out.add("the audit log (needs " + String.join(", ", audit) + ")");
    }
    return out;
  }

  /** The fail-closed tables of a switch that cannot carry the pipeline: one flow, table 0, drop everything. */
  public static DesiredTables failClosed(long dpid, long generation) {
    return DesiredTables.of(dpid, generation, List.of(new Flow(0, 0, Match.ALL, List.of(),
        Cookie.of(Cookie.Category.BASE, 0, 0))));
  }
}
