#!/usr/bin/env bash
# Runs Sluice's benchmark, io.sluice.controller.bench.Bench (controller's test sources), and prints its figures.
# Arguments are passed to Bench; BENCH_JAVA_OPTS adds JVM options.
set -euo pipefail
cd "$(dirname "$0")/.."

# test-compile leaves test-scope libraries (JMH) out of controller/target/lib, so ask Maven for the
# full test classpath too; the sibling modules then come from their fresh target/classes.
mvn -B -q -pl controller -am test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test

[ -f controller/target/test-classes/io/sluice/controller/bench/Bench.class ] || {
  echo "bench: io.sluice.controller.bench.Bench is not in controller's test sources yet" >&2
  exit 1
}
cp="controller/target/test-classes:controller/target/classes:$(cat controller/target/bench.classpath):controller/target/lib/*"
# shellcheck disable=SC2086  # BENCH_JAVA_OPTS is a list of options
exec java ${BENCH_JAVA_OPTS:-} -cp "$cp" io.sluice.controller.bench.Bench "$@"
