#!/usr/bin/env bash
# Console benchmark: page times over a community of N members (default 10,000), and the
# sync path with and without page load beside it. Prints tables; asserts nothing.
#  1. A unit introduces N members to a community; both consoles on loopback.
#  2. Each page is fetched 20 times by a logged-in secretary: p50, p95, max (ms).
#  3. The unit writes M more letters (default 2,000) and the time until the community has
#     applied them is measured twice: with the consoles idle, then while a loader fetches
#     RATE pages a second (default 50, members and tasks pages in turn) from the
#     community's console. The loader stops itself when the run ends.
# Usage: tests/bench/bench_console.sh [BUILD_DIR] [N] [M] [RATE]
set -euo pipefail
BIN=${1:-build/dev} N=${2:-10000} M=${3:-2000} RATE=${4:-50}
BROKER=$BIN/broker/dualsync-broker NODE=$BIN/node/dualsync-node CLI=$BIN/node/dualsync
T=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$T"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port) WU=$(free_port) WC=$(free_port)
$BROKER --data $T/b init --street street:bench --name 测试街道 --bind tcp://127.0.0.1:$PORT --web-bind "" >/dev/null
$NODE --data $T/u init --org unit:u --name 单位 --street-card $T/b/street.card --web-bind 127.0.0.1:$WU >/dev/null
$NODE --data $T/c init --org community:c --name 社区 --street-card $T/b/street.card --web-bind 127.0.0.1:$WC >/dev/null
$BROKER --data $T/b org add --card $T/u/unit-u.card >/dev/null
$BROKER --data $T/b org add --card $T/c/community-c.card >/dev/null
printf 'bench-pass-1\n' >$T/pw
$CLI --data $T/c user add sec --role operator --password-file $T/pw >/dev/null
$BROKER --data $T/b run 2>$T/b.log & pids+=($!)
$NODE --data $T/u run 2>$T/u.log & pids+=($!)
$NODE --data $T/c run 2>$T/c.log & pids+=($!)
$CLI --data $T/u sync-wait --timeout 30 && $CLI --data $T/c sync-wait --timeout 30
intros() { # FIRST LAST
    for i in $(seq "$1" "$2"); do
        printf 'intro send --member M%06d --name 成员%d --community community:c --date 2026-03-01\n' "$i" "$i"
    done
}
intros 1 "$N" >$T/load.txt
$CLI --data $T/u batch $T/load.txt >/dev/null
$CLI --data $T/u sync-wait --timeout 600 && $CLI --data $T/c sync-wait --timeout 600

U=http://127.0.0.1:$WC
curl -s -c $T/jar -b $T/jar $U/login >/dev/null
tok=$(awk '$6 == "ds_login" { print $7 }' $T/jar)
curl -s -o /dev/null -c $T/jar -b $T/jar -X POST $U/login --data-urlencode "csrf=$tok" \
    --data-urlencode name=sec --data-urlencode password=bench-pass-1 --data-urlencode next=/
echo "## page times over $N members ($(nproc) cores)"
echo
echo "| page | bytes | p50 ms | p95 ms | max ms |"
echo "|---|---|---|---|---|"
for page in "/" "/members" "/members?q=M00$((N / 2))" "/members?filter=not-reported&page=100" \
    "/member?id=M000001" "/report" "/sync"; do
    for i in $(seq 20); do
        curl -s -o $T/page -b $T/jar -w '%{time_total}\n' "$U$page"
    done >$T/times
    bytes=$(wc -c <$T/page)
    sort -n $T/times | awk -v p="$page" -v b="$bytes" '{ t[NR] = $1 * 1000 } END {
        printf "| `%s` | %d | %.0f | %.0f | %.0f |\n", p, b, t[int(NR * 0.5)], t[int(NR * 0.95)], t[NR] }'
done

# sync_time FIRST LAST: seconds from the unit's batch to the community having applied it.
sync_time() {
    intros "$1" "$2" >$T/more.txt
    local s e
    s=$(date +%s.%N)
    $CLI --data $T/u batch $T/more.txt >/dev/null
    $CLI --data $T/u sync-wait --timeout 600 && $CLI --data $T/c sync-wait --timeout 600
    e=$(date +%s.%N)
    python3 -c "print(f'{$e - $s:.2f}')"
}
idle=$(sync_time $((N + 1)) $((N + M)))
# The loader: RATE pages a second, bounded by a deadline and by the stop file.
python3 - "$U" "$T/jar" "$RATE" "$T/stop" "$T/loads" <<'PY' &
import http.cookiejar, sys, time, urllib.request, os
base, jar, rate, stop, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], sys.argv[5]
cj = http.cookiejar.MozillaCookieJar(jar); cj.load(ignore_discard=True, ignore_expires=True)
op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cj))
pages, n, t0 = ["/members", "/"], 0, time.time()
while not os.path.exists(stop) and time.time() - t0 < 900:
    op.open(base + pages[n % 2]).read(); n += 1
    time.sleep(max(0, t0 + n / rate - time.time()))
open(out, "w").write(f"{n} {time.time() - t0:.1f}\n")
PY
loader=$!
pids+=($loader)
sleep 2
busy=$(sync_time $((N + M + 1)) $((N + 2 * M)))
touch $T/stop
wait $loader || true
read -r loads secs <$T/loads
echo
echo "## the sync path beside page loads"
echo
echo "| $M letters unit → community | seconds | pages loaded meanwhile |"
echo "|---|---|---|"
echo "| consoles idle | $idle | 0 |"
echo "| $RATE pages/s on the community's console | $busy | $loads in ${secs} s ($(python3 -c "print(f'{$loads / $secs:.0f}')")/s) |"
python3 -c "print(f'\nslowdown: {($busy / $idle - 1) * 100:+.1f} %')"
