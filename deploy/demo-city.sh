#!/usr/bin/env bash
# The demo city: two streets and a hub on 127.0.0.1, data under ./data/city. Street
# jinyu (金宇街道) holds the city tax bureau (unit:tax) and community:hexie; street xinhua
# (新华街道) holds community:xingfu. Neither street links with the other: each exchanges
# cards with the city's hub (市中转), which relays between them. The tax bureau has a
# member living in each street; both are introduced, report in, get a card and feedback,
# and the bureau answers. At the end every side on each letter's path holds the same
# record of each member (equal digests; the hub, which keeps no personal data of what it
# carried, the record without names and texts), `peer list` shows each link, and the hub
# sums the streets' figures (`report --city`).
# Usage: deploy/demo-city.sh [--keep]   (--keep leaves the city running afterwards)
set -euo pipefail
cd "$(dirname "$0")/.."
keep=${1:-}
bash deploy/build.sh dev
BIN=build/dev
BROKER=$BIN/broker/dualsync-broker NODE=$BIN/node/dualsync-node CLI=$BIN/node/dualsync
DATA=$PWD/data/city
if [ -f "$PWD/data/city.pids" ]; then # a city left running by an earlier --keep
    while read -r p; do kill "$p" 2>/dev/null || true; done <"$PWD/data/city.pids"
    rm -f "$PWD/data/city.pids"
    sleep 1
fi
rm -rf "$DATA" && mkdir -p "$DATA"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
stop_all() { [ "$keep" = "--keep" ] || { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -f "$PWD/data/city.pids"; }; }
trap stop_all EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" | sed "s#$BIN/node/##; s#$BIN/broker/##; s#$DATA/##g"; "$@"; }

say "两个街道办和市中转各自初始化 broker / two street offices and the city's hub set up their brokers"
run $BROKER --data "$DATA/jinyu" init --street street:jinyu --name 金宇街道 \
    --bind tcp://127.0.0.1:"$(free_port)" --web-bind ''
run $BROKER --data "$DATA/xinhua" init --street street:xinhua --name 新华街道 \
    --bind tcp://127.0.0.1:"$(free_port)" --web-bind ''
HUB_WEB=$(free_port) # the city office reads the city's figures in its browser
run $BROKER --data "$DATA/city" init --hub --street street:city --name 市中转 \
    --bind tcp://127.0.0.1:"$(free_port)" --web-bind 127.0.0.1:"$HUB_WEB"
printf 'demo-pass-2026\n' >"$DATA/console-password.txt"
run $BROKER --data "$DATA/city" user add demo --role viewer --password-file "$DATA/console-password.txt"

declare -A STREET=([tax]=jinyu [hexie]=jinyu [xingfu]=xinhua)
declare -A ORG=([tax]=unit:tax [hexie]=community:hexie [xingfu]=community:xingfu)
declare -A NAMES=([tax]=市税务局 [hexie]=和谐社区 [xingfu]=幸福社区)
for d in tax hexie xingfu; do
    say "${ORG[$d]} 初始化节点,名片交给本街道 / initialises its node; its street adds its card"
    run $NODE --data "$DATA/$d" init --org "${ORG[$d]}" --name "${NAMES[$d]}" \
        --street-card "$DATA/${STREET[$d]}/street.card" --web-bind ''
    run $BROKER --data "$DATA/${STREET[$d]}" org add --card "$DATA/$d/${ORG[$d]/:/-}.card"
done

say "每个街道与市中转互换街道名片 / each street and the hub exchange street cards"
for s in jinyu xinhua; do
    run $BROKER --data "$DATA/city" peer add --card "$DATA/$s/street.card"
    run $BROKER --data "$DATA/$s" peer add --card "$DATA/city/street.card"
    # figures to the hub every 2 s of change instead of once a minute: the demo is short
    sed -i 's/^\[broker\]$/[broker]\nfigures_seconds = 2/' "$DATA/$s/broker.conf"
done

say "启动 / starting the city"
for s in jinyu xinhua city; do
    $BROKER --data "$DATA/$s" run 2>"$DATA/$s.log" & pids+=($!)
done
for d in tax hexie xingfu; do
    $NODE --data "$DATA/$d" run 2>"$DATA/$d.log" & pids+=($!)
done
printf '%s\n' "${pids[@]}" >"$PWD/data/city.pids"
for d in tax hexie xingfu; do $CLI --data "$DATA/$d" sync-wait --timeout 30; done
knows_xingfu() { $CLI --data "$DATA/tax" orgs --json | jq -e '.[] | select(.org == "community:xingfu")' >/dev/null; }
for _ in $(seq 100); do knows_xingfu && break; sleep 0.1; done
run $CLI --data "$DATA/tax" orgs

say "税务局的两名党员分住两个街道 / the tax bureau's members live in two streets"
run $CLI --data "$DATA/tax" intro send --member DY-0001 --name 张建国 --community community:hexie --date 2026-01-08
run $CLI --data "$DATA/tax" intro send --member DY-0002 --name 李秀英 --community community:xingfu --date 2026-01-08
has() { $CLI --data "$DATA/$1" member show "$2" --json >/dev/null 2>&1; }
for _ in $(seq 100); do has hexie DY-0001 && has xingfu DY-0002 && break; sleep 0.1; done

say "两个社区各自报到、登记、反馈 / each community records the report-in, card and feedback"
for pair in hexie:DY-0001 xingfu:DY-0002; do
    c=${pair%%:*} m=${pair#*:}
    run $CLI --data "$DATA/$c" report --member "$m" --date 2026-01-15
    run $CLI --data "$DATA/$c" card set --member "$m" --occupation 会计 --willingness 治安巡逻
    run $CLI --data "$DATA/$c" feedback send --member "$m" --year 2026 --rating good --text 积极参加活动
done
feedbacks() { $CLI --data "$DATA/tax" member show "$1" --json | jq '.feedback | length'; }
for _ in $(seq 100); do [ "$(feedbacks DY-0002)" = 1 ] && [ "$(feedbacks DY-0001)" = 1 ] && break; sleep 0.1; done
run $CLI --data "$DATA/tax" member show DY-0002

say "各方记录一致(摘要相同) / every side on the letters' path holds the same record"
sleep 1
for pair in DY-0001:"tax hexie":"jinyu" DY-0002:"tax xingfu":"jinyu xinhua"; do
    m=${pair%%:*} rest=${pair#*:} nodes=${rest%%:*} brokers=${rest#*:}
    for d in $nodes; do printf '  %-8s %s %s\n' "$d" "$m" "$($CLI --data "$DATA/$d" digest --member "$m")"; done
    for s in $brokers; do printf '  %-8s %s %s\n' "$s" "$m" "$($BROKER --data "$DATA/$s" digest --member "$m")"; done
done
say "市中转不留姓名与文字:其记录即去掉个人信息的记录 / the hub keeps no names or texts: its record is the one without them"
printf '  %-8s %s %s (clear_digest)\n' tax DY-0002 "$($CLI --data "$DATA/tax" digest --member DY-0002 --json | jq -r .clear_digest)"
printf '  %-8s %s %s\n' city DY-0002 "$($BROKER --data "$DATA/city" digest --member DY-0002)"

say "连接状态 / the links"
for s in jinyu city xinhua; do run $BROKER --data "$DATA/$s" peer list; done

say "全市汇总:各街道报送统计数字,市中转相加 / the city's figures: each street sends its counts, the hub sums them"
counted() { [ "$($BROKER --data "$DATA/city" report --city --json | jq .totals.reported)" = 2 ]; }
for _ in $(seq 100); do counted && break; sleep 0.1; done
run $BROKER --data "$DATA/city" report --city
echo "市中转的网页控制台 / the hub's web console: http://127.0.0.1:$HUB_WEB/report" \
    "(账户 account: demo, 密码 password: demo-pass-2026)"
if [ "$keep" = "--keep" ]; then
    echo "the city keeps running; stop it with: kill \$(cat data/city.pids)"
fi
