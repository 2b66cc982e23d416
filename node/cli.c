/* dualsync: the operator CLI of a unit or community node. It parses the command line,
 * sends it to the daemon of --data DIR over the control socket, and prints the reply as
 * text in one language (zh-CN or English: common/lang) or, with --json, as the daemon's
 * JSON, the same in both. All validation that
 * matters happens in the daemon; the CLI only checks the shape of the command line.
 * Exit codes: 0 ok, 1 refused or failed, 2 usage, 3 daemon not running, 4 timed out,
 * 5 (status) the node is running but not in session with the broker. */
#include "accounts.h"
#include "audit.h"
#include "buf.h"
#include "cliargs.h"
#include "cli_reports.h"
#include "ctl.h"
#include "import.h"
#include "err.h"
#include "lang.h"
#include "log.h"
#include "syncwait.h"
#include "wire.h"
#include "xalloc.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BATCH_CHUNK 500

static const struct cli_command commands[] = {
    /* ---- reads (all take --json) */
    {"status", "", NULL,
     "节点状态:连接、本方序号、已确认、收件游标、积压 / node state: connection, own seq, acked, "
     "inbox cursor, pending",
     "--data DIR status [--json]", "--data unit-tax status"},
    {"member show", "_", "_", "显示一名成员的双重管理记录 / a member's dual-management record",
     "--data DIR member show M [--json]", "--data unit-tax member show DY-0001"},
    {"member history", "_", "_",
     "该成员在本节点的全部函件(含已注销的登记) / every letter about the member held here",
     "--data DIR member history M [--json]", "--data unit-tax member history DY-0001"},
    {"members", "all,name:,contact:", NULL,
     "列出本组织的成员(--all 含已注销的登记;--name/--contact 按编号、姓名或联系方式查找) / "
     "this org's members (--all: closed too; --name/--contact: find by id, name or contact)",
     "--data DIR members [--all] [--name TEXT | --contact TEXT] [--json]",
     "--data community-hexie members --name 张"},
    {"digest", "member:", "member",
     "成员记录摘要 (BLAKE2b),两侧相同即已一致 / record digest: equal on both sides = converged",
     "--data DIR digest --member M [--json]", "--data unit-tax digest --member DY-0001"},
    {"orgs", "name:", NULL,
     "街道目录中的组织(--name 按编号或名称查找) / the street's directory (--name: find by id "
     "or name)",
     "--data DIR orgs [--name TEXT] [--json]", "--data unit-tax orgs --name 和谐"},
    {"tasks", "as-of:,csv,excel,xlsx:,limit:,offset:", NULL,
     "待办与逾期事项(按记录计算;--limit 只取一页,计数仍为全部) / what is due and overdue, from "
     "the records (--limit: one page only; the counts stay those of all)",
     "--data DIR tasks [--as-of YYYY-MM-DD] [--limit N [--offset K]] [--csv [--excel] | --xlsx "
     "FILE]",
     "--data community-hexie tasks --as-of 2026-03-31"},
    {"report", "member:,date:,year:,csv,excel,xlsx:,intro:", NULL,
     "年度报告(--year);(社区)登记党员报到(--member;--intro 党员所持介绍函的编号,有多个单位介绍时"
     "必填;回执只送该单位) / annual report (--year); (community) report-in (--member; --intro the "
     "introduction the member brought, required when several units introduced the member)",
     "--data DIR report --year Y [--json | --csv [--excel] | --xlsx FILE]  |  --data DIR report "
     "--member M [--intro LETTER] [--date D]",
     "--data community-hexie report --member DY-0001 --date 2026-01-10"},
    {"journal", "date:,csv,excel,xlsx:", NULL,
     "一天的函件:发出和收到的每份关于本组织党员的函件,及其状态 / a day's letters about this "
     "org's members, sent and received, and where each stands",
     "--data DIR journal [--date D] [--csv [--excel] | --xlsx FILE]",
     "--data unit-tax journal --date 2026/3/5"},
    {"list", "_,as-of:,csv,excel,xlsx:", "_",
     "组织级函件,KIND 为 activities teams groups liaison needs claims offers meetings notices "
     "opinions 之一 / org-level letters: activities teams groups liaison needs claims offers "
     "meetings notices opinions",
     "--data DIR list KIND [--as-of YYYY-MM-DD] [--csv [--excel] | --xlsx FILE]",
     "--data community-hexie list activities"},
    {"letter show", "_", "_",
     "显示一份函件及其核验码(与打印件相同) / a letter and its verification code, as printed",
     "--data DIR letter show ORG/SEQ [--json]", "--data unit-tax letter show unit:tax/1"},
    {"letter verify", "_", "_",
     "按纸质函件上的核验码查找函件(不区分大小写,可省略 -) / find the letter of a paper "
     "copy's verification code (any case, dashes optional)",
     "--data DIR letter verify CODE [--json]", "--data unit-tax letter verify 7K3F-Q9XA"},
    /* ---- either side: corrections and withdrawals of its own letters */
    {"letter correct",
     "letter:,reason:,name:,contact:,rating:,text:,action:,date:", "letter,reason",
     "更正本组织发出的函件:介绍函(姓名、联系方式)、反馈函(评价、内容)、查处结果(处理方式、"
     "内容)、走访记录和困难(内容),须说明原因 / correct a letter this org sent: introduction "
     "(name, contact), feedback (rating, text), handling result (action, text), visit and "
     "difficulty (text); with a reason",
     "--data DIR letter correct --letter ID --reason R [--name N] [--contact C] [--rating R] "
     "[--action A] [--text T]",
     "--data unit-tax letter correct --letter unit:tax/3 --name 张三丰 --reason 姓名笔误"},
    {"letter withdraw", "letter:,reason:,date:", "letter,reason",
     "撤回本组织误发的函件(报到、反馈函、参加活动、查处结果、走访、困难、征求意见、公示),须说明"
     "原因 / withdraw a letter this org sent in error (report-in, feedback, attendance, handling, "
     "visit, difficulty, opinion request, notice); with a reason",
     "--data DIR letter withdraw --letter ID --reason R",
     "--data community-hexie letter withdraw --letter community:hexie/7 --reason 误登记了他人"},
    /* ---- unit letters */
    {"intro send", "member:,name:,community:,contact:,report-days:,date:,skip-existing",
     "member,name,community", "(单位)发出住社区党员身份介绍函 / (unit) introduction letter",
     "--data DIR intro send --member M --name NAME --community ORG [--contact C] "
     "[--report-days N] [--date D] [--skip-existing]",
     "--data unit-tax intro send --member DY-0001 --name 张三 --community hexie --contact "
     "13800000000"},
    {"import members", "_", "_",
     "(单位)从 CSV 名册批量发出介绍函(表头: member,name,community,…) / (unit) introduction letters "
     "from a CSV roster (header: "
     "member,name,community,…)",
     "--data DIR import members FILE.csv [--json]", "--data unit-tax import members 名册.csv"},
    {"member move", "member:,community:,contact:,report-days:,date:", "member,community",
     "(单位)成员迁居:注销原社区登记,并向新社区发出介绍函 / (unit) the member moved house: close, "
     "introduce anew",
     "--data DIR member move --member M --community NEW [--date D]",
     "--data unit-tax member move --member DY-0001 --community xingfu --date 2026-05-01"},
    {"member release", "member:,text:,date:", "member",
     "(单位)成员组织关系转出本单位,登记注销 / (unit) the member left the unit",
     "--data DIR member release --member M [--text T] [--date D]",
     "--data unit-tax member release --member DY-0001 --text 调往外市 --date 2026-06-30"},
    {"member erase", "member:,reason:,date:", "member,reason",
     "(单位)删除该成员在各方(本单位、社区、街道)的个人信息:姓名、联系方式、登记卡、函件文字;"
     "只留编号、日期和计数,不可恢复;reason: left-party|deceased|request / (unit) erase the "
     "member's personal data on every side (this unit, communities, the street): name, contact, "
     "card, letter texts; ids, dates and counts stay; cannot be undone; reason: "
     "left-party|deceased|request",
     "--data DIR member erase --member M --reason R [--date D]",
     "--data unit-tax member erase --member DY-0001 --reason request"},
    {"handling send", "member:,feedback:,action:,text:,date:", "member,feedback,action",
     "(单位)反馈查处结果(只写结论摘要);action: criticism|investigation|no-action / (unit) handling "
     "result, summary only; action: "
     "criticism|investigation|no-action",
     "--data DIR handling send --member M --feedback EVENT_ID --action A [--text T]",
     "--data unit-tax handling send --member DY-0001 --feedback community:hexie/9 --action "
     "criticism --text 已谈话提醒"},
    {"opinion request", "member:,community:,kind:,subject:,due:,date:", "kind,subject",
     "(单位)征求意见;kind: excellent-member advanced-individual democratic-appraisal "
     "cadre-promotion new-member(--member)| advanced-org civilised-unit(--community) / (unit) "
     "opinion request; kind: excellent-member advanced-individual democratic-appraisal "
     "cadre-promotion new-member (--member) | advanced-org civilised-unit (--community)",
     "--data DIR opinion request (--member M | --community C) --kind K --subject S [--due D]",
     "--data unit-tax opinion request --member DY-0001 --kind excellent-member --subject "
     "2026年度优秀党员 --due 2026-06-20"},
    {"notice post", "member:,title:,matter:,start:,working-days:", "member,title,matter",
     "(单位)公示,在单位和居住社区同时张贴,至少 N 个工作日 / (unit) public notice, posted at both "
     "for N working days",
     "--data DIR notice post --member M --title T --matter X [--start D] [--working-days N]",
     "--data unit-tax notice post --member DY-0001 --title 拟推荐公示 --matter 优秀党员 --start "
     "2026-06-22"},
    {"visit record", "member:,text:,date:", "member,text",
     "(单位)走访社区,了解党员参加活动情况 / (unit) visit: how the member takes part",
     "--data DIR visit record --member M --text T [--date D]",
     "--data unit-tax visit record --member DY-0001 --text 到社区了解参加活动情况"},
    {"difficulty raise", "member:,text:,date:", "member,text",
     "(单位)反映党员的实际困难 / (unit) a member's practical difficulty",
     "--data DIR difficulty raise --member M --text T [--date D]",
     "--data unit-tax difficulty raise --member DY-0001 --text 家中老人需照护"},
    {"claim send", "need:,claimant:,text:,date:", "need",
     "(单位)认领社区需求或微心愿 / (unit) claim a need or small wish",
     "--data DIR claim send --need EVENT_ID [--claimant M] [--text T]",
     "--data unit-tax claim send --need community:hexie/12 --claimant DY-0001"},
    {"offer send", "community:,title:,text:,date:", "community,title",
     "(单位)向社区提供资源 / (unit) offer a resource to a community",
     "--data DIR offer send --community C --title T [--text X]",
     "--data unit-tax offer send --community hexie --title 法律咨询 --text 每月一次"},
    /* ---- community letters */
    {"card set",
     "member:,occupation:,willingness:,rest-time:,skills:,categories:,contact:", "member",
     "(社区)登记卡(未给的项保持原值) / (community) registration card (options not given stay)",
     "--data DIR card set --member M [--occupation ..] [--willingness ..] [--rest-time ..] "
     "[--skills ..] [--categories a,b] [--contact ..]",
     "--data community-hexie card set --member DY-0001 --occupation 教师 --categories "
     "治安巡逻、政策宣讲 --contact 13800000000"},
    {"registration close", "member:,reason:,text:,date:,intro:", "member,reason",
     "(社区)退回或撤销登记,--intro 只退回另一单位的认领介绍函;reason: returned|revoked / "
     "(community) "
     "return or revoke a registration, or with --intro return one claiming unit's introduction; "
     "reason: returned|revoked",
     "--data DIR registration close --member M --reason R [--text T] [--intro LETTER]",
     "--data community-hexie registration close --member DY-0001 --reason returned --text "
     "不在本社区居住"},
    {"group add", "group:,title:,leader:", "group,title",
     "(社区)楼栋联络组 / (community) building liaison group",
     "--data DIR group add --group G --title T [--leader M]",
     "--data community-hexie group add --group b3 --title 3号楼联络组 --leader DY-0001"},
    {"group assign", "member:,group:,date:", "member,group",
     "(社区)把党员编入楼栋联络组 / (community) assign a member to a group",
     "--data DIR group assign --member M --group G",
     "--data community-hexie group assign --member DY-0001 --group b3"},
    {"team add", "team:,title:,kind:", "team,title,kind",
     "(社区)志愿服务队;kind: [policy] team_kinds / (community) volunteer team; kind: [policy] "
     "team_kinds",
     "--data DIR team add --team T --title X --kind patrol",
     "--data community-hexie team add --team patrol1 --title 治安巡逻队 --kind patrol"},
    {"team join", "member:,team:,leave,date:", "member,team",
     "(社区)加入(--leave 退出)志愿服务队 / (community) join (--leave: leave) a team",
     "--data DIR team join --member M --team T [--leave]",
     "--data community-hexie team join --member DY-0001 --team patrol1"},
    {"activity add", "kind:,title:,date:,minutes:", "kind,title",
     "(社区)活动;kind: [policy] activity_kinds / (community) activity; kind: [policy] "
     "activity_kinds",
     "--data DIR activity add --kind K --title T "
     "[--date D] [--minutes N]",
     "--data community-hexie activity add --kind activity-day --title 主题党日 --date 2026/3/5 "
     "--minutes 90"},
    {"attendance record", "member:,activity:,minutes:", "member,activity",
     "(社区)登记党员参加活动及服务时长 / (community) attendance and service time",
     "--data DIR attendance record --member M --activity ID "
     "[--minutes N]",
     "--data community-hexie attendance record --member DY-0001 --activity community:hexie/6 "
     "--minutes 90"},
    {"liaison add", "name:,side:,org:,role:,leave", "name,side,role",
     "(社区)社区联络处成员 / (community) liaison office member",
     "--data DIR liaison add --name N --side unit|community --role R [--org ORG] [--leave]",
     "--data community-hexie liaison add --name 刘书记 --side community --role 联络处主任"},
    {"feedback send",
     "member:,year:,period:,rating:,non-participation,poor-conduct,lead:,text:,date:",
     "member,rating",
     "(社区)表现情况反馈函,附本期参加活动情况;rating: excellent|good|fair|poor / (community) "
     "feedback letter with the period's "
     "figures; rating: "
     "excellent|good|fair|poor",
     "--data DIR feedback send --member M --rating R [--period 2026|2026-Q3] "
     "[--non-participation] [--poor-conduct] [--lead a,b] [--text T]",
     "--data community-hexie feedback send --member DY-0001 --rating good --year 2026 --text "
     "积极参加志愿服务"},
    {"opinion reply", "member:,request:,verdict:,text:,date:", "request,verdict",
     "(社区)答复征求意见;verdict: agree|disagree|no-opinion / (community) opinion reply; verdict: "
     "agree|disagree|no-opinion",
     "--data DIR opinion reply --request ID --verdict V [--member M] [--text T]",
     "--data community-hexie opinion reply --request unit:tax/8 --member DY-0001 --verdict agree"},
    {"notice respond", "member:,notice:,status:,text:,date:", "member,notice,status",
     "(社区)公示:确认张贴,反馈有无异议;status: posted|objections|no-objections / (community) "
     "notice: posted, objections|no-objections",
     "--data DIR notice respond --member M --notice ID --status S [--text T]",
     "--data community-hexie notice respond --member DY-0001 --notice unit:tax/9 --status "
     "no-objections"},
    {"difficulty resolve", "member:,difficulty:,text:,date:", "member,difficulty",
     "(社区)标记困难已解决 / (community) a difficulty is resolved",
     "--data DIR difficulty resolve --member M --difficulty ID [--text T]",
     "--data community-hexie difficulty resolve --member DY-0001 --difficulty unit:tax/11 --text "
     "已联系志愿者"},
    {"need publish", "kind:,title:,text:,date:", "kind,title",
     "(社区)发布社区需求或微心愿;kind: community|wish / (community) publish a need or small wish "
     "to the units of its "
     "members; "
     "kind: community|wish",
     "--data DIR need publish --kind K --title T [--text X]",
     "--data community-hexie need publish --kind wish --title 为独居老人修水管"},
    {"claim decide", "claim:,decision:,text:,date:", "claim,decision",
     "(社区)同意或拒绝认领;decision: approve|decline / (community) decide a claim; decision: "
     "approve|decline",
     "--data DIR claim decide --claim ID --decision D [--text T]",
     "--data community-hexie claim decide --claim unit:tax/12 --decision approve"},
    {"need fulfil", "need:,claim:,text:,date:", "need,claim",
     "(社区)登记需求已完成 / (community) a need is fulfilled",
     "--data DIR need fulfil --need ID --claim ID [--text T]",
     "--data community-hexie need fulfil --need community:hexie/12 --claim unit:tax/12"},
    /* ---- operations */
    {"sync-wait", "timeout:", NULL,
     "等待:本方写入均已确认,且待收事件均已应用 / wait until all is acked and applied",
     "--data DIR sync-wait [--timeout SECONDS]", "--data unit-tax sync-wait --timeout 30"},
    {"restore", "", NULL,
     "数据丢失后从街道 broker 恢复 / after losing the data directory (needs-restore): fetch own "
     "events back",
     "--data DIR restore   (then: sync-wait)", "--data unit-tax restore"},
    {"batch", "_", "_",
     "从 FILE(或 - 即标准输入)批量执行写命令,每行一条,每 500 条一个原子批次 / write commands from "
     "FILE (or -), one per line, atomic "
     "per 500",
     "--data DIR batch FILE", "--data unit-tax batch letters.txt"},
    /* ---- web console accounts and audit: act on DIR's files, daemon running or not */
    {"user add", "_,role:,password-file:", "_,role",
     "添加网页控制台账户;密码从文件或标准输入读取,终端上输入两次 / add a console account; the "
     "password comes from the file or stdin (asked twice on a terminal)",
     "--data DIR user add NAME --role operator|viewer [--password-file F]",
     "--data unit-tax user add clerk --role operator --password-file pw.txt"},
    {"user passwd", "_,password-file:", "_",
     "修改控制台账户的密码 / set a console account's password",
     "--data DIR user passwd NAME [--password-file F]", "--data unit-tax user passwd clerk"},
    {"user remove", "_", "_", "删除控制台账户 / remove a console account",
     "--data DIR user remove NAME", "--data unit-tax user remove clerk"},
    {"user list", "", NULL, "列出控制台账户及角色 / the console accounts and their roles",
     "--data DIR user list [--json]", "--data unit-tax user list"},
    {"audit", "limit:", NULL,
     "控制台审计记录:谁在何时做了什么(最早的在前) / the console's audit log, oldest first",
     "--data DIR audit [--limit N] [--json]", "--data unit-tax audit --limit 20"},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};

/* sync-wait polls through a daemon that is still starting: it must not complain. */
static bool quiet_not_running;

static int report_call_error(int rc)
{
    if (rc == DS_ENOTRUNNING && quiet_not_running)
        return 3;
    if (rc == DS_ENOTRUNNING) {
        cli_error("该数据目录的节点没有运行(先启动 dualsync-node --data DIR run)",
                  "no node is running on this data directory (start dualsync-node --data DIR run)");
        return 3;
    }
    if (rc == DS_EACCES) {
        cli_error("权限不足:该节点的数据目录和控制接口属于另一用户,请以该用户运行",
                  "permission denied: the node's data directory and control socket belong to "
                  "another user; run this as that user");
        return 1;
    }
    fprintf(stderr, TR("错误: 无法与节点通信: %s\n", "error: cannot talk to the node: %s\n"),
            ds_strerror(rc));
    return rc == DS_ETIMEDOUT ? 4 : 1;
}

/* One request/reply; on success *json_out is the parsed result (caller decrefs). */
/* Line numbers of the commands of a batch request, for error messages (NULL otherwise). */
static const long *batch_lines;

extern char **environ;

/* dualsync-node beside this program (/proc/self/exe's directory, whether installed or in
 * a build tree) into buf. DS_ENOTFOUND when it is not there. */
static int node_program(char *buf, size_t size)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return DS_ENOTFOUND;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return DS_ENOTFOUND;
    *slash = '\0';
    int len = snprintf(buf, size, "%s/dualsync-node", self);
    return len > 0 && (size_t)len < size && access(buf, X_OK) == 0 ? DS_OK : DS_ENOTFOUND;
}

/* A read while no daemon runs: `dualsync-node read` answers it from the log opened
 * read-only (no lock: the daemon may start meanwhile). It runs in that program, not here,
 * so that no other command of this one loads RocksDB (most of a command's start). DS_OK,
 * DS_EAGAIN (the records need the daemon first), or another error (no readable log). */
static int call_offline(const char *dir, const struct ctl_request *req,
                        Dualsync__CtlReply **reply_out)
{
    char prog[PATH_MAX];
    int to_node[2], from_node[2];
    if (node_program(prog, sizeof(prog)) != DS_OK || pipe(to_node) != 0)
        return DS_ENOTFOUND;
    if (pipe(from_node) != 0) {
        close(to_node[0]);
        close(to_node[1]);
        return DS_EIO;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, to_node[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, from_node[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, to_node[1]);
    posix_spawn_file_actions_addclose(&fa, from_node[0]);
    /* In our language: its own errors (a node.conf it cannot read) go to our stderr. */
    char *argv[] = {prog,
                    (char *)"--lang",
                    (char *)(ds_lang_is_en() ? "en" : "zh"),
                    (char *)"--data",
                    (char *)dir,
                    (char *)"read",
                    NULL};
    pid_t pid;
    int spawned = posix_spawn(&pid, prog, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(to_node[0]);
    close(from_node[1]);
    uint8_t *bytes = NULL, *reply = NULL;
    size_t len = 0, rlen = 0;
    /* A node that exits before reading (a bad data directory) must not kill us by SIGPIPE. */
    struct sigaction ignore = {.sa_handler = SIG_IGN}, was;
    sigaction(SIGPIPE, &ignore, &was);
    if (spawned == 0) { /* the request first, whole: the node reads it all before answering */
        ctl_request_pack(req, &bytes, &len);
        for (size_t off = 0; off < len;) {
            ssize_t w = write(to_node[1], bytes + off, len - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            off += (size_t)w;
        }
    }
    close(to_node[1]);
    sigaction(SIGPIPE, &was, NULL);
    struct buf answer = BUF_INIT;
    if (spawned == 0 && buf_read_fd(&answer, from_node[0], SIZE_MAX) == DS_OK)
        reply = (uint8_t *)buf_take(&answer, &rlen);
    buf_release(&answer);
    close(from_node[0]);
    int status = 0;
    while (spawned == 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    free(bytes);
    int rc = spawned != 0               ? DS_EIO
             : !WIFEXITED(status)       ? DS_EIO
             : WEXITSTATUS(status) == 3 ? DS_EAGAIN
             : WEXITSTATUS(status) != 0 ? DS_EIO
                                        : DS_OK;
    if (rc == DS_OK && !(*reply_out = wire_unpack_ctl_reply(reply, rlen)))
        rc = DS_EPROTO;
    free(reply);
    if (rc == DS_OK)
        fputs(TR("(节点未运行:以下是本地已存储的记录)\n",
                 "(the node is not running: this is what is stored here)\n"),
              stderr);
    return rc;
}

static int call(const char *dir, const struct ctl_request *req, json_t **json_out, char **raw_out)
{
    Dualsync__CtlReply *reply = NULL;
    int rc = ctl_call(dir, req, CTL_TIMEOUT_MS, &reply);
    if (rc == DS_ENOTRUNNING && ctl_request_count(req) == 1 &&
        ctl_reads_records(ctl_request_command_name(req, 0))) {
        int offline = call_offline(dir, req, &reply);
        if (offline == DS_OK)
            rc = DS_OK;
        if (offline == DS_EAGAIN) {
            cli_error("节点记录需要先由节点进程更新(先启动一次 dualsync-node)",
                      "the records need the node daemon first (start dualsync-node once)");
            return 3;
        } /* no readable log either (not initialised?): say that no node runs */
    }
    if (rc != DS_OK)
        return report_call_error(rc);
    if (reply->code != 0) {
        char where[64] = "";
        if (batch_lines && reply->failed_index < ctl_request_count(req))
            snprintf(where, sizeof(where), TR("(第 %ld 行)", " (line %ld)"),
                     batch_lines[reply->failed_index]);
        fprintf(stderr, TR("错误%s: %s\n", "error%s: %s\n"), where,
                TR(reply->error_zh, reply->error_en));
        wire_msg_free(reply);
        return 1;
    }
    if (json_out)
        *json_out = json_loads(reply->json, JSON_DECODE_ANY, NULL);
    if (raw_out) { /* taken, not copied: it may be the 36 MB of a whole task list */
        *raw_out = reply->json;
        reply->json = NULL;
    }
    wire_msg_free(reply);
    return 0;
}

/* The daemon's name for a command line: "report --year" is the annual report, "report
 * --member" the report-in letter (both keep the name operators know); "letter show" and
 * "letter verify" are the daemon's "letter" by id or by code. */
static const char *daemon_command(const struct cli_parsed *p)
{
    if (strcmp(p->cmd->name, "report") == 0 && cli_get(p, "year"))
        return "annual report";
    if (strcmp(p->cmd->name, "letter show") == 0 || strcmp(p->cmd->name, "letter verify") == 0)
        return "letter";
    return p->cmd->name;
}

/* The argument a command's positional word is. */
static const char *positional_key(const char *cmd)
{
    if (strcmp(cmd, "list") == 0)
        return "kind";
    if (strcmp(cmd, "letter show") == 0)
        return "id";
    if (strcmp(cmd, "letter verify") == 0)
        return "code";
    return "member";
}

static void add_command(struct ctl_request *req, const struct cli_parsed *p)
{
    ctl_request_command(req, daemon_command(p));
    for (size_t i = 0; i < p->n; i++)
        ctl_request_arg(req, p->keys[i], p->values[i]);
    if (p->positional)
        ctl_request_arg(req, positional_key(p->cmd->name), p->positional);
}

static const char *js(json_t *j, const char *k)
{
    const char *s = json_string_value(json_object_get(j, k));
    return s ? s : "";
}

static long long ji(json_t *j, const char *k)
{
    return (long long)json_integer_value(json_object_get(j, k));
}

/* The labels of a status are padded to one width per language (a CJK character takes
 * two columns, so printf's widths cannot do it). */
static void print_status(json_t *j)
{
    printf(TR("组织:     %s (%s, %s)\n", "org:           %s (%s, %s)\n"), js(j, "org"),
           js(j, "name"), js(j, "kind"));
    printf(TR("状态:     %s  broker=%s\n", "state:         %s  broker=%s\n"), js(j, "state"),
           js(j, "broker"));
    printf(TR("本方序号: %lld  已确认: %lld  未确认: %lld\n",
              "own seq:       %lld  acked: %lld  unacked: %lld\n"),
           ji(j, "own_seq"), ji(j, "acked"), ji(j, "unacked"));
    printf(TR("收件:     游标 %lld / broker 队首 %lld  待收: %lld\n",
              "inbox:         cursor %lld / broker head %lld  pending: %lld\n"),
           ji(j, "inbox_cursor"), ji(j, "inbox_head"), ji(j, "pending"));
    printf(TR("目录:     游标 %lld / 街道最新 %lld\n",
              "directory:     cursor %lld / street head %lld\n"),
           ji(j, "directory_cursor"), ji(j, "directory_head"));
    if (ji(j, "last_progress_ms_ago") < 0)
        printf(TR("最近进展: 尚无\n", "last progress: none yet\n"));
    else
        printf(TR("最近进展: %lld 毫秒前\n", "last progress: %lld ms ago\n"),
               ji(j, "last_progress_ms_ago"));
    if (!json_is_true(json_object_get(j, "connected")))
        printf(TR("未与街道 broker 建立会话(退出码 5)\n",
                  "not in session with the broker (exit status 5)\n"));
    if (js(j, "last_error")[0]) /* the daemon words it in English only */
        printf(TR("最近错误: %s\n", "last error:    %s\n"), js(j, "last_error"));
    json_t *c = json_object_get(j, "counters");
    printf(TR("计数: ", "counters: "));
    printf("applied=%lld duplicates=%lld forks=%lld rejected=%lld "
           "broker_errors=%lld reconnects=%lld sessions=%lld\n",
           ji(c, "applied"), ji(c, "duplicates"), ji(c, "forks"), ji(c, "rejected"),
           ji(c, "broker_errors"), ji(c, "reconnects"), ji(c, "sessions"));
}

static const char *yes_no(json_t *j, const char *k)
{
    return json_is_true(json_object_get(j, k)) ? TR("是", "yes") : TR("否", "no");
}

static void print_list(const char *label, json_t *arr)
{
    json_t *e;
    size_t i;
    printf("%s", label);
    json_array_foreach(arr, i, e) printf("%s%s", i ? "," : "", json_string_value(e));
    printf("\n");
}

/* Other units' introductions of the member, awaiting the report-in that names one. */
static void print_claims(json_t *claims)
{
    json_t *c;
    size_t i;
    json_array_foreach(claims, i, c)
        printf(TR("另一单位认领: %s 介绍函 %s (%s, %s);报到时须写明党员所持介绍函(--intro)\n",
                  "also claimed: %s, introduction %s (%s, %s); the report-in must name the "
                  "letter the member brings (--intro)\n"),
               js(c, "unit"), js(c, "intro_id"), js(c, "name"), js(c, "intro_date"));
}

static void print_registration(json_t *j)
{
    printf(TR("成员:       %s  %s\n", "member:       %s  %s\n"), js(j, "member"), js(j, "name"));
    printf(TR("单位:       %s\n社区:       %s\n", "unit:         %s\ncommunity:    %s\n"),
           js(j, "unit"), js(j, "community"));
    printf(TR("介绍函:     %s (%s, 报到期限 %lld 天)\n",
              "introduction: %s (%s, report within %lld days)\n"),
           js(j, "intro_id"), js(j, "intro_date"), ji(j, "report_days"));
    if (js(j, "refused")[0])
        printf(TR("介绍函被街道拒绝: %s\n", "introduction refused by the broker: %s\n"),
               js(j, "refused"));
    if (js(j, "claimed")[0])
        printf(TR("另有单位介绍了该党员,以社区报到时确认的介绍函为准: %s\n",
                  "another unit introduced this member too; the community's report-in decides: "
                  "%s\n"),
               js(j, "claimed"));
    if (js(j, "closed")[0])
        printf(TR("登记已注销: %s %s %s\n", "registration closed: %s %s %s\n"), js(j, "closed"),
               js(j, "closed_date"), js(j, "closed_text"));
    if (strcmp(js(j, "personal"), "erased") == 0 && js(j, "erased_date")[0])
        printf(TR("个人信息已删除: %s (%s),各方只留编号、日期和计数\n",
                  "personal data erased: %s (%s); every side keeps only ids, dates and counts\n"),
               js(j, "erased_date"), js(j, "erased_reason"));
    else if (strcmp(js(j, "personal"), "erased") == 0) /* a later unit's, on an old record */
        printf(TR("个人信息已删除(该党员其后所在单位的删除),只留编号、日期和计数\n",
                  "personal data erased (by the member's later unit); only ids, dates and "
                  "counts are kept\n"));
    else if (strcmp(js(j, "personal"), "retired") == 0)
        printf(TR("个人信息已过保留期,本节点已删除 ([policy] former_member_days)\n",
                  "personal data retired here: kept past [policy] former_member_days\n"));
    printf(TR("报到:       %s %s\n", "reported:     %s %s\n"), yes_no(j, "reported"),
           js(j, "report_date"));
    print_claims(json_object_get(j, "claims"));
    printf(TR("登记卡:     职业=%s; 服务意愿=%s; 休息时间=%s\n",
              "card:         occupation=%s; willingness=%s; rest time=%s\n"),
           js(j, "occupation"), js(j, "willingness"), js(j, "rest_time"));
    printf(TR("            特长=%s; 联系方式=%s\n", "              skills=%s; contact=%s\n"),
           js(j, "skills"), js(j, "contact"));
    print_list(TR("            服务类别=", "              categories="),
               json_object_get(j, "categories"));
    printf(TR("楼栋联络组: %s\n", "group:        %s\n"), js(j, "group"));
    print_list(TR("志愿服务队: ", "teams:        "), json_object_get(j, "teams"));
}

static void print_letters(json_t *j)
{
    json_t *e;
    size_t i;
    json_array_foreach(json_object_get(j, "attendance"), i, e)
        printf(TR("参加活动 %s: %s %s %lld 分钟\n", "attendance %s: %s %s %lld min\n"),
               js(e, "activity"), js(e, "date"), js(e, "kind"), ji(e, "minutes"));
    json_array_foreach(json_object_get(j, "feedback"), i, e) printf(
        TR("反馈函 %s: %s %s 活动 %lld 次 %lld 分钟%s%s %s\n",
           "feedback %s: %s %s %lld activities %lld min%s%s %s\n"),
        js(e, "event_id"), js(e, "period"), js(e, "rating"), ji(e, "activities"), ji(e, "minutes"),
        json_is_true(json_object_get(e, "non_participation"))
            ? TR(" [长期不参加活动]", " [non-participation]")
            : "",
        json_is_true(json_object_get(e, "poor_conduct")) ? TR(" [表现差]", " [poor conduct]") : "",
        js(e, "text"));
    json_array_foreach(json_object_get(j, "handling"), i, e)
        printf(TR("查处结果 %s -> %s: %s %s\n", "handling %s -> %s: %s %s\n"), js(e, "event_id"),
               js(e, "feedback_id"), js(e, "action"), js(e, "text"));
    json_array_foreach(json_object_get(j, "opinions"), i, e) printf(
        TR("征求意见 %s: %s %s 截止 %s -> %s %s\n", "opinion %s: %s %s due %s -> %s %s\n"),
        js(e, "event_id"), js(e, "kind"), js(e, "subject"), js(e, "due"),
        js(e, "verdict")[0] ? js(e, "verdict") : TR("待复", "awaiting"), js(e, "reply_text"));
    json_array_foreach(json_object_get(j, "notices"), i, e) printf(
        TR("公示 %s: %s %s..%s 张贴=%s 结果=%s\n", "notice %s: %s %s..%s posted=%s outcome=%s\n"),
        js(e, "event_id"), js(e, "title"), js(e, "start"), js(e, "end"), js(e, "posted_date"),
        js(e, "outcome"));
    json_array_foreach(json_object_get(j, "visits"), i, e)
        printf(TR("走访 %s: %s %s\n", "visit %s: %s %s\n"), js(e, "event_id"), js(e, "date"),
               js(e, "text"));
    json_array_foreach(json_object_get(j, "difficulties"), i, e)
        printf(TR("困难 %s: %s %s -> %s\n", "difficulty %s: %s %s -> %s\n"), js(e, "event_id"),
               js(e, "date"), js(e, "text"),
               js(e, "resolved_date")[0] ? js(e, "resolution") : TR("未解决", "open"));
}

static void print_member(json_t *j)
{
    print_registration(j);
    print_letters(j);
    printf(TR("事件: %lld  摘要: %s\n", "events: %lld  digest: %s\n"), ji(j, "events"),
           js(j, "digest"));
}

/* "name (org)" of the org under key, or nothing when the letter has none. */
static void print_org(const char *label, json_t *j, const char *key)
{
    char name_key[32];
    snprintf(name_key, sizeof(name_key), "%s_name", key);
    if (js(j, key)[0])
        printf("%s%s (%s)\n", label, js(j, name_key)[0] ? js(j, name_key) : "?", js(j, key));
}

/* A letter as its print page shows it (node/console_print.c), in one language: the
 * daemon sends each label and each rendered value in both. */
static void print_letter(json_t *j)
{
    json_t *e;
    size_t i;
    printf("%s\n", TR(js(j, "title_zh"), js(j, "title_en")));
    if (json_is_true(json_object_get(j, "match")))
        printf(TR("核验:     一致:本节点存有这份函件\n",
                  "verify:    matches: this node holds this letter\n"));
    printf(TR("函件编号: %s (%s)\n", "letter id: %s (%s)\n"), js(j, "id"), js(j, "type"));
    printf(TR("核验码:   %s\n", "code:      %s\n"), js(j, "code"));
    print_org(TR("出具方:   ", "from:      "), j, "origin");
    print_org(TR("单位:     ", "unit:      "), j, "unit");
    print_org(TR("社区:     ", "community: "), j, "community");
    json_array_foreach(json_object_get(j, "to"), i, e)
        printf(TR("致:       %s (%s)\n", "to:        %s (%s)\n"), js(e, "name"), js(e, "org"));
    if (js(j, "member")[0])
        printf(TR("党员:     %s %s\n", "member:    %s %s\n"), js(j, "member"),
               js(j, "member_name"));
    printf(TR("日期:     %s\n", "date:      %s\n"), js(j, "date"));
    json_array_foreach(json_object_get(j, "fields"), i, e)
        printf("%s: %s\n", TR(js(e, "zh"), js(e, "en")), TR(js(e, "text_zh"), js(e, "text_en")));
    printf(TR("签名:     %s\n", "signature: %s\n"), js(j, "signature"));
}

/* What a write made, labelled, so the clerk knows which id to copy where: the id of an
 * activity is what `attendance record --activity` takes, and so on. */
static const struct {
    const char *cmd, *zh, *en;
} made_labels[] = {
    {"intro send", "介绍函编号", "introduction id"},
    {"member move", "函件编号", "letter ids (move-out, introduction)"},
    {"report", "报到回执编号", "report-in id"},
    {"card set", "登记卡编号", "registration card id"},
    {"feedback send", "反馈函编号", "feedback letter id"},
    {"handling send", "查处结果编号", "handling result id"},
    {"opinion request", "征求意见编号", "opinion request id"},
    {"opinion reply", "答复编号", "opinion reply id"},
    {"notice post", "公示编号", "notice id"},
    {"notice respond", "公示反馈编号", "notice response id"},
    {"difficulty raise", "困难编号", "difficulty id"},
    {"activity add", "活动编号", "activity id"},
    {"attendance record", "参加活动记录编号", "attendance id"},
    {"need publish", "需求编号", "need id"},
    {"claim send", "认领编号", "claim id"},
    {"offer send", "资源编号", "offer id"},
    {"letter correct", "更正函编号", "correction id"},
    {"letter withdraw", "撤回函编号", "withdrawal id"},
};

static void print_made(const char *cmd, json_t *events)
{
    const char *zh = "函件编号", *en = "letter id";
    size_t i;
    json_t *e;
    for (i = 0; i < sizeof(made_labels) / sizeof(made_labels[0]); i++)
        if (strcmp(cmd, made_labels[i].cmd) == 0) {
            zh = made_labels[i].zh;
            en = made_labels[i].en;
        }
    json_array_foreach(events, i, e)
        printf(TR("已提交 — %s: %s\n", "accepted — %s: %s\n"), TR(zh, en), json_string_value(e));
}

static void print_members(json_t *j)
{
    static const int w[] = {16, 12, 22, 24, 9, 8};
    static const char *const head_zh[] = {"成员编号", "姓名",   "单位",
                                          "居住社区", "已报到", "登记卡"};
    static const char *const head_en[] = {"member",    "name",     "unit",
                                          "community", "reported", "card"};
    json_t *e;
    size_t i;
    if (!json_array_size(j)) {
        printf(TR("没有符合条件的成员\n", "no member matches\n"));
        return;
    }
    for (i = 0; i < 6; i++)
        cli_cell(TR(head_zh[i], head_en[i]), w[i]);
    printf(TR("反馈函\n", "feedback\n"));
    json_array_foreach(j, i, e)
    {
        const char *cells[] = {js(e, "member"),    js(e, "name"),         js(e, "unit"),
                               js(e, "community"), yes_no(e, "reported"), yes_no(e, "card")};
        for (size_t k = 0; k < 6; k++)
            cli_cell(cells[k], w[k]);
        printf("%lld\n", ji(e, "feedback"));
    }
}

static void print_orgs(json_t *j)
{
    json_t *e;
    size_t i;
    if (!json_array_size(j)) {
        printf(TR("没有符合条件的组织(目录为空时:节点尚未与街道同步,见 status)\n",
                  "no org matches (an empty directory: the node has not synced with the street "
                  "yet; see status)\n"));
        return;
    }
    cli_cell(TR("组织编号", "org"), 28);
    cli_cell(TR("类别", "kind"), 10);
    cli_cell(TR("所属街道", "street"), 24);
    printf(TR("名称\n", "name\n"));
    json_array_foreach(j, i, e)
    {
        bool unit = strcmp(js(e, "kind"), "unit") == 0;
        const char *state = js(e, "state");
        cli_cell(js(e, "org"), 28);
        cli_cell(unit ? TR("单位", "unit") : TR("社区", "community"), 10);
        cli_cell(js(e, "street"), 24);
        if (strcmp(state, "revoked") == 0)
            printf(TR("%s(已吊销: %s)\n", "%s (revoked: %s)\n"), js(e, "name"), js(e, "reason"));
        else if (strcmp(state, "removed") == 0)
            printf(TR("%s(已移除: %s)\n", "%s (removed: %s)\n"), js(e, "name"), js(e, "reason"));
        else
            printf("%s\n", js(e, "name"));
    }
}

static void print_human(const char *cmd, json_t *j)
{
    json_t *e;
    size_t i;
    if (strcmp(cmd, "status") == 0) {
        print_status(j);
    } else if (strcmp(cmd, "member show") == 0) {
        print_member(j);
    } else if (strcmp(cmd, "members") == 0) {
        print_members(j);
    } else if (strcmp(cmd, "member history") == 0) {
        json_array_foreach(j, i, e)
        {
            char *body = json_dumps(json_object_get(e, "body"), JSON_COMPACT);
            printf("%-28s %-20s %s\n", js(e, "id"), js(e, "type"), body ? body : "");
            free(body);
        }
    } else if (strcmp(cmd, "digest") == 0) {
        printf("%s\n", js(j, "digest"));
    } else if (strcmp(cmd, "restore") == 0) {
        printf(TR("正在从 broker 恢复本方事件 %lld..%lld;用 sync-wait 等待完成\n",
                  "restoring own events %lld..%lld from the broker; wait with sync-wait\n"),
               ji(j, "own_seq") + 1, ji(j, "target"));
    } else if (strcmp(cmd, "orgs") == 0) {
        print_orgs(j);
    } else if (strcmp(cmd, "letter") == 0) {
        print_letter(j);
    } else {
        print_made(cmd, json_object_get(j, "events"));
    }
}

static int run_single(const struct cli_parsed *p)
{
    struct ctl_request *req = ctl_request_new();
    json_t *j = NULL;
    char *raw = NULL;
    add_command(req, p);
    /* --json prints the daemon's reply as it came: parsing 36 MB of tasks at a community of
     * 100,000 members only to print them again took half a second (status is parsed: its
     * exit code says whether the node is in session). */
    bool parse = !p->json || strcmp(p->cmd->name, "status") == 0;
    int rc = call(p->data_dir, req, parse ? &j : NULL, &raw);
    if (rc == 0) {
        struct cli_report_format f = {cli_get(p, "csv") != NULL, cli_get(p, "excel") != NULL,
                                      cli_get(p, "xlsx")};
        int printed = p->json ? 0 : cli_reports_print(daemon_command(p), j, &f);
        if (p->json)
            printf("%s\n", raw);
        else if (printed < 0)
            print_human(daemon_command(p), j);
        else
            rc = printed;
        /* a probe: 0 only in session, so `dualsync status && …` means it */
        if (strcmp(p->cmd->name, "status") == 0 && !json_is_true(json_object_get(j, "connected")))
            rc = 5;
    }
    json_decref(j);
    free(raw);
    ctl_request_destroy(&req);
    return rc;
}

static int status_once(const char *dir, const char *cmd, json_t **out)
{
    struct ctl_request *req = ctl_request_new();
    ctl_request_command(req, cmd);
    int rc = call(dir, req, out, NULL);
    ctl_request_destroy(&req);
    return rc;
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Waits until everything written here is acked and everything the broker holds for us
 * (as of a PING sent now) is applied; node/syncwait.c decides what to ask next. */
static int run_sync_wait(const struct cli_parsed *p)
{
    const char *t = cli_get(p, "timeout");
    double timeout = t ? strtod(t, NULL) : 60.0;
    struct timespec start, pause = {0, 20 * 1000 * 1000};
    struct sync_wait w = {0};
    enum sync_wait_step step = SYNC_WAIT_PROBE;
    clock_gettime(CLOCK_MONOTONIC, &start);
    quiet_not_running = true; /* polls through a daemon that is still starting */
    for (;;) {
        json_t *s = NULL;
        int rc = status_once(p->data_dir, step == SYNC_WAIT_PROBE ? "probe" : "status", &s);
        if (rc != 0 && rc != 3) {
            json_decref(s);
            return rc;
        }
        double elapsed = seconds_since(&start);
        step = sync_wait_step(&w, rc == 3 ? NULL : s, elapsed);
        json_decref(s);
        if (step == SYNC_WAIT_DONE) {
            if (p->json)
                printf("{\"synced\":true}\n");
            return 0;
        }
        if (elapsed > timeout) {
            quiet_not_running = false;
            if (rc == 3)
                return report_call_error(DS_ENOTRUNNING);
            cli_error("等待同步超时(用 status 查看原因)",
                      "timed out waiting for sync (see status)");
            return 4;
        }
        nanosleep(&pause, NULL);
    }
}

/* Splits a line into words; double or single quotes group, backslash escapes. */
static int split_line(char *line, char **argv, int max)
{
    int n = 0;
    char *r = line, *w = line;
    while (*r && n < max) {
        while (*r == ' ' || *r == '\t')
            r++;
        if (!*r || *r == '#')
            break;
        argv[n++] = w;
        char quote = 0;
        for (; *r && (quote || (*r != ' ' && *r != '\t')); r++) {
            if (!quote && (*r == '"' || *r == '\''))
                quote = *r;
            else if (quote && *r == quote)
                quote = 0;
            else if (*r == '\\' && r[1])
                *w++ = *++r;
            else
                *w++ = *r;
        }
        if (*r)
            r++;
        *w++ = '\0';
    }
    return n;
}

static int flush_batch(const char *dir, struct ctl_request **req, long *total)
{
    if (ctl_request_count(*req) == 0)
        return 0;
    int rc = call(dir, *req, NULL, NULL);
    if (rc == 0)
        *total += (long)ctl_request_count(*req);
    ctl_request_destroy(req);
    *req = ctl_request_new();
    return rc;
}

static int run_batch(const struct cli_parsed *p)
{
    FILE *f = strcmp(p->positional, "-") == 0 ? stdin : fopen(p->positional, "r");
    if (!f) {
        cli_error("无法打开批量文件", "cannot open the batch file");
        return 1;
    }
    struct ctl_request *req = ctl_request_new();
    char line[8192];
    long lineno = 0, total = 0, lines[BATCH_CHUNK];
    int rc = 0;
    batch_lines = lines;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        char *argv[64];
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            fprintf(stderr,
                    TR("错误: 第 %ld 行太长(最多 %zu 字节)\n",
                       "error: line %ld is too long (max %zu bytes)\n"),
                    lineno, sizeof(line) - 2);
            rc = 2;
            break;
        }
        line[strcspn(line, "\r\n")] = '\0';
        argv[0] = "dualsync";
        int argc = 1 + split_line(line, argv + 1, 62);
        if (argc == 1)
            continue;
        struct cli_parsed lp;
        if (!cli_parse(argc, argv, commands, &lp)) {
            fprintf(stderr, TR("第 %ld 行\n", "line %ld\n"), lineno);
            rc = 2;
            break;
        }
        lines[ctl_request_count(req)] = lineno;
        add_command(req, &lp);
        if (ctl_request_count(req) == BATCH_CHUNK)
            rc = flush_batch(p->data_dir, &req, &total);
    }
    if (rc == 0)
        rc = flush_batch(p->data_dir, &req, &total);
    if (f != stdin)
        fclose(f);
    ctl_request_destroy(&req);
    if (p->json)
        printf("{\"accepted\":%ld}\n", total);
    else
        printf(TR("已提交: %ld\n", "accepted: %ld\n"), total);
    return rc;
}

int main(int argc, char **argv)
{
    struct cli_parsed p;
    log_set_component("cli");
    log_set_level(LOG_WARN);
    int done = cli_start(argc, argv, "dualsync",
                         "单位/社区节点操作命令 / the operator CLI of a node", commands, &p);
    if (done >= 0)
        return done;
    if (strncmp(p.cmd->name, "user ", 5) == 0)
        return accounts_cli_main(&p);
    if (strcmp(p.cmd->name, "audit") == 0)
        return audit_cli_main(&p);
    if (strcmp(p.cmd->name, "sync-wait") == 0)
        return run_sync_wait(&p);
    if (strcmp(p.cmd->name, "batch") == 0)
        return run_batch(&p);
    if (strcmp(p.cmd->name, "report") == 0 && !cli_get(&p, "year") && !cli_get(&p, "member")) {
        cli_error("report 需要 --year(年度报告)或 --member(登记报到)",
                  "report needs --year (annual report) or --member (report-in)");
        return 2;
    }
    if (strcmp(p.cmd->name, "import members") == 0)
        return import_members(p.data_dir, p.positional, p.json);
    return run_single(&p);
}
