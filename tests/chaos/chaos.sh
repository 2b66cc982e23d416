#!/usr/bin/env bash
# The chaos test: a real street (one broker, 3 units, 2 communities on loopback) under a
# bounded load while every process drops, duplicates, delays and reorders 10% of its
# outgoing frames each (DS_CHAOS), the broker and random nodes are SIGKILLed and
# restarted at random instants, and nodes are frozen (SIGSTOP) to cut their links for a
# while. Then everything heals (faults off, all processes up) and the test checks:
#   - events lost: every event any node wrote is stored at the broker (must be 0);
#   - every member introduced is in its community, and its record digest is equal on the
#     unit, the community and the broker (a double apply would change the digest);
#   - no fork anywhere;
# and prints events written, kills and freezes survived, frames dropped / duplicated /
# reordered / delayed, and the time to converge after healing.
# Usage: chaos.sh BUILD_DIR [--seconds N | --minutes N] [--seed S]
# The seed drives every decision of this script and of the fault injection, so a seed
# reproduces a run's schedule (the operating system's interleaving aside).
BUILD=${1:?usage: chaos.sh BUILD_DIR [--seconds N|--minutes N] [--seed S]}
shift
SECONDS_TOTAL=90 SEED=$(( $(date +%s) % 100000 ))
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) SECONDS_TOTAL=$2; shift 2 ;;
    --minutes) SECONDS_TOTAL=$(( $2 * 60 )); shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
. "$(dirname "$0")/../integration/lib.sh" "$BUILD"
RANDOM=$SEED
log "seed=$SEED chaos for ${SECONDS_TOTAL}s (reproduce with --seed $SEED)"

UNITS=(u1 u2 u3) COMMUNITIES=(c1 c2) NODES=(u1 u2 u3 c1 c2)
declare -A NEXT_MEMBER=() FROZEN=() CHAOS_SUM=()
KILLS=0 FREEZES=0 ACCEPTED=0

init_street 3 2
chaos_env() { # INDEX: a DS_CHAOS spec with this process's own seed
    echo "drop=0.1,dup=0.1,reorder=0.1,delay=0.1,seed=$((SEED * 16 + $1))"
}
start_chaotic() { # NAME INDEX
    DS_CHAOS=$(chaos_env "$2") start "$1"
}
index_of() { case "$1" in br) echo 0 ;; u1) echo 1 ;; u2) echo 2 ;; u3) echo 3 ;; c1) echo 4 ;; *) echo 5 ;; esac; }

start_chaotic br 0
for n in "${NODES[@]}"; do start_chaotic "$n" "$(index_of "$n")"; done

q() { timeout 5 "$@" 2>/dev/null; } # a CLI call that may fail while processes die

# Adds the fault counters a process reported to the running sums (before it dies).
sample_chaos() { # NAME
    local s
    if [ "$1" = br ]; then s=$(q "$BROKER_BIN" --data "$T/br" status --json) || return 0
    else s=$(q "$CLI_BIN" --data "$T/$1" status --json) || return 0; fi
    for k in dropped duplicated reordered delayed; do
        CHAOS_SUM[$1.$k]=$(jq -r ".chaos.$k // 0" <<<"$s")
    done
}
bank_chaos() { # NAME: a process is about to die: move its counters to the banked total
    local k
    sample_chaos "$1"
    for k in dropped duplicated reordered delayed; do
        CHAOS_SUM[bank.$k]=$(( ${CHAOS_SUM[bank.$k]:-0} + ${CHAOS_SUM[$1.$k]:-0} ))
        CHAOS_SUM[$1.$k]=0
    done
}

write_unit() { # a unit introduces 1..20 new members to a random community
    local u=${UNITS[RANDOM % 3]} c=${COMMUNITIES[RANDOM % 2]} k n=$((1 + RANDOM % 20))
    [ -z "${FROZEN[$u]:-}" ] && alive "$u" || return 0
    local first=${NEXT_MEMBER[$u]:-1} f="$T/load-$u.txt"
    : >"$f"
    for ((k = first; k < first + n; k++)); do
        printf 'intro send --member %s-%05d --name 党员%d --community community:%s\n' \
            "${u^^}" "$k" "$k" "$c" >>"$f"
    done
    if q "$CLI_BIN" --data "$T/$u" batch "$f" >/dev/null; then
        NEXT_MEMBER[$u]=$((first + n))
        ACCEPTED=$((ACCEPTED + n))
    fi
}

write_community() { # a community reports in, fills cards or sends feedback for some members
    local c=${COMMUNITIES[RANDOM % 2]} list f
    f="$T/load-$c.txt"
    [ -z "${FROZEN[$c]:-}" ] && alive "$c" || return 0
    list=$(q "$CLI_BIN" --data "$T/$c" members --json) || return 0
    case $((RANDOM % 3)) in
    0) jq -r '[.[] | select(.reported == false)][:10][] | "report --member \(.member) --date 2026-03-01"' <<<"$list" ;;
    1) jq -r '[.[] | select(.reported and (.card | not))][:10][] | "card set --member \(.member) --occupation 职员 --willingness 治安巡逻"' <<<"$list" ;;
    *) jq -r '[.[] | select(.card and .feedback == 0)][:5][] | "feedback send --member \(.member) --year 2026 --rating good --text 积极"' <<<"$list" ;;
    esac >"$f"
    [ -s "$f" ] || return 0
    if q "$CLI_BIN" --data "$T/$c" batch "$f" >/dev/null; then
        ACCEPTED=$((ACCEPTED + $(wc -l <"$f")))
    fi
}

fault() { # one random fault
    local victim
    case $((RANDOM % 3)) in
    0) victim=br ;;
    1) victim=${NODES[RANDOM % 5]} ;;
    *)  # freeze a node: its links are cut until it thaws
        victim=${NODES[RANDOM % 5]}
        if [ -z "${FROZEN[$victim]:-}" ] && alive "$victim"; then
            kill -STOP "$(pid_of "$victim")"
            FROZEN[$victim]=$(( $(date +%s) + 2 + RANDOM % 4 ))
            FREEZES=$((FREEZES + 1))
        fi
        return 0 ;;
    esac
    [ -z "${FROZEN[$victim]:-}" ] && alive "$victim" || return 0
    bank_chaos "$victim"
    kill9 "$victim"
    KILLS=$((KILLS + 1))
    sleep "0.$((RANDOM % 9 + 1))" # bounded downtime, part of the fault, not a wait
    start_chaotic "$victim" "$(index_of "$victim")"
}

thaw_due() {
    local n now=$(date +%s)
    for n in "${!FROZEN[@]}"; do
        if [ "${FROZEN[$n]}" -le "$now" ]; then
            kill -CONT "$(pid_of "$n")" 2>/dev/null || true
            unset "FROZEN[$n]"
        fi
    done
}

end=$(( $(date +%s) + SECONDS_TOTAL )) next_fault=$(( $(date +%s) + 3 ))
while [ "$(date +%s)" -lt "$end" ]; do
    write_unit
    write_community
    thaw_due
    if [ "$(date +%s)" -ge "$next_fault" ]; then
        fault
        next_fault=$(( $(date +%s) + 2 + RANDOM % 5 ))
    fi
done

log "healing: thaw everything, restart every process without faults"
for n in "${!FROZEN[@]}"; do kill -CONT "$(pid_of "$n")" 2>/dev/null || true; done
FROZEN=()
for n in br "${NODES[@]}"; do bank_chaos "$n"; kill9 "$n"; done
heal_start=$(date +%s%N)
start br
for n in "${NODES[@]}"; do start "$n"; done

converged() {
    local n own stored
    for n in "${NODES[@]}"; do
        "$CLI_BIN" --data "$T/$n" sync-wait --timeout 2 >/dev/null 2>&1 || return 1
        own=$(json_get "$n" .own_seq)
        stored=$(broker_peer .stored_upto "${n/#u/unit:u}") || return 1
        stored=$(broker_peer .stored_upto "$(org_of "$n")")
        [ "$own" = "$stored" ] || return 1
    done
}
org_of() { case "$1" in u*) echo "unit:$1" ;; *) echo "community:$1" ;; esac; }
wait_for converged --deadline 120
converge_ms=$(( ($(date +%s%N) - heal_start) / 1000000 ))

log "checking"
written=0 lost=0
for n in "${NODES[@]}"; do
    own=$(json_get "$n" .own_seq)
    stored=$(broker_peer .stored_upto "$(org_of "$n")")
    written=$((written + own))
    lost=$((lost + own - stored))
    assert_eq 0 "$(json_get "$n" .counters.forks)" "forks on $n"
done
assert_eq 0 "$(json_get br .counters.forks)" "forks at the broker"
assert_ge "$written" "$ACCEPTED" "events in the logs >= events the CLI saw accepted"

# One pass: every member the units introduced, its digest on the unit, in its community
# and at the broker; a member missing on a side counts as a mismatch too.
broker digests --json | jq -r '.[] | "\(.member) \(.digest)"' | sort >"$T/b.dig"
for c in "${COMMUNITIES[@]}"; do cli "$c" members --json; done |
    jq -r '.[] | "\(.member) \(.digest)"' | sort >"$T/c.dig"
for u in "${UNITS[@]}"; do cli "$u" members --json; done |
    jq -r '.[] | "\(.member) \(.digest)"' | sort >"$T/u.dig"
members=$(wc -l <"$T/u.dig")
join "$T/u.dig" "$T/c.dig" | join - "$T/b.dig" >"$T/all.dig"
joined=$(wc -l <"$T/all.dig")
differ=$(awk '$2 != $3 || $3 != $4' "$T/all.dig" | tee "$T/differ.dig" | wc -l)
mismatch=$((differ + members - joined))
[ "$mismatch" -eq 0 ] || log "mismatching members: $(head -5 "$T/differ.dig" | tr '\n' ';')"

printf '\n== chaos run seed=%s ==\n' "$SEED"
printf 'seconds of chaos        %s\n' "$SECONDS_TOTAL"
printf 'events written          %s (accepted by the CLI: %s)\n' "$written" "$ACCEPTED"
printf 'members                 %s\n' "$members"
printf 'kills survived          %s\n' "$KILLS"
printf 'freezes (partitions)    %s\n' "$FREEZES"
printf 'frames dropped          %s\n' "${CHAOS_SUM[bank.dropped]:-0}"
printf 'frames duplicated       %s\n' "${CHAOS_SUM[bank.duplicated]:-0}"
printf 'frames reordered        %s\n' "${CHAOS_SUM[bank.reordered]:-0}"
printf 'frames delayed          %s\n' "${CHAOS_SUM[bank.delayed]:-0}"
printf 'converged after healing %s ms\n' "$converge_ms"
printf 'events lost             %s\n' "$lost"
printf 'double applies          %s (digest mismatches)\n' "$mismatch"
assert_eq 0 "$lost" "events lost"
assert_eq 0 "$mismatch" "members whose digests differ"
assert_gt "$members" 0 "members written"
log "ok"
