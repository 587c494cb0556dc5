#!/usr/bin/env bash
# Runs the chat scenario against a fresh relay on 127.0.0.1.
#
#   ./mvnw -q -B package -DskipTests      # once; this script builds nothing
#   bench/run-chat.sh                     # 100 users, rooms of 10, 1 msg/s, 60 s (+5 s warmup)
#   SWITCHBOARD_RATE_FRAMES_PER_SECOND=200 bench/run-chat.sh --users 200 --rate 10 --duration 30
#
# Arguments pass through to the driver (later ones win over the defaults below). SWITCHBOARD_*
# variables in the environment reach the server; SERVER_JAVA_OPTS / BENCH_JAVA_OPTS add JVM flags;
# SERVER_CPUS / BENCH_CPUS (taskset lists, e.g. 0 and 1) pin the two JVMs to separate CPUs.
# The server gets a temporary data dir, free loopback ports and a fixed embedded Postgres port,
# and is stopped with SIGTERM (and its data dir removed) whatever happens.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVER_JAR="$ROOT/relay/target/switchboard.jar"
BENCH_JAR="$ROOT/bench/target/switchboard-bench.jar"
for jar in "$SERVER_JAR" "$BENCH_JAR"; do
  [[ -f "$jar" ]] || { echo "missing $jar: run ./mvnw -q -B package -DskipTests first" >&2; exit 2; }
done

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

DATA_DIR="$(mktemp -d -t switchboard-bench.XXXXXX)"
SERVER_PID=""
OUT=""
LOG="$DATA_DIR/server.log"

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 300); do               # the relay drains for up to ~15 s
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "server $SERVER_PID did not exit after SIGTERM; killing it" >&2
      kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ -f "$LOG" ]]; then
    local warn
    warn="$(grep -cE ' (WARN|ERROR) ' "$LOG" || true)"
    echo "server log: $warn WARN/ERROR lines" >&2
    grep -E ' (WARN|ERROR) ' "$LOG" | head -20 >&2 || true
    if [[ -n "${KEEP_SERVER_LOG:-}" ]]; then cp "$LOG" "$KEEP_SERVER_LOG" || true; fi
    # next to the results (*.log is git-ignored)
    if [[ -n "$OUT" ]]; then cp "$LOG" "${OUT%.json}.server.log" 2>/dev/null || true; fi
  fi
  rm -rf "$DATA_DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT="$(free_port)"
ADMIN_PORT="$(free_port)"
PG_PORT="$(free_port)"
while [[ "$ADMIN_PORT" == "$PORT" ]]; do ADMIN_PORT="$(free_port)"; done
while [[ "$PG_PORT" == "$PORT" || "$PG_PORT" == "$ADMIN_PORT" ]]; do PG_PORT="$(free_port)"; done

# Run a copy of the jar from the temp dir: a rebuild during the run cannot swap it, and the
# command line is this run's own (name-based cleanup elsewhere has stopped bench servers mid-run).
cp "$SERVER_JAR" "$DATA_DIR/switchboard-bench-server.jar"
# shellcheck disable=SC2086
SWITCHBOARD_HOST=127.0.0.1 SWITCHBOARD_ADMIN_HOST=127.0.0.1 \
SWITCHBOARD_PORT="$PORT" SWITCHBOARD_ADMIN_PORT="$ADMIN_PORT" \
SWITCHBOARD_DATA_DIR="$DATA_DIR/data" SWITCHBOARD_STORE_EMBEDDED_PORT="$PG_PORT" \
SWITCHBOARD_P2P_STUN_ADDRESSES=127.0.0.1 SWITCHBOARD_P2P_STUN_PORT=0 SWITCHBOARD_P2P_STUN_ALT_PORT=0 \
  ${SERVER_CPUS:+taskset -c "$SERVER_CPUS"} java ${SERVER_JAVA_OPTS:-} -jar "$DATA_DIR/switchboard-bench-server.jar" >"$LOG" 2>&1 &
SERVER_PID=$!
echo "server pid $SERVER_PID: ws 127.0.0.1:$PORT admin 127.0.0.1:$ADMIN_PORT pg 127.0.0.1:$PG_PORT data $DATA_DIR" >&2

ready=""
for _ in $(seq 1 600); do                   # up to 60 s: first start unpacks Postgres
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "server exited during start:" >&2; tail -40 "$LOG" >&2; exit 1
  fi
  if curl -fsS --max-time 2 "http://127.0.0.1:$ADMIN_PORT/ready" >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.1
done
[[ -n "$ready" ]] || { echo "server not ready after 60 s" >&2; tail -40 "$LOG" >&2; exit 1; }
echo "server ready" >&2

mkdir -p "$ROOT/bench/results"
OUT="$ROOT/bench/results/chat-$(date -u +%Y%m%dT%H%M%SZ).json"
for ((i = 1; i <= $#; i++)); do               # a --out among the arguments wins
  if [[ "${!i}" == --out ]]; then j=$((i + 1)); OUT="${!j:-}"; elif [[ "${!i}" == --out=* ]]; then OUT="${!i#--out=}"; fi
done

driver_rc=0
# shellcheck disable=SC2086
${BENCH_CPUS:+taskset -c "$BENCH_CPUS"} java ${BENCH_JAVA_OPTS:-} -jar "$BENCH_JAR" chat \
  --users 100 --room-size 10 --rate 1 --duration 60 --warmup 5 \
  --url "ws://127.0.0.1:$PORT/ws" --admin "http://127.0.0.1:$ADMIN_PORT" \
  --server-pid "$SERVER_PID" --pg-port "$PG_PORT" --out "$OUT" \
  "$@" || driver_rc=$?
if ! kill -0 "$SERVER_PID" 2>/dev/null || grep -q "shutting down" "$LOG"; then
  echo "WARNING: the server stopped before the driver finished (not by this script): results are invalid" >&2
  grep -E "shutting down|relay stopped" "$LOG" >&2 || true
  if [[ "$driver_rc" -eq 0 ]]; then driver_rc=3; fi
fi
echo "results: $OUT" >&2
exit "$driver_rc"
