#!/usr/bin/env bash
# first_hour.sh README WORKDIR: runs every command of the README's "operator's first hour",
# verbatim, against the installed package. Called by test_package.sh inside
# `unshare -m -n` (a private /var/lib/dualsync on tmpfs, a private loopback), as root.
#
# What a person does between the blocks and the machine cannot, the script does, and no
# more: the post (a card written under /var/lib/dualsync/*/ is copied to /var/lib/dualsync,
# where the next block expects the cards it received), the passwords `user add` asks for
# (on stdin), and `systemctl`, which a stand-in on PATH plays: it starts the unit file's
# ExecStart as its User=, as systemd would (without the sandboxing). A `status` line is
# retried until it exits 0, for at most 30 s: it exits 3 until the daemon systemd started
# listens, and 5 until the node is in session (both said in the README).
set -euo pipefail
readme=$1 work=$2
mkdir -p "$work/bin"
cat >"$work/bin/systemctl" <<'SHIM'
#!/usr/bin/env bash
# Stand-in for systemd's `systemctl enable --now UNIT` (see first_hour.sh).
set -euo pipefail
[ "$1" = enable ] && [ "$2" = --now ] || { echo "stand-in systemctl: only enable --now" >&2; exit 1; }
unit=$3 inst=
case $unit in
*@*) inst=${unit#*@} file=/usr/lib/systemd/system/${unit%@*}@.service ;;
*) file=/usr/lib/systemd/system/$unit.service ;;
esac
[ -r "$file" ] || { echo "stand-in systemctl: no unit file $file" >&2; exit 1; }
user=$(sed -n 's/^User=//p' "$file")
user=${user//%i/$inst} # a node's user is its instance's: dualsync-hexie
cmd=$(sed -n 's/^ExecStart=//p' "$file")
cmd=${cmd//%i/$inst}
# shellcheck disable=SC2086 # the ExecStart line is split into words as systemd does
setsid runuser -u "$user" -- $cmd >>"$FH_WORK/$unit.log" 2>&1 </dev/null &
echo "$!" >>"$FH_WORK/pids"
SHIM
chmod +x "$work/bin/systemctl"
export PATH="$work/bin:$PATH" FH_WORK=$work

# The blocks of the section, one file each, continuation lines joined.
awk -v dir="$work" '
    /^## / { in_section = ($0 ~ /^## The operator.s first hour/) }
    in_section && /^```sh/ { n++; fenced = 1; next }
    fenced && /^```/ { fenced = 0; next }
    fenced { print > (dir "/block" n ".sh") }
' "$readme"
ls "$work"/block*.sh >/dev/null 2>&1 || { echo "FAIL: no command block in the first hour" >&2; exit 1; }

post() { # the cards written so far reach /var/lib/dualsync
    local c
    for c in /var/lib/dualsync/*/*.card; do
        [ -e "$c" ] && [ ! -e "/var/lib/dualsync/$(basename "$c")" ] && cp "$c" /var/lib/dualsync/
    done
    return 0
}

run_line() { # LINE: one command line of a block, in the block's shell state
    local line=$1 deadline=$((SECONDS + 30)) rc
    echo "+ $line" >&2
    case $line in
    *" user add "*) printf 'first-hour-password\n' | eval "$line" ;;
    *" status"*)
        until eval "$line" >"$work/status.out" 2>&1; do
            rc=$?
            { [ "$rc" -eq 3 ] || [ "$rc" -eq 5 ]; } && [ $SECONDS -lt $deadline ] || {
                cat "$work/status.out" >&2
                echo "FAIL: '$line' exited $rc" >&2
                return 1
            }
            sleep 0.2
        done
        cat "$work/status.out"
        ;;
    *) eval "$line" ;;
    esac
}

for b in $(ls "$work"/block*.sh | sort -V); do
    echo "--- $(basename "$b")" >&2
    line=
    while IFS= read -r raw || [ -n "$raw" ]; do
        raw=${raw#"${raw%%[![:space:]]*}"}
        case $raw in "#"* | "") continue ;; esac
        if [[ $raw == *\\ ]]; then
            line+="${raw%\\} "
            continue
        fi
        line+=$raw
        run_line "$line" || exit 1
        line=
    done <"$b"
    post
done
