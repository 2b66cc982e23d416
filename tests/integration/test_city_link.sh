#!/usr/bin/env bash
# A city of two streets (issue 13, links between two streets): street A (street:jinyu, $T/br) holds
# unit u1, street B (street:xinhua, $T/brb) holds community c1. Once each office adds the
# other's street.card (`peer add`), each broker reads the other's directory over a CURVE
# link and every node sees the whole city, each org with its street. Checked here:
#   - the whole city in `dualsync orgs`, both ways, with each org's street;
#   - `peer list`: connected, caught up, and the other way round;
#   - an org id is one org in the city: B refuses A's unit at `org add`, naming A;
#   - a unit's member living in the other street: introduction, report-in, card, feedback
#     and handling cross the link, digests equal on both nodes and both brokers;
#   - org-level letters cross too (an offer, a need to the units of its members); a joint
#     meeting stays within its street;
#   - B killed (SIGKILL), an org added and another revoked while it is down: A catches up;
#   - A restarted: the link resumes from its durable cursor, nothing announced twice;
#   - the street console lists the linked street and the other street's orgs apart from
#     its own, and offers no revoke for them;
#   - B rotates its street keys: A refuses a card of B's id that B's old key did not sign,
#     takes the real one (`peer rekey`), the link connects again both ways with the
#     cursors kept, and B's next org (signed by its new key) reaches A's nodes;
#   - an org of another street cannot be revoked here; `peer remove` ends the link;
#   - a street A never added (its key unknown) is refused at the handshake (ZAP): its
#     link never connects, A counts the refusal, and it learns none of A's orgs.
. "$(dirname "$0")/lib.sh" "$@"
export DS_WEB=1 # street A's console (and the nodes'): its street page is checked

B_STREET=street:xinhua
brb() { "$BROKER_BIN" --data "$T/brb" "$@"; }
start_brb() { # the second street's broker, as start does the first's
    echo "=== start $(date +%T.%N) ===" >>"$T/brb.log"
    rm -f "$T/brb/endpoint"
    "$BROKER_BIN" --data "$T/brb" run >>"$T/brb.log" 2>&1 &
    PIDS[brb]=$!
    wait_for test -s "$T/brb/endpoint" --deadline 20
}
org_street() { # NODE ORG: the street NODE's directory gives ORG ("" when absent)
    cli "$1" orgs --json | jq -r --arg o "$2" '.[] | select(.org == $o) | .street'
}
org_state() { cli "$1" orgs --json | jq -r --arg o "$2" '.[] | select(.org == $o) | .state'; }
link_of() { # BROKERFN FILTER: FILTER over the broker's only link in `peer list --json`
    "$1" peer list --json | jq -r ".[0] | $2"
}
# predicates for wait_for (evaluated at each poll)
org_street_is() { [ "$(org_street "$1" "$2")" = "$3" ]; }
org_state_is() { [ "$(org_state "$1" "$2")" = "$3" ]; }
link_is() { [ "$(link_of "$1" "$2")" = "$3" ]; }

log "two streets, a unit in A and a community in B"
init_broker
init_node u1 unit:u1 单位1 add
free_port
PORT_B=$FREE_PORT
run_ok brb init --street "$B_STREET" --name 新华街道 --bind "tcp://127.0.0.1:$PORT_B" \
    --durability "$DS_DURABILITY" --web-bind '' >/dev/null
run_ok "$NODE_BIN" --data "$T/c1" init --org community:c1 --name 社区1 \
    --street-card "$T/brb/street.card" --durability "$DS_DURABILITY" --web-bind '' >/dev/null
run_ok brb org add --card "$T/c1/community-c1.card" >/dev/null

log "each office adds the other's card"
out=$(broker peer add --card "$T/brb/street.card")
assert_contains "$out" "$B_STREET" "peer add names the street"
assert_contains "$out" "指纹" "peer add prints the fingerprint to compare"
run_ok brb peer add --card "$T/br/street.card" >/dev/null
assert_exit 1 broker peer add --card "$T/brb/street.card"
assert_exit 1 broker peer add --card "$T/br/street.card"

start br
start_brb
start u1
start c1
wait_ready u1 c1

log "the whole city in orgs, both ways"
wait_for org_street_is u1 community:c1 "$B_STREET" --deadline 30
wait_for org_street_is c1 unit:u1 "$STREET" --deadline 30
assert_eq "$STREET" "$(org_street u1 unit:u1)" "an own org names its own street"
out=$(cli u1 orgs)
assert_contains "$out" "$B_STREET" "the table shows the street"
wait_for link_is broker .caught_up true --deadline 30
assert_eq true "$(link_of broker .connected)" "A's link is connected"
wait_for link_is brb .their_session true --deadline 30
assert_eq 1 "$(link_of broker .entries_taken)" "A took B's one org"
# another street's org is not a peer of this broker and has no report row
assert_eq "" "$(json_get br '.peers[] | select(.org == "community:c1") | .org')" \
    "status lists only this street's orgs"

log "the street console: the linked street, and the other street's orgs apart"
echo street-pass >"$T/pw"
run_ok broker user add office --role viewer --password-file "$T/pw" >/dev/null
base=http://127.0.0.1:${WEBPORT[br]}
assert_eq 303 "$(login "$T/jar" "$base" office street-pass)" "the street office logs in"
assert_eq 200 "$(http "$T/jar" GET "$base/")" "the street page"
grep -q 'data-street="street:xinhua"' "$T/body" || fail "no linked street row on the street page"
grep -q 'id="foreign-orgs"' "$T/body" || fail "no table of the other streets' orgs"
grep -q 'data-org="community:c1"' "$T/body" && fail "another street's org listed as this street's"
assert_eq 200 "$(http "$T/jar" GET "$base/org?org=community:c1")" "the other street's org page"
body_has "$B_STREET" || fail "the org page does not name the street that holds it"
grep -q 'revoke' "$T/body" && fail "a revoke is offered for another street's org"

log "one id, one org in the city"
rc=0
err=$(brb org add --card "$T/u1/unit-u1.card" 2>&1) || rc=$?
assert_eq 1 "$rc" "B refuses A's unit"
assert_contains "$err" "$STREET" "the refusal names the street that holds the id"

log "a member of unit u1 (street A) lives in community c1 (street B): letters cross"
run_ok cli u1 intro send --member DY-1 --name 张三 --community community:c1 >/dev/null
has_member() { cli "$1" member show "$2" --json >/dev/null 2>&1; }
wait_for has_member c1 DY-1 --deadline 30
assert_eq unit:u1 "$(cli c1 member show DY-1 --json | jq -r .unit)" "the community sees the unit"
run_ok cli c1 report --member DY-1 --date 2026-11-20 >/dev/null
run_ok cli c1 card set --member DY-1 --occupation 教师 >/dev/null
fb=$(cli c1 feedback send --member DY-1 --year 2026 --rating good --json | jq -r '.events[0]')
reported() { [ "$(cli u1 member show DY-1 --json | jq -r '.feedback | length')" = 1 ]; }
wait_for reported --deadline 30
m=$(cli u1 member show DY-1 --json)
assert_eq true "$(jq -r .reported <<<"$m")" "the unit sees the report-in from the other street"
assert_eq 教师 "$(jq -r .occupation <<<"$m")" "and the card"
run_ok cli u1 handling send --member DY-1 --feedback "$fb" --action criticism \
    --text 表扬 >/dev/null
handled() { [ "$(cli c1 member show DY-1 --json | jq -r '.handling | length')" = 1 ]; }
wait_for handled --deadline 30
same_digests() {
    local d
    d=$(member_digest u1 DY-1)
    [ "$d" = "$(member_digest c1 DY-1)" ] && [ "$d" = "$(broker_digest DY-1)" ] &&
        [ "$d" = "$(brb digest --member DY-1 --json | jq -r .digest)" ]
}
wait_for same_digests --deadline 30
assert_eq 3 "$(link_of broker .letters_relayed)" "A took c1's three letters over the link"
assert_eq 2 "$(link_of brb .letters_relayed)" "B took u1's two letters over the link"

assert_eq 0 "$(link_of broker .letters_refused)" "nothing refused at A"
wait_for link_is brb .letters_pending_from_them 0 --deadline 10
wait_for link_is broker .letters_pending_to_them 0 --deadline 10
assert_eq 0 "$(link_of brb .letters_refused)" "nothing refused at B"

log "org-level letters cross too: an offer to c1, and c1's need to the units of its members"
run_ok cli u1 offer send --community community:c1 --title 法律咨询 >/dev/null
listed() { [ "$(cli "$1" list "$2" --json | jq length)" -ge 1 ]; }
wait_for listed c1 offers --deadline 30
run_ok cli c1 need publish --kind wish --title 修理自行车 >/dev/null
wait_for listed u1 needs --deadline 30
rc=0
err=$(broker meeting add --date 2026-03-20 --title 联席会议 --attendees unit:u1,community:c1 \
    --decisions 共建 2>&1) || rc=$?
assert_eq 1 "$rc" "a joint meeting with another street's community is refused"
assert_contains "$err" "本街道" "the refusal says the attendee is not this street's"

log "B killed; an org added and one revoked while it is down; A catches up"
kill9 brb
run_ok "$NODE_BIN" --data "$T/c2" init --org community:c2 --name 社区2 \
    --street-card "$T/brb/street.card" --durability "$DS_DURABILITY" --web-bind '' >/dev/null
run_ok brb org add --card "$T/c2/community-c2.card" >/dev/null
run_ok brb org revoke community:c1 --reason 测试 >/dev/null
start_brb
wait_for org_street_is u1 community:c2 "$B_STREET" --deadline 40
wait_for org_state_is u1 community:c1 revoked --deadline 30
assert_eq 0 "$(json_get br '.counters.malformed')" "no frame of the link was malformed"

log "A restarted: the link resumes from its cursor, nothing announced again"
wait_for link_is broker .caught_up true --deadline 30
version=$(json_get br .directory_version)
cursor=$(link_of broker .directory_cursor)
stop br
start br
wait_for link_is broker .caught_up true --deadline 30
assert_eq "$cursor" "$(link_of broker .directory_cursor)" "the cursor survived the restart"
assert_eq 0 "$(link_of broker .entries_taken)" "no entry was taken again"
assert_eq "$version" "$(json_get br .directory_version)" "no entry was announced again"

log "B rotates its street keys: A takes the new card (peer rekey) only if B's old key signed it"
cp "$T/brb/street.card" "$T/b-old.card"
stop brb
run_ok brb rekey >/dev/null
run_ok "$BROKER_BIN" --data "$T/bx" init --street "$B_STREET" --name 冒充街道 \
    --bind tcp://127.0.0.1:1 --durability "$DS_DURABILITY" --web-bind '' >/dev/null
rc=0
err=$(broker peer rekey --card "$T/bx/street.card" 2>&1) || rc=$?
assert_eq 1 "$rc" "a card of B's id that B's key did not sign is refused"
assert_contains "$err" "冒充" "the refusal says it may be an impostor"
assert_exit 1 broker peer rekey --card "$T/b-old.card"
stop c1 # B's own nodes take their street's new card as usual
for n in c1 c2; do
    run_ok "$NODE_BIN" --data "$T/$n" street-rekey --card "$T/brb/street.card" >/dev/null
done
start_brb
start c1
out=$(run_ok broker peer rekey --card "$T/brb/street.card")
assert_contains "$out" "$B_STREET" "peer rekey names the street"
wait_for link_is broker .connected true --deadline 30
wait_for link_is brb .their_session true --deadline 30
run_ok "$NODE_BIN" --data "$T/c4" init --org community:c4 --name 社区4 \
    --street-card "$T/brb/street.card" --durability "$DS_DURABILITY" --web-bind '' >/dev/null
run_ok brb org add --card "$T/c4/community-c4.card" >/dev/null
wait_for org_street_is u1 community:c4 "$B_STREET" --deadline 30 # signed by B's new key
assert_eq 0 "$(link_of broker .entries_refused)" "no entry refused after the rotation"

log "another street's org is that street's to revoke; peer remove ends the link"
rc=0
err=$(broker org revoke community:c2 2>&1) || rc=$?
assert_eq 1 "$rc" "A may not revoke B's community"
assert_contains "$err" "另一街道" "the refusal says whose org it is"
run_ok broker peer remove "$B_STREET" >/dev/null
assert_eq 0 "$(broker peer list --json | jq length)" "no link left"
assert_eq "$B_STREET" "$(org_street u1 community:c2)" "the orgs learned stay as announced"
assert_exit 1 broker peer remove "$B_STREET"

log "a street A never added is refused at the handshake"
free_port
run_ok "$BROKER_BIN" --data "$T/rogue" init --street street:rogue --name 未登记街道 \
    --bind "tcp://127.0.0.1:$FREE_PORT" --durability "$DS_DURABILITY" --web-bind '' >/dev/null
run_ok "$BROKER_BIN" --data "$T/rogue" peer add --card "$T/br/street.card" >/dev/null
refused_before=$(json_get br .counters.auth_refused)
start rogue
refused_more() { [ "$(json_get br .counters.auth_refused)" -gt "$refused_before" ]; }
wait_for refused_more --deadline 30
assert_eq false "$("$BROKER_BIN" --data "$T/rogue" peer list --json | jq -r '.[0].connected')" \
    "the unknown street's link is not connected"
assert_eq 0 "$("$BROKER_BIN" --data "$T/rogue" org list --json | jq length)" \
    "it learned none of A's orgs"

log "PASS"
