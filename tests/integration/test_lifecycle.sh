#!/usr/bin/env bash
# An org's lifecycle (issue 11, item 4; docs/OPERATIONS.md "A key leaked", "An org leaves"):
#  - rekey: u1 writes letters, stops and rotates its keys (dualsync-node rekey); the street
#    refuses it until it accepts the rotation card; a card not signed by the old key is
#    refused as a possible impostor; a copy of the old data directory (what a thief of
#    the old keys has) is refused after the rotation; u1's letters from both sides of the
#    rotation reach c1, and c1 rebuilt from the broker checks both eras' signatures;
#  - revoke: c1's key is refused at once, its node shows auth-refused, every node's
#    directory says revoked; a letter to c1 meanwhile is held and arrives after c1's
#    rekey;
#  - remove: u2, with a member registered, is refused removal naming the member; --force
#    closes the registration; the directory says removed, its id cannot be added again,
#    and another unit may introduce the member;
#  - lost keys: c1 loses keys/ but not its store; rekey --lost-keys and the street's
#    org rekey --unsigned let it go on, and its own events of every era check on restore;
#  - the street rotates its own keys (dualsync-broker rekey): a node refuses a street card
#    the old street key did not sign, takes the real one (street-rekey), reconnects, and
#    checks street events of both eras (a joint meeting after the rotation, the directory
#    from before it when rebuilt).
. "$(dirname "$0")/lib.sh" "$@"

init_street 2 1
for n in br u1 u2 c1; do start "$n"; done
wait_ready u1 u2 c1

intro() { # NODE MEMBER NAME
    run_ok cli "$1" intro send --member "$2" --name "$3" --community community:c1 \
        --contact 13800000000 >/dev/null
}
org_state() { # NODE ORG: its directory's state of ORG
    cli "$1" orgs --json | jq -r ".[] | select(.org == \"$2\") | .state"
}
org_state_is() { [ "$(org_state "$1" "$2")" = "$3" ]; }
rebuild() { # NODE: it loses its store and is restored from the broker
    stop "$1"
    rm -rf "${T:?}/$1/db"
    start "$1"
    wait_for json_is "$1" .state needs-restore --deadline 30
    run_ok cli "$1" restore >/dev/null
    sync_wait "$1"
}

log "u1 writes before its rotation; c1 reports one member in"
intro u1 DY-0001 张一
intro u1 DY-0002 张二
sync_all u1 c1
run_ok cli c1 report --member DY-0001 --date 2026-03-02 >/dev/null
sync_all c1 u1

log "u1 stops and rotates its keys; a copy of the old directory is what a thief has"
stop u1
cp -a "$T/u1" "$T/thief"
out=$(run_ok "$NODE_BIN" --data "$T/u1" rekey)
CARD=$T/u1/unit-u1.rekey.card
assert_contains "$out" "$CARD" "rekey names the card for the street"
[ -f "$CARD" ] || fail "rekey wrote no $CARD"
grep -q '^rotation = ' "$CARD" || fail "the rekey card carries no rotation signature"
try "$NODE_BIN" --data "$T/u1" rekey
assert_eq 1 "$RC" "a second rekey before the street accepted the first"
assert_contains "$ERR" "$CARD" "the refusal points at the card still to be sent"
start u1
wait_for json_is u1 .state auth-refused --deadline 30

log "a card the old key did not sign is refused: it may be an impostor's"
run_ok "$NODE_BIN" --data "$T/imp" init --org unit:u1 --name 冒名 --street-card "$T/br/street.card" \
    --web-bind '' >/dev/null
try broker org rekey --card "$T/imp/unit-u1.card"
assert_ne 0 "$RC" "an unsigned card for unit:u1"
assert_contains "$ERR" "冒充" "the refusal says why (it may be an impostor)"

log "the street accepts the rotation; u1 is back and writes with its new key"
out=$(run_ok broker org rekey --card "$CARD")
assert_contains "$out" "新密钥指纹" "org rekey prints the new key's fingerprint"
assert_eq 2 "$(broker org list --json | jq '.[] | select(.org == "unit:u1") | .keys')" \
    "the directory keeps u1's old key for its old events"
wait_ready u1
intro u1 DY-0003 张三
sync_all u1 c1
assert_eq 3 "$(member_count c1)" "c1 has u1's letters from both sides of the rotation"
assert_eq 0 "$(json_get c1 .counters.rejected)" "c1 refused none of them"
wait_for org_state_is c1 unit:u1 active --deadline 20

log "the thief's copy of the old keys is refused by the street"
refused_before=$(json_get br .counters.auth_refused)
start thief
wait_for json_is thief .state auth-refused --deadline 30
assert_gt "$(json_get br .counters.auth_refused)" "$refused_before" "the street counted it"
stop thief

log "c1 loses its store and is rebuilt from the broker: both eras' signatures check"
rebuild c1
assert_eq 3 "$(member_count c1)" "c1 has every member again"
assert_eq 0 "$(json_get c1 .counters.rejected)" "no signature of either era refused"
for m in DY-0001 DY-0003; do
    assert_eq "$(member_digest u1 $m)" "$(member_digest c1 $m)" "$m: u1 and c1 agree"
done

log "revoke c1: its key is refused at once, and every directory says so"
out=$(run_ok broker org revoke community:c1 --reason 测试吊销)
assert_contains "$out" "community:c1" "revoke names the org"
wait_for json_is c1 .state auth-refused --deadline 30
wait_for org_state_is u1 community:c1 revoked --deadline 20
assert_contains "$(cli u1 orgs)" "测试吊销" "orgs shows the reason"
try broker org revoke community:c1
assert_ne 0 "$RC" "revoking twice"

log "a letter to c1 while it is revoked is held, and arrives after its rekey"
intro u1 DY-0004 张四
sync_wait u1
stop c1
run_ok "$NODE_BIN" --data "$T/c1" rekey >/dev/null
run_ok broker org rekey --card "$T/c1/community-c1.rekey.card" >/dev/null
start c1
wait_ready c1
sync_all u1 c1
assert_eq 4 "$(member_count c1)" "the held letter arrived"
wait_for org_state_is u1 community:c1 active --deadline 20

log "remove u2: refused while it has a member registered, then forced"
intro u2 DY-0005 张五
sync_all u2 c1
try broker org remove unit:u2
assert_ne 0 "$RC" "removing an org with a member registered"
assert_contains "$ERR" "DY-0005" "the refusal names the member"
out=$(run_ok broker org remove unit:u2 --force --reason 单位撤销 --json)
assert_eq '["DY-0005"]' "$(jq -c .closed <<<"$out")" "the registration it closed"
wait_for org_state_is c1 unit:u2 removed --deadline 20
wait_for json_is u2 .state auth-refused --deadline 30
try broker org add --card "$T/u2/unit-u2.card"
assert_ne 0 "$RC" "a removed org's id is not added again"
try broker org revoke unit:u2
assert_ne 0 "$RC" "a removed org cannot be revoked"

log "the member is free: u1 introduces DY-0005 and the street delivers it"
refused=$(json_get u1 .counters.refused)
intro u1 DY-0005 张五
sync_all u1 c1
assert_eq "$refused" "$(json_get u1 .counters.refused)" "u1's introduction is not refused"
assert_eq unit:u1 "$(cli c1 member show DY-0005 --json | jq -r '[.unit] + [.claims[]?.unit] | map(select(. == "unit:u1")) | .[0]')" \
    "c1 has u1's letter"

log "c1 loses its keys but not its store: rekey --lost-keys, and the street rekeys it unsigned"
run_ok cli c1 report --member DY-0002 --date 2026-03-04 >/dev/null # signed by its second key
sync_all c1 u1
stop c1
rm -rf "${T:?}/c1/keys"
out=$(run_ok "$NODE_BIN" --data "$T/c1" rekey --lost-keys)
assert_contains "$out" "--unsigned" "the clerk is told what the street must do"
try broker org rekey --card "$T/c1/community-c1.rekey.card"
assert_ne 0 "$RC" "a card no old key signed, without --unsigned"
run_ok broker org rekey --card "$T/c1/community-c1.rekey.card" --unsigned >/dev/null
start c1
wait_ready c1
run_ok cli c1 report --member DY-0004 --date 2026-03-05 >/dev/null
sync_all c1 u1
assert_eq true "$(cli u1 member show DY-0004 --json | jq -r .reported)" "u1 has c1's letter of the new key"
rebuild c1
assert_eq 0 "$(json_get c1 .counters.rejected)" "c1's own events of three eras check on restore"
assert_eq 3 "$(broker org list --json | jq '.[] | select(.org == "community:c1") | .keys')" \
    "the directory holds c1's three keys"

log "the street rotates its keys; a node takes only a card the old street key signed"
stop br
out=$(run_ok broker rekey)
assert_contains "$out" "$T/br/street.card" "rekey names the new street card"
grep -q '^rotation = ' "$T/br/street.card" || fail "the new street card carries no rotation"
start br
stop u1
run_ok "$BROKER_BIN" --data "$T/fake" init --street "$STREET" --name 假街道 --web-bind '' >/dev/null
try "$NODE_BIN" --data "$T/u1" street-rekey --card "$T/fake/street.card"
assert_eq 1 "$RC" "a street card the old street key did not sign"
assert_contains "$ERR" "冒充" "the refusal says why"
run_ok "$NODE_BIN" --data "$T/u1" street-rekey --card "$T/br/street.card" >/dev/null
start u1
wait_ready u1
run_ok broker meeting add --date 2026-12-20 --title 年终联席会议 --attendees unit:u1 \
    --decisions 换钥之后 >/dev/null
sync_wait u1
assert_contains "$(cli u1 list meetings)" "年终联席会议" "u1 has the meeting the new street key signed"
assert_eq 0 "$(json_get u1 .counters.rejected)" "u1 refused no street event"

log "u1 rebuilt from the broker checks the street's events of both eras"
rebuild u1
assert_contains "$(cli u1 list meetings)" "年终联席会议" "the meeting again"
wait_for org_state_is u1 unit:u2 removed --deadline 20
assert_eq 0 "$(json_get u1 .counters.rejected)" "no signature of either era refused"

log "ok"
