/* commands: the node's control API, one handler per command (a table, as the CLI has).
 * Every operator input is validated here, in the daemon, whatever the CLI already did:
 * ids, dates, UTF-8, sizes, enum values, the side allowed to write each letter, and that
 * referenced members and feedback letters exist. A refused command changes nothing and
 * says why in Chinese and English. Write commands in one request are all-or-nothing: they
 * are validated first, then appended in one batch. */
#include "node.h"

#include "ctl.h"
#include "err.h"
#include "fold.h"
#include "log.h"
#include "rules.h"
#include "wire.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The outcome of one handler: either an error (code, zh, en) or a JSON result. */
struct outcome {
    int code;
    char zh[256];
    char en[256];
    json_t *result;
};

/* A write command produces an event to append. */
struct pending_event {
    char member[IDS_MEMBER_MAX + 1];
    uint32_t type;
    uint8_t *body;
    size_t body_len;
};

static int fail(struct outcome *o, int code, const char *zh, const char *en)
{
    o->code = code;
    snprintf(o->zh, sizeof(o->zh), "%s", zh);
    snprintf(o->en, sizeof(o->en), "%s", en);
    return code;
}

static void today(char out[11])
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

static int require_side(struct node *n, enum org_kind kind, struct outcome *o)
{
    if (n->kind == kind)
        return DS_OK;
    return kind == ORG_UNIT
               ? fail(o, DS_ESIDE, "只有单位可以发出此函件", "only a unit may send this letter")
               : fail(o, DS_ESIDE, "只有社区可以发出此函件",
                      "only a community may send this letter");
}

static int require_writable(struct node *n, struct outcome *o)
{
    if (n->state == NODE_NEEDS_RESTORE || n->own_seq < n->restore_target)
        return fail(o, DS_ERESTORE, "本节点数据不完整,须先恢复才能写入",
                    "this node lost its log and must be restored before writing");
    /* A node that has never been welcomed cannot know whether the broker already holds
     * events of its org (a lost disk): writing now could reuse a sequence number. */
    if (n->store_id_len == 0 && n->state != NODE_READY)
        return fail(
            o, DS_EAGAIN, "本节点尚未与街道 broker 建立过会话,请稍后再试(见 status)",
            "this node has not yet been in session with the broker; retry later (see status)");
    return DS_OK;
}

static int member_arg(const Dualsync__CtlCommand *cmd, const char **member, struct outcome *o)
{
    *member = ctl_arg(cmd, "member");
    if (!*member || !ids_member_valid(*member))
        return fail(o, DS_EINVAL, "成员编号无效:须为 1–64 个字母、数字或 -",
                    "invalid member id: 1-64 letters, digits or -");
    return DS_OK;
}

static int text_arg(const Dualsync__CtlCommand *cmd, const char *key, size_t max, bool allow_empty,
                    const char **out, struct outcome *o)
{
    const char *v = ctl_arg(cmd, key);
    if (!v)
        v = "";
    if (!ids_text_valid(v, max, allow_empty)) {
        char zh[128], en[160];
        snprintf(zh, sizeof(zh), "--%s 无效:须为 UTF-8 文本,不含控制字符,最多 %zu 字节", key, max);
        snprintf(en, sizeof(en),
                 "invalid --%s: UTF-8 text without control characters, at most %zu bytes", key,
                 max);
        return fail(o, DS_EINVAL, zh, en);
    }
    *out = v;
    return DS_OK;
}

static int date_arg(const Dualsync__CtlCommand *cmd, char out[11], struct outcome *o)
{
    const char *d = ctl_arg(cmd, "date");
    if (!d) {
        today(out);
        return DS_OK;
    }
    if (!ids_date_valid(d))
        return fail(o, DS_EINVAL, "日期无效:格式为 YYYY-MM-DD", "invalid date: use YYYY-MM-DD");
    memcpy(out, d, 11);
    return DS_OK;
}

/* Loads the member's record and checks this node has business with it. */
static int own_member(struct node *n, const char *member, Dualsync__MemberRecord **rec,
                      struct outcome *o)
{
    if (eventlog_member(n->log, member, rec) != DS_OK)
        return fail(o, DS_ENOTFOUND, "未知成员:本节点没有该成员的介绍函",
                    "unknown member: no introduction letter for this member here");
    const char *mine = n->kind == ORG_UNIT ? (*rec)->unit : (*rec)->community;
    if (strcmp(mine, n->cfg.org) != 0) {
        fold_free(rec);
        return fail(o, DS_EROUTE, "该成员不属于本组织", "this member does not belong to this org");
    }
    return DS_OK;
}

static void set_pending(struct pending_event *pe, const char *member, uint32_t type,
                        const ProtobufCMessage *body)
{
    snprintf(pe->member, sizeof(pe->member), "%s", member);
    pe->type = type;
    wire_pack(body, &pe->body, &pe->body_len);
}

/* ---------------------------------------------------------------- write commands */

static int cmd_intro(struct node *n, const Dualsync__CtlCommand *cmd, struct pending_event *pe,
                     struct outcome *o)
{
    const char *member = NULL, *name = "", *community = ctl_arg(cmd, "community");
    const char *days_arg = ctl_arg(cmd, "report-days");
    char date[11];
    uint32_t days = n->cfg.report_days;
    if (require_side(n, ORG_UNIT, o) || member_arg(cmd, &member, o) ||
        text_arg(cmd, "name", IDS_NAME_MAX, false, &name, o) || date_arg(cmd, date, o))
        return o->code;
    const struct node_org *c = community ? node_find_org(n, community) : NULL;
    if (!c || c->kind != ORG_COMMUNITY)
        return fail(o, DS_ENOTFOUND, "--community 不是街道目录中的社区",
                    "--community is not a community in the street directory");
    if (days_arg) {
        char *end = NULL;
        unsigned long v = strtoul(days_arg, &end, 10);
        if (!*days_arg || *end || v < 1 || v > 365)
            return fail(o, DS_EINVAL, "--report-days 须为 1–365", "--report-days must be 1..365");
        days = (uint32_t)v;
    }
    Dualsync__MemberRecord *rec = NULL;
    if (eventlog_member(n->log, member, &rec) == DS_OK) {
        bool other_unit = rec->unit[0] && strcmp(rec->unit, n->cfg.org) != 0;
        bool same = strcmp(rec->community, community) == 0;
        fold_free(&rec);
        if (other_unit)
            return fail(o, DS_EROUTE, "该成员由其他单位管理",
                        "this member is managed by another unit");
        if (same)
            return fail(
                o, DS_EEXIST, "已向该社区发出过此成员的介绍函",
                "an introduction letter for this member was already sent to this community");
        /* A move needs the old community's registration closed first (a later workflow);
         * re-introducing now would leave the old community writing about a member the
         * broker no longer routes to it. */
        return fail(o, DS_EEXIST, "该成员已登记在另一社区;迁居须先办理原社区的注销",
                    "this member is registered with another community; a move needs the old "
                    "registration closed first");
    }
    Dualsync__Introduction b = DUALSYNC__INTRODUCTION__INIT;
    b.community = (char *)community;
    b.name = (char *)name;
    b.report_days = days;
    b.date = date;
    set_pending(pe, member, DUALSYNC__EVENT_TYPE__EVENT_INTRODUCTION, &b.base);
    return DS_OK;
}

static int cmd_report(struct node *n, const Dualsync__CtlCommand *cmd, struct pending_event *pe,
                      struct outcome *o)
{
    const char *member;
    char date[11];
    Dualsync__MemberRecord *rec = NULL;
    if (require_side(n, ORG_COMMUNITY, o) || member_arg(cmd, &member, o) ||
        date_arg(cmd, date, o) || own_member(n, member, &rec, o))
        return o->code;
    fold_free(&rec);
    Dualsync__ReportIn b = DUALSYNC__REPORT_IN__INIT;
    b.date = date;
    set_pending(pe, member, DUALSYNC__EVENT_TYPE__EVENT_REPORT_IN, &b.base);
    return DS_OK;
}

static int cmd_card(struct node *n, const Dualsync__CtlCommand *cmd, struct pending_event *pe,
                    struct outcome *o)
{
    const char *member = NULL, *occ = "", *will = "", *rest = "";
    Dualsync__MemberRecord *rec = NULL;
    if (require_side(n, ORG_COMMUNITY, o) || member_arg(cmd, &member, o) ||
        text_arg(cmd, "occupation", RULES_CARD_FIELD_MAX, true, &occ, o) ||
        text_arg(cmd, "willingness", RULES_CARD_FIELD_MAX, true, &will, o) ||
        text_arg(cmd, "rest-time", RULES_CARD_FIELD_MAX, true, &rest, o) ||
        own_member(n, member, &rec, o))
        return o->code;
    fold_free(&rec);
    if (!occ[0] && !will[0] && !rest[0])
        return fail(o, DS_EINVAL, "登记卡至少需要一项内容",
                    "a registration card needs at least one field");
    Dualsync__RegistrationCard b = DUALSYNC__REGISTRATION_CARD__INIT;
    b.occupation = (char *)occ;
    b.willingness = (char *)will;
    b.rest_time = (char *)rest;
    set_pending(pe, member, DUALSYNC__EVENT_TYPE__EVENT_REGISTRATION_CARD, &b.base);
    return DS_OK;
}

static int parse_rating(const char *s)
{
    static const char *const names[] = {"excellent", "good", "fair", "poor"};
    for (int i = 0; s && i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i + 1;
    return 0;
}

static const char *rating_name(int r)
{
    static const char *const names[] = {"unspecified", "excellent", "good", "fair", "poor"};
    return r >= 0 && r <= 4 ? names[r] : "unknown";
}

static int cmd_feedback(struct node *n, const Dualsync__CtlCommand *cmd, struct pending_event *pe,
                        struct outcome *o)
{
    const char *member = NULL, *text = "", *year_arg = ctl_arg(cmd, "year");
    Dualsync__MemberRecord *rec = NULL;
    int rating = parse_rating(ctl_arg(cmd, "rating"));
    char *end = NULL;
    unsigned long year = year_arg ? strtoul(year_arg, &end, 10) : 0;
    if (require_side(n, ORG_COMMUNITY, o) || member_arg(cmd, &member, o) ||
        text_arg(cmd, "text", IDS_TEXT_MAX, true, &text, o))
        return o->code;
    if (!year_arg || !*year_arg || *end || year < 1949 || year > 9999)
        return fail(o, DS_EINVAL, "--year 无效", "invalid --year");
    if (!rating)
        return fail(o, DS_EINVAL, "--rating 须为 excellent、good、fair 或 poor(优秀/良好/一般/差)",
                    "--rating must be excellent, good, fair or poor");
    if (own_member(n, member, &rec, o))
        return o->code;
    fold_free(&rec);
    Dualsync__Feedback b = DUALSYNC__FEEDBACK__INIT;
    b.year = (uint32_t)year;
    b.rating = (Dualsync__Rating)rating;
    b.non_participation = ctl_flag(cmd, "non-participation");
    b.text = (char *)text;
    set_pending(pe, member, DUALSYNC__EVENT_TYPE__EVENT_FEEDBACK, &b.base);
    return DS_OK;
}

static int parse_action(const char *s)
{
    static const char *const names[] = {"criticism", "investigation", "no-action"};
    for (int i = 0; s && i < 3; i++)
        if (strcmp(s, names[i]) == 0)
            return i + 1;
    return 0;
}

static const char *action_name(int a)
{
    static const char *const names[] = {"unspecified", "criticism", "investigation", "no-action"};
    return a >= 0 && a <= 3 ? names[a] : "unknown";
}

static bool has_feedback(const Dualsync__MemberRecord *rec, const char *id)
{
    for (size_t i = 0; i < rec->n_feedback; i++)
        if (strcmp(rec->feedback[i]->event_id, id) == 0)
            return true;
    return false;
}

static int cmd_handling(struct node *n, const Dualsync__CtlCommand *cmd, struct pending_event *pe,
                        struct outcome *o)
{
    const char *member = NULL, *text = "", *fid = ctl_arg(cmd, "feedback");
    char origin[IDS_ORG_MAX];
    uint64_t seq = 0;
    int action = parse_action(ctl_arg(cmd, "action"));
    Dualsync__MemberRecord *rec = NULL;
    if (require_side(n, ORG_UNIT, o) || member_arg(cmd, &member, o) ||
        text_arg(cmd, "text", IDS_TEXT_MAX, true, &text, o))
        return o->code;
    if (!action)
        return fail(o, DS_EINVAL, "--action 须为 criticism、investigation 或 no-action",
                    "--action must be criticism, investigation or no-action");
    if (!fid || !ids_event_id_parse(fid, origin, &seq))
        return fail(o, DS_EINVAL, "--feedback 须为反馈函编号,如 community:xx/12",
                    "--feedback must be a feedback event id like community:xx/12");
    if (own_member(n, member, &rec, o))
        return o->code;
    bool found = has_feedback(rec, fid);
    fold_free(&rec);
    if (!found)
        return fail(o, DS_ENOTFOUND, "该成员没有此反馈函",
                    "no such feedback letter for this member");
    Dualsync__HandlingResult b = DUALSYNC__HANDLING_RESULT__INIT;
    b.feedback_origin = origin;
    b.feedback_seq = seq;
    b.action = (Dualsync__HandlingAction)action;
    b.text = (char *)text;
    set_pending(pe, member, DUALSYNC__EVENT_TYPE__EVENT_HANDLING_RESULT, &b.base);
    return DS_OK;
}

/* ---------------------------------------------------------------- read commands */

static json_t *record_json(const Dualsync__MemberRecord *rec)
{
    char hex[2 * KEYS_DIGEST_LEN + 1];
    fold_digest_hex(rec, hex);
    json_t *fb = json_array(), *hd = json_array();
    for (size_t i = 0; i < rec->n_feedback; i++) {
        const Dualsync__FeedbackEntry *f = rec->feedback[i];
        json_array_append_new(fb, json_pack("{s:s,s:i,s:s,s:b,s:s}", "id", f->event_id, "year",
                                            (int)f->year, "rating", rating_name(f->rating),
                                            "non_participation", f->non_participation, "text",
                                            f->text));
    }
    for (size_t i = 0; i < rec->n_handling; i++) {
        const Dualsync__HandlingEntry *h = rec->handling[i];
        json_array_append_new(hd, json_pack("{s:s,s:s,s:s,s:s}", "id", h->event_id, "feedback",
                                            h->feedback_id, "action", action_name(h->action),
                                            "text", h->text));
    }
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:s,s:b,s:s,s:{s:s,s:s,s:s},s:o,s:o,s:i,s:s}",
                     "member", rec->member, "name", rec->name, "unit", rec->unit, "community",
                     rec->community, "intro_date", rec->intro_date, "report_days",
                     (int)rec->report_days, "intro_id", rec->intro_id, "reported", rec->reported,
                     "report_date", rec->report_date, "card", "occupation", rec->occupation,
                     "willingness", rec->willingness, "rest_time", rec->rest_time, "feedback", fb,
                     "handling", hd, "events", (int)rec->events, "digest", hex);
}

static int cmd_member_show(struct node *n, const Dualsync__CtlCommand *cmd, struct outcome *o)
{
    const char *member;
    Dualsync__MemberRecord *rec = NULL;
    if (member_arg(cmd, &member, o) || own_member(n, member, &rec, o))
        return o->code;
    o->result = record_json(rec);
    fold_free(&rec);
    return DS_OK;
}

static int cmd_digest(struct node *n, const Dualsync__CtlCommand *cmd, struct outcome *o)
{
    const char *member;
    Dualsync__MemberRecord *rec = NULL;
    char hex[2 * KEYS_DIGEST_LEN + 1];
    if (member_arg(cmd, &member, o) || own_member(n, member, &rec, o))
        return o->code;
    fold_digest_hex(rec, hex);
    o->result =
        json_pack("{s:s,s:s,s:i}", "member", member, "digest", hex, "events", (int)rec->events);
    fold_free(&rec);
    return DS_OK;
}

struct list_ctx {
    struct node *n;
    json_t *arr;
};

static bool list_member(const Dualsync__MemberRecord *rec, void *arg)
{
    struct list_ctx *c = arg;
    const char *mine = c->n->kind == ORG_UNIT ? rec->unit : rec->community;
    if (strcmp(mine, c->n->cfg.org) != 0)
        return true; /* a member who moved away is no longer shown */
    char hex[2 * KEYS_DIGEST_LEN + 1];
    fold_digest_hex(rec, hex);
    json_array_append_new(c->arr,
                          json_pack("{s:s,s:s,s:s,s:s,s:b,s:b,s:i,s:s}", "member", rec->member,
                                    "name", rec->name, "unit", rec->unit, "community",
                                    rec->community, "reported", rec->reported, "card",
                                    rec->occupation[0] || rec->willingness[0] || rec->rest_time[0],
                                    "feedback", (int)rec->n_feedback, "digest", hex));
    return true;
}

static int cmd_members(struct node *n, struct outcome *o)
{
    struct list_ctx c = {n, json_array()};
    if (eventlog_members_each(n->log, list_member, &c) != DS_OK) {
        json_decref(c.arr);
        return fail(o, DS_EIO, "读取失败", "read failure");
    }
    o->result = c.arr;
    return DS_OK;
}

static int cmd_status(struct node *n, struct outcome *o)
{
    char sid[2 * NODE_STORE_ID_MAX + 1] = "";
    keys_hex(n->store_id, n->store_id_len, sid);
    uint64_t now = node_now_ms();
    const struct node_counters *k = &n->counters;
    struct transport_stats ts = {0};
    if (n->t)
        transport_stats(n->t, &ts);
    o->result = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s,s:s,"
        "s:b,s:I,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I},s:{s:I,s:I,s:I,s:I}}",
        "org", n->cfg.org, "name", n->cfg.name, "kind", ids_kind_name(n->kind), "broker",
        n->cfg.broker, "state", node_state_name(n->state), "connected",
        n->state == NODE_READY || n->state == NODE_BLOCKED, "own_seq", (json_int_t)n->own_seq,
        "acked", (json_int_t)n->acked, "unacked", (json_int_t)(n->own_seq - n->acked),
        "inbox_cursor", (json_int_t)n->inbox_cursor, "inbox_head", (json_int_t)n->inbox_head,
        "pending",
        (json_int_t)(n->inbox_head > n->inbox_cursor ? n->inbox_head - n->inbox_cursor : 0),
        "pong_nonce", (json_int_t)n->pong_nonce, "pong_head", (json_int_t)n->pong_head,
        "last_progress_ms_ago",
        (json_int_t)(n->last_progress_ms ? (int64_t)(now - n->last_progress_ms) : -1), "orgs_known",
        (json_int_t)strmap_count(n->orgs), "last_error", n->last_error, "store_id", sid,
        "restoring", n->restoring, "restore_target", (json_int_t)n->restore_target, "counters",
        "applied", (json_int_t)k->applied, "duplicates", (json_int_t)k->duplicates, "forks",
        (json_int_t)k->forks, "rejected", (json_int_t)k->rejected, "broker_errors",
        (json_int_t)k->broker_errors, "reconnects", (json_int_t)k->reconnects, "sessions",
        (json_int_t)k->sessions, "chaos", "dropped", (json_int_t)ts.chaos_dropped, "duplicated",
        (json_int_t)ts.chaos_duplicated, "reordered", (json_int_t)ts.chaos_reordered, "delayed",
        (json_int_t)ts.chaos_delayed);
    return DS_OK;
}

static bool org_json(const char *key, void *value, void *arg)
{
    (void)key;
    const struct node_org *org = value;
    json_array_append_new(arg, json_pack("{s:s,s:s,s:s}", "org", org->org, "kind",
                                         ids_kind_name(org->kind), "name", org->name));
    return true;
}

/* ---------------------------------------------------------------- dispatch */

typedef int (*write_fn)(struct node *, const Dualsync__CtlCommand *, struct pending_event *,
                        struct outcome *);

static const struct {
    const char *name;
    write_fn fn;
} write_commands[] = {
    {"intro send", cmd_intro},       {"report", cmd_report},          {"card set", cmd_card},
    {"feedback send", cmd_feedback}, {"handling send", cmd_handling},
};

static write_fn find_write(const char *name)
{
    for (size_t i = 0; i < sizeof(write_commands) / sizeof(write_commands[0]); i++)
        if (strcmp(write_commands[i].name, name) == 0)
            return write_commands[i].fn;
    return NULL;
}

/* Validation reads committed state only, so two introductions of one member in one
 * request would both pass; the broker would refuse the second and stall the outbox. */
static bool introduced_earlier(const struct pending_event *pe, size_t i)
{
    if (pe[i].type != DUALSYNC__EVENT_TYPE__EVENT_INTRODUCTION)
        return false;
    for (size_t j = 0; j < i; j++)
        if (pe[j].type == pe[i].type && strcmp(pe[j].member, pe[i].member) == 0)
            return true;
    return false;
}

static void run_writes(struct node *n, const Dualsync__CtlRequest *r, struct outcome *o,
                       uint32_t *failed)
{
    size_t count = r->n_commands;
    struct pending_event *pe = xcalloc(count, sizeof(*pe));
    uint8_t **raws = xcalloc(count, sizeof(*raws));
    size_t *lens = xcalloc(count, sizeof(*lens));
    size_t i;
    for (i = 0; i < count; i++) {
        write_fn fn = find_write(r->commands[i]->cmd);
        if (!fn) {
            fail(o, DS_EINVAL, "批量请求中只能有写命令", "only write commands may be batched");
            break;
        }
        if (require_writable(n, o) || fn(n, r->commands[i], &pe[i], o))
            break;
        if (introduced_earlier(pe, i)) {
            fail(o, DS_EEXIST, "同一批次中对同一成员发出了两份介绍函",
                 "the same member is introduced twice in one batch");
            break;
        }
    }
    if (o->code == DS_OK) {
        json_t *ids = json_array();
        for (i = 0; i < count; i++) {
            char id[IDS_EVENT_ID_MAX];
            node_build_event(n, n->own_seq + 1 + i, pe[i].member, pe[i].type, pe[i].body,
                             pe[i].body_len, &raws[i], &lens[i]);
            ids_event_id(id, sizeof(id), n->cfg.org, n->own_seq + 1 + i);
            json_array_append_new(ids, json_string(id));
        }
        if (node_append(n, raws, lens, count) != DS_OK) {
            json_decref(ids);
            fail(o, DS_EIO, "写入本地日志失败,未作任何更改",
                 "cannot write the local log; nothing changed");
        } else {
            o->result = json_pack("{s:o,s:I}", "events", ids, "own_seq", (json_int_t)n->own_seq);
        }
    } else {
        *failed = (uint32_t)i;
    }
    for (i = 0; i < count; i++) {
        free(pe[i].body);
        free(raws[i]);
    }
    free(pe);
    free(raws);
    free(lens);
}

static void run_read(struct node *n, const Dualsync__CtlCommand *cmd, struct outcome *o)
{
    const char *c = cmd->cmd;
    if (strcmp(c, "status") == 0)
        cmd_status(n, o);
    else if (strcmp(c, "member show") == 0)
        cmd_member_show(n, cmd, o);
    else if (strcmp(c, "members") == 0)
        cmd_members(n, o);
    else if (strcmp(c, "digest") == 0)
        cmd_digest(n, cmd, o);
    else if (strcmp(c, "orgs") == 0) {
        o->result = json_array();
        strmap_each(n->orgs, org_json, o->result);
    } else if (strcmp(c, "restore") == 0) {
        if (sync_restore_start(n) != DS_OK)
            fail(o, DS_EINVAL, "无需恢复:只有状态为 needs-restore 的节点才能恢复",
                 "nothing to restore: only a node in state needs-restore can be restored");
        else
            o->result = json_pack("{s:I,s:I}", "own_seq", (json_int_t)n->own_seq, "target",
                                  (json_int_t)n->restore_target);
    } else if (strcmp(c, "probe") == 0)
        o->result = json_pack("{s:I}", "nonce", (json_int_t)sync_probe(n));
    else
        fail(o, DS_EINVAL, "未知命令", "unknown command");
}

void commands_on_ctl(void *arg, const uint8_t *req, size_t len, uint8_t **reply_out,
                     size_t *reply_len_out)
{
    struct node *n = arg;
    struct outcome o = {0};
    uint32_t failed = 0;
    Dualsync__CtlRequest *r = wire_unpack_ctl_request(req, len);
    if (!r || r->n_commands == 0 || r->n_commands > WIRE_EVENTS_PER_FRAME)
        fail(&o, DS_EPROTO, "无效的控制请求", "invalid control request");
    else if (r->n_commands > 1 || find_write(r->commands[0]->cmd))
        run_writes(n, r, &o, &failed);
    else
        run_read(n, r->commands[0], &o);
    if (o.code != DS_OK) {
        json_decref(o.result);
        ctl_reply_error(o.code, o.zh, o.en, failed, reply_out, reply_len_out);
    } else {
        ctl_reply_ok(o.result, reply_out, reply_len_out);
    }
    wire_msg_free(r);
}
