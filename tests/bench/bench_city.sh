#!/usr/bin/env bash
# Cross-street benchmark (issue 13): a unit imports a roster of N members (default 10,000)
# who live in one community, and the time is taken from the start of the import until the
# community has applied every introduction. Three layouts, measured in the same run on the
# same machine:
#   same     the community in the unit's own street (one broker);
#   direct   the community in another street, the two brokers linked;
#   hub      the community in another street, both streets linked only with a hub.
# Then, for each layout, the community's report-ins of all N members back to the unit
# (a batch of N lines, chunks of 500), timed from the batch's start until the unit holds
# every report-in. Both times include the writes on the node (import, batch) and the
# polling of `members --json` every 0.2 s. The
# brokers' resident memory once idle is printed too. Prints a table; asserts nothing.
# Usage: tests/bench/bench_city.sh [BUILD_DIR] [N] [DURABILITY]
set -euo pipefail
BIN=${1:-build/dev} N=${2:-10000} DUR=${3:-fsync}
BROKER=$BIN/broker/dualsync-broker NODE=$BIN/node/dualsync-node CLI=$BIN/node/dualsync
T=$(mktemp -d)
pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=(); }
trap 'stop; rm -rf "$T"' EXIT
now() { date +%s.%N; }
. "$(dirname "$0")/city_common.sh" # broker_init, node_init, link
rss_mib() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
count() { $CLI --data "$1" members --json | jq "$2"; }
wait_count() { # NODEDIR JQ N
    while [ "$(count "$1" "$2")" -lt "$3" ]; do sleep 0.2; done
}

# A roster: Chinese header, every column filled, every member living in community:c.
{
    printf '党员编号,姓名,居住社区,联系方式,报到期限,日期\r\n'
    awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++)
        printf "DY-%06d,党员%d,community:c,1380000%04d,30,2026-03-01\r\n", i, i, i % 10000 }'
} >"$T/roster.csv"
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++)
    printf "report --member DY-%06d --date 2026-03-05\n", i }' >"$T/reports.txt"

run_layout() { # NAME
    local L=$T/$1 b
    mkdir -p "$L"
    broker_init "$L/a" street:a
    node_init "$L/u" unit:u "$L/a"
    case $1 in
    same) node_init "$L/c" community:c "$L/a" ;;
    direct)
        broker_init "$L/b" street:b
        node_init "$L/c" community:c "$L/b"
        link "$L/a" "$L/b"
        ;;
    hub)
        broker_init "$L/b" street:b
        broker_init "$L/h" street:h --hub
        node_init "$L/c" community:c "$L/b"
        link "$L/a" "$L/h"
        link "$L/b" "$L/h"
        ;;
    esac
    local brokers=()
    for b in a b h; do
        [ -d "$L/$b" ] || continue
        $BROKER --data "$L/$b" run 2>"$L/$b.log" &
        pids+=($!)
        brokers+=("$b:$!")
    done
    $NODE --data "$L/u" run 2>"$L/u.log" & pids+=($!)
    $NODE --data "$L/c" run 2>"$L/c.log" & pids+=($!)
    $CLI --data "$L/u" sync-wait --timeout 30 >/dev/null
    $CLI --data "$L/c" sync-wait --timeout 30 >/dev/null
    until $CLI --data "$L/u" orgs --json | jq -e '.[] | select(.org == "community:c")' >/dev/null; do
        sleep 0.1
    done
    local t0 t1 t2 t3
    t0=$(now)
    $CLI --data "$L/u" import members "$T/roster.csv" >/dev/null
    wait_count "$L/c" length "$N"
    t1=$(now)
    t2=$(now)
    $CLI --data "$L/c" batch "$T/reports.txt" >/dev/null
    wait_count "$L/u" '[.[] | select(.reported)] | length' "$N"
    t3=$(now)
    local mem=""
    for b in "${brokers[@]}"; do mem+="${b%%:*}=$(rss_mib "${b#*:}") "; done
    printf '%-7s %8d %14.2f %10.0f %14.2f %10.0f   %s\n' "$1" "$N" "$(echo "$t1 - $t0" | bc)" \
        "$(echo "$N / ($t1 - $t0)" | bc -l)" "$(echo "$t3 - $t2" | bc)" \
        "$(echo "$N / ($t3 - $t2)" | bc -l)" "$mem"
    stop
}

printf '%-7s %8s %14s %10s %14s %10s   %s\n' layout members "intros (s)" "/s" "report-ins (s)" "/s" \
    "broker RSS MiB"
for layout in same direct hub; do run_layout "$layout"; done
