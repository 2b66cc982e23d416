#!/usr/bin/env bash
# The dual-management round trip through a running street: a unit's introduction letter
# reaches the community; the community's report-in, registration card and feedback letter
# reach the unit; the unit's handling result reaches the community. Both sides and the
# broker end with the same member record digest, and orgs with no business with the
# member (another unit, another community) never see it.
. "$(dirname "$0")/lib.sh" "$@"

init_street 2 2
start br
start u1
start u2
start c1
start c2
wait_ready u1 u2 c1 c2

log "unit:u1 introduces M001 to community:c1"
out=$(run_ok cli u1 intro send --member M001 --name 张三 --community community:c1 --json)
assert_eq '["unit:u1/1"]' "$(jq -c .events <<<"$out")" "intro event id"
sync_wait u1
sync_wait c1
assert_eq 1 "$(member_count c1)" "members of community:c1 after the intro"
m=$(run_ok cli c1 member show M001 --json)
assert_eq 张三 "$(jq -r .name <<<"$m")" "name seen by the community"
assert_eq unit:u1 "$(jq -r .unit <<<"$m")" "unit seen by the community"
assert_eq community:c1 "$(jq -r .community <<<"$m")" "community seen by the community"
assert_eq unit:u1/1 "$(jq -r .intro_id <<<"$m")" "intro id seen by the community"
assert_eq false "$(jq -r .reported <<<"$m")" "reported before the report-in"

log "community:c1 records report-in, registration card and a feedback letter"
run_ok cli c1 report --member M001 --date 2026-11-20 >/dev/null
run_ok cli c1 card set --member M001 --occupation 会计 --willingness 治安巡逻 \
    --rest-time 周末 >/dev/null
out=$(run_ok cli c1 feedback send --member M001 --year 2026 --rating poor \
    --non-participation --text 长期不参加活动 --json)
fb=$(jq -r '.events[0]' <<<"$out")
assert_eq community:c1/3 "$fb" "feedback event id"
assert_eq 3 "$(jq -r .own_seq <<<"$out")" "own_seq reported by feedback send"
sync_wait c1
sync_wait u1
m=$(run_ok cli u1 member show M001 --json)
assert_eq true "$(jq -r .reported <<<"$m")" "report-in seen by the unit"
assert_eq 2026-11-20 "$(jq -r .report_date <<<"$m")" "report date seen by the unit"
assert_eq 会计 "$(jq -r .occupation <<<"$m")" "card occupation seen by the unit"
assert_eq 治安巡逻 "$(jq -r .willingness <<<"$m")" "card willingness seen by the unit"
assert_eq 周末 "$(jq -r .rest_time <<<"$m")" "card rest time seen by the unit"
assert_eq 1 "$(jq '.feedback | length' <<<"$m")" "feedback letters seen by the unit"
assert_eq "$fb" "$(jq -r '.feedback[0].event_id' <<<"$m")" "feedback id seen by the unit"
assert_eq poor "$(jq -r '.feedback[0].rating' <<<"$m")" "feedback rating seen by the unit"
assert_eq true "$(jq -r '.feedback[0].non_participation' <<<"$m")" "non-participation flag"
assert_eq 长期不参加活动 "$(jq -r '.feedback[0].text' <<<"$m")" "feedback text"

log "the broker refolds member records while no letters come (the nodes still PING)"
# The broker defers every fold at commit, and nothing here reads a record on the broker
# (status only counts the deferred ones), so reaching 0 means the idle refold ran. How many
# wait at one moment is not asserted: the refold may already have run (ASan, -j2).
all_folded() { [ "$(json_get br .members_unfolded)" -eq 0 ]; }
wait_for all_folded --deadline 20
assert_eq 0 "$(json_get br .counters.rejected)" "nothing else happened meanwhile"

log "unit:u1 answers with a handling result"
run_ok cli u1 handling send --member M001 --feedback "$fb" --action criticism \
    --text 已批评教育 >/dev/null
sync_wait u1
sync_wait c1
m=$(run_ok cli c1 member show M001 --json)
assert_eq 1 "$(jq '.handling | length' <<<"$m")" "handling results seen by the community"
assert_eq "$fb" "$(jq -r '.handling[0].feedback_id' <<<"$m")" "handling refers to the feedback"
assert_eq criticism "$(jq -r '.handling[0].action' <<<"$m")" "handling action"
assert_eq 已批评教育 "$(jq -r '.handling[0].text' <<<"$m")" "handling text"
assert_eq 5 "$(jq -r .events <<<"$m")" "events in the community's record"

log "digests agree on unit, community and broker"
du=$(member_digest u1 M001)
dc=$(member_digest c1 M001)
db=$(broker_digest M001)
[[ "$du" =~ ^[0-9a-f]{64}$ ]] || fail "unit digest is not 64 hex digits: '$du'"
assert_eq "$du" "$dc" "digest of M001: unit vs community"
assert_eq "$du" "$db" "digest of M001: unit vs broker"
assert_eq "$(jq -r .digest <<<"$m")" "$dc" "member show digest vs digest command"

log "orgs with no business with M001 do not see it"
sync_wait u2
sync_wait c2
assert_eq 0 "$(member_count u2)" "members seen by unit:u2"
assert_eq 0 "$(member_count c2)" "members seen by community:c2"
assert_exit 1 cli c2 member show M001 --json

log "status counters: everything acked, nothing rejected"
for n in u1 c1; do
    s=$(run_ok cli "$n" status --json)
    assert_eq "$(jq .own_seq <<<"$s")" "$(jq .acked <<<"$s")" "$n own_seq vs acked"
    assert_eq 0 "$(jq .pending <<<"$s")" "$n pending"
    assert_eq 0 "$(jq '.counters.rejected + .counters.forks' <<<"$s")" "$n rejected+forks"
done
assert_eq 0 "$(json_get br '.counters.rejected + .counters.malformed + .counters.forks')" \
    "broker rejected+malformed+forks"
assert_eq 2 "$(broker_peer .stored_upto unit:u1)" "broker stored_upto of unit:u1"
assert_eq 3 "$(broker_peer .stored_upto community:c1)" "broker stored_upto of community:c1"

log "a batch introducing one member twice is refused whole (the broker would refuse the second)"
before=$(json_get u1 .own_seq)
printf 'intro send --member M777 --name 甲 --community community:c1\nintro send --member M777 --name 甲 --community community:c2\n' >"$T/dup.txt"
rc=0
cli u1 batch "$T/dup.txt" >/dev/null 2>"$T/dup.err" || rc=$?
assert_eq 1 "$rc" "duplicate introduction in one batch refused"
assert_contains "$(cat "$T/dup.err")" "第 2 行" "the error names the offending line"
assert_eq "$before" "$(json_get u1 .own_seq)" "nothing of the batch written"

stop c2
stop c1
stop u2
stop u1
stop br
