#!/usr/bin/env bash
# Issue 14: the relay's compression settings side by side with browser-default clients, in one run.
#
#   ./mvnw -q -B package -DskipTests
#   bench/compression-compare.sh [ROUNDS=3] [OUT_DIR=bench/results/compression-<UTC timestamp>]
#
# ROUNDS interleaved rounds; each runs chat (100 users, rooms of 10, 1 msg/s, 60 s warm-up, 30 s
# measured) and idle (2,000 connections in rooms of 10, each having sent one message and received
# nine) against the relay with compression deflate, deflate-no-context and off, and stock
# Socket.IO once per round (with the `off` run, --compare). Every client offers permessage-deflate
# as Chromium does. Report medians; the load average of each run is in its JSON (bench.loadAverage)
# and in OUT_DIR/runs.log. About 9 minutes per round on the 2-core development machine.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS="${1:-3}"
OUT="${2:-$ROOT/bench/results/compression-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT"
cd "$ROOT"
log() { echo "$(date -u +%FT%TZ) $* load: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/runs.log"; }

for round in $(seq 1 "$ROUNDS"); do
  for cfg in deflate deflate-no-context off; do
    compare=false; [[ $cfg == off ]] && compare=true
    log "round $round chat $cfg"
    bench/run.sh chat --users 100 --room-size 10 --rate 1 --warmup 60 --duration 30 --relay-compression "$cfg" \
      --compare "$compare" --charts false --seed "$round" --out "$OUT/chat-$cfg-r$round.json" > "$OUT/chat-$cfg-r$round.log" 2>&1
    log "  exit $?"
  done
  for cfg in deflate deflate-no-context off; do
    compare=false; [[ $cfg == off ]] && compare=true
    log "round $round idle $cfg"
    bench/run.sh idle --connections 2000 --steps 2 --settle 3 --hold 5 --relay-compression "$cfg" \
      --compare "$compare" --charts false --seed "$round" --out "$OUT/idle-$cfg-r$round.json" > "$OUT/idle-$cfg-r$round.log" 2>&1
    log "  exit $?"
  done
done
log "done: $OUT"
