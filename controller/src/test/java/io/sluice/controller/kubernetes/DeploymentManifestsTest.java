package io.sluice.controller.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.sluice.controller.cli.SluiceCliAccess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * deploy/kubernetes and the two Dockerfiles, checked without a cluster or a Docker engine: every manifest loads
 * through fabric8's model, the kustomization lists every file, the Deployment runs flags `sluice run` knows with
 * settings the ConfigMap has, probes point at /readyz and /healthz, and the images are multi-stage and non-root.
 * (RbacIT checks the rules against the calls Sluice really makes.)
 */
class DeploymentManifestsTest {
  static final Path DIR = Path.of("..", "deploy", "kubernetes");

  /** Every document of a manifest file as fabric8 objects (an unknown kind or field fails the load). */
  static List<HasMetadata> load(Path file) throws IOException {
    List<HasMetadata> out = new ArrayList<>();
    for (String doc : Files.readString(file).split("(?m)^---\\s*$")) {
      if (doc.lines().anyMatch(l -> !l.isBlank() && !l.startsWith("#"))) {
        Object o = Serialization.unmarshal(doc);
        assertThat(o).as("%s loads as a Kubernetes object", file).isInstanceOf(HasMetadata.class);
        out.add((HasMetadata) o);
      }
    }
    return out;
  }

  private static List<HasMetadata> all() throws IOException {
    List<HasMetadata> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(DIR)) {
      for (Path f : files.filter(f -> !f.getFileName().toString().equals("kustomization.yaml")).sorted().toList()) {
        out.addAll(load(f));
      }
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  @Test
  void theKustomizationListsEveryManifest() throws IOException {
    Map<String, Object> k = Serialization.yamlMapper().readValue(DIR.resolve("kustomization.yaml").toFile(), Map.class);
    Set<String> listed = new TreeSet<>((List<String>) k.get("resources"));
    try (Stream<Path> files = Files.list(DIR)) {
      assertThat(listed).isEqualTo(files.map(f -> f.getFileName().toString())
          .filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml")).collect(Collectors.toCollection(TreeSet::new)));
    }
    assertThat(k.get("namespace")).isEqualTo("sluice-system");
  }

  @Test
  void everyObjectLoadsAndTheDeploymentIsWhatTheReadmeSays() throws IOException {
    List<HasMetadata> objects = all();
    assertThat(objects).extracting(HasMetadata::getKind).contains("Namespace", "ServiceAccount", "ClusterRole",
        "ClusterRoleBinding", "Role", "RoleBinding", "ConfigMap", "Deployment", "Service", "PodDisruptionBudget");
    Deployment d = (Deployment) objects.stream().filter(o -> o instanceof Deployment).findFirst().orElseThrow();
    assertThat(d.getSpec().getReplicas()).isEqualTo(2);
    var pod = d.getSpec().getTemplate().getSpec();
    assertThat(pod.getServiceAccountName()).isEqualTo("sluice");
    assertThat(pod.getAffinity().getPodAntiAffinity().getRequiredDuringSchedulingIgnoredDuringExecution())
        .singleElement().satisfies(t -> assertThat(t.getTopologyKey()).isEqualTo("kubernetes.io/hostname"));
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    Container c = pod.getContainers().get(0);
    assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(c.getArgs()).first().isEqualTo("run");
    assertThat(c.getArgs()).contains("--in-cluster", "--leader-elect");
    // every flag is one `sluice run` has; every $(VAR) is a ConfigMap key
    ConfigMap cm = (ConfigMap) objects.stream().filter(o -> o instanceof ConfigMap).findFirst().orElseThrow();
    Pattern var = Pattern.compile("\\$\\(([A-Z_]+)\\)");
    for (String arg : c.getArgs().subList(1, c.getArgs().size())) {
      String flag = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
      assertThat(SluiceCliAccess.runFlags()).as("flag of %s", arg).contains(flag);
      Matcher m = var.matcher(arg);
      while (m.find()) {
        assertThat(cm.getData()).as("ConfigMap key for %s", arg).containsKey(m.group(1));
      }
    }
    // the Service names the container's ports, the PDB selects the Deployment's pods
    Service svc = (Service) objects.stream().filter(o -> o instanceof Service).findFirst().orElseThrow();
    Set<String> containerPorts = c.getPorts().stream().map(p -> p.getName()).collect(Collectors.toSet());
    assertThat(svc.getSpec().getPorts()).allSatisfy(p -> assertThat(containerPorts)
        .contains(p.getTargetPort().getStrVal()));
    assertThat(svc.getSpec().getSelector()).isEqualTo(d.getSpec().getSelector().getMatchLabels());
    PodDisruptionBudget pdb = (PodDisruptionBudget) objects.stream().filter(o -> o instanceof PodDisruptionBudget)
        .findFirst().orElseThrow();
    assertThat(pdb.getSpec().getSelector().getMatchLabels()).isEqualTo(d.getSpec().getSelector().getMatchLabels());
    assertThat(pdb.getSpec().getMinAvailable().getIntVal()).isEqualTo(1);
  }

  /** Dockerfile instructions (continuation lines joined, comments dropped). */
  static List<String> instructions(Path file) throws IOException {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    for (String line : Files.readAllLines(file)) {
      if (line.trim().startsWith("#") || line.isBlank()) {
        continue;
      }
      cur.append(line.endsWith("\\") ? line.substring(0, line.length() - 1) : line).append(' ');
      if (!line.endsWith("\\")) {
        out.add(cur.toString().trim().replaceAll("\\s+", " "));
        cur.setLength(0);
      }
    }
    return out;
  }

  @Test
  void theControllerImageIsMultiStageNonRootAndRunsTheCli() throws Exception {
    List<String> ins = instructions(Path.of("..", "Dockerfile"));
    Set<String> known = Set.of("FROM", "RUN", "COPY", "WORKDIR", "USER", "EXPOSE", "ENV", "ENTRYPOINT", "CMD", "ARG");
    assertThat(ins).allSatisfy(i -> assertThat(known).contains(i.split(" ")[0]));
    List<String> froms = ins.stream().filter(i -> i.startsWith("FROM ")).toList();
    assertThat(froms).hasSize(2);
    assertThat(froms.get(0)).contains("temurin-17").endsWith("AS build");
    assertThat(froms.get(1)).isEqualTo("FROM eclipse-temurin:17-jre");
    String user = ins.stream().filter(i -> i.startsWith("USER ")).reduce((a, b) -> b).orElseThrow();
    assertThat(user).doesNotContain("root").isNotEqualTo("USER 0");
    String entry = ins.stream().filter(i -> i.startsWith("ENTRYPOINT ")).findFirst().orElseThrow();
    String main = entry.replaceAll(".*\"([a-z.]+SluiceCli)\".*", "$1");
    assertThat(Class.forName(main).getMethod("main", String[].class)).isNotNull();
    // what the runtime stage copies is what the build makes
    assertThat(ins).contains("COPY --from=build /src/controller/target/lib/ lib/");
    // ...which the package phase makes: this runs before package on a clean clone, so read the pom, not target/
    String pom = Files.readString(Path.of("pom.xml"));
    assertThat(pom).containsPattern(
        "(?s)<phase>package</phase>\\s*<goals><goal>copy-dependencies</goal></goals>.*"
            + "<outputDirectory>\\$\\{project.build.directory\\}/lib</outputDirectory>");
  }

  @Test
  void theHarnessImageHasWhatInstallDepsInstalls() throws IOException {
    List<String> ins = instructions(Path.of("..", "Dockerfile.mininet"));
    assertThat(ins.get(0)).isEqualTo("FROM debian:bookworm");
    String apt = ins.stream().filter(i -> i.contains("apt-get install")).findFirst().orElseThrow();
    String deps = Files.readString(Path.of("..", "deploy", "install-deps.sh"));
    Matcher m = Pattern.compile("packages=\\(([^)]*)\\)").matcher(deps);
    assertThat(m.find()).isTrue();
    for (String pkg : m.group(1).trim().split("\\s+")) {
      assertThat(apt).as("Dockerfile.mininet installs %s", pkg).containsPattern("\\b" + Pattern.quote(pkg) + "\\b");
    }
    assertThat(ins).anyMatch(i -> i.startsWith("CMD ") && i.contains("deploy/ovs-start.sh"));
  }
}
