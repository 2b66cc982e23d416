#!/usr/bin/env bash
# Whose member it is, across streets (issue 13, item 3): decided once, by the broker of the
# community's street. Street A ($T/br) holds unit u1 and community c1; street B ($T/brb)
# holds units u2 and u3; each links only with a hub H. Checked here:
#   - u2 (B) introduces a member u1 already introduced to c1: a claim at A, delivered to
#     c1; both units are told of the conflict, u2 through the hub and B (claim notices);
#   - c1's report-in names u1's letter: u2 is told its introduction lost (ERROR_REFUSED,
#     noted once), B and the hub drop u2's claim, and B now refuses u2's later letters
#     about the member itself;
#   - u2 introduces a member u1 registered and c1 confirmed, of which B had heard nothing:
#     B passes it on, A refuses it, and u2 hears that too (it was acked at B);
#   - u1 releases that member; u3 (B) introduces it to c1. B last heard it was u1's, but
#     does not decide for A: it passes the letter on as a claim, A opens u3's
#     registration, c1's report-in reaches u3, digests equal on u3, c1, A and B;
#   - no link refused a notice or a letter.
. "$(dirname "$0")/lib.sh" "$@"

field() { cli "$1" member show "$2" --json 2>/dev/null | jq -r "$3"; }
field_is() { [ "$(field "$1" "$2" "$3")" = "$4" ]; }
field_has() { [[ "$(field "$1" "$2" "$3")" == *"$4"* ]]; }
known() { cli "$1" orgs --json | jq -e --arg o "$2" '.[] | select(.org == $o)' >/dev/null; }
claims_of() { brk "$1" claims --json | jq -r --arg m "$2" '[.[] | select(.member == $m)] | length'; }
claims_are() { [ "$(claims_of "$1" "$2")" = "$3" ]; }
link_sum() { # BROKER FIELD: the sum of FIELD over the broker's links
    brk "$1" peer list --json | jq "[.[].$2] | add"
}

log "street A (u1, c1), street B (u2, u3), each linked with the hub only"
init_broker
init_node u1 unit:u1 单位1 add
init_node c1 community:c1 社区1 add
init_brk brb street:xinhua 新华街道
init_member_node u2 unit:u2 单位2 brb
init_member_node u3 unit:u3 单位3 brb
init_brk hub street:city 市中转 --hub
for s in br brb; do
    run_ok brk hub peer add --card "$T/$s/street.card" >/dev/null
    run_ok brk "$s" peer add --card "$T/hub/street.card" >/dev/null
done
start br
start brb
start hub
for n in u1 c1 u2 u3; do start "$n"; done
wait_ready u1 c1 u2 u3
wait_for known u2 community:c1 --deadline 30
wait_for known u3 community:c1 --deadline 30
wait_for known c1 unit:u2 --deadline 30

log "u1 introduces DY-1 to c1; u2 of street B too: a claim, decided at A"
U1_INTRO=$(last_event_id "$(run_ok cli u1 intro send --member DY-1 --name 张三 \
    --community community:c1 --json)")
wait_for field_is c1 DY-1 .unit unit:u1 --deadline 30
U2_INTRO=$(last_event_id "$(run_ok cli u2 intro send --member DY-1 --name 张三 \
    --community community:c1 --json)")
wait_for field_is c1 DY-1 '.claims[0].unit' unit:u2 --deadline 30
assert_eq "$U2_INTRO" "$(field c1 DY-1 '.claims[0].intro_id')" "c1 has u2's letter as the claim"
wait_for field_has u2 DY-1 .claimed unit:u1 --deadline 40 # A -> hub -> B -> u2
wait_for field_has u1 DY-1 .claimed unit:u2 --deadline 40
assert_eq 1 "$(claims_of br DY-1)" "A lists the conflict"

log "c1's report-in names u1's letter: u2 hears that it lost, through the hub"
run_ok cli c1 report --member DY-1 --intro "$U1_INTRO" --date 2026-11-20 >/dev/null
wait_for field_has u2 DY-1 .refused unit:u1 --deadline 40
wait_for claims_are br DY-1 0 --deadline 20
wait_for claims_are hub DY-1 0 --deadline 20
wait_for claims_are brb DY-1 0 --deadline 20
assert_eq false "$(field u2 DY-1 .reported)" "u2 never got the report-in"
assert_eq true "$(field u1 DY-1 .reported)" "u1 got it"
refused=$(json_get u2 .counters.refused)
said_twice() { [ "$(grep -c "peer=unit:u2 error=10 seq=${U2_INTRO##*/} " "$T/brb.log")" -ge 2 ]; }
wait_for said_twice --deadline 30 # told again every 10 s (B repeats what it stored once)
sync_all u2
assert_eq "$refused" "$(json_get u2 .counters.refused)" "the repeated loss is not counted again"
assert_eq 1 "$(grep -c "introduction $U2_INTRO lost" "$T/brb.log")" "B stored the loss once"
try cli u2 visit record --member DY-1 --text 走访
assert_eq 1 "$RC" "u2's CLI writes nothing more about the member"

log "u2 introduces DY-2, registered by u1 and confirmed at c1, unknown to B: A refuses, u2 hears"
U1_INTRO2=$(last_event_id "$(run_ok cli u1 intro send --member DY-2 --name 李四 \
    --community community:c1 --json)")
wait_for field_is c1 DY-2 .unit unit:u1 --deadline 30
run_ok cli c1 report --member DY-2 --intro "$U1_INTRO2" --date 2026-11-21 >/dev/null
wait_for field_is u1 DY-2 .reported true --deadline 30
run_ok cli u2 intro send --member DY-2 --name 李四 --community community:c1 >/dev/null
wait_for field_has u2 DY-2 .refused unit:u1 --deadline 40
assert_eq 0 "$(field c1 DY-2 '.claims | length')" "c1 never saw u2's letter"
assert_eq unit:u1 "$(field c1 DY-2 .unit)" "DY-2 stays u1's member at c1"

log "u1 releases DY-2; u3 of B introduces it: B passes it on, A decides, u3 is the unit"
run_ok cli u1 member release --member DY-2 >/dev/null
wait_for field_is c1 DY-2 .closed released --deadline 30
U3_INTRO=$(last_event_id "$(run_ok cli u3 intro send --member DY-2 --name 李四 \
    --community community:c1 --json)")
wait_for field_is c1 DY-2 .unit unit:u3 --deadline 40
assert_eq "" "$(field u3 DY-2 .refused)" "u3's introduction is not refused"
run_ok cli c1 report --member DY-2 --intro "$U3_INTRO" --date 2026-12-01 >/dev/null
wait_for field_is u3 DY-2 .report_date 2026-12-01 --deadline 40
same_digests() {
    local d
    d=$(member_digest u3 DY-2)
    [ "$d" = "$(member_digest c1 DY-2)" ] && [ "$d" = "$(broker_digest DY-2)" ] &&
        [ "$d" = "$(brk brb digest --member DY-2 --json | jq -r .digest)" ]
}
wait_for same_digests --deadline 30

log "nothing refused on any link"
for s in br brb hub; do
    assert_eq 0 "$(link_sum "$s" claim_notices_refused)" "$s refused no claim notice"
    assert_eq 0 "$(link_sum "$s" letters_refused)" "$s refused no letter"
done
assert_ge "$(link_sum hub claim_notices_taken)" 2 "the hub took A's notices"
assert_ge "$(link_sum brb claim_notices_taken)" 2 "B took the hub's"
log "ok"
