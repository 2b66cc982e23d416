#!/usr/bin/env bash
# A stalled broker does not blame its peers: the broker is stopped (SIGSTOP) for longer
# than its session timeout while a unit keeps writing, as a long report or a slow disk
# would stall its loop. When it runs again it says so, closes no session for the silence
# it caused itself, takes what queued up, and every record converges.
. "$(dirname "$0")/lib.sh" "$@"

init_street 1 1
start br
start u1
start c1
wait_ready u1 c1
write_intros "$T/a.txt" 1 50 community:c1
run_ok cli u1 batch "$T/a.txt" >/dev/null
sync_wait u1
sync_wait c1

log "broker stopped for 18 s (its session timeout is 15 s); the unit writes meanwhile"
kill -STOP "$(pid_of br)"
write_intros "$T/b.txt" 51 150 community:c1
run_ok cli u1 batch "$T/b.txt" >/dev/null
sleep 18 # the stall itself is the condition under test, not a wait for something
kill -CONT "$(pid_of br)"

stalled() { grep -q "loop stalled" "$T/br.log"; }
wait_for stalled --deadline 10
sync_wait u1 60
sync_wait c1 60
if grep -q "session closed" "$T/br.log"; then
    fail "the broker closed a session for a silence it caused: $(grep 'session closed' "$T/br.log" | head -3)"
fi
assert_eq 150 "$(member_count c1)" "members of community:c1"
for m in M00001 M00050 M00051 M00150; do
    assert_eq "$(member_digest u1 "$m")" "$(member_digest c1 "$m")" "digest of $m: unit vs community"
    assert_eq "$(member_digest u1 "$m")" "$(broker_digest "$m")" "digest of $m: unit vs broker"
done

stop c1
stop u1
stop br
