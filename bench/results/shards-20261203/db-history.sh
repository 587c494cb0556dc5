#!/usr/bin/env bash
# The suite's capacity lines again on a quiet machine, on the sharded relay (default event loops).
set -u
out=bench/results/shards-20261203
run() { local name=$1; shift
  echo "== $name $(date -u +%H:%M:%SZ) load: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a $out/runs.log
  bench/run.sh "$@" --charts false > $out/$name.log 2>&1; echo "   rc=$? $(date -u +%H:%M:%SZ)" | tee -a $out/runs.log; }
run history history --rooms 41 --messages 10000 --loads 1000
run db-chat chat --users 2000 --room-size 2 --rate 10 --relay-rate 30 --warmup 20 --duration 30
