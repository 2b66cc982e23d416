#!/usr/bin/env bash
# Bad input on the broker's port while a unit and a community sync. garbage.py sends
# (1) 200 plain TCP connections of random bytes, truncated and malformed ZMTP greetings,
# bogus CURVE handshakes, commands and frames that claim huge sizes, over 8 MiB of junk,
# idle connections; and (2) as an authenticated CURVE client holding unit:u2's keys,
# malformed, contradictory, wrong-direction, badly signed, too big and multipart frames.
# The broker must stay up, count what it refused, store nothing of it, and keep serving:
# the stream written meanwhile arrives whole, a later letter arrives, and the real
# unit:u2 (whose keys the garbage used) gets its inbox intact.
. "$(dirname "$0")/lib.sh" "$@"

HERE=$(cd "$(dirname "$0")" && pwd)
N=2000
DIRECTORY=3

init_street 2 1
start br
start u1
start c1
wait_ready u1 c1
brpid=$(pid_of br)

for ((i = 1; i <= N; i += 500)); do
    write_intros "$T/s.$i.txt" "$i" $((i + 499)) community:c1
done
log "unit:u1 streams $N introductions to community:c1 in the background"
(
    for ((i = 1; i <= N; i += 500)); do
        cli u1 batch "$T/s.$i.txt" || exit 1
    done
) >"$T/writer.out" 2>&1 &
writer=$!

log "phase 1: 200 unauthenticated connections of garbage"
out=$(python3 "$HERE/garbage.py" raw 127.0.0.1 "$PORT" 200 "${SEED:-$RANDOM}") ||
    fail "garbage.py raw failed: $out"
log "sent: $out"
kill -0 "$brpid" 2>/dev/null || fail "broker died during the unauthenticated garbage"

log "phase 2: authenticated garbage with unit:u2's keys"
server_key=$(sed -n 's/^curve_key = //p' "$T/br/street.card")
u2_key=$(sed -n 's/^curve_key = //p' "$T/u2/unit-u2.card")
out=$(python3 "$HERE/garbage.py" authd "tcp://127.0.0.1:$PORT" "$server_key" "$u2_key" \
    "$T/u2/keys/curve.secret" unit:u2 "${SEED:-$RANDOM}") || fail "garbage.py authd failed: $out"
log "sent: $out"
kill -0 "$brpid" 2>/dev/null || fail "broker died during the authenticated garbage"
assert_gt "$(jq .replies <<<"$out")" 0 "broker replies to the authenticated client"

wait "$writer" || fail "the background stream failed: $(cat "$T/writer.out")"
kill -0 "$brpid" 2>/dev/null || fail "broker died"
log "the broker answers and counted the bad frames"
s=$(run_ok broker status --json)
log "broker counters: $(jq -c .counters <<<"$s")"
assert_gt "$(jq '.counters.malformed + .counters.dropped_frames' <<<"$s")" 0 \
    "broker malformed+dropped_frames"
assert_gt "$(jq '.counters.rejected + .counters.org_mismatch' <<<"$s")" 0 \
    "broker rejected+org_mismatch"
assert_eq 0 "$(jq '.counters.forks' <<<"$s")" "broker forks"
assert_eq 0 "$(jq '.peers[] | select(.org == "unit:u2") | .stored_upto' <<<"$s")" \
    "broker stored_upto of unit:u2 (nothing of the garbage is stored)"

log "the stream arrived whole"
sync_wait u1 120
sync_wait c1 120
assert_eq "$N" "$(member_count c1)" "members of community:c1"
assert_eq "$N" "$(json_get u1 .acked)" "unit acked"
assert_eq 0 "$(json_get c1 '.counters.forks + .counters.rejected')" "c1 forks+rejected"

log "a letter written after the garbage arrives"
run_ok cli u1 intro send --member AFTER-1 --name 后来 --community community:c1 >/dev/null
sync_wait u1
sync_wait c1
assert_eq "$(member_digest u1 AFTER-1)" "$(member_digest c1 AFTER-1)" "AFTER-1 unit vs community"
assert_eq "$(member_digest u1 AFTER-1)" "$(broker_digest AFTER-1)" "AFTER-1 unit vs broker"

log "the real unit:u2 gets in and receives its inbox intact"
start u2
wait_ready u2
sync_wait u2 30
s=$(cli u2 status --json)
assert_eq "$DIRECTORY" "$(jq .directory_cursor <<<"$s")" "u2 directory cursor"
assert_eq 0 "$(jq .inbox_cursor <<<"$s")" "u2 inbox cursor (nothing but the directory was for it)"
assert_eq "$DIRECTORY" "$(jq .counters.applied <<<"$s")" "u2 events applied (the directory)"
assert_eq "$DIRECTORY" "$(jq .orgs_known <<<"$s")" "u2 orgs known"
assert_eq 0 "$(jq .own_seq <<<"$s")" "u2 own_seq"
assert_eq 0 "$(member_count u2)" "u2 members"
run_ok cli u2 intro send --member U2-1 --name 二号 --community community:c1 >/dev/null
sync_wait u2
sync_wait c1
assert_eq "$(member_digest u2 U2-1)" "$(member_digest c1 U2-1)" "U2-1 unit:u2 vs community"
kill -0 "$brpid" 2>/dev/null || fail "broker died"

stop u2
stop c1
stop u1
stop br
