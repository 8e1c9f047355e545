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

  static String docs(String... docs) {
    return String.join("---\n", docs);
  }
}
