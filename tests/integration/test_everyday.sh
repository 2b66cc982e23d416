#!/usr/bin/env bash
# Everyday use (issue #14): what a clerk types, as a clerk types it, and what the CLI says
# back, checked in its human output as well as in --json:
#   - `report --member` records the report-in and says so, with the receipt's id (it once
#     printed an empty annual report of year 0);
#   - every write says what it made, labelled (活动编号: …, or activity id: … with --lang en);
#   - a mistyped command or option gets "did you mean"; `help CMD` and `CMD --help` show
#     one command with an example;
#   - an org by its code or its Chinese name, dates as 2026/3/5, lists with ，、 and spaces;
#   - an unknown member or community is named in the refusal, with the near one;
#   - members and orgs found by name; tables line up with Chinese names;
#   - `status` exits 5 when the node is not in session; no negative ages;
#   - `tasks --limit` returns one page with the counts of all, and a list kept between
#     calls is not served once a letter changed the log;
#   - a node's card is <kind>-<code>.card;
#   - human output is in one language: Chinese by default (LANG=C too), English with
#     --lang en or an English locale, DUALSYNC_LANG over the locale, --lang over both;
#     --json is the same in both; a bad --lang value is a usage error.
#   - a broker whose descriptor limit cannot hold its orgs' connections says so at start.
. "$(dirname "$0")/lib.sh" "$@"

init_street 1 2
for n in br u1 c1 c2; do start "$n"; done
wait_ready u1 c1 c2
[ -f "$T/c1/community-c1.card" ] || fail "the community's card is not community-c1.card"

log "an org by its code, or by its Chinese name; a date as a spreadsheet writes it"
out=$(run_ok cli u1 intro send --member EV-0001 --name 张三 --community c1 --date 2026/1/5)
assert_contains "$out" "介绍函编号: unit:u1/" "intro send names what it made"
run_ok cli u1 intro send --member EV-0002 --name 李四 --community 社区2 >/dev/null
jq -e '.[] | select(.member == "EV-0001") | .community == "community:c1"' \
    <<<"$(cli u1 members --json)" >/dev/null || fail "--community c1 did not name community:c1"
jq -e '.[] | select(.member == "EV-0002") | .community == "community:c2"' \
    <<<"$(cli u1 members --json)" >/dev/null || fail "--community 社区2 did not name community:c2"
assert_eq 2026-01-05 "$(cli u1 member show EV-0001 --json | jq -r .intro_date)" \
    "the introduction's date given as 2026/1/5"
sync_all u1 c1 c2

log "the street report flags only report-ins that are due"
r=$(broker report --year 2026 --json)
row() { jq -c --arg o "$1" '[.communities[], .units[]] | map(select(.org == $o)) | .[0]' <<<"$r"; }
assert_eq 0 "$(row community:c2 | jq .report_due)" "c2: introduced today, nothing due yet"
assert_eq false "$(row community:c2 | jq .below_min)" "c2 is not flagged on day one"
assert_eq 1 "$(row community:c1 | jq .report_due)" "c1: introduced in January, due"
assert_eq true "$(row community:c1 | jq .below_min)" "c1 is flagged: its member has not reported"

log "reports as Excel opens them: CSV with a BOM and Chinese headers, and .xlsx workbooks"
out=$(broker report --year 2026 --csv --excel)
assert_eq efbbbf "$(head -c 3 <<<"$out" | od -An -tx1 | tr -d ' \n')" "street CSV for Excel: BOM"
assert_contains "$out" "类别,组织编号,名称,登记党员,已报到" "street CSV for Excel: Chinese headers"
out=$(broker report --year 2026 --csv)
assert_eq "side,org,name" "$(head -1 <<<"$out" | cut -d, -f1-3)" "street CSV for scripts: keys"
run_ok broker report --year 2026 --xlsx "$T/street.xlsx" >/dev/null
run_ok cli u1 report --year 2026 --xlsx "$T/u1.xlsx" >/dev/null
xlsx_has() { # FILE TEXT...: the workbook's sheet names and cells hold each TEXT
    python3 - "$@" <<'PY'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
text = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
missing = [t for t in sys.argv[2:] if t not in text]
sys.exit(f"missing: {missing}" if missing else 0)
PY
}
xlsx_has "$T/street.xlsx" "单位 units" "社区 communities" "合计 totals" "登记党员" community:c2 社区2 ||
    fail "the street workbook lacks its sheets or cells"
xlsx_has "$T/u1.xlsx" "党员 members" "汇总 summary" "EV-0001" "张三" "报到率% report rate" ||
    fail "the unit's workbook lacks its sheets or cells"
assert_exit 1 cli u1 report --year 2026 --xlsx /nonexistent/dir/r.xlsx
assert_contains "$OUT" "无法写入 Excel 文件" "a workbook that cannot be written"
out=$(cli u1 report --year 2026 --csv --excel)
assert_contains "$out" "成员,姓名,社区" "the unit's report CSV for Excel"

log "an unknown community or member is named, with the near one"
assert_exit 1 cli u1 intro send --member EV-0003 --name 王五 --community community:c3 --lang en
assert_contains "$OUT" "community:c3" "the refusal names the community typed"
assert_contains "$OUT" "did you mean community:c" "the refusal suggests a community"
assert_exit 1 cli c1 report --member ev-0001
assert_contains "$OUT" "ev-0001" "the refusal names the member typed"
assert_contains "$OUT" "EV-0001" "the refusal suggests the member id in its case"

log "report --member records the report-in and says so"
out=$(run_ok cli c1 report --member EV-0001 --date 2026/1/10)
assert_contains "$out" "报到回执编号: community:c1/" "report --member output"
case "$out" in *"annual report"* | *"年度报告"*) fail "report --member printed a report: $out" ;; esac
assert_eq true "$(cli c1 member show EV-0001 --json | jq .reported)" "the report-in is recorded"
assert_eq 2026-01-10 "$(cli c1 member show EV-0001 --json | jq -r .report_date)" \
    "the report-in's date given as 2026/1/10"

log "lists as Chinese text writes them"
run_ok cli c1 card set --member EV-0001 --categories "治安巡逻，政策宣讲、 环境卫生" >/dev/null
assert_eq '["治安巡逻","政策宣讲","环境卫生"]' \
    "$(cli c1 member show EV-0001 --json | jq -c .categories)" "categories split at ，and 、"
out=$(run_ok cli c1 activity add --kind activity-day --title 主题党日 --date 2026/3/5 --lang en)
assert_contains "$out" "activity id: community:c1/" "activity add names the activity id"
act=$(sed -n 's/.*activity id: //p' <<<"$out")
run_ok cli c1 attendance record --member EV-0001 --activity "$act" --minutes 60 >/dev/null

log "a mistyped command or option, and one command's help"
assert_exit 2 cli c1 taks
assert_contains "$OUT" "是否要输入「tasks」" "a mistyped command"
assert_exit 2 cli c1 taks --lang en
assert_contains "$OUT" "did you mean 'tasks'" "a mistyped command, in English"
assert_exit 2 cli u1 intro send --memebr EV-9 --name 某 --community c1 --lang en
assert_contains "$OUT" "did you mean --member" "a mistyped option"
for form in "help intro send" "intro send --help"; do
    # shellcheck disable=SC2086 # the words are the command line
    out=$(run_ok "$CLI_BIN" $form)
    assert_contains "$out" "介绍函" "'$form' says what the command does"
    assert_contains "$out" "--community" "'$form' lists the options"
    assert_contains "$out" "例:" "'$form' has an example"
    # shellcheck disable=SC2086
    out=$(run_ok "$CLI_BIN" $form --lang en)
    assert_contains "$out" "introduction letter" "'$form' in English says what it does"
    assert_contains "$out" "example:" "'$form' in English has an example"
done
assert_exit 2 "$CLI_BIN" help taks
assert_contains "$OUT" "tasks" "help of a mistyped command suggests"

log "members and orgs by name; the tables line up"
out=$(run_ok cli u1 members --name 张)
assert_contains "$out" "EV-0001" "members --name 张 finds 张三"
case "$out" in *EV-0002*) fail "members --name 张 also listed 李四: $out" ;; esac
assert_eq 1 "$(cli u1 members --name 张 --json | jq length)" "members --name 张, --json"
out=$(run_ok cli u1 orgs --name 社区)
assert_contains "$out" "community:c2" "orgs --name 社区"
case "$out" in *unit:u1*) fail "orgs --name 社区 listed a unit: $out" ;; esac
# the name column starts at the same terminal column on every row: the width of what
# comes before it is the same in display columns (CJK = 2)
cols=$(python3 -c '
import sys, unicodedata
def width(s): return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
rows = [l for l in sys.stdin.read().splitlines() if l]
starts = set()
for l in rows:
    name = l.split()[-1]
    starts.add(width(l[:l.rindex(name)]))
print(len(starts))' <<<"$(cli u1 orgs)")
assert_eq 1 "$cols" "the orgs table's last column starts at one display column"
out=$(run_ok cli u1 orgs --name nothing-like-this)
assert_contains "$out" "没有符合条件的组织" "orgs with no match says so"

log "corrections and withdrawals, as letters both sides apply"
intro=$(cli u1 member show EV-0001 --json | jq -r .intro_id)
out=$(run_ok cli u1 letter correct --letter "$intro" --name 张三丰 --reason 姓名笔误)
assert_contains "$out" "更正函编号: unit:u1/" "letter correct names what it made"
report=$(cli c1 member show EV-0001 --json | jq -r .report_id)
# The community's task list is kept between calls (node/tasks.c) while its log does not
# change: taken here, it must not be served again once the withdrawal below is applied.
page=$(cli c1 tasks --json --limit 1)
assert_eq 1 "$(jq '.tasks | length' <<<"$page")" "tasks --limit 1 returns one task"
assert_eq "$(cli c1 tasks --json | jq .count)" "$(jq .count <<<"$page")" \
    "a page's count is that of every task"
assert_ne "" "$(jq -r '.tasks[0].kind' <<<"$page")" "the page's task has a kind"
out=$(run_ok cli c1 letter withdraw --letter "$report" --reason 误登记)
assert_contains "$out" "撤回函编号: community:c1/" "letter withdraw names what it made"
sync_all u1 c1
for n in u1 c1; do
    assert_eq 张三丰 "$(cli $n member show EV-0001 --json | jq -r .name)" "$n: the corrected name"
    assert_eq false "$(cli $n member show EV-0001 --json | jq .reported)" "$n: report-in withdrawn"
done
assert_eq "$(member_digest u1 EV-0001)" "$(member_digest c1 EV-0001)" "both sides' digest"
assert_eq "$(member_digest u1 EV-0001)" "$(broker_digest EV-0001)" "the broker's digest"
TASKS=$(cli c1 tasks --json)
assert_contains "$(task_members report-in)" EV-0001 "the withdrawn report-in is due again"
hist=$(cli u1 member history EV-0001)
assert_contains "$hist" "withdrawal" "the withdrawal is in the unit's history"
assert_contains "$hist" "误登记" "with its reason"
assert_exit 1 cli c1 letter correct --letter "$intro" --name 某 --reason 试试 --lang en
assert_contains "$OUT" "only the org that sent a letter" "correcting the other side's letter"
assert_exit 1 cli c1 letter withdraw --letter "$report" --reason 再撤一次 --lang en
assert_contains "$OUT" "withdrawn already" "withdrawing twice"
assert_exit 1 cli u1 letter withdraw --letter "$intro" --reason 试试 --lang en
assert_contains "$OUT" "member release / member move" "an introduction is not withdrawn"
assert_exit 1 cli u1 letter correct --letter "$intro" --rating poor --reason 试试 --lang en
assert_contains "$OUT" "does not apply" "a field the letter does not have"
fb=$(write1 c1 feedback send --member EV-0001 --rating poor --year 2026 --date 2026-11-30)
sync_all c1 u1
h=$(write1 u1 handling send --member EV-0001 --feedback "$fb" --action criticism --text 已谈话)
sync_all u1 c1
assert_exit 1 cli c1 letter withdraw --letter "$fb" --reason 评价有误 --lang en
assert_contains "$OUT" "handling result" "a feedback letter already answered"
run_ok cli u1 letter withdraw --letter "$h" --reason 对应的反馈函有误 >/dev/null
sync_all u1 c1
run_ok cli c1 letter withdraw --letter "$fb" --reason 评价有误 >/dev/null
sync_all c1 u1
for n in u1 c1; do
    assert_eq 0 "$(cli $n member show EV-0001 --json | jq '.feedback | length')" "$n: feedback"
    assert_eq 0 "$(cli $n member show EV-0001 --json | jq '.handling | length')" "$n: handling"
done
assert_eq "$(member_digest u1 EV-0001)" "$(member_digest c1 EV-0001)" "digests after withdrawals"

log "a day's journal: the letters of that day, sent and received, and where each stands"
j=$(cli u1 journal --date 2026/1/5 --json)
assert_eq 2026-01-05 "$(jq -r .date <<<"$j")" "the journal's day"
assert_eq "sent introduction EV-0001" \
    "$(jq -r '.letters[] | select(.id == "'"$intro"'") | "\(.direction) \(.type) \(.member)"' <<<"$j")" \
    "the introduction in the unit's journal of its date"
jq -e '.letters[] | select(.id == "'"$intro"'") | .state | IN("at-street", "applied")' \
    <<<"$j" >/dev/null || fail "the introduction's state in the journal: $j"
out=$(run_ok cli c1 journal --date 2026-01-05)
assert_contains "$out" "收到" "the community's journal, in text"
assert_contains "$out" "$intro" "the community received the introduction that day"
assert_eq 0 "$(cli u1 journal --date 2025-01-01 --json | jq '.letters | length')" "a day with no letters"

log "one language: Chinese by default and with LANG=C, English by --lang en or the locale"
# cjk: stdin holds a CJK character. plain CMD...: CMD with no language set anywhere (lib.sh
# sets DUALSYNC_LANG for the other checks) and the C locale.
cjk() { python3 -c 'import re, sys; sys.exit(0 if re.search("[\u4e00-\u9fff]", sys.stdin.read()) else 1)'; }
plain() { env -u DUALSYNC_LANG -u LC_ALL -u LC_MESSAGES LANG=C "$@"; }
try plain "$CLI_BIN" --data "$T/u1" status
assert_eq 0 "$RC" "status in session"
assert_contains "$OUT" "状态:" "status with LANG=C is in Chinese"
python3 -c 'import re, sys
bad = [l for l in sys.stdin.read().splitlines() if l and not re.search("[\u4e00-\u9fff]", l)]
sys.exit("lines without Chinese: %r" % bad if bad else 0)' <<<"$OUT" ||
    fail "status with LANG=C has a line that is not Chinese: $OUT"
try plain "$CLI_BIN" --data "$T/u1" visit record --member NOPE-9 --text visit
assert_eq 1 "$RC" "a refused write"
assert_contains "$ERR" "错误: " "a refusal with LANG=C is in Chinese"
case "$ERR" in *error*) fail "a refusal with LANG=C has English: $ERR" ;; esac
try plain "$CLI_BIN" --data "$T/u1" visit record --member NOPE-9 --text visit --lang en
assert_contains "$ERR" "error: " "a refusal with --lang en"
! cjk <<<"$ERR" || fail "a refusal with --lang en has Chinese: $ERR"
try plain "$CLI_BIN" --lang en --data "$T/u1" status # --lang before the command, too
assert_contains "$OUT" "state:" "status with --lang en is in English"
! grep -v '^org:' <<<"$OUT" | cjk || fail "status with --lang en has Chinese: $OUT"
try env -u DUALSYNC_LANG -u LC_ALL -u LC_MESSAGES LANG=en_US.UTF-8 "$CLI_BIN" --data "$T/u1" status
assert_contains "$OUT" "state:" "LANG=en_US.UTF-8 chooses English"
try env -u DUALSYNC_LANG -u LC_MESSAGES LC_ALL=en_US.UTF-8 LANG=zh_CN.UTF-8 \
    "$CLI_BIN" --data "$T/u1" status
assert_contains "$OUT" "state:" "LC_ALL comes before LANG"
try env -u LC_ALL -u LC_MESSAGES DUALSYNC_LANG=zh LANG=en_US.UTF-8 "$CLI_BIN" --data "$T/u1" status
assert_contains "$OUT" "状态:" "DUALSYNC_LANG=zh comes before LANG"
try env DUALSYNC_LANG=en "$CLI_BIN" --data "$T/u1" status --lang zh
assert_contains "$OUT" "状态:" "--lang comes before DUALSYNC_LANG"
assert_exit 2 "$CLI_BIN" --data "$T/u1" status --lang fr
for word in fr zh en; do assert_contains "$OUT" "$word" "--lang fr: the refusal names $word"; done
assert_exit 2 "$BROKER_BIN" --lang fr --data "$T/br" status
assert_contains "$OUT" "'fr'" "dualsync-broker refuses --lang fr too"
assert_eq "$(cli u1 members --json --lang zh)" "$(cli u1 members --json --lang en)" \
    "--json is the same in both languages"
out=$(run_ok broker status --lang en)
assert_contains "$out" "street:" "the broker's status in English"
! grep -v '^street:' <<<"$out" | cjk || fail "the broker's status in English has Chinese: $out"
assert_contains "$(run_ok broker status)" "街道:" "the broker's status in Chinese"
! run_ok "$NODE_BIN" --help --lang en | cjk || fail "dualsync-node --help --lang en has Chinese"
assert_contains "$(run_ok "$NODE_BIN" --help)" "初始化节点" "dualsync-node --help in Chinese"
assert_contains "$("$CLI_BIN" --commands)" "status"$'\t'"lang:" "completion lists --lang"

log "status: 0 in session, 5 not in session; no negative ages"
assert_exit 0 "$CLI_BIN" --data "$T/u1" status
stop br
wait_for json_is u1 .connected false --deadline 30
assert_exit 5 "$CLI_BIN" --data "$T/u1" status
assert_contains "$OUT" "未与街道 broker 建立会话" "status says it is not in session"
case "$OUT" in *"-1 ms"*) fail "status shows a negative age: $OUT" ;; esac

log "reads work with the daemon stopped; writes say it must run"
stop u1
out=$(run_ok cli u1 members)
assert_contains "$out" "EV-0001" "members with the node stopped"
assert_eq 2 "$(cli u1 members --json 2>/dev/null | jq length)" "members --json with the node stopped"
run_ok cli u1 report --year 2026 --json >/dev/null
run_ok cli u1 member history EV-0001 >/dev/null
assert_exit 3 cli u1 visit record --member EV-0001 --text 走访
assert_contains "$OUT" "该数据目录的节点没有运行" "a write with the node stopped"
# The CLI's reads go through `dualsync-node read`, which answers reads and nothing else.
assert_exit 2 sh -c "printf 'not a request' | '$NODE_BIN' --data '$T/u1' read"
assert_exit 2 sh -c "'$NODE_BIN' --data '$T/u1' read </dev/null"
start u1 # the reads took no lock: the daemon starts
for n in c2 c1 u1; do stop "$n"; done

log "a daemon raises its descriptor limit; a broker capped below its orgs' needs says so"
start br
assert_contains "$(cat "$T/br.log")" "fds=" "the broker's start line gives its descriptor limit"
stop br
START_NOFILE=512 # a unit's LimitNOFILE=512: the store takes 256, two orgs and 256 spare do not fit
start br
START_NOFILE=
assert_contains "$(tail -n 5 "$T/br.log")" "fds=512" "the broker's start line under LimitNOFILE=512"
assert_contains "$(tail -n 5 "$T/br.log")" "the descriptor limit 512 leaves too few for" \
    "the warning under LimitNOFILE=512"
stop br
