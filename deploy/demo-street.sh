#!/usr/bin/env bash
# The demo street: one broker (the street office), two units and two communities on
# 127.0.0.1, data under ./data/demo, keys exchanged by this script exactly as operators
# would exchange cards. It plays a short year of dual management and shows that every
# side holds the same record of each member (equal digests).
# Usage: deploy/demo-street.sh [--keep]   (--keep leaves the street running afterwards)
set -euo pipefail
cd "$(dirname "$0")/.."
keep=${1:-}
bash deploy/build.sh dev
BIN=build/dev
BROKER=$BIN/broker/dualsync-broker NODE=$BIN/node/dualsync-node CLI=$BIN/node/dualsync
DATA=$PWD/data/demo
rm -rf "$DATA" && mkdir -p "$DATA"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pids=()
stop_all() { [ "$keep" = "--keep" ] || { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }; }
trap stop_all EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" | sed "s#$BIN/node/##; s#$BIN/broker/##; s#$DATA/##g"; "$@"; }

say "街道办初始化 broker / the street office sets up its broker"
run $BROKER --data "$DATA/street" init --street street:jinyu --name 金宇街道 --bind tcp://127.0.0.1:$PORT
declare -A NAMES=([unit:tax]=市税务局 [unit:school]=第一中学 [community:hexie]=和谐社区 [community:anju]=安居社区)
for org in unit:tax unit:school community:hexie community:anju; do
    dir="$DATA/${org#*:}"
    say "$org 初始化节点,把名片交给街道 / initialises its node and hands its card to the street"
    run $NODE --data "$dir" init --org "$org" --name "${NAMES[$org]}" --street-card "$DATA/street/street.card"
    run $BROKER --data "$DATA/street" org add --card "$dir/org.card"
done

say "启动街道 / starting the street"
$BROKER --data "$DATA/street" run 2>"$DATA/street.log" & pids+=($!)
for d in tax school hexie anju; do
    $NODE --data "$DATA/$d" run 2>"$DATA/$d.log" & pids+=($!)
done
for d in tax school hexie anju; do $CLI --data "$DATA/$d" sync-wait --timeout 30; done
run $BROKER --data "$DATA/street" status

syncall() { for d in tax school hexie anju; do $CLI --data "$DATA/$d" sync-wait --timeout 30; done; }
fb_id() { $CLI --data "$DATA/$1" feedback send --json "${@:2}" | jq -r '.events[0]'; }

say "一月: 单位发出介绍函 / January: units send introduction letters"
run $CLI --data "$DATA/tax" intro send --member DY-0001 --name 张建国 --community community:hexie --date 2026-01-08
run $CLI --data "$DATA/tax" intro send --member DY-0002 --name 李秀英 --community community:anju --date 2026-01-08
run $CLI --data "$DATA/school" intro send --member DY-0101 --name 王磊 --community community:hexie --date 2026-01-12
syncall
say "二月: 党员到社区报到, 社区填写登记卡 / February: members report in, communities fill in cards"
run $CLI --data "$DATA/hexie" report --member DY-0001 --date 2026-02-03
run $CLI --data "$DATA/hexie" card set --member DY-0001 --occupation 税务干部 --willingness 治安巡逻 --rest-time 周末
run $CLI --data "$DATA/anju" report --member DY-0002 --date 2026-02-10
run $CLI --data "$DATA/anju" card set --member DY-0002 --occupation 会计 --willingness 文化宣传 --rest-time 工作日晚上
run $CLI --data "$DATA/hexie" report --member DY-0101 --date 2026-02-15
run $CLI --data "$DATA/hexie" card set --member DY-0101 --occupation 教师 --willingness 卫生保洁 --rest-time 寒暑假
syncall
say "十二月: 社区发出年度表现反馈函 / December: communities send the yearly feedback letters"
run $CLI --data "$DATA/hexie" feedback send --member DY-0001 --year 2026 --rating excellent --text 积极参加巡逻
run $CLI --data "$DATA/anju" feedback send --member DY-0002 --year 2026 --rating good --text 参加文化宣传活动
printf '$ dualsync --data hexie feedback send --member DY-0101 --year 2026 --rating poor --non-participation ...\n'
FB=$(fb_id hexie --member DY-0101 --year 2026 --rating poor --non-participation --text 全年未参加社区活动)
echo "已提交 accepted: $FB"
syncall
say "单位收到差评, 反馈查处结果 / the school answers the poor rating with a handling result"
run $CLI --data "$DATA/school" handling send --member DY-0101 --feedback "$FB" --action criticism --text 已进行批评教育
syncall

say "第一中学看到的王磊 / the school's view of 王磊"
run $CLI --data "$DATA/school" member show DY-0101
say "和谐社区看到的王磊 / the community's view of 王磊"
run $CLI --data "$DATA/hexie" member show DY-0101

say "各方记录摘要 / digests on every side"
ok=1
for m in DY-0001:tax:hexie DY-0002:tax:anju DY-0101:school:hexie; do
    IFS=: read -r member unit comm <<<"$m"
    du=$($CLI --data "$DATA/$unit" digest --member "$member")
    dc=$($CLI --data "$DATA/$comm" digest --member "$member")
    db=$($BROKER --data "$DATA/street" digest --member "$member")
    printf '%-8s unit %.16s…  community %.16s…  broker %.16s…  ' "$member" "$du" "$dc" "$db"
    if [ "$du" = "$dc" ] && [ "$dc" = "$db" ]; then echo "一致 converged"; else echo "不一致 DIFFERENT"; ok=0; fi
done
run $BROKER --data "$DATA/street" status
[ "$ok" = 1 ] || { echo "digests differ"; exit 1; }
if [ "$keep" = "--keep" ]; then
    echo; echo "街道仍在运行 / the street keeps running: try  $CLI --data $DATA/hexie status"
else
    echo; echo "演示完成 / demo finished (data kept in $DATA; rerun with --keep to leave the street running)"
fi
