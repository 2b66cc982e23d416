#!/usr/bin/env bash
# A cross-street stream survives crashes and a partition (issue 13): unit u1 of street A
# introduces 10,000 members to community c1 of street B, and c1 reports every one of them
# in. While B's broker takes the introductions it is SIGKILLed, restarted and frozen
# (SIGSTOP) for longer than a link's silence limit, and thawed; A's broker is killed as B
# starts to catch up, and again in the middle of the report-ins. Afterwards nothing is lost and nothing applied twice: the
# 10,000 records are equal (digest and event count) on the unit, the community and both
# brokers, and neither link refused a letter.
. "$(dirname "$0")/lib.sh" "$@"

N=10000
B_STREET=street:xinhua
brb() { "$BROKER_BIN" --data "$T/brb" "$@"; }
start_brb() {
    echo "=== start $(date +%T.%N) ===" >>"$T/brb.log"
    rm -f "$T/brb/endpoint"
    "$BROKER_BIN" --data "$T/brb" run >>"$T/brb.log" 2>&1 &
    PIDS[brb]=$!
    wait_for test -s "$T/brb/endpoint" --deadline 20
}
# taken BROKERFN: the letters the link of BROKERFN has taken and stored in all (its durable
# inbox cursor at the other street: one entry per letter)
taken() { "$1" peer list --json | jq -r '.[0].inbox_cursor'; }
taken_ge() { local v; v=$(taken "$1") && [ "$v" -ge "$2" ]; }
wait_taken() { wait_for taken_ge "$1" "$2" --deadline 120; }

init_broker
init_node u1 unit:u1 单位1 add
free_port
run_ok brb init --street "$B_STREET" --name 新华街道 --bind "tcp://127.0.0.1:$FREE_PORT" \
    --durability "$DS_DURABILITY" --web-bind '' >/dev/null
run_ok "$NODE_BIN" --data "$T/c1" init --org community:c1 --name 社区1 \
    --street-card "$T/brb/street.card" --durability "$DS_DURABILITY" --web-bind '' >/dev/null
run_ok brb org add --card "$T/c1/community-c1.card" >/dev/null
run_ok broker peer add --card "$T/brb/street.card" >/dev/null
run_ok brb peer add --card "$T/br/street.card" >/dev/null
start br
start_brb
start u1
start c1
wait_ready u1 c1
has_community() { cli u1 orgs --json | jq -e '.[] | select(.org == "community:c1")' >/dev/null; }
wait_for has_community --deadline 30

for ((i = 1; i <= N; i += 500)); do
    write_intros "$T/intro.$i.txt" "$i" $((i + 499)) community:c1
    awk -v a="$i" 'BEGIN { for (k = a; k < a + 500; k++)
        printf "report --member M%05d --date 2026-11-20\n", k }' >"$T/report.$i.txt"
done
batches() { # NODE KIND: every batch file of KIND, one after another
    local i
    for ((i = 1; i <= N; i += 500)); do cli "$1" batch "$T/$2.$i.txt" >/dev/null || return 1; done
}

log "u1 writes $N introductions to c1 of the other street; B's broker killed mid-stream"
batches u1 intro >"$T/intro.out" 2>&1 &
writer=$!
wait_taken brb 2000
kill9 brb
log "B killed after taking $(taken brb) letters"
start_brb
kill -STOP "$(pid_of brb)" # as it comes back: the rest of the stream waits at A
log "B restarted and frozen for 20 s (the link's silence limit is 15 s)"
sleep_until() { [ "$(date +%s)" -ge "$1" ]; }
wait_for sleep_until $(($(date +%s) + 20)) --deadline 30
kill -CONT "$(pid_of brb)"
kill9 br # while B catches up
log "B thawed, A killed at once; restarted"
start br
wait "$writer" || fail "the introductions' batches failed: $(cat "$T/intro.out")"
assert_eq "$N" "$(own_seq u1)" "u1 wrote every introduction"
all_members() { [ "$(cli c1 members --json | jq length)" -eq "$N" ]; }
wait_for all_members --deadline 180

log "c1 reports every member in; A's broker killed mid-stream"
batches c1 report >"$T/report.out" 2>&1 &
writer=$!
wait_taken broker 3000
kill9 br
start br
wait "$writer" || fail "the report-ins' batches failed: $(cat "$T/report.out")"
all_reported() {
    [ "$(cli u1 members --json | jq '[.[] | select(.reported)] | length')" -eq "$N" ]
}
wait_for all_reported --deadline 180

log "every record equal on both nodes and both brokers"
node_digests() { cli "$1" members --json | jq -cS '[.[] | {member, digest}] | sort_by(.member)'; }
broker_digests() { "$1" digests --json | jq -cS '[.[] | {member, digest}] | sort_by(.member)'; }
same_everywhere() {
    local d
    d=$(node_digests u1)
    [ "$(jq length <<<"$d")" -eq "$N" ] && [ "$d" = "$(node_digests c1)" ] &&
        [ "$d" = "$(broker_digests broker)" ] && [ "$d" = "$(broker_digests brb)" ]
}
wait_for same_everywhere --deadline 120
events=$(brb digests --json | jq '[.[] | .events] | unique | join(",")' -r)
assert_eq 2 "$events" "every record holds its two letters, none twice"
assert_eq 0 "$(brb peer list --json | jq '.[0].letters_refused')" "B refused no letter"
assert_eq 0 "$(broker peer list --json | jq '.[0].letters_refused')" "A refused no letter"
assert_eq "$N" "$(taken brb)" "B's link took every introduction"
assert_eq "$N" "$(taken broker)" "A's link took every report-in"
log "PASS"
