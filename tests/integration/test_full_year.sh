#!/usr/bin/env bash
# A full year of dual management in a small street, through every workflow, with the real
# binaries: one broker, three units (u1, u2 with members in both communities; u3 with
# members in c2 only, so that c1's service needs must not reach it), two communities,
# thirty members. Every letter carries a --date in 2026; bulk letters go through `batch`;
# a handling result is corrected (更正) near the end, and the correction converges too.
#
# At the end, for EVERY member, the record digest is the same on its unit, its current
# community and the broker, and every feedback letter carries the activities and service
# minutes this script recorded for the member. On the way, `tasks --as-of` shows what is
# due and overdue at chosen dates, and the street report has the right figures and no
# member ids or names.
#
# Checks of derived views (tasks, list, the street report) are soft: every one is
# evaluated and the failures are listed together at the end.
. "$(dirname "$0")/lib.sh" "$@"

init_street 3 2
for n in br u1 u2 u3 c1 c2; do start "$n"; done
wait_ready u1 u2 u3 c1 c2
NODES=(u1 u2 u3 c1 c2)

# ---------------------------------------------------------------- the members
NAMES=(张伟 王芳 李娜 刘洋 陈静 杨磊 赵敏 黄勇 周杰 吴霞 徐明 孙丽 马超 朱红 胡斌
    郭燕 何平 贺峰 林涛 罗琳 郑凯 梁爽 谢军 宋佳 唐亮 韩雪 冯刚 邓欣 曹阳 彭辉)
NM=30
declare -A ID NAME UNIT COMM          # by index 1..30
declare -A EXP_ACT EXP_MIN           # by member id: 2026 attendance recorded by this script
for i in $(seq $NM); do
    m=$(printf 'DY26-%03d' "$i")
    ID[$i]=$m
    NAME[$m]=${NAMES[$((i - 1))]}
    if [ "$i" -le 7 ]; then UNIT[$m]=u1 COMM[$m]=c1
    elif [ "$i" -le 12 ]; then UNIT[$m]=u1 COMM[$m]=c2
    elif [ "$i" -le 18 ]; then UNIT[$m]=u2 COMM[$m]=c1
    elif [ "$i" -le 26 ]; then UNIT[$m]=u2 COMM[$m]=c2
    else UNIT[$m]=u3 COMM[$m]=c2
    fi
    EXP_ACT[$m]=0
    EXP_MIN[$m]=0
done
m() { echo "${ID[$1]}"; }
UNREPORTED=("$(m 7)" "$(m 26)")       # u1->c1 and u2->c2: never report in
MOVED=$(m 1)                          # u1 moves it from c1 to c2 in August
RETURNED=$(m 20)                      # c2 returns it (does not live there) in September
RELEASED=$(m 10)                      # u1 releases it in October
POOR=$(m 5)                           # rated poor, long non-participation
OPINION_M=$(m 2)                      # excellent-member opinion request and public notice
is_unreported() { [ "$1" = "${UNREPORTED[0]}" ] || [ "$1" = "${UNREPORTED[1]}" ]; }

# ---------------------------------------------------------------- introductions
log "introductions: u1, u2 to both communities, u3 to c2 (some with --contact)"
for u in u1 u2 u3; do : >"$T/intro-$u.txt"; done
for i in $(seq $NM); do
    mid=$(m "$i")
    contact=""
    [ $((i % 4)) -eq 0 ] && contact="--contact 139$(printf '%08d' "$i")"
    echo "intro send --member $mid --name ${NAME[$mid]} --community community:${COMM[$mid]} --date 2026-01-05 $contact" \
        >>"$T/intro-${UNIT[$mid]}.txt"
done
for u in u1 u2 u3; do run_ok cli "$u" batch "$T/intro-$u.txt" >/dev/null; done
sync_all "${NODES[@]}"
assert_eq 13 "$(member_count c1)" "members of community:c1 after the introductions"
assert_eq 17 "$(member_count c2)" "members of community:c2 after the introductions"
assert_eq 12 "$(member_count u1)" "members of unit:u1"
assert_eq 14 "$(member_count u2)" "members of unit:u2"
assert_eq 4 "$(member_count u3)" "members of unit:u3"
rec=$(run_ok cli c1 member show "$(m 4)" --json)
assert_eq "${NAME[$(m 4)]}" "$(jq -r .name <<<"$rec")" "name seen by the community"
assert_eq 13900000004 "$(jq -r .intro_contact <<<"$rec")" "contact of the introduction"
assert_eq 2026-01-05 "$(jq -r .intro_date <<<"$rec")" "introduction date"
assert_eq 30 "$(jq -r .report_days <<<"$rec")" "default report-in days"

# ---------------------------------------------------------------- the communities' network
log "building groups, volunteer teams, liaison office"
cat >"$T/org-c1.txt" <<EOF
group add --group b1 --title 1号楼 --leader $(m 2)
group add --group b2 --title 2号楼
team add --team patrol --title 治安巡逻队 --kind patrol
team add --team clean --title 卫生保洁队 --kind sanitation
team add --team art --title 文化宣传队 --kind culture
liaison add --name 王书记 --side community --role 主任
liaison add --name 李委员 --side unit --role 联络员 --org unit:u1
liaison add --name 赵委员 --side unit --role 联络员 --org unit:u2
EOF
cat >"$T/org-c2.txt" <<EOF
group add --group b1 --title 东区1栋 --leader $(m 8)
group add --group b2 --title 东区2栋
group add --group b3 --title 西区3栋
team add --team patrol --title 夜间巡逻队 --kind patrol
team add --team clean --title 环境整治队 --kind sanitation
liaison add --name 孙书记 --side community --role 主任
liaison add --name 周委员 --side unit --role 联络员 --org unit:u3
EOF
run_ok cli c1 batch "$T/org-c1.txt" >/dev/null
run_ok cli c2 batch "$T/org-c2.txt" >/dev/null

log "activities (one of them in December 2025: it must not count for 2026)"
declare -A ACT_DATE ACT_MIN ACT_KIND
add_activity() { # COMMUNITY VAR KIND DATE MINUTES TITLE
    local id
    id=$(write1 "$1" activity add --kind "$3" --date "$4" --minutes "$5" --title "$6")
    printf -v "$2" '%s' "$id"
    ACT_DATE[$id]=$4 ACT_MIN[$id]=$5 ACT_KIND[$id]=$3
}
add_activity c1 A0 activity-day 2025-12-20 60 冬季主题党日
add_activity c1 A1 activity-day 2026-03-05 120 学雷锋主题党日
add_activity c1 A2 household-linking 2026-04-10 60 联户走访
add_activity c1 A3 volunteer-service 2026-05-20 180 社区志愿服务
add_activity c1 A4 residents-talk 2026-07-15 90 居民说事
add_activity c2 B1 activity-day 2026-03-06 120 主题党日
add_activity c2 B2 volunteer-service 2026-06-12 240 环境整治
add_activity c2 B3 residents-talk 2026-09-18 60 居民议事会
add_activity c2 B4 volunteer-service 2026-12-20 120 岁末志愿服务
C1_ACTS=("$A0" "$A1" "$A2" "$A3" "$A4")
C2_ACTS=("$B1" "$B2" "$B3")
for a in "${C1_ACTS[@]}" "$A4"; do [[ $a == community:c1/* ]] || fail "activity id $a"; done
for a in "${C2_ACTS[@]}" "$B4"; do [[ $a == community:c2/* ]] || fail "activity id $a"; done

# ---------------------------------------------------------------- report-in, cards, groups, teams
log "report-ins, registration cards, group assignments and team joins"
OCC=(教师 医生 工程师 会计 公务员 律师 护士 司机 厨师 经理)
CATS=治安巡逻,环境卫生,文化宣传,助老助残,政策宣讲,矛盾调解,关爱青少年
IFS=, read -r -a CAT <<<"$CATS"
: >"$T/reg-c1.txt"
: >"$T/reg-c2.txt"
for i in $(seq $NM); do
    mid=$(m "$i")
    is_unreported "$mid" && continue
    f=$T/reg-${COMM[$mid]}.txt
    day=$(printf '2026-01-%02d' $((8 + i % 20)))
    echo "report --member $mid --date $day" >>"$f"
    echo "card set --member $mid --occupation ${OCC[$((i % 10))]} --willingness 愿意参加${CAT[$((i % 7))]} --rest-time 周末及工作日晚上 --skills 书法,摄影 --categories ${CAT[$((i % 7))]},${CAT[$(((i + 3) % 7))]} --contact 138$(printf '%08d' "$i")" >>"$f"
    if [ "${COMM[$mid]}" = c1 ]; then g=b$((1 + i % 2)); else g=b$((1 + i % 3)); fi
    echo "group assign --member $mid --group $g --date 2026-02-01" >>"$f"
    case $((i % 3)) in
    0) echo "team join --member $mid --team patrol --date 2026-02-01" >>"$f" ;;
    1) echo "team join --member $mid --team clean --date 2026-02-01" >>"$f" ;;
    2) if [ "${COMM[$mid]}" = c1 ]; then
           echo "team join --member $mid --team art --date 2026-02-01" >>"$f"
       fi ;;
    esac
done
# one member joins two more teams and leaves one of them again
{
    echo "team join --member $(m 3) --team art --date 2026-03-01"
    echo "team join --member $(m 3) --team clean --date 2026-03-01"
    echo "team join --member $(m 3) --team art --leave --date 2026-04-01"
} >>"$T/reg-c1.txt"
run_ok cli c1 batch "$T/reg-c1.txt" >/dev/null
run_ok cli c2 batch "$T/reg-c2.txt" >/dev/null
sync_all "${NODES[@]}"
rec=$(run_ok cli u1 member show "$(m 3)" --json)
assert_eq true "$(jq -r .reported <<<"$rec")" "report-in receipt at the unit"
assert_eq 2026-01-11 "$(jq -r .report_date <<<"$rec")" "report-in date at the unit"
assert_eq "${OCC[3]}" "$(jq -r .occupation <<<"$rec")" "card occupation at the unit"
assert_eq "${CAT[3]},${CAT[6]}" "$(jq -r '.categories | join(",")' <<<"$rec")" "card categories"
assert_eq 周末及工作日晚上 "$(jq -r .rest_time <<<"$rec")" "card rest time"
assert_eq "书法,摄影" "$(jq -r .skills <<<"$rec")" "card skills"
assert_eq 13800000003 "$(jq -r .contact <<<"$rec")" "card contact"
assert_eq b2 "$(jq -r .group <<<"$rec")" "building group at the unit"
assert_eq clean,patrol "$(jq -r '.teams | join(",")' <<<"$rec")" "teams after join and leave"
for mid in "${UNREPORTED[@]}"; do
    assert_eq false "$(cli "${UNIT[$mid]}" member show "$mid" --json | jq -r .reported)" \
        "$mid has not reported in"
done
# every reported member is in a building group
for c in c1 c2; do
    nogroup=$(cli "$c" members --json | jq -r '[.[] | select(.reported and .group == "") | .member] | join(",")')
    assert_eq "" "$nogroup" "reported members of $c without a building group"
done

log "tasks: the report-in of the unreported members is due 30 days after the introduction"
for pair in "c1:${UNREPORTED[0]}" "u1:${UNREPORTED[0]}" "c2:${UNREPORTED[1]}" "u2:${UNREPORTED[1]}"; do
    n=${pair%%:*} mid=${pair#*:}
    if tasks_json "$n" 2026-01-20; then
        check_eq "$mid" "$(task_members report-in)" "report-in tasks on $n as of 2026-01-20"
        intro=$(cli "$n" member show "$mid" --json | jq -r .intro_id)
        check_eq 2026-02-04 "$(task_field report-in "$intro" due)" "report-in due on $n"
        check_eq false "$(task_field report-in "$intro" overdue)" "report-in not overdue on $n before the deadline"
    fi
    if tasks_json "$n" 2026-02-04; then
        intro=$(cli "$n" member show "$mid" --json | jq -r .intro_id)
        check_eq false "$(task_field report-in "$intro" overdue)" "report-in not overdue on $n on the deadline"
    fi
    if tasks_json "$n" 2026-02-05; then
        intro=$(cli "$n" member show "$mid" --json | jq -r .intro_id)
        check_eq "$mid" "$(task_members report-in)" "report-in tasks on $n as of 2026-02-05"
        check_eq true "$(task_field report-in "$intro" overdue)" "report-in overdue on $n after the deadline"
    fi
done
if tasks_json u3 2026-03-01; then
    check_eq "" "$(task_members report-in)" "report-in tasks of unit:u3 (all reported)"
fi

log "street report at mid-year: registrations, reported, report rate per org"
# The street report counts open registrations (broker/report.c); figures per org.
check_report_figures() { # JSON ORG REGISTRATIONS REPORTED OVERDUE_REPORT_IN [FEEDBACK_MEMBERS]
    local j=$1 org=$2 want_reg=$3 want_rep=$4 want_late=$5 want_fb=${6:-} o reg rep rate
    o=$(jq -c --arg o "$org" '[.. | objects | select(.org? == $o)] | .[0] // empty' <<<"$j")
    if [ -z "$o" ]; then
        soft_fail "street report: no entry for $org"
        return
    fi
    reg=$(jq -r '.registrations // .registered // .members // "missing"' <<<"$o")
    rep=$(jq -r '.reported // "missing"' <<<"$o")
    rate=$(jq -r '.report_rate // .reported_rate // .rate // "missing"' <<<"$o")
    check_eq "$want_reg" "$reg" "street report: registrations of $org"
    check_eq "$want_rep" "$rep" "street report: reported of $org"
    check_eq "$want_late" "$(jq -r '.overdue["report-in"] // "missing"' <<<"$o")" \
        "street report: overdue report-ins of $org"
    if [ -n "$want_fb" ]; then
        check_eq "$want_fb" "$(jq -r '.feedback_members // "missing"' <<<"$o")" \
            "street report: members with a feedback letter, $org"
    fi
    python3 - "$rate" "$want_reg" "$want_rep" <<'PY' || soft_fail "street report: report rate of $org is '$rate', expected $want_rep/$want_reg"
import sys
rate, reg, rep = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
want = rep / reg
try:
    r = float(str(rate).rstrip('%'))
except ValueError:
    sys.exit(1)
ok = abs(r - want) < 0.006 or abs(r - 100 * want) < 0.6
sys.exit(0 if ok else 1)
PY
}
no_member_data() { # TEXT WHAT: no member id or member name appears in TEXT
    local text=$1 what=$2 i mid
    for i in $(seq $NM); do
        mid=$(m "$i")
        check_not_contains "$text" "$mid" "$what: member id"
        check_not_contains "$text" "${NAME[$mid]}" "$what: member name"
    done
}
try broker report --year 2026 --as-of 2026-03-01 --json
if [ "$RC" -ne 0 ]; then
    soft_fail "broker report --year 2026 --as-of 2026-03-01 --json exited $RC: $ERR"
else
    REPORT=$OUT
    check_report_figures "$REPORT" unit:u1 12 11 1
    check_report_figures "$REPORT" unit:u2 14 13 1
    check_report_figures "$REPORT" unit:u3 4 4 0
    check_report_figures "$REPORT" community:c1 13 12 1
    check_report_figures "$REPORT" community:c2 17 16 1
    no_member_data "$REPORT" "street report (JSON) at mid-year"
fi

# ---------------------------------------------------------------- attendance
log "attendance (pattern by member and activity; service minutes per attendance)"
: >"$T/att-c1.txt"
: >"$T/att-c2.txt"
record_attendance() { # FILE MEMBER ACTIVITY [MINUTES]
    local file=$1 mid=$2 act=$3 min=${4:-}
    echo "attendance record --member $mid --activity $act${min:+ --minutes $min}" >>"$file"
    if [[ ${ACT_DATE[$act]} == 2026-* ]]; then
        EXP_ACT[$mid]=$((EXP_ACT[$mid] + 1))
        EXP_MIN[$mid]=$((EXP_MIN[$mid] + ${min:-${ACT_MIN[$act]}}))
    fi
}
for i in $(seq $NM); do
    mid=$(m "$i")
    is_unreported "$mid" && continue
    [ "$mid" = "$POOR" ] && continue # takes part in nothing all year
    if [ "${COMM[$mid]}" = c1 ]; then acts=("${C1_ACTS[@]}"); else acts=("${C2_ACTS[@]}"); fi
    for j in "${!acts[@]}"; do
        [ $(((i + j) % 3)) -eq 0 ] && continue
        min=""
        [ "${ACT_KIND[${acts[$j]}]}" = volunteer-service ] && [ $((i % 2)) -eq 0 ] && min=$((30 * (i % 5 + 1)))
        record_attendance "$T/att-${COMM[$mid]}.txt" "$mid" "${acts[$j]}" "$min"
    done
done
run_ok cli c1 batch "$T/att-c1.txt" >/dev/null
run_ok cli c2 batch "$T/att-c2.txt" >/dev/null

# ---------------------------------------------------------------- two-way service
log "a unit visit, a difficulty raised and resolved"
VISIT=$(write1 u2 visit record --member "$(m 14)" --text 到社区了解该党员参加活动情况 --date 2026-05-08)
DIFF=$(write1 u2 difficulty raise --member "$(m 15)" --text 家中老人行动不便需要帮扶 --date 2026-05-09)
sync_all u2 c1
if tasks_json c1 2026-05-10; then
    check_eq "$(m 15)" "$(task_members difficulty)" "difficulty task on community:c1"
fi
write1 c1 difficulty resolve --member "$(m 15)" --difficulty "$DIFF" --text 已安排志愿者定期上门 --date 2026-05-25 >/dev/null

log "a small wish published by c1: delivered to u1 and u2 (members in c1), not to u3"
NEED=$(write1 c1 need publish --kind wish --title 微心愿:一个新书包 --text 困难家庭学生的心愿 --date 2026-04-01)
OFFER=$(write1 u2 offer send --community community:c2 --title 党员活动室开放 --text 周末可借用 --date 2026-04-15)
sync_all "${NODES[@]}"
for u in u1 u2 u3; do
    try cli "$u" list needs --json
    if [ "$RC" -ne 0 ]; then
        soft_fail "list needs on $u exited $RC: $ERR"
        continue
    fi
    if [ "$u" = u3 ]; then
        json_has_string "$OUT" "$NEED" && soft_fail "unit:u3 (no members in c1) received c1's need $NEED"
    else
        json_has_string "$OUT" "$NEED" || soft_fail "unit $u (members in c1) did not receive c1's need $NEED: $OUT"
    fi
done
before=$(own_seq u3)
try cli u3 claim send --need "$NEED" --date 2026-04-02
check_eq 1 "$RC" "unit:u3 claims a need it never received"
check_eq "$before" "$(own_seq u3)" "u3 own_seq after the refused claim"
try cli c2 list offers --json
if [ "$RC" -ne 0 ]; then
    soft_fail "list offers on c2 exited $RC: $ERR"
else
    json_has_string "$OUT" "$OFFER" || soft_fail "community:c2 did not receive u2's resource offer $OFFER: $OUT"
fi
try cli c1 list offers --json
[ "$RC" -eq 0 ] && json_has_string "$OUT" "$OFFER" && soft_fail "community:c1 received u2's offer to c2"

log "u1 claims the wish for one of its members; c1 approves, then records it fulfilled"
try cli u1 claim send --need "$NEED" --claimant "$(m 3)" --text 由本单位党员认领 --date 2026-04-03 --json
if [ "$RC" -ne 0 ]; then
    soft_fail "claim send --need $NEED on unit:u1 (which received the need) refused: $ERR"
else
    CLAIM=$(last_event_id "$OUT")
    sync_all u1 c1
    if tasks_json c1 2026-04-05; then
        check_eq 1 "$(task_count claim-decision "$CLAIM")" "claim-decision task on c1 before the decision"
    fi
    write1 c1 claim decide --claim "$CLAIM" --decision approve --text 同意认领 --date 2026-04-06 >/dev/null
    if tasks_json c1 2026-04-07; then
        check_eq 0 "$(task_count claim-decision "$CLAIM")" "claim-decision task on c1 after the decision"
    fi
    write1 c1 need fulfil --need "$NEED" --claim "$CLAIM" --text 书包已送达 --date 2026-04-20 >/dev/null
    sync_all u1 c1
    try cli u1 list claims --json
    if [ "$RC" -ne 0 ]; then
        soft_fail "list claims on u1 exited $RC: $ERR"
    else
        json_has_string "$OUT" "$CLAIM" || soft_fail "u1's list claims does not show $CLAIM: $OUT"
    fi
fi

# ---------------------------------------------------------------- opinions and a notice
log "opinion requests: member-level (excellent-member, due 2026-06-30), org-level (advanced-org)"
REQ_M=$(write1 u1 opinion request --member "$OPINION_M" --kind excellent-member \
    --subject 2026年度优秀共产党员推荐 --due 2026-06-30 --date 2026-06-01)
REQ_O=$(write1 u2 opinion request --community community:c1 --kind advanced-org \
    --subject 先进基层党组织推荐 --date 2026-06-01)
log "public notice posted by u1 from Monday 2026-06-22 for 5 working days"
NOTICE=$(write1 u1 notice post --member "$OPINION_M" --title 优秀共产党员推荐公示 \
    --matter 拟推荐为2026年度优秀共产党员 --start 2026-06-22 --working-days 5)
sync_all "${NODES[@]}"
rec=$(run_ok cli c1 member show "$OPINION_M" --json)
assert_eq "$REQ_M" "$(jq -r '.opinions[0].event_id' <<<"$rec")" "opinion request at the community"
assert_eq excellent-member "$(jq -r '.opinions[0].kind' <<<"$rec")" "opinion kind"
assert_eq 2026-06-30 "$(jq -r '.opinions[0].due' <<<"$rec")" "opinion due"
assert_eq "$NOTICE" "$(jq -r '.notices[0].event_id' <<<"$rec")" "notice at the community"
assert_eq 2026-06-26 "$(jq -r '.notices[0].end' <<<"$rec")" "notice end: 5 working days"
if tasks_json c1 2026-06-10; then
    check_eq 1 "$(task_count opinion-reply "$REQ_M")" "member opinion-reply task on c1"
    check_eq 2026-06-30 "$(task_field opinion-reply "$REQ_M" due)" "member opinion-reply due"
    check_eq false "$(task_field opinion-reply "$REQ_M" overdue)" "member opinion-reply not overdue"
    check_eq 1 "$(task_count opinion-reply "$REQ_O")" "org opinion-reply task on c1"
    check_eq 2026-06-16 "$(task_field opinion-reply "$REQ_O" due)" "org opinion-reply due (date + 15 days)"
    check_eq 1 "$(task_count notice-post "$NOTICE")" "notice-post task on c1"
    check_eq 2026-06-22 "$(task_field notice-post "$NOTICE" due)" "notice-post due at the start"
    check_eq false "$(task_field notice-post "$NOTICE" overdue)" "notice-post not overdue before the start"
fi
if tasks_json c1 2026-07-01; then
    check_eq true "$(task_field opinion-reply "$REQ_M" overdue)" "member opinion-reply overdue after its due date"
    check_eq true "$(task_field opinion-reply "$REQ_O" overdue)" "org opinion-reply overdue after its due date"
    check_eq true "$(task_field notice-post "$NOTICE" overdue)" "notice-post overdue after the start"
fi
if tasks_json u1 2026-06-10; then
    check_eq 1 "$(task_count opinion-reply "$REQ_M")" "u1 awaits the member opinion reply"
fi
if tasks_json u2 2026-06-10; then
    check_eq 1 "$(task_count opinion-reply "$REQ_O")" "u2 awaits the org opinion reply"
fi
if tasks_json c2 2026-06-10; then
    check_eq 0 "$(task_count opinion-reply "$REQ_O")" "c2 has no task for c1's opinion request"
fi

log "c1 replies to both requests, posts the notice, reports no objections"
write1 c1 opinion reply --member "$OPINION_M" --request "$REQ_M" --verdict agree \
    --text 该同志积极参加社区活动 --date 2026-06-20 >/dev/null
write1 c1 opinion reply --request "$REQ_O" --verdict agree --text 同意推荐 --date 2026-06-12 >/dev/null
write1 c1 notice respond --member "$OPINION_M" --notice "$NOTICE" --status posted --date 2026-06-22 >/dev/null
if tasks_json c1 2026-06-23; then
    check_eq 0 "$(task_count opinion-reply "$REQ_M")" "member opinion-reply task after the reply"
    check_eq 0 "$(task_count opinion-reply "$REQ_O")" "org opinion-reply task after the reply"
    check_eq 0 "$(task_count notice-post "$NOTICE")" "notice-post task after posting"
    check_eq 1 "$(task_count notice-objections "$NOTICE")" "notice-objections task after posting"
    check_eq 2026-06-29 "$(task_field notice-objections "$NOTICE" due)" "objections due the next working day after the end"
fi
write1 c1 notice respond --member "$OPINION_M" --notice "$NOTICE" --status no-objections \
    --text 公示期内未收到异议 --date 2026-06-29 >/dev/null
sync_all "${NODES[@]}"
if tasks_json c1 2026-06-30; then
    check_eq 0 "$(task_count notice-objections "$NOTICE")" "notice-objections task after the outcome"
fi
if tasks_json u1 2026-06-30; then
    check_eq 0 "$(task_count opinion-reply "$REQ_M")" "u1's awaited opinion reply after the reply"
fi
if tasks_json u2 2026-06-30; then
    check_eq 0 "$(task_count opinion-reply "$REQ_O")" "u2's awaited org opinion reply after the reply"
fi
rec=$(run_ok cli u1 member show "$OPINION_M" --json)
assert_eq agree "$(jq -r '.opinions[0].verdict' <<<"$rec")" "opinion verdict at the unit"
assert_eq 该同志积极参加社区活动 "$(jq -r '.opinions[0].reply_text' <<<"$rec")" "opinion reply text"
assert_eq 2026-06-20 "$(jq -r '.opinions[0].reply_date' <<<"$rec")" "opinion reply date"
assert_eq 2026-06-22 "$(jq -r '.notices[0].posted_date' <<<"$rec")" "notice posted date at the unit"
assert_eq no-objections "$(jq -r '.notices[0].outcome' <<<"$rec")" "notice outcome at the unit"
rec=$(run_ok cli u2 member show "$(m 15)" --json)
assert_eq 已安排志愿者定期上门 "$(jq -r '.difficulties[0].resolution' <<<"$rec")" "difficulty resolution at the unit"
assert_eq 2026-05-25 "$(jq -r '.difficulties[0].resolved_date' <<<"$rec")" "difficulty resolved date"
rec=$(run_ok cli c1 member show "$(m 14)" --json)
assert_eq "$VISIT" "$(jq -r '.visits[0].event_id' <<<"$rec")" "unit visit at the community"

# ---------------------------------------------------------------- a move, a return, a release
log "u1 moves $MOVED from c1 to c2 (August); c2 registers it anew"
out=$(run_ok cli u1 member move --member "$MOVED" --community community:c2 --date 2026-08-01 --json)
assert_eq 2 "$(jq '.events | length' <<<"$out")" "a move writes a move-out and an introduction"
COMM[$MOVED]=c2
EXP_ACT[$MOVED]=0 # the new registration starts a new record
EXP_MIN[$MOVED]=0
sync_all "${NODES[@]}"
cat >"$T/move-c2.txt" <<EOF
report --member $MOVED --date 2026-08-05
card set --member $MOVED --occupation 教师 --willingness 愿意参加治安巡逻 --rest-time 周末 --categories 治安巡逻 --contact 13800000001
group assign --member $MOVED --group b3 --date 2026-08-06
team join --member $MOVED --team patrol --date 2026-08-06
EOF
run_ok cli c2 batch "$T/move-c2.txt" >/dev/null
printf 'attendance record --member %s --activity %s\n' "$MOVED" "$B3" >"$T/move-att.txt"
record_attendance /dev/null "$MOVED" "$B3"
run_ok cli c2 batch "$T/move-att.txt" >/dev/null
write1 u1 visit record --member "$MOVED" --text 迁居后走访新社区 --date 2026-09-20 >/dev/null

log "c2 returns $RETURNED (September); u1 releases $RELEASED (October)"
write1 c2 registration close --member "$RETURNED" --reason returned --text 经核实不在本社区居住 --date 2026-09-01 >/dev/null
write1 u1 member release --member "$RELEASED" --text 组织关系转出 --date 2026-10-15 >/dev/null
sync_all "${NODES[@]}"
rec=$(run_ok cli c1 member show "$MOVED" --json)
assert_eq moved "$(jq -r .closed <<<"$rec")" "the old community's record of the moved member"
assert_eq 2026-08-01 "$(jq -r .closed_date <<<"$rec")" "move-out date at the old community"
rec=$(run_ok cli u1 member show "$MOVED" --json)
assert_eq community:c2 "$(jq -r .community <<<"$rec")" "the unit's record follows the move"
assert_eq true "$(jq -r .reported <<<"$rec")" "report-in at the new community"
assert_eq 2026-08-05 "$(jq -r .report_date <<<"$rec")" "report-in date at the new community"
assert_eq returned "$(cli u2 member show "$RETURNED" --json | jq -r .closed)" "return seen by the unit"
assert_eq 经核实不在本社区居住 "$(cli u2 member show "$RETURNED" --json | jq -r .closed_text)" "return reason text"
assert_eq released "$(cli c2 member show "$RELEASED" --json | jq -r .closed)" "release seen by the community"
assert_eq 16 "$(member_count c2)" "open registrations of c2 after move, return and release"
assert_eq 12 "$(member_count c1)" "open registrations of c1 after the move"

# ---------------------------------------------------------------- year-end feedback
log "year-end feedback letters for every reported member (c2 in one batch with its last activity)"
: >"$T/fb-c1.txt"
: >"$T/fb-c2.txt"
# c2's year-end volunteer service is recorded in the same batch as its feedback letters:
# a batch sees its own earlier letters, so the figures must include it.
for i in $(seq $NM); do
    mid=$(m "$i")
    [ "${COMM[$mid]}" = c2 ] || continue
    case $mid in "$RETURNED" | "$RELEASED" | "$POOR") continue ;; esac
    is_unreported "$mid" && continue
    [ $((i % 2)) -eq 1 ] && record_attendance "$T/fb-c2.txt" "$mid" "$B4"
done
declare -A RATING
for i in $(seq $NM); do
    mid=$(m "$i")
    case $mid in "$RETURNED" | "$RELEASED") continue ;; esac
    is_unreported "$mid" && continue
    f=$T/fb-${COMM[$mid]}.txt
    day=2026-12-10
    [ "${COMM[$mid]}" = c2 ] && day=2026-12-22
    if [ "$mid" = "$POOR" ]; then
        RATING[$mid]=poor
        echo "feedback send --member $mid --rating poor --non-participation --year 2026 --text 全年未参加社区活动 --date $day" >>"$f"
    elif [ $((i % 5)) -eq 0 ]; then
        RATING[$mid]=excellent
        echo "feedback send --member $mid --rating excellent --period 2026 --lead 带头服务群众,带头弘扬正气 --text 表现优秀 --date $day" >>"$f"
    elif [ $((i % 7)) -eq 0 ]; then
        RATING[$mid]=fair
        echo "feedback send --member $mid --rating fair --year 2026 --date $day" >>"$f"
    else
        RATING[$mid]=good
        echo "feedback send --member $mid --rating good --year 2026 --date $day" >>"$f"
    fi
done
run_ok cli c1 batch "$T/fb-c1.txt" >/dev/null
run_ok cli c2 batch "$T/fb-c2.txt" >/dev/null
sync_all "${NODES[@]}"
FB_POOR=$(cli u1 member show "$POOR" --json | jq -r '.feedback[0].event_id')
[[ $FB_POOR == community:c1/* ]] || fail "no feedback letter for $POOR at the unit: $FB_POOR"

log "tasks: handling due after the poor feedback; gone after the handling result"
if tasks_json u1 2026-12-11; then
    check_eq "$POOR" "$(task_members handling)" "handling tasks on u1"
    check_eq 2027-01-09 "$(task_field handling "$FB_POOR" due)" "handling due 30 days after the feedback"
    check_eq false "$(task_field handling "$FB_POOR" overdue)" "handling not overdue yet"
fi
if tasks_json u1 2027-01-10; then
    check_eq true "$(task_field handling "$FB_POOR" overdue)" "handling overdue after 30 days"
fi
if tasks_json c1 2026-12-11; then
    check_eq 0 "$(task_count handling "$FB_POOR")" "handling is the unit's task, not the community's"
fi
if tasks_json u2 2026-12-11; then
    check_eq "" "$(task_members handling)" "no handling tasks on u2 (no poor feedback)"
fi
H_POOR=$(write1 u1 handling send --member "$POOR" --feedback "$FB_POOR" --action criticism \
    --text 已进行批评教育 --date 2026-12-20)
sync_all "${NODES[@]}"
if tasks_json u1 2027-01-10; then
    check_eq "" "$(task_members handling)" "handling tasks on u1 after the handling result"
fi
rec=$(run_ok cli c1 member show "$POOR" --json)
assert_eq criticism "$(jq -r '.handling[0].action' <<<"$rec")" "handling action at the community"
assert_eq "$FB_POOR" "$(jq -r '.handling[0].feedback_id' <<<"$rec")" "handling answers the poor feedback"
assert_eq 已进行批评教育 "$(jq -r '.handling[0].text' <<<"$rec")" "handling text"

log "a correction in the year: u1 corrects its handling result's text; both sides apply it"
run_ok cli u1 letter correct --letter "$H_POOR" --text 已进行批评教育并谈心谈话 \
    --reason 补充处理情况 --date 2026-12-21 >/dev/null
sync_all "${NODES[@]}"
for n in u1 c1; do
    rec=$(run_ok cli $n member show "$POOR" --json)
    assert_eq 已进行批评教育并谈心谈话 "$(jq -r '.handling[0].text' <<<"$rec")" \
        "the corrected handling text on $n"
    assert_eq criticism "$(jq -r '.handling[0].action' <<<"$rec")" "the action, not corrected, on $n"
done

# ---------------------------------------------------------------- convergence
log "every member: the same digest on its unit, its current community and the broker"
digest_of() { # OUTPUT of a `digest --json`: its digest
    [[ $1 =~ \"digest\":\"([0-9a-f]{64})\" ]] && echo "${BASH_REMATCH[1]}"
}
for i in $(seq $NM); do
    mid=$(m "$i")
    du=$(digest_of "$(run_ok cli "${UNIT[$mid]}" digest --member "$mid" --json)")
    dc=$(digest_of "$(run_ok cli "${COMM[$mid]}" digest --member "$mid" --json)")
    db=$(digest_of "$(run_ok broker digest --member "$mid" --json)")
    [ -n "$du" ] || fail "no digest of $mid on ${UNIT[$mid]}"
    assert_eq "$du" "$dc" "digest of $mid: ${UNIT[$mid]} vs ${COMM[$mid]}"
    assert_eq "$du" "$db" "digest of $mid: ${UNIT[$mid]} vs broker"
done

log "every feedback letter: rating, period and the figures this script recorded"
for i in $(seq $NM); do
    mid=$(m "$i")
    IFS=$'\t' read -r nfb rating period year acts mins < <(cli "${UNIT[$mid]}" member show "$mid" --json |
        jq -r '[(.feedback | length), (.feedback[0] // {} | .rating, .period, .year, .activities, .minutes)] | map(tostring) | @tsv')
    if [ -z "${RATING[$mid]:-}" ]; then
        assert_eq 0 "$nfb" "feedback letters of $mid (no letter sent)"
        continue
    fi
    assert_eq 1 "$nfb" "feedback letters of $mid"
    assert_eq "${RATING[$mid]}" "$rating" "rating of $mid"
    assert_eq 2026 "$period" "period of $mid"
    assert_eq 2026 "$year" "year of $mid"
    check_eq "${EXP_ACT[$mid]}" "$acts" "activities in the 2026 feedback of $mid (${COMM[$mid]})"
    check_eq "${EXP_MIN[$mid]}" "$mins" "service minutes in the 2026 feedback of $mid (${COMM[$mid]})"
done
rec=$(cli u1 member show "$POOR" --json)
assert_eq true "$(jq -r '.feedback[0].non_participation' <<<"$rec")" "non-participation flag of $POOR"
assert_eq 0 "$(jq -r '.feedback[0].activities' <<<"$rec")" "no activities for $POOR"
rec=$(cli u2 member show "$(m 15)" --json)
assert_eq "带头服务群众,带头弘扬正气" "$(jq -r '.feedback[0].lead | join(",")' <<<"$rec")" "take-the-lead items"

log "status: everything acked, nothing rejected, refused or forked"
for n in "${NODES[@]}"; do
    s=$(run_ok cli "$n" status --json)
    assert_eq "$(jq .own_seq <<<"$s")" "$(jq .acked <<<"$s")" "$n own_seq vs acked"
    assert_eq 0 "$(jq '.counters.rejected + .counters.forks + .counters.refused' <<<"$s")" "$n rejected+forks+refused"
done
assert_eq 0 "$(json_get br '.counters.rejected + .counters.malformed + .counters.forks')" \
    "broker rejected+malformed+forks"

log "street report at year-end: open registrations, reported, feedback; no member ids or names (JSON and CSV)"
# Open registrations at year-end: u1 lost the released member (the moved one stays),
# u2 the returned one; c1 lost the moved member to c2, c2 the returned and the released.
try broker report --year 2026 --as-of 2026-12-31 --json
if [ "$RC" -ne 0 ]; then
    soft_fail "broker report --year 2026 --as-of 2026-12-31 --json exited $RC: $ERR"
else
    check_report_figures "$OUT" unit:u1 11 10 1 10
    check_report_figures "$OUT" unit:u2 13 12 1 12
    check_report_figures "$OUT" unit:u3 4 4 0 4
    check_report_figures "$OUT" community:c1 12 11 1 11
    check_report_figures "$OUT" community:c2 16 15 1 15
    no_member_data "$OUT" "street report (JSON) at year-end"
fi
try broker report --year 2026 --as-of 2026-12-31 --csv
if [ "$RC" -ne 0 ]; then
    soft_fail "broker report --year 2026 --as-of 2026-12-31 --csv exited $RC: $ERR"
else
    no_member_data "$OUT" "street report (CSV) at year-end"
fi

for n in c2 c1 u3 u2 u1 br; do stop "$n"; done
soft_done
