/* reports: the node's read commands computed from what it holds, for its own org only:
 *   tasks          what is due and overdue (common/duties.c decides; this file only
 *                  gathers the records and org-level events and sorts the result);
 *   annual report  the year's figures of a unit or a community, with a row per member;
 *   journal        a day's letters about this org's members, sent and received, with
 *                  where each stands;
 *   list KIND      org-level letters (activities, teams, groups, liaison, needs, claims,
 *                  offers, meetings) with derived status, public notices visible on a day
 *                  (whitelisted fields only), and opinion requests with their replies.
 * Only open registrations with this org count (unit: rec->unit, community:
 * rec->community): a member who moved away or was released is no longer shown. Every
 * argument is checked here and refused with a bilingual message. Reads never write. */
#include "commands.h"

#include "annual.h"
#include "buf.h"
#include "ctl.h"
#include "duties.h"
#include "err.h"
#include "fields.h"
#include "fold.h"
#include "rules.h"
#include "tasks.h"
#include "xalloc.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T(x) DUALSYNC__EVENT_TYPE__EVENT_##x

static const char *str_or_empty(const char *s)
{
    return s ? s : "";
}

static const char *field_str(json_t *obj, const char *key)
{
    return str_or_empty(json_string_value(json_object_get(obj, key)));
}

/* ---------------------------------------------------------------- arguments */

static int as_of_arg(const Dualsync__CtlCommand *cmd, char out[DUTIES_DATE_LEN], struct outcome *o)
{
    const char *d = ctl_arg(cmd, "as-of");
    if (!d) {
        commands_today(out);
        return DS_OK;
    }
    if (!ids_date_valid(d))
        return fail(o, DS_EINVAL, "--as-of 日期无效:格式为 YYYY-MM-DD,须为真实日期",
                    "invalid --as-of: use YYYY-MM-DD, a real calendar day");
    snprintf(out, DUTIES_DATE_LEN, "%s", d);
    return DS_OK;
}

static int year_arg(const Dualsync__CtlCommand *cmd, uint32_t *year, struct outcome *o)
{
    const char *y = ctl_arg(cmd, "year");
    bool ok = y && strlen(y) == 4;
    for (size_t i = 0; ok && i < 4; i++)
        ok = y[i] >= '0' && y[i] <= '9';
    if (ok)
        *year = (uint32_t)strtoul(y, NULL, 10);
    if (!ok || *year < 1949)
        return fail(o, DS_EINVAL, "--year 无效:须为四位年份(1949–9999)",
                    "invalid --year: a four-digit year (1949-9999)");
    return DS_OK;
}

/* An open registration with this node's org. */
static bool mine(const struct node *n, const Dualsync__MemberRecord *rec)
{
    const char *side = n->kind == ORG_UNIT ? rec->unit : rec->community;
    if (!duties_open(rec) || strcmp(side, n->cfg.org) != 0)
        return false;
    char *refused = node_intro_refused(n, rec); /* the broker gave the member to nobody here */
    free(refused);
    return refused == NULL;
}

static const char *org_name(const struct node *n, const char *org)
{
    if (strcmp(org, n->cfg.org) == 0)
        return n->cfg.name;
    if (strcmp(org, n->cfg.street.org) == 0)
        return n->cfg.street.name;
    const struct node_org *e = node_find_org(n, org);
    return e ? e->name : "";
}

/* One decimal place of 100 * num / den, or null when den is 0. */
static json_t *rate_json(uint64_t num, uint64_t den)
{
    if (den == 0)
        return json_null();
    return json_real((double)((num * 1000u + den / 2u) / den) / 10.0);
}

static bool date_in_year(const char *date, uint32_t year)
{
    char y[8];
    snprintf(y, sizeof(y), "%04u", year);
    return ids_date_valid(date) && strncmp(date, y, 4) == 0;
}

/* ---------------------------------------------------------------- org-level events */

static bool feed_one(const struct event *ev, void *arg)
{
    duties_org_add(arg, ev);
    return true;
}

/* A collector fed with every org-level event that duties and statuses depend on. */
static int org_collect(struct node *n, struct duties_org **out)
{
    static const uint32_t types[] = {T(SERVICE_NEED),      T(SERVICE_CLAIM),   T(CLAIM_DECISION),
                                     T(SERVICE_FULFILLED), T(OPINION_REQUEST), T(OPINION_REPLY)};
    struct duties_org *d = duties_org_new();
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (eventlog_type_events(n->log, types[i], feed_one, d) != DS_OK) {
            duties_org_destroy(&d);
            return DS_EIO;
        }
    *out = d;
    return DS_OK;
}

/* ---------------------------------------------------------------- tasks */

struct tasks_ctx {
    struct node *n;
    const char *as_of;
    struct task_list *tasks;
};

static bool tasks_member(const Dualsync__MemberRecord *rec, void *arg)
{
    struct tasks_ctx *c = arg;
    if (mine(c->n, rec))
        duties_member(rec, c->n->kind, &c->n->cfg.policy, c->as_of, tasks_add, c->tasks);
    return true;
}

/* The node's task list as of as_of: the one it keeps when nothing was committed since
 * (tasks.h), else computed again from every record and org-level letter. */
static int tasks_current(struct node *n, const char *as_of, const struct task_list **out)
{
    uint64_t generation = eventlog_generation(n->log);
    if (!tasks_fresh(n->tasks, as_of, generation)) {
        struct tasks_ctx c = {n, as_of, tasks_new(as_of, generation)};
        struct duties_org *d = NULL;
        if (eventlog_members_each(n->log, tasks_member, &c) != DS_OK ||
            org_collect(n, &d) != DS_OK) {
            tasks_free(&c.tasks);
            return DS_EIO;
        }
        duties_org_each(d, n->kind, n->cfg.org, &n->cfg.policy, as_of, tasks_add, c.tasks);
        duties_org_destroy(&d);
        tasks_sort(c.tasks);
        tasks_free(&n->tasks);
        n->tasks = c.tasks;
    }
    *out = n->tasks;
    n->tasks_used_ms = node_clock_ms(n);
    return DS_OK;
}

void reports_rest(struct node *n, uint64_t now_ms)
{
    bool tasks_idle = n->tasks && now_ms - n->tasks_used_ms >= NODE_TASKS_KEEP_MS;
    bool annual_idle = n->annual && now_ms - n->annual_used_ms >= NODE_TASKS_KEEP_MS;
    if (!tasks_idle && !annual_idle)
        return;
    if (tasks_idle)
        tasks_free(&n->tasks);
    if (annual_idle)
        annual_free(&n->annual);
    store_drop_cache(eventlog_store(n->log)); /* and the blocks the reads of the lists left */
    malloc_trim(0);
}

/* The page asked for: with `limit` (and `offset`), the tasks of one page only (the
 * console shows them 100 at a time); the counts stay those of every task. A limit or
 * offset that is not a number shows everything. */
static void page_args(const Dualsync__CtlCommand *cmd, size_t *first, size_t *limit)
{
    const char *l = ctl_arg(cmd, "limit"), *off = ctl_arg(cmd, "offset");
    char *end = NULL;
    *first = *limit = 0;
    unsigned long long v = l ? strtoull(l, &end, 10) : 0;
    if (!l || !*l || *end || v == 0)
        return;
    *limit = (size_t)v;
    if (off && *off) {
        v = strtoull(off, &end, 10);
        *first = *end ? 0 : (size_t)v;
    }
}

static int cmd_tasks(struct node *n, const Dualsync__CtlCommand *cmd, struct outcome *o)
{
    char as_of[DUTIES_DATE_LEN];
    const struct task_list *l = NULL;
    size_t first, limit;
    if (as_of_arg(cmd, as_of, o))
        return o->code;
    if (tasks_current(n, as_of, &l) != DS_OK)
        return fail(o, DS_EIO, "读取本地日志失败", "cannot read the local log");
    page_args(cmd, &first, &limit);
    struct buf out = BUF_INIT;
    buf_puts(&out, "{\"as_of\":");
    buf_json_str(&out, as_of);
    buf_puts(&out, ",\"org\":");
    buf_json_str(&out, n->cfg.org);
    buf_puts(&out, ",\"kind\":");
    buf_json_str(&out, ids_kind_name(n->kind));
    buf_printf(&out, ",\"count\":%zu,\"overdue\":%zu,\"tasks\":", tasks_count(l), tasks_overdue(l));
    tasks_json_text(l, first, limit, &out);
    buf_puts(&out, "}");
    o->text = buf_take(&out, NULL);
    return DS_OK;
}

/* ---------------------------------------------------------------- annual report */

/* rec's row for year (strings borrowed from rec). */
static void report_row(const struct node *n, uint32_t year, const Dualsync__MemberRecord *rec,
                       struct annual_row *row)
{
    char start[DUTIES_DATE_LEN], end[DUTIES_DATE_LEN];
    snprintf(start, sizeof(start), "%04u-01-01", year);
    snprintf(end, sizeof(end), "%04u-12-31", year);
    struct duties_figures fig;
    duties_participation(rec, start, end, &fig);
    memset(row, 0, sizeof(*row));
    row->member = rec->member;
    row->name = rec->name;
    row->report_date = rec->report_date;
    row->other = n->kind == ORG_UNIT ? rec->community : rec->unit;
    row->group = rec->group;
    row->reported = rec->reported;
    row->card_complete = duties_card_complete(rec);
    row->letters = duties_feedback_count(rec, year);
    row->activities = fig.activities;
    row->minutes = fig.minutes;
    for (size_t i = 0; i < rec->n_feedback; i++) {
        const Dualsync__FeedbackEntry *f = rec->feedback[i];
        if (f->year != year)
            continue;
        row->poor += f->rating == DUALSYNC__RATING__RATING_POOR;
        row->non_participation += f->non_participation;
        if (duties_feedback_flagged(f)) {
            row->flagged++;
            row->handled += duties_handled(rec, f->event_id);
        }
    }
    for (size_t i = 0; i < rec->n_opinions; i++)
        if (date_in_year(rec->opinions[i]->date, year)) {
            row->opinions++;
            row->replied += rec->opinions[i]->reply_id[0] != '\0';
        }
}

/* rec's row put into the kept rows, or removed from them when rec is not ours. */
static void keep_row(struct node *n, const Dualsync__MemberRecord *rec)
{
    if (!mine(n, rec)) {
        annual_remove(n->annual, rec->member);
        return;
    }
    struct annual_row row;
    report_row(n, annual_year(n->annual), rec, &row);
    annual_put(n->annual, &row);
}

static bool keep_member(const Dualsync__MemberRecord *rec, void *arg)
{
    keep_row(arg, rec);
    return true;
}

static int reread_member(const char *member, void *arg)
{
    struct node *n = arg;
    Dualsync__MemberRecord *rec = NULL;
    int rc = eventlog_member(n->log, member, &rec);
    if (rc == DS_ENOTFOUND)
        annual_remove(n->annual, member);
    else if (rc == DS_OK)
        keep_row(n, rec);
    fold_free(&rec);
    return rc == DS_ENOTFOUND ? DS_OK : rc;
}

void reports_member_changed(const char *member, void *arg)
{
    struct node *n = arg;
    if (n->annual)
        annual_touch(n->annual, member);
}

/* The kept rows of year, brought up to date: every record read the first time (or for
 * another year), then only the records changed since. */
static int annual_current(struct node *n, uint32_t year)
{
    if (n->annual && annual_year(n->annual) != year)
        annual_free(&n->annual);
    if (!n->annual)
        n->annual = annual_new(year);
    int rc = DS_OK;
    if (!annual_complete(n->annual)) {
        rc = eventlog_members_each(n->log, keep_member, n);
        if (rc == DS_OK)
            annual_mark_complete(n->annual);
    } else {
        rc = annual_refresh(n->annual, reread_member, n);
    }
    if (rc != DS_OK)
        annual_free(&n->annual); /* read again whole next time */
    n->annual_used_ms = node_clock_ms(n);
    return rc;
}

struct report_ctx {
    struct node *n;
    bool rows; /* write each member's row (not for a summary) */
    uint64_t registered, reported, cards, feedback_members, feedback_letters;
    uint64_t flagged, poor, non_participation, handled, participation_met;
    uint64_t opinions, opinions_replied;
    struct buf members; /* the rows as a JSON array's elements */
};

/* hours as ctl_reply_ok writes a real (CTL_JSON_FLAGS: %.10g, with a point or an
 * exponent), so that the rows written as text read as they did when built as objects */
static void put_hours(struct buf *b, uint64_t minutes)
{
    char v[40];
    double hours = (double)minutes / 60.0;
    snprintf(v, sizeof(v), "%.10g", hours);
    if (strpbrk(v, "eE")) { /* over 10 digits of hours: jansson's own exponent form */
        json_t *r = json_real(hours);
        char *t = json_dumps(r, JSON_ENCODE_ANY | CTL_JSON_FLAGS);
        buf_puts(b, t);
        free(t);
        json_decref(r);
        return;
    }
    buf_puts(b, v);
    if (!strchr(v, '.'))
        buf_puts(b, ".0");
}

static void put_row(const struct report_ctx *c, struct buf *b, const struct annual_row *row,
                    bool met)
{
    const struct node *n = c->n;
    buf_puts(b, b->len ? ",{\"member\":" : "{\"member\":");
    buf_json_str(b, row->member);
    buf_puts(b, ",\"name\":");
    buf_json_str(b, row->name);
    buf_printf(b, ",\"reported\":%s,\"report_date\":", row->reported ? "true" : "false");
    buf_json_str(b, row->report_date);
    buf_printf(b, ",\"feedback\":%u,\"activities\":%u,\"minutes\":%llu,\"hours\":", row->letters,
               row->activities, (unsigned long long)row->minutes);
    put_hours(b, row->minutes);
    buf_printf(b, ",\"meets_minimum\":%s", met ? "true" : "false");
    if (n->kind == ORG_UNIT) {
        buf_puts(b, ",\"community\":");
        buf_json_str(b, row->other);
        buf_puts(b, ",\"community_name\":");
        buf_json_str(b, org_name(n, row->other));
        buf_printf(b, ",\"flagged\":%u,\"handled\":%u}", row->flagged, row->handled);
    } else {
        buf_puts(b, ",\"unit\":");
        buf_json_str(b, row->other);
        buf_puts(b, ",\"unit_name\":");
        buf_json_str(b, org_name(n, row->other));
        buf_printf(b, ",\"card_complete\":%s,\"group\":", row->card_complete ? "true" : "false");
        buf_json_str(b, row->group);
        buf_puts(b, "}");
    }
}

static void report_add(const struct annual_row *row, void *arg)
{
    struct report_ctx *c = arg;
    const struct policy *p = &c->n->cfg.policy;
    bool met = row->activities >= p->min_activities && row->minutes >= (uint64_t)p->min_hours * 60u;
    c->registered++;
    c->reported += row->reported;
    c->cards += row->card_complete;
    c->feedback_members += row->reported && row->letters > 0;
    c->feedback_letters += row->letters;
    c->flagged += row->flagged;
    c->handled += row->handled;
    c->poor += row->poor;
    c->non_participation += row->non_participation;
    c->participation_met += row->reported && met;
    c->opinions += row->opinions;
    c->opinions_replied += row->replied;
    if (c->rows)
        put_row(c, &c->members, row, met);
}

/* Org-level opinion requests of the year: (request, community) pairs the node sees, and how
 * many of them have a reply from that community. */
struct org_opinions {
    struct node *n;
    uint32_t year;
    json_t *replies; /* "request\ncommunity" -> reply event as JSON */
    uint64_t requested, replied;
};

static void reply_key(char *buf, size_t size, const char *request, const char *community)
{
    snprintf(buf, size, "%s\n%s", request, community);
}

static bool collect_reply(const struct event *ev, void *arg)
{
    struct org_opinions *c = arg;
    Dualsync__OpinionReply *b = (Dualsync__OpinionReply *)wire_unpack_body(
        &dualsync__opinion_reply__descriptor, ev->body, ev->body_len);
    if (b && !ev->member[0]) {
        char key[IDS_EVENT_ID_MAX + IDS_ORG_MAX + 2], id[IDS_EVENT_ID_MAX];
        ids_event_id(id, sizeof(id), ev->origin, ev->seq);
        reply_key(key, sizeof(key), b->request, ev->origin);
        json_t *j = fields_json(&b->base);
        json_object_set_new(j, "id", json_string(id));
        json_object_set_new(c->replies, key, j);
    }
    wire_msg_free(b);
    return true;
}

static int org_replies(struct node *n, json_t **out)
{
    struct org_opinions c = {n, 0, json_object(), 0, 0};
    if (eventlog_type_events(n->log, T(OPINION_REPLY), collect_reply, &c) != DS_OK) {
        json_decref(c.replies);
        return DS_EIO;
    }
    *out = c.replies;
    return DS_OK;
}

/* The addressees of an org-level request this node may see: a unit sees every community
 * it asked, a community only itself. */
static bool sees_addressee(const struct node *n, const struct event *ev, const char *to)
{
    return n->kind == ORG_UNIT ? strcmp(ev->origin, n->cfg.org) == 0 : strcmp(to, n->cfg.org) == 0;
}

static bool count_request(const struct event *ev, void *arg)
{
    struct org_opinions *c = arg;
    Dualsync__OpinionRequest *b = (Dualsync__OpinionRequest *)wire_unpack_body(
        &dualsync__opinion_request__descriptor, ev->body, ev->body_len);
    if (b && !ev->member[0] && date_in_year(b->date, c->year)) {
        char id[IDS_EVENT_ID_MAX], key[IDS_EVENT_ID_MAX + IDS_ORG_MAX + 2];
        ids_event_id(id, sizeof(id), ev->origin, ev->seq);
        for (size_t i = 0; i < ev->msg->n_to; i++) {
            if (!sees_addressee(c->n, ev, ev->msg->to[i]))
                continue;
            reply_key(key, sizeof(key), id, ev->msg->to[i]);
            c->requested++;
            c->replied += json_object_get(c->replies, key) != NULL;
        }
    }
    wire_msg_free(b);
    return true;
}

static int cmd_report(struct node *n, const Dualsync__CtlCommand *cmd, struct outcome *o)
{
    uint32_t year = 0;
    if (year_arg(cmd, &year, o))
        return o->code;
    struct org_opinions oo = {n, year, NULL, 0, 0};
    if (annual_current(n, year) != DS_OK || org_replies(n, &oo.replies) != DS_OK ||
        eventlog_type_events(n->log, T(OPINION_REQUEST), count_request, &oo) != DS_OK) {
        json_decref(oo.replies);
        return fail(o, DS_EIO, "读取本地日志失败", "cannot read the local log");
    }
    json_decref(oo.replies);
    struct report_ctx c;
    memset(&c, 0, sizeof(c));
    c.n = n;
    c.rows = ctl_arg(cmd, "summary") == NULL;
    annual_each(n->annual, report_add, &c); /* in member order */
    json_t *r =
        json_pack("{s:s,s:s,s:s,s:I,s:I,s:o,s:I,s:I,s:o,s:I}", "org", n->cfg.org, "name",
                  n->cfg.name, "kind", ids_kind_name(n->kind), "year", (json_int_t)year, "reported",
                  (json_int_t)c.reported, "report_rate", rate_json(c.reported, c.registered),
                  "feedback_members", (json_int_t)c.feedback_members, "feedback_letters",
                  (json_int_t)c.feedback_letters, "feedback_coverage",
                  rate_json(c.feedback_members, c.reported), "flagged", (json_int_t)c.flagged);
    uint64_t opinions = c.opinions + oo.requested, replied = c.opinions_replied + oo.replied;
    if (n->kind == ORG_UNIT) {
        json_object_set_new(r, "introduced", json_integer((json_int_t)c.registered));
        json_object_set_new(r, "feedback_received", json_integer((json_int_t)c.feedback_letters));
        json_object_set_new(r, "poor", json_integer((json_int_t)c.poor));
        json_object_set_new(r, "non_participation", json_integer((json_int_t)c.non_participation));
        json_object_set_new(r, "handling_done", json_integer((json_int_t)c.handled));
        json_object_set_new(r, "opinions_requested", json_integer((json_int_t)opinions));
    } else {
        json_object_set_new(r, "registered", json_integer((json_int_t)c.registered));
        json_object_set_new(r, "cards_complete", json_integer((json_int_t)c.cards));
        json_object_set_new(r, "participation_met", json_integer((json_int_t)c.participation_met));
        json_object_set_new(r, "opinions_received", json_integer((json_int_t)opinions));
    }
    json_object_set_new(r, "opinions_replied", json_integer((json_int_t)replied));
    if (!c.rows) {
        o->result = r;
        return DS_OK;
    }
    /* the summary as jansson writes it, then the rows as text (100,000 of them were as
     * many jansson objects made and freed per call) */
    char *head = json_dumps(r, CTL_JSON_FLAGS); /* as ctl_reply_ok */
    json_decref(r);
    struct buf out = BUF_INIT;
    buf_append(&out, head, strlen(head) - 1); /* without the closing brace */
    free(head);
    buf_puts(&out, ",\"members\":[");
    if (c.members.len)
        buf_append(&out, c.members.p, c.members.len);
    buf_puts(&out, "]}");
    buf_release(&c.members);
    o->text = buf_take(&out, NULL);
    return DS_OK;
}

/* ---------------------------------------------------------------- list */

enum list_shape {
    LIST_ALL,     /* every event, in log order */
    LIST_LATEST,  /* the latest definition per code (groups, teams) */
    LIST_ROSTER,  /* liaison office: joins minus leaves */
    LIST_NOTICES, /* from the records */
    LIST_OPINIONS /* from the records and org-level requests */
};

static const struct list_kind {
    const char *name;
    uint32_t type;
    enum list_shape shape;
} list_kinds[] = {
    {"activities", T(ACTIVITY), LIST_ALL},
    {"teams", T(VOLUNTEER_TEAM), LIST_LATEST},
    {"groups", T(BUILDING_GROUP), LIST_LATEST},
    {"liaison", T(LIAISON_MEMBER), LIST_ROSTER},
    {"needs", T(SERVICE_NEED), LIST_ALL},
    {"claims", T(SERVICE_CLAIM), LIST_ALL},
    {"offers", T(RESOURCE_OFFER), LIST_ALL},
    {"meetings", T(JOINT_MEETING), LIST_ALL},
    {"notices", 0, LIST_NOTICES},
    {"opinions", 0, LIST_OPINIONS},
};

struct list_ctx {
    struct node *n;
    const struct list_kind *kind;
    const char *as_of;
    struct duties_org *org; /* statuses of needs and claims */
    json_t *counts;         /* activity id / team / group -> members (community) */
    json_t *items;          /* LIST_ALL: array; LIST_LATEST, LIST_ROSTER: key -> item */
    json_t *replies;        /* LIST_OPINIONS: org-level replies */
};

static void count_key(json_t *counts, const char *key)
{
    json_t *v = json_object_get(counts, key);
    json_object_set_new(counts, key, json_integer(v ? json_integer_value(v) + 1 : 1));
}

/* How many of this community's registered members each activity, team and group has. */
static bool count_member(const Dualsync__MemberRecord *rec, void *arg)
{
    struct list_ctx *c = arg;
    if (!mine(c->n, rec))
        return true;
    for (size_t i = 0; i < rec->n_attendance; i++)
        count_key(c->counts, rec->attendance[i]->activity);
    for (size_t i = 0; i < rec->n_teams; i++)
        count_key(c->counts, rec->teams[i]);
    if (rec->group[0])
        count_key(c->counts, rec->group);
    return true;
}

static json_t *event_item(struct list_ctx *c, const struct event *ev, ProtobufCMessage *body)
{
    char id[IDS_EVENT_ID_MAX];
    ids_event_id(id, sizeof(id), ev->origin, ev->seq);
    json_t *j = fields_json(body);
    json_object_set_new(j, "id", json_string(id));
    json_object_set_new(j, "origin", json_string(ev->origin));
    json_object_set_new(j, "origin_name", json_string(org_name(c->n, ev->origin)));
    if (ev->msg->n_to) {
        json_t *to = json_array();
        for (size_t i = 0; i < ev->msg->n_to; i++)
            json_array_append_new(to, json_string(ev->msg->to[i]));
        json_object_set_new(j, "to", to);
    }
    const char *status = c->org ? duties_org_status(c->org, id) : "";
    if (status[0])
        json_object_set_new(j, "status", json_string(status));
    const char *key = ev->type == T(ACTIVITY)         ? id
                      : ev->type == T(VOLUNTEER_TEAM) ? fields_get_str(body, "team")
                      : ev->type == T(BUILDING_GROUP) ? fields_get_str(body, "group")
                                                      : NULL;
    if (key && c->counts) {
        json_t *v = json_object_get(c->counts, key);
        json_object_set_new(j, ev->type == T(ACTIVITY) ? "attendance" : "members",
                            json_integer(v ? json_integer_value(v) : 0));
    }
    return j;
}

static bool list_event(const struct event *ev, void *arg)
{
    struct list_ctx *c = arg;
    const struct rule *r = rules_find(ev->type);
    ProtobufCMessage *body = r ? wire_unpack_body(r->body, ev->body, ev->body_len) : NULL;
    if (!body || ev->member[0]) {
        wire_msg_free(body);
        return true;
    }
    json_t *item = event_item(c, ev, body);
    if (c->kind->shape == LIST_ALL) {
        json_array_append_new(c->items, item);
    } else if (c->kind->shape == LIST_LATEST) {
        json_object_set_new(
            c->items, fields_get_str(body, ev->type == T(VOLUNTEER_TEAM) ? "team" : "group"), item);
    } else {
        const Dualsync__LiaisonMember *l = (const Dualsync__LiaisonMember *)body;
        char key[3 * FIELDS_SHORT_MAX];
        snprintf(key, sizeof(key), "%s\n%s\n%s", l->name, l->side, l->org);
        if (l->leave) {
            json_object_del(c->items, key);
            json_decref(item);
        } else {
            json_object_set_new(c->items, key, item);
        }
    }
    wire_msg_free(body);
    return true;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The values of a keyed collection, in key order. Takes obj. */
static json_t *values_by_key(json_t *obj)
{
    size_t n = json_object_size(obj), i = 0;
    const char **keys = xmalloc((n ? n : 1) * sizeof(*keys));
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) keys[i++] = k;
    qsort(keys, n, sizeof(*keys), key_cmp);
    json_t *arr = json_array();
    for (i = 0; i < n; i++)
        json_array_append(arr, json_object_get(obj, keys[i]));
    free(keys);
    json_decref(obj);
    return arr;
}

/* Public notices: only the whitelisted fields, and only while they run. */
static bool list_notices(const Dualsync__MemberRecord *rec, void *arg)
{
    struct list_ctx *c = arg;
    if (!mine(c->n, rec))
        return true;
    for (size_t i = 0; i < rec->n_notices; i++) {
        const Dualsync__NoticeEntry *e = rec->notices[i];
        if (strcmp(e->start, c->as_of) > 0 || strcmp(c->as_of, e->end) > 0)
            continue;
        json_array_append_new(c->items, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "id", e->event_id,
                                                  "title", e->title, "matter", e->matter, "start",
                                                  e->start, "end", e->end, "name", rec->name));
    }
    return true;
}

static const char *opinion_status(const char *reply_id, const char *due, const char *as_of)
{
    if (reply_id && reply_id[0])
        return "replied";
    return due[0] && strcmp(as_of, due) > 0 ? "overdue" : "awaiting";
}

/* The reply due date: the request's due, else its date + opinion_days. */
static void opinion_due(const struct node *n, const char *due, const char *date,
                        char out[DUTIES_DATE_LEN])
{
    if (ids_date_valid(due))
        snprintf(out, DUTIES_DATE_LEN, "%s", due);
    else if (duties_date_add(date, (int32_t)n->cfg.policy.opinion_days, out) != DS_OK)
        out[0] = '\0';
}

static json_t *opinion_item(const char *scope, const char *id, const char *member, const char *name,
                            const char *unit, const char *community, int kind, const char *subject,
                            const char *date, const char *due, const char *status)
{
    char k[64];
    fields_enum_name(&dualsync__opinion_kind__descriptor, kind, k);
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "scope", scope, "id", id,
                     "member", member, "name", name, "unit", unit, "community", community, "kind",
                     k, "subject", subject, "date", date, "due", due, "status", status);
}

static void set_reply(json_t *item, const char *id, const char *verdict, const char *text,
                      const char *date)
{
    json_object_set_new(item, "reply_id", json_string(id));
    json_object_set_new(item, "verdict", json_string(verdict));
    json_object_set_new(item, "reply_text", json_string(text));
    json_object_set_new(item, "reply_date", json_string(date));
}

static bool list_member_opinions(const Dualsync__MemberRecord *rec, void *arg)
{
    struct list_ctx *c = arg;
    if (!mine(c->n, rec))
        return true;
    for (size_t i = 0; i < rec->n_opinions; i++) {
        const Dualsync__OpinionEntry *e = rec->opinions[i];
        char due[DUTIES_DATE_LEN], verdict[64];
        opinion_due(c->n, e->due, e->date, due);
        json_t *item = opinion_item("member", e->event_id, rec->member, rec->name, rec->unit,
                                    rec->community, (int)e->kind, e->subject, e->date, due,
                                    opinion_status(e->reply_id, due, c->as_of));
        fields_enum_name(&dualsync__opinion_verdict__descriptor, (int)e->verdict, verdict);
        set_reply(item, e->reply_id, verdict, e->reply_text, e->reply_date);
        json_array_append_new(c->items, item);
    }
    return true;
}

static bool list_org_opinion(const struct event *ev, void *arg)
{
    struct list_ctx *c = arg;
    Dualsync__OpinionRequest *b = (Dualsync__OpinionRequest *)wire_unpack_body(
        &dualsync__opinion_request__descriptor, ev->body, ev->body_len);
    char id[IDS_EVENT_ID_MAX], due[DUTIES_DATE_LEN], key[IDS_EVENT_ID_MAX + IDS_ORG_MAX + 2];
    ids_event_id(id, sizeof(id), ev->origin, ev->seq);
    for (size_t i = 0; b && !ev->member[0] && i < ev->msg->n_to; i++) {
        const char *to = ev->msg->to[i];
        if (!sees_addressee(c->n, ev, to))
            continue;
        reply_key(key, sizeof(key), id, to);
        json_t *reply = json_object_get(c->replies, key);
        const char *reply_id = field_str(reply, "id");
        opinion_due(c->n, b->due, b->date, due);
        json_t *item = opinion_item("org", id, "", "", ev->origin, to, (int)b->kind, b->subject,
                                    b->date, due, opinion_status(reply_id, due, c->as_of));
        set_reply(item, reply_id, field_str(reply, "verdict"), field_str(reply, "text"),
                  field_str(reply, "date"));
        json_array_append_new(c->items, item);
    }
    wire_msg_free(b);
    return true;
}

static int list_valid_kinds(struct outcome *o)
{
    return fail(o, DS_EINVAL,
                "未知的列表种类:须为 activities teams groups liaison needs claims offers meetings "
                "notices opinions 之一",
                "unknown list kind: one of activities teams groups liaison needs claims offers "
                "meetings notices opinions");
}

static int list_run(struct list_ctx *c)
{
    struct node *n = c->n;
    switch (c->kind->shape) {
    case LIST_NOTICES:
        return eventlog_members_each(n->log, list_notices, c);
    case LIST_OPINIONS: {
        int rc = org_replies(n, &c->replies);
        if (rc == DS_OK)
            rc = eventlog_members_each(n->log, list_member_opinions, c);
        if (rc == DS_OK)
            rc = eventlog_type_events(n->log, T(OPINION_REQUEST), list_org_opinion, c);
        return rc;
    }
    default:
        break;
    }
    int rc = DS_OK;
    if (c->kind->type == T(SERVICE_NEED) || c->kind->type == T(SERVICE_CLAIM))
        rc = org_collect(n, &c->org);
    if (rc == DS_OK && n->kind == ORG_COMMUNITY &&
        (c->kind->type == T(ACTIVITY) || c->kind->shape == LIST_LATEST)) {
        c->counts = json_object();
        rc = eventlog_members_each(n->log, count_member, c);
    }
    if (rc == DS_OK)
        rc = eventlog_type_events(n->log, c->kind->type, list_event, c);
    return rc;
}

static int cmd_list(struct node *n, const Dualsync__CtlCommand *cmd, struct outcome *o)
{
    char as_of[DUTIES_DATE_LEN];
    const char *name = ctl_arg(cmd, "kind");
    const struct list_kind *kind = NULL;
    for (size_t i = 0; name && i < sizeof(list_kinds) / sizeof(list_kinds[0]); i++)
        if (strcmp(list_kinds[i].name, name) == 0)
            kind = &list_kinds[i];
    if (!kind)
        return list_valid_kinds(o);
    if (as_of_arg(cmd, as_of, o))
        return o->code;
    struct list_ctx c = {n, kind, as_of, NULL, NULL, NULL, NULL};
    bool keyed = kind->shape == LIST_LATEST || kind->shape == LIST_ROSTER;
    c.items = keyed ? json_object() : json_array();
    int rc = list_run(&c);
    duties_org_destroy(&c.org);
    json_decref(c.counts);
    json_decref(c.replies);
    if (rc != DS_OK) {
        json_decref(c.items);
        return fail(o, DS_EIO, "读取本地日志失败", "cannot read the local log");
    }
    json_t *items = keyed ? values_by_key(c.items) : c.items;
    o->result = json_pack("{s:s,s:s,s:s,s:I,s:o}", "kind", kind->name, "org", n->cfg.org, "as_of",
                          as_of, "count", (json_int_t)json_array_size(items), "items", items);
    return DS_OK;
}

/* ---------------------------------------------------------------- dispatch */

/* ---------------------------------------------------------------- journal */

/* A day's letters: every letter about this org's members (open or closed registrations)
 * dated that day, sent or received, with where each stands. A letter's day is the date it
 * carries, or the day it was written (its clock) when it carries none. */
struct journal_ctx {
    struct node *n;
    const char *day;
    const Dualsync__MemberRecord *rec;
    json_t *letters;
};

static const char *sent_state(const struct node *n, uint64_t seq, const char *other)
{
    const uint64_t *receipt = other ? strmap_get(n->receipts, other) : NULL;
    if (receipt && seq <= *receipt)
        return "applied";
    return seq <= sync_view(n).acked ? "at-street" : "written";
}

static bool journal_event(const struct event *ev, void *arg)
{
    struct journal_ctx *c = arg;
    const struct rule *r = rules_find(ev->type);
    char day[DUTIES_DATE_LEN] = "", id[IDS_EVENT_ID_MAX];
    ProtobufCMessage *body = r ? wire_unpack_body(r->body, ev->body, ev->body_len) : NULL;
    const ProtobufCFieldDescriptor *f =
        body ? protobuf_c_message_descriptor_get_field_by_name(body->descriptor, "date") : NULL;
    if (f && fields_get_str(body, "date")[0])
        snprintf(day, sizeof(day), "%s", fields_get_str(body, "date"));
    else
        duties_date_from_hlc(ev->hlc, day);
    fields_free(body);
    if (strcmp(day, c->day) != 0)
        return true;
    bool sent = strcmp(ev->origin, c->n->cfg.org) == 0;
    const char *other = c->n->kind == ORG_UNIT ? c->rec->community : c->rec->unit;
    ids_event_id(id, sizeof(id), ev->origin, ev->seq);
    json_array_append_new(c->letters,
                          json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "id", id, "direction",
                                    sent ? "sent" : "received", "type", rules_type_name(ev->type),
                                    "member", c->rec->member, "name", c->rec->name, "state",
                                    sent ? sent_state(c->n, ev->seq, other) : "received", "hlc",
                                    (json_int_t)ev->hlc));
    return true;
}

static bool journal_member(const Dualsync__MemberRecord *rec, void *arg)
{
    struct journal_ctx *c = arg;
    const char *mine = c->n->kind == ORG_UNIT ? rec->unit : rec->community;
    if (strcmp(mine, c->n->cfg.org) != 0)
        return true;
    c->rec = rec;
    eventlog_member_events(c->n->log, rec->member, journal_event, c);
    return true;
}

static int by_hlc(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "hlc"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "hlc"));
    return (x > y) - (x < y);
}

static int cmd_journal(struct node *n, const Dualsync__CtlCommand *cmd, struct outcome *o)
{
    char day[DUTIES_DATE_LEN];
    const char *d = ctl_arg(cmd, "date");
    if (!d)
        commands_today(day);
    else if (!ids_date_valid(d))
        return fail(o, DS_EINVAL, "--date 日期无效:格式为 YYYY-MM-DD 或 YYYY/M/D",
                    "invalid --date: use YYYY-MM-DD or YYYY/M/D");
    else
        snprintf(day, sizeof(day), "%s", d);
    struct journal_ctx c = {n, day, NULL, json_array()};
    if (eventlog_members_each(n->log, journal_member, &c) != DS_OK) {
        json_decref(c.letters);
        return fail(o, DS_EIO, "读取失败", "read failure");
    }
    size_t count = json_array_size(c.letters);
    json_t **items = xcalloc(count + 1, sizeof(*items));
    for (size_t i = 0; i < count; i++)
        items[i] = json_incref(json_array_get(c.letters, i));
    qsort(items, count, sizeof(*items), by_hlc);
    json_t *sorted = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(sorted, items[i]);
    free(items);
    json_decref(c.letters);
    o->result = json_pack("{s:s,s:s,s:o}", "org", n->cfg.org, "date", day, "letters", sorted);
    return DS_OK;
}

bool reports_run(struct node *n, const Dualsync__CtlCommand *cmd, struct outcome *o)
{
    if (strcmp(cmd->cmd, "tasks") == 0)
        cmd_tasks(n, cmd, o);
    else if (strcmp(cmd->cmd, "annual report") == 0)
        cmd_report(n, cmd, o);
    else if (strcmp(cmd->cmd, "list") == 0)
        cmd_list(n, cmd, o);
    else if (strcmp(cmd->cmd, "journal") == 0)
        cmd_journal(n, cmd, o);
    else
        return false;
    return true;
}
