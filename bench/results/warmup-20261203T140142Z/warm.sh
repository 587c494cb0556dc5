#!/usr/bin/env bash
# first 60 s after a start: JDK 17 vs Temurin 25 vs Temurin 25 with an AOT cache (JEP 483/515) trained by one chat run
set -u
cd /work/wt-perf
hard="$(ulimit -Hn)"; [[ "$hard" == unlimited ]] && hard=1048576; ulimit -n "$hard"
J17=/usr/lib/jvm/java-17-openjdk-amd64/bin/java
J25=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
R=/tmp/perf/warm
common="chat --users 100 --room-size 10 --rate 1 --warmup 0 --duration 60 --relay-jar /tmp/perf/jars2/switchboard.jar --competitors-dir bench/competitors --charts false"
echo "$(date -u +%FT%TZ) train load: $(cut -d' ' -f1-3 /proc/loadavg)"
$J25 -Xmx2g -jar /tmp/perf/jars2/switchboard-bench.jar $common --seed 9 --server-java-opts "-XX:AOTCacheOutput=/tmp/perf/warm/relay.aot" --out $R/train.json > $R/train.log 2>&1
echo "  exit $? $(ls -la /tmp/perf/warm/relay.aot 2>&1)"
for round in 1 2; do
  for cfg in j17 j25 j25aot; do
    case $cfg in
      j17) JAVA=$J17; extra="";;
      j25) JAVA=$J25; extra="";;
      j25aot) JAVA=$J25; extra="--server-java-opts -XX:AOTCache=/tmp/perf/warm/relay.aot";;
    esac
    echo "$(date -u +%FT%TZ) round $round $cfg load: $(cut -d' ' -f1-3 /proc/loadavg)"
    $JAVA -Xmx2g -jar /tmp/perf/jars2/switchboard-bench.jar $common --seed $round $extra --out $R/$cfg-r$round.json > $R/$cfg-r$round.log 2>&1
    echo "  exit $?"
  done
done
echo "$(date -u +%FT%TZ) done"
