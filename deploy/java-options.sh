# Sourced by ./sluice, deploy/bench.sh and deploy/cds.sh. sluice_java_options USER_OPTS prints the options of
# deploy/java-options, one per line, leaving out the collector lines when USER_OPTS names a collector itself (two would
# conflict).
sluice_java_options() {
  local user=$1 line
  while read -r line; do
    line=${line%%#*}
    line=${line//[[:space:]]/}
    [ -z "$line" ] && continue
    case "$line" in
      -XX:+Use*GC | -XX:MaxNewSize=*) [[ "$user" == *-XX:+Use*GC* ]] && continue ;;
    esac
    echo "$line"
  done <"$(dirname "${BASH_SOURCE[0]}")/java-options"
}

# sluice_classpath ROOT prints the class path ./sluice runs with: the controller's jar, then every jar of
# controller/target/lib in name order (both made by `mvn package`). Jars only and always in the same order, so the
# class-data sharing archive (sluice_cds_options) made for it matches at every start.
sluice_classpath() {
  local root=$1 cp jar
  cp=$(ls "$root"/controller/target/sluice-controller-*.jar 2>/dev/null | grep -v -e '-tests\.jar$' -e '-sources\.jar$' | head -1)
  for jar in $(ls "$root"/controller/target/lib/*.jar 2>/dev/null | LC_ALL=C sort); do
    cp="$cp:$jar"
  done
  echo "$cp"
}

# sluice_cds_options ROOT prints the option that maps controller/target/sluice.jsa, the class-data sharing archive
# deploy/cds.sh makes at `make build` for sluice_classpath: start-up then reads Sluice's classes (and the JDK's)
# already parsed and verified instead of searching ~140 jars for ~9,000 classes. Nothing when the archive is missing
# or older than a jar of the class path (rebuilt without deploy/cds.sh): the JVM would refuse it anyway, and without
# the option it keeps the JDK's own archive.
sluice_cds_options() {
  local root=$1 jsa
  jsa="$root/controller/target/sluice.jsa"
  [ -f "$jsa" ] || return 0
  local cp
  cp=$(sluice_classpath "$root")
  local IFS=:
  # shellcheck disable=SC2086  # split the class path on ':'
  for jar in $cp; do
    [ "$jar" -nt "$jsa" ] && return 0
  done
  echo "-XX:SharedArchiveFile=$jsa"
}
