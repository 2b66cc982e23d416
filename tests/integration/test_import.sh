#!/usr/bin/env bash
# Importing a member roster (CSV) on a unit: `dualsync import members FILE.csv`. Good rows
# become introduction letters that reach the community; rows that are bad in the file
# (each with its row number, column and reason) and rows the node refuses (a community not
# in the directory) are reported and not imported, without costing the good rows around
# them, across the 500-command chunks. Running the same file again writes nothing
# (skip-existing: everything "already present", own_seq unchanged). A file refused whole
# (bad header) imports nothing; no running node is exit code 3.
. "$(dirname "$0")/lib.sh" "$@"

init_street 1 1
start br
start u1
start c1
wait_ready u1 c1

# Row numbers as a spreadsheet shows them: the header is row 1; row 9 spans two lines.
csv=$T/roster.csv
{
    printf '\xef\xbb\xbf党员编号,姓名,居住社区,联系方式,报到期限,日期\r\n'
    printf 'M0001,张一,community:c1,13800000001,30,2026-03-01\r\n'  # 2 good
    printf 'M0002,"王,二",community:c1,,,\r\n'                       # 3 good
    printf 'M0003,,community:c1,,,\r\n'                              # 4 bad: no name
    printf 'bad id,李四,community:c1,,,\r\n'                         # 5 bad: member id
    printf 'M0005,赵五,community:nowhere,,,\r\n'                     # 6 refused by the node
    printf 'M0006,钱六,community:c1,,400,\r\n'                       # 7 bad: report days
    printf 'M0001,张一,community:c1,,,\r\n'                          # 8 bad: duplicate
    printf 'M0008,孙八,community:c1,"电话\r\n手机",,2026/2/3\r\n'    # 9 good, two lines
    printf 'M0009,周九,community:c1,,7,\r\n'                         # 10 good
    # 11..610 good: the good rows fill more than one chunk of 500
    awk 'BEGIN { for (i = 1000; i < 1600; i++) printf "M%04d,党员%d,community:c1,,,\r\n", i, i }'
    printf 'M9999,末一,community:gone,,,\r\n' # 611 refused by the node, in the second chunk
} >"$csv"
good=604

log "first import: 604 good rows imported, 4 bad in the file, 2 refused by the node"
rc=0
cli u1 import members "$csv" --json >"$T/imp1.json" 2>"$T/imp1.err" || rc=$?
assert_eq 1 "$rc" "exit code of an import with bad rows"
j=$(cat "$T/imp1.json")
jq -e . >/dev/null <<<"$j" || fail "--json output is not one JSON document: $j"
assert_eq 610 "$(jq .rows <<<"$j")" "rows read"
assert_eq $good "$(jq .imported <<<"$j")" "rows imported"
assert_eq 0 "$(jq .skipped <<<"$j")" "rows skipped on the first import"
assert_eq "4 5 6 7 8 611" "$(jq -r '[.bad[].row] | join(" ")' <<<"$j")" "bad row numbers"
assert_eq 姓名 "$(jq -r '.bad[] | select(.row == 4) | .column' <<<"$j")" "column of row 4"
assert_contains "$(jq -r '.bad[] | select(.row == 4) | .reason_en' <<<"$j")" "name is missing" \
    "reason of row 4"
assert_eq 党员编号 "$(jq -r '.bad[] | select(.row == 5) | .column' <<<"$j")" "column of row 5"
assert_eq 报到期限 "$(jq -r '.bad[] | select(.row == 7) | .column' <<<"$j")" "column of row 7"
assert_contains "$(jq -r '.bad[] | select(.row == 8) | .reason_en' <<<"$j")" \
    "already appears on row 2" "reason of row 8"
for r in 6 611; do
    assert_eq true "$(jq -r ".bad[] | select(.row == $r) | .refused" <<<"$j")" "row $r refused"
    assert_contains "$(jq -r ".bad[] | select(.row == $r) | .reason_zh" <<<"$j")" "社区" \
        "Chinese reason of row $r"
done

log "the good rows are members of the unit, the bad ones are not"
m=$(run_ok cli u1 members --json)
assert_eq $good "$(jq length <<<"$m")" "members of unit:u1"
for id in M0003 M0005 M0006 M9999; do
    assert_eq 0 "$(jq "[.[] | select(.member == \"$id\")] | length" <<<"$m")" "$id not imported"
done
s=$(run_ok cli u1 member show M0001 --json)
assert_eq 30 "$(jq -r .report_days <<<"$s")" "report days of M0001"
assert_eq 2026-03-01 "$(jq -r .intro_date <<<"$s")" "date of M0001"
assert_eq "王,二" "$(jq -r .name <<<"$(run_ok cli u1 member show M0002 --json)")" "quoted name"
s=$(run_ok cli u1 member show M0008 --json)
assert_eq 2026-02-03 "$(jq -r .intro_date <<<"$s")" "spreadsheet date of M0008"
assert_eq $'电话\n手机' "$(jq -r .intro_contact <<<"$s")" "contact of M0008 (CRLF in a cell: LF)"

log "the community sees them after sync"
sync_wait u1
sync_wait c1
assert_eq $good "$(member_count c1)" "members of community:c1"
assert_eq "$(member_digest u1 M1234)" "$(member_digest c1 M1234)" "digest of M1234"
assert_eq $'电话\n手机' "$(jq -r .intro_contact <<<"$(run_ok cli c1 member show M0008 --json)")" \
    "contact of M0008 seen by the community"

log "running the same file again imports nothing"
seq_before=$(json_get u1 .own_seq)
rc=0
cli u1 import members "$csv" --json >"$T/imp2.json" 2>"$T/imp2.err" || rc=$?
assert_eq 1 "$rc" "exit code of the re-run (the bad rows are still bad)"
j=$(cat "$T/imp2.json")
assert_eq 0 "$(jq .imported <<<"$j")" "rows imported by the re-run"
assert_eq $good "$(jq .skipped <<<"$j")" "rows already present on the re-run"
assert_eq "4 5 6 7 8 611" "$(jq -r '[.bad[].row] | join(" ")' <<<"$j")" "bad rows on the re-run"
assert_eq "$seq_before" "$(json_get u1 .own_seq)" "own_seq after the re-run"

log "text output: the bad rows by number, and the summary, in Chinese or in English"
rc=0
out=$(cli u1 import members "$csv" 2>&1) || rc=$?
assert_eq 1 "$rc" "exit code in text mode"
assert_contains "$out" "第 4 行,列「姓名」" "row 4 in Chinese"
assert_contains "$out" "第 6 行: 节点拒绝: " "row 6 in Chinese"
assert_contains "$out" "读取 610 行,导入 0 行,已存在(跳过)$good 行,有误 6 行" "summary in Chinese"
rc=0
out=$(cli u1 import members "$csv" --lang en 2>&1) || rc=$?
assert_eq 1 "$rc" "exit code in text mode, in English"
assert_contains "$out" 'row 4, column "姓名": the name is missing' "row 4 in text"
assert_contains "$out" "row 6: refused: " "row 6 in text"
assert_contains "$out" "610 rows read, 0 imported, $good already present (skipped), 6 bad" \
    "text summary"
assert_eq "$seq_before" "$(json_get u1 .own_seq)" "own_seq after the text re-run"

log "a clean file: exit 0, new rows imported, known ones skipped"
printf 'member,name,community\nM0001,张一,community:c1\nM2000,新人,community:c1\n' >"$T/clean.csv"
out=$(run_ok cli u1 import members "$T/clean.csv" --json)
assert_eq '1 1 0' "$(jq -r '"\(.imported) \(.skipped) \(.bad | length)"' <<<"$out")" \
    "imported, skipped, bad of the clean file"
assert_eq $((seq_before + 1)) "$(json_get u1 .own_seq)" "own_seq after the clean file"

log "a file refused whole imports nothing (exit 2)"
printf 'member,name,community,report_day\nM3000,甲,community:c1,30\n' >"$T/typo.csv"
assert_exit 2 cli u1 import members "$T/typo.csv" --lang en
assert_contains "$OUT" '"report_day" is not a known column' "the refusal names the column"
assert_exit 2 cli u1 import members "$T/missing.csv"
assert_eq $((seq_before + 1)) "$(json_get u1 .own_seq)" "own_seq after refused files"

log "no node running: exit 3"
assert_exit 3 "$CLI_BIN" --data "$T/nonode" import members "$T/clean.csv"

stop c1
stop u1
stop br
