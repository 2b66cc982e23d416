#!/usr/bin/env bash
# The Debian package, as a street office would install it: built from this build
# directory with cpack, installed with dpkg -i, used from PATH, removed with dpkg -r.
# Checks: the three programs on PATH and runnable (--help, --version, help CMD), the man
# pages and bash completion where man and bash look for them, the systemd units, the
# dualsync system user and /var/lib/dualsync (0750, its owner), and that a node initialised
# from PATH writes its <kind>-<code>.card; after dpkg -r the programs are gone and the
# data directory stays. It needs root and dpkg; it is skipped (exit 0, said in the log) in
# the sanitizer build (its binaries need the ASan runtime) and when a dualsync package is
# installed already (the test would replace the operator's).
. "$(dirname "$0")/lib.sh" "$@"
if grep -q '^DS_SANITIZE:BOOL=ON' "$DS_BINDIR/CMakeCache.txt" 2>/dev/null; then
    log "skipped in the sanitizer build; 0 steps run"
    exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v dpkg >/dev/null || ! command -v cpack >/dev/null; then
    log "skipped: needs root, dpkg and cpack; 0 steps run"
    exit 0
fi
if dpkg-query -W -f='${Status}' dualsync 2>/dev/null | grep -q "install ok installed"; then
    log "skipped: a dualsync package is installed already, and it stays; 0 steps run"
    exit 0
fi
if id dualsync-hexie >/dev/null 2>&1; then
    log "skipped: a user dualsync-hexie exists already, and it stays; 0 steps run"
    exit 0
fi
# The first hour makes the node's own user (dualsync-hexie): it goes with the package.
trap '_rc=$?; dpkg -r dualsync >/dev/null 2>&1 || true; userdel dualsync-hexie >/dev/null 2>&1 ||
    true; (exit $_rc); cleanup' EXIT

log "cpack builds the .deb"
run_ok cpack -G DEB --config "$DS_BINDIR/CPackConfig.cmake" -B "$T/pkg" >/dev/null
deb=$(ls "$T"/pkg/dualsync_*.deb)
dpkg-deb -f "$deb" Depends | grep -q librocksdb || fail "the package depends on no librocksdb"

log "dpkg -i, then the programs from PATH"
run_ok dpkg -i "$deb" >/dev/null
for p in dualsync dualsync-node dualsync-broker; do
    assert_eq "/usr/bin/$p" "$(command -v "$p")" "$p on PATH"
    run_ok "$p" --help >/dev/null
    assert_contains "$("$p" --version)" "$p " "$p --version"
    [ -s "/usr/share/man/man1/$p.1" ] || fail "no man page for $p"
    [ -s "/usr/share/bash-completion/completions/$p" ] || fail "no bash completion for $p"
done
assert_contains "$(dualsync help intro send)" "例:" "dualsync help from PATH"
grep -q '^\.TH dualsync 1' /usr/share/man/man1/dualsync.1 || fail "dualsync.1 is not a man page"
for u in dualsync-broker.service dualsync-node@.service; do
    grep -q '^ExecStart=dualsync-' "/usr/lib/systemd/system/$u" || fail "no unit $u"
    grep -q '^UMask=0077' "/usr/lib/systemd/system/$u" || fail "$u sets no UMask=0077"
done
grep -q '^User=dualsync-%i$' /usr/lib/systemd/system/dualsync-node@.service ||
    fail "a node instance does not run as a user of its own"
id dualsync >/dev/null 2>&1 || fail "no dualsync system user"
assert_eq "dualsync 750" "$(stat -c '%U %a' /var/lib/dualsync)" "/var/lib/dualsync"

log "bash completion completes commands and options from the program"
out=$(bash -c '. /usr/share/bash-completion/completions/dualsync
    COMP_WORDS=(dualsync --data d int); COMP_CWORD=3; _dualsync; echo "${COMPREPLY[*]}"')
assert_eq intro "$out" "completing 'int'"
out=$(bash -c '. /usr/share/bash-completion/completions/dualsync
    COMP_WORDS=(dualsync intro send --mem); COMP_CWORD=3; _dualsync; echo "${COMPREPLY[*]}"')
assert_eq --member "$out" "completing '--mem' after intro send"
out=$(bash -c '. /usr/share/bash-completion/completions/dualsync
    COMP_WORDS=(dualsync --lang en intro send --member M --na); COMP_CWORD=7; _dualsync
    echo "${COMPREPLY[*]}"')
assert_eq --name "$out" "completing after option values (--lang en, --member M)"

log "a street from PATH: init writes the cards"
dualsync-broker --data "$T/st" init --street street:pkg --name 包街道 --web-bind '' >/dev/null
dualsync-node --data "$T/n" init --org community:pkg-c --name 包社区 \
    --street-card "$T/st/street.card" --web-bind '' >/dev/null
[ -s "$T/n/community-pkg-c.card" ] || fail "init from PATH wrote no community-pkg-c.card"

log "root is refused on the service user's folder, and shown the command to use"
install -d -o dualsync -g dualsync -m 0750 "$T/owned"
out=$(dualsync --data "$T/owned/n" status 2>&1) && fail "root acted on a folder of dualsync"
assert_contains "$out" "runuser -u dualsync -- dualsync --data $T/owned/n status" "the fix"

log "the README's first hour, verbatim, on a private /var/lib/dualsync and loopback"
src=$(cd "$(dirname "$0")/../.." && pwd)
unshare -m -n -- bash -euo pipefail -c '
    ip link set lo up
    mount -t tmpfs -o mode=0750 tmpfs /var/lib/dualsync
    chown dualsync:dualsync /var/lib/dualsync
    stop() { # the broker (user dualsync) and the node (user dualsync-hexie)
        pkill -TERM -f "dualsync-(broker|node) --data /var/lib/dualsync" || true
        for _ in $(seq 100); do
            pgrep -f "dualsync-(broker|node) --data /var/lib/dualsync" >/dev/null || return 0
            sleep 0.1
        done
        pkill -KILL -f "dualsync-(broker|node) --data /var/lib/dualsync" || true
    }
    trap stop EXIT
    bash "$1/tests/integration/first_hour.sh" "$1/README.md" "$2" >"$2.out"
    cd /var/lib/dualsync
    [ "$(stat -c "%U %a" hexie)" = "dualsync-hexie 700" ]
    runuser -u dualsync -- ls hexie >/dev/null 2>&1 && exit 1 # the broker user cannot look in
    runuser -u dualsync-hexie -- dualsync --data hexie status --json | jq -e ".state == \"ready\"" >/dev/null
    runuser -u dualsync-hexie -- dualsync --data hexie orgs --json |
        jq -e "[.[] | .org] | index(\"community:hexie\") != null" >/dev/null
    curl -fsS -o /dev/null http://127.0.0.1:8380/ && curl -fsS -o /dev/null http://127.0.0.1:8390/
' first-hour "$src" "$T/first-hour" 2>"$T/first-hour.log" ||
    { tail -n 40 "$T/first-hour.log" >&2; fail "the README's first hour does not run as written"; }
log "first hour: $(grep -c '^+ ' "$T/first-hour.log") command lines ran"

log "dpkg -r: the programs go, the data directory stays"
run_ok dpkg -r dualsync >/dev/null
[ ! -e /usr/bin/dualsync ] || fail "/usr/bin/dualsync is still there after dpkg -r"
[ -d /var/lib/dualsync ] || fail "dpkg -r removed /var/lib/dualsync"
log "ok"
