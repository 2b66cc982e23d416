#!/usr/bin/env bash
# Roster import benchmark: rows/s of `dualsync import members` on a unit for a generated
# roster (default 10,000 rows), through the real CLI and daemons: the import itself (rows
# appended to the unit's log, chunks of 500), the end to end time until the community has
# applied every introduction, and a second run of the same file (every row already
# present: nothing written). Then, at the community that now holds every row: how long its
# read commands take (median of 5 runs each: tasks, the year's report, the same report each
# time after one member's report-in, the member list, one member, one page of tasks as the
# console asks for it) and the nodes' resident memory
# once idle (issue 12's "community of 100,000 members" and "idle node" rows). Prints
# tables; asserts nothing.
# Usage: tests/bench/bench_import.sh [BUILD_DIR] [ROWS] [DURABILITY]
# DS_BENCH_CLI=PATH uses another CLI than BUILD_DIR's (an older build's daemons timed with
# today's commands, e.g. `tasks --limit`, which older CLIs do not take).
set -euo pipefail
BIN=${1:-build/dev} N=${2:-10000} DUR=${3:-fsync}
BROKER=$BIN/broker/dualsync-broker NODE=$BIN/node/dualsync-node CLI=${DS_BENCH_CLI:-$BIN/node/dualsync}
T=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$T"' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
$BROKER --data $T/b init --street street:bench --name 测试街道 --bind tcp://127.0.0.1:$PORT --durability $DUR --web-bind "" >/dev/null
$NODE --data $T/u init --org unit:u --name 单位 --street-card $T/b/street.card --durability $DUR --web-bind "" >/dev/null
$NODE --data $T/c init --org community:c --name 社区 --street-card $T/b/street.card --durability $DUR --web-bind "" >/dev/null
$BROKER --data $T/b org add --card $T/u/unit-u.card >/dev/null
$BROKER --data $T/b org add --card $T/c/community-c.card >/dev/null
$BROKER --data $T/b run 2>$T/b.log & pids+=($!)
$NODE --data $T/u run 2>$T/u.log & pids+=($!)
$NODE --data $T/c run 2>$T/c.log & pids+=($!)
$CLI --data $T/u sync-wait --timeout 30; $CLI --data $T/c sync-wait --timeout 30
# A roster as a unit exports it: Chinese header, every column filled.
{
    printf '党员编号,姓名,居住社区,联系方式,报到期限,日期\r\n'
    awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++)
        printf "DY-%06d,党员%d,community:c,1380000%04d,30,2026-03-01\r\n", i, i, i % 10000 }'
} >$T/roster.csv
now() { date +%s.%N; }
t0=$(now)
$CLI --data $T/u import members $T/roster.csv --json >$T/first.json
t1=$(now)
$CLI --data $T/u sync-wait --timeout 600
$CLI --data $T/c sync-wait --timeout 600
t2=$(now)
# The broker checks signatures behind its ACK (broker/sigaudit.c): how many it still had
# to check when the community had everything, and how long until it had checked them all.
audit_behind() { $BROKER --data $T/b status --json | jq '.signature_audit.behind'; }
behind_at_t2=$(audit_behind)
for _ in $(seq 6000); do [ "$(audit_behind)" = 0 ] && break; sleep 0.1; done
t_audit=$(now)
$CLI --data $T/u import members $T/roster.csv --json >$T/again.json
t3=$(now)
applied=$($CLI --data $T/c members --json | jq length)
# Each read command 5 times, the median: rows of command, median s, max s.
reads() {
    local label=$1; shift
    python3 - "$label" "$@" <<'PY'
import statistics, subprocess, sys, time
label, cmd = sys.argv[1], sys.argv[2:]
runs = []
for _ in range(5):
    t = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    runs.append(time.monotonic() - t)
print(f"| `{label}` | {statistics.median(runs):.3f} | {max(runs):.3f} |")
PY
}
# The same, each run right after one member's report-in at the community (untimed): the
# report then rereads one changed record, not all of them (node/annual.c).
reads_after_report_in() {
    python3 - "$CLI" "$T/c" <<'PY'
import statistics, subprocess, sys, time
cli, data = sys.argv[1:]
runs = []
for i in range(5):
    subprocess.run([cli, "--data", data, "report", "--member", f"DY-{i + 1:06d}",
                    "--date", "2026-03-05"], check=True, stdout=subprocess.DEVNULL)
    t = time.monotonic()
    subprocess.run([cli, "--data", data, "report", "--year", "2026", "--json"], check=True,
                   stdout=subprocess.DEVNULL)
    runs.append(time.monotonic() - t)
print(f"| `report --year 2026 --json`, each after a report-in | {statistics.median(runs):.3f} | {max(runs):.3f} |")
PY
}
# resident, and of it the process's own (anonymous) memory: the rest is shared library code
rss() { awk '/VmRSS/ {r = $2} /RssAnon/ {a = $2} END {printf "%.1f MiB (own %.1f)", r / 1024, a / 1024}' "/proc/$1/status"; }
python3 - "$N" "$t0" "$t1" "$t2" "$t3" "$DUR" "$applied" "$T/first.json" "$T/again.json" \
    "$t_audit" "$behind_at_t2" <<'PY'
import json, sys
n, t0, t1, t2, t3, dur, applied, first, again, ta, behind = sys.argv[1:]
n, t0, t1, t2, t3, ta = int(n), float(t0), float(t1), float(t2), float(t3), float(ta)
f, a = json.load(open(first)), json.load(open(again))
print("| rows | durability | import s | rows/s imported | end-to-end s | rows/s at the community | re-run s | rows/s re-run (all skipped) |")
print("|---|---|---|---|---|---|---|---|")
print(f"| {n} | {dur} | {t1-t0:.2f} | {n/(t1-t0):,.0f} | {t2-t0:.2f} | {n/(t2-t0):,.0f} | {t3-ta:.2f} | {n/(t3-ta):,.0f} |")
print(f"first run: imported {f['imported']}, skipped {f['skipped']}, bad {len(f['bad'])}; "
      f"re-run: imported {a['imported']}, skipped {a['skipped']}; community members {applied}")
print(f"broker's signature audit: {behind} letters not yet checked when the community had them "
      f"all; all checked {ta-t2:.2f} s later")
PY
echo
echo "At the community holding them (median and slowest of 5 runs, seconds):"
echo "| command | median s | max s |"
echo "|---|---|---|"
reads "tasks --json" $CLI --data $T/c tasks --json
reads "tasks --json --limit 100 --offset 5000" $CLI --data $T/c tasks --json --limit 100 --offset 5000
reads "report --year 2026 --json" $CLI --data $T/c report --year 2026 --json
reads_after_report_in
reads "members --json" $CLI --data $T/c members --json
reads "member show DY-000001 --json" $CLI --data $T/c member show DY-000001 --json
reads "status --json" $CLI --data $T/c status --json
# idle: past EVENTLOG_REST_AFTER_MS (30 s) and NODE_TASKS_KEEP_MS (60 s), when daemons give
# memory back (flushed memtables, the block cache, the kept task list)
sleep 65
echo
echo "Resident memory once idle: unit $(rss "${pids[1]}"), community $(rss "${pids[2]}"), broker $(rss "${pids[0]}")"
