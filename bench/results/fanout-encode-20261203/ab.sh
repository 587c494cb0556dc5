#!/usr/bin/env bash
# The relay before (main at 25bdc0e) and after the fan-out frame is UTF-8 encoded once, interleaved:
# chat 100 users, rooms of 10, 1 msg/s, 60 s warm-up, 30 s measured, GC log per run.
set -u
OUT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$OUT/../../.."
hard="$(ulimit -Hn)"; [[ "$hard" == unlimited ]] && hard=1048576; ulimit -n "$hard"
log() { echo "$(date -u +%FT%TZ) $* load: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/runs.log"; }
for round in 1 2; do
  for cfg in main once; do
    jar=/tmp/perf2/jar/switchboard.jar; [[ $cfg == once ]] && jar=/tmp/perf2/jar-new/switchboard.jar
    log "round $round $cfg"
    java -Xmx2g -jar /tmp/perf2/jar/switchboard-bench.jar chat --users 100 --room-size 10 --rate 1 --warmup 60 \
      --duration 30 --seed $round --charts false --relay-jar $jar --server-java-opts "-Xlog:gc:file=$OUT/gc-$cfg-r$round.gclog" \
      --out "$OUT/chat-$cfg-r$round.json" > "$OUT/chat-$cfg-r$round.log" 2>&1
    log "  exit $?"
  done
done
log done
