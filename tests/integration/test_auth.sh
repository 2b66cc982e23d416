#!/usr/bin/env bash
# Who may talk and write.
#  (a) a node whose card the street never added is refused at the CURVE handshake: its
#      status says auth-refused with a last_error that tells the operator why; once the
#      street adds the card, the node gets in (checked last, see the end of the file);
#  (b) a node cannot publish under another org's id: a copy of unit:u2's keys whose
#      node.conf claims unit:u1 is refused (org mismatch), and unit:u1's data is unaffected;
#  (c) the wrong side cannot author an event: a community's `intro send`, a unit's
#      `report`/`card set`, a community's `handling send` exit 1 and change nothing.
. "$(dirname "$0")/lib.sh" "$@"

init_street 2 1
init_node u9 unit:u9 单位9 # card not added
start br
start u1
start u2
start c1
wait_ready u1 u2 c1

log "unit:u1 introduces M001; the state every later check compares against"
run_ok cli u1 intro send --member M001 --name 张三 --community community:c1 >/dev/null
sync_wait u1
sync_wait c1
digest_m001=$(member_digest c1 M001)
assert_eq "$digest_m001" "$(member_digest u1 M001)" "M001 unit vs community"

# ---------------------------------------------------------------- (a) not in the directory
log "(a) a node whose card was never added is refused"
start u9
wait_for json_is u9 .state auth-refused --deadline 20
err=$(json_get u9 .last_error)
assert_contains "$err" "not in the street directory" "u9 last_error"
assert_eq false "$(json_get u9 .connected)" "u9 connected"
assert_ge "$(json_get br .counters.auth_refused)" 1 "broker auth_refused"
assert_eq 0 "$(json_get u9 .counters.applied)" "events u9 received"

# ---------------------------------------------------------------- (b) impostor
log "(b) a copy of unit:u2's keys whose node.conf says unit:u1 cannot publish as unit:u1"
sync_wait u2
stop u2
cp -a "$T/u2" "$T/imp"
rm -f "$T/imp/ctl.sock"
sed -i 's/^org = unit:u2$/org = unit:u1/' "$T/imp/node.conf"
grep -qx 'org = unit:u1' "$T/imp/node.conf" || fail "could not rewrite imp/node.conf"
mismatch0=$(json_get br .counters.org_mismatch)
start imp
# The impostor knows the directory (u2 received it), so its CLI accepts the letter locally;
# it is unit:u1/1 signed with u2's key: a fork of the real unit:u1/1 if it got through.
run_ok cli imp intro send --member EVIL1 --name 冒充 --community community:c1 >/dev/null
wait_for json_ge br .counters.org_mismatch $((mismatch0 + 1)) --deadline 20
wait_for json_is imp '.last_error != ""' true --deadline 20
log "impostor: state=$(json_get imp .state) last_error=$(json_get imp .last_error)"
assert_ne ready "$(json_get imp .state)" "impostor state"
assert_eq 0 "$(json_get imp .acked)" "events of the impostor acknowledged"
# give the impostor's traffic a chance to reach c1 before looking: one more round trip of
# the real unit (its new letter is delivered after anything the broker took before it)
run_ok cli u1 intro send --member M002 --name 李四 --community community:c1 >/dev/null
sync_wait u1
sync_wait c1
assert_eq 2 "$(broker_peer .stored_upto unit:u1)" "broker stored_upto of unit:u1"
assert_eq 0 "$(broker_peer .stored_upto unit:u2)" "broker stored_upto of unit:u2"
assert_eq 0 "$(json_get br '.counters.forks')" "broker forks"
assert_exit 1 cli c1 member show EVIL1
assert_exit 1 broker digest --member EVIL1
assert_eq "$digest_m001" "$(member_digest c1 M001)" "c1's M001 after the impostor"
assert_eq "$digest_m001" "$(broker_digest M001)" "broker's M001 after the impostor"
assert_eq "$digest_m001" "$(member_digest u1 M001)" "u1's M001 after the impostor"
assert_eq 2 "$(member_count c1)" "members of c1 (M001, M002)"
s=$(cli c1 status --json)
assert_eq 0 "$(jq '.counters.forks + .counters.rejected' <<<"$s")" "c1 forks+rejected"
assert_eq ready "$(json_get u1 .state)" "real unit:u1 state"
assert_eq "" "$(json_get u1 .last_error)" "real unit:u1 last_error"
stop imp

# ---------------------------------------------------------------- (c) wrong side
log "(c) the wrong side cannot author events"
seq_c1=$(json_get c1 .own_seq)
seq_u1=$(json_get u1 .own_seq)
assert_exit 1 cli c1 intro send --member M003 --name 王五 --community community:c1
assert_contains "$OUT" "错误" "stderr of a refused command (zh)"
assert_exit 1 cli c1 intro send --member M003 --name 王五 --community community:c1 --lang en
assert_contains "$OUT" "error:" "stderr of a refused command (en)"
assert_exit 1 cli c1 handling send --member M001 --feedback community:c1/1 \
    --action criticism --text 无
assert_exit 1 cli u1 report --member M001 --date 2026-11-20
assert_exit 1 cli u1 card set --member M001 --occupation 会计 --willingness 巡逻 --rest-time 周末
assert_exit 1 cli u1 feedback send --member M001 --year 2026 --rating good --text 好
# and other bad requests: nothing is written either
assert_exit 1 cli u1 intro send --member 'bad id!' --name x --community community:c1
assert_exit 1 cli u1 intro send --member M003 --name x --community community:nope
assert_exit 1 cli u1 intro send --member M003 --name x --community unit:u2
assert_exit 1 cli u1 handling send --member M001 --feedback community:c1/99 \
    --action criticism --text 无
assert_exit 2 cli u1 intro send --member M003 --name x
assert_exit 3 cli u2 status
assert_eq "$seq_c1" "$(json_get c1 .own_seq)" "c1 own_seq after refused commands"
assert_eq "$seq_u1" "$(json_get u1 .own_seq)" "u1 own_seq after refused commands"
sync_wait u1
sync_wait c1
assert_exit 1 cli c1 member show M003
assert_eq 0 "$(broker_peer .stored_upto community:c1)" "broker stored_upto of community:c1"
assert_eq "$digest_m001" "$(member_digest c1 M001)" "c1's M001 after refused commands"

# ---------------------------------------------------------------- (a) continued
log "(a) once the street adds u9's card, the running node gets in without a restart"
run_ok broker org add --card "$T/u9/unit-u9.card" >/dev/null
added=$(date +%s%N)
try_wait_for json_is u9 .state ready --deadline 30 ||
    fail "u9 is still '$(json_get u9 .state)' 30 s after the street added its card" \
        "(last_error: $(json_get u9 .last_error)); a refused node never retries the" \
        "handshake by itself: after ZAP's 400 libzmq does not reconnect, and sync_tick" \
        "skips the reconnect in state auth-refused"
# (a figure, not a pass mark: it retries every second, so ~2 s unless the machine is busy)
log "u9 was in session $(( ($(date +%s%N) - added) / 1000000 )) ms after its card was added"
sync_wait u9
assert_eq "" "$(json_get u9 .last_error)" "u9 last_error once admitted"

stop u9
stop c1
stop u1
stop br
