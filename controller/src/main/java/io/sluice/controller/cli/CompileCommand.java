package io.sluice.controller.cli;

import io.sluice.model.ClusterModel;
import io.sluice.model.ModelEvent;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.Snapshot;
import io.sluice.model.source.SourceError;
import io.sluice.renderer.Renderer;
import io.sluice.renderer.flow.DesiredTables;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.Group;
import io.sluice.renderer.pipeline.PipelineProfile;
import io.sluice.watcher.manifest.ManifestSource;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import org.projectfloodlight.openflow.types.DatapathId;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sluice compile}: the desired flows for a manifest directory, without any switch. */
@Command(name = "compile", mixinStandardHelpOptions = true,
    description = {"Print the flows and groups Sluice would install, in ovs-ofctl dump-flows and dump-groups syntax,",
        "for the manifests in DIR.",
        "No switch is needed: every pod with an address is placed on a virtual switch " + CompileCommand.VIRTUAL + ",",
        "on ports 1, 2, ... in namespace/name order, with MAC 0a:58:<IPv4 address bytes>; pods of a Node with a",
        "sluice.io/attachment annotation sit behind that switch port instead (print it with --switch)."})
final class CompileCommand implements Callable<Integer> {
  static final String VIRTUAL = "00:00:00:00:00:00:00:00";

  @Option(names = "--manifests", required = true, paramLabel = "DIR", description = "Directory of Kubernetes manifests.")
  Path manifests;

  @Option(names = "--switch", paramLabel = "DPID",
      description = "Datapath id to print (default: the virtual switch), e.g. 00:00:00:00:00:00:00:00 or 0.")
  String dpid;

  @Option(names = "--legacy-isolation",
      description = "As sluice run --legacy-isolation: the pre-v1 namespace annotation net.beta.kubernetes.io/"
          + "network-policy isolates, and extensions/v1beta1 NetworkPolicies are read with that API's meaning.")
  boolean legacyIsolation;

  @Option(names = "--profile", defaultValue = "ovs", paramLabel = "NAME",
      description = "The pipeline profile to compile for (default: ${DEFAULT-VALUE}); prints the flows per table against "
          + "the profile's table sizes, and what a profile cannot carry (exit code 1).")
  String profile;

  @Option(names = "--profiles", paramLabel = "DIR", description = "A directory of profile files besides the shipped ones.")
  Path profilesDir;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (!Files.isDirectory(manifests)) {
      err.println("sluice compile: --manifests " + manifests + " is not a directory");
      return 2;
    }
    long sw;
    try {
      sw = dpid == null ? 0 : dpid.contains(":") ? DatapathId.of(dpid).getLong() : Long.decode(dpid);
    } catch (RuntimeException e) {
      err.println("sluice compile: --switch '" + dpid + "' is not a datapath id (e.g. 00:00:00:00:00:00:5d:01 or 0x5d01)");
      return 2;
    }
    ClusterModel model = new ClusterModel(1);
    ManifestSource source = new ManifestSource(manifests, ManifestSource.DEFAULT_DEBOUNCE,
        Math.min(4, Runtime.getRuntime().availableProcessors()), ManifestSource.Limits.defaults(), legacyIsolation);
    try {
      source.start(model::apply);
    } finally {
      source.stop();
    }
    for (SourceError e : source.errors()) {
      err.println("warning: skipped " + e);
    }
    for (SourceError w : source.warnings()) {
      err.println("warning: " + w);
    }
    io.sluice.controller.profile.Profiles.Declared declared;
    try {
      declared = io.sluice.controller.profile.Profiles.all(profilesDir).get(profile);
      if (declared == null) {
        throw new IllegalArgumentException("no profile named " + profile + " (known: "
            + String.join(", ", io.sluice.controller.profile.Profiles.all(profilesDir).keySet()) + ")");
      }
    } catch (IllegalArgumentException e) {
      err.println("sluice compile: --profile: " + e.getMessage());
      err.flush();
      return 2;
    }
    Snapshot snap = placeOnVirtualSwitch(model);
    DesiredTables tables;
    String pipeline = "the ovs pipeline";
    if (io.sluice.controller.profile.ProfileChoice.carriesOvsPipeline(declared.profile())) {
      tables = new Renderer(PipelineProfile.ovs(), 0, legacyIsolation).render(snap, sw);
    } else if (io.sluice.controller.profile.ProfileChoice.carriesStatelessPipeline(declared.profile())) {
      tables = new io.sluice.renderer.StatelessRenderer(declared.profile(), 0, legacyIsolation).render(snap, sw);
      pipeline = "the stateless pipeline (docs/pipeline.md, Stateless NetworkPolicy)";
    } else {
      List<String> lacks = io.sluice.controller.profile.ProfileChoice.cannotCarry(declared.profile(), snap);
      out.println("# profile " + declared.name() + " (" + declared.description() + ") cannot carry "
          + (lacks.isEmpty() ? "Sluice's ovs pipeline" : String.join("; ", lacks)) + ",");
      out.println("# and " + io.sluice.renderer.StatelessRenderer.unsupported(declared.profile()) + ".");
      out.println("# A switch with this profile gets one drop-all flow (fail closed). Its tables and their budgets:");
      budget(out, declared.profile(), List.of());
      out.flush();
      return 1;
    }
    List<Flow> flows = new ArrayList<>(tables.flows().values());
    flows.sort(Comparator.comparingInt(Flow::table).thenComparing(Comparator.comparingInt(Flow::priority).reversed())
        .thenComparing(Flow::toString));
    out.println("# switch " + DatapathId.of(sw) + ", model generation " + snap.generation() + ", " + flows.size() + " flows, "
        + pipeline);
    for (Flow f : flows) {
      out.println(f);
    }
    out.println("# " + tables.groups().size() + " groups");
    for (Group g : tables.groups().values()) {
      out.println(g);
    }
    out.println("# flows per table, against the profile's table sizes (profile " + declared.name() + ")");
    budget(out, declared.profile(), flows);
    out.flush();
    return declared.profile().overBudget(flows).isEmpty() ? 0 : 1;
  }

  /** One line per table: its flows of {@code flows} and its size, marked when over. */
  static void budget(PrintWriter out, PipelineProfile profile, List<Flow> flows) {
    java.util.Map<Integer, Integer> use = new java.util.TreeMap<>();
    for (Flow f : flows) {
      use.merge(f.table(), 1, Integer::sum);
    }
    for (var t : profile.tables().values()) {
      int n = use.getOrDefault(t.id(), 0);
      String size = t.size() == io.sluice.renderer.pipeline.Table.UNLIMITED ? "no limit" : Integer.toString(t.size());
      out.printf("#   table %3d %-24s %7d flows  size %s%s%n", t.id(), t.name(), n, size,
          n > t.size() ? "  OVER BUDGET" : "");
    }
  }

  /** A virtual port's MAC: 0a:58 and the IPv4 address's bytes (as many CNIs choose), none for IPv6. */
  static String virtualMac(String ip) {
    String[] b = ip.split("\\.");
    if (b.length != 4) {
      return null;
    }
    return String.format("0a:58:%02x:%02x:%02x:%02x", Integer.parseInt(b[0]), Integer.parseInt(b[1]),
        Integer.parseInt(b[2]), Integer.parseInt(b[3]));
  }

  /**
   * Binds every pod with an address to the virtual switch, ports in namespace/name order, MACs from addresses; a pod
   * its Node already places (its attachment) stays there.
   */
  static Snapshot placeOnVirtualSwitch(ClusterModel model) {
    List<ModelEvent> bind = new ArrayList<>();
    long port = 1;
    for (ObjectRef ref : new TreeSet<>(model.snapshot().pods().keySet())) {
      Pod p = model.snapshot().pods().get(ref);
      if (!p.ips().isEmpty() && !p.hostNetwork() && !model.snapshot().bindings().containsKey(ref)) {
        bind.add(new ModelEvent.PortBound(new PortBinding(ref, 0, port++, virtualMac(p.ips().get(0)))));
      }
    }
    return bind.isEmpty() ? model.snapshot() : model.apply(bind);
  }
}
