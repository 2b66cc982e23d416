# lib.sh: helpers for the integration tests, sourced by each tests/integration/test_*.sh.
#
# Each test starts the real binaries as processes on 127.0.0.1, in a fresh temporary
# directory that the EXIT trap removes after killing every process the test started.
# Nothing waits on a bare sleep: every wait polls a condition every 0.1 s up to a deadline
# and fails loudly when the deadline passes.
#
# Usage (first line of a test):  . "$(dirname "$0")/lib.sh" "$@"
# The binary dir (the CMake build dir, holding broker/ and node/) is the first argument or
# $DS_BINDIR. DS_KEEP=1 keeps the temporary directory of a failed test for inspection.
set -euo pipefail

DS_BINDIR=${1:-${DS_BINDIR:-}}
if [ -z "$DS_BINDIR" ]; then
    echo "usage: $0 BINDIR   (or set DS_BINDIR)" >&2
    exit 2
fi
DS_BINDIR=$(cd "$DS_BINDIR" && pwd)
BROKER_BIN=$DS_BINDIR/broker/dualsync-broker
NODE_BIN=$DS_BINDIR/node/dualsync-node
CLI_BIN=$DS_BINDIR/node/dualsync
for _b in "$BROKER_BIN" "$NODE_BIN" "$CLI_BIN"; do
    [ -x "$_b" ] || { echo "FAIL: binary not built: $_b" >&2; exit 1; }
done
command -v jq >/dev/null || { echo "FAIL: jq is required (apt-get install jq)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "FAIL: python3 is required" >&2; exit 1; }
# The programs print in one language, chosen by --lang, DUALSYNC_LANG or the locale. The
# tests read their human output in Chinese (the default) whatever the developer's locale;
# a check of English passes --lang en, and test_everyday checks the choice itself.
export DUALSYNC_LANG=zh

TEST_NAME=$(basename "$0" .sh)
# Short path: the control sockets (DIR/ctl.sock) must fit in sun_path.
T=$(mktemp -d "${TMPDIR:-/tmp}/ds-it.XXXXXX")
DS_DURABILITY=${DS_DURABILITY:-fsync}
declare -A PIDS=()       # process name -> pid
STREET=street:jinyu
PORT=
_T0=$(date +%s%N)

# ---------------------------------------------------------------- reporting

log() { printf '[%s %5ss] %s\n' "$TEST_NAME" "$(elapsed)" "$*" >&2; }
elapsed() { # seconds since the test started, one decimal
    local ds=$((($(date +%s%N) - _T0) / 100000000))
    echo "$((ds / 10)).$((ds % 10))"
}

# Print the tail of every process log: what a failing test needs to be understood.
dump_logs() {
    local f
    for f in "$T"/*.log; do
        [ -e "$f" ] || continue
        echo "----- tail of $(basename "$f") -----" >&2
        tail -n 25 "$f" >&2
    done
}

# fail MESSAGE: report and end the test (from a subshell, e.g. out=$(run_ok ...), it ends
# the subshell and errexit ends the test). The EXIT trap then dumps the process logs.
fail() {
    echo "FAIL [$TEST_NAME]: $*" >&2
    exit 1
}

cleanup() {
    local rc=$? name pid st
    trap - EXIT INT TERM
    # A process that is gone although the test neither stopped nor killed it crashed.
    for name in "${!PIDS[@]}"; do
        pid=${PIDS[$name]}
        if ! kill -0 "$pid" 2>/dev/null; then
            st=0
            wait "$pid" 2>/dev/null || st=$?
            echo "FAIL [$TEST_NAME]: $name (pid $pid) died unexpectedly, status $st" >&2
            unset "PIDS[$name]"
            [ "$rc" -ne 0 ] || rc=1
        fi
    done
    if [ "$rc" -ne 0 ]; then
        echo "FAIL [$TEST_NAME] exit status $rc after $(elapsed)s" \
            "(DS_KEEP=1 keeps the temp dir)" >&2
        dump_logs
    fi
    for name in "${!PIDS[@]}"; do
        kill -TERM "${PIDS[$name]}" 2>/dev/null || true
    done
    for name in "${!PIDS[@]}"; do
        pid=${PIDS[$name]}
        # bounded: give each process up to 5 s to stop, then SIGKILL it
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ "$rc" -ne 0 ] && [ "${DS_KEEP:-0}" = 1 ]; then
        echo "kept $T" >&2
    else
        rm -rf "$T"
    fi
    if [ "$rc" -eq 0 ]; then log "PASS"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- assertions

assert_eq() { # EXPECTED ACTUAL MESSAGE
    [ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}
assert_ne() { # UNEXPECTED ACTUAL MESSAGE
    [ "$1" != "$2" ] || fail "$3: got '$2', which it must not be"
}
assert_ge() { # ACTUAL MIN MESSAGE
    [ "$1" -ge "$2" ] || fail "$3: expected >= $2, got $1"
}
assert_gt() { # ACTUAL MIN MESSAGE
    [ "$1" -gt "$2" ] || fail "$3: expected > $2, got $1"
}
assert_contains() { # HAYSTACK NEEDLE MESSAGE
    case "$1" in *"$2"*) ;; *) fail "$3: '$2' not found in: $1" ;; esac
}
# assert_exit CODE CMD...: run CMD, require exit status CODE; its stdout+stderr go to $OUT.
assert_exit() {
    local want=$1 got=0
    shift
    OUT=$("$@" 2>&1) || got=$?
    [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want; output: $OUT"
}
# run_ok CMD...: run CMD, fail the test with its output if it fails; stdout is printed.
run_ok() {
    local out rc=0
    out=$("$@" 2>"$T/.stderr") || rc=$?
    [ "$rc" -eq 0 ] || fail "'$*' exited $rc: $(cat "$T/.stderr") $out"
    printf '%s\n' "$out"
}

# ---------------------------------------------------------------- waiting

# wait_for CMD... --deadline SECONDS: run CMD every 0.1 s until it succeeds; fail the test
# when SECONDS pass first. The condition runs with errexit off; its output is discarded.
wait_for() {
    try_wait_for "$@" || fail "timed out waiting for: $*"
}

# try_wait_for CMD... --deadline SECONDS: as wait_for, but returns 1 on timeout, so that
# the caller can say what the timeout means.
try_wait_for() {
    local n=$# deadline=30
    if [ "$n" -ge 2 ] && [ "${*:n-1:1}" = "--deadline" ]; then
        deadline=${*:n:1}
        set -- "${@:1:n-2}"
    fi
    local end=$(($(date +%s%N) + deadline * 1000000000))
    while :; do
        if ( set +e; "$@" ) >/dev/null 2>&1; then return 0; fi
        [ "$(date +%s%N)" -lt "$end" ] || return 1
        sleep 0.1
    done
}

# ---------------------------------------------------------------- ports and the street

# free_port: sets FREE_PORT to a TCP port free on 127.0.0.1 that this test has not been
# given before. Not `$(free_port)`: the ports given are remembered in this shell. Two
# kernel-chosen ports in a row can be the same one (a broker's endpoint and a node's web
# console once were, and the console failed to bind), so the ports are drawn at random
# below the kernel's ephemeral range (32768-60999, where outgoing connections get theirs)
# and checked with a bind.
declare -A PORTS_GIVEN=()
FREE_PORT=
free_port() {
    local p
    for _ in $(seq 1 50); do
        p=$(python3 -c 'import random, socket
for _ in range(100):
    p = random.randint(20000, 32000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        print(p)
        break
    except OSError:
        pass
    finally:
        s.close()')
        if [ -n "$p" ] && [ -z "${PORTS_GIVEN[$p]:-}" ]; then
            PORTS_GIVEN[$p]=1
            FREE_PORT=$p
            return 0
        fi
    done
    fail "no free port on 127.0.0.1"
}

broker() { "$BROKER_BIN" --data "$T/br" "$@"; }
# cli NAME ARGS...: the operator CLI on node NAME's data directory. `status` exits 5 when
# the node is running but not in session; the tests read that from its JSON (.state,
# .connected), so here 5 counts as an answer. test_everyday checks the exit code itself.
cli() {
    local name=$1 rc=0
    shift
    "$CLI_BIN" --data "$T/$name" "$@" || rc=$?
    if [ "$rc" -eq 5 ] && [ "${1:-}" = status ]; then rc=0; fi
    return "$rc"
}

# web_bind NAME: sets WEB_BIND to the --web-bind of NAME's init. The web consoles are off
# unless the test sets DS_WEB=1; then each process gets a free port, kept in WEBPORT[NAME].
declare -A WEBPORT=()
WEB_BIND=
web_bind() {
    WEB_BIND=
    if [ "${DS_WEB:-0}" = 1 ]; then
        free_port
        WEBPORT[$1]=$FREE_PORT
        WEB_BIND=127.0.0.1:${WEBPORT[$1]}
    fi
}

# init_broker: broker data dir $T/br on a fresh port ($PORT), durability $DS_DURABILITY,
# delivery window $BROKER_WINDOW when set.
init_broker() {
    free_port
    PORT=$FREE_PORT
    web_bind br
    run_ok "$BROKER_BIN" --data "$T/br" init --street "$STREET" --name 金宇街道 \
        --bind "tcp://127.0.0.1:$PORT" --durability "$DS_DURABILITY" \
        ${BROKER_WINDOW:+--window "$BROKER_WINDOW"} --web-bind "$WEB_BIND" >/dev/null
}

# init_node NAME ORG DISPLAYNAME [add]: node data dir $T/NAME; with "add" the street adds
# its card to the directory.
init_node() {
    local name=$1 org=$2 display=$3
    web_bind "$name"
    run_ok "$NODE_BIN" --data "$T/$name" init --org "$org" --name "$display" \
        --street-card "$T/br/street.card" --durability "$DS_DURABILITY" \
        --web-bind "$WEB_BIND" >/dev/null
    [ -f "$T/$name/${org/:/-}.card" ] || fail "init of $org wrote no $T/$name/${org/:/-}.card"
    if [ "${4:-}" = add ]; then
        run_ok broker org add --card "$T/$name/${org/:/-}.card" >/dev/null
    fi
}

# init_street NUNITS NCOMMUNITIES: broker plus units u1..uN (unit:u1..) and communities
# c1..cM (community:c1..), every card added to the directory. Nothing is started.
init_street() {
    local nu=$1 nc=$2 i
    init_broker
    for i in $(seq "$nu"); do init_node "u$i" "unit:u$i" "单位$i" add; done
    for i in $(seq "$nc"); do init_node "c$i" "community:c$i" "社区$i" add; done
}

# ---------------------------------------------------------------- processes

# is_broker NAME: $T/NAME is a broker's data directory (br, or a test's further streets).
is_broker() { [ -f "$T/$1/broker.conf" ]; }

# A city of streets (the city_* tests): further street brokers and hubs beside $T/br.
# brk NAME ARGS...: dualsync-broker on $T/NAME.
brk() {
    local n=$1
    shift
    "$BROKER_BIN" --data "$T/$n" "$@"
}
# init_brk NAME STREET DISPLAY [--hub]: another broker on a free port (a console only with
# DS_WEB=1, as web_bind says).
init_brk() {
    web_bind "$1"
    free_port
    run_ok brk "$1" init --street "$2" --name "$3" --bind "tcp://127.0.0.1:$FREE_PORT" \
        --durability "$DS_DURABILITY" --web-bind "$WEB_BIND" ${4:-} >/dev/null
}
# init_member_node NAME ORG DISPLAY BROKER: a node of BROKER's street, its card added there.
init_member_node() {
    run_ok "$NODE_BIN" --data "$T/$1" init --org "$2" --name "$3" \
        --street-card "$T/$4/street.card" --durability "$DS_DURABILITY" --web-bind '' >/dev/null
    run_ok brk "$4" org add --card "$T/$1/${2/:/-}.card" >/dev/null
}

# start NAME: start the broker (NAME=br, or another broker's directory) or node NAME in the
# background; stderr and stdout go to $T/NAME.log (appended across restarts). Returns once
# the process answers status.
start() {
    local name=$1
    if [ -n "${PIDS[$name]:-}" ] && kill -0 "${PIDS[$name]}" 2>/dev/null; then
        fail "start $name: already running as pid ${PIDS[$name]}"
    fi
    echo "=== start $(date +%T.%N) ===" >>"$T/$name.log"
    if is_broker "$name"; then
        # The broker writes DIR/endpoint once its control socket listens. Until then a
        # `broker status` would open the store offline and could take the RocksDB lock
        # from under the starting broker, so we watch the file instead of polling status.
        rm -f "$T/$name/endpoint"
        _limited "$BROKER_BIN" --data "$T/$name" run >>"$T/$name.log" 2>&1 &
    else
        _limited "$NODE_BIN" --data "$T/$name" run >>"$T/$name.log" 2>&1 &
    fi
    PIDS[$name]=$!
    local end=$(($(date +%s%N) + 20 * 1000000000))
    until _answers "$name"; do
        alive "$name" || fail "$name (pid ${PIDS[$name]}) exited during start; see $name.log"
        [ "$(date +%s%N)" -lt "$end" ] || fail "$name did not answer status within 20 s"
        sleep 0.1
    done
}

# _limited CMD...: runs CMD in place of this (sub)shell, with soft and hard RLIMIT_NOFILE
# START_NOFILE when the test sets it (a service whose unit caps its descriptors).
START_NOFILE=
_limited() {
    [ -z "$START_NOFILE" ] || ulimit -n "$START_NOFILE"
    exec "$@"
}

_answers() { # NAME: its status answers over the control socket (the broker: as running)
    if is_broker "$1"; then
        [ -s "$T/$1/endpoint" ] &&
            [ "$("$BROKER_BIN" --data "$T/$1" status --json 2>/dev/null | jq -r .endpoint)" != "" ]
    else
        cli "$1" status --json >/dev/null 2>&1
    fi
}

pid_of() { echo "${PIDS[$1]:?no process $1}"; }
alive() { [ -n "${PIDS[$1]:-}" ] && kill -0 "${PIDS[$1]}" 2>/dev/null; }

# stop NAME: SIGTERM, then require a clean exit (status 0) within 10 s.
stop() {
    local name=$1 pid rc=0
    pid=$(pid_of "$name")
    kill -TERM "$pid" 2>/dev/null || fail "stop $name: pid $pid is not running"
    wait_for _gone "$pid" --deadline 10
    wait "$pid" || rc=$?
    unset "PIDS[$name]"
    [ "$rc" -eq 0 ] || fail "$name exited with status $rc after SIGTERM"
}
_gone() { ! kill -0 "$1" 2>/dev/null; }

# kill9 NAME: SIGKILL, reaped.
kill9() {
    local name=$1 pid
    pid=$(pid_of "$name")
    kill -KILL "$pid" 2>/dev/null || fail "kill9 $name: pid $pid is not running"
    wait "$pid" 2>/dev/null || true
    unset "PIDS[$name]"
}

# ---------------------------------------------------------------- status and data

# json_get NAME FILTER: FILTER (jq, raw output) over NAME's `status --json`; NAME=br is
# the broker (so is any broker's directory). A directory path is accepted too.
json_get() {
    local name=${1#"$T"/} out
    if is_broker "$name"; then
        out=$("$BROKER_BIN" --data "$T/$name" status --json) || return 1
    else
        out=$(cli "$name" status --json) || return 1
    fi
    jq -r "$2" <<<"$out"
}

# json_is NAME FILTER VALUE: predicate for wait_for.
json_is() { [ "$(json_get "$1" "$2")" = "$3" ]; }
# json_ge NAME FILTER MIN: predicate for wait_for (numbers).
json_ge() { local v; v=$(json_get "$1" "$2") && [ "$v" -ge "$3" ]; }

# broker_peer FILTER ORG: FILTER over the broker's peer entry of ORG.
broker_peer() { json_get br ".peers[] | select(.org == \"$2\") | $1"; }

wait_ready() { # NAME...: each node reaches state "ready" (connected, HELLO answered)
    local n
    for n in "$@"; do wait_for json_is "$n" .state ready --deadline 30; done
}

sync_wait() { # NAME [TIMEOUT]: the node's `sync-wait` must return 0
    local rc=0
    cli "$1" sync-wait --timeout "${2:-60}" >/dev/null 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || fail "sync-wait on $1 exited $rc; status: $(cli "$1" status --json 2>&1)"
}

member_digest() { cli "$1" digest --member "$2" --json | jq -r .digest; }
broker_digest() { broker digest --member "$1" --json | jq -r .digest; }
member_count() { cli "$1" members --json | jq length; }

# write_intros FILE FIRST LAST COMMUNITY: batch lines introducing members M00001.. .
write_intros() {
    local file=$1 first=$2 last=$3 community=$4
    awk -v a="$first" -v b="$last" -v c="$community" 'BEGIN {
        for (i = a; i <= b; i++)
            printf "intro send --member M%05d --name 党员%05d --community %s\n", i, i, c }' >"$file"
}

# ---------------------------------------------------------------- workflow tests
# (test_full_year, test_privacy, test_letters_refuse)

# Soft checks: record a failure and go on, so that one run lists every broken workflow
# step; soft_done (at the end of the test) fails the test when any was recorded. Call
# them from the test's own shell, never from a $(...) subshell (the record would be lost).
DS_SOFT_FAILS=()
soft_fail() {
    echo "FAIL(check) [$TEST_NAME]: $*" >&2
    DS_SOFT_FAILS+=("$*")
}
check_eq() { # EXPECTED ACTUAL MESSAGE
    [ "$1" = "$2" ] || soft_fail "$3: expected '$1', got '$2'"
}
check_contains() { # HAYSTACK NEEDLE MESSAGE
    case "$1" in *"$2"*) ;; *) soft_fail "$3: '$2' not found in: $1" ;; esac
}
check_not_contains() { # HAYSTACK NEEDLE MESSAGE
    case "$1" in *"$2"*) soft_fail "$3: '$2' must not appear" ;; *) ;; esac
}
soft_done() {
    local n=${#DS_SOFT_FAILS[@]} i
    [ "$n" -eq 0 ] && return 0
    echo "----- $n failed checks -----" >&2
    for i in "${!DS_SOFT_FAILS[@]}"; do echo "  $((i + 1)). ${DS_SOFT_FAILS[$i]}" >&2; done
    fail "$n checks failed (listed above)"
}

# try CMD...: run CMD without failing the test; exit status in RC, stdout in OUT,
# stderr in ERR.
try() {
    RC=0
    OUT=$("$@" 2>"$T/.try_err") || RC=$?
    ERR=$(cat "$T/.try_err")
}

# sync_all NAME...: every node's writes acked and everything the broker holds for every
# node applied. Two passes: a letter acked during the first pass is delivered by the second.
sync_all() {
    local n
    for n in "$@"; do sync_wait "$n"; done
    for n in "$@"; do sync_wait "$n"; done
}

own_seq() { json_get "$1" .own_seq; }

# last_event_id JSON: the last event id of a write command's --json output.
last_event_id() { jq -r '.events[-1]' <<<"$1"; }

# write1 NAME ARGS...: run one write command with --json on node NAME; prints its (last)
# event id; fails the test when it is refused.
write1() {
    local name=$1 out
    shift
    out=$(run_ok cli "$name" "$@" --json) || exit 1
    last_event_id "$out"
}

# tasks_json NAME AS_OF: the node's `tasks --as-of AS_OF --json`, or "" (with the error in
# ERR and a soft failure) when the command fails.
tasks_json() {
    try cli "$1" tasks --as-of "$2" --json
    if [ "$RC" -ne 0 ]; then
        soft_fail "tasks on $1 --as-of $2 exited $RC: $ERR"
        TASKS=""
        return 1
    fi
    TASKS=$OUT
}
# task_members KIND: members (sorted, comma separated) of the tasks of KIND in $TASKS.
task_members() {
    [ -n "$TASKS" ] || { echo "?"; return; }
    jq -r --arg k "$1" '[.tasks[] | select(.kind == $k) | .member] | sort | join(",")' <<<"$TASKS"
}
# task_field KIND REF FIELD: FIELD of the task of KIND about REF in $TASKS ("" if none).
task_field() {
    [ -n "$TASKS" ] || { echo "?"; return; }
    jq -r --arg k "$1" --arg r "$2" --arg f "$3" \
        '[.tasks[] | select(.kind == $k and .ref == $r) | .[$f]] | if length == 0 then "" else (.[0] | tostring) end' \
        <<<"$TASKS"
}
# task_count KIND REF: how many tasks of KIND about REF are in $TASKS.
task_count() {
    [ -n "$TASKS" ] || { echo "?"; return; }
    jq -r --arg k "$1" --arg r "$2" '[.tasks[] | select(.kind == $k and .ref == $r)] | length' \
        <<<"$TASKS"
}

# json_has_string JSON STRING: some string anywhere in JSON equals STRING.
json_has_string() { jq -e --arg s "$2" '[.. | strings | select(. == $s)] | length > 0' <<<"$1" >/dev/null; }

# ---------------------------------------------------------------- the web consoles
# (tests that set DS_WEB=1; curl keeps each person's session in a cookie jar file)

# http JAR METHOD URL [curl args...]: prints the status code; the body goes to $T/body,
# the headers to $T/headers.
http() {
    local jar=$1 method=$2 url=$3
    shift 3
    curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' -c "$jar" -b "$jar" -X "$method" \
        "$url" "$@"
}
header() { grep -i "^$1:" "$T/headers" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
# csrf_of JAR URL: the CSRF token of the first form on the page.
csrf_of() {
    http "$1" GET "$2" >/dev/null
    grep -o 'name="csrf" value="[0-9a-f]*"' "$T/body" | head -1 | sed 's/.*value="//; s/"$//'
}
# login JAR BASE NAME PASSWORD: a fresh session; prints the status of the login POST.
login() {
    local jar=$1 base=$2 token
    rm -f "$jar"
    http "$jar" GET "$base/login" >/dev/null
    token=$(awk '$6 == "ds_login" { print $7 }' "$jar")
    http "$jar" POST "$base/login" --data-urlencode "csrf=$token" --data-urlencode "name=$3" \
        --data-urlencode "password=$4" --data-urlencode "next=/"
}
# body_has TEXT: the last page holds TEXT (a fixed string).
body_has() { grep -qF -- "$1" "$T/body"; }
