#!/usr/bin/env bash
# The consoles in a real browser: headless Chromium driven by Selenium
# (tests/browser/console_flow.py) on a street of a broker, a unit and a community, each
# serving its console on a free loopback port. The street office, the unit clerk and the
# community secretary each work in their own browser; every step asserts what the page
# shows (see console_flow.py). Screenshots go to $DS_SHOTS_DIR when set (that is how
# docs/screenshots/ is made), else into the test's temp dir.
. "$(dirname "$0")/lib.sh" "$@"
# Under ASan the daemons answer a browser too slowly for its page waits to mean anything
# (one run missed a 15 s wait for a form's answer), and Chromium itself is not
# instrumented: the sanitizer stage runs the same console paths in integration_console
# (curl), and this test runs in the dev stage.
if grep -q '^DS_SANITIZE:BOOL=ON' "$DS_BINDIR/CMakeCache.txt" 2>/dev/null; then
    log "skipped in the sanitizer build (see the comment above); 0 steps run"
    exit 0
fi
PY=/usr/bin/python3 # Debian's, which has python3-selenium
for need in "$PY" /usr/bin/chromium /usr/bin/chromedriver; do
    [ -x "$need" ] || fail "$need is missing (deploy/install-deps.sh installs it)"
done
"$PY" -c 'import selenium' 2>/dev/null || fail "python3-selenium is missing (deploy/install-deps.sh)"

DS_WEB=1
init_street 1 1
printf 'console-pass-1\n' >"$T/pw"
run_ok cli u1 user add clerk --role operator --password-file "$T/pw" >/dev/null
run_ok cli c1 user add secretary --role operator --password-file "$T/pw" >/dev/null
run_ok broker user add street --role operator --password-file "$T/pw" >/dev/null
cat >"$T/roster.csv" <<'CSV'
党员编号,姓名,居住社区,联系方式,日期
DY-0001,张建国,community:c1,13800000001,2026-01-08
DY-0002,李秀英,community:c1,13800000002,2026-01-08
DY-0003,赵敏,community:c1,13800000003,2026-01-08
CSV
start br
start u1
start c1
wait_ready u1 c1

shots=${DS_SHOTS_DIR:-$T/shots}
rc=0
"$PY" "$(dirname "$0")/../browser/console_flow.py" \
    --street "http://127.0.0.1:${WEBPORT[br]}" --unit "http://127.0.0.1:${WEBPORT[u1]}" \
    --community "http://127.0.0.1:${WEBPORT[c1]}" --unit-dir "$T/u1" --community-dir "$T/c1" \
    --cli "$CLI_BIN" --roster "$T/roster.csv" --shots "$shots" --password console-pass-1 || rc=$?
[ "$rc" -eq 0 ] || fail "the browser flow failed (screenshots so far in $shots)"
log "screenshots: $(ls "$shots" | tr '\n' ' ')"
stop c1
stop u1
stop br
log "ok"
