/* console_print: the printable letters and their verification codes (console_print.h).
 *
 * A paper letter is trusted when its code names an event this node holds. The code is a
 * truncated BLAKE2b-256 of the exact SignedEvent bytes, which every holder of the letter
 * (its author, its recipient, the broker) stores verbatim, so it is the same everywhere
 * and changes with any byte of the letter or of its signature. 80 bits keep it typeable
 * (16 symbols) while a forger who changes a letter still cannot find bytes with the same
 * code. Crockford base32 avoids the symbols people confuse on paper.
 *
 * The pages never build a letter from their own knowledge: the daemon's `letter` command
 * answers the letter with its title, labelled fields, org names and code (letter_describe
 * gives the labels), and a page only lays that answer out — per type for the five letters
 * of the practice, as a generic table for the others. Everything from the answer goes
 * through page_text (HTML-escaped); templates substitute escaped values.
 *
 * Printing is the browser's (no script: the CSP has no script-src); the stylesheet's
 * print rules drop the console's frame, and the hints sit in .actions, hidden on paper. */
#include "console_print.h"

#include "err.h"
#include "ids.h"
#include "keys.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- the code */

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* The LETTER_CODE_BYTES bytes b as a code. */
static void code_text(const uint8_t *b, char out[LETTER_CODE_MAX])
{
    unsigned acc = 0, bits = 0, sym = 0;
    size_t o = 0;
    for (size_t i = 0; i < LETTER_CODE_BYTES; i++) {
        acc = (acc << 8) | b[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            if (sym && sym % 4 == 0)
                out[o++] = '-';
            out[o++] = crockford[(acc >> bits) & 31u];
            acc &= (1u << bits) - 1;
            sym++;
        }
    }
    out[o] = '\0';
}

void letter_digest(const struct event *ev, uint8_t out[KEYS_DIGEST_LEN])
{
    if (!ev->personal_len) { /* stored as its stripped form already, or never had a part */
        keys_digest(ev->raw, ev->raw_len, out);
        return;
    }
    uint8_t *bare = NULL;
    size_t len = 0;
    wire_event_strip(ev, &bare, &len);
    keys_digest(bare, len, out);
    free(bare);
}

void letter_code(const struct event *ev, char out[LETTER_CODE_MAX])
{
    uint8_t d[KEYS_DIGEST_LEN];
    letter_digest(ev, d);
    code_text(d, out);
}

/* The value of one typed symbol, -1 for none. */
static int symbol_value(char c)
{
    c = (char)toupper((unsigned char)c);
    if (c == 'O')
        return 0;
    if (c == 'I' || c == 'L')
        return 1;
    const char *p = c ? strchr(crockford, c) : NULL;
    return p ? (int)(p - crockford) : -1;
}

int letter_code_parse(const char *text, uint8_t bytes_out[LETTER_CODE_BYTES])
{
    uint8_t b[LETTER_CODE_BYTES];
    unsigned acc = 0, bits = 0, sym = 0;
    size_t n = 0;
    for (const char *p = text ? text : ""; *p; p++) {
        if (*p == '-' || *p == ' ')
            continue;
        int v = symbol_value(*p);
        if (v < 0 || sym == LETTER_CODE_SYMBOLS)
            return DS_EINVAL;
        acc = (acc << 5) | (unsigned)v;
        bits += 5;
        sym++;
        if (bits >= 8) {
            bits -= 8;
            b[n++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (sym != LETTER_CODE_SYMBOLS)
        return DS_EINVAL;
    memcpy(bytes_out, b, sizeof(b));
    return DS_OK;
}

/* ---------------------------------------------------------------- what a letter reads like */

struct letter_kind {
    const char *type;
    const char *zh;
    const char *en;
    const char *order; /* fields shown first, in this order; the others follow */
};

static const struct letter_kind kinds[] = {
    {"introduction", "住社区党员身份介绍函", "Introduction letter",
     "name,community,report_days,"
     "contact,date"},
    {"report-in", "报到回执", "Report-in receipt", "date"},
    {"registration-card", "社区党员基本情况登记卡", "Registration card",
     "occupation,willingness,rest_time,skills,categories,contact"},
    {"feedback", "表现情况反馈函", "Feedback letter",
     "period,rating,activities,minutes,lead,non_participation,poor_conduct,text,date"},
    {"handling-result", "查处结果反馈", "Handling result", "feedback_id,action,text,date"},
    {"registration-close", "退回/撤销登记通知", "Registration closed", NULL},
    {"move-out", "迁居注销通知", "Moved house", NULL},
    {"unit-release", "组织关系转出通知", "Left the unit", NULL},
    {"group-assign", "编入楼栋联络组", "Building group assignment", NULL},
    {"team-membership", "志愿服务队登记", "Volunteer team membership", NULL},
    {"attendance", "参加活动登记", "Attendance", NULL},
    {"opinion-request", "征求意见函", "Opinion request", NULL},
    {"opinion-reply", "征求意见答复", "Opinion reply", NULL},
    {"public-notice", "公示", "Public notice", NULL},
    {"notice-response", "公示情况反馈", "Notice response", NULL},
    {"unit-visit", "走访记录", "Unit visit", NULL},
    {"difficulty", "党员困难反映", "Practical difficulty", NULL},
    {"difficulty-resolved", "困难解决情况", "Difficulty resolved", NULL},
    {"joint-meeting", "联席会议纪要", "Joint meeting", NULL},
    {"liaison-member", "社区联络处成员", "Liaison office member", NULL},
    {"building-group", "楼栋联络组", "Building liaison group", NULL},
    {"volunteer-team", "志愿服务队", "Volunteer team", NULL},
    {"activity", "活动", "Activity", NULL},
    {"service-need", "社区需求/微心愿", "Service need", NULL},
    {"service-claim", "认领需求", "Claim", NULL},
    {"claim-decision", "认领审核", "Claim decision", NULL},
    {"service-fulfilled", "需求完成", "Need fulfilled", NULL},
    {"resource-offer", "资源提供", "Resource offer", NULL},
    {"directory-entry", "街道目录登记", "Directory entry", NULL},
};

/* Labels by field name (a name means the same in every body, fields.h); a type may
 * override one (type NULL: any type). */
struct label {
    const char *type;
    const char *field;
    const char *zh;
    const char *en;
};

static const struct label labels[] = {
    {"introduction", "date", "开具日期", "Issued on"},
    {"report-in", "date", "报到日期", "Reported in on"},
    {"feedback", "text", "评语", "Remarks"},
    {"feedback", "date", "反馈日期", "Sent on"},
    {"handling-result", "text", "处理情况", "Summary"},
    {"handling-result", "date", "处理日期", "Handled on"},
    {"unit-visit", "text", "走访情况", "What was found"},
    {"opinion-request", "kind", "征求意见事项", "Kind"},
    {"service-need", "kind", "类别", "Kind"},
    {NULL, "community", "居住社区", "Community"},
    {NULL, "name", "姓名", "Name"},
    {NULL, "report_days", "报到期限(天)", "Days to report in"},
    {NULL, "date", "日期", "Date"},
    {NULL, "contact", "联系方式", "Contact"},
    {NULL, "occupation", "职业", "Occupation"},
    {NULL, "willingness", "服务意愿", "Willingness to serve"},
    {NULL, "rest_time", "休息时间", "Rest time"},
    {NULL, "skills", "特长", "Skills"},
    {NULL, "categories", "服务类别", "Service categories"},
    {NULL, "year", "年度", "Year"},
    {NULL, "rating", "评价", "Rating"},
    {NULL, "non_participation", "长期不参加活动", "Long non-participation"},
    {NULL, "text", "说明", "Text"},
    {NULL, "period", "期间", "Period"},
    {NULL, "activities", "参加活动(次)", "Activities attended"},
    {NULL, "minutes", "服务时长(分钟)", "Service time (minutes)"},
    {NULL, "poor_conduct", "表现差", "Poor conduct"},
    {NULL, "lead", "带头事项", "\"Take the lead\" items met"},
    {NULL, "feedback_id", "对应反馈函", "Feedback letter"},
    {NULL, "action", "处理方式", "Action"},
    {NULL, "reason", "原因", "Reason"},
    {NULL, "group", "楼栋联络组", "Building group"},
    {NULL, "team", "志愿服务队", "Volunteer team"},
    {NULL, "leave", "退出", "Leaves"},
    {NULL, "activity", "活动", "Activity"},
    {NULL, "kind", "类别", "Kind"},
    {NULL, "subject", "事项", "Subject"},
    {NULL, "due", "答复期限", "Reply due"},
    {NULL, "request", "征求意见函", "Request"},
    {NULL, "verdict", "意见", "Verdict"},
    {NULL, "title", "标题", "Title"},
    {NULL, "matter", "公示事项", "Matter"},
    {NULL, "start", "开始日期", "Start"},
    {NULL, "end", "结束日期", "End"},
    {NULL, "working_days", "工作日数", "Working days"},
    {NULL, "notice", "公示", "Notice"},
    {NULL, "status", "状态", "Status"},
    {NULL, "difficulty", "困难", "Difficulty"},
    {NULL, "attendees", "参会组织", "Attendees"},
    {NULL, "decisions", "议定事项", "Decisions"},
    {NULL, "side", "所属方", "Side"},
    {NULL, "org", "组织", "Org"},
    {NULL, "role", "职务", "Role"},
    {NULL, "leader", "组长", "Leader"},
    {NULL, "need", "需求", "Need"},
    {NULL, "claimant", "认领党员", "Claiming member"},
    {NULL, "claim", "认领", "Claim"},
    {NULL, "approved", "同意", "Approved"},
};

/* Display names of enum and code values, by field. */
struct value_name {
    const char *field;
    const char *value;
    const char *zh;
    const char *en;
};

static const struct value_name value_names[] = {
    {"rating", "excellent", "优秀", "excellent"},
    {"rating", "good", "良好", "good"},
    {"rating", "fair", "一般", "fair"},
    {"rating", "poor", "较差", "poor"},
    {"action", "criticism", "批评教育", "criticism and education"},
    {"action", "investigation", "调查处理", "investigation"},
    {"action", "no-action", "无需处理", "no action needed"},
    {"reason", "moved", "迁居", "moved house"},
    {"reason", "returned", "退回", "returned"},
    {"reason", "revoked", "撤销", "revoked"},
    {"reason", "released", "组织关系转出", "left the unit"},
    {"verdict", "agree", "同意", "agree"},
    {"verdict", "disagree", "不同意", "disagree"},
    {"verdict", "no-opinion", "无意见", "no opinion"},
    {"status", "posted", "已张贴", "posted"},
    {"status", "objections", "有异议", "objections"},
    {"status", "no-objections", "无异议", "no objections"},
    {"kind", "excellent-member", "优秀共产党员", "excellent party member"},
    {"kind", "advanced-individual", "先进个人", "advanced individual"},
    {"kind", "democratic-appraisal", "民主评议", "democratic appraisal"},
    {"kind", "cadre-promotion", "干部提拔", "cadre promotion"},
    {"kind", "new-member", "发展党员", "new party member"},
    {"kind", "advanced-org", "先进基层党组织", "advanced party organisation"},
    {"kind", "civilised-unit", "文明单位", "civilised unit"},
    {"kind", "wish", "微心愿", "small wish"},
    {"kind", "kind-unit", "单位", "unit"},
    {"kind", "kind-community", "社区", "community"},
    {"kind", "kind-street", "街道", "street"},
    {"side", "unit", "单位", "unit"},
    {"side", "community", "社区", "community"},
};

static const struct letter_kind *kind_of_type(const char *type)
{
    for (size_t i = 0; type && i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kinds[i].type, type) == 0)
            return &kinds[i];
    return NULL;
}

static void label_of(const char *type, const char *field, const char **zh, const char **en)
{
    for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
        const struct label *l = &labels[i];
        if (strcmp(l->field, field) == 0 && (!l->type || (type && strcmp(l->type, type) == 0))) {
            *zh = l->zh;
            *en = l->en;
            return;
        }
    }
    *zh = *en = field; /* a field of a newer schema: its name is the best label we have */
}

static bool is_org_field(const char *field)
{
    return strcmp(field, "community") == 0 || strcmp(field, "org") == 0 ||
           strcmp(field, "attendees") == 0;
}

/* One scalar as display text in both languages, appended to zh and en. */
static void value_text(const char *field, json_t *v, letter_org_name_fn org_name, void *arg,
                       struct buf *zh, struct buf *en)
{
    if (json_is_boolean(v)) {
        buf_puts(zh, json_is_true(v) ? "是" : "否");
        buf_puts(en, json_is_true(v) ? "yes" : "no");
        return;
    }
    if (json_is_integer(v)) {
        buf_printf(zh, "%lld", (long long)json_integer_value(v));
        buf_printf(en, "%lld", (long long)json_integer_value(v));
        return;
    }
    const char *s = json_string_value(v);
    if (!s)
        return;
    for (size_t i = 0; i < sizeof(value_names) / sizeof(value_names[0]); i++)
        if (strcmp(value_names[i].field, field) == 0 && strcmp(value_names[i].value, s) == 0) {
            buf_puts(zh, value_names[i].zh);
            buf_puts(en, value_names[i].en);
            return;
        }
    const char *name = is_org_field(field) && org_name && *s ? org_name(s, arg) : NULL;
    if (name && *name) {
        buf_printf(zh, "%s (%s)", name, s);
        buf_printf(en, "%s (%s)", name, s);
    } else {
        buf_puts(zh, s);
        buf_puts(en, s);
    }
}

static void add_field(json_t *arr, const char *type, const char *field, json_t *v,
                      letter_org_name_fn org_name, void *arg)
{
    struct buf zh = BUF_INIT, en = BUF_INIT;
    const char *lzh, *len;
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            if (i) {
                buf_puts(&zh, "、");
                buf_puts(&en, ", ");
            }
            value_text(field, e, org_name, arg, &zh, &en);
        }
    } else {
        value_text(field, v, org_name, arg, &zh, &en);
    }
    label_of(type, field, &lzh, &len);
    json_array_append_new(arr,
                          json_pack("{s:s,s:s,s:s,s:s,s:s}", "field", field, "zh", lzh, "en", len,
                                    "text_zh", zh.p ? zh.p : "", "text_en", en.p ? en.p : ""));
    buf_release(&zh);
    buf_release(&en);
}

static bool listed(const char *order, const char *field)
{
    size_t n = strlen(field);
    for (const char *p = order; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, field, n) == 0)
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

/* Keys are left out: a directory entry's keys are not for reading off paper. */
static bool hidden_field(const char *field)
{
    size_t n = strlen(field);
    return strcmp(field, "feedback_origin") == 0 || strcmp(field, "feedback_seq") == 0 ||
           (n > 4 && strcmp(field + n - 4, "_key") == 0);
}

void letter_describe(const char *type_name, json_t *body, letter_org_name_fn org_name, void *arg,
                     json_t *j)
{
    const struct letter_kind *k = kind_of_type(type_name);
    json_t *fields = json_array(), *v;
    const char *key;
    json_object_set_new(j, "title_zh", json_string(k ? k->zh : "函件"));
    json_object_set_new(j, "title_en", json_string(k ? k->en : "Letter"));
    json_t *view = json_is_object(body) ? json_copy(body) : json_object();
    if (json_object_get(view, "feedback_origin")) {
        char id[160];
        snprintf(id, sizeof(id), "%s/%lld",
                 json_string_value(json_object_get(view, "feedback_origin"))
                     ? json_string_value(json_object_get(view, "feedback_origin"))
                     : "",
                 (long long)json_integer_value(json_object_get(view, "feedback_seq")));
        json_object_set_new(view, "feedback_id", json_string(id));
    }
    /* First the type's reading order, then the rest in schema order. */
    for (const char *p = k ? k->order : NULL; p && *p;) {
        const char *end = strchr(p, ',');
        char field[64];
        snprintf(field, sizeof(field), "%.*s", (int)(end ? (size_t)(end - p) : strlen(p)), p);
        if ((v = json_object_get(view, field)) != NULL)
            add_field(fields, type_name, field, v, org_name, arg);
        p = end ? end + 1 : NULL;
    }
    json_object_foreach(view, key, v)
    {
        if (!listed(k ? k->order : NULL, key) && !hidden_field(key))
            add_field(fields, type_name, key, v, org_name, arg);
    }
    json_decref(view);
    json_object_set_new(j, "fields", fields);
}

/* ---------------------------------------------------------------- page helpers */

static const char *js(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static bool is_type(json_t *l, const char *type)
{
    return strcmp(js(l, "type"), type) == 0;
}

/* An org as "name" (its id when the name is unknown). */
static const char *org_display(json_t *l, const char *key)
{
    char name_key[64];
    snprintf(name_key, sizeof(name_key), "%s_name", key);
    return *js(l, name_key) ? js(l, name_key) : js(l, key);
}

/* Writes tmpl with {0}..{9} replaced by vals[i], everything escaped. */
static void say(struct page *pg, const char *tmpl, const char *const *vals, size_t n)
{
    struct buf chunk = BUF_INIT;
    for (const char *p = tmpl; *p; p++) {
        if (p[0] == '{' && p[1] >= '0' && p[1] <= '9' && p[2] == '}' && (size_t)(p[1] - '0') < n) {
            page_text(pg, chunk.p);
            buf_release(&chunk);
            page_text(pg, vals[p[1] - '0']);
            p += 2;
        } else {
            buf_append(&chunk, p, 1);
        }
    }
    page_text(pg, chunk.p);
    buf_release(&chunk);
}

/* "2026年1月5日" on paper in Chinese; the date as written in English. */
static void date_text(struct page *pg, const char *date)
{
    int y, m, d;
    if (!page_en(pg) && strlen(date) == 10 && sscanf(date, "%4d-%2d-%2d", &y, &m, &d) == 3)
        page_printf(pg, "%d年%d月%d日", y, m, d);
    else
        page_text(pg, date);
}

static void row(struct page *pg, const char *zh, const char *en, const char *value)
{
    page_printf(pg, "<tr><th>");
    page_tt(pg, zh, en);
    page_printf(pg, "</th><td>");
    page_text(pg, value && *value ? value : "—");
    page_printf(pg, "</td></tr>");
}

static void org_row(struct page *pg, const char *zh, const char *en, json_t *l, const char *key)
{
    struct buf b = BUF_INIT;
    if (*js(l, key)) {
        char name_key[64];
        snprintf(name_key, sizeof(name_key), "%s_name", key);
        if (*js(l, name_key))
            buf_printf(&b, "%s  ", js(l, name_key));
        buf_puts(&b, js(l, key));
    }
    row(pg, zh, en, b.p);
    buf_release(&b);
}

static void member_row(struct page *pg, json_t *l)
{
    struct buf b = BUF_INIT;
    buf_printf(&b, "%s  %s", js(l, "member_name"), js(l, "member"));
    row(pg, "党员", "Member", b.p);
    buf_release(&b);
}

/* The body's labelled fields. */
static void fields_table(struct page *pg, json_t *l)
{
    size_t i;
    json_t *f;
    page_printf(pg, "<table class=\"record letter-fields\">");
    json_array_foreach(json_object_get(l, "fields"), i, f)
    {
        page_printf(pg, "<tr data-field=\"");
        page_text(pg, js(f, "field"));
        page_printf(pg, "\"><th>");
        page_tt(pg, js(f, "zh"), js(f, "en"));
        page_printf(pg, "</th><td>");
        const char *t = page_t(pg, js(f, "text_zh"), js(f, "text_en"));
        page_text(pg, *t ? t : "—");
        page_printf(pg, "</td></tr>");
    }
    page_printf(pg, "</table>");
}

/* The text of one body field in the reader's language ("" when absent). */
static const char *field_text(struct page *pg, json_t *l, const char *field)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(l, "fields"), i, f)
    {
        if (strcmp(js(f, "field"), field) == 0)
            return page_t(pg, js(f, "text_zh"), js(f, "text_en"));
    }
    return "";
}

/* The addressee line ("和谐社区党组织:"). */
static void salute(struct page *pg, const char *org_name)
{
    const char *v[] = {org_name};
    page_printf(pg, "<p class=\"letter-to\">");
    say(pg, page_t(pg, "{0}党组织：", "To the party organisation of {0}:"), v, 1);
    page_printf(pg, "</p>");
}

/* The prose of the five letters of the practice; false for the other types. */
static bool letter_prose(struct page *pg, json_t *l)
{
    json_t *body = json_object_get(l, "body");
    const char *unit = org_display(l, "unit"), *community = org_display(l, "community");
    const char *name = js(l, "member_name"), *member = js(l, "member");
    char days[24];
    snprintf(days, sizeof(days), "%lld",
             (long long)json_integer_value(json_object_get(body, "report_days")));
    if (is_type(l, "introduction")) {
        const char *v[] = {name, member, days};
        salute(pg, community);
        page_printf(pg, "<p class=\"letter-text\">");
        say(pg,
            page_t(pg,
                   "兹介绍我单位党员{0}同志（党员编号：{1}）到你社区报到。该同志居住在你社区，"
                   "请予接洽，于{2}日内安排报到，编入楼栋联络组，参加社区党组织活动。",
                   "This letter introduces {0} (member id {1}), a party member of our unit who "
                   "lives in your community. Please receive the member, who is to report in "
                   "within {2} days, and include the member in a building liaison group and in "
                   "the activities of your party organisation."),
            v, 3);
    } else if (is_type(l, "report-in")) {
        const char *v[] = {name, member, js(body, "date")};
        salute(pg, unit);
        page_printf(pg, "<p class=\"letter-text\">");
        say(pg,
            page_t(pg, "你单位党员{0}同志（党员编号：{1}）已于{2}到我社区报到。特此回执。",
                   "{0} (member id {1}), a party member of your unit, reported in to our "
                   "community on {2}. This is the receipt."),
            v, 3);
    } else if (is_type(l, "registration-card")) {
        const char *v[] = {name, member, unit, community};
        page_printf(pg, "<p class=\"letter-text\">");
        say(pg,
            page_t(pg, "党员{0}（党员编号：{1}），工作单位：{2}，居住社区：{3}。",
                   "Party member {0} (member id {1}), working at {2}, living in {3}."),
            v, 4);
    } else if (is_type(l, "feedback")) {
        const char *v[] = {name, member, js(body, "period")};
        salute(pg, unit);
        page_printf(pg, "<p class=\"letter-text\">");
        say(pg,
            page_t(pg,
                   "现将你单位党员{0}同志（党员编号：{1}）{2}期间在我社区参加活动、"
                   "发挥作用的情况反馈如下：",
                   "Here is how {0} (member id {1}), a party member of your unit, took part in "
                   "the activities of our community in {2}:"),
            v, 3);
    } else if (is_type(l, "handling-result")) {
        const char *v[] = {name, member, field_text(pg, l, "feedback_id")};
        salute(pg, community);
        page_printf(pg, "<p class=\"letter-text\">");
        say(pg,
            page_t(pg,
                   "你社区反馈的我单位党员{0}同志（党员编号：{1}）的表现情况（反馈函 {2}）"
                   "已经处理，结果如下：",
                   "Our unit has handled what your community reported (feedback letter {2}) "
                   "about {0} (member id {1}), a party member of our unit. The result:"),
            v, 3);
    } else {
        return false;
    }
    page_printf(pg, "</p>");
    return true;
}

/* The header of a generic letter: who wrote it, to whom, about whom. */
static void generic_head(struct page *pg, json_t *l)
{
    size_t i;
    json_t *t;
    page_printf(pg, "<table class=\"record letter-head\">");
    row(pg, "类型", "Type", js(l, "type"));
    org_row(pg, "出具方", "From", l, "origin");
    if (*js(l, "member")) {
        org_row(pg, "单位", "Unit", l, "unit");
        org_row(pg, "社区", "Community", l, "community");
        member_row(pg, l);
    }
    json_array_foreach(json_object_get(l, "to"), i, t)
    {
        struct buf b = BUF_INIT;
        buf_printf(&b, "%s  %s", js(t, "name"), js(t, "org"));
        row(pg, "致", "To", b.p);
        buf_release(&b);
    }
    page_printf(pg, "</table>");
}

static void signature(struct page *pg, json_t *l)
{
    page_printf(pg, "<div class=\"letter-sign\"><p class=\"letter-org\">");
    page_text(pg, org_display(l, "origin"));
    page_printf(pg, "</p><p class=\"letter-seal\">");
    page_tt(pg, "（盖章）", "(seal)");
    page_printf(pg, "</p><p class=\"letter-date\">");
    date_text(pg, js(l, "date"));
    page_printf(pg, "</p></div>");
}

static const char *signature_text(struct page *pg, json_t *l)
{
    const char *s = js(l, "signature");
    if (strcmp(s, "ok") == 0)
        return page_t(pg, "有效（已用出具方公钥核对）", "valid (checked with the author's key)");
    if (strcmp(s, "bad") == 0)
        return page_t(pg, "无效", "INVALID");
    return page_t(pg, "无法核对（未知公钥）", "not checked (unknown key)");
}

static const char verify_line[] =
    "可在 dualsync 控制台“核验函件”页或用 dualsync letter verify 命令核验 / verify at the "
    "console's 'Verify a letter' page or with dualsync letter verify";

/* The letter's particulars and its code, at the foot of the sheet. */
static void letter_foot(struct page *pg, json_t *l)
{
    page_printf(pg, "<table class=\"record letter-meta\">");
    page_printf(pg, "<tr><th>");
    page_tt(pg, "函件编号", "Letter id");
    page_printf(pg, "</th><td><code id=\"letter-id\">");
    page_text(pg, js(l, "id"));
    page_printf(pg, "</code></td></tr>");
    org_row(pg, "出具方", "From", l, "origin");
    if (*js(l, "member")) {
        org_row(pg, "单位", "Unit", l, "unit");
        org_row(pg, "社区", "Community", l, "community");
        member_row(pg, l);
    }
    row(pg, "日期", "Date", js(l, "date"));
    row(pg, "签名", "Signature", signature_text(pg, l));
    page_printf(pg, "</table><div class=\"letter-code\"><span>");
    page_tt(pg, "核验码", "Verification code");
    page_printf(pg, "</span> <b id=\"code\">");
    page_text(pg, js(l, "code"));
    page_printf(pg, "</b><p class=\"letter-verify\">");
    page_text(pg, verify_line);
    page_printf(pg, "</p></div>");
}

static void print_hint(struct page *pg, json_t *l)
{
    page_printf(pg, "<div class=\"actions print-hint\"><p class=\"hint\">");
    page_tt(pg, "打印：使用浏览器的打印功能（Ctrl+P），A4 纵向；页首、导航和本提示不会打印。",
            "Print: use the browser's print (Ctrl+P), A4 portrait; the header, the navigation "
            "and this hint are not printed.");
    page_printf(pg, "</p><p>");
    if (*js(l, "member")) {
        page_printf(pg, "<a class=\"btn small\" href=\"/member?id=");
        buf_url(page_buf(pg), js(l, "member"));
        page_printf(pg, "\">");
        page_tt(pg, "党员记录", "Member record");
        page_printf(pg, "</a> ");
    }
    page_printf(pg, "<a class=\"btn small\" href=\"/verify?code=");
    buf_url(page_buf(pg), js(l, "code"));
    page_printf(pg, "\">");
    page_tt(pg, "核验函件", "Verify a letter");
    page_printf(pg, "</a></p></div>");
}

/* ---------------------------------------------------------------- /letter */

void console_print_letter(struct page *pg)
{
    const char *id = web_query(page_req(pg), "id");
    if (!id || !*id) {
        page_redirect(pg, "/verify");
        return;
    }
    struct page_answer a;
    page_ctl_simple(pg, "letter", &a, "id", id, NULL);
    if (a.rc != DS_OK) {
        char origin[IDS_ORG_MAX];
        uint64_t seq;
        page_audit(pg, "view-letter", ids_event_id_parse(id, origin, &seq) ? id : "malformed",
                   a.rc == DS_ENOTFOUND ? "not found" : "refused");
        page_error(pg, a.rc == DS_ENOTFOUND ? 404 : 400, a.zh, a.en);
        page_answer_release(&a);
        return;
    }
    json_t *l = a.result;
    char outcome[160];
    snprintf(outcome, sizeof(outcome), "ok%s%s", *js(l, "member") ? " member=" : "",
             js(l, "member"));
    page_audit(pg, "view-letter", id, outcome);
    page_begin(pg, js(l, "title_zh"), js(l, "title_en"));
    print_hint(pg, l);
    page_printf(pg, "<article class=\"letter\" id=\"letter\" data-type=\"");
    page_text(pg, js(l, "type"));
    page_printf(pg, "\"><p class=\"letter-no\">");
    page_tt(pg, "编号：", "No. ");
    page_text(pg, js(l, "id"));
    page_printf(pg, "</p>");
    if (!letter_prose(pg, l))
        generic_head(pg, l);
    fields_table(pg, l);
    signature(pg, l);
    letter_foot(pg, l);
    page_printf(pg, "</article>");
    page_answer_release(&a);
    page_end(pg);
}

/* ---------------------------------------------------------------- /verify */

static void verify_form(struct page *pg, const char *code, const char *error)
{
    page_printf(pg,
                "<form method=\"get\" action=\"/verify\" class=\"card form narrow\">"
                "<label%s>",
                error ? " class=\"bad\"" : "");
    page_tt(pg, "纸质函件上的核验码", "The verification code on the paper");
    page_printf(pg, "<input name=\"code\" required autocomplete=\"off\" "
                    "placeholder=\"XXXX-XXXX-XXXX-XXXX\" value=\"");
    page_text(pg, code);
    page_printf(pg, "\">");
    if (error) {
        page_printf(pg, "<span class=\"field-err\" role=\"alert\">");
        page_text(pg, error);
        page_printf(pg, "</span>");
    }
    page_printf(pg, "</label><p class=\"hint\">");
    page_tt(pg, "不区分大小写，可省略“-”。", "Upper or lower case; the dashes may be left out.");
    page_printf(pg, "</p><button type=\"submit\">");
    page_tt(pg, "核验", "Verify");
    page_printf(pg, "</button></form>");
}

static void verify_result(struct page *pg, json_t *l)
{
    page_printf(pg, "<p class=\"ok\" role=\"status\" id=\"verdict\" data-match=\"yes\">");
    page_tt(pg, "一致：本节点存有核验码对应的函件，如下。请核对纸质函件上的编号、党员和日期。",
            "Matches: this node holds the letter of this code, below. Check that the paper "
            "shows the same id, member and date.");
    page_printf(pg, "</p><table class=\"record\" id=\"verified\"><tr><th>");
    page_tt(pg, "函件", "Letter");
    page_printf(pg, "</th><td>");
    page_tt(pg, js(l, "title_zh"), js(l, "title_en"));
    page_printf(pg, "</td></tr><tr><th>");
    page_tt(pg, "函件编号", "Letter id");
    page_printf(pg, "</th><td><a id=\"letter-id\" href=\"/letter?id=");
    buf_url(page_buf(pg), js(l, "id"));
    page_printf(pg, "\">");
    page_text(pg, js(l, "id"));
    page_printf(pg, "</a></td></tr>");
    row(pg, "类型", "Type", js(l, "type"));
    row(pg, "日期", "Date", js(l, "date"));
    if (*js(l, "member"))
        member_row(pg, l);
    org_row(pg, "出具方", "From", l, "origin");
    if (*js(l, "member")) {
        org_row(pg, "单位", "Unit", l, "unit");
        org_row(pg, "社区", "Community", l, "community");
    }
    row(pg, "核验码", "Verification code", js(l, "code"));
    row(pg, "签名", "Signature", signature_text(pg, l));
    page_printf(pg, "</table>");
}

void console_print_verify(struct page *pg)
{
    const char *code = web_query(page_req(pg), "code");
    if (!code || !*code) {
        page_begin(pg, "核验函件", "Verify a letter");
        verify_form(pg, "", NULL);
        page_end(pg);
        return;
    }
    struct page_answer a;
    page_ctl_simple(pg, "letter", &a, "code", code, NULL);
    json_t *l = a.result;
    char outcome[160];
    snprintf(outcome, sizeof(outcome), "%s%s",
             a.rc == DS_OK          ? "ok "
             : a.rc == DS_ENOTFOUND ? "not found"
                                    : "refused",
             a.rc == DS_OK ? js(l, "id") : "");
    /* The code as printed, whatever was typed (the audit log takes short UTF-8 only). */
    uint8_t b[LETTER_CODE_BYTES];
    char typed[LETTER_CODE_MAX] = "malformed";
    if (letter_code_parse(code, b) == DS_OK)
        code_text(b, typed);
    page_audit(pg, "verify-letter", typed, outcome);
    page_begin(pg, "核验函件", "Verify a letter");
    if (a.rc == DS_OK) {
        verify_form(pg, code, NULL);
        verify_result(pg, l);
    } else if (a.rc == DS_ENOTFOUND) {
        page_set_status(pg, 404);
        verify_form(pg, code, NULL);
        page_printf(pg, "<p class=\"err\" role=\"alert\" id=\"verdict\" data-match=\"no\">");
        page_tt(pg,
                "未找到：本节点没有与此核验码对应的函件。纸质函件可能被改动，或不是发给本组织的。",
                "No such letter here: this node holds no letter with this code. The paper may "
                "have been altered, or the letter was not exchanged with this org.");
        page_printf(pg, "</p>");
    } else {
        page_set_status(pg, 422);
        verify_form(pg, code, page_t(pg, a.zh, a.en));
    }
    page_answer_release(&a);
    page_end(pg);
}
