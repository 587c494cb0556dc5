#!/usr/bin/env bash
# history-flood.sh CAP RATE HTTP_LIMIT : relay; seed; chat measurer (JVM 1) beside a nice'd flooder (JVM 2, RATE=0: none).
set -euo pipefail
CAP=$1; RATE=$2; HTTP_LIMIT=$3
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
JAR="$HERE/../../relay/target/switchboard.jar"
D=$(mktemp -d)
SWITCHBOARD_HOST=127.0.0.1 SWITCHBOARD_PORT=0 SWITCHBOARD_ADMIN_HOST=127.0.0.1 SWITCHBOARD_ADMIN_PORT=0 \
SWITCHBOARD_DATA_DIR=$D/data SWITCHBOARD_P2P_STUN_ADDRESSES=127.0.0.1 SWITCHBOARD_P2P_STUN_PORT=0 SWITCHBOARD_P2P_STUN_ALT_PORT=0 \
SWITCHBOARD_LIMITS_HTTP_REQUESTS_PER_ADDRESS_PER_SECOND=$HTTP_LIMIT SWITCHBOARD_LIMITS_HTTP_BURST=$((HTTP_LIMIT*2)) \
SWITCHBOARD_LIMITS_MAX_CONCURRENT_HISTORY_READS=$CAP SWITCHBOARD_RATE_FRAMES_PER_SECOND=10000 SWITCHBOARD_RATE_BURST=10000 \
java -Xms32m -Xmx1g -jar $JAR > $D/relay.log 2>&1 &
PID=$!
for i in $(seq 1 120); do grep -q "ready: open" $D/relay.log && break; sleep 0.5; done
PORT=$(grep -o "ready: open http://127.0.0.1:[0-9]*" $D/relay.log | grep -o "[0-9]*$")
echo "cap=$CAP floodRate=$RATE httpLimitPerAddress=$HTTP_LIMIT load=$(cut -d' ' -f1 /proc/loadavg)"
java -Xmx512m "$HERE/HistoryFloodProbe.java" $PORT seed 0 0 0
if [[ $RATE != 0 ]]; then
  nice -n 10 java -Xmx512m "$HERE/HistoryFloodProbe.java" $PORT 2 22 1500 100000 $RATE &
  FPID=$!
fi
java -Xmx512m "$HERE/HistoryFloodProbe.java" $PORT 0 20 0 0 || true
if [[ $RATE != 0 ]]; then wait $FPID || true; fi
kill $PID; wait $PID 2>/dev/null || true
rm -rf $D
