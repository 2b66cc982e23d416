/* cli_reports: text and CSV for tasks, the annual report and lists. Every table is a list
 * of columns (JSON key, Chinese and English header), so the text and the CSV of one result
 * show the same fields in the same order; the CSV header uses the JSON keys, which are
 * stable, so scripts can rely on them (with --excel the Chinese headers, for Chinese Excel,
 * whatever --lang says). The text is in the one language of common/lang. Values are printed
 * as the daemon sent them (strings as is, numbers in decimal, booleans yes/no or 是/否,
 * arrays joined by ","), never reinterpreted. */
#include "cliargs.h"
#include "cli_reports.h"
#include "lang.h"
#include "sheet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *js(json_t *j, const char *k)
{
    const char *s = json_string_value(json_object_get(j, k));
    return s ? s : "";
}

static long long ji(json_t *j, const char *k)
{
    return (long long)json_integer_value(json_object_get(j, k));
}

/* The output asked for (cli_reports_print sets it for the one call). */
static struct cli_report_format fmt;

/* Tables in the format asked for: the first as CSV on stdout (for scripts, or with the
 * BOM and Chinese headers for Excel), or all of them as one workbook. 0 or 1. */
static int emit(const struct sheet_table *tables, size_t n)
{
    if (fmt.xlsx)
        return sheet_xlsx_cli(fmt.xlsx, tables, n);
    sheet_csv(stdout, tables[0].cols, tables[0].rows, fmt.excel);
    return 0;
}

static int emit_one(const char *title, const struct sheet_column *cols, json_t *rows)
{
    struct sheet_table t = {title, cols, rows};
    return emit(&t, 1);
}

/* A cell's text: "-" for nothing, a boolean as 是/否 or yes/no. */
static const char *cell_text(json_t *row, const char *key, char *buf, size_t size)
{
    const char *t = sheet_value_text(json_object_get(row, key), !ds_lang_is_en(), buf, size);
    return t[0] ? t : "-";
}

/* One cell of a text table: padded, or the last of its line. */
static void put_cell(const char *t, int width, bool last)
{
    if (last)
        printf("%s\n", t);
    else
        cli_cell(t, width + 1);
}

#define TEXT_COLUMNS_MAX 16
#define TEXT_CELL_MAX 40 /* wider cells (texts, descriptions) push their row, not the table */

/* A text table: the header in the language of the output, then one line per row, every
 * column as wide as its widest cell in terminal columns (Chinese characters count two), so
 * the columns line up; --csv and --json have the English keys. */
static void text_table(json_t *rows, const struct sheet_column *cols)
{
    int width[TEXT_COLUMNS_MAX] = {0};
    size_t n = 0, i;
    json_t *row;
    char buf[4200];
    while (cols[n].key && n < TEXT_COLUMNS_MAX)
        n++;
    for (size_t c = 0; c < n; c++) {
        width[c] = cli_width(TR(cols[c].zh, cols[c].en));
        json_array_foreach(rows, i, row)
        {
            int w = cli_width(cell_text(row, cols[c].key, buf, sizeof(buf)));
            if (w > width[c])
                width[c] = w < TEXT_CELL_MAX ? w : TEXT_CELL_MAX;
        }
    }
    for (size_t c = 0; c < n; c++)
        put_cell(TR(cols[c].zh, cols[c].en), width[c], c + 1 == n);
    json_array_foreach(rows, i, row)
    {
        for (size_t c = 0; c < n; c++)
            put_cell(cell_text(row, cols[c].key, buf, sizeof(buf)), width[c], c + 1 == n);
    }
}

static void rate_line(const char *zh, const char *en, json_t *rate)
{
    if (json_is_number(rate))
        printf("%s: %.1f%%\n", TR(zh, en), json_number_value(rate));
    else
        printf("%s: -\n", TR(zh, en));
}

/* ---------------------------------------------------------------- tasks */

static const struct sheet_column task_columns[] = {
    {"due", "期限", "due"},       {"overdue", "逾期", "overdue"},
    {"kind", "事项", "kind"},     {"member", "成员", "member"},
    {"name", "姓名", "name"},     {"ref", "依据", "ref"},
    {"actor", "办理方", "actor"}, {"org", "组织", "org"},
    {"zh", "说明", "zh"},         {"en", "说明(英文)", "en"},
    {NULL, NULL, NULL},
};

static void print_tasks(json_t *j)
{
    size_t i;
    json_t *t;
    printf(TR("待办事项: %s,截至 %s — 共 %lld 项,逾期 %lld 项\n",
              "tasks: %s, as of %s — %lld items, %lld overdue\n"),
           js(j, "org"), js(j, "as_of"), ji(j, "count"), ji(j, "overdue"));
    json_array_foreach(json_object_get(j, "tasks"), i, t)
    {
        bool late = json_is_true(json_object_get(t, "overdue"));
        const char *due = js(t, "due");
        printf("%s %-10s %-22s %s %s%s%s\n",
               late ? TR("[逾期]", "[OVERDUE]") : TR("[待办]", "[due]    "), due[0] ? due : "-",
               js(t, "kind"), js(t, "member")[0] ? js(t, "member") : "-", js(t, "name"),
               js(t, "ref")[0] ? "  " : "", js(t, "ref"));
        printf("    %s\n", TR(js(t, "zh"), js(t, "en")));
    }
    if (json_array_size(json_object_get(j, "tasks")) == 0)
        printf(TR("没有待办事项\n", "nothing is due\n"));
}

/* ---------------------------------------------------------------- annual report */

static const struct sheet_column community_members[] = {
    {"member", "成员", "member"},
    {"name", "姓名", "name"},
    {"unit", "单位", "unit"},
    {"reported", "报到", "reported"},
    {"report_date", "报到日期", "report date"},
    {"card_complete", "登记卡完整", "card complete"},
    {"group", "楼寓小组", "group"},
    {"feedback", "反馈函", "feedback"},
    {"activities", "活动", "activities"},
    {"minutes", "服务分钟", "minutes"},
    {"hours", "服务小时", "hours"},
    {"meets_minimum", "达标", "meets minimum"},
    {NULL, NULL, NULL},
};

static const struct sheet_column unit_members[] = {
    {"member", "成员", "member"},
    {"name", "姓名", "name"},
    {"community", "社区", "community"},
    {"reported", "报到", "reported"},
    {"report_date", "报到日期", "report date"},
    {"feedback", "反馈函", "feedback"},
    {"flagged", "需处理", "flagged"},
    {"handled", "已处理", "handled"},
    {"activities", "活动", "activities"},
    {"minutes", "服务分钟", "minutes"},
    {"hours", "服务小时", "hours"},
    {"meets_minimum", "达标", "meets minimum"},
    {NULL, NULL, NULL},
};

/* The report's figures (its scalar fields) as rows {item, value}, for the workbook's
 * 汇总 sheet. */
static const struct sheet_column summary_columns[] = {
    {"item", "项目", "item"}, {"value", "数值", "value"}, {NULL, NULL, NULL}};

static json_t *summary_rows(json_t *j)
{
    static const struct {
        const char *key, *label;
    } items[] = {
        {"year", "年度 year"},
        {"org", "组织 org"},
        {"name", "名称 name"},
        {"introduced", "介绍党员 introduced"},
        {"registered", "登记党员 registered"},
        {"reported", "已报到 reported"},
        {"report_rate", "报到率% report rate"},
        {"cards_complete", "登记卡完整 cards complete"},
        {"feedback_letters", "反馈函 feedback letters"},
        {"feedback_members", "反馈覆盖党员 members with feedback"},
        {"feedback_coverage", "反馈覆盖率% feedback coverage"},
        {"poor", "评价差 poor"},
        {"non_participation", "长期不参加活动 non-participation"},
        {"flagged", "需处理 flagged"},
        {"handling_done", "已反馈查处结果 handling done"},
        {"participation_met", "活动达标 participation met"},
        {"opinions_requested", "征求意见 opinions requested"},
        {"opinions_received", "收到征求意见 opinions received"},
        {"opinions_replied", "已回复 opinions replied"},
    };
    json_t *rows = json_array();
    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
        json_t *v = json_object_get(j, items[i].key);
        if (v)
            json_array_append_new(rows, json_pack("{s:s,s:O}", "item", items[i].label, "value", v));
    }
    return rows;
}

static int print_report(json_t *j, bool table)
{
    bool unit = strcmp(js(j, "kind"), "unit") == 0;
    const struct sheet_column *cols = unit ? unit_members : community_members;
    if (table) {
        json_t *summary = summary_rows(j);
        struct sheet_table t[] = {{"党员 members", cols, json_object_get(j, "members")},
                                  {"汇总 summary", summary_columns, summary}};
        int rc = emit(t, 2);
        json_decref(summary);
        return rc;
    }
    printf(TR("%lld 年度报告 — %s (%s)\n", "annual report %lld — %s (%s)\n"), ji(j, "year"),
           js(j, "org"), js(j, "name"));
    if (unit)
        printf(TR("介绍党员: %lld\n", "members introduced: %lld\n"), ji(j, "introduced"));
    else
        printf(TR("登记党员: %lld\n登记卡完整: %lld\n", "registered: %lld\ncards complete: %lld\n"),
               ji(j, "registered"), ji(j, "cards_complete"));
    printf(TR("已报到: %lld\n", "reported: %lld\n"), ji(j, "reported"));
    rate_line("报到率", "report rate", json_object_get(j, "report_rate"));
    printf(TR("%s: %lld,覆盖 %lld 名党员\n", "%s: %lld, covering %lld members\n"),
           unit ? TR("收到反馈函", "feedback received") : TR("发出反馈函", "feedback sent"),
           ji(j, "feedback_letters"), ji(j, "feedback_members"));
    rate_line("反馈覆盖率", "feedback coverage", json_object_get(j, "feedback_coverage"));
    if (unit) {
        printf(TR("评价差: %lld  长期不参加活动: %lld  需处理: %lld  已反馈查处结果: %lld\n",
                  "poor: %lld  non-participation: %lld  flagged: %lld  handling done: %lld\n"),
               ji(j, "poor"), ji(j, "non_participation"), ji(j, "flagged"), ji(j, "handling_done"));
        printf(TR("征求意见: %lld  已回复: %lld\n", "opinions requested: %lld  replied: %lld\n"),
               ji(j, "opinions_requested"), ji(j, "opinions_replied"));
    } else {
        printf(TR("需处理的反馈: %lld\n活动达标: %lld\n",
                  "flagged letters: %lld\nparticipation met: %lld\n"),
               ji(j, "flagged"), ji(j, "participation_met"));
        printf(TR("收到征求意见: %lld  已回复: %lld\n", "opinions received: %lld  replied: %lld\n"),
               ji(j, "opinions_received"), ji(j, "opinions_replied"));
    }
    printf("\n");
    text_table(json_object_get(j, "members"), cols);
    return 0;
}

/* ---------------------------------------------------------------- lists */

static const struct sheet_column cols_activities[] = {
    {"id", "编号", "id"},
    {"date", "日期", "date"},
    {"kind", "类型", "kind"},
    {"title", "名称", "title"},
    {"minutes", "分钟", "minutes"},
    {"attendance", "参加人次", "attendance"},
    {NULL, NULL, NULL},
};
static const struct sheet_column cols_teams[] = {
    {"team", "代码", "team"},         {"title", "名称", "title"}, {"kind", "类型", "kind"},
    {"members", "成员数", "members"}, {"id", "编号", "id"},       {NULL, NULL, NULL},
};
static const struct sheet_column cols_groups[] = {
    {"group", "代码", "group"},       {"title", "名称", "title"}, {"leader", "组长", "leader"},
    {"members", "成员数", "members"}, {"id", "编号", "id"},       {NULL, NULL, NULL},
};
static const struct sheet_column cols_liaison[] = {
    {"name", "姓名", "name"}, {"side", "方", "side"}, {"org", "组织", "org"},
    {"role", "职务", "role"}, {"id", "编号", "id"},   {NULL, NULL, NULL},
};
static const struct sheet_column cols_needs[] = {
    {"id", "编号", "id"},       {"date", "日期", "date"},     {"kind", "类型", "kind"},
    {"title", "名称", "title"}, {"status", "状态", "status"}, {"origin_name", "社区", "community"},
    {"text", "内容", "text"},   {NULL, NULL, NULL},
};
static const struct sheet_column cols_claims[] = {
    {"id", "编号", "id"},         {"date", "日期", "date"},
    {"need", "需求", "need"},     {"claimant", "认领人", "claimant"},
    {"status", "状态", "status"}, {"origin_name", "单位", "unit"},
    {"text", "内容", "text"},     {NULL, NULL, NULL},
};
static const struct sheet_column cols_offers[] = {
    {"id", "编号", "id"},       {"date", "日期", "date"},
    {"title", "名称", "title"}, {"origin_name", "单位", "unit"},
    {"to", "社区", "to"},       {"text", "内容", "text"},
    {NULL, NULL, NULL},
};
static const struct sheet_column cols_meetings[] = {
    {"id", "编号", "id"},
    {"date", "日期", "date"},
    {"title", "议题", "title"},
    {"attendees", "参会组织", "attendees"},
    {"decisions", "决定事项", "decisions"},
    {NULL, NULL, NULL},
};
static const struct sheet_column cols_notices[] = {
    {"title", "标题", "title"}, {"matter", "公示事项", "matter"}, {"name", "姓名", "name"},
    {"start", "开始", "start"}, {"end", "结束", "end"},           {"id", "编号", "id"},
    {NULL, NULL, NULL},
};
static const struct sheet_column cols_opinions[] = {
    {"id", "编号", "id"},
    {"scope", "范围", "scope"},
    {"member", "成员", "member"},
    {"name", "姓名", "name"},
    {"unit", "单位", "unit"},
    {"community", "社区", "community"},
    {"kind", "类型", "kind"},
    {"subject", "事由", "subject"},
    {"due", "回复期限", "due"},
    {"status", "状态", "status"},
    {"verdict", "意见", "verdict"},
    {"reply_date", "回复日期", "reply date"},
    {"reply_text", "回复内容", "reply text"},
    {NULL, NULL, NULL},
};

static const struct {
    const char *kind;
    const char *zh;
    const struct sheet_column *cols;
} list_tables[] = {
    {"activities", "活动", cols_activities}, {"teams", "志愿服务队", cols_teams},
    {"groups", "楼寓联络小组", cols_groups}, {"liaison", "联络站成员", cols_liaison},
    {"needs", "服务需求", cols_needs},       {"claims", "认领", cols_claims},
    {"offers", "资源", cols_offers},         {"meetings", "联席会议", cols_meetings},
    {"notices", "公示", cols_notices},       {"opinions", "征求意见", cols_opinions},
};

static int print_list(json_t *j, bool table)
{
    const char *kind = js(j, "kind");
    for (size_t i = 0; i < sizeof(list_tables) / sizeof(list_tables[0]); i++) {
        if (strcmp(list_tables[i].kind, kind) != 0)
            continue;
        if (table)
            return emit_one(list_tables[i].zh, list_tables[i].cols, json_object_get(j, "items"));
        /* the title in Chinese, the kind as typed in English: %.0s skips the other */
        printf(TR("%s%.0s: %s,截至 %s — 共 %lld 项\n", "%.0s%s: %s, as of %s — %lld items\n"),
               list_tables[i].zh, kind, js(j, "org"), js(j, "as_of"), ji(j, "count"));
        if (ji(j, "count") > 0)
            text_table(json_object_get(j, "items"), list_tables[i].cols);
        return 0;
    }
    /* a kind this CLI does not know (a newer daemon): show the JSON */
    char *s = json_dumps(j, JSON_INDENT(2));
    printf("%s\n", s ? s : "");
    free(s);
    return 0;
}

/* ---------------------------------------------------------------- journal */

static const struct sheet_column journal_columns[] = {
    {"id", "函件编号", "letter id"},
    {"direction", "收发", "direction"},
    {"type", "函件", "kind"},
    {"member", "成员编号", "member"},
    {"name", "姓名", "name"},
    {"state", "状态", "state"},
    {NULL, NULL, NULL},
};

static const char *state_zh(const char *state)
{
    static const char *const names[][2] = {{"written", "已写入,待送街道"},
                                           {"at-street", "已送达街道"},
                                           {"applied", "对方已接收"},
                                           {"received", "已收到"}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(state, names[i][0]) == 0)
            return names[i][1];
    return state;
}

static void print_journal(json_t *j)
{
    size_t i;
    json_t *e;
    json_t *letters = json_object_get(j, "letters");
    printf(TR("%s 函件日志 %s — 共 %zu 份\n", "%s journal of %s — %zu letters\n"), js(j, "date"),
           js(j, "org"), json_array_size(letters));
    json_array_foreach(letters, i, e)
    {
        bool sent = strcmp(js(e, "direction"), "sent") == 0;
        cli_cell(sent ? TR("发出", "sent") : TR("收到", "received"), 10);
        cli_cell(js(e, "id"), 24);
        cli_cell(js(e, "type"), 20);
        cli_cell(js(e, "member"), 14);
        cli_cell(js(e, "name"), 10);
        printf("%s\n", TR(state_zh(js(e, "state")), js(e, "state")));
    }
}

int cli_reports_print(const char *cmd, json_t *result, const struct cli_report_format *f)
{
    fmt = *f;
    bool table = f->csv || f->xlsx;
    if (strcmp(cmd, "tasks") == 0) {
        if (table)
            return emit_one("待办 tasks", task_columns, json_object_get(result, "tasks"));
        print_tasks(result);
        return 0;
    }
    if (strcmp(cmd, "annual report") == 0) /* "report --member" is a write */
        return print_report(result, table);
    if (strcmp(cmd, "list") == 0)
        return print_list(result, table);
    if (strcmp(cmd, "journal") == 0) {
        if (table)
            return emit_one("函件日志 journal", journal_columns,
                            json_object_get(result, "letters"));
        print_journal(result);
        return 0;
    }
    return -1;
}
