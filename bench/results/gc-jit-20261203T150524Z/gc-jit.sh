#!/usr/bin/env bash
# Issue 14, last part: (1) GC choice for the relay, interleaved rounds of chat (100 users, rooms of
# 10, 1 msg/s, 60 s warm-up, 30 s measured), stock Socket.IO once per round with the g1 run, every
# relay run logging GC pauses (-Xlog:gc); one JFR profile of the same run; (2) the first 60 s after
# a start: JDK 17 AppCDS (dynamic archive from one training run) and C1-only against the default.
# Run from the repo root at normal priority; the jars are a pinned copy (/tmp/perf2/jar) of this
# branch's build so other builds cannot replace them mid-run.
set -u
OUT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$OUT/../../.."
hard="$(ulimit -Hn)"; [[ "$hard" == unlimited ]] && hard=1048576; ulimit -n "$hard"
JAR=/tmp/perf2/jar
log() { echo "$(date -u +%FT%TZ) $* load: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/runs.log"; }
run() { java -Xmx2g -jar $JAR/switchboard-bench.jar "$@"; }
chat="chat --users 100 --room-size 10 --rate 1 --relay-jar $JAR/switchboard.jar --charts false"
for round in 1 2; do
  for cfg in g1 serial parallel zgc g1big; do
    case $cfg in
      g1) gc="";;
      serial) gc="-XX:+UseSerialGC";;
      parallel) gc="-XX:+UseParallelGC";;
      zgc) gc="-XX:+UseZGC";;
      g1big) gc="-Xms512m -Xmn256m";;
    esac
    compare=false; [[ $cfg == g1 ]] && compare=true
    log "round $round gc $cfg"
    run $chat --warmup 60 --duration 30 --compare $compare --seed $round \
      --server-java-opts "$gc -Xlog:gc:file=$OUT/gc-$cfg-r$round.gclog" \
      --out "$OUT/chat-$cfg-r$round.json" > "$OUT/chat-$cfg-r$round.log" 2>&1
    log "  exit $?"
  done
done
log "jfr g1"
run $chat --warmup 60 --duration 30 --seed 3 \
  --server-java-opts "-XX:StartFlightRecording=delay=60s,duration=30s,settings=profile,filename=/tmp/perf2/relay-chat.jfr" \
  --out "$OUT/chat-jfr.json" > "$OUT/chat-jfr.log" 2>&1
log "  exit $?"
# (2) first 60 s after a start
rm -f /tmp/perf2/relay.jsa
log "cds training"
run $chat --warmup 0 --duration 60 --seed 9 --server-java-opts "-XX:ArchiveClassesAtExit=/tmp/perf2/relay.jsa" \
  --out "$OUT/first60-train.json" > "$OUT/first60-train.log" 2>&1
log "  exit $? $(ls -la /tmp/perf2/relay.jsa 2>&1)"
for round in 1 2; do
  for cfg in base cds c1; do
    case $cfg in
      base) opts="";;
      cds) opts="-XX:SharedArchiveFile=/tmp/perf2/relay.jsa -Xshare:on";;
      c1) opts="-XX:TieredStopAtLevel=1";;
    esac
    log "round $round first60 $cfg"
    run $chat --warmup 0 --duration 60 --seed $round ${opts:+--server-java-opts "$opts"} \
      --out "$OUT/first60-$cfg-r$round.json" > "$OUT/first60-$cfg-r$round.log" 2>&1
    log "  exit $?"
  done
done
log "done"
