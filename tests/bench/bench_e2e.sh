#!/usr/bin/env bash
# End-to-end benchmark: events/s from one unit to one community through the broker,
# counted when the community has applied and confirmed every event, plus the peak RSS
# (VmHWM) of the broker and the nodes. Prints a table; asserts nothing.
# Usage: tests/bench/bench_e2e.sh [BUILD_DIR] [EVENTS] [DURABILITY]
set -euo pipefail
BIN=${1:-build/dev} N=${2:-20000} DUR=${3:-fsync}
BROKER=$BIN/broker/dualsync-broker NODE=$BIN/node/dualsync-node CLI=$BIN/node/dualsync
T=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$T"' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
$BROKER --data $T/b init --street street:bench --name 测试街道 --bind tcp://127.0.0.1:$PORT --durability $DUR --web-bind "" >/dev/null
$NODE --data $T/u init --org unit:u --name 单位 --street-card $T/b/street.card --durability $DUR --web-bind "" >/dev/null
$NODE --data $T/c init --org community:c --name 社区 --street-card $T/b/street.card --durability $DUR --web-bind "" >/dev/null
$BROKER --data $T/b org add --card $T/u/unit-u.card >/dev/null
$BROKER --data $T/b org add --card $T/c/community-c.card >/dev/null
$BROKER --data $T/b run 2>$T/b.log & pids+=($!); BPID=$!
$NODE --data $T/u run 2>$T/u.log & pids+=($!); UPID=$!
$NODE --data $T/c run 2>$T/c.log & pids+=($!); CPID=$!
$CLI --data $T/u sync-wait --timeout 30; $CLI --data $T/c sync-wait --timeout 30
for i in $(seq 1 "$N"); do
    printf 'intro send --member M%06d --name 成员%d --community community:c --date 2026-03-01\n' "$i" "$i"
done > $T/load.txt
start=$(date +%s.%N)
$CLI --data $T/u batch $T/load.txt >/dev/null
appended=$(date +%s.%N)
$CLI --data $T/u sync-wait --timeout 600
$CLI --data $T/c sync-wait --timeout 600
done_t=$(date +%s.%N)
got=$($CLI --data $T/c status --json | jq '.counters.applied')
rss() { awk '/VmHWM/ {print int($2/1024)}' /proc/$1/status; }
python3 - "$N" "$start" "$appended" "$done_t" "$got" "$(rss $BPID)" "$(rss $UPID)" "$(rss $CPID)" "$DUR" <<'PY'
import sys
n, s, a, d, got, rb, ru, rc, dur = sys.argv[1:]
n, s, a, d = int(n), float(s), float(a), float(d)
print(f"| events | durability | append s | end-to-end s | events/s (applied+confirmed) | applied | broker peak RSS MiB | unit MiB | community MiB |")
print(f"|---|---|---|---|---|---|---|---|---|")
print(f"| {n} | {dur} | {a-s:.2f} | {d-s:.2f} | {n/(d-s):,.0f} | {got} | {rb} | {ru} | {rc} |")
PY
