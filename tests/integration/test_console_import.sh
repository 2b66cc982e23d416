#!/usr/bin/env bash
# The node console's 导入 page: a roster CSV uploaded over HTTP (curl -F) on a unit.
#   - the page explains the columns and offers a multipart form with the CSRF token;
#   - 5 good rows and 2 bad ones (a bad member id in the file, a community the node does
#     not know): 5 imported, the refused rows in a table with row, column and reason, and
#     own_seq grew by exactly 5; the members reach the community;
#   - the same file again imports 0 and skips 5, own_seq unchanged;
#   - a viewer's upload is 403, an upload without the CSRF token is 403, and a file with a
#     bad header is refused whole (422): none of them writes anything;
#   - a community's console refuses the import (only units import);
#   - every upload is in the audit log with the account name and the file name.
. "$(dirname "$0")/lib.sh" "$@"
command -v curl >/dev/null || fail "curl is required (deploy/install-deps.sh)"

DS_WEB=1
init_street 1 1
printf 'clerk-pass-1\n' >"$T/pw-clerk"
printf 'viewer-pass-1\n' >"$T/pw-viewer"
printf 'secretary-1\n' >"$T/pw-sec"
run_ok cli u1 user add clerk --role operator --password-file "$T/pw-clerk" >/dev/null
run_ok cli u1 user add viewer --role viewer --password-file "$T/pw-viewer" >/dev/null
run_ok cli c1 user add secretary --role operator --password-file "$T/pw-sec" >/dev/null
start br
start u1
start c1
wait_ready u1 c1
U=http://127.0.0.1:${WEBPORT[u1]}
C=http://127.0.0.1:${WEBPORT[c1]}

# count ID: the number in the result's <b id="ID">N</b>.
count() { grep -o "id=\"$1\">[0-9]*<" "$T/body" | head -1 | tr -dc '0-9'; }
# refused_row N: the refused-rows table's row N, as one line of HTML.
refused_row() { tr '\n' ' ' <"$T/body" | grep -o "<tr data-row=\"$1\">.*" | sed 's#</tr>.*##'; }
# upload JAR BASE FILE [CSRF]: POSTs FILE to /import; prints the status.
upload() {
    local args=(-F "file=@$3;type=text/csv")
    [ -z "${4:-}" ] || args=(-F "csrf=$4" "${args[@]}")
    http "$1" POST "$2/import" "${args[@]}"
}

# Row 1 is the header; row 4 has a bad member id, row 7 a community the node does not know.
csv=$T/roster.csv
{
    printf '党员编号,姓名,居住社区,联系方式\r\n'
    printf 'DY-0001,张一,community:c1,13800000001\r\n' # 2
    printf 'DY-0002,"王,二",community:c1,\r\n'          # 3
    printf 'bad id,李三,community:c1,\r\n'              # 4 bad: member id
    printf 'DY-0004,赵四,community:c1,\r\n'             # 5
    printf 'DY-0005,钱五,community:c1,\r\n'             # 6
    printf 'DY-0006,孙六,community:nowhere,\r\n'        # 7 refused by the node
    printf 'DY-0007,周七,community:c1,\r\n'             # 8
} >"$csv"

log "the page: the columns and the upload form"
assert_eq 303 "$(login "$T/jc" "$U" clerk clerk-pass-1)" "the clerk logs in"
assert_eq 200 "$(http "$T/jc" GET "$U/import")" "GET /import"
body_has 'enctype="multipart/form-data"' || fail "the import form is not multipart"
body_has 'type="file" name="file"' || fail "the import form has no file field"
body_has '党员编号' || fail "the page does not explain the member column"
body_has 'report_days' || fail "the page does not explain the report_days column"
ct=$(csrf_of "$T/jc" "$U/import")
[ -n "$ct" ] || fail "no CSRF token on the import form"

log "a viewer's upload and one without the CSRF token write nothing"
seq0=$(own_seq u1)
assert_eq 303 "$(login "$T/jv" "$U" viewer viewer-pass-1)" "the viewer logs in"
vt=$(csrf_of "$T/jv" "$U/import")
assert_eq 403 "$(upload "$T/jv" "$U" "$csv" "$vt")" "a viewer's upload"
assert_eq 403 "$(upload "$T/jc" "$U" "$csv")" "an upload without the CSRF token"
assert_eq "$seq0" "$(own_seq u1)" "own_seq after refused uploads"

log "first upload: 5 imported, rows 4 and 7 refused with row, column and reason"
assert_eq 200 "$(upload "$T/jc" "$U" "$csv" "$ct")" "the upload"
assert_eq 7 "$(count rows)" "rows read"
assert_eq 5 "$(count imported)" "rows imported"
assert_eq 0 "$(count skipped)" "rows skipped"
assert_eq 2 "$(count bad)" "rows refused"
body_has 'id="refused-rows"' || fail "no table of refused rows"
r4=$(refused_row 4)
assert_contains "$r4" "<td>4</td>" "row number of row 4"
assert_contains "$r4" "<td>党员编号</td>" "column of row 4"
assert_contains "$r4" "无效" "reason of row 4"
r7=$(refused_row 7)
assert_contains "$r7" "<td>7</td>" "row number of row 7"
assert_contains "$r7" "<td>community</td>" "column of row 7 (the node's refusal)"
assert_contains "$r7" "节点拒绝" "row 7 is marked as refused by the node"
assert_contains "$r7" "街道目录" "reason of row 7"
[ -z "$(refused_row 2)" ] || fail "a good row is in the refused-rows table"
assert_eq $((seq0 + 5)) "$(own_seq u1)" "own_seq after the import"
m=$(run_ok cli u1 members --json)
assert_eq "DY-0001 DY-0002 DY-0004 DY-0005 DY-0007" "$(jq -r '[.[].member] | sort | join(" ")' \
    <<<"$m")" "the unit's members"
assert_eq "王,二" "$(jq -r .name <<<"$(run_ok cli u1 member show DY-0002 --json)")" "quoted name"

log "the same page in English"
http "$T/jc" GET "$U/lang?to=en&next=%2Fimport" >/dev/null
assert_eq 200 "$(upload "$T/jc" "$U" "$csv" "$ct")" "the upload in English"
body_has "<h1>Import a member roster</h1>" || fail "the English switch did not change the page"
assert_contains "$(refused_row 7)" "street directory" "English reason of row 7"
assert_eq 5 "$(count skipped)" "rows skipped (English)"
http "$T/jc" GET "$U/lang?to=zh&next=%2Fimport" >/dev/null

log "uploading the same file again imports nothing"
assert_eq 200 "$(upload "$T/jc" "$U" "$csv" "$ct")" "the re-upload"
assert_eq 0 "$(count imported)" "rows imported by the re-upload"
assert_eq 5 "$(count skipped)" "rows already present"
assert_eq 2 "$(count bad)" "rows still refused"
assert_eq $((seq0 + 5)) "$(own_seq u1)" "own_seq after the re-uploads"

log "a file with a bad header is refused whole"
printf 'member,name,community,report_day\nDY-0100,甲,community:c1,30\n' >"$T/typo.csv"
assert_eq 422 "$(upload "$T/jc" "$U" "$T/typo.csv" "$ct")" "a bad header"
body_has 'id="file-refused"' || fail "the refusal of the whole file is not shown"
body_has "report_day" || fail "the refusal does not name the column"
body_has "未导入任何行" || fail "the refusal does not say nothing was imported"
: >"$T/empty.csv"
assert_eq 400 "$(upload "$T/jc" "$U" "$T/empty.csv" "$ct")" "an empty file"
assert_eq $((seq0 + 5)) "$(own_seq u1)" "own_seq after refused files"

log "a community does not import"
assert_eq 303 "$(login "$T/js" "$C" secretary secretary-1)" "the secretary logs in"
assert_eq 200 "$(http "$T/js" GET "$C/import")" "the community's import page"
body_has "只有单位" || fail "the community's page does not say that only units import"
body_has 'type="file"' && fail "the community's page offers an upload"
st=$(csrf_of "$T/js" "$C/")
seqc=$(own_seq c1)
assert_eq 403 "$(upload "$T/js" "$C" "$csv" "$st")" "a community's upload"
assert_eq "$seqc" "$(own_seq c1)" "the community's own_seq"

log "the community receives the imported introductions"
sync_all u1 c1
assert_eq 5 "$(member_count c1)" "members of community:c1"

log "the audit log names the account and the file of every upload"
a=$(cli u1 audit --json)
jq -e '[.[] | select(.user == "clerk" and .action == "import members"
    and .target == "roster.csv"
    and .outcome == "ok rows=7 imported=5 skipped=0 bad=2")] | length == 1' <<<"$a" \
    >/dev/null || fail "no audit line for the first import: $a"
jq -e '[.[] | select(.user == "clerk" and .action == "import members"
    and .outcome == "ok rows=7 imported=0 skipped=5 bad=2")] | length == 2' <<<"$a" \
    >/dev/null || fail "no audit lines for the re-uploads: $a"
jq -e '[.[] | select(.user == "clerk" and .target == "typo.csv"
    and (.outcome | startswith("refused: ")))] | length == 1' <<<"$a" \
    >/dev/null || fail "no audit line for the refused file: $a"
jq -e '[.[] | select(.user == "viewer" and (.outcome | startswith("refused")))] | length == 1' \
    <<<"$a" >/dev/null || fail "no audit line for the viewer's upload: $a"
c=$(cli c1 audit --json)
jq -e '[.[] | select(.user == "secretary" and .action == "import members"
    and (.outcome | startswith("refused")))] | length == 1' <<<"$c" >/dev/null ||
    fail "no audit line for the community's upload: $c"

stop c1
stop u1
stop br
log "ok"
