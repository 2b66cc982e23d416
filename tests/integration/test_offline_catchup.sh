#!/usr/bin/env bash
# Offline catch-up: while community:c1 is stopped (and community:c2 has never run), the
# unit writes 10,000 introductions to c1 and 500 to c2. The broker keeps them in the
# communities' inboxes; when the communities start, they catch up completely, each event
# applied once, and their records equal the unit's.
. "$(dirname "$0")/lib.sh" "$@"

N=10000
N2=500
DIRECTORY=3 # one directory entry per org: the directory stream, not in the inboxes

init_street 1 2
start br
start u1
start c1
wait_ready u1 c1
sync_wait c1
wait_for json_is br '.peers[] | select(.org == "community:c1") | .directory_confirmed' "$DIRECTORY"
stop c1

log "community:c1 stopped; unit:u1 writes $N introductions to it and $N2 to community:c2"
write_intros "$T/c1.txt" 1 "$N" community:c1
write_intros "$T/c2.txt" $((N + 1)) $((N + N2)) community:c2
out=$(run_ok cli u1 batch "$T/c1.txt")
assert_contains "$out" "$N" "batch output names the number of accepted commands"
run_ok cli u1 batch "$T/c2.txt" >/dev/null
sync_wait u1 120
assert_eq $((N + N2)) "$(json_get u1 .acked)" "unit acked"

# The broker holds the letters for the absent communities (the directory is one stream).
assert_eq false "$(broker_peer .connected community:c1)" "broker sees c1 disconnected"
assert_eq "$N" "$(broker_peer .inbox_head community:c1)" "broker inbox head of c1"
assert_eq "$N2" "$(broker_peer .inbox_head community:c2)" "broker inbox head of c2"
# The street still knows how far the silent community got, so it sees how long it lags.
assert_eq 0 "$(broker_peer .confirmed community:c1)" "c1's cursor as the broker knows it"
assert_contains "$(broker_peer '.lag_ms | type' community:c1)" number "c1's lag while it is away"
assert_contains "$(broker_peer '.lag_ms | type' community:c2)" number "c2's lag (it never ran)"

log "communities start and catch up"
start c1
start c2
sync_wait c1 120
sync_wait c2 60
s=$(cli c1 status --json)
assert_eq "$N" "$(jq .inbox_cursor <<<"$s")" "c1 inbox cursor"
assert_eq "$DIRECTORY" "$(jq .directory_cursor <<<"$s")" "c1 directory cursor"
assert_eq 0 "$(jq .pending <<<"$s")" "c1 pending"
# c1's counters restarted with its process: only the letters were new to it.
assert_eq "$N" "$(jq .counters.applied <<<"$s")" "events applied by c1 after its restart"
assert_eq 0 "$(jq '.counters.forks + .counters.rejected' <<<"$s")" "c1 forks+rejected"
assert_eq $((N2 + DIRECTORY)) "$(json_get c2 .counters.applied)" "events applied by c2 (first start)"
# The broker counts what each community confirmed and tells the unit (its receipts).
wait_for json_is u1 '.receipts["community:c1"]' "$N" --deadline 30
wait_for json_is u1 '.receipts["community:c2"]' $((N + N2)) --deadline 30
assert_eq 0 "$(broker_peer .lag_ms community:c1)" "c1's lag once caught up"

cli c1 members --json >"$T/c1.members"
cli c2 members --json >"$T/c2.members"
cli u1 members --json >"$T/u1.members"
assert_eq "$N" "$(jq length "$T/c1.members")" "members of community:c1"
assert_eq "$N2" "$(jq length "$T/c2.members")" "members of community:c2"
assert_eq $((N + N2)) "$(jq length "$T/u1.members")" "members of unit:u1"
assert_eq "$N" "$(jq '[.[].member] | unique | length' "$T/c1.members")" "distinct members of c1"
assert_eq 0 "$(jq '[.[] | select(.community != "community:c1")] | length' "$T/c1.members")" \
    "c1 members registered elsewhere"
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++) printf "M%05d\n", i }' >"$T/expected"
jq -r '.[].member' "$T/c1.members" | sort >"$T/got"
cmp -s "$T/expected" "$T/got" || fail "c1 member ids differ: $(diff "$T/expected" "$T/got" | head -5)"

log "every record equals the unit's"
for c in c1 c2; do
    diffs=$(jq -n --slurpfile u "$T/u1.members" --slurpfile c "$T/$c.members" '
        ($u[0] | map({(.member): .digest}) | add) as $ud
        | [$c[0][] | select($ud[.member] != .digest) | .member] | length')
    assert_eq 0 "$diffs" "$c members whose digest differs from the unit's"
done
for m in M00001 M05000 M10000 M10001 M10500; do
    assert_eq "$(member_digest u1 "$m")" "$(broker_digest "$m")" "digest of $m: unit vs broker"
done

stop c2
stop c1
stop u1
stop br
