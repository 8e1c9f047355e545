# Sourced by ./sluice and deploy/bench.sh. sluice_java_options USER_OPTS prints the options of deploy/java-options,
# one per line, leaving out the collector lines when USER_OPTS names a collector itself (two would conflict).
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
