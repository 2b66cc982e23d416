#!/usr/bin/env bash
# Local access (issue 11, item 3): only the data directory's user reads or writes it.
#  (a) what init writes is private whatever the umask: the directory 0700 (one made by
#      hand with 0755 is closed), the keys and node.conf 0600; the card, which is public,
#      0644; the daemon's control socket 0600;
#  (b) a daemon refuses a data directory that others may enter, naming `chmod 700`;
#  (c) another local user is refused with "permission denied", not "not running": by the
#      socket's mode, and, when someone loosened every mode by hand, by the daemon's check
#      of the caller's uid (SO_PEERCRED); the member list stays unread;
#  (d) root is refused on a data directory of another user, and shown the command to use.
# "Another user" is nobody (65534), through setpriv; the test runs as root.
. "$(dirname "$0")/lib.sh" "$@"
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
    log "skipped: needs root and setpriv to act as another user; 0 steps run"
    exit 0
fi
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
mode() { stat -c %a "$1"; }

log "(a) init under umask 000, into a directory made by hand with mode 0755"
init_broker
init_node c1 community:c1 社区1 add
mkdir -m 0755 "$T/u1"
(umask 000 && init_node u1 unit:u1 单位1 add)
assert_eq 700 "$(mode "$T/u1")" "the data directory after init"
assert_eq 600 "$(mode "$T/u1/node.conf")" "node.conf"
for k in "$T"/u1/keys/*; do assert_eq 600 "$(mode "$k")" "$(basename "$k")"; done
assert_eq 644 "$(mode "$T/u1/unit-u1.card")" "the card (public)"
start br
umask 000 # the daemon inherits it; it must not matter
start u1
umask 022
wait_ready u1
assert_eq 600 "$(mode "$T/u1/ctl.sock")" "the control socket under umask 000"
run_ok cli u1 intro send --member M001 --name 张三 --community community:c1 >/dev/null
for f in $(find "$T/u1/db" -type f); do
    [ $(($(stat -c '%#a' "$f") & 077)) -eq 0 ] || fail "$f is $(mode "$f"): others may read it"
done

log "(b) a daemon refuses a data directory others may enter"
stop u1
chmod 0755 "$T/u1"
out=$("$NODE_BIN" --data "$T/u1" run 2>&1) && fail "the node ran on a 0755 data directory"
assert_contains "$out" "chmod 700 $T/u1" "the fix in the refusal"
chmod 0700 "$T/u1"
start u1

log "(c) another user: permission denied, by the socket's mode"
chmod 0711 "$T" # nobody may reach the directory, not enter it
out=$(as_nobody "$CLI_BIN" --data "$T/u1" status 2>&1) && fail "nobody read the status"
assert_contains "$out" "权限" "the refusal names permission"
out=$(as_nobody "$CLI_BIN" --data "$T/u1" --lang en members 2>&1) && fail "nobody listed members"
assert_contains "$out" "permission denied" "the refusal in English"
case $out in *"not running"*) fail "another user was told the node is not running" ;; esac

log "(c) every mode loosened by hand: the daemon checks the caller's uid"
chmod 0755 "$T/u1" && chmod 0666 "$T/u1/ctl.sock"
out=$(as_nobody "$CLI_BIN" --data "$T/u1" --lang en members --json 2>&1) &&
    fail "nobody listed members through a loosened socket"
assert_contains "$out" "permission denied" "refused by SO_PEERCRED"
case $out in *张三*) fail "the refusal leaked a member's name" ;; esac
grep -q "control request from another user refused" "$T/u1.log" || fail "no log line of the refusal"
run_ok cli u1 members --json >/dev/null # the owner still may
chmod 0700 "$T/u1" "$T"

log "(d) root on a data directory of another user"
mkdir "$T/theirs" && chown 65534:65534 "$T/theirs"
out=$("$CLI_BIN" --data "$T/theirs/n" --lang en status 2>&1) && fail "root acted on nobody's folder"
assert_contains "$out" "runuser -u nobody -- $CLI_BIN --data $T/theirs/n --lang en status" "the fix"
log "ok"
