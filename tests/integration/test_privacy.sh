#!/usr/bin/env bash
# Personal data stays with the orgs that have business with the member (DESIGN section 9):
#   - a community never receives an event about a member not registered with it, also
#     after the member moved away: the old community's record is frozen at the move-out
#     (closed "moved") and later letters (card, feedback, handling, visit, ...) reach only
#     the new community; a third community never has the member at all;
#   - the old community can no longer write about the moved member;
#   - a unit cannot introduce a member registered by another unit: the broker stores the
#     letter (the unit's sequence goes on) but delivers it to nobody, and the unit's
#     counters.refused grows; the other side never sees it;
#   - after a release, the new unit and community get a fresh record; the old ones keep
#     their frozen record and see nothing more;
#   - the street report names no member (no id, no name) in JSON or CSV.
. "$(dirname "$0")/lib.sh" "$@"

init_street 2 3
for n in br u1 u2 c1 c2 c3; do start "$n"; done
wait_ready u1 u2 c1 c2 c3
NODES=(u1 u2 c1 c2 c3)

M=PV-001 M_NAME=钱多多     # u1, lives in c1, moves to c2
Y=PV-002 Y_NAME=孙悟空     # u1, lives in c1; u2 tries to introduce it too
X=PV-003 X_NAME=沙和尚     # u1, lives in c2; released, then introduced by u2 to c3
Z=PV-004 Z_NAME=白龙马     # u2, lives in c3

log "introductions, report-ins, cards, group, attendance"
cat >"$T/u1.txt" <<EOF
intro send --member $M --name $M_NAME --community community:c1 --contact 13900000001 --date 2026-01-05
intro send --member $Y --name $Y_NAME --community community:c1 --date 2026-01-05
intro send --member $X --name $X_NAME --community community:c2 --date 2026-01-05
EOF
run_ok cli u1 batch "$T/u1.txt" >/dev/null
run_ok cli u2 intro send --member $Z --name $Z_NAME --community community:c3 --date 2026-01-05 >/dev/null
sync_all "${NODES[@]}"
cat >"$T/c1.txt" <<EOF
report --member $M --date 2026-01-10
report --member $Y --date 2026-01-11
card set --member $M --occupation 教师 --willingness 治安巡逻 --rest-time 周末 --categories 治安巡逻 --contact 13900000001
group add --group b1 --title 1号楼
EOF
run_ok cli c1 batch "$T/c1.txt" >/dev/null
run_ok cli c1 group assign --member $M --group b1 --date 2026-01-15 >/dev/null
ACT=$(write1 c1 activity add --kind activity-day --title 主题党日 --date 2026-03-05 --minutes 120)
run_ok cli c1 attendance record --member $M --activity "$ACT" >/dev/null
run_ok cli c2 report --member $X --date 2026-01-12 >/dev/null
run_ok cli c3 report --member $Z --date 2026-01-13 >/dev/null
sync_all "${NODES[@]}"

log "u1 moves $M from c1 to c2"
c1_before_move=$(json_get c1 .counters.applied)
run_ok cli u1 member move --member $M --community community:c2 --date 2026-06-01 >/dev/null
sync_all "${NODES[@]}"
# The move is a move-out (to c1) and an introduction (to c2): c1 gets the first only.
assert_eq $((c1_before_move + 1)) "$(json_get c1 .counters.applied)" "events applied by c1 for the move"
C1_REC=$(run_ok cli c1 member show $M --json)
assert_eq moved "$(jq -r .closed <<<"$C1_REC")" "the old community's record is closed as moved"
assert_eq 2026-06-01 "$(jq -r .closed_date <<<"$C1_REC")" "move-out date at the old community"
assert_eq false "$(jq -r .open <<<"$C1_REC")" "the old registration is not open"
assert_eq community:c1 "$(jq -r .community <<<"$C1_REC")" "c1's record keeps c1 as the community"
C1_EVENTS=$(jq -r .events <<<"$C1_REC")
assert_eq 6 "$C1_EVENTS" "events of the old registration: intro, report-in, card, group, attendance, move-out"
C1_APPLIED=$(json_get c1 .counters.applied)
C3_APPLIED=$(json_get c3 .counters.applied)
assert_eq "" "$(cli c1 members --json | jq -r --arg m $M '.[] | select(.member == $m) | .member')" \
    "the moved member is not among c1's members"
assert_eq moved "$(cli c1 members --all --json | jq -r --arg m $M '.[] | select(.member == $m) | .closed')" \
    "members --all shows the moved member as closed"

log "letters about $M after the move: c2 registers it, feedback, handling, visit, opinion, notice"
cat >"$T/c2.txt" <<EOF
report --member $M --date 2026-06-05
card set --member $M --occupation 医生 --willingness 助老助残 --rest-time 工作日晚上 --skills 急救 --categories 助老助残 --contact 13900000009
group add --group e1 --title 东区1栋
EOF
run_ok cli c2 batch "$T/c2.txt" >/dev/null
run_ok cli c2 group assign --member $M --group e1 --date 2026-06-06 >/dev/null
FB=$(write1 c2 feedback send --member $M --rating poor --non-participation --year 2026 --text 迁入后未参加活动 --date 2026-12-10)
sync_all u1 c2
write1 u1 handling send --member $M --feedback "$FB" --action criticism --text 已批评教育 --date 2026-12-15 >/dev/null
write1 u1 visit record --member $M --text 走访新社区 --date 2026-12-16 >/dev/null
DIFF=$(write1 u1 difficulty raise --member $M --text 家庭困难 --date 2026-12-16)
REQ=$(write1 u1 opinion request --member $M --kind democratic-appraisal --subject 民主评议 --date 2026-12-01)
NOTICE=$(write1 u1 notice post --member $M --title 公示 --matter 拟评为合格党员 --start 2026-12-21)
sync_all "${NODES[@]}"

log "c1 holds nothing of it: record frozen at the move-out, no new events applied"
assert_eq "$C1_REC" "$(run_ok cli c1 member show $M --json)" "c1's record of the moved member"
assert_eq "$C1_APPLIED" "$(json_get c1 .counters.applied)" "events applied by c1 after the move"
assert_eq 教师 "$(jq -r .occupation <<<"$C1_REC")" "c1 keeps the card as it was"
assert_eq 0 "$(jq '.feedback | length' <<<"$C1_REC")" "no feedback in c1's record"
log "c2 has all of it"
rec=$(run_ok cli c2 member show $M --json)
assert_eq 医生 "$(jq -r .occupation <<<"$rec")" "card at the new community"
assert_eq "$FB" "$(jq -r '.feedback[0].event_id' <<<"$rec")" "feedback at the new community"
assert_eq 0 "$(jq -r '.feedback[0].activities' <<<"$rec")" "c1's attendance does not follow the member"
assert_eq criticism "$(jq -r '.handling[0].action' <<<"$rec")" "handling at the new community"
assert_eq 1 "$(jq '.visits | length' <<<"$rec")" "visit at the new community"
assert_eq "$DIFF" "$(jq -r '.difficulties[0].event_id' <<<"$rec")" "difficulty at the new community"
assert_eq "$REQ" "$(jq -r '.opinions[0].event_id' <<<"$rec")" "opinion request at the new community"
assert_eq "$NOTICE" "$(jq -r '.notices[0].event_id' <<<"$rec")" "notice at the new community"
assert_eq 0 "$(jq '.attendance | length' <<<"$rec")" "no attendance carried over"
assert_eq "$(member_digest u1 $M)" "$(member_digest c2 $M)" "digest of $M: unit vs new community"
assert_eq "$(member_digest u1 $M)" "$(broker_digest $M)" "digest of $M: unit vs broker"
assert_ne "$(member_digest c1 $M)" "$(member_digest c2 $M)" "old and new community records differ"
log "c3 and u2 never have it"
assert_exit 1 cli c3 member show $M --json --lang en
assert_contains "$OUT" "unknown member" "c3's error for $M"
assert_exit 1 cli u2 member show $M --json
assert_eq "$C3_APPLIED" "$(json_get c3 .counters.applied)" "events applied by c3"
assert_eq "$Z" "$(cli c3 members --all --json | jq -r '[.[].member] | join(",")')" "c3's members"

log "c1's own reads no longer show the moved member (tasks, annual report)"
try cli c1 tasks --as-of 2026-12-31 --json
if [ "$RC" -ne 0 ]; then
    soft_fail "tasks on c1 exited $RC: $ERR"
else
    check_not_contains "$OUT" "$M" "c1's tasks after the move"
    check_not_contains "$OUT" "$M_NAME" "c1's tasks after the move"
fi
try cli c1 report --year 2026 --json
if [ "$RC" -ne 0 ]; then
    soft_fail "report --year 2026 on c1 exited $RC: $ERR"
else
    check_not_contains "$OUT" "$M" "c1's annual report after the move"
    check_not_contains "$OUT" "$M_NAME" "c1's annual report after the move"
fi
for n in c3 u2; do
    for what in "tasks --as-of 2026-12-31" "report --year 2026"; do
        # shellcheck disable=SC2086
        try cli "$n" $what --json
        [ "$RC" -eq 0 ] || { soft_fail "$what on $n exited $RC: $ERR"; continue; }
        check_not_contains "$OUT" "$M" "$n's $what"
        check_not_contains "$OUT" "$M_NAME" "$n's $what"
    done
done

log "the old community cannot write about the moved member any more"
seq_c1=$(own_seq c1)
refused_old() { # ARGS...: a c1 command about $M, refused in Chinese and in English, no change
    try cli c1 "$@"
    [ "$RC" -eq 1 ] || [ "$RC" -eq 2 ] || soft_fail "c1 $*: exit $RC (expected 1 or 2): $OUT $ERR"
    [[ $ERR == *错误* ]] || soft_fail "c1 $*: no Chinese error: $ERR"
    try cli c1 "$@" --lang en
    [[ $ERR == *error* ]] || soft_fail "c1 $*: no English error: $ERR"
    [[ $ERR == *closed* || $ERR == *"does not belong"* || $ERR == *"no such"* ]] ||
        soft_fail "c1 $*: the error does not say the registration is closed: $ERR"
    check_eq "$seq_c1" "$(own_seq c1)" "c1 own_seq after: $*"
}
refused_old card set --member $M --occupation 工程师
refused_old report --member $M --date 2026-07-01
refused_old feedback send --member $M --rating good --year 2026 --date 2026-12-01
refused_old group assign --member $M --group b1 --date 2026-07-01
refused_old attendance record --member $M --activity "$ACT"
refused_old registration close --member $M --reason revoked --date 2026-07-01
refused_old notice respond --member $M --notice "$NOTICE" --status posted --date 2026-12-21
refused_old difficulty resolve --member $M --difficulty "$DIFF" --text 已解决 --date 2026-12-20
refused_old opinion reply --member $M --request "$REQ" --verdict agree --date 2026-12-05
team_seq=$(own_seq c1)
run_ok cli c1 team add --team p1 --title 巡逻队 --kind patrol >/dev/null
seq_c1=$(own_seq c1)
refused_old team join --member $M --team p1 --date 2026-07-01
assert_eq "$C1_REC" "$(run_ok cli c1 member show $M --json)" "c1's record after the refused letters"
assert_gt "$seq_c1" "$team_seq" "c1 still writes its other letters"

log "u1 itself: a second introduction of its open member is refused locally"
seq_u1=$(own_seq u1)
assert_exit 1 cli u1 intro send --member $Y --name $Y_NAME --community community:c2 --date 2026-07-01
assert_contains "$OUT" "member move" "the error points to member move"
assert_exit 1 cli u1 intro send --member $Y --name $Y_NAME --community community:c1 --date 2026-07-01 \
    --lang en
assert_contains "$OUT" "error:" "English error"
assert_eq "$seq_u1" "$(own_seq u1)" "u1 own_seq after the refused introductions"

log "u1 releases $X; u2 introduces it to c3: fresh record there, old sides frozen"
run_ok cli u1 member release --member $X --text 组织关系转出 --date 2026-08-01 >/dev/null
sync_all "${NODES[@]}"
X_U1=$(run_ok cli u1 member show $X --json)
X_C2=$(run_ok cli c2 member show $X --json)
assert_eq released "$(jq -r .closed <<<"$X_U1")" "release at the old unit"
assert_eq released "$(jq -r .closed <<<"$X_C2")" "release at the old community"
run_ok cli u2 intro send --member $X --name $X_NAME --community community:c3 --date 2026-08-10 >/dev/null
sync_all "${NODES[@]}"
run_ok cli c3 report --member $X --date 2026-08-15 >/dev/null
run_ok cli c3 card set --member $X --occupation 司机 >/dev/null
sync_all "${NODES[@]}"
rec=$(run_ok cli u2 member show $X --json)
assert_eq community:c3 "$(jq -r .community <<<"$rec")" "the new unit's record of $X"
assert_eq 司机 "$(jq -r .occupation <<<"$rec")" "c3's card reaches the new unit"
assert_eq "$X_U1" "$(run_ok cli u1 member show $X --json)" "the old unit's record of $X is frozen"
assert_eq "$X_C2" "$(run_ok cli c2 member show $X --json)" "the old community's record of $X is frozen"
assert_eq "$(member_digest u2 $X)" "$(member_digest c3 $X)" "digest of $X: new unit vs new community"
assert_eq "$(member_digest u2 $X)" "$(broker_digest $X)" "digest of $X: new unit vs broker"
assert_exit 1 cli c1 member show $X --json

log "u2 introduces $Y (registered by u1 with c1): stored by the broker, delivered to nobody"
Y_C1=$(run_ok cli c1 member show $Y --json)
Y_DIGEST=$(member_digest u1 $Y)
c1_applied=$(json_get c1 .counters.applied)
c2_applied=$(json_get c2 .counters.applied)
seq_u2=$(own_seq u2)
# The broker is away, so u2 cannot hear about the refusal before it writes a second
# letter about the member: both must end refused, neither may hold back u2's outbox.
stop br
run_ok cli u2 intro send --member $Y --name 冒名 --community community:c1 --date 2026-07-01 >/dev/null
# u2 now holds its own (undelivered) introduction: a second one elsewhere is refused
# locally; a letter about the member is written, and refused by the broker in turn.
try cli u2 intro send --member $Y --name 冒名 --community community:c2 --date 2026-07-02
assert_eq 1 "$RC" "u2's second introduction of $Y, refused locally"
run_ok cli u2 visit record --member $Y --text 冒名走访 --date 2026-07-03 >/dev/null
wrote=$(($(own_seq u2) - seq_u2))
assert_eq 2 "$wrote" "u2 wrote its introduction (it could not know) and a visit"
start br
wait_ready u1 u2 c1 c2 c3
# Both are final for the broker: stored (acked, u2's sequence goes on) and refused. A
# letter that waits for a route instead would hold back every later letter of u2.
if ! try_wait_for json_is u2 .unacked 0 --deadline 15; then
    soft_fail "u2's outbox is stuck behind its letter about $Y (another unit's member): $(cli u2 status --json | jq -c '{own_seq,acked,last_error,counters}')"
fi
try_wait_for json_ge u2 .counters.refused 1 --deadline 5 ||
    soft_fail "u2's counters.refused: expected at least 1, got $(json_get u2 .counters.refused)"
# u2 now knows: its record of the member says refused, and it writes nothing more.
check_contains "$(run_ok cli u2 member show $Y --json | jq -r .refused)" "another unit" \
    "u2's record of $Y carries the broker's refusal"
try cli u2 visit record --member $Y --text 再次走访 --date 2026-07-04 --lang en
check_eq 1 "$RC" "u2 refuses a further letter about $Y locally"
check_contains "$ERR" "refused" "u2's refusal says why"
check_eq 0 "$(($(own_seq u2) - seq_u2 - wrote))" "nothing more written by u2"
check_eq 0 "$(cli u2 members --json | jq "[.[] | select(.member == \"$Y\")] | length")" \
    "u2's member list does not show $Y"
check_contains "$(json_get u2 .last_error)" "regist" "u2's last error says why"
check_eq ready "$(json_get u2 .state)" "u2 is not blocked by the refusal"
sync_all u1 c1 c2 c3
assert_eq "$Y_C1" "$(run_ok cli c1 member show $Y --json)" "c1's record of $Y after u2's introduction"
assert_eq "$c1_applied" "$(json_get c1 .counters.applied)" "events applied by c1"
assert_eq "$c2_applied" "$(json_get c2 .counters.applied)" "events applied by c2"
assert_exit 1 cli c2 member show $Y --json
assert_eq "$Y_DIGEST" "$(member_digest c1 $Y)" "digest of $Y at c1 unchanged"
assert_eq "$Y_DIGEST" "$(broker_digest $Y)" "the broker's record of $Y ignores u2's letters"
assert_eq unit:u1 "$(jq -r .unit <<<"$(run_ok cli c1 member show $Y --json)")" "$Y stays with u1"
assert_eq 0 "$(json_get u1 .counters.refused)" "u1 had nothing refused"

log "the street report names no member (JSON and CSV)"
for fmt in --json --csv; do
    try broker report --year 2026 --as-of 2026-12-31 $fmt
    if [ "$RC" -ne 0 ]; then
        soft_fail "broker report --year 2026 $fmt exited $RC: $ERR"
        continue
    fi
    [ -n "$OUT" ] || soft_fail "broker report $fmt is empty"
    for s in $M $Y $X $Z $M_NAME $Y_NAME $X_NAME $Z_NAME 冒名; do
        check_not_contains "$OUT" "$s" "street report $fmt"
    done
    check_contains "$OUT" "community:c1" "street report $fmt lists the orgs"
done

for n in c3 c2 c1 u2 u1 br; do stop "$n"; done
soft_done
