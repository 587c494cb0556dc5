#!/usr/bin/env bash
# Rooms sharded over event loops (issue 15): one loop against the default (one per core, 2 here),
# interleaved, on the relay jar of main after the merge. Run from the repo root.
set -u
out=bench/results/shards-20261203
run() { # name loops args...
  local name=$1 loops=$2; shift 2
  echo "== $name loops=$loops $(date -u +%H:%M:%SZ) load: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a $out/runs.log
  if [[ $loops == default ]]; then bench/run.sh "$@" --charts false > $out/$name.log 2>&1
  else SWITCHBOARD_EVENT_LOOPS=$loops bench/run.sh "$@" --charts false > $out/$name.log 2>&1; fi
  echo "   rc=$? $(date -u +%H:%M:%SZ)" | tee -a $out/runs.log
}
SAT=(chat --users 500 --room-size 50 --rate 4.1 --warmup 30 --duration 30)
CHAT=(chat --users 100 --room-size 10 --rate 1 --warmup 60 --duration 30 --compare true)
run sat-1loop-a 1 "${SAT[@]}"
run sat-2loops-a default "${SAT[@]}"
run sat-1loop-b 1 "${SAT[@]}"
run sat-2loops-b default "${SAT[@]}"
run chat-2loops-a default "${CHAT[@]}"
run chat-1loop-a 1 "${CHAT[@]}"
run chat-2loops-b default "${CHAT[@]}"
