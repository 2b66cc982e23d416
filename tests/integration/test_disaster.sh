#!/usr/bin/env bash
# Disaster recovery (docs/OPERATIONS.md):
# 1. The broker loses its database (keys and broker.conf restored from backup, cards
#    re-added): it has a new store id; the nodes notice, forget the old directory log,
#    reset their inbox cursors and publish their logs again; everything converges, with no
#    fork and the community's events accepted even though they arrive before the unit's
#    introductions have been re-published (routing refusals are retried).
# 2. A community loses its database: the node starts in needs-restore and refuses to write;
#    `dualsync restore` brings its own events back from the broker, the inbox follows, and
#    its next event continues the sequence (no seq reused: no fork at the broker).
. "$(dirname "$0")/lib.sh" "$@"
N=500 R=100

init_street 1 1
start br
start u1
start c1
wait_ready u1 c1
write_intros "$T/intros.txt" 1 "$N" community:c1
run_ok cli u1 batch "$T/intros.txt" >/dev/null
sync_wait u1
sync_wait c1
awk -v r="$R" 'BEGIN { for (i = 1; i <= r; i++) printf "report --member M%05d --date 2026-03-01\n", i }' \
    >"$T/reports.txt"
run_ok cli c1 batch "$T/reports.txt" >/dev/null
sync_wait c1
sync_wait u1
old_store=$(json_get br .store_id)
digest_before=$(member_digest u1 M00001)

log "1. the broker loses its database (the unit is down at the time, so the community"
log "   publishes again first and its events are refused until the introductions return)"
stop u1
kill9 br
rm -rf "$T/br/db"
run_ok broker org add --card "$T/u1/unit-u1.card" >/dev/null
run_ok broker org add --card "$T/c1/community-c1.card" >/dev/null
start br
assert_ne "$old_store" "$(json_get br .store_id)" "a new store id"
wait_for json_ge c1 .counters.broker_errors 1 --deadline 30
assert_contains "$(json_get c1 .last_error)" "cannot route yet" "community told its events have no route yet"
assert_eq 0 "$(broker_peer .stored_upto community:c1)" "nothing of the community stored yet"
start u1
wait_for json_is br "[.peers[] | select(.org == \"unit:u1\")][0].stored_upto" "$N" --deadline 60
wait_for json_is br "[.peers[] | select(.org == \"community:c1\")][0].stored_upto" "$R" --deadline 60
sync_wait u1 60
sync_wait c1 60
assert_eq "$N" "$(member_count c1)" "community members after the broker rebuild"
assert_eq 0 "$(json_get c1 .counters.forks)" "no forks on the community (directory re-learned)"
assert_eq 0 "$(json_get u1 .counters.forks)" "no forks on the unit"
assert_eq "$digest_before" "$(member_digest u1 M00001)" "the unit's record is unchanged"
for m in M00001 M00050 M00100 M00101 M00500; do
    assert_eq "$(member_digest u1 $m)" "$(member_digest c1 $m)" "digest $m unit vs community"
    assert_eq "$(member_digest c1 $m)" "$(broker_digest $m)" "digest $m community vs broker"
done

log "2. the community loses its database"
stop c1
rm -rf "$T/c1/db"
start c1
wait_for json_is c1 .state needs-restore --deadline 30
assert_eq "$R" "$(json_get c1 .restore_target)" "restore target = what the broker holds"
rc=0
cli c1 report --member M00200 --date 2026-03-02 >/dev/null 2>&1 || rc=$?
assert_eq 1 "$rc" "a node that lost its log refuses to write"
log "   ... and still refuses after a restart while the broker is away"
stop br
stop c1
start c1
assert_eq needs-restore "$(json_get c1 .state)" "needs-restore survives a restart"
rc=0
cli c1 report --member M00200 --date 2026-03-02 >/dev/null 2>&1 || rc=$?
assert_eq 1 "$rc" "no write before the restore, even with the broker away"
assert_eq 0 "$(json_get c1 .own_seq)" "nothing written"
start br
run_ok cli c1 restore >/dev/null
sync_wait c1 60
assert_eq "$R" "$(json_get c1 .own_seq)" "own events restored"
assert_eq "$N" "$(member_count c1)" "inbox re-received"
out=$(run_ok cli c1 report --member M00200 --date 2026-03-02 --json)
assert_eq "[\"community:c1/$((R + 1))\"]" "$(jq -c .events <<<"$out")" "next seq continues"
sync_wait c1
sync_wait u1
assert_eq $((R + 1)) "$(broker_peer .stored_upto community:c1)" "broker took it (no fork)"
assert_eq 0 "$(json_get br .counters.forks)" "no forks at the broker"
for m in M00001 M00100 M00200; do
    assert_eq "$(member_digest u1 $m)" "$(member_digest c1 $m)" "digest $m after restore"
done
log "ok"
