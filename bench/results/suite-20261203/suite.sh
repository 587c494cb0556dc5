#!/usr/bin/env bash
# README's suite table re-measured with browser-default clients (every client offers
# permessage-deflate as Chromium does; the relay's compression is off by default), one sequential
# batch at normal priority. Each run's JSON/MD lands next to this script; runs.log has the load
# average before and after each. Jars: a pinned copy (/tmp/perf2/jar) of this branch's build.
set -u
OUT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$OUT/../../.."
hard="$(ulimit -Hn)"; [[ "$hard" == unlimited ]] && hard=1048576; ulimit -n "$hard"
JAR=/tmp/perf2/jar
log() { echo "$(date -u +%FT%TZ) $* load: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/runs.log"; }
b() { # name, then the bench arguments
  local name=$1; shift
  log "$name: $*"
  java -Xmx2g -jar $JAR/switchboard-bench.jar "$@" --relay-jar $JAR/switchboard.jar \
    --out "$OUT/$name.json" > "$OUT/$name.log" 2>&1
  log "  exit $?"
}
# chat 100 + idle 10k vs Socket.IO, signaling vs PeerJS
b compare compare --users 100 --rate 1 --warmup 120 --duration 60 --connections 10000 --hold 30 --pairs 100 --rounds 20
# saturation, twice
b saturation-1 chat --users 500 --room-size 50 --rate 4.1 --warmup 30 --duration 30 --seed 1
b saturation-2 chat --users 500 --room-size 50 --rate 4.1 --warmup 30 --duration 30 --seed 2
# DB: the history fill (>= 20k rows/s) and history pages, then 2,000 users at 10 msg/s
b history history --rooms 41 --messages 10000 --loads 1000
b db-chat chat --users 2000 --room-size 2 --rate 10 --relay-rate 30 --warmup 20 --duration 30
# bandwidth, seed workload: compression off (the default) and deflate
b bandwidth-off chat --users 100 --rate 0.1 --warmup 30 --duration 120
b bandwidth-deflate chat --users 100 --rate 0.1 --warmup 30 --duration 120 --relay-compression deflate
# outage, both kinds
b outage-restart outage --users 100 --room-size 10 --rate 2 --duration 60 --outage-at 15 --outage-for 20
b outage-freeze outage --users 100 --room-size 10 --rate 2 --duration 60 --outage-at 15 --outage-for 20 --outage-mode freeze
# chat vs Socket.IO with its compression on (perMessageDeflate: true, engine.io's 1 KB threshold)
SOCKETIO_PERMESSAGE_DEFLATE=1 b chat-vs-socketio-deflate chat --users 100 --rate 1 --warmup 120 --duration 60 --compare true --charts false
log "done"
