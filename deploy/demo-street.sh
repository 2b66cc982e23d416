#!/usr/bin/env bash
# The demo street: one broker (the street office), two units and two communities on
# 127.0.0.1, data under ./data/demo, keys exchanged by this script exactly as operators
# would exchange cards. It plays a year of dual management — roster import, report-in,
# cards, building groups, teams, activities, a small wish claimed, an opinion request and
# a public notice, a move, tasks, feedback with participation figures, handling, annual
# reports and the street's report — and shows that every side holds the same record of
# each member (equal digests).
# Usage: deploy/demo-street.sh [--keep]   (--keep leaves the street running afterwards)
set -euo pipefail
cd "$(dirname "$0")/.."
keep=${1:-}
bash deploy/build.sh dev
BIN=build/dev
BROKER=$BIN/broker/dualsync-broker NODE=$BIN/node/dualsync-node CLI=$BIN/node/dualsync
DATA=$PWD/data/demo
# A street left running by an earlier --keep holds the ports and the data: stop it first.
if [ -f "$PWD/data/demo.pids" ]; then
    while read -r p; do kill "$p" 2>/dev/null || true; done <"$PWD/data/demo.pids"
    rm -f "$PWD/data/demo.pids"
    sleep 1
fi
rm -rf "$DATA" && mkdir -p "$DATA"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
# The web consoles: the usual ports when they are free, another free port when not.
web_port() { python3 -c 'import socket,sys
s=socket.socket()
try: s.bind(("127.0.0.1",int(sys.argv[1]))); print(sys.argv[1])
except OSError: s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"; }
declare -A WEB=([street]=$(web_port 8390) [tax]=$(web_port 8381) [school]=$(web_port 8382) \
    [hexie]=$(web_port 8383) [anju]=$(web_port 8384))
printf 'demo-pass-2026\n' >"$DATA/console-password.txt"
pids=()
stop_all() { [ "$keep" = "--keep" ] || { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -f "$PWD/data/demo.pids"; }; }
trap stop_all EXIT
consoles() {
    echo "网页控制台 / web consoles (账户 account: demo, 密码 password: demo-pass-2026):"
    for d in street tax school hexie anju; do printf '  %-7s http://127.0.0.1:%s/\n' "$d" "${WEB[$d]}"; done
}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" | sed "s#$BIN/node/##; s#$BIN/broker/##; s#$DATA/##g"; "$@"; }

say "街道办初始化 broker / the street office sets up its broker"
run $BROKER --data "$DATA/street" init --street street:jinyu --name 金宇街道 --bind tcp://127.0.0.1:$PORT \
    --web-bind 127.0.0.1:${WEB[street]}
run $BROKER --data "$DATA/street" user add demo --role operator --password-file "$DATA/console-password.txt"
declare -A NAMES=([unit:tax]=市税务局 [unit:school]=第一中学 [community:hexie]=和谐社区 [community:anju]=安居社区)
for org in unit:tax unit:school community:hexie community:anju; do
    dir="$DATA/${org#*:}"
    say "$org 初始化节点,把名片交给街道 / initialises its node and hands its card to the street"
    run $NODE --data "$dir" init --org "$org" --name "${NAMES[$org]}" --street-card "$DATA/street/street.card" \
        --web-bind "127.0.0.1:${WEB[${org#*:}]}"
    run $CLI --data "$dir" user add demo --role operator --password-file "$DATA/console-password.txt"
    run $BROKER --data "$DATA/street" org add --card "$dir/${org/:/-}.card"
done

say "启动街道 / starting the street"
$BROKER --data "$DATA/street" run 2>"$DATA/street.log" & pids+=($!)
for d in tax school hexie anju; do
    $NODE --data "$DATA/$d" run 2>"$DATA/$d.log" & pids+=($!)
done
for d in tax school hexie anju; do $CLI --data "$DATA/$d" sync-wait --timeout 30; done
printf '%s\n' "${pids[@]}" >"$PWD/data/demo.pids"
run $BROKER --data "$DATA/street" status
say "在浏览器中观看 / watch it in a browser"
consoles

syncall() { for d in tax school hexie anju; do $CLI --data "$DATA/$d" sync-wait --timeout 30; done; }
# Runs a write command quietly and prints the id of the (first) event it wrote.
id_of() { local dir=$1; shift; printf '$ dualsync --data %s %s\n' "$dir" "$*" >&2; $CLI --data "$DATA/$dir" "$@" --json | jq -r '.events[0]'; }

say "一月: 单位导入党员名册, 发出介绍函 / January: the tax bureau imports its roster (introduction letters)"
cat >"$DATA/tax-roster.csv" <<'CSV'
党员编号,姓名,居住社区,联系方式,日期
DY-0001,张建国,community:hexie,13800000001,2026-01-08
DY-0002,李秀英,community:anju,13800000002,2026-01-08
DY-0003,赵敏,community:hexie,13800000003,2026-01-08
DY-0004,孙强,community:hexie,13800000004,2026-01-08
CSV
run $CLI --data "$DATA/tax" import members "$DATA/tax-roster.csv"
run $CLI --data "$DATA/school" intro send --member DY-0101 --name 王磊 --community community:hexie --date 2026-01-12
syncall
say "二月: 党员报到, 社区填写登记卡, 编入楼栋联络组 / February: report-in, cards, building groups"
run $CLI --data "$DATA/hexie" report --member DY-0001 --date 2026-02-03
run $CLI --data "$DATA/hexie" card set --member DY-0001 --occupation 税务干部 --willingness 愿意参加巡逻 \
    --rest-time 周末 --skills 政策讲解 --categories 治安巡逻,政策宣讲 --contact 13800000001
run $CLI --data "$DATA/anju" report --member DY-0002 --date 2026-02-10
run $CLI --data "$DATA/anju" card set --member DY-0002 --occupation 会计 --willingness 文化宣传 --rest-time 工作日晚上
run $CLI --data "$DATA/hexie" report --member DY-0101 --date 2026-02-15
run $CLI --data "$DATA/hexie" card set --member DY-0101 --occupation 教师 --willingness 辅导功课 --rest-time 寒暑假 \
    --categories 关爱青少年
run $CLI --data "$DATA/hexie" report --member DY-0003 --date 2026-02-20
run $CLI --data "$DATA/hexie" group add --group b3 --title 3号楼联络组 --leader DY-0001
for m in DY-0001 DY-0101 DY-0003; do run $CLI --data "$DATA/hexie" group assign --member $m --group b3; done
run $CLI --data "$DATA/hexie" liaison add --name 刘书记 --side community --role 联络处主任
run $CLI --data "$DATA/hexie" team add --team patrol-1 --title 夜间巡逻队 --kind patrol
run $CLI --data "$DATA/hexie" team join --member DY-0001 --team patrol-1
say "三月到十月: 活动与志愿服务 / March to October: activities and volunteer service"
A1=$(id_of hexie activity add --kind activity-day --title 主题党日 --date 2026-03-05 --minutes 120)
A2=$(id_of hexie activity add --kind volunteer-service --title 夜间巡逻 --date 2026-05-16 --minutes 180)
A3=$(id_of hexie activity add --kind residents-talk --title 政策宣讲进楼栋 --date 2026-09-12 --minutes 90)
for a in "$A1" "$A2" "$A3"; do run $CLI --data "$DATA/hexie" attendance record --member DY-0001 --activity "$a"; done
run $CLI --data "$DATA/hexie" attendance record --member DY-0003 --activity "$A1"
say "双向服务: 社区发布微心愿, 税务局认领 / two-way service: a small wish, claimed by the tax bureau"
W=$(id_of hexie need publish --kind wish --title 为留守儿童购买书包 --text 需要10个书包 --date 2026-04-01)
syncall
C=$(id_of tax claim send --need "$W" --claimant DY-0001 --text 我局党员认领 --date 2026-04-03)
syncall
run $CLI --data "$DATA/hexie" claim decide --claim "$C" --decision approve --date 2026-04-04
run $CLI --data "$DATA/hexie" need fulfil --need "$W" --claim "$C" --text 书包已送到 --date 2026-04-20
run $CLI --data "$DATA/school" offer send --community community:hexie --title 周末开放操场 --date 2026-05-01
say "六月: 评优前征求社区意见, 公示 / June: opinion request before an award, and a public notice"
O=$(id_of tax opinion request --member DY-0001 --kind excellent-member --subject 2026年度优秀共产党员推荐 --date 2026-06-01 --due 2026-06-15)
P=$(id_of tax notice post --member DY-0001 --title 优秀共产党员推荐公示 --matter 拟推荐张建国为优秀共产党员 --start 2026-06-22)
syncall
run $CLI --data "$DATA/hexie" opinion reply --member DY-0001 --request "$O" --verdict agree --text 表现突出,同意推荐 --date 2026-06-10
run $CLI --data "$DATA/hexie" notice respond --member DY-0001 --notice "$P" --status posted --date 2026-06-22
run $CLI --data "$DATA/hexie" notice respond --member DY-0001 --notice "$P" --status no-objections --date 2026-06-29
say "七月: 孙强搬家到安居社区 / July: 孙强 moves house to 安居社区"
run $CLI --data "$DATA/tax" member move --member DY-0004 --community community:anju --date 2026-07-01
syncall
run $CLI --data "$DATA/anju" report --member DY-0004 --date 2026-07-10
run $CLI --data "$DATA/tax" visit record --member DY-0002 --text 走访安居社区,了解参加活动情况 --date 2026-09-20
syncall
say "十一月底: 各方的待办事项 / end of November: what is due on each side"
run $CLI --data "$DATA/hexie" tasks --as-of 2026-11-30
run $CLI --data "$DATA/tax" tasks --as-of 2026-11-30
say "十二月: 社区发出年度表现反馈函(附参加活动情况) / December: yearly feedback letters, with participation figures"
run $CLI --data "$DATA/hexie" feedback send --member DY-0001 --year 2026 --rating excellent --lead 带头服务群众,带头学习提高 --text 积极参加巡逻 --date 2026-12-10
run $CLI --data "$DATA/anju" feedback send --member DY-0002 --year 2026 --rating good --text 参加文化宣传活动 --date 2026-12-10
FB=$(id_of hexie feedback send --member DY-0101 --year 2026 --rating poor --non-participation --text 全年未参加社区活动 --date 2026-12-10)
syncall
say "单位收到差评, 反馈查处结果 / the school answers the poor rating with a handling result"
H=$(id_of school handling send --member DY-0101 --feedback "$FB" --action criticism --text 已进行批评教育 --date 2026-12-18)
syncall
say "更正: 学校补充查处结果的内容, 社区同样收到 / a correction: the school adds to its handling result; the community applies it too"
run $CLI --data "$DATA/school" letter correct --letter "$H" --text 已进行批评教育并谈心谈话 --reason 补充处理情况 --date 2026-12-19
syncall
say "当天的函件日志 / the school's journal of 18 December"
run $CLI --data "$DATA/school" journal --date 2026-12-18

say "第一中学看到的王磊 / the school's view of 王磊"
run $CLI --data "$DATA/school" member show DY-0101
say "和谐社区看到的张建国 / the community's view of 张建国"
run $CLI --data "$DATA/hexie" member show DY-0001
say "年度报告 / annual reports"
run $CLI --data "$DATA/hexie" report --year 2026
run $CLI --data "$DATA/tax" report --year 2026
say "街道联席会议与街道年度督查报表(只有数字, 没有姓名) / the street's joint meeting and report (counts only)"
run $BROKER --data "$DATA/street" meeting add --date 2026-12-28 --title 年终联席会议 \
    --attendees unit:tax,unit:school,community:hexie,community:anju --decisions 表扬和谐社区,督促报到率
run $BROKER --data "$DATA/street" report --year 2026 --as-of 2026-12-31

say "各方记录摘要 / digests on every side"
ok=1
for m in DY-0001:tax:hexie DY-0002:tax:anju DY-0003:tax:hexie DY-0004:tax:anju DY-0101:school:hexie; do
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
    consoles
    echo "停止 / stop: kill \$(cat data/demo.pids)"
else
    echo; echo "演示完成 / demo finished (data kept in $DATA; rerun with --keep to leave the street running)"
fi
