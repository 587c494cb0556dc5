#!/usr/bin/env bash
# The first 60 s after a start with and without a JDK 17 AppCDS archive. The bench starts its relay
# from a fresh copy of the jar each run, and a JDK 17 archive only maps for the class path it was
# dumped with, so this script starts the relay itself (same env as bench/RelayProcess, same jar path
# every run) and points `bench chat --url` at it: training run with -XX:ArchiveClassesAtExit (the
# archive is written at the SIGTERM exit), then base and cds interleaved, two rounds each.
set -u
OUT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$OUT/../../.."
hard="$(ulimit -Hn)"; [[ "$hard" == unlimited ]] && hard=1048576; ulimit -n "$hard"
JAR=/tmp/perf2/jar
JSA=/tmp/perf2/relay-static-path.jsa
log() { echo "$(date -u +%FT%TZ) $* load: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/runs.log"; }
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
one() { # name, seed, relay JVM flags...
  local name=$1 seed=$2; shift 2
  local dir; dir=$(mktemp -d /tmp/perf2-relay.XXXXXX)
  mkdir -p /tmp/switchboard-bench-pg-bin && ln -s /tmp/switchboard-bench-pg-bin "$dir/pg-bin"
  local p a pg; p=$(port); a=$(port); pg=$(port)
  env -u DATABASE_URL SWITCHBOARD_HOST=127.0.0.1 SWITCHBOARD_ADMIN_HOST=127.0.0.1 SWITCHBOARD_PORT=$p \
    SWITCHBOARD_ADMIN_PORT=$a SWITCHBOARD_DATA_DIR=$dir SWITCHBOARD_STORE_EMBEDDED_PORT=$pg \
    SWITCHBOARD_P2P_STUN_ADDRESSES=127.0.0.1 SWITCHBOARD_P2P_STUN_PORT=0 SWITCHBOARD_P2P_STUN_ALT_PORT=0 \
    SWITCHBOARD_LIMITS_MAX_CONNECTIONS_PER_ADDRESS=1000000 SWITCHBOARD_LIMITS_HANDSHAKES_PER_ADDRESS_PER_SECOND=1000000 \
    SWITCHBOARD_LIMITS_HANDSHAKE_BURST=1000000 SWITCHBOARD_LIMITS_ROOM_LOADS_PER_ADDRESS_PER_SECOND=1000000 \
    SWITCHBOARD_LIMITS_ROOM_LOAD_BURST=1000000 \
    java -Xms32m -Xmx1g "$@" -jar $JAR/switchboard.jar > "$OUT/$name-relay.log" 2>&1 &
  local pid=$!
  local t0; t0=$(date +%s.%N)
  for _ in $(seq 1 900); do curl -sf "http://127.0.0.1:$a/ready" > /dev/null && break; sleep 0.1; done
  log "$name: relay $pid ready after $(python3 -c "print(round($(date +%s.%N)-$t0,2))") s"
  java -Xmx2g -jar $JAR/switchboard-bench.jar chat --users 100 --room-size 10 --rate 1 --warmup 0 --duration 60 \
    --seed "$seed" --charts false --url "ws://127.0.0.1:$p/ws" --admin "http://127.0.0.1:$a" --server-pid $pid \
    --pg-port $pg --pg-password "$(cat "$dir/pg-password")" --out "$OUT/$name.json" > "$OUT/$name.log" 2>&1
  log "  $name exit $?"
  kill -TERM $pid; wait $pid
  rm -rf "$dir"
}
rm -f $JSA
one train 9 -XX:ArchiveClassesAtExit=$JSA
log "archive: $(ls -la $JSA 2>&1)"
for round in 1 2; do
  one base-r$round $round
  one cds-r$round $round -XX:SharedArchiveFile=$JSA -Xshare:on
done
log done
