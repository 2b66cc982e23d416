#!/usr/bin/env bash
# The broker acknowledges a letter only once it is durable. The broker runs with the
# test-only fault point DS_FAULT_HOLD_COMMIT (common/fault.h): while the hold file exists,
# a commit of events waits before its write. unit:u1 sends a letter; once the broker's
# log says the commit is held, the broker is killed with SIGKILL inside the commit. Then:
#   - the store after the kill does not hold the letter (the kill landed in the window);
#   - u1 was never acknowledged beyond what that store holds (an ACK sent before the
#     commit returned would show here: u1 keeps the last ACK it read until a new session);
#   - after a restart u1 publishes the letter again and every side converges on it.
# A SIGKILL without the hold cannot see this: the window is microseconds, and what a
# killed process had handed to the OS is not lost.
. "$(dirname "$0")/lib.sh" "$@"

HOLD=$T/hold-commit
init_street 1 1
DS_FAULT_HOLD_COMMIT=$HOLD start br
start u1
start c1
wait_ready u1 c1

run_ok cli u1 intro send --member DY-0001 --name 张建国 --community community:c1 >/dev/null
sync_all u1 c1
assert_eq 1 "$(json_get u1 .acked)" "u1 acked before the held commit"

log "hold the broker's next commit of events; u1 sends DY-0002"
touch "$HOLD"
run_ok cli u1 intro send --member DY-0002 --name 李红 --community community:c1 >/dev/null
wait_for grep -q "fault: holding a commit of" "$T/br.log" --deadline 30
kill9 br
rm -f "$HOLD"

# u1 reads what the broker sent before it died before it notices the silence (three
# heartbeats); once it is no longer ready, its acked is final until the next session.
wait_for json_is u1 .state connecting --deadline 30
node_acked=$(json_get u1 .acked)
stored=$(broker_peer .stored_upto unit:u1) # offline: what the store holds
assert_eq 1 "$stored" "u1's events in the broker's store after the kill inside the commit"
[ "$node_acked" -le "$stored" ] ||
    fail "u1 was acknowledged up to $node_acked but the broker's store holds $stored: an ACK went out before its commit was durable"
log "after the kill: u1 acked=$node_acked, broker stored=$stored"

start br
wait_ready u1 c1
sync_all u1 c1
assert_eq 2 "$(json_get u1 .acked)" "u1 acked after the restart"
assert_eq 2 "$(broker_peer .stored_upto unit:u1)" "broker stored after the restart"
d=$(member_digest u1 DY-0002)
assert_eq "$d" "$(member_digest c1 DY-0002)" "DY-0002: c1's digest equals u1's"
assert_eq "$d" "$(broker_digest DY-0002)" "DY-0002: the broker's digest equals u1's"
stop u1
stop c1
stop br
log "ok"
