package io.sluice.watcher.manifest;

/** YAML snippets for tests. */
final class Manifests {
  private Manifests() { }

  static String namespace(String name) {
    return "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + name + "\n";
  }

  static String pod(String ns, String name, String app, String ip) {
    return "apiVersion: v1\nkind: Pod\nmetadata:\n  namespace: " + ns + "\n  name: " + name + "\n  labels:\n    app: " + app
        + "\nspec:\n  containers:\n  - name: c\n    ports:\n    - {name: http, containerPort: 8080}\nstatus:\n  podIP: "
        + ip + "\n";
  }

  static String policy(String ns, String name, String cidr, String except) {
    return "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  namespace: " + ns + "\n  name: " + name
        + "\nspec:\n  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock:\n        cidr: " + cidr
        + "\n        except: [" + except + "]\n";
  }

  /**
   * A pod on node-1 that Services can select: labels and container ports as YAML flow collections, one IP, its Ready
   * condition, and a deletionTimestamp when terminating.
   */
  static String servedPod(String ns, String name, String labels, String ports, String ip, boolean ready,
                          boolean terminating) {
    return "apiVersion: v1\nkind: Pod\nmetadata:\n  namespace: " + ns + "\n  name: " + name + "\n  labels: " + labels
        + "\n" + (terminating ? "  deletionTimestamp: \"2024-05-01T10:00:00Z\"\n" : "")
        + "spec:\n  nodeName: node-1\n  containers:\n  - name: c\n    ports: " + ports + "\n"
        + "status:\n  phase: Running\n  podIPs: [{ip: '" + ip + "'}]\n  conditions: [{type: Ready, status: \""
        + (ready ? "True" : "False") + "\"}]\n";
  }

  /** A Service; {@code spec} is the YAML under {@code spec:}. */
  static String service(String ns, String name, String spec) {
    return "apiVersion: v1\nkind: Service\nmetadata:\n  namespace: " + ns + "\n  name: " + name + "\nspec:\n"
        + spec.indent(2);
  }

  /** An EndpointSlice for {@code service} with one ready endpoint on port 8080. */
  static String slice(String ns, String name, String service, String ip) {
    return "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  namespace: " + ns + "\n  name: " + name
        + "\n  labels: {kubernetes.io/service-name: " + service + "}\naddressType: IPv4\n"
        + "endpoints: [{addresses: ['" + ip + "']}]\nports: [{name: http, port: 8080}]\n";
  }

  static String docs(String... docs) {
    return String.join("---\n", docs);
  }
}
