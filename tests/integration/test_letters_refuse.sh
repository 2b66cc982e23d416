#!/usr/bin/env bash
# Every write command refuses bad input with an error in Chinese and English on stderr,
# exit status 1 (refused by the node) or 2 (bad command line), and changes nothing (every
# node's own_seq stays through each section; at the end every member record on every node
# is as before):
#   - a side that may not issue the letter (every unit letter run by a community and every
#     community letter run by a unit);
#   - references to letters, groups, teams or members that do not exist here;
#   - malformed dates, member ids and org ids; text that is not UTF-8 or too long;
#   - enum values and kinds outside their (configured) lists;
#   - a feedback letter for a period already covered; a notice shorter than the minimum;
#   - a batch with one bad line.
# Every case is evaluated; the failures are listed together at the end.
. "$(dirname "$0")/lib.sh" "$@"

init_street 2 2
for n in br u1 u2 c1 c2; do start "$n"; done
wait_ready u1 u2 c1 c2
NODES=(u1 u2 c1 c2)

A=RF-A B=RF-B C=RF-C
log "a few good letters to refer to"
run_ok cli u1 intro send --member $A --name 张三 --community community:c1 --date 2026-01-05 >/dev/null
run_ok cli u1 intro send --member $B --name 李四 --community community:c1 --date 2026-01-05 >/dev/null
run_ok cli u2 intro send --member $C --name 王五 --community community:c2 --date 2026-01-05 >/dev/null
sync_all "${NODES[@]}"
run_ok cli c1 report --member $A --date 2026-01-10 >/dev/null
run_ok cli c1 card set --member $A --occupation 教师 --categories 治安巡逻 >/dev/null
G1=$(write1 c1 group add --group g1 --title 1号楼)
run_ok cli c1 team add --team t1 --title 巡逻队 --kind patrol >/dev/null
ACT=$(write1 c1 activity add --kind activity-day --title 主题党日 --date 2026-03-05 --minutes 60)
run_ok cli c1 attendance record --member $A --activity "$ACT" >/dev/null
FB=$(write1 c1 feedback send --member $A --rating good --year 2026 --date 2026-12-01)
NEED=$(write1 c1 need publish --kind wish --title 微心愿 --date 2026-04-01)
NEED_OPEN=$(write1 c1 need publish --kind community --title 社区需求 --date 2026-04-01)
NEED_OK=$(write1 c1 need publish --kind wish --title 微心愿二 --date 2026-04-01)
NEED2=$(write1 c2 need publish --kind community --title 社区需求 --date 2026-04-01)
sync_all "${NODES[@]}"
REQ=$(write1 u1 opinion request --member $A --kind excellent-member --subject 评优 --due 2026-06-30 --date 2026-06-01)
REQ_O=$(write1 u1 opinion request --community community:c1 --kind advanced-org --subject 先进 --date 2026-06-01)
NOTICE=$(write1 u1 notice post --member $A --title 公示 --matter 拟推荐 --start 2026-06-22)
DIFF=$(write1 u1 difficulty raise --member $A --text 困难 --date 2026-05-01)
CLAIM=$(write1 u1 claim send --need "$NEED" --claimant $A --date 2026-04-02)
# The same kinds of letters left open, for the cases that must fail on something else.
REQ_OPEN=$(write1 u1 opinion request --member $A --kind democratic-appraisal --subject 民主评议 --date 2026-06-01)
REQ_O_OPEN=$(write1 u1 opinion request --community community:c1 --kind civilised-unit --subject 文明单位 --date 2026-06-01)
NOTICE_OPEN=$(write1 u1 notice post --member $A --title 公示二 --matter 拟推荐 --start 2026-09-07)
DIFF_OPEN=$(write1 u1 difficulty raise --member $A --text 困难二 --date 2026-05-02)
CLAIM_OPEN=$(write1 u1 claim send --need "$NEED_OPEN" --date 2026-04-02)
CLAIM_OK=$(write1 u1 claim send --need "$NEED_OK" --date 2026-04-02)
CLAIM_NO=$(write1 u1 claim send --need "$NEED_OK" --claimant $A --date 2026-04-02)
CLAIM2=$(write1 u2 claim send --need "$NEED2" --date 2026-04-02)
sync_all "${NODES[@]}"
# Done once, so that doing it again is refused.
run_ok cli c1 opinion reply --member $A --request "$REQ" --verdict agree --date 2026-06-10 >/dev/null
run_ok cli c1 notice respond --member $A --notice "$NOTICE" --status posted --date 2026-06-22 >/dev/null
run_ok cli c1 difficulty resolve --member $A --difficulty "$DIFF" --text 已解决 --date 2026-05-20 >/dev/null
run_ok cli c1 claim decide --claim "$CLAIM" --decision approve --date 2026-04-05 >/dev/null
run_ok cli c1 need fulfil --need "$NEED" --claim "$CLAIM" --date 2026-04-20 >/dev/null
run_ok cli c1 claim decide --claim "$CLAIM_OK" --decision approve --date 2026-04-05 >/dev/null
run_ok cli c1 claim decide --claim "$CLAIM_NO" --decision decline --date 2026-04-05 >/dev/null
run_ok cli c1 opinion reply --request "$REQ_O" --verdict agree --date 2026-06-10 >/dev/null
sync_all "${NODES[@]}"

# Snapshot: every record on every node, and every own_seq.
snapshot() {
    local n
    for n in "${NODES[@]}"; do
        echo "$n $(own_seq "$n") $(cli "$n" members --all --json | jq -c '[.[] | [.member, .digest]]')"
    done
    broker digests --json | jq -c '[.[] | [.member, .digest]]'
}
BEFORE=$(snapshot)
declare -A SEQ
for n in "${NODES[@]}"; do SEQ[$n]=$(own_seq "$n"); done
CASES=0

# Under the sanitizers (DS_SANITIZED=1) every CLI process starts slowly and this test took
# six minutes of CI's ASan stage: there the English rerun is made for every fourth case
# only (each path is the same code with the other language's texts); the dev stage runs
# it for every case.
english_too() { [ "${DS_SANITIZED:-0}" != 1 ] || [ $((CASES % 4)) = 0 ]; }

# refuse NODE WANT ARGS...: `dualsync --data NODE ARGS...` must exit 1 or 2 with an error
# on stderr in Chinese (the default), and, run again with --lang en, the same exit status
# and the error in English (containing WANT unless WANT is empty; english_too says when).
# That it wrote nothing is checked per section (section): the own_seq of every node, read
# once per case, made up a third of this test's processes.
refuse() {
    local node=$1 want=$2 what rc_zh
    shift 2
    CASES=$((CASES + 1))
    what="$node: $*"
    what=${what:0:140}
    try cli "$node" "$@"
    rc_zh=$RC
    if [ "$RC" -eq 0 ]; then
        soft_fail "$what: accepted, must be refused: ${OUT:0:200}"
    elif [ "$RC" -ne 1 ] && [ "$RC" -ne 2 ]; then
        soft_fail "$what: exit status $RC, expected 1 or 2: ${ERR:0:300}"
    else
        [[ $ERR == *错误* ]] || soft_fail "$what: no Chinese error on stderr: ${ERR:0:300}"
        [[ $ERR != *error* ]] || soft_fail "$what: English in the Chinese error: ${ERR:0:300}"
        english_too || return 0
        try cli "$node" "$@" --lang en
        [ "$RC" -eq "$rc_zh" ] || soft_fail "$what: exit status $RC in English, $rc_zh in Chinese"
        [[ $ERR == *error* ]] || soft_fail "$what: no English error on stderr: ${ERR:0:300}"
        [ -z "$want" ] || [[ $ERR == *"$want"* ]] ||
            soft_fail "$what: the error does not say '$want': ${ERR:0:300}"
    fi
}

# section TITLE: every node's own_seq is still what it was when the previous section
# began (no refused command of it wrote an event); then TITLE begins.
SECTION=
section() {
    local n now
    for n in "${NODES[@]}"; do
        now=$(own_seq "$n")
        [ "$now" = "${SEQ[$n]}" ] ||
            soft_fail "$SECTION: $n's own_seq changed from ${SEQ[$n]} to $now"
        SEQ[$n]=$now
    done
    SECTION=$1
    [ -z "$SECTION" ] || log "$SECTION"
}

# ---------------------------------------------------------------- the wrong side
section "every unit letter run by a community, every community letter run by a unit"
UM='only a unit may send'
refuse c1 "$UM" intro send --member RF-X --name 某 --community community:c1 --date 2026-01-05
refuse c1 "$UM" member move --member $A --community community:c2 --date 2026-07-01
refuse c1 "$UM" member release --member $A --date 2026-07-01
refuse c1 "$UM" handling send --member $A --feedback "$FB" --action criticism
refuse c1 "$UM" opinion request --member $A --kind excellent-member --subject 评优
refuse c1 "$UM" opinion request --community community:c1 --kind advanced-org --subject 先进
refuse c1 "$UM" notice post --member $A --title 公示 --matter 拟推荐 --start 2026-06-22
refuse c1 "$UM" visit record --member $A --text 走访
refuse c1 "$UM" difficulty raise --member $A --text 困难
refuse c1 "$UM" claim send --need "$NEED"
refuse c1 "$UM" offer send --community community:c1 --title 资源
printf 'member,name,community\nRF-Y,某,community:c1\n' >"$T/roster.csv"
refuse c1 "" import members "$T/roster.csv"
CM='only a community may send'
refuse u1 "$CM" report --member $A --date 2026-01-10
refuse u1 "$CM" card set --member $A --occupation 教师
refuse u1 "$CM" registration close --member $A --reason returned
refuse u1 "$CM" group add --group g2 --title 2号楼
refuse u1 "$CM" group assign --member $A --group g1
refuse u1 "$CM" team add --team t2 --title 保洁队 --kind sanitation
refuse u1 "$CM" team join --member $A --team t1
refuse u1 "$CM" activity add --kind activity-day --title 活动
refuse u1 "$CM" attendance record --member $A --activity "$ACT"
refuse u1 "$CM" liaison add --name 某 --side unit --role 联络员
refuse u1 "$CM" feedback send --member $A --rating good --year 2027
refuse u1 "$CM" opinion reply --member $A --request "$REQ" --verdict agree
refuse u1 "$CM" opinion reply --request "$REQ_O" --verdict agree
refuse u1 "$CM" notice respond --member $A --notice "$NOTICE" --status no-objections
refuse u1 "$CM" difficulty resolve --member $A --difficulty "$DIFF"
refuse u1 "$CM" need publish --kind wish --title 心愿
refuse u1 "$CM" claim decide --claim "$CLAIM" --decision approve
refuse u1 "$CM" need fulfil --need "$NEED" --claim "$CLAIM"

# ---------------------------------------------------------------- unknown references
section "references to letters, groups, teams and members that do not exist here"
refuse u1 "no such feedback" handling send --member $A --feedback community:c1/999 --action criticism
refuse u1 "" handling send --member $A --feedback not-an-id --action criticism
refuse u1 "no such feedback" handling send --member $A --feedback "$ACT" --action criticism
refuse u1 "no such feedback" handling send --member $B --feedback "$FB" --action criticism
refuse c1 "no such opinion request" opinion reply --member $A --request unit:u1/999 --verdict agree
refuse c1 "" opinion reply --request unit:u1/999 --verdict agree
refuse c1 "" opinion reply --request "$NOTICE" --verdict agree
refuse c1 "" opinion reply --member $A --request "$REQ_O_OPEN" --verdict agree
refuse c1 "" opinion reply --request "$REQ_OPEN" --verdict agree
refuse c1 "no such notice" notice respond --member $A --notice unit:u1/999 --status posted
refuse c1 "no such notice" notice respond --member $A --notice "$REQ" --status posted
refuse c1 "" attendance record --member $A --activity community:c1/999
refuse c1 "" attendance record --member $A --activity "$G1"
refuse c1 "" attendance record --member $A --activity community:c2/1
refuse u1 "" claim send --need community:c1/999
refuse u1 "" claim send --need "$NEED2"
refuse u1 "" claim send --need "$CLAIM"
refuse c1 "" claim decide --claim unit:u1/999 --decision approve
refuse c1 "" claim decide --claim "$CLAIM2" --decision approve
refuse c1 "" need fulfil --need community:c1/999 --claim "$CLAIM"
refuse c1 "" need fulfil --need "$NEED" --claim unit:u1/999
refuse c1 "" need fulfil --need "$NEED2" --claim "$CLAIM"
refuse c1 "no such difficulty" difficulty resolve --member $A --difficulty unit:u1/999
refuse c1 "no such building group" group assign --member $A --group nosuch
refuse c1 "no such volunteer team" team join --member $A --team nosuch
refuse c1 "unknown member" group add --group g3 --title 3号楼 --leader NOSUCH
refuse c1 "unknown member" report --member NOSUCH --date 2026-01-10
refuse c1 "unknown member" card set --member $C --occupation 教师
refuse u1 "unknown member" visit record --member NOSUCH --text 走访
refuse u1 "unknown member" visit record --member $C --text 走访
refuse u1 "unknown member" member move --member NOSUCH --community community:c2
refuse u1 "unknown member" member release --member NOSUCH
refuse u1 "unknown member" claim send --need "$NEED" --claimant NOSUCH
refuse u1 "unknown member" opinion request --member NOSUCH --kind excellent-member --subject 评优

section "things already done are not done twice"
refuse c1 "answered" opinion reply --member $A --request "$REQ" --verdict disagree
refuse c1 "already" notice respond --member $A --notice "$NOTICE" --status posted
refuse c1 "already" difficulty resolve --member $A --difficulty "$DIFF"
refuse c1 "already" claim decide --claim "$CLAIM" --decision decline
refuse c1 "already" attendance record --member $A --activity "$ACT"
refuse c1 "already" opinion reply --request "$REQ_O" --verdict disagree
refuse c1 "already" need fulfil --need "$NEED" --claim "$CLAIM"
section "a need is fulfilled only through an approved claim; a card is never empty"
refuse c1 "" need fulfil --need "$NEED_OPEN" --claim "$CLAIM_OPEN"
refuse c1 "" need fulfil --need "$NEED_OK" --claim "$CLAIM_NO"
refuse c1 "" card set --member $B
refuse u1 "already" intro send --member $A --name 张三 --community community:c1
refuse u1 "already" member move --member $A --community community:c1

# ---------------------------------------------------------------- dates
section "malformed dates (2026-1-5 and 2026/1/5 are dates: test_everyday)"
for D in 2026-02-30 2026-13-01 yesterday 2025-02-29 2026/2/30 2026-00-10 26-01-05 2026.1.5 2026-1/5; do
    refuse c1 "" report --member $B --date "$D"
    refuse u1 "" visit record --member $A --text 走访 --date "$D"
done
for D in 2026-02-30 2026-13-01 yesterday; do
    refuse c1 "YYYY-MM-DD" feedback send --member $A --rating good --year 2027 --date "$D"
    refuse u1 "YYYY-MM-DD" intro send --member RF-N --name 某 --community community:c1 --date "$D"
    refuse u1 "YYYY-MM-DD" opinion request --member $A --kind excellent-member --subject 评优 --due "$D"
    refuse u1 "YYYY-MM-DD" notice post --member $A --title 公示 --matter 拟推荐 --start "$D"
    refuse c1 "YYYY-MM-DD" activity add --kind activity-day --title 活动 --date "$D"
    refuse c1 "YYYY-MM-DD" need publish --kind wish --title 心愿 --date "$D"
    refuse c1 "YYYY-MM-DD" group assign --member $A --group g1 --date "$D"
done
D=2026-02-30
refuse u1 "YYYY-MM-DD" member move --member $A --community community:c2 --date $D
refuse u1 "YYYY-MM-DD" member release --member $A --date $D
refuse u1 "YYYY-MM-DD" handling send --member $A --feedback "$FB" --action no-action --date $D
refuse u1 "YYYY-MM-DD" difficulty raise --member $A --text 困难 --date $D
refuse u1 "YYYY-MM-DD" claim send --need "$NEED" --date $D
refuse u1 "YYYY-MM-DD" offer send --community community:c1 --title 资源 --date $D
refuse u1 "YYYY-MM-DD" opinion request --member $A --kind excellent-member --subject 评优 --date $D
refuse c1 "YYYY-MM-DD" registration close --member $B --reason returned --date $D
refuse c1 "YYYY-MM-DD" team join --member $A --team t1 --date $D
refuse c1 "YYYY-MM-DD" opinion reply --request "$REQ_O_OPEN" --verdict agree --date $D
refuse c1 "YYYY-MM-DD" notice respond --member $A --notice "$NOTICE_OPEN" --status posted --date $D
refuse c1 "YYYY-MM-DD" claim decide --claim "$CLAIM_OPEN" --decision approve --date $D
refuse c1 "YYYY-MM-DD" difficulty resolve --member $A --difficulty "$DIFF_OPEN" --text 已解决 --date $D
refuse c1 "YYYY-MM-DD" need fulfil --need "$NEED_OK" --claim "$CLAIM_OK" --date $D
refuse c1 "" tasks --as-of $D
refuse c1 "" tasks --as-of yesterday

# ---------------------------------------------------------------- ids
section "malformed member ids and org ids"
LONG_ID=$(printf 'M%.0s' $(seq 65))
for X in "A B" "" "$LONG_ID" 张三 M/1 M_1 "M1;" "M1 "; do
    refuse c1 "invalid member id" report --member "$X" --date 2026-01-10
    refuse c1 "invalid member id" card set --member "$X" --occupation 教师
    refuse u1 "invalid member id" intro send --member "$X" --name 某 --community community:c1
    refuse u1 "invalid member id" visit record --member "$X" --text 走访
done
refuse u1 "" claim send --need "$NEED" --claimant "A B"
refuse u1 "" claim send --need "$NEED" --claimant "$LONG_ID"
refuse c1 "" group add --group g5 --title 5号楼 --leader "A B"
refuse c1 "" opinion reply --member "A B" --request "$REQ_OPEN" --verdict agree
# (a code alone, "c1", or the exact name "社区1" names community:c1: test_everyday)
for O in c9 community:C1 community: "community:c1 " unit:u2 community:nosuch street:jinyu "community:c1/x"; do
    refuse u1 "" intro send --member RF-N --name 某 --community "$O"
    refuse u1 "" offer send --community "$O" --title 资源
    refuse u1 "" opinion request --community "$O" --kind advanced-org --subject 先进
done
refuse u1 "" member move --member $A --community community:Bad
refuse u1 "" member move --member $A --community unit:u2
refuse c1 "" liaison add --name 某 --side unit --role 联络员 --org "unit:U 1"
refuse c1 "" liaison add --name 某 --side unit --role 联络员 --org u9
refuse c1 "" group add --group G1 --title 大写编号
refuse c1 "" group add --group "g 1" --title 空格编号
refuse c1 "" team add --team "$(printf 't%.0s' $(seq 49))" --title 长编号 --kind patrol

# ---------------------------------------------------------------- text
section "text that is not UTF-8, has control characters or is too long"
for BAD in "$(printf '\xff\xfe')" "$(printf 'ok\xc0\xaf')" "$(printf '\x80')" "$(printf '\xed\xa0\x80')" "$(printf '\xe5\xbc')" "$(printf 'a\x01b')" "$(printf 'a\x1bb')"; do
    refuse u1 "UTF-8" visit record --member $A --text "$BAD"
    refuse u1 "" intro send --member RF-N --name "$BAD" --community community:c1
    refuse c1 "" card set --member $A --occupation "$BAD"
    refuse c1 "" activity add --kind activity-day --title "$BAD"
done
BAD=$(printf '\xff\xfe')
refuse c1 "" feedback send --member $B --rating good --year 2026 --text "$BAD"
refuse c1 "" liaison add --name "$BAD" --side unit --role 联络员
refuse u1 "" opinion request --member $A --kind excellent-member --subject "$BAD"
refuse u1 "" notice post --member $A --title 公示 --matter "$BAD" --start 2026-07-06
refuse u1 "" offer send --community community:c1 --title "$BAD"
refuse c1 "" need publish --kind wish --title "$BAD"

rep() { python3 -c 'import sys; print(sys.argv[1] * int(sys.argv[2]))' "$1" "$2"; }
T4097=$(rep a 4097)
Z4098=$(rep 张 1366)  # 4098 bytes in 1366 characters
N129=$(rep a 129)
ZN129=$(rep 张 43)    # 129 bytes in 43 characters
S257=$(rep b 257)
ZS258=$(rep 张 86)    # 258 bytes in 86 characters
W='at most'
refuse u1 "$W" visit record --member $A --text "$T4097"
refuse u1 "$W" visit record --member $A --text "$Z4098"
refuse u1 "$W" difficulty raise --member $A --text "$T4097"
refuse u1 "$W" handling send --member $A --feedback "$FB" --action no-action --text "$T4097"
refuse u1 "$W" member release --member $A --text "$T4097"
refuse u1 "$W" claim send --need "$NEED" --text "$T4097"
refuse u1 "$W" offer send --community community:c1 --title 资源 --text "$T4097"
refuse u1 "$W" notice post --member $A --title 公示 --matter "$T4097" --start 2026-07-06
refuse c1 "$W" registration close --member $B --reason returned --text "$T4097"
refuse c1 "$W" feedback send --member $B --rating good --year 2026 --text "$Z4098"
refuse c1 "$W" opinion reply --request "$REQ_O_OPEN" --verdict agree --text "$T4097"
refuse c1 "$W" opinion reply --member $A --request "$REQ_OPEN" --verdict agree --text "$T4097"
refuse c1 "$W" notice respond --member $A --notice "$NOTICE_OPEN" --status posted --text "$T4097"
refuse c1 "$W" difficulty resolve --member $A --difficulty "$DIFF_OPEN" --text "$Z4098"
refuse c1 "$W" claim decide --claim "$CLAIM_OPEN" --decision approve --text "$T4097"
refuse c1 "$W" need publish --kind wish --title 心愿 --text "$T4097"
refuse c1 "$W" need fulfil --need "$NEED_OK" --claim "$CLAIM_OK" --text "$T4097"
refuse u1 "$W" intro send --member RF-N --name "$N129" --community community:c1
refuse u1 "$W" intro send --member RF-N --name "$ZN129" --community community:c1
refuse c1 "$W" liaison add --name "$ZN129" --side community --role 主任
refuse c1 "$W" activity add --kind activity-day --title "$N129"
refuse c1 "$W" activity add --kind activity-day --title "$ZN129"
refuse c1 "$W" group add --group g6 --title "$N129"
refuse c1 "$W" team add --team t6 --title "$ZN129" --kind patrol
refuse c1 "$W" need publish --kind wish --title "$ZN129"
refuse u1 "$W" offer send --community community:c1 --title "$N129"
refuse u1 "$W" notice post --member $A --title "$ZN129" --matter 拟推荐 --start 2026-07-06
refuse u1 "$W" opinion request --member $A --kind excellent-member --subject "$ZN129"
for F in occupation willingness rest-time skills contact; do
    refuse c1 "$W" card set --member $A --"$F" "$S257"
    refuse c1 "$W" card set --member $A --"$F" "$ZS258"
done
refuse u1 "$W" intro send --member RF-N --name 某 --community community:c1 --contact "$S257"
refuse c1 "$W" liaison add --name 某 --side community --role "$ZS258"

# ---------------------------------------------------------------- enums and kinds
section "enum values and kinds outside their lists"
refuse c1 "" feedback send --member $B --rating great --year 2026
refuse c1 "" feedback send --member $B --rating 4 --year 2026
refuse c1 "" feedback send --member $B --rating POOR --year 2026
refuse c1 "" feedback send --member $B --rating unspecified --year 2026
refuse u1 "" handling send --member $A --feedback "$FB" --action punish
refuse u1 "" handling send --member $A --feedback "$FB" --action 1
refuse c1 "" opinion reply --member $A --request "$REQ_OPEN" --verdict maybe
refuse c1 "" opinion reply --request "$REQ_O_OPEN" --verdict maybe
refuse c1 "" notice respond --member $A --notice "$NOTICE_OPEN" --status lost
refuse u1 "" opinion request --member $A --kind unknown --subject 评优
refuse u1 "" opinion request --member $A --kind advanced-org --subject 先进
refuse u1 "" opinion request --community community:c1 --kind excellent-member --subject 评优
refuse c1 "" need publish --kind unknown --title 心愿
refuse c1 "" registration close --member $B --reason lost
refuse c1 "" registration close --member $B --reason moved
refuse c1 "" registration close --member $B --reason released
refuse c1 "" claim decide --claim "$CLAIM_OPEN" --decision maybe
refuse c1 "" liaison add --name 某 --side both --role 联络员
refuse c1 "" team join --member $A --team t1 --leave maybe
refuse c1 "not in the configured list" activity add --kind disco --title 迪斯科
refuse c1 "not in the configured list" activity add --kind Activity-Day --title 活动
refuse c1 "not in the configured list" team add --team t7 --title 棋队 --kind chess
refuse c1 "not in the configured list" card set --member $A --categories 跳舞
refuse c1 "not in the configured list" card set --member $A --categories 治安巡逻,跳舞
refuse c1 "not in the configured list" feedback send --member $B --rating good --year 2026 --lead 跳舞

# ---------------------------------------------------------------- feedback periods, notices
section "a feedback letter for a period already covered; malformed periods"
refuse c1 "already" feedback send --member $A --rating fair --year 2026
refuse c1 "already" feedback send --member $A --rating fair --period 2026
refuse c1 "" feedback send --member $A --rating fair --period 2026-Q3
for P in 2026-Q5 2026-Q0 26 2026-3 2026Q3 20x6; do
    refuse c1 "" feedback send --member $B --rating good --period "$P"
done
refuse c1 "" feedback send --member $B --rating good --year 26
refuse c1 "" feedback send --member $B --rating good --year 1800
section "a notice shorter than the configured minimum of 5 working days"
refuse u1 "at least 5" notice post --member $A --title 公示 --matter 拟推荐 --start 2026-07-06 --working-days 4
refuse u1 "at least 5" notice post --member $A --title 公示 --matter 拟推荐 --start 2026-07-06 --working-days 1
refuse u1 "" notice post --member $A --title 公示 --matter 拟推荐 --start 2026-07-06 --working-days 61
refuse u1 "" notice post --member $A --title 公示 --matter 拟推荐 --start 2026-07-06 --working-days -5
refuse u1 "" notice post --member $A --title 公示 --matter 拟推荐 --start 2026-07-06 --working-days abc

# ---------------------------------------------------------------- batches
section "a batch with one bad line is refused whole"
cat >"$T/bad-batch.txt" <<EOF
report --member $B --date 2026-01-12
card set --member $B --occupation 医生
visit record --member $B --text 社区不能发单位的函
EOF
refuse c1 "line 3" batch "$T/bad-batch.txt"
cat >"$T/bad-batch2.txt" <<EOF
report --member $B --date 2026-01-12
activity add --kind disco --title 迪斯科
EOF
refuse c1 "line 2" batch "$T/bad-batch2.txt"

section ""
log "nothing changed: every record on every node, every own_seq ($CASES refusals)"
sync_all "${NODES[@]}"
AFTER=$(snapshot)
[ "$BEFORE" = "$AFTER" ] ||
    soft_fail "records or own_seq changed by the refused commands (node own_seq [member digest]...): $(diff <(echo "$BEFORE") <(echo "$AFTER") | grep '^[<>]' | cut -c1-60 | tr '\n' ' ')"

# ---------------------------------------------------------------- limits, from the inside
log "limits are where they say: exactly at the limit is accepted"
run_ok cli u1 visit record --member $A --text "$(rep a 4096)" >/dev/null
run_ok cli u1 visit record --member $A --text "$(rep 张 1365)" >/dev/null
run_ok cli u1 intro send --member RF-L --name "$(rep 张 42)ab" --community community:c1 >/dev/null
run_ok cli c1 card set --member $A --occupation "$(rep 张 85)a" >/dev/null
run_ok cli c1 activity add --kind activity-day --title "$(rep a 128)" --date 2026-08-01 >/dev/null
run_ok cli u1 notice post --member $A --title 公示 --matter 拟推荐 --start 2026-07-06 --working-days 5 >/dev/null

# ---------------------------------------------------------------- duplicates inside one batch
# Validation reads committed state: a batch must also see its own earlier letters.
sync_all u1 c1
for n in "${NODES[@]}"; do SEQ[$n]=$(own_seq "$n"); done
SECTION="a batch may not cover one period twice, record one attendance twice or decide a claim twice"
log "$SECTION"
cat >"$T/dup-feedback.txt" <<EOF
report --member $B --date 2026-01-12
feedback send --member $B --rating good --year 2026 --date 2026-12-01
feedback send --member $B --rating poor --year 2026 --date 2026-12-02
EOF
refuse c1 "" batch "$T/dup-feedback.txt"
cat >"$T/dup-attendance.txt" <<EOF
attendance record --member $B --activity $ACT
attendance record --member $B --activity $ACT --minutes 30
EOF
refuse c1 "" batch "$T/dup-attendance.txt"
cat >"$T/dup-decide.txt" <<EOF
claim decide --claim $CLAIM_OPEN --decision approve
claim decide --claim $CLAIM_OPEN --decision decline
EOF
refuse c1 "" batch "$T/dup-decide.txt"
section ""

for n in c2 c1 u2 u1 br; do stop "$n"; done
soft_done
