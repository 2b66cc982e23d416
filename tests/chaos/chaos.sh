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
# With --city the street gains a second street (broker brb, community c3) and a hub
# (hub) between them, as issue 13 has it: the units introduce members to c3 too, so their
# letters cross A -> hub -> B and back over links that drop, duplicate, delay and reorder
# their frames as well; the two other brokers are killed and frozen (a partition of the
# links) like the first. The checks add: c3's members are equal on the unit, c3, A's and
# B's broker, and the hub holds each with its personal fields empty (clear_digest).
# Usage: chaos.sh BUILD_DIR [--seconds N | --minutes N] [--seed S] [--city]
# The seed drives every decision of this script and of the fault injection, so a seed
# reproduces a run's schedule (the operating system's interleaving aside).
BUILD=${1:?usage: chaos.sh BUILD_DIR [--seconds N|--minutes N] [--seed S] [--city]}
shift
SECONDS_TOTAL=90 SEED=$(( $(date +%s) % 100000 )) CITY=0
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) SECONDS_TOTAL=$2; shift 2 ;;
    --minutes) SECONDS_TOTAL=$(( $2 * 60 )); shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --city) CITY=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
. "$(dirname "$0")/../integration/lib.sh" "$BUILD"
RANDOM=$SEED
log "seed=$SEED chaos for ${SECONDS_TOTAL}s (reproduce with --seed $SEED${CITY:+, city=$CITY})"

UNITS=(u1 u2 u3) COMMUNITIES=(c1 c2) NODES=(u1 u2 u3 c1 c2) BROKERS=(br)
declare -A NEXT_MEMBER=() FROZEN=() CHAOS_SUM=() BROKER_OF=()
KILLS=0 FREEZES=0 ACCEPTED=0

init_street 3 2
if [ "$CITY" = 1 ]; then # street B with community c3, and a hub; each street links with the hub
    init_other() { # NAME STREET DISPLAY [--hub]
        free_port
        run_ok "$BROKER_BIN" --data "$T/$1" init --street "$2" --name "$3" \
            --bind "tcp://127.0.0.1:$FREE_PORT" --durability "$DS_DURABILITY" --web-bind '' \
            ${4:-} >/dev/null
    }
    init_other brb street:xinhua 新华街道
    init_other hub street:city 市中转 --hub
    run_ok "$NODE_BIN" --data "$T/c3" init --org community:c3 --name 社区3 \
        --street-card "$T/brb/street.card" --durability "$DS_DURABILITY" --web-bind '' >/dev/null
    run_ok "$BROKER_BIN" --data "$T/brb" org add --card "$T/c3/community-c3.card" >/dev/null
    for s in br brb; do
        run_ok "$BROKER_BIN" --data "$T/hub" peer add --card "$T/$s/street.card" >/dev/null
        run_ok "$BROKER_BIN" --data "$T/$s" peer add --card "$T/hub/street.card" >/dev/null
    done
    COMMUNITIES+=(c3) NODES+=(c3) BROKERS+=(brb hub) BROKER_OF[c3]=brb
fi
broker_of() { echo "${BROKER_OF[$1]:-br}"; }
chaos_env() { # INDEX: a DS_CHAOS spec with this process's own seed
    echo "drop=0.1,dup=0.1,reorder=0.1,delay=0.1,seed=$((SEED * 16 + $1))"
}
start_chaotic() { # NAME INDEX
    DS_CHAOS=$(chaos_env "$2") start "$1"
}
index_of() {
    case "$1" in br) echo 0 ;; u1) echo 1 ;; u2) echo 2 ;; u3) echo 3 ;; c1) echo 4 ;; c2) echo 5 ;;
    c3) echo 6 ;; brb) echo 7 ;; *) echo 8 ;; esac
}

for b in "${BROKERS[@]}"; do start_chaotic "$b" "$(index_of "$b")"; done
for n in "${NODES[@]}"; do start_chaotic "$n" "$(index_of "$n")"; done

q() { timeout 5 "$@" 2>/dev/null; } # a CLI call that may fail while processes die

# Adds the fault counters a process reported to the running sums (before it dies).
sample_chaos() { # NAME
    local s
    if is_broker "$1"; then s=$(q "$BROKER_BIN" --data "$T/$1" status --json) || return 0
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
    local u=${UNITS[RANDOM % 3]} c=${COMMUNITIES[RANDOM % ${#COMMUNITIES[@]}]} k n=$((1 + RANDOM % 20))
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
    local c=${COMMUNITIES[RANDOM % ${#COMMUNITIES[@]}]} list f
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
    0) victim=${BROKERS[RANDOM % ${#BROKERS[@]}]} ;;
    1) victim=${NODES[RANDOM % ${#NODES[@]}]} ;;
    *)  # freeze a node (or another street's broker, or the hub): its links are cut until it thaws
        victim=${NODES[RANDOM % ${#NODES[@]}]}
        [ "$CITY" = 1 ] && [ $((RANDOM % 3)) = 0 ] && victim=${BROKERS[1 + RANDOM % 2]}
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
for n in "${BROKERS[@]}" "${NODES[@]}"; do bank_chaos "$n"; kill9 "$n"; done
heal_start=$(date +%s%N)
for b in "${BROKERS[@]}"; do start "$b"; done
for n in "${NODES[@]}"; do start "$n"; done

org_of() { case "$1" in u*) echo "unit:$1" ;; *) echo "community:$1" ;; esac; }
stored_of() { # NODE: its own events its street's broker holds
    json_get "$(broker_of "$1")" ".peers[] | select(.org == \"$(org_of "$1")\") | .stored_upto"
}
converged() {
    local n own stored
    for n in "${NODES[@]}"; do
        "$CLI_BIN" --data "$T/$n" sync-wait --timeout 2 >/dev/null 2>&1 || return 1
        own=$(json_get "$n" .own_seq)
        stored=$(stored_of "$n") || return 1
        [ "$own" = "$stored" ] || return 1
    done
}
wait_for converged --deadline 120

# Every member the units introduced, its digest on the unit, in its community and at A's
# broker (which holds every unit's members); for c3's, at B's broker too and, without the
# personal fields, at the hub. A member missing on a side counts as a mismatch.
digests_of() { # BROKER FIELD
    "$BROKER_BIN" --data "$T/$1" digests --json | jq -r ".[] | \"\(.member) \(.$2)\"" | sort
}
count_mismatch() {
    local members joined differ extra=0
    digests_of br digest >"$T/b.dig"
    for c in "${COMMUNITIES[@]}"; do cli "$c" members --json; done |
        jq -r '.[] | "\(.member) \(.digest)"' | sort >"$T/c.dig"
    for u in "${UNITS[@]}"; do cli "$u" members --json; done |
        jq -r '.[] | "\(.member) \(.digest)"' | sort >"$T/u.dig"
    members=$(wc -l <"$T/u.dig")
    join "$T/u.dig" "$T/c.dig" | join - "$T/b.dig" >"$T/all.dig"
    joined=$(wc -l <"$T/all.dig")
    differ=$(awk '$2 != $3 || $3 != $4' "$T/all.dig" | tee "$T/differ.dig" | wc -l)
    if [ "$CITY" = 1 ]; then # c3's members: B's broker, and the hub without personal fields
        cli c3 members --json | jq -r '.[] | "\(.member) \(.digest)"' | sort >"$T/c3.dig"
        digests_of brb digest | join "$T/c3.dig" - >"$T/c3b.dig"
        digests_of br clear_digest | join "$T/c3.dig" - | cut -d' ' -f1,3 >"$T/c3clear.dig"
        digests_of hub digest | join "$T/c3clear.dig" - >"$T/c3hub.dig"
        extra=$(( $(wc -l <"$T/c3.dig") * 2 - $(wc -l <"$T/c3b.dig") - $(wc -l <"$T/c3hub.dig") ))
        extra=$((extra + $(awk '$2 != $3' "$T/c3b.dig" "$T/c3hub.dig" | tee -a "$T/differ.dig" | wc -l)))
    fi
    echo $((differ + members - joined + extra))
}
no_mismatch() { [ "$(count_mismatch)" = 0 ]; }
# The links catch up after the nodes: letters across streets wait for both brokers.
if [ "$CITY" = 1 ]; then try_wait_for no_mismatch --deadline 120 || true; fi
converge_ms=$(( ($(date +%s%N) - heal_start) / 1000000 ))

log "checking"
written=0 lost=0
for n in "${NODES[@]}"; do
    own=$(json_get "$n" .own_seq)
    stored=$(stored_of "$n")
    written=$((written + own))
    lost=$((lost + own - stored))
    assert_eq 0 "$(json_get "$n" .counters.forks)" "forks on $n"
done
for b in "${BROKERS[@]}"; do assert_eq 0 "$(json_get "$b" .counters.forks)" "forks at $b"; done
if [ "$CITY" = 1 ]; then
    for b in "${BROKERS[@]}"; do
        assert_eq 0 "$("$BROKER_BIN" --data "$T/$b" peer list --json | jq '[.[] | .letters_refused + .entries_refused] | add')" \
            "letters or entries refused on $b's links"
    done
fi
assert_ge "$written" "$ACCEPTED" "events in the logs >= events the CLI saw accepted"
mismatch=$(count_mismatch)
members=$(wc -l <"$T/u.dig")
[ "$mismatch" -eq 0 ] || log "mismatching members: $(head -5 "$T/differ.dig" | tr '\n' ';')"

printf '\n== chaos run seed=%s ==\n' "$SEED"
printf 'seconds of chaos        %s\n' "$SECONDS_TOTAL"
printf 'events written          %s (accepted by the CLI: %s)\n' "$written" "$ACCEPTED"
printf 'members                 %s%s\n' "$members" \
    "$([ "$CITY" = 1 ] && echo " ($(wc -l <"$T/c3.dig") across streets, in c3)")"
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
