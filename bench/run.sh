#!/usr/bin/env bash
# The bench's one command: bench/run.sh <scenario> [--option value]...
#
#   ./mvnw -q -B package -DskipTests        # once; this script builds nothing
#   bench/run.sh chat                       # 100 users, rooms of 10, 1 msg/s, 60 s (+5 s warm-up)
#   bench/run.sh idle --connections 10000
#   bench/run.sh compare                    # chat + idle vs Socket.IO, signaling vs PeerJS
#   bench/run.sh cluster --nodes 3          # 1 relay vs 3 clustered on one Postgres (--kill-owner: failover)
#   bench/run.sh --help                     # every scenario and option
#
# The Java driver (bench/target/switchboard-bench.jar, its own JVM) starts the relay jar itself on
# free 127.0.0.1 ports with a temp data dir (and, with --compare, the Node competitors from
# bench/competitors, installed with npm ci), stops every process it started (also on Ctrl-C), and
# writes bench/results/<scenario>-<UTC timestamp>.json, .md and .png. BENCH_JAVA_OPTS adds driver
# JVM flags (default -Xmx2g); BENCH_CPUS pins the driver (taskset list), e.g. to keep it off the
# relay's CPU. Exit: 0 done, 2 usage error, 1 failure (chaos: an invariant broken), 3 the relay died
# during the run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_JAR="$ROOT/bench/target/switchboard-bench.jar"
[[ -f "$BENCH_JAR" ]] || { echo "missing $BENCH_JAR: run ./mvnw -q -B package -DskipTests first" >&2; exit 2; }
cd "$ROOT"   # relative defaults (bench/results, relay/target/switchboard.jar) are from the repo root

# idle needs a socket per connection on each side: raise the soft limit to the hard one (the relay
# and the Node servers inherit it); the JVM also raises its own.
hard="$(ulimit -Hn)"
if [[ "$hard" == unlimited ]]; then hard=1048576; fi
ulimit -n "$hard" 2>/dev/null || echo "bench: could not raise ulimit -n (soft $(ulimit -n), hard $hard)" >&2

# shellcheck disable=SC2086
exec ${BENCH_CPUS:+taskset -c "$BENCH_CPUS"} java ${BENCH_JAVA_OPTS:--Xmx2g} -jar "$BENCH_JAR" "$@"
