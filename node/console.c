/* console (node): the pages of a unit's or a community's web console, on top of
 * common/console.c. Every page runs on a web thread and reaches the daemon only through
 * the control socket: reads ask for the same JSON the CLI's --json prints, and every form
 * is sent as the very command the CLI would send, so a refusal is the daemon's own
 * (bilingual, nothing written) and is shown next to the field it names.
 * Pages: 待办 tasks (home), 党员 members (search, filters, paging) and one member's page,
 * 办理 the write forms of this side, 导入 roster import (console_import.c), printable
 * letters and 核验 their codes (console_print.c), 报表 the annual report with SVG bars,
 * 同步 sync state, 审计 the audit log. */
#include "console.h"
#include "console_import.h"
#include "console_print.h"

#include "err.h"
#include "ids.h"
#include "log.h"
#include "node.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MEMBERS_PER_PAGE 50
#define FORM_FIELDS_MAX 10

/* ---------------------------------------------------------------- the forms */

enum field_type { F_TEXT, F_DATE, F_NUMBER, F_AREA, F_CHECK, F_SELECT };

struct form_field {
    const char *name; /* the CLI option */
    const char *zh;
    const char *en;
    enum field_type type;
    bool required;
    const char *choices; /* F_SELECT: comma separated values */
};

struct form {
    const char *cmd; /* the daemon's command */
    enum org_kind side;
    const char *zh;
    const char *en;
    struct form_field fields[FORM_FIELDS_MAX];
};

#define MEMBER                                                                                     \
    {                                                                                              \
        "member", "党员编号", "Member id", F_TEXT, true, NULL                                      \
    }
#define MEMBER_OPT                                                                                 \
    {                                                                                              \
        "member", "党员编号", "Member id", F_TEXT, false, NULL                                     \
    }
#define DATE                                                                                       \
    {                                                                                              \
        "date", "日期(默认今天)", "Date (default today)", F_DATE, false, NULL                      \
    }
#define TEXT                                                                                       \
    {                                                                                              \
        "text", "说明", "Text", F_AREA, false, NULL                                                \
    }

static const struct form forms[] = {
    /* either side: its own letters (docs/WORKFLOWS.md §9) */
    {"letter correct",
     ORG_NONE,
     "更正函件",
     "Correct a letter",
     {{"letter", "函件编号", "Letter id", F_TEXT, true, NULL},
      {"reason", "更正原因", "Reason", F_TEXT, true, NULL},
      {"name", "姓名(介绍函)", "Name (introduction)", F_TEXT, false, NULL},
      {"contact", "联系方式(介绍函)", "Contact (introduction)", F_TEXT, false, NULL},
      {"rating", "评价(反馈函)", "Rating (feedback)", F_SELECT, false, "excellent,good,fair,poor"},
      {"action", "处理(查处结果)", "Action (handling)", F_SELECT, false,
       "criticism,investigation,no-action"},
      TEXT,
      DATE}},
    {"letter withdraw",
     ORG_NONE,
     "撤回函件",
     "Withdraw a letter",
     {{"letter", "函件编号", "Letter id", F_TEXT, true, NULL},
      {"reason", "撤回原因", "Reason", F_TEXT, true, NULL},
      DATE}},
    {"intro send",
     ORG_UNIT,
     "介绍函",
     "Introduction letter",
     {MEMBER,
      {"name", "姓名", "Name", F_TEXT, true, NULL},
      {"community", "居住社区", "Community", F_TEXT, true, NULL},
      {"contact", "联系方式", "Contact", F_TEXT, false, NULL},
      {"report-days", "报到期限(天)", "Days to report in", F_NUMBER, false, NULL},
      DATE}},
    {"member move",
     ORG_UNIT,
     "迁居(改介绍到新社区)",
     "Moved house",
     {MEMBER,
      {"community", "新居住社区", "New community", F_TEXT, true, NULL},
      {"contact", "联系方式", "Contact", F_TEXT, false, NULL},
      DATE}},
    {"member release", ORG_UNIT, "组织关系转出", "Left the unit", {MEMBER, TEXT, DATE}},
    {"member erase",
     ORG_UNIT,
     "删除个人信息(各方,不可恢复)",
     "Erase personal data (every side, for good)",
     {MEMBER, {"reason", "原因", "Reason", F_SELECT, true, "left-party,deceased,request"}, DATE}},
    {"handling send",
     ORG_UNIT,
     "查处结果反馈",
     "Handling result",
     {MEMBER,
      {"feedback", "反馈函编号", "Feedback letter id", F_TEXT, true, NULL},
      {"action", "处理", "Action", F_SELECT, true, "criticism,investigation,no-action"},
      TEXT,
      DATE}},
    {"opinion request",
     ORG_UNIT,
     "征求意见",
     "Opinion request",
     {MEMBER_OPT,
      {"community", "社区(评先进党组织等)", "Community (org-level kinds)", F_TEXT, false, NULL},
      {"kind", "事项", "Kind", F_SELECT, true,
       "excellent-member,advanced-individual,democratic-appraisal,cadre-promotion,new-member,"
       "advanced-org,civilised-unit"},
      {"subject", "标题", "Subject", F_TEXT, true, NULL},
      {"due", "答复期限", "Due", F_DATE, false, NULL},
      DATE}},
    {"notice post",
     ORG_UNIT,
     "公示",
     "Public notice",
     {MEMBER,
      {"title", "标题", "Title", F_TEXT, true, NULL},
      {"matter", "公示事项", "Matter", F_AREA, true, NULL},
      {"start", "开始日期", "Start", F_DATE, false, NULL},
      {"working-days", "工作日数", "Working days", F_NUMBER, false, NULL}}},
    {"visit record",
     ORG_UNIT,
     "走访记录",
     "Visit",
     {MEMBER, {"text", "走访情况", "What was found", F_AREA, true, NULL}, DATE}},
    {"difficulty raise",
     ORG_UNIT,
     "反映困难",
     "Practical difficulty",
     {MEMBER, {"text", "困难", "Difficulty", F_AREA, true, NULL}, DATE}},
    {"claim send",
     ORG_UNIT,
     "认领需求/微心愿",
     "Claim a need or wish",
     {{"need", "需求编号", "Need id", F_TEXT, true, NULL},
      {"claimant", "认领党员", "Claiming member", F_TEXT, false, NULL},
      TEXT,
      DATE}},
    {"offer send",
     ORG_UNIT,
     "提供资源",
     "Offer a resource",
     {{"community", "社区", "Community", F_TEXT, true, NULL},
      {"title", "资源", "Resource", F_TEXT, true, NULL},
      TEXT,
      DATE}},
    {"report", ORG_COMMUNITY, "报到", "Report-in", {MEMBER, DATE}},
    {"card set",
     ORG_COMMUNITY,
     "登记卡",
     "Registration card",
     {MEMBER,
      {"occupation", "职业", "Occupation", F_TEXT, false, NULL},
      {"willingness", "服务意愿", "Willingness", F_TEXT, false, NULL},
      {"rest-time", "休息时间", "Rest time", F_TEXT, false, NULL},
      {"skills", "特长", "Skills", F_TEXT, false, NULL},
      {"categories", "服务类别(逗号分隔)", "Service categories (a,b)", F_TEXT, false, NULL},
      {"contact", "联系方式", "Contact", F_TEXT, false, NULL}}},
    {"registration close",
     ORG_COMMUNITY,
     "退回/撤销登记",
     "Close a registration",
     {MEMBER, {"reason", "原因", "Reason", F_SELECT, true, "returned,revoked"}, TEXT, DATE}},
    {"group add",
     ORG_COMMUNITY,
     "楼栋联络组",
     "Building group",
     {{"group", "组编号", "Group id", F_TEXT, true, NULL},
      {"title", "名称", "Title", F_TEXT, true, NULL},
      {"leader", "组长(党员编号)", "Leader (member id)", F_TEXT, false, NULL}}},
    {"group assign",
     ORG_COMMUNITY,
     "编入联络组",
     "Assign to a group",
     {MEMBER, {"group", "组编号", "Group id", F_TEXT, true, NULL}, DATE}},
    {"team add",
     ORG_COMMUNITY,
     "志愿服务队",
     "Volunteer team",
     {{"team", "队编号", "Team id", F_TEXT, true, NULL},
      {"title", "名称", "Title", F_TEXT, true, NULL},
      {"kind", "类别", "Kind", F_TEXT, true, NULL}}},
    {"team join",
     ORG_COMMUNITY,
     "加入/退出服务队",
     "Join or leave a team",
     {MEMBER,
      {"team", "队编号", "Team id", F_TEXT, true, NULL},
      {"leave", "退出", "Leave", F_CHECK, false, NULL},
      DATE}},
    {"activity add",
     ORG_COMMUNITY,
     "活动",
     "Activity",
     {{"kind", "类别", "Kind", F_TEXT, true, NULL},
      {"title", "名称", "Title", F_TEXT, true, NULL},
      DATE,
      {"minutes", "时长(分钟)", "Minutes", F_NUMBER, false, NULL}}},
    {"attendance record",
     ORG_COMMUNITY,
     "参加活动登记",
     "Attendance",
     {MEMBER,
      {"activity", "活动编号", "Activity id", F_TEXT, true, NULL},
      {"minutes", "服务时长(分钟)", "Minutes", F_NUMBER, false, NULL}}},
    {"liaison add",
     ORG_COMMUNITY,
     "社区联络处成员",
     "Liaison office member",
     {{"name", "姓名", "Name", F_TEXT, true, NULL},
      {"side", "来自", "From", F_SELECT, true, "community,unit"},
      {"org", "单位(来自单位时)", "Unit (when from a unit)", F_TEXT, false, NULL},
      {"role", "职务", "Role", F_TEXT, true, NULL},
      {"leave", "离开联络处", "Leaves the office", F_CHECK, false, NULL}}},
    {"feedback send",
     ORG_COMMUNITY,
     "表现情况反馈函",
     "Feedback letter",
     {MEMBER,
      {"rating", "评价", "Rating", F_SELECT, true, "excellent,good,fair,poor"},
      {"period", "期间(如 2026 或 2026-Q3)", "Period (2026, 2026-Q3)", F_TEXT, false, NULL},
      {"non-participation", "不参加活动", "Non-participation", F_CHECK, false, NULL},
      {"poor-conduct", "表现较差", "Poor conduct", F_CHECK, false, NULL},
      {"lead", "带头事项(逗号分隔)", "Lead items (a,b)", F_TEXT, false, NULL},
      TEXT,
      DATE}},
    {"opinion reply",
     ORG_COMMUNITY,
     "答复征求意见",
     "Opinion reply",
     {MEMBER_OPT,
      {"request", "征求意见编号", "Request id", F_TEXT, true, NULL},
      {"verdict", "意见", "Verdict", F_SELECT, true, "agree,disagree,no-opinion"},
      TEXT,
      DATE}},
    {"notice respond",
     ORG_COMMUNITY,
     "公示反馈",
     "Notice response",
     {MEMBER,
      {"notice", "公示编号", "Notice id", F_TEXT, true, NULL},
      {"status", "状态", "Status", F_SELECT, true, "posted,objections,no-objections"},
      TEXT,
      DATE}},
    {"difficulty resolve",
     ORG_COMMUNITY,
     "困难已解决",
     "Difficulty resolved",
     {MEMBER, {"difficulty", "困难编号", "Difficulty id", F_TEXT, true, NULL}, TEXT, DATE}},
    {"need publish",
     ORG_COMMUNITY,
     "发布需求/微心愿",
     "Publish a need or wish",
     {{"kind", "类别", "Kind", F_SELECT, true, "community,wish"},
      {"title", "标题", "Title", F_TEXT, true, NULL},
      TEXT,
      DATE}},
    {"claim decide",
     ORG_COMMUNITY,
     "认领审核",
     "Decide a claim",
     {{"claim", "认领编号", "Claim id", F_TEXT, true, NULL},
      {"decision", "决定", "Decision", F_SELECT, true, "approve,decline"},
      TEXT,
      DATE}},
    {"need fulfil",
     ORG_COMMUNITY,
     "需求已完成",
     "Need fulfilled",
     {{"need", "需求编号", "Need id", F_TEXT, true, NULL},
      {"claim", "认领编号", "Claim id", F_TEXT, true, NULL},
      TEXT,
      DATE}},
};

#define N_FORMS (sizeof(forms) / sizeof(forms[0]))

/* The node's kind (unit or community), fixed at open: the one fact of the node pages read. */
static enum org_kind kind_of(const struct page *pg)
{
    return *(const enum org_kind *)page_arg(pg);
}

/* Whether this node's side has form f (ORG_NONE: both sides do). */
static bool side_has(const struct page *pg, const struct form *f)
{
    return f->side == ORG_NONE || f->side == kind_of(pg);
}

static const struct form *find_form(const struct page *pg, const char *cmd)
{
    for (size_t i = 0; cmd && i < N_FORMS; i++)
        if (strcmp(forms[i].cmd, cmd) == 0 && side_has(pg, &forms[i]))
            return &forms[i];
    return NULL;
}

/* ---------------------------------------------------------------- small helpers */

static const char *js(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static long long ji(json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static void refused(struct page *pg, const struct page_answer *a)
{
    page_printf(pg, "<p class=\"err\" role=\"alert\">");
    page_tt(pg, a->zh, a->en);
    page_printf(pg, "</p>");
}

static void member_link(struct page *pg, const char *member)
{
    page_printf(pg, "<a href=\"/member?id=");
    buf_url(page_buf(pg), member);
    page_printf(pg, "\">");
    page_text(pg, member);
    page_printf(pg, "</a>");
}

static void form_link(struct page *pg, const char *cmd, const char *k1, const char *v1,
                      const char *k2, const char *v2)
{
    const struct form *f = find_form(pg, cmd);
    if (!f)
        return;
    page_printf(pg, "<a class=\"btn small\" href=\"/do?cmd=");
    buf_url(page_buf(pg), cmd);
    if (k1 && v1 && *v1) {
        page_printf(pg, "&amp;%s=", k1);
        buf_url(page_buf(pg), v1);
    }
    if (k2 && v2 && *v2) {
        page_printf(pg, "&amp;%s=", k2);
        buf_url(page_buf(pg), v2);
    }
    page_printf(pg, "\">");
    page_tt(pg, f->zh, f->en);
    page_printf(pg, "</a>");
}

/* ---------------------------------------------------------------- 待办 tasks */

/* The form that resolves a task, and what it is given. form_link offers only this side's
 * forms, so the other side's duties (shown so they can be chased) get no button. */
static void task_action(struct page *pg, json_t *t)
{
    const char *kind = js(t, "kind"), *member = js(t, "member"), *ref = js(t, "ref");
    if (strcmp(kind, "report-in") == 0)
        form_link(pg, "report", "member", member, NULL, NULL);
    else if (strcmp(kind, "feedback") == 0)
        form_link(pg, "feedback send", "member", member, "period", ref);
    else if (strcmp(kind, "handling") == 0)
        form_link(pg, "handling send", "member", member, "feedback", ref);
    else if (strcmp(kind, "opinion-reply") == 0)
        form_link(pg, "opinion reply", "member", member, "request", ref);
    else if (strcmp(kind, "notice-post") == 0 || strcmp(kind, "notice-objections") == 0)
        form_link(pg, "notice respond", "member", member, "notice", ref);
    else if (strcmp(kind, "difficulty") == 0)
        form_link(pg, "difficulty resolve", "member", member, "difficulty", ref);
    else if (strcmp(kind, "group") == 0)
        form_link(pg, "group assign", "member", member, NULL, NULL);
    else if (strcmp(kind, "claim-decision") == 0)
        form_link(pg, "claim decide", "claim", ref, NULL, NULL);
}

#define TASKS_PER_PAGE 100

static void page_tasks(struct page *pg)
{
    const char *page_arg = web_query(page_req(pg), "page");
    long page_no = page_arg ? strtol(page_arg, NULL, 10) : 1;
    if (page_no < 1 || page_no > 1000000)
        page_no = 1;
    char offset[32], limit[16];
    snprintf(offset, sizeof(offset), "%ld", (page_no - 1) * (long)TASKS_PER_PAGE);
    snprintf(limit, sizeof(limit), "%d", TASKS_PER_PAGE);
    struct page_answer a;
    page_ctl_simple(pg, "tasks", &a, "offset", offset, "limit", limit, NULL);
    page_begin(pg, "待办", "Tasks");
    if (a.rc != DS_OK) {
        refused(pg, &a);
        page_end(pg);
        return;
    }
    json_t *tasks = json_object_get(a.result, "tasks"), *t;
    size_t i;
    page_printf(pg, "<p class=\"summary\"><span class=\"pill\">");
    page_tt(pg, "截至", "As of");
    page_printf(pg, " ");
    page_text(pg, js(a.result, "as_of"));
    page_printf(pg, "</span> <span class=\"pill\">%lld ", ji(a.result, "count"));
    page_tt(pg, "项待办", "due");
    page_printf(pg, "</span> <span class=\"pill %s\">%lld ", ji(a.result, "overdue") ? "bad" : "",
                ji(a.result, "overdue"));
    page_tt(pg, "项逾期", "overdue");
    page_printf(pg, "</span></p>");
    if (!json_array_size(tasks)) {
        page_printf(pg, "<p class=\"empty\">");
        page_tt(pg, "没有待办事项。", "Nothing is due.");
        page_printf(pg, "</p>");
    } else {
        page_printf(pg, "<table class=\"list\" id=\"tasks\"><thead><tr><th>");
        page_tt(pg, "党员", "Member");
        page_printf(pg, "</th><th>");
        page_tt(pg, "事项", "What");
        page_printf(pg, "</th><th>");
        page_tt(pg, "期限", "Due");
        page_printf(pg, "</th><th></th></tr></thead><tbody>");
        json_array_foreach(tasks, i, t)
        {
            bool late = json_is_true(json_object_get(t, "overdue"));
            page_printf(pg, "<tr class=\"%s\" data-kind=\"", late ? "late" : "");
            page_text(pg, js(t, "kind"));
            page_printf(pg, "\"><td>");
            if (*js(t, "member")) {
                member_link(pg, js(t, "member"));
                page_printf(pg, " ");
                page_text(pg, js(t, "name"));
            }
            page_printf(pg, "</td><td>");
            page_tt(pg, js(t, "zh"), js(t, "en"));
            page_printf(pg, "</td><td>");
            page_text(pg, js(t, "due"));
            if (late) {
                page_printf(pg, " <span class=\"pill bad\">");
                page_tt(pg, "逾期", "overdue");
                page_printf(pg, "</span>");
            }
            page_printf(pg, "</td><td>");
            task_action(pg, t);
            page_printf(pg, "</td></tr>");
        }
        page_printf(pg, "</tbody></table>");
    }
    long long count = ji(a.result, "count");
    if (count > TASKS_PER_PAGE) {
        page_printf(pg, "<p class=\"pager\">");
        for (long long p = 1; p <= (count + TASKS_PER_PAGE - 1) / TASKS_PER_PAGE; p++)
            page_printf(pg, " <a href=\"/?page=%lld\"%s>%lld</a>", p,
                        p == page_no ? " class=\"on\"" : "", p);
        page_printf(pg, "</p>");
    }
    page_answer_release(&a);
    page_end(pg);
}

/* ---------------------------------------------------------------- 党员 members */

static void filter_tabs(struct page *pg, const char *q, const char *current)
{
    static const char *const keys[] = {"open", "not-reported", "no-card", "closed"};
    static const char *const zh[] = {"在册", "未报到", "未填登记卡", "已注销"};
    static const char *const en[] = {"Registered", "Not reported in", "No card", "Closed"};
    page_printf(pg, "<div class=\"tabs\">");
    for (size_t i = 0; i < 4; i++) {
        page_printf(pg, "<a href=\"/members?filter=%s&amp;q=", keys[i]);
        buf_url(page_buf(pg), q);
        page_printf(pg, "\"%s>", strcmp(current, keys[i]) == 0 ? " class=\"on\"" : "");
        page_tt(pg, zh[i], en[i]);
        page_printf(pg, "</a>");
    }
    page_printf(pg, "</div>");
}

static void members_table_head(struct page *pg)
{
    static const char *const zh[] = {"编号", "姓名", "单位", "社区", "报到", "登记卡", "联络组"};
    static const char *const en[] = {"Id",       "Name", "Unit", "Community",
                                     "Reported", "Card", "Group"};
    page_printf(pg, "<table class=\"list\" id=\"members\"><thead><tr>");
    for (size_t i = 0; i < 7; i++) {
        page_printf(pg, "<th>");
        page_tt(pg, zh[i], en[i]);
        page_printf(pg, "</th>");
    }
    page_printf(pg, "</tr></thead><tbody>");
}

static void member_row(struct page *pg, json_t *m)
{
    page_printf(pg, "<tr><td>");
    member_link(pg, js(m, "member"));
    page_printf(pg, "</td><td>");
    page_text(pg, js(m, "name"));
    page_printf(pg, "</td><td>");
    page_text(pg, js(m, "unit"));
    page_printf(pg, "</td><td>");
    page_text(pg, js(m, "community"));
    page_printf(pg, "</td><td>%s</td><td>%s</td><td>",
                json_is_true(json_object_get(m, "reported")) ? "✓" : "—",
                json_is_true(json_object_get(m, "card")) ? "✓" : "—");
    page_text(pg, js(m, "group"));
    page_printf(pg, "</td></tr>");
}

static bool known_filter(const char *f)
{
    return strcmp(f, "open") == 0 || strcmp(f, "not-reported") == 0 || strcmp(f, "no-card") == 0 ||
           strcmp(f, "closed") == 0;
}

/* Page links: 1 2 3 … the pages around this one … the last three. */
static void pager(struct page *pg, const char *filter, const char *q, size_t total, long page_no)
{
    size_t pages = (total + MEMBERS_PER_PAGE - 1) / MEMBERS_PER_PAGE;
    page_printf(pg, "<p class=\"pager\">%zu %s", total, page_t(pg, "人", "members"));
    for (size_t p = 1; pages > 1 && p <= pages; p++) {
        bool near = p + 2 >= (size_t)page_no && p <= (size_t)page_no + 2;
        if (pages > 12 && p > 3 && p + 3 <= pages && !near)
            continue;
        page_printf(pg, " <a href=\"/members?filter=%s&amp;page=%zu&amp;q=", filter, p);
        buf_url(page_buf(pg), q);
        page_printf(pg, "\"%s>%zu</a>", p == (size_t)page_no ? " class=\"on\"" : "", p);
    }
    page_printf(pg, "</p>");
}

/* The daemon filters and pages (`members` with limit): only one page crosses the socket. */
static void page_members(struct page *pg)
{
    const char *q = web_query(page_req(pg), "q");
    const char *filter = web_query(page_req(pg), "filter");
    const char *page_arg = web_query(page_req(pg), "page");
    long page_no = page_arg ? strtol(page_arg, NULL, 10) : 1;
    if (!q)
        q = "";
    if (!filter || !known_filter(filter))
        filter = "open";
    if (page_no < 1 || page_no > 1000000)
        page_no = 1;
    char offset[32], limit[16];
    snprintf(offset, sizeof(offset), "%ld", (page_no - 1) * (long)MEMBERS_PER_PAGE);
    snprintf(limit, sizeof(limit), "%d", MEMBERS_PER_PAGE);
    struct page_answer a;
    page_ctl_simple(pg, "members", &a, "q", *q ? q : NULL, "filter", filter, "offset", offset,
                    "limit", limit, NULL);
    page_begin(pg, "党员", "Members");
    page_printf(pg,
                "<form method=\"get\" action=\"/members\" class=\"search\">"
                "<input type=\"hidden\" name=\"filter\" value=\"%s\"><input name=\"q\" value=\"",
                filter);
    page_text(pg, q);
    page_printf(pg, "\" placeholder=\"%s\"><button type=\"submit\">%s</button></form>",
                page_t(pg, "按编号或姓名查找", "Find by id or name"), page_t(pg, "查找", "Find"));
    filter_tabs(pg, q, filter);
    if (a.rc != DS_OK) {
        refused(pg, &a);
        page_end(pg);
        return;
    }
    size_t i;
    json_t *m;
    members_table_head(pg);
    json_array_foreach(json_object_get(a.result, "members"), i, m) member_row(pg, m);
    page_printf(pg, "</tbody></table>");
    pager(pg, filter, q, (size_t)ji(a.result, "total"), page_no);
    page_answer_release(&a);
    page_end(pg);
}

/* ---------------------------------------------------------------- one member */

static void record_row(struct page *pg, const char *zh, const char *en, const char *value)
{
    page_printf(pg, "<tr><th>");
    page_tt(pg, zh, en);
    page_printf(pg, "</th><td>");
    page_text(pg, value && *value ? value : "—");
    page_printf(pg, "</td></tr>");
}

static void list_row(struct page *pg, const char *zh, const char *en, json_t *arr)
{
    struct buf b = BUF_INIT;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (i)
            buf_puts(&b, "、");
        buf_puts(&b, json_string_value(v));
    }
    record_row(pg, zh, en, b.p);
    buf_release(&b);
}

static void member_record(struct page *pg, json_t *r)
{
    char num[32];
    page_printf(pg, "<table class=\"record\">");
    record_row(pg, "姓名", "Name", js(r, "name"));
    record_row(pg, "单位", "Unit", js(r, "unit"));
    record_row(pg, "居住社区", "Community", js(r, "community"));
    record_row(pg, "介绍函", "Introduction", js(r, "intro_id"));
    record_row(pg, "介绍日期", "Introduced on", js(r, "intro_date"));
    record_row(pg, "报到", "Reported in",
               json_is_true(json_object_get(r, "reported")) ? js(r, "report_date") : NULL);
    record_row(pg, "职业", "Occupation", js(r, "occupation"));
    record_row(pg, "服务意愿", "Willingness", js(r, "willingness"));
    record_row(pg, "休息时间", "Rest time", js(r, "rest_time"));
    record_row(pg, "特长", "Skills", js(r, "skills"));
    list_row(pg, "服务类别", "Service categories", json_object_get(r, "categories"));
    record_row(pg, "联系方式", "Contact", js(r, "contact"));
    record_row(pg, "楼栋联络组", "Building group", js(r, "group"));
    list_row(pg, "志愿服务队", "Teams", json_object_get(r, "teams"));
    snprintf(num, sizeof(num), "%zu", json_array_size(json_object_get(r, "attendance")));
    record_row(pg, "参加活动(次)", "Activities attended", num);
    snprintf(num, sizeof(num), "%zu", json_array_size(json_object_get(r, "feedback")));
    record_row(pg, "反馈函(封)", "Feedback letters", num);
    record_row(pg, "登记状态", "Registration", *js(r, "closed") ? js(r, "closed") : NULL);
    if (strcmp(js(r, "personal"), "kept") != 0)
        record_row(pg, "个人信息", "Personal data",
                   strcmp(js(r, "personal"), "erased") == 0 ? "已删除 / erased"
                                                            : "已过保留期删除 / retired");
    page_printf(pg, "</table>");
}

/* Where a letter stands: one this node wrote is at the street once the broker
 * acknowledged it (status.acked), and applied on the other side once the broker's
 * receipt from that org covers its seq (status.receipts: the other side confirmed it
 * applied and stored it); one from the other side has arrived. */
enum standing { RECEIVED, WRITTEN, AT_STREET, APPLIED };

static enum standing standing_of(json_t *e, json_t *status, const char *other)
{
    const char *id = js(e, "id"), *slash = strrchr(id, '/'), *self = js(status, "org");
    bool mine = slash && strncmp(id, self, (size_t)(slash - id)) == 0 && self[slash - id] == '\0';
    long long seq = slash ? strtoll(slash + 1, NULL, 10) : 0;
    json_t *receipt = json_object_get(json_object_get(status, "receipts"), other);
    if (!mine)
        return RECEIVED;
    if (json_is_integer(receipt) && seq <= json_integer_value(receipt))
        return APPLIED;
    return seq <= ji(status, "acked") ? AT_STREET : WRITTEN;
}

static void letter_standing(struct page *pg, enum standing st)
{
    static const struct {
        const char *cls, *key, *zh, *en;
    } pills[] = {
        [RECEIVED] = {"", "received", "已收到", "received"},
        [WRITTEN] = {"bad", "written", "已写入，待送街道", "written, not yet at the street"},
        [AT_STREET] = {"", "at-street", "已送达街道", "at the street"},
        [APPLIED] = {"good", "applied", "对方已接收", "applied on the other side"},
    };
    page_printf(pg, " <span class=\"pill %s\" data-standing=\"%s\">", pills[st].cls, pills[st].key);
    page_tt(pg, pills[st].zh, pills[st].en);
    page_printf(pg, "</span>");
}

/* Whether a type name is in a comma separated list of them. */
static bool type_listed(const char *list, const char *type)
{
    size_t n = strlen(type);
    for (const char *p = strstr(list, type); p; p = strstr(p + 1, type))
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return true;
    return false;
}

/* 更正 / 撤回 buttons for one of this side's letters, where the rules allow them
 * (node/amend.c says why not, if a button is used after all). */
static void amend_links(struct page *pg, const char *type, const char *id)
{
    if (type_listed("introduction,feedback,handling-result,unit-visit,difficulty", type))
        form_link(pg, "letter correct", "letter", id, NULL, NULL);
    if (type_listed("report-in,feedback,attendance,handling-result,unit-visit,difficulty,"
                    "opinion-request,public-notice",
                    type))
        form_link(pg, "letter withdraw", "letter", id, NULL, NULL);
}

/* other: the org on the other side of the member (its community for a unit, its unit for
 * a community), whose receipt says whether it applied this side's letters. */
static void member_history(struct page *pg, json_t *h, json_t *status, const char *other)
{
    size_t i;
    json_t *e;
    page_printf(pg, "<h2>");
    page_tt(pg, "往来函件", "Letters");
    page_printf(pg, "</h2><ol class=\"timeline\" id=\"history\">");
    json_array_foreach(h, i, e)
    {
        json_t *body = json_object_get(e, "body");
        page_printf(pg, "<li><span class=\"when\">");
        page_text(pg, js(body, "date"));
        page_printf(pg, "</span> <b>");
        page_text(pg, js(e, "type"));
        page_printf(pg, "</b> <a href=\"/letter?id=");
        buf_url(page_buf(pg), js(e, "id"));
        page_printf(pg, "\"><code>");
        page_text(pg, js(e, "id"));
        page_printf(pg, "</code></a> <small>");
        page_text(pg, js(e, "origin"));
        page_printf(pg, "</small>");
        if (*js(body, "reason")) { /* a correction or withdrawal: what and why */
            page_printf(pg, " → <code>");
            page_text(pg, js(body, "target"));
            page_printf(pg, "</code> ");
            page_text(pg, js(body, "reason"));
        }
        if (status) {
            enum standing st = standing_of(e, status, other);
            letter_standing(pg, st);
            if (st != RECEIVED)
                amend_links(pg, js(e, "type"), js(e, "id"));
        }
        page_printf(pg, "</li>");
    }
    page_printf(pg, "</ol>");
}

static void page_member(struct page *pg)
{
    const char *id = web_query(page_req(pg), "id");
    if (!id || !*id) {
        page_redirect(pg, "/members");
        return;
    }
    struct page_answer rec, hist;
    page_ctl_simple(pg, "member show", &rec, "member", id, NULL);
    page_audit(pg, "view-member", id, rec.rc == DS_OK ? "ok" : "not found");
    if (rec.rc != DS_OK) {
        page_error(pg, 404, rec.zh, rec.en);
        return;
    }
    struct page_answer st;
    page_ctl_simple(pg, "member history", &hist, "member", id, NULL);
    page_ctl_simple(pg, "status", &st, NULL);
    page_begin(pg, "党员记录", "Member record");
    page_printf(pg, "<p class=\"summary\"><span class=\"pill\">");
    page_text(pg, id);
    page_printf(pg, "</span></p><div class=\"actions\">");
    for (size_t i = 0; i < N_FORMS; i++) {
        const struct form *f = &forms[i];
        if (side_has(pg, f) && f->fields[0].name && strcmp(f->fields[0].name, "member") == 0 &&
            f->fields[0].required)
            form_link(pg, f->cmd, "member", id, NULL, NULL);
    }
    page_printf(pg, "</div>");
    member_record(pg, rec.result);
    if (hist.rc == DS_OK)
        member_history(pg, hist.result, st.rc == DS_OK ? st.result : NULL,
                       js(rec.result, kind_of(pg) == ORG_UNIT ? "community" : "unit"));
    page_answer_release(&rec);
    page_answer_release(&hist);
    page_answer_release(&st);
    page_end(pg);
}

/* ---------------------------------------------------------------- 办理 forms */

static void form_field_html(struct page *pg, const struct form_field *f, const char *value,
                            const char *error)
{
    page_printf(pg, "<label%s>", error ? " class=\"bad\"" : "");
    page_tt(pg, f->zh, f->en);
    if (f->required)
        page_printf(pg, " <span class=\"req\">*</span>");
    if (f->type == F_AREA) {
        page_printf(pg, "<textarea name=\"%s\"%s>", f->name, f->required ? " required" : "");
        page_text(pg, value);
        page_printf(pg, "</textarea>");
    } else if (f->type == F_SELECT) {
        page_printf(pg, "<select name=\"%s\">", f->name);
        if (!f->required) /* an option not given, as on the command line */
            page_printf(pg, "<option value=\"\"></option>");
        char choices[256];
        snprintf(choices, sizeof(choices), "%s", f->choices);
        for (char *save = NULL, *c = strtok_r(choices, ",", &save); c;
             c = strtok_r(NULL, ",", &save))
            page_printf(pg, "<option%s>%s</option>",
                        value && strcmp(value, c) == 0 ? " selected" : "", c);
        page_printf(pg, "</select>");
    } else if (f->type == F_CHECK) {
        page_printf(pg, "<input type=\"checkbox\" name=\"%s\" value=\"yes\"%s>", f->name,
                    value && *value ? " checked" : "");
    } else {
        page_printf(pg, "<input name=\"%s\" type=\"%s\"%s value=\"", f->name,
                    f->type == F_DATE     ? "date"
                    : f->type == F_NUMBER ? "number"
                                          : "text",
                    f->required ? " required" : "");
        page_text(pg, value);
        page_printf(pg, "\">");
    }
    if (error) {
        page_printf(pg, "<span class=\"field-err\" role=\"alert\">");
        page_text(pg, error);
        page_printf(pg, "</span>");
    }
    page_printf(pg, "</label>");
}

/* The field a refusal is about, so it is shown there; NULL: the whole form's. The daemon
 * names options as on the command line ("--community is not ..."); failing that, the
 * English text names the field ("invalid member id"). */
static const struct form_field *field_of_refusal(const struct form *f, const char *zh,
                                                 const char *en)
{
    for (size_t i = 0; i < FORM_FIELDS_MAX && f->fields[i].name; i++) {
        char opt[64];
        snprintf(opt, sizeof(opt), "--%s", f->fields[i].name);
        if (strstr(zh, opt) || strstr(en, opt))
            return &f->fields[i];
    }
    for (size_t i = 0; i < FORM_FIELDS_MAX && f->fields[i].name; i++) {
        char words[64];
        snprintf(words, sizeof(words), " %s", f->fields[i].name);
        for (char *d = words; *d; d++)
            *d = *d == '-' ? ' ' : *d;
        if (strstr(en, words) || strncmp(en, words + 1, strlen(words + 1)) == 0)
            return &f->fields[i];
    }
    return NULL;
}

static void form_html(struct page *pg, const struct form *f, bool from_post,
                      const struct page_answer *refusal)
{
    const struct form_field *bad = refusal ? field_of_refusal(f, refusal->zh, refusal->en) : NULL;
    if (refusal && !bad)
        refused(pg, refusal);
    page_form_begin(pg, "/do", false);
    page_printf(pg, "<input type=\"hidden\" name=\"cmd\" value=\"");
    page_text(pg, f->cmd);
    page_printf(pg, "\"><div class=\"card form\">");
    for (size_t i = 0; i < FORM_FIELDS_MAX && f->fields[i].name; i++) {
        const char *v = from_post ? web_form(page_req(pg), f->fields[i].name)
                                  : web_query(page_req(pg), f->fields[i].name);
        form_field_html(pg, &f->fields[i], v,
                        bad == &f->fields[i] ? page_t(pg, refusal->zh, refusal->en) : NULL);
    }
    page_printf(pg, "<button type=\"submit\"%s>", page_is_operator(pg) ? "" : " disabled");
    page_tt(pg, "提交", "Submit");
    page_printf(pg, "</button>");
    if (!page_is_operator(pg)) {
        page_printf(pg, "<p class=\"hint\">");
        page_tt(pg, "只读账户不能提交。", "A viewer account cannot submit.");
        page_printf(pg, "</p>");
    }
    page_printf(pg, "</div></form>");
}

static void form_index(struct page *pg)
{
    page_printf(pg, "<ul class=\"forms\">");
    for (size_t i = 0; i < N_FORMS; i++) {
        if (!side_has(pg, &forms[i]))
            continue;
        page_printf(pg, "<li><a href=\"/do?cmd=");
        buf_url(page_buf(pg), forms[i].cmd);
        page_printf(pg, "\">");
        page_tt(pg, forms[i].zh, forms[i].en);
        page_printf(pg, "</a> <code>");
        page_text(pg, forms[i].cmd);
        page_printf(pg, "</code></li>");
    }
    page_printf(pg, "</ul>");
}

static void page_do(struct page *pg)
{
    const struct form *f = find_form(pg, web_query(page_req(pg), "cmd"));
    if (!f) {
        page_begin(pg, "办理", "Letters and records");
        form_index(pg);
        page_end(pg);
        return;
    }
    page_begin(pg, f->zh, f->en);
    form_html(pg, f, false, NULL);
    page_end(pg);
}

/* The event ids a write answered with, as text. */
static void accepted_ids(json_t *result, struct buf *out)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(result, "events"), i, e)
    {
        if (i)
            buf_puts(out, ", ");
        buf_puts(out, json_string_value(e));
    }
}

static void post_do(struct page *pg)
{
    const struct form *f = find_form(pg, web_form(page_req(pg), "cmd"));
    if (!f) {
        page_error(pg, 400, "没有这种函件。", "No such letter.");
        return;
    }
    struct ctl_request *req = ctl_request_new();
    ctl_request_command(req, f->cmd);
    for (size_t i = 0; i < FORM_FIELDS_MAX && f->fields[i].name; i++) {
        const char *v = web_form(page_req(pg), f->fields[i].name);
        if (v && *v) /* an empty field is an option not given, as on the command line */
            ctl_request_arg(req, f->fields[i].name, f->fields[i].type == F_CHECK ? "" : v);
    }
    struct page_answer a;
    page_ctl(pg, req, &a);
    ctl_request_destroy(&req);
    const char *member = web_form(page_req(pg), "member");
    struct buf ids = BUF_INIT;
    if (a.rc == DS_OK)
        accepted_ids(a.result, &ids);
    char outcome[600];
    snprintf(outcome, sizeof(outcome), "%s%s",
             a.rc == DS_OK ? "ok " : "refused: ", a.rc == DS_OK ? (ids.p ? ids.p : "") : a.en);
    page_audit(pg, f->cmd, member ? member : "", outcome);
    page_begin(pg, f->zh, f->en);
    if (a.rc == DS_OK) {
        page_printf(pg, "<p class=\"ok\" role=\"status\">");
        page_tt(pg, "已提交，函件编号：", "Accepted; letter id: ");
        page_printf(pg, "<code id=\"accepted\">");
        page_text(pg, ids.p);
        page_printf(pg, "</code></p><p>");
        if (ids.p && !strchr(ids.p, ',')) { /* one letter: its print page */
            page_printf(pg, "<a class=\"btn small\" href=\"/letter?id=");
            buf_url(page_buf(pg), ids.p);
            page_printf(pg, "\">");
            page_tt(pg, "打印函件", "Print the letter");
            page_printf(pg, "</a> ");
        }
        if (member && *member) {
            member_link(pg, member);
            page_printf(pg, " · ");
        }
        page_printf(pg, "<a href=\"/\">");
        page_tt(pg, "返回待办", "Back to tasks");
        page_printf(pg, "</a></p>");
    } else {
        page_set_status(pg, 422);
        form_html(pg, f, true, &a);
    }
    buf_release(&ids);
    page_answer_release(&a);
    page_end(pg);
}

/* ---------------------------------------------------------------- 同步 sync */

static void page_sync(struct page *pg)
{
    struct page_answer a;
    page_ctl_simple(pg, "status", &a, NULL);
    page_begin(pg, "同步状态", "Sync state");
    if (a.rc != DS_OK) {
        refused(pg, &a);
        page_end(pg);
        return;
    }
    json_t *s = a.result;
    bool ready = strcmp(js(s, "state"), "ready") == 0;
    char num[64];
    page_printf(pg, "<p class=\"summary\"><span class=\"pill %s\" id=\"state\">",
                ready ? "good" : "bad");
    page_text(pg, js(s, "state"));
    page_printf(pg, "</span></p><table class=\"record\">");
    record_row(pg, "街道 broker 地址", "Broker address", js(s, "broker"));
    snprintf(num, sizeof(num), "%lld", ji(s, "own_seq"));
    record_row(pg, "本方已写函件", "Letters written here", num);
    snprintf(num, sizeof(num), "%lld", ji(s, "unacked"));
    record_row(pg, "待街道确认", "Awaiting the street's ACK", num);
    snprintf(num, sizeof(num), "%lld", ji(s, "pending"));
    record_row(pg, "待接收", "Waiting at the street for us", num);
    long long ago = ji(s, "last_progress_ms_ago");
    if (ago >= 0)
        snprintf(num, sizeof(num), "%lld s", ago / 1000);
    record_row(pg, "上次进展", "Last progress", ago >= 0 ? num : NULL);
    record_row(pg, "最近错误", "Last error", js(s, "last_error"));
    page_printf(pg, "</table>");
    page_answer_release(&a);
    page_end(pg);
}

/* ---------------------------------------------------------------- 报表 report */

static void bar(struct page *pg, const char *zh, const char *en, long long part, long long whole)
{
    int pct = whole > 0 ? (int)(part * 100 / whole) : 0;
    page_printf(pg, "<div class=\"bar\"><span>");
    page_tt(pg, zh, en);
    page_printf(pg,
                "</span><svg viewBox=\"0 0 100 6\" preserveAspectRatio=\"none\" role=\"img\">"
                "<rect width=\"100\" height=\"6\" class=\"bg\"/>"
                "<rect width=\"%d\" height=\"6\" class=\"fg\"/></svg><b>%d%%</b>"
                "<small>%lld/%lld</small></div>",
                pct, pct, part, whole);
}

static void page_report(struct page *pg)
{
    char year[8];
    const char *y = web_query(page_req(pg), "year");
    snprintf(year, sizeof(year), "%.4s", y && strlen(y) == 4 ? y : "");
    if (!year[0]) {
        struct page_answer t;
        page_ctl_simple(pg, "tasks", &t, "limit", "1", NULL); /* for its as_of only */
        snprintf(year, sizeof(year), "%.4s", t.rc == DS_OK ? js(t.result, "as_of") : "2026");
        page_answer_release(&t);
    }
    struct page_answer a;
    page_ctl_simple(pg, "annual report", &a, "year", year, "summary", "1", NULL); /* no rows */
    page_begin(pg, "年度报表", "Annual report");
    page_printf(pg,
                "<form method=\"get\" action=\"/report\" class=\"search\"><input name=\"year\" "
                "value=\"%s\" size=\"4\"><button type=\"submit\">%s</button></form>",
                year, page_t(pg, "查看", "Show"));
    if (a.rc != DS_OK) {
        refused(pg, &a);
    } else {
        json_t *r = a.result;
        page_printf(pg, "<div class=\"card\" id=\"report\">");
        if (kind_of(pg) == ORG_UNIT) {
            bar(pg, "报到率", "Report rate", ji(r, "reported"), ji(r, "introduced"));
            bar(pg, "反馈覆盖", "Feedback coverage", ji(r, "feedback_received"),
                ji(r, "introduced"));
        } else {
            bar(pg, "报到率", "Report rate", ji(r, "reported"), ji(r, "registered"));
            bar(pg, "登记卡完整", "Cards complete", ji(r, "cards_complete"), ji(r, "registered"));
            bar(pg, "参加活动达标", "Participation met", ji(r, "participation_met"),
                ji(r, "registered"));
        }
        page_printf(pg, "</div>");
    }
    page_answer_release(&a);
    page_end(pg);
}

/* ---------------------------------------------------------------- metrics */

/* dualsync_node_refused_total's reasons: status.counters keys that add up to rejected +
 * forks. */
struct refused_reason {
    const char *reason; /* the label */
    const char *key;    /* in status.counters */
};

static const struct refused_reason refused_reasons[] = {
    {"malformed", "rejected_malformed"},
    {"signature", "rejected_signature"},
    {"side", "rejected_side"},
    {"invalid", "rejected_invalid"},
    {"fork", "forks"},
};

static void node_metrics(struct page *pg)
{
    struct page_answer a;
    page_ctl_simple(pg, "status", &a, NULL);
    if (a.rc != DS_OK) {
        page_reply(pg, 503, "text/plain; charset=utf-8", xstrdup("daemon not answering\n"), 21);
        return;
    }
    struct buf b = BUF_INIT;
    json_t *s = a.result, *k = json_object_get(a.result, "counters");
    console_metric(&b, "dualsync_node_ready", "gauge", "1 when in session with the broker",
                   strcmp(js(s, "state"), "ready") == 0);
    console_metric(&b, "dualsync_node_own_events", "gauge", "events written by this org",
                   ji(s, "own_seq"));
    console_metric(&b, "dualsync_node_unacked_events", "gauge", "own events not yet acknowledged",
                   ji(s, "unacked"));
    console_metric(&b, "dualsync_node_inbox_pending_events", "gauge",
                   "events waiting at the broker", ji(s, "pending"));
    console_metric(&b, "dualsync_node_applied_total", "counter", "delivered events applied",
                   ji(k, "applied"));
    console_metric(&b, "dualsync_node_duplicates_total", "counter", "delivered events already held",
                   ji(k, "duplicates"));
    console_metric(&b, "dualsync_node_forks_total", "counter",
                   "delivered events with a known id and other "
                   "bytes",
                   ji(k, "forks"));
    console_metric(&b, "dualsync_node_rejected_total", "counter",
                   "delivered events refused (signature, side, body)", ji(k, "rejected"));
    buf_printf(&b, "# HELP dualsync_node_refused_total delivered events this node refused, by "
                   "reason (rejected and forks)\n# TYPE dualsync_node_refused_total counter\n");
    for (size_t i = 0; i < sizeof(refused_reasons) / sizeof(refused_reasons[0]); i++)
        buf_printf(&b, "dualsync_node_refused_total{reason=\"%s\"} %lld\n",
                   refused_reasons[i].reason, ji(k, refused_reasons[i].key));
    console_metric(&b, "dualsync_node_sessions_total", "counter",
                   "sessions started with the broker", ji(k, "sessions"));
    console_metric(&b, "dualsync_node_reconnects_total", "counter", "new connections to the broker",
                   ji(k, "reconnects"));
    console_metrics_log(&b, "dualsync_node", s);
    page_answer_release(&a);
    size_t len = 0;
    char *text = buf_take(&b, &len);
    page_reply(pg, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

/* ---------------------------------------------------------------- the site */

static const struct console_page pages[] = {
    {"/", "待办", "Tasks", true, page_tasks, NULL, false},
    {"/members", "党员", "Members", true, page_members, NULL, false},
    {"/member", "党员记录", "Member record", false, page_member, NULL, false},
    {"/do", "办理", "Letters", true, page_do, post_do, true},
    {"/import", "导入", "Import", true, page_import, post_import, true},
    {"/letter", "打印函件", "Print a letter", false, console_print_letter, NULL, false},
    {"/verify", "核验函件", "Verify a letter", true, console_print_verify, NULL, false},
    {"/report", "报表", "Report", true, page_report, NULL, false},
    {"/sync", "同步", "Sync", true, page_sync, NULL, false},
    {"/audit", "审计", "Audit", true, console_page_audit, NULL, false},
};

#define N_PAGES (sizeof(pages) / sizeof(pages[0]))

/* Only units import rosters: a community's navigation does not offer it (its page still
 * answers, and says so). */
static struct console_page community_pages[N_PAGES];

int node_console_start(struct node *n, struct console **console_out)
{
    memcpy(community_pages, pages, sizeof(pages));
    for (size_t i = 0; i < N_PAGES; i++)
        if (strcmp(community_pages[i].path, "/import") == 0)
            community_pages[i].nav = false;
    struct console_site site = {
        .dir = n->dir,
        .role_zh = n->kind == ORG_UNIT ? "单位党组织控制台" : "社区党组织控制台",
        .role_en = n->kind == ORG_UNIT ? "Unit console" : "Community console",
        .org_name = n->cfg.name[0] ? n->cfg.name : n->cfg.org,
        .org_id = n->cfg.org,
        .pages = n->kind == ORG_UNIT ? pages : community_pages,
        .n_pages = N_PAGES,
        .metrics = node_metrics,
        .arg = &n->kind,
    };
    return console_start(&n->cfg.web, &site, console_out);
}
