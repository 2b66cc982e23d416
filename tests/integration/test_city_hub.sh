#!/usr/bin/env bash
# Three streets behind a hub (issue 13): streets A (unit u1), B (community c1) and C
# (community c2) each link only with the hub H (`init --hub`), never with each other.
# Checked here:
#   - every node sees the whole city, learned through the hub (each org with its street);
#   - a hub holds no orgs of its own (`org add` refused);
#   - u1's member living in B: introduction, report-in, card, feedback and handling cross
#     A → H → B and back, and so do an offer and a need;
#   - the member moves to C: the move-out reaches c1, the new introduction c2, and c2's
#     report-in reaches u1; digests equal on u1, c2 and the brokers A and C;
#   - the hub keeps no personal part once the streets it passed a letter to have it: its
#     record is the others' with the personal fields empty (clear_digest), and after its
#     scrub no file of its data directory holds the member's name, card or texts;
#   - no link refused a letter or an entry, and the hub announced nothing back to the
#     street it came from;
#   - the city report: each street sends the hub its own figures, and `report --city` sums
#     them with the registration counted once (by its community's street); a street's own
#     report has rows for its own orgs only; `report --city` is refused on a street, a
#     street report on the hub; the hub's console shows the city's report (and its CSV).
. "$(dirname "$0")/lib.sh" "$@"

org_street() { cli "$1" orgs --json | jq -r --arg o "$2" '.[] | select(.org == $o) | .street'; }
org_street_is() { [ "$(org_street "$1" "$2")" = "$3" ]; }
field_is() { [ "$(cli "$1" member show "$2" --json 2>/dev/null | jq -r "$3")" = "$4" ]; }

log "streets A, B, C and a hub; each street links with the hub only"
init_broker # A: $T/br, street:jinyu
init_node u1 unit:u1 单位1 add
init_brk brb street:xinhua 新华街道
init_member_node c1 community:c1 社区1 brb
init_brk brc street:heping 和平街道
init_member_node c2 community:c2 社区2 brc
DS_WEB=1 init_brk hub street:city 市中转 --hub # the city office reads it in the browser
grep -q '^hub = yes' "$T/hub/street.card" || fail "the hub's card does not say it is a hub"
assert_exit 1 brk hub org add --card "$T/u1/unit-u1.card"
for s in br brb brc; do
    run_ok brk hub peer add --card "$T/$s/street.card" >/dev/null
    run_ok brk "$s" peer add --card "$T/hub/street.card" >/dev/null
    sed -i 's/^\[broker\]$/[broker]\nfigures_seconds = 1/' "$T/$s/broker.conf" # not once a minute
done
start br
start brb
start brc
start hub
for n in u1 c1 c2; do start "$n"; done
wait_ready u1 c1 c2

log "the whole city, learned through the hub"
wait_for org_street_is u1 community:c1 street:xinhua --deadline 30
wait_for org_street_is u1 community:c2 street:heping --deadline 30
wait_for org_street_is c1 unit:u1 street:jinyu --deadline 30
wait_for org_street_is c2 community:c1 street:xinhua --deadline 30
assert_eq street:city "$(broker org list --json | jq -r '.[] | select(.org == "community:c1") | .via')" \
    "A reaches c1 through the hub"

log "u1's member lives in B: letters cross A -> hub -> B and back"
run_ok cli u1 intro send --member DY-1 --name 张三 --community community:c1 >/dev/null
wait_for field_is c1 DY-1 .unit unit:u1 --deadline 30
run_ok cli c1 report --member DY-1 --date 2026-11-20 >/dev/null
run_ok cli c1 card set --member DY-1 --occupation 教师 >/dev/null
fb=$(cli c1 feedback send --member DY-1 --year 2026 --rating good --json | jq -r '.events[0]')
wait_for field_is u1 DY-1 '.feedback | length' 1 --deadline 30
assert_eq true "$(cli u1 member show DY-1 --json | jq -r .reported)" "u1 sees the report-in"
run_ok cli u1 handling send --member DY-1 --feedback "$fb" --action criticism --text 批评 >/dev/null
wait_for field_is c1 DY-1 '.handling | length' 1 --deadline 30

log "org-level letters through the hub: an offer to c1, and c1's need back to u1"
run_ok cli u1 offer send --community community:c1 --title 法律咨询 >/dev/null
listed() { [ "$(cli "$1" list "$2" --json | jq length)" -ge 1 ]; }
wait_for listed c1 offers --deadline 30
run_ok cli c1 need publish --kind wish --title 修理自行车 >/dev/null
wait_for listed u1 needs --deadline 30

log "the member moves to C's community: like a move inside one street"
run_ok cli u1 member move --member DY-1 --community community:c2 --date 2026-12-01 >/dev/null
wait_for field_is c2 DY-1 .community community:c2 --deadline 30
c1_let_go() { [ "$(cli c1 members --json | jq length)" = 0 ]; }
wait_for c1_let_go --deadline 30 # the move-out closed c1's registration
run_ok cli c2 report --member DY-1 --date 2026-12-02 >/dev/null
wait_for field_is u1 DY-1 .report_date 2026-12-02 --deadline 30
same_digests() {
    local d
    d=$(member_digest u1 DY-1)
    [ "$d" = "$(member_digest c2 DY-1)" ] && [ "$d" = "$(broker_digest DY-1)" ] &&
        [ "$d" = "$(brk brc digest --member DY-1 --json | jq -r .digest)" ] &&
        [ "$(cli u1 digest --member DY-1 --json | jq -r .clear_digest)" = \
            "$(brk hub digest --member DY-1 --json | jq -r .digest)" ]
}
wait_for same_digests --deadline 30

log "the hub dropped what it carried: no name, card or text left on its disk"
hub_forgot() {
    [ "$(brk hub status --json | jq -r '.carried.scrub_waits or .scrub_pending')" = false ] &&
        ! grep -r -a -q -e 张三 -e 教师 -e 批评 "$T/hub"
}
wait_for hub_forgot --deadline 60
assert_ne 0 "$(brk hub status --json | jq -r .carried.parts_dropped)" "the hub counts what it dropped"
grep -r -a -q 张三 "$T/brb" || fail "the grep finds the name where it is kept (B's broker)"
log "nothing refused on any link; the hub sent no street its own orgs back"
for s in br brb brc hub; do
    assert_eq 0 "$(brk "$s" peer list --json | jq '[.[] | .letters_refused + .entries_refused] | add')" \
        "$s refused nothing"
done
assert_eq 0 "$(brk brb org list --json | jq '[.[] | select(.org == "community:c1" and .foreign)] | length')" \
    "B's own community stays its own"

log "the city report: the streets' own figures, summed by the hub"
city() { brk hub report --city --json; }
city_counted() {
    [ "$(city | jq -c '.totals | [.streets, .units, .communities, .registrations, .reported]')" = \
        "[3,1,2,1,1]" ]
}
wait_for city_counted --deadline 30
assert_eq 1 "$(city | jq '.streets[] | select(.org == "street:heping") | .registrations')" \
    "the registration is counted by its community's street"
assert_eq 0 "$(city | jq '.streets[] | select(.org == "street:jinyu") | .registrations')" \
    "and not again by the unit's"
assert_ne 0 "$(city | jq '.streets[] | select(.org == "street:jinyu") | .letters_to_other_streets')" \
    "A's letters across streets are counted"
assert_eq '[]' "$(city | jq -c .not_reported)" "every linked street reported"
# (captured first: grep -q in a pipe would end the writer early, and pipefail would count it)
text=$(run_ok brk hub report --city)
assert_contains "$text" street:heping "the text report names the streets"
csv=$(run_ok brk hub report --city --csv)
assert_contains "$csv" $'\ntotal,street:city' "the CSV has the city's total"
mine=$(brk br report --year 2026 --json)
assert_eq '["unit:u1"]' "$(jq -c '[.units[].org]' <<<"$mine")" "A reports its own unit"
assert_eq '[]' "$(jq -c '[.communities[].org]' <<<"$mine")" "and no other street's community"
assert_ne 0 "$(jq .totals.letters_to_other_streets <<<"$mine")" "A's report counts what crossed"
assert_exit 1 brk br report --city
assert_exit 1 brk hub report --year 2026

log "the hub's console: its report page is the city's"
echo city-pass >"$T/pw"
run_ok brk hub user add office --role viewer --password-file "$T/pw" >/dev/null
base=http://127.0.0.1:${WEBPORT[hub]}
assert_eq 303 "$(login "$T/jar" "$base" office city-pass)" "the city office logs in"
assert_eq 200 "$(http "$T/jar" GET "$base/report")" "the report page"
for s in street:jinyu street:xinhua street:heping street:city; do
    grep -q "data-org=\"$s\"" "$T/body" || fail "no row of $s on the hub's report page"
done
body_has "全市" || fail "the page does not say it is the city's"
assert_eq 200 "$(http "$T/jar" GET "$base/")" "the hub's page"
grep -q 'id="hub"' "$T/body" || fail "the hub's page does not say what a hub is"
grep -q 'href="/orgs/add"' "$T/body" && fail "a hub's console offers to add an org"
assert_eq 200 "$(http "$T/jar" GET "$base/report.csv")" "the city's CSV"
body_has "street:heping" || fail "the CSV has no row of street:heping"
log "PASS"
