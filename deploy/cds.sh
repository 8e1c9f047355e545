#!/usr/bin/env bash
# Makes controller/target/sluice.jsa, the class-data sharing archive ./sluice and deploy/bench.sh start with
# (deploy/java-options.sh: sluice_cds_options). Run by `make build` after `mvn package` has made the jars and
# controller/target/bench.classpath (the controller's test class path: `dependency:build-classpath`).
#  1. Training: io.sluice.controller.bench.CdsTraining starts Sluice against a small API server and a fake switch
#     until the first generation is confirmed, in a JVM that lists every class it loads (-XX:DumpLoadedClassList).
#  2. The archive: the JDK parses and verifies those classes from the launcher's class path (sluice_classpath) and
#     writes them out (-Xshare:dump); classes only the training harness has are not on that path and are skipped.
# Nothing is left half-written: a failed step leaves no archive, and the launcher then starts without one.
# `deploy/cds.sh --if-stale` does nothing when the archive is newer than every jar of the class path.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=deploy/java-options.sh
. deploy/java-options.sh
target=controller/target
jsa=$target/sluice.jsa
cp=$(sluice_classpath "$PWD")
if [[ "$cp" != *sluice-controller-*.jar:* ]]; then
  echo "cds: no controller jar and lib/ in $target; run 'mvn -B package' first" >&2
  exit 1
fi
if [ "${1:-}" = --if-stale ] && [ -n "$(sluice_cds_options "$PWD")" ]; then
  exit 0
fi
rm -f "$jsa" "$target/sluice.classlist"
mapfile -t opts < <(sluice_java_options "")
log=$target/cds.log
if ! java "${opts[@]}" -XX:DumpLoadedClassList="$target/sluice.classlist.tmp" \
    -cp "$target/test-classes:$target/classes:$(cat "$target/bench.classpath")" \
    io.sluice.controller.bench.CdsTraining >"$log" 2>&1; then
  echo "cds: the training run failed (see $log); ./sluice starts without a class-data sharing archive" >&2
  exit 1
fi
mv "$target/sluice.classlist.tmp" "$target/sluice.classlist"
# Classes missing from the launcher's class path, JFR event classes and the like are skipped with a warning each.
if ! java "${opts[@]}" -Xshare:dump -XX:SharedClassListFile="$target/sluice.classlist" \
    -XX:SharedArchiveFile="$jsa.tmp" -cp "$cp" >>"$log" 2>&1; then
  rm -f "$jsa.tmp"
  echo "cds: dumping the archive failed (see $log); ./sluice starts without a class-data sharing archive" >&2
  exit 1
fi
mv "$jsa.tmp" "$jsa"
echo "cds: $jsa ($(wc -l <"$target/sluice.classlist") classes listed by the training run)"
