#!/usr/bin/env bash
# Printable letters and their verification codes, against real daemons (a broker, a unit
# and a community, each node serving its console on a free loopback port):
#   - the five letters of the practice — introduction, report-in receipt, registration
#     card, feedback letter (with its participation figures and lead items) and handling
#     result — each shown by `letter show` and by its print page /letter?id=, with the
#     same code on both, and on both sides of the letter (the code is of the signed bytes);
#   - each print page names both orgs, the member's id and name, the letter id and the
#     code, and escapes what the letter says;
#   - `letter verify CODE` finds each letter, also typed in lower case and without dashes
#     (and with O/I/L for 0/1), and /verify?code= shows the match; a wrong code is refused
#     (exit 1; "no such letter here" on the page), a malformed one too;
#   - every print view and verification is in `dualsync audit --json`.
. "$(dirname "$0")/lib.sh" "$@"
command -v curl >/dev/null || fail "curl is required (deploy/install-deps.sh)"

DS_WEB=1
init_street 1 1
printf 'clerk-pass-1\n' >"$T/pw-clerk"
printf 'secretary-1\n' >"$T/pw-sec"
run_ok cli u1 user add clerk --role operator --password-file "$T/pw-clerk" >/dev/null
run_ok cli c1 user add secretary --role viewer --password-file "$T/pw-sec" >/dev/null
start br
start u1
start c1
wait_ready u1 c1
declare -A BASE=([u1]=http://127.0.0.1:${WEBPORT[u1]} [c1]=http://127.0.0.1:${WEBPORT[c1]})

page_code() { grep -o 'id="code">[^<]*' "$T/body" | head -1 | sed 's/.*>//'; }
declare -A JAR=([u1]="$T/jar-u1" [c1]="$T/jar-c1")
assert_eq 303 "$(login "${JAR[u1]}" "${BASE[u1]}" clerk clerk-pass-1)" "the clerk logs in"
assert_eq 303 "$(login "${JAR[c1]}" "${BASE[c1]}" secretary secretary-1)" \
    "the secretary (a viewer) logs in"

log "the letters: introduction, report-in, card, feedback, handling result"
M=DY-0001
NAME=张建国
intro=$(write1 u1 intro send --member $M --name $NAME --community community:c1 \
    --contact 13800000001 --date 2026-01-05)
sync_all u1 c1
report=$(write1 c1 report --member $M --date 2026-01-20)
day0=$(date +%F)
card=$(write1 c1 card set --member $M --occupation 税务干部 --willingness 愿意参加巡逻 \
    --rest-time 周末 --skills 政策讲解 --categories 治安巡逻,政策宣讲 --contact 13800000001)
day1=$(date +%F)
act=$(write1 c1 activity add --kind volunteer-service --title 夜间巡逻 --date 2026-03-01 \
    --minutes 180)
attend=$(write1 c1 attendance record --member $M --activity "$act")
feedback=$(write1 c1 feedback send --member $M --rating poor --period 2026 --poor-conduct \
    --lead 带头服务群众 --text '参加活动较少' --date 2026-12-20)
sync_all c1 u1
handling=$(write1 u1 handling send --member $M --feedback "$feedback" --action criticism \
    --text '已批评教育 <script>x</script>' --date 2026-12-28)
sync_all u1 c1

# check_letter NODE ID TITLE DATE: the letter as NODE shows it, by CLI, page and code.
check_letter() {
    local node=$1 id=$2 title=$3 date=$4 j code other lower bare out c s
    j=$(run_ok cli "$node" letter show "$id" --json)
    code=$(jq -r .code <<<"$j")
    [[ $code =~ ^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$ ]] ||
        fail "$id on $node: malformed code '$code'"
    assert_eq "$id" "$(jq -r .id <<<"$j")" "$id on $node: id"
    assert_eq "$title" "$(jq -r .title_zh <<<"$j")" "$id on $node: title"
    assert_eq "$M" "$(jq -r .member <<<"$j")" "$id on $node: member"
    assert_eq "$NAME" "$(jq -r .member_name <<<"$j")" "$id on $node: member name"
    assert_eq 单位1 "$(jq -r .unit_name <<<"$j")" "$id on $node: unit name"
    assert_eq 社区1 "$(jq -r .community_name <<<"$j")" "$id on $node: community name"
    assert_eq "$date" "$(jq -r .date <<<"$j")" "$id on $node: date"
    assert_eq ok "$(jq -r .signature <<<"$j")" "$id on $node: signature"
    # the same code on the other side of the letter
    [ "$node" = u1 ] && other=c1 || other=u1
    assert_eq "$code" "$(run_ok cli "$other" letter show "$id" --json | jq -r .code)" \
        "$id: the code on $other"
    # the text output carries the code, in Chinese or (--lang en) in English
    out=$(run_ok cli "$node" letter show "$id")
    assert_contains "$out" "核验码:   $code" "$id on $node: text output"
    assert_contains "$out" "$title" "$id on $node: text output title"
    out=$(run_ok cli "$node" letter show "$id" --lang en)
    assert_contains "$out" "code:      $code" "$id on $node: text output in English"
    assert_contains "$out" "$(jq -r .title_en <<<"$j")" "$id on $node: English title"

    # the print page
    assert_eq 200 "$(http "${JAR[$node]}" GET "${BASE[$node]}/letter?id=$id")" "$id: print page"
    assert_eq "$code" "$(page_code)" "$id on $node: the print page's code"
    for s in 单位1 社区1 "$NAME" "$M" "$id" "$title" "核验码" \
        "dualsync letter verify" "打印"; do
        body_has "$s" || fail "$id on $node: the print page lacks '$s'"
    done

    # verification: as printed, in lower case, without dashes
    lower=$(tr 'A-Z' 'a-z' <<<"$code")
    bare=${code//-/}
    for c in "$code" "$lower" "$bare"; do
        j=$(run_ok cli "$node" letter verify "$c" --json)
        assert_eq "$id" "$(jq -r .id <<<"$j")" "$id: letter verify '$c'"
        assert_eq true "$(jq -r .match <<<"$j")" "$id: letter verify '$c' matches"
    done
    out=$(run_ok cli "$node" letter verify "$lower")
    assert_contains "$out" "一致" "$id: letter verify says it matches"
    assert_contains "$out" "$id" "$id: letter verify names the letter"
    assert_eq 200 "$(http "${JAR[$node]}" GET "${BASE[$node]}/verify?code=$bare")" "$id: /verify"
    body_has 'data-match="yes"' || fail "$id: /verify does not say it matches"
    body_has ">$id</a>" || fail "$id: /verify does not name the letter"
    body_has "$NAME" || fail "$id: /verify does not name the member"
    CODES[$id]=$code
}
declare -A CODES=()
check_letter u1 "$intro" 住社区党员身份介绍函 2026-01-05
check_letter u1 "$report" 报到回执 2026-01-20
# a card has no date of its own: it is dated by the day it was written
card_date=$(run_ok cli c1 letter show "$card" --json | jq -r .date)
[ "$card_date" = "$day0" ] || [ "$card_date" = "$day1" ] ||
    fail "the card's date: expected $day0, got $card_date"
check_letter c1 "$card" 社区党员基本情况登记卡 "$card_date"
check_letter u1 "$feedback" 表现情况反馈函 2026-12-20
check_letter c1 "$handling" 查处结果反馈 2026-12-28

log "each letter's own layout"
http "${JAR[u1]}" GET "${BASE[u1]}/letter?id=$intro" >/dev/null
body_has "兹介绍我单位党员${NAME}同志" || fail "the introduction's text"
body_has "13800000001" || fail "the introduction's contact"
body_has "2026年1月5日" || fail "the introduction's date, in Chinese"
http "${JAR[c1]}" GET "${BASE[c1]}/letter?id=$card" >/dev/null
for s in 税务干部 愿意参加巡逻 周末 政策讲解 "治安巡逻、政策宣讲"; do
    body_has "$s" || fail "the card lacks '$s'"
done
http "${JAR[u1]}" GET "${BASE[u1]}/letter?id=$feedback" >/dev/null
for s in 带头服务群众 较差 参加活动较少 '<tr data-field="activities"><th>参加活动(次)</th><td>1</td>' \
    '<tr data-field="minutes"><th>服务时长(分钟)</th><td>180</td>'; do
    body_has "$s" || fail "the feedback letter lacks '$s'"
done
http "${JAR[c1]}" GET "${BASE[c1]}/letter?id=$handling" >/dev/null
body_has 批评教育 || fail "the handling result's action"
body_has "$feedback" || fail "the handling result names its feedback letter"
body_has '&lt;script&gt;x&lt;/script&gt;' || fail "the handling result's text is not escaped"
body_has '<script>' && fail "the print page carries the letter's markup"
http "${JAR[c1]}" GET "${BASE[c1]}/letter?id=$attend" >/dev/null
body_has 参加活动登记 || fail "a generic letter (attendance) has no title"
body_has "$act" || fail "the attendance letter names its activity"
http "${JAR[u1]}" GET "${BASE[u1]}/lang?to=en&next=%2F" >/dev/null
http "${JAR[u1]}" GET "${BASE[u1]}/letter?id=$intro" >/dev/null
body_has "Introduction letter" || fail "the English print page"
body_has "This letter introduces $NAME" || fail "the English letter text"
assert_eq "${CODES[$intro]}" "$(page_code)" "the English page's code"
http "${JAR[u1]}" GET "${BASE[u1]}/lang?to=zh&next=%2F" >/dev/null

log "wrong, malformed and unknown"
code=${CODES[$intro]}
first=${code:0:1}
[ "$first" = Z ] && swap=Y || swap=Z
wrong=$swap${code:1}
assert_exit 1 cli u1 letter verify "$wrong"
assert_contains "$OUT" "未找到" "a wrong code: Chinese"
assert_exit 1 cli u1 letter verify "$wrong" --lang en
assert_contains "$OUT" "no such letter here" "a wrong code: English"
assert_eq 404 "$(http "${JAR[u1]}" GET "${BASE[u1]}/verify?code=$wrong")" "/verify of a wrong code"
body_has 'data-match="no"' || fail "/verify of a wrong code does not say so"
assert_exit 1 cli u1 letter verify ABCD-EFGH
assert_contains "$OUT" "核验码无效" "a short code"
assert_exit 1 cli u1 letter verify UUUU-UUUU-UUUU-UUUU --lang en
assert_contains "$OUT" "invalid verification code" "a code with U"
assert_eq 422 "$(http "${JAR[u1]}" GET "${BASE[u1]}/verify?code=ABCD")" "/verify of a short code"
body_has "核验码无效" || fail "/verify does not show the refusal"
assert_exit 1 cli u1 letter show unit:u1/999
assert_contains "$OUT" "本节点没有该函件" "an unknown letter: Chinese"
assert_exit 1 cli u1 letter show unit:u1/999 --lang en
assert_contains "$OUT" "no such letter here" "an unknown letter: English"
assert_exit 1 cli u1 letter show not-an-id
assert_contains "$OUT" "函件编号无效" "a malformed letter id"
assert_eq 404 "$(http "${JAR[u1]}" GET "${BASE[u1]}/letter?id=unit:u1/999")" "the page of no letter"
# Crockford's aliases for hand-copied codes: O for 0, I and L for 1
alias=$(tr '01' 'OL' <<<"$code")
assert_eq "$intro" "$(run_ok cli u1 letter verify "$alias" --json | jq -r .id)" \
    "letter verify '$alias' (aliases of '$code')"
assert_eq 200 "$(http "${JAR[u1]}" GET "${BASE[u1]}/verify")" "the empty /verify form"
body_has 'name="code"' || fail "the /verify form has no code field"

log "the views are audited"
a=$(run_ok cli u1 audit --json)
for id in "$intro" "$report" "$feedback"; do
    jq -e --arg id "$id" '[.[] | select(.user == "clerk" and .action == "view-letter"
        and .target == $id and (.outcome | startswith("ok")))] | length >= 1' <<<"$a" \
        >/dev/null || fail "no audit line for the clerk's view of $id: $a"
done
jq -e '[.[] | select(.action == "view-letter" and .target == "unit:u1/999"
    and .outcome == "not found")] | length == 1' <<<"$a" >/dev/null ||
    fail "no audit line for the view of no letter"
jq -e --arg c "$wrong" '[.[] | select(.action == "verify-letter" and .target == $c
    and .outcome == "not found")] | length == 1' <<<"$a" >/dev/null ||
    fail "no audit line for the wrong code"
c=$(run_ok cli c1 audit --json)
for id in "$card" "$handling" "$attend"; do
    jq -e --arg id "$id" '[.[] | select(.user == "secretary" and .action == "view-letter"
        and .target == $id)] | length >= 1' <<<"$c" >/dev/null ||
        fail "no audit line for the secretary's view of $id: $c"
done
jq -e '[.[] | select(.user == "secretary" and .action == "verify-letter"
    and (.outcome | startswith("ok ")))] | length >= 2' <<<"$c" >/dev/null ||
    fail "no audit line for the secretary's verifications"

stop c1
stop u1
stop br
log "ok"
