#!/usr/bin/env bash
# The web consoles over HTTP, with curl, against real daemons (a broker, a unit and a
# community, each serving its console on a free loopback port):
#   - no page without a session (303 to /login), a wrong password (401), and a lock after
#     5 failures that holds even for the right password (429);
#   - security headers on every page (no-store, CSP without third parties, DENY);
#   - a POST without the session's CSRF token, or with another, is refused (403) and writes
#     nothing; a viewer is refused every write (403) and writes nothing;
#   - a form is the CLI's command: the unit's introduction is accepted (its letter id
#     shown), a refused one (bad id) writes nothing and shows the daemon's refusal; the
#     community sees the report-in in its tasks, records it and fills the card from the
#     console; the unit's member page shows the report date;
#   - every write and every member page view is in the audit log, with the account;
#   - a removed account's session ends; logout ends a session;
#   - /healthz answers, /metrics passes promtool on both daemons and has the commit
#     latency histograms, store sizes, refusals by reason and the orgs' lag;
#   - a console on an address other than loopback without TLS is refused at start.
. "$(dirname "$0")/lib.sh" "$@"
command -v curl >/dev/null || fail "curl is required (deploy/install-deps.sh)"

DS_WEB=1
init_street 1 1
printf 'clerk-pass-1\n' >"$T/pw-clerk"
printf 'viewer-pass-1\n' >"$T/pw-viewer"
printf 'secretary-1\n' >"$T/pw-sec"
printf 'street-pass-1\n' >"$T/pw-street"
run_ok cli u1 user add clerk --role operator --password-file "$T/pw-clerk" >/dev/null
run_ok cli u1 user add viewer --role viewer --password-file "$T/pw-viewer" >/dev/null
run_ok cli u1 user add 王干事 --role operator --password-file "$T/pw-clerk" >/dev/null
run_ok cli c1 user add secretary --role operator --password-file "$T/pw-sec" >/dev/null
run_ok broker user add street --role operator --password-file "$T/pw-street" >/dev/null
start br
start u1
start c1
wait_ready u1 c1
U=http://127.0.0.1:${WEBPORT[u1]}
C=http://127.0.0.1:${WEBPORT[c1]}
S=http://127.0.0.1:${WEBPORT[br]}


log "no page without a session"
assert_eq 303 "$(http "$T/anon" GET "$U/members")" "GET /members without a session"
assert_contains "$(header Location)" "/login?next=%2Fmembers" "redirect to the login page"
assert_eq 200 "$(http "$T/anon" GET "$U/login")" "the login page"
assert_eq "no-store" "$(header Cache-Control)" "Cache-Control of the login page"
assert_eq "DENY" "$(header X-Frame-Options)" "X-Frame-Options"
csp=$(header Content-Security-Policy)
assert_contains "$csp" "default-src 'none'" "CSP"
case "$csp" in *http*) fail "CSP names a third-party source: $csp" ;; esac

log "wrong password, then the lock after 5 failures"
assert_eq 401 "$(login "$T/jv" "$U" viewer wrong-password)" "a wrong password"
body_has "用户名或密码错误" || fail "the login page does not say the password is wrong"
for i in 2 3 4 5; do
    assert_eq 401 "$(login "$T/jv" "$U" viewer "wrong-$i")" "failure $i"
done
assert_eq 429 "$(login "$T/jv" "$U" viewer viewer-pass-1)" "the right password while locked"
body_has "锁定" || fail "the login page does not say the account is locked"
assert_eq 303 "$(login "$T/jc" "$U" clerk clerk-pass-1)" "another account is not locked"
assert_eq 303 "$(login "$T/jw" "$U" 王干事 clerk-pass-1)" "a Chinese account name"

log "pages, with the unit's own forms"
assert_eq 200 "$(http "$T/jc" GET "$U/")" "the tasks page"
body_has "<h1>待办</h1>" || fail "the tasks page has no title"
assert_eq "no-store" "$(header Cache-Control)" "Cache-Control of the tasks page"
http "$T/jc" GET "$U/do" >/dev/null
body_has "介绍函" || fail "the unit's forms do not list the introduction letter"
body_has "登记卡" && fail "the unit's console offers the community's registration card"
http "$T/jc" GET "$U/lang?to=en&next=%2F" >/dev/null
assert_eq 200 "$(http "$T/jc" GET "$U/")" "the tasks page in English"
body_has "<h1>Tasks</h1>" || fail "the English switch did not change the page"
http "$T/jc" GET "$U/lang?to=zh&next=%2F" >/dev/null

log "CSRF: a write without the session's token writes nothing"
seq0=$(own_seq u1)
intro=(--data-urlencode "cmd=intro send" --data-urlencode member=DY-0001
    --data-urlencode name=张建国 --data-urlencode community=community:c1)
assert_eq 403 "$(http "$T/jc" POST "$U/do" "${intro[@]}")" "POST without a CSRF token"
assert_eq 403 "$(http "$T/jc" POST "$U/do" --data-urlencode "csrf=$(printf '%064d' 0)" \
    "${intro[@]}")" "POST with a wrong CSRF token"
assert_eq "$seq0" "$(own_seq u1)" "own_seq after refused POSTs"

log "a viewer may read but not write"
rm -f "$T/jv2"
# the viewer's lock is in force for a minute: log in as a second viewer
run_ok cli u1 user add viewer2 --role viewer --password-file "$T/pw-viewer" >/dev/null
assert_eq 303 "$(login "$T/jv2" "$U" viewer2 viewer-pass-1)" "viewer2 logs in"
assert_eq 200 "$(http "$T/jv2" GET "$U/members")" "a viewer reads members"
vt=$(csrf_of "$T/jv2" "$U/do?cmd=intro+send")
assert_eq 403 "$(http "$T/jv2" POST "$U/do" --data-urlencode "csrf=$vt" "${intro[@]}")" \
    "a viewer's introduction"
assert_eq "$seq0" "$(own_seq u1)" "own_seq after the viewer's POST"

log "a form is the CLI's command: refused, then accepted"
ct=$(csrf_of "$T/jc" "$U/do?cmd=intro+send")
assert_eq 422 "$(http "$T/jc" POST "$U/do" --data-urlencode "csrf=$ct" \
    --data-urlencode "cmd=intro send" --data-urlencode "member=bad id" \
    --data-urlencode name=某人 --data-urlencode community=community:c1)" "a bad member id"
body_has "成员编号无效" || fail "the refusal is not shown"
body_has 'value="bad id"' || fail "the refused form lost what was typed"
assert_eq "$seq0" "$(own_seq u1)" "own_seq after a refused form"
assert_eq 200 "$(http "$T/jc" POST "$U/do" --data-urlencode "csrf=$ct" "${intro[@]}")" \
    "a valid introduction"
grep -o 'id="accepted">[^<]*' "$T/body" | grep -q "unit:u1/" ||
    fail "the accepted letter's id is not shown"
assert_eq $((seq0 + 1)) "$(own_seq u1)" "own_seq after the introduction"
sync_all u1 c1

log "the community: the report-in in its tasks, recorded from the console, and the card"
assert_eq 303 "$(login "$T/js" "$C" secretary secretary-1)" "the secretary logs in"
http "$T/js" GET "$C/" >/dev/null
grep -q 'data-kind="report-in"' "$T/body" || fail "the community's tasks have no report-in"
! body_has 'href="/import"' || fail "the community's navigation offers the units' roster import"
body_has "DY-0001" || fail "the report-in task does not name DY-0001"
st=$(csrf_of "$T/js" "$C/do?cmd=report&member=DY-0001")
assert_eq 200 "$(http "$T/js" POST "$C/do" --data-urlencode "csrf=$st" \
    --data-urlencode cmd=report --data-urlencode member=DY-0001)" "the report-in"
assert_eq 200 "$(http "$T/js" POST "$C/do" --data-urlencode "csrf=$st" \
    --data-urlencode "cmd=card set" --data-urlencode member=DY-0001 \
    --data-urlencode occupation=税务干部 --data-urlencode contact=13800000001)" "the card"
assert_eq 200 "$(http "$T/js" POST "$C/do" --data-urlencode "csrf=$st" \
    --data-urlencode "cmd=liaison add" --data-urlencode name=刘书记 --data-urlencode side=community \
    --data-urlencode role=联络处主任)" "the liaison office form"
sync_all c1 u1
# The community applied the introduction (sync_all): the broker's receipt tells the unit.
wait_for json_ge u1 '.receipts["community:c1"] // 0' $((seq0 + 1)) --deadline 20
assert_eq 200 "$(http "$T/jc" GET "$U/member?id=DY-0001")" "the unit's member page"
body_has "税务干部" || fail "the unit's member page lacks the card's occupation"
body_has "report-in" || fail "the unit's member page lacks the report-in letter"
body_has 'data-standing="applied"' ||
    fail "the unit's introduction is not shown as applied on the other side"
body_has 'data-standing="received"' || fail "the community's letter is not shown as received"

log "a letter withdrawn from the member page's button"
assert_eq 200 "$(http "$T/js" GET "$C/member?id=DY-0001")" "the community's member page"
rid=$(cli c1 member show DY-0001 --json | jq -r .report_id)
body_has "cmd=letter%20withdraw&amp;letter=$(jq -rn --arg s "$rid" '$s|@uri')" ||
    fail "no withdraw button for the report-in $rid"
assert_eq 200 "$(http "$T/js" POST "$C/do" --data-urlencode "csrf=$st" \
    --data-urlencode "cmd=letter withdraw" --data-urlencode "letter=$rid" \
    --data-urlencode reason=误点了报到)" "the withdrawal form"
assert_eq false "$(cli c1 member show DY-0001 --json | jq .reported)" "reported after the withdrawal"

log "the audit log names the account of every write and member view"
a=$(cli u1 audit --json)
jq -e '[.[] | select(.user == "clerk" and .action == "intro send" and .target == "DY-0001"
    and (.outcome | startswith("ok")))] | length == 1' <<<"$a" >/dev/null ||
    fail "no audit line for the clerk's introduction: $a"
jq -e '[.[] | select(.user == "viewer2" and (.outcome | startswith("refused")))] | length >= 1' \
    <<<"$a" >/dev/null || fail "no audit line for the viewer's refused write"
jq -e '[.[] | select(.user == "clerk" and .action == "view-member")] | length >= 1' \
    <<<"$a" >/dev/null || fail "no audit line for the member page view"
jq -e '[.[] | select(.user == "viewer" and .outcome == "locked")] | length >= 1' \
    <<<"$a" >/dev/null || fail "no audit line for the locked login"
c=$(cli c1 audit --json)
jq -e '[.[] | select(.user == "secretary" and .action == "report")] | length == 1' <<<"$c" \
    >/dev/null || fail "no audit line for the secretary's report-in: $c"

log "a removed account's session ends; logout ends a session"
run_ok cli u1 user remove viewer2 >/dev/null
assert_eq 303 "$(http "$T/jv2" GET "$U/members")" "the removed viewer's next page"
lt=$(csrf_of "$T/jw" "$U/")
assert_eq 303 "$(http "$T/jw" POST "$U/logout" --data-urlencode "csrf=$lt")" "logout"
assert_eq 303 "$(http "$T/jw" GET "$U/")" "a page after logout"

log "health and metrics"
assert_eq 200 "$(http "$T/anon" GET "$U/healthz")" "the node's /healthz"
assert_eq 200 "$(http "$T/anon" GET "$S/healthz")" "the broker's /healthz"
for base in "$U" "$S"; do
    assert_eq 200 "$(http "$T/anon" GET "$base/metrics")" "$base/metrics from loopback"
    if command -v promtool >/dev/null; then
        promtool check metrics <"$T/body" >"$T/promtool.out" 2>&1 ||
            fail "promtool check metrics on $base: $(cat "$T/promtool.out")"
    else
        log "note: promtool not installed; metrics format not checked"
    fi
    cp "$T/body" "$T/metrics.${base##*:}"
done
# sample FILE NAME{LABELS}: the value of one sample (empty when absent).
sample() { awk -v n="$2" '$1 == n { print $2 }' "$1"; }
# histogram_ok FILE FAMILY: buckets cumulative, +Inf equal to _count (one scrape).
histogram_ok() {
    awk -v f="$2" 'index($1, f "_bucket{") == 1 { if ($2 < last) bad = 1; last = $2; inf = $2 }
        $1 == f "_count" { count = $2 } END { exit !(!bad && count != "" && inf == count) }' "$1"
}
MU=$T/metrics.${WEBPORT[u1]}
MS=$T/metrics.${WEBPORT[br]}
# The unit wrote an introduction and applied the community's letters: two commits at least.
assert_ge "$(sample "$MU" dualsync_node_commit_seconds_count)" 2 "the unit's commits"
histogram_ok "$MU" dualsync_node_commit_seconds || fail "dualsync_node_commit_seconds: $(cat "$MU")"
# The broker stored the introduction, then the community's letters, in separate commits.
assert_ge "$(sample "$MS" dualsync_broker_commit_seconds_count)" 2 "the broker's commits"
histogram_ok "$MS" dualsync_broker_commit_seconds ||
    fail "dualsync_broker_commit_seconds: $(cat "$MS")"
for g in store_sst_bytes store_memtable_bytes; do
    [ -n "$(sample "$MU" "dualsync_node_$g")" ] || fail "dualsync_node_$g missing"
    [ -n "$(sample "$MS" "dualsync_broker_$g")" ] || fail "dualsync_broker_$g missing"
done
for r in malformed signature side invalid fork; do
    [ -n "$(sample "$MU" "dualsync_node_refused_total{reason=\"$r\"}")" ] ||
        fail "dualsync_node_refused_total{reason=\"$r\"} missing"
done
for r in malformed auth side sequence route fork unrouted auth_refused org_mismatch; do
    [ -n "$(sample "$MS" "dualsync_broker_refused_total{reason=\"$r\"}")" ] ||
        fail "dualsync_broker_refused_total{reason=\"$r\"} missing"
done
# rejected, split by reason: the four reasons and the forks add up to it
sum=0
for r in auth side sequence route fork; do
    sum=$((sum + $(sample "$MS" "dualsync_broker_refused_total{reason=\"$r\"}")))
done
assert_eq "$(sample "$MS" dualsync_broker_rejected_total)" "$sum" "rejected = the sum of its reasons"
grep -q '^dualsync_broker_org_lag_seconds{org="' "$MS" ||
    fail "no dualsync_broker_org_lag_seconds sample (both nodes are in session)"
for g in dualsync_broker_verify_pending_events dualsync_broker_sessions_dropped_total; do
    [ -n "$(sample "$MS" $g)" ] || fail "$g missing"
done
# The same figures in status --json.
assert_ge "$(json_get u1 .commits.count)" 2 "the unit's status .commits.count"
json_get u1 '.counters | .rejected == .rejected_malformed + .rejected_signature +
    .rejected_side + .rejected_invalid' | grep -qx true || fail "rejected by reason does not add up"
json_get br '(.verify_pending | type) == "number" and (.store.sst_bytes | type) == "number"
    and (.commits.buckets | length) == 11 and ([.peers[] | has("lag_ms")] | all)' |
    grep -qx true || fail "broker status lacks verify_pending, store, commits or lag_ms"

log "the street console"
assert_eq 303 "$(login "$T/jb" "$S" street street-pass-1)" "the street office logs in"
assert_eq 200 "$(http "$T/jb" GET "$S/")" "the street page"
body_has "unit:u1" || fail "the street page does not list unit:u1"
body_has 'data-lag-ms="' || fail "the street page shows no org's lag"
fp=$(broker org list --json | jq -r '.[] | select(.org == "unit:u1") | .fingerprint')
[[ "$fp" =~ ^([0-9a-f]{4} ){7}[0-9a-f]{4}$ ]] || fail "unit:u1's key fingerprint is '$fp'"
assert_eq 200 "$(http "$T/jb" GET "$S/report.csv?year=2026")" "the street report's CSV"
assert_contains "$(header Content-Disposition)" "street-report-2026.csv" "the CSV's file name"
assert_eq efbbbf "$(head -c 3 "$T/body" | od -An -tx1 | tr -d ' \n')" "the CSV starts with a BOM"
body_has "组织编号,名称,登记党员" || fail "the CSV has no Chinese headers: $(head -c 200 "$T/body")"

log "the street console revokes an org: the directory says so and its node is refused"
assert_eq 200 "$(http "$T/jb" GET "$S/org?org=community:c1")" "the org's page"
body_has 'id="revoke"' || fail "the org's page has no revoke form"
tok=$(csrf_of "$T/jb" "$S/org?org=community:c1")
assert_eq 200 "$(http "$T/jb" POST "$S/org" --data-urlencode "csrf=$tok" \
    --data-urlencode org=community:c1 --data-urlencode action=revoke \
    --data-urlencode reason=控制台测试)" "revoke from the console"
body_has "已吊销" || fail "the page does not say revoked"
assert_eq revoked "$(broker org list --json | jq -r '.[] | select(.org == "community:c1") | .state')" \
    "the directory's state"
wait_for json_is c1 .state auth-refused --deadline 30
assert_contains "$(broker audit --json)" "org revoke" "the audit log has it"
assert_eq 200 "$(http "$T/jb" GET "$S/")" "the street page"
body_has 'data-state="revoked"' || fail "the street page does not show the state"

log "a console on an address other than loopback needs TLS"
stop c1
sed -i 's/^bind = 127.0.0.1:.*/bind = 0.0.0.0:'"${WEBPORT[c1]}"'/' "$T/c1/node.conf"
assert_exit 1 "$NODE_BIN" --data "$T/c1" run
assert_contains "$OUT" "TLS" "the refusal names TLS"
assert_contains "$OUT" "allow_plaintext" "the refusal names the way out"

stop u1
stop br
log "ok"
