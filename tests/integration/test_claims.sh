#!/usr/bin/env bash
# Whose member it is (issue 11, item 2; docs/WORKFLOWS.md "whose member"). A unit that
# introduces a member id first does not own the person by it:
#  - unit:u1 introduces DY-0005 without being the member's unit (a squatter); unit:u2, the
#    member's unit, introduces DY-0005 after: its letter is a claim, delivered to the
#    community, not refused; the community sees both (member show .claims);
#  - the community's letters wait for the report-in: a card before it is refused locally,
#    and a report-in without --intro is refused naming both letters;
#  - the report-in names u2's letter: u2 gets the report-in and the card, u1 gets nothing
#    of them; u2's letter written during the claim is in the record; the digests of u2,
#    the community and the broker are equal;
#  - the street lists the conflict (`dualsync-broker claims`, and a count in `status`) until
#    the report-in, and tells both units (ERROR_CLAIMED: `member show` on each);
#  - the street tells u1 its introduction lost (ERROR_REFUSED on it, repeated every 10 s,
#    noted once): u1's `member show` says so and its CLI writes nothing more about the
#    member (a letter it wrote before is stored and delivered to nobody: test_privacy).
. "$(dirname "$0")/lib.sh" "$@"
M=DY-0005

init_street 2 1
for n in br u1 u2 c1; do start "$n"; done
wait_ready u1 u2 c1

log "u1 introduces $M first; u2, the member's unit, second: a claim, not a refusal"
run_ok cli u1 intro send --member $M --name 冒名 --community community:c1 --contact 13900000000 >/dev/null
sync_all u1 c1
U2_INTRO=$(last_event_id "$(run_ok cli u2 intro send --member $M --name 张五 --community community:c1 \
    --contact 13800000005 --json)")
run_ok cli u2 visit record --member $M --text 走访了解情况 >/dev/null
sync_all u1 u2 c1
assert_eq 0 "$(json_get u2 .counters.refused)" "u2's introduction is not refused"
rec=$(run_ok cli c1 member show $M --json)
assert_eq unit:u1 "$(jq -r .unit <<<"$rec")" "the first letter is the registration"
assert_eq unit:u2 "$(jq -r '.claims[0].unit' <<<"$rec")" "u2's letter is a claim at the community"
assert_eq "$U2_INTRO" "$(jq -r '.claims[0].intro_id' <<<"$rec")" "the claim's letter"
assert_eq 1 "$(jq -r '.claims[0].visits | length' <<<"$rec")" "u2's visit is kept with its claim"
assert_contains "$(run_ok cli c1 member show $M)" "另一单位认领: unit:u2" "member show names the claim"
assert_eq unit:u2 "$(broker claims --json | jq -r ".[] | select(.member == \"$M\") | .claims[0].unit")" \
    "the street's list of claims"
assert_contains "$(broker claims)" "$M" "the street's list, for a person"
wait_for json_is br .claims_open 1 --deadline 20 # the street's status counts it (every 10 s)
assert_contains "$(broker status)" "dualsync-broker claims" "the human status points to the list"
claimed() { [ -n "$(cli "$1" member show $M --json | jq -r .claimed)" ]; }
wait_for claimed u1 --deadline 30 # both units are told, each on its own letter
wait_for claimed u2 --deadline 30
assert_contains "$(cli u1 member show $M)" "另有单位介绍了该党员" "u1's clerk sees the conflict"
assert_contains "$(cli u2 member show $M --json | jq -r .claimed)" "unit:u1" "u2 is told which unit"

assert_contains "$(run_ok cli c1 tasks --json)" "also introduced the member" \
    "the community's report-in task says to check the letter"

log "the community's letters wait for the report-in, which must name the letter"
try cli c1 card set --member $M --occupation 教师 --contact 13800000005
assert_eq 1 "$RC" "a card before the report-in"
assert_contains "$ERR" "尚未报到" "the refusal says the member has not reported in"
try cli c1 report --member $M
assert_eq 1 "$RC" "a report-in that names no letter while two units claim the member"
assert_contains "$ERR" "$U2_INTRO" "the refusal lists u2's letter"
assert_contains "$ERR" "unit:u1/" "and u1's"
try cli c1 report --member $M --intro unit:u9/1
assert_eq 1 "$RC" "a report-in naming a letter that is not one of them"

log "the report-in names u2's letter; the card follows"
run_ok cli c1 report --member $M --intro "$U2_INTRO" --date 2026-03-10 >/dev/null
run_ok cli c1 card set --member $M --occupation 教师 --contact 13800000005 >/dev/null
sync_all u1 u2 c1
rec=$(run_ok cli u2 member show $M --json)
assert_eq true "$(jq -r .reported <<<"$rec")" "u2 has the report-in"
assert_eq "" "$(jq -r .claimed <<<"$rec")" "the report-in settled it for u2"
assert_eq 教师 "$(jq -r .occupation <<<"$rec")" "u2 has the card"
rec=$(run_ok cli c1 member show $M --json)
assert_eq unit:u2 "$(jq -r .unit <<<"$rec")" "the community's record is u2's registration"
assert_eq 0 "$(jq -r '.claims | length' <<<"$rec")" "no claim left"
assert_eq 1 "$(jq -r '.visits | length' <<<"$rec")" "u2's visit from the claim is in the record"
assert_eq "$(member_digest u2 $M)" "$(member_digest c1 $M)" "digest: u2 vs community"
assert_eq "$(member_digest u2 $M)" "$(broker_digest $M)" "digest: u2 vs broker"
rec=$(run_ok cli u1 member show $M --json)
assert_eq false "$(jq -r .reported <<<"$rec")" "u1 never got the report-in"
assert_eq "" "$(jq -r .occupation <<<"$rec")" "u1 never got the card"

assert_eq 0 "$(broker claims --json | jq length)" "no claim left at the street"
wait_for json_is br .claims_open 0 --deadline 20

log "u1 is told its introduction lost (the street repeats it; u1 notes it once)"
c1_digest=$(member_digest c1 $M)
lost() { [ -n "$(cli u1 member show $M --json | jq -r .refused)" ]; }
wait_for lost --deadline 30
assert_contains "$(cli u1 member show $M --json | jq -r .refused)" "unit:u2" \
    "u1 is told which unit's introduction the report-in named"
refused=$(json_get u1 .counters.refused)
try cli u1 visit record --member $M --text 再次走访
assert_eq 1 "$RC" "u1's CLI writes nothing more about the member"
assert_contains "$ERR" "拒绝" "the refusal says the street refused u1's introduction"
said_twice() { [ "$(grep -c "report-in named the introduction of unit:u2" "$T/br.log")" -ge 2 ]; }
wait_for said_twice --deadline 30 # the street's next round of notices (every 10 s)
sync_all u1 # a PING answered after the notice: u1 has read it
assert_eq "$refused" "$(json_get u1 .counters.refused)" "a repeated notice is not counted again"
sync_all u2 c1
assert_eq "$c1_digest" "$(member_digest c1 $M)" "the community's record is unchanged"
assert_eq "$c1_digest" "$(broker_digest $M)" "the broker's record is unchanged"
log "ok"
