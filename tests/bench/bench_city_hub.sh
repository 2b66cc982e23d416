#!/usr/bin/env bash
# A city of many streets behind one hub (issue 13's scale figure), against the same city
# on one broker, measured in the same run on the same machine.
#   hub   S street brokers, each linked only with one hub; street i holds unit u<i> and
#         community c<i>. Unit u<i> introduces P members who all live in c<i+1> (the next
#         street's community, the last one's in c1), so every letter crosses the hub:
#         street i -> hub -> street i+1.
#   one   the same S units and S communities, the same introductions, on one broker.
# Every unit imports its roster at once (S imports in parallel), and the time runs from
# the start of the imports until every community has applied all P introductions (its
# inbox cursor, polled every 0.5 s). Printed per layout: the letters, the seconds, letters
# per second, and the resident memory of the hub (or the one broker) and the largest
# street broker once done. Real processes: S+1 brokers and 2S nodes share the machine's
# cores, so the figures are what the hub costs next to everything a city runs, not the
# hub alone. A street is a real broker with one unit and one community ("virtual" only in
# holding two orgs of its hundreds of units and communities).
# Usage: tests/bench/bench_city_hub.sh [BUILD_DIR] [STREETS] [PER_UNIT] [DURABILITY]
#        (defaults build/dev 100 2000 fsync: 200,000 introductions, the city-year's members)
set -euo pipefail
BIN=${1:-build/dev} S=${2:-100} P=${3:-2000} DUR=${4:-fsync}
BROKER=$BIN/broker/dualsync-broker NODE=$BIN/node/dualsync-node CLI=$BIN/node/dualsync
T=$(mktemp -d)
pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=(); }
trap 'stop; rm -rf "$T"' EXIT
ulimit -n 65536 2>/dev/null || true
now() { date +%s.%N; }
. "$(dirname "$0")/city_common.sh" # free_port, broker_init, node_init, link
rss_mib() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
next() { echo $(($1 % S + 1)); }
# Every wait has a deadline: a process that died (its log says why) ends the run.
DEADLINE_S=${DEADLINE_S:-900}
deadline=0
arm() { deadline=$(($(date +%s) + DEADLINE_S)); }
due() { # WHAT: gives up once the deadline passed
    if [ "$(date +%s)" -ge "$deadline" ]; then
        echo "bench_city_hub: gave up waiting for $1 after ${DEADLINE_S} s (logs in $T kept)" >&2
        trap - EXIT
        stop
        exit 1
    fi
}
applied() { # NODEDIR: the inbox entries it applied
    $CLI --data "$1" status --json 2>/dev/null | jq -r '.inbox_cursor // 0'
}

for i in $(seq "$S"); do # one roster per unit: P members living in the next street's community
    awk -v n="$P" -v u="$i" -v c="$(next "$i")" 'BEGIN {
        printf "党员编号,姓名,居住社区,联系方式,报到期限,日期\r\n"
        for (k = 1; k <= n; k++)
            printf "U%03d-%06d,党员%d,community:c%d,1380000%04d,30,2026-03-01\r\n", u, k, k, c, k % 10000
    }' >"$T/roster-$i.csv"
done

run_layout() { # NAME
    local L=$T/$1 i b t0 t1 done_n
    mkdir -p "$L"
    local t_setup
    t_setup=$(now)
    if [ "$1" = one ]; then
        broker_init "$L/a" street:a
    else
        broker_init "$L/h" street:h --hub
        for i in $(seq "$S"); do broker_init "$L/s$i" "street:s$i"; done
    fi
    for i in $(seq "$S"); do
        b=$L/a
        [ "$1" = one ] || b=$L/s$i
        node_init "$L/u$i" "unit:u$i" "$b"
        node_init "$L/c$i" "community:c$i" "$b"
        [ "$1" = one ] || link "$b" "$L/h"
    done
    local brokers=() hub_pid=""
    for b in "$L"/a "$L"/h "$L"/s*; do
        [ -d "$b" ] || continue
        $BROKER --data "$b" run 2>"$b.log" &
        pids+=($!)
        brokers+=("$(basename "$b"):$!")
        case $(basename "$b") in a | h) hub_pid=$! ;; esac
    done
    for i in $(seq "$S"); do
        $NODE --data "$L/u$i" run 2>"$L/u$i.log" & pids+=($!)
        $NODE --data "$L/c$i" run 2>"$L/c$i.log" & pids+=($!)
    done
    for i in $(seq "$S"); do
        $CLI --data "$L/u$i" sync-wait --timeout 120 >/dev/null
        $CLI --data "$L/c$i" sync-wait --timeout 120 >/dev/null
    done
    arm
    for i in $(seq "$S"); do # every unit knows the community its members live in
        until $CLI --data "$L/u$i" orgs --json |
            jq -e --arg c "community:c$(next "$i")" '.[] | select(.org == $c)' >/dev/null; do
            due "u$i to learn community:c$(next "$i")"
            sleep 0.2
        done
    done
    printf '%-4s set up in %.0f s (%d brokers, %d nodes)\n' "$1" "$(echo "$(now) - $t_setup" | bc)" \
        "${#brokers[@]}" $((2 * S)) >&2
    t0=$(now)
    for i in $(seq "$S"); do
        $CLI --data "$L/u$i" import members "$T/roster-$i.csv" >/dev/null &
    done
    arm
    while :; do
        due "the introductions to be applied"
        done_n=0
        for i in $(seq "$S"); do
            [ "$(applied "$L/c$i")" -ge "$P" ] && done_n=$((done_n + 1))
        done
        [ "$done_n" -eq "$S" ] && break
        sleep 0.5
    done
    t1=$(now)
    local street_max=0 mem
    for b in "${brokers[@]}"; do
        case ${b%%:*} in a | h) continue ;; esac
        mem=$(rss_mib "${b#*:}")
        [ "$mem" -gt "$street_max" ] && street_max=$mem
    done
    printf '%-4s %7d %8d %10.1f %9.0f %14s %18s\n' "$1" "$S" $((S * P)) "$(echo "$t1 - $t0" | bc)" \
        "$(echo "$S * $P / ($t1 - $t0)" | bc -l)" "$(rss_mib "$hub_pid")" \
        "$([ "$1" = one ] && echo - || echo "$street_max")"
    stop
    rm -rf "$L"
}

printf '%-4s %7s %8s %10s %9s %14s %18s\n' layout streets letters "seconds" "/s" \
    "hub|broker MiB" "largest street MiB"
for layout in hub one; do run_layout "$layout"; done
