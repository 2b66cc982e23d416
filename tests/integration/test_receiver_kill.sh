#!/usr/bin/env bash
# SIGKILL of the receiver while it applies a large inbox. The unit writes 10,000
# introductions while community:c1 is down; c1 then starts and, as it works through its
# inbox, is killed with SIGKILL three times at different points (chosen by polling its
# inbox_cursor) and restarted each time. The broker runs with a small delivery window so
# that the inbox arrives in many DELIVER/CONFIRM rounds and each kill lands mid-inbox.
# Afterwards c1 has every member exactly once, no event applied twice (each record holds
# one event), the cursor never went backwards, and the records equal the unit's.
. "$(dirname "$0")/lib.sh" "$@"

N=10000
DIRECTORY=2 # the directory stream's entries (not in the inbox)
BROKER_WINDOW=10

init_street 1 1
start br
start u1
wait_ready u1

log "unit:u1 writes $N introductions while community:c1 is down"
write_intros "$T/c1.txt" 1 "$N" community:c1
run_ok cli u1 batch "$T/c1.txt" >/dev/null
sync_wait u1 120
assert_eq "$N" "$(broker_peer .inbox_head community:c1)" "broker inbox head of c1"

start c1
last=0
kills=0
for at in 2000 5000 8000; do
    # tight poll: c1 applies a few thousand events a second
    cursor=0
    end=$(($(date +%s%N) + 60 * 1000000000))
    while [ "$cursor" -lt "$at" ]; do
        [ "$(date +%s%N)" -lt "$end" ] || fail "c1's inbox cursor never reached $at"
        cursor=$(json_get c1 .inbox_cursor 2>/dev/null || echo 0)
    done
    kill9 c1
    kills=$((kills + 1))
    log "kill $kills: SIGKILL community:c1 at inbox_cursor=$cursor (target $at)"
    if [ "$cursor" -ge "$N" ]; then
        log "note: c1 had applied its whole inbox before kill $kills landed (weak run)"
    fi
    start c1
    now=$(json_get c1 .inbox_cursor)
    assert_ge "$now" "$cursor" "c1 inbox cursor after restart $kills (it was $cursor before)"
    assert_ge "$now" "$last" "c1 inbox cursor never goes backwards"
    last=$now
done

sync_wait c1 120
s=$(cli c1 status --json)
assert_eq "$N" "$(jq .inbox_cursor <<<"$s")" "c1 inbox cursor at the end"
assert_eq "$DIRECTORY" "$(jq .directory_cursor <<<"$s")" "c1 directory cursor at the end"
assert_eq 0 "$(jq '.counters.forks + .counters.rejected' <<<"$s")" "c1 forks+rejected"
assert_eq "$N" "$(broker_peer .confirmed community:c1)" "broker: c1 confirmed"

log "community:c1 has each member exactly once"
cli c1 members --json >"$T/c1.members"
cli u1 members --json >"$T/u1.members"
assert_eq "$N" "$(jq length "$T/c1.members")" "members of community:c1"
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++) printf "M%05d\n", i }' >"$T/expected"
jq -r '.[].member' "$T/c1.members" | sort >"$T/got"
cmp -s "$T/expected" "$T/got" || fail "c1 member ids differ: $(diff "$T/expected" "$T/got" | head -5)"
diffs=$(jq -n --slurpfile u "$T/u1.members" --slurpfile c "$T/c1.members" '
    ($u[0] | map({(.member): .digest}) | add) as $ud
    | [$c[0][] | select($ud[.member] != .digest) | .member] | length')
assert_eq 0 "$diffs" "c1 members whose digest differs from the unit's"

log "no event applied twice: sampled records hold exactly one event"
for i in 1 2 1999 2000 2001 4999 5000 5001 7999 8000 8001 9999 10000 \
    $((RANDOM % N + 1)) $((RANDOM % N + 1)) $((RANDOM % N + 1)) $((RANDOM % N + 1)); do
    m=$(printf 'M%05d' "$i")
    d=$(run_ok cli c1 digest --member "$m" --json)
    assert_eq 1 "$(jq .events <<<"$d")" "events in c1's record of $m"
    assert_eq "$(member_digest u1 "$m")" "$(jq -r .digest <<<"$d")" "digest of $m: unit vs c1"
    assert_eq "$(jq -r .digest <<<"$d")" "$(broker_digest "$m")" "digest of $m: c1 vs broker"
done

stop c1
stop u1
stop br
