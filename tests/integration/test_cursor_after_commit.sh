#!/usr/bin/env bash
# A node's inbox cursor moves only with the events it covers: both are in one commit, so a
# crash leaves either the delivery applied and the cursor past it, or neither. community:c1
# runs with the test-only fault point DS_FAULT_HOLD_COMMIT (common/fault.h); while the hold
# file exists, its commits of events wait before their write. unit:u1 sends a letter; once
# c1's log says the delivery's commit is held, c1 is killed with SIGKILL inside it. c1 is
# then restarted with the broker stopped, so nothing is redelivered yet:
#   - its durable cursor is where it was before the delivery, and it does not hold the
#     letter (a cursor written before the events would have skipped the letter for good);
#   - once the broker is back, c1 gets the letter again and converges with u1.
# integration_receiver_kill sees this only when a kill happens to land in the window.
. "$(dirname "$0")/lib.sh" "$@"

HOLD=$T/hold-commit
init_street 1 1
start br
start u1
DS_FAULT_HOLD_COMMIT=$HOLD start c1
wait_ready u1 c1

run_ok cli u1 intro send --member DY-0001 --name 张建国 --community community:c1 >/dev/null
sync_all u1 c1
cursor=$(json_get c1 .inbox_cursor)
assert_eq 1 "$(member_count c1)" "c1's members before the held delivery"

log "hold c1's next commit of events; u1 sends DY-0002"
touch "$HOLD"
run_ok cli u1 intro send --member DY-0002 --name 李红 --community community:c1 >/dev/null
wait_for grep -q "fault: holding a commit of" "$T/c1.log" --deadline 30
kill9 c1
rm -f "$HOLD"
stop br

start c1 # the broker is down: c1 shows what it made durable, and gets nothing new
after=$(json_get c1 .inbox_cursor)
has=$(cli c1 members --json | jq '[.[] | select(.member == "DY-0002")] | length')
log "after the kill inside the commit: cursor $cursor -> $after, holds DY-0002: $has"
assert_eq 0 "$has" "c1 holds DY-0002 after a kill inside its commit"
assert_eq "$cursor" "$after" "c1's durable inbox cursor after a kill inside the delivery's commit"

start br
wait_ready u1 c1
sync_all u1 c1
assert_eq 2 "$(member_count c1)" "c1's members after the broker is back"
assert_eq "$(member_digest u1 DY-0002)" "$(member_digest c1 DY-0002)" "DY-0002: c1 vs u1"
stop c1
stop u1
stop br
log "ok"
