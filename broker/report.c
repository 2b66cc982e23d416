/* report: the joint meeting's supervision (DESIGN section 7) and its records.
 *   report    per unit and per community: open registrations, reported, report rate (flagged
 *             below policy.report_rate_min), feedback coverage of a year, overdue items by
 *             kind, and totals. The broker folds every member of its street, so it asks
 *             common/duties.c the same questions the nodes ask, as the street (which sees
 *             every kind), and counts the answers.
 *   meeting add / meetings   the street's own joint meeting records, signed with its keys
 *             and delivered to the attendee orgs only (directory_author).
 * The street sees counts, not names (DESIGN section 9): nothing in the report carries a
 * member id, a member's name or a description written about a member; only org ids, org
 * names and numbers leave this file. */
#include "report.h"

#include "broker.h"
#include "directory.h"
#include "links.h"
#include "protocol.h"
#include "routing.h"

#include "ctl.h"
#include "duties.h"
#include "err.h"
#include "fields.h"
#include "lang.h"
#include "log.h"
#include "sheet.h"
#include "store.h"
#include "wire.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define T(x) DUALSYNC__EVENT_TYPE__EVENT_##x

/* The kinds that can be overdue: the report's columns, in this order. */
static const enum duty_kind overdue_kinds[] = {
    DUTY_REPORT_IN,   DUTY_FEEDBACK,          DUTY_HANDLING,   DUTY_OPINION_REPLY,
    DUTY_NOTICE_POST, DUTY_NOTICE_OBJECTIONS, DUTY_DIFFICULTY, DUTY_CLAIM_DECISION,
};
#define N_OVERDUE (sizeof(overdue_kinds) / sizeof(overdue_kinds[0]))

struct org_row {
    char org[IDS_ORG_MAX];
    enum org_kind kind;
    uint64_t registrations, reported, feedback_members;
    uint64_t report_due; /* registrations whose report-in is due (duties_report_in_due) */
    uint64_t overdue[DUTY_KIND_COUNT];
};

struct street_ctx {
    struct broker *b;
    uint32_t year;
    const char *as_of;
    struct strmap *rows; /* org id -> struct org_row * */
    struct org_row totals;
    const Dualsync__MemberRecord *rec; /* the record being counted */
};

static void today(char out[DUTIES_DATE_LEN])
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(out, DUTIES_DATE_LEN, "%Y-%m-%d", &tm);
}

static struct org_row *row_of(struct street_ctx *c, const char *org)
{
    struct org_row *r = strmap_get(c->rows, org);
    if (!r) {
        r = xcalloc(1, sizeof(*r));
        snprintf(r->org, sizeof(r->org), "%s", org);
        r->kind = ids_org_kind(org);
        strmap_put(c->rows, org, r);
    }
    return r;
}

static bool directory_row(const struct org_entry *e, void *arg)
{
    /* a removed org has no row, nor has another street's (its own street reports it) */
    if ((e->kind == ORG_UNIT || e->kind == ORG_COMMUNITY) && !e->street[0] &&
        e->state != DUALSYNC__ORG_STATE__ORG_STATE_REMOVED)
        row_of(arg, e->org);
    return true;
}

static void count_duty(const struct duty *d, void *arg)
{
    struct street_ctx *c = arg;
    if (!d->overdue)
        return;
    c->totals.overdue[d->kind]++;
    if (d->kind == DUTY_REPORT_IN && c->rec) {
        /* the member reports to the community; the unit answers for its member too */
        row_of(c, c->rec->unit)->overdue[d->kind]++;
        row_of(c, c->rec->community)->overdue[d->kind]++;
    } else if (d->org && d->org[0]) {
        row_of(c, d->org)->overdue[d->kind]++;
    }
}

static bool count_member(const Dualsync__MemberRecord *rec, void *arg)
{
    struct street_ctx *c = arg;
    if (!duties_open(rec))
        return true;
    struct org_row *rows[3] = {row_of(c, rec->unit), row_of(c, rec->community), &c->totals};
    bool covered = rec->reported && duties_feedback_count(rec, c->year) > 0;
    bool due = duties_report_in_due(rec, c->as_of);
    for (size_t i = 0; i < 3; i++) {
        rows[i]->registrations++;
        rows[i]->report_due += due;
        rows[i]->reported += rec->reported;
        rows[i]->feedback_members += covered;
    }
    c->rec = rec;
    duties_member(rec, ORG_STREET, &broker_config(c->b)->policy, c->as_of, count_duty, c);
    c->rec = NULL;
    return true;
}

static bool feed_org(const struct event *ev, void *arg)
{
    duties_org_add(arg, ev);
    return true;
}

static int count_org_events(struct street_ctx *c)
{
    static const uint32_t types[] = {T(SERVICE_NEED),      T(SERVICE_CLAIM),   T(CLAIM_DECISION),
                                     T(SERVICE_FULFILLED), T(OPINION_REQUEST), T(OPINION_REPLY)};
    struct duties_org *d = duties_org_new();
    int rc = DS_OK;
    for (size_t i = 0; rc == DS_OK && i < sizeof(types) / sizeof(types[0]); i++)
        rc = eventlog_type_events(broker_log(c->b), types[i], feed_org, d);
    if (rc == DS_OK)
        rc = duties_org_each(d, ORG_STREET, NULL, &broker_config(c->b)->policy, c->as_of,
                             count_duty, c);
    duties_org_destroy(&d);
    return rc;
}

/* One decimal place of 100 * num / den, or null when den is 0. */
static json_t *rate_json(uint64_t num, uint64_t den)
{
    if (den == 0)
        return json_null();
    return json_real((double)((num * 1000u + den / 2u) / den) / 10.0);
}

/* Flagged only over the report-ins that are due: on the day a unit introduces its members
 * nobody has reported yet, and nobody should have. */
static bool below_min(const struct org_row *r, uint32_t min)
{
    return r->report_due > 0 && r->reported * 100u < (uint64_t)min * r->report_due;
}

static json_t *row_json(const struct broker *b, const struct org_row *r, bool with_org)
{
    json_t *overdue = json_object();
    uint64_t total = 0;
    for (size_t i = 0; i < N_OVERDUE; i++) {
        uint64_t n = r->overdue[overdue_kinds[i]];
        json_object_set_new(overdue, duties_kind_name(overdue_kinds[i]),
                            json_integer((json_int_t)n));
        total += n;
    }
    json_t *j = json_pack("{s:I,s:I,s:o,s:b,s:I,s:o,s:o,s:I}", "registrations",
                          (json_int_t)r->registrations, "reported", (json_int_t)r->reported,
                          "report_rate", rate_json(r->reported, r->registrations), "below_min",
                          below_min(r, broker_config(b)->policy.report_rate_min),
                          "feedback_members", (json_int_t)r->feedback_members, "feedback_coverage",
                          rate_json(r->feedback_members, r->reported), "overdue", overdue,
                          "overdue_total", (json_int_t)total);
    json_object_set_new(j, "report_due", json_integer((json_int_t)r->report_due));
    json_object_set_new(j, "due_report_rate", rate_json(r->reported, r->report_due));
    if (with_org) {
        const struct org_entry *e = directory_find(b, r->org);
        json_object_set_new(j, "org", json_string(r->org));
        json_object_set_new(j, "name", json_string(e ? e->name : ""));
    }
    return j;
}

static int row_cmp(const void *a, const void *b)
{
    return strcmp((*(struct org_row *const *)a)->org, (*(struct org_row *const *)b)->org);
}

struct gather {
    struct org_row **rows;
    size_t n;
};

static bool gather_row(const char *org, void *value, void *arg)
{
    (void)org;
    struct gather *g = arg;
    g->rows[g->n++] = value;
    return true;
}

/* A row of this street's own: a unit or community, and not another street's (a record of
 * a member crossing streets names one; its own street reports it). */
static bool own_row(const struct broker *b, const struct org_row *r)
{
    const struct org_entry *e = directory_find(b, r->org);
    return (r->kind == ORG_UNIT || r->kind == ORG_COMMUNITY) && !(e && e->street[0]);
}

static json_t *street_json(struct street_ctx *c)
{
    struct broker *b = c->b;
    struct gather g = {xcalloc(strmap_count(c->rows) + 1, sizeof(struct org_row *)), 0};
    strmap_each(c->rows, gather_row, &g);
    qsort(g.rows, g.n, sizeof(*g.rows), row_cmp);
    json_t *units = json_array(), *communities = json_array();
    uint64_t flagged = 0;
    for (size_t i = 0; i < g.n; i++) {
        if (!own_row(b, g.rows[i]))
            continue;
        flagged += below_min(g.rows[i], broker_config(b)->policy.report_rate_min);
        json_array_append_new(g.rows[i]->kind == ORG_UNIT ? units : communities,
                              row_json(b, g.rows[i], true));
    }
    free(g.rows);
    json_t *totals = row_json(b, &c->totals, false);
    json_object_set_new(totals, "orgs_below_min", json_integer((json_int_t)flagged));
    json_object_set_new(totals, "units", json_integer((json_int_t)json_array_size(units)));
    json_object_set_new(totals, "communities",
                        json_integer((json_int_t)json_array_size(communities)));
    uint64_t out = 0, in = 0;
    links_crossed(b, &out, &in);
    json_object_set_new(totals, "letters_to_other_streets", json_integer((json_int_t)out));
    json_object_set_new(totals, "letters_from_other_streets", json_integer((json_int_t)in));
    return json_pack("{s:s,s:s,s:I,s:s,s:I,s:o,s:o,s:o}", "street", broker_config(b)->street,
                     "name", broker_config(b)->name, "year", (json_int_t)c->year, "as_of", c->as_of,
                     "report_rate_min", (json_int_t)broker_config(b)->policy.report_rate_min,
                     "units", units, "communities", communities, "totals", totals);
}

/* Counts the street: a row per org it reports, and the totals. DS_OK, DS_EIO. */
static int street_count(struct street_ctx *c)
{
    c->rows = strmap_new();
    directory_each(c->b, directory_row, c);
    int rc = eventlog_members_each(broker_log(c->b), count_member, c);
    if (rc == DS_OK)
        rc = count_org_events(c);
    return rc;
}

static bool year_valid(const char *y, uint32_t *year)
{
    bool ok = y && strlen(y) == 4;
    for (size_t i = 0; ok && i < 4; i++)
        ok = y[i] >= '0' && y[i] <= '9';
    if (ok)
        *year = (uint32_t)strtoul(y, NULL, 10);
    return ok && *year >= 1949;
}

/* ---------------------------------------------------------------- the city */

/* Sums the street's own rows into f (StreetFigures): units and communities; the
 * registrations with their report-ins and feedback by community (each has one); each kind
 * of overdue item by the org that must act, a report-in by the community. */
struct figures_sum {
    const struct broker *b;
    Dualsync__StreetFigures *f;
    uint64_t overdue[DUTY_KIND_COUNT];
};

static bool sum_row(const char *org, void *value, void *arg)
{
    (void)org;
    struct figures_sum *s = arg;
    const struct org_row *r = value;
    if (!own_row(s->b, r))
        return true;
    if (r->kind == ORG_UNIT) {
        s->f->units++;
    } else {
        s->f->communities++;
        s->f->registrations += r->registrations;
        s->f->reported += r->reported;
        s->f->report_due += r->report_due;
        s->f->feedback_members += r->feedback_members;
        s->overdue[DUTY_REPORT_IN] += r->overdue[DUTY_REPORT_IN];
    }
    for (size_t k = 0; k < DUTY_KIND_COUNT; k++)
        if (k != DUTY_REPORT_IN)
            s->overdue[k] += r->overdue[k];
    s->f->orgs_below_min += below_min(r, broker_config(s->b)->policy.report_rate_min);
    return true;
}

int report_figures_frame(struct broker *b, uint8_t **out, size_t *len)
{
    char as_of[DUTIES_DATE_LEN];
    struct street_ctx c;
    memset(&c, 0, sizeof(c));
    c.b = b;
    today(as_of);
    c.as_of = as_of;
    c.year = (uint32_t)strtoul(as_of, NULL, 10);
    int rc = street_count(&c);
    if (rc == DS_OK) {
        Dualsync__StreetFigures f = DUALSYNC__STREET_FIGURES__INIT;
        Dualsync__OverdueCount counts[N_OVERDUE], *each[N_OVERDUE];
        struct figures_sum s = {b, &f, {0}};
        f.street = (char *)broker_config(b)->street;
        f.name = (char *)broker_config(b)->name;
        f.year = c.year;
        f.as_of = as_of;
        strmap_each(c.rows, sum_row, &s);
        for (size_t i = 0; i < N_OVERDUE; i++) {
            dualsync__overdue_count__init(&counts[i]);
            counts[i].kind = (char *)duties_kind_name(overdue_kinds[i]);
            counts[i].count = s.overdue[overdue_kinds[i]];
            each[i] = &counts[i];
        }
        f.overdue = each;
        f.n_overdue = N_OVERDUE;
        links_crossed(b, &f.letters_out, &f.letters_in);
        Dualsync__Frame fr = DUALSYNC__FRAME__INIT;
        fr.kind_case = DUALSYNC__FRAME__KIND_FIGURES;
        fr.figures = &f;
        wire_pack(&fr.base, out, len);
    }
    strmap_destroy(&c.rows, free);
    return rc;
}

static void figures_key(struct skey *k, const char *street)
{
    skey_init(k);
    skey_str(k, "figures");
    if (street)
        skey_str(k, street);
}

/* Why f cannot be a street's figures, or NULL. */
static const char *figures_problem(const char *street, const Dualsync__StreetFigures *f)
{
    uint32_t year = 0;
    char y[8];
    snprintf(y, sizeof(y), "%u", f->year);
    if (!f->street || strcmp(f->street, street) != 0)
        return "figures of another street than the link's";
    if (!f->name || !ids_text_valid(f->name, IDS_NAME_MAX, false) || !f->as_of ||
        !ids_date_valid(f->as_of) || !year_valid(y, &year))
        return "a name, a date or a year that is not valid";
    if (f->reported > f->registrations || f->report_due > f->registrations ||
        f->feedback_members > f->reported || f->n_overdue > 4 * N_OVERDUE)
        return "counts that do not add up";
    return NULL;
}

int report_figures_take(struct broker *b, const char *street, const Dualsync__StreetFigures *f,
                        const char **why)
{
    *why = figures_problem(street, f);
    if (*why) {
        log_warn("report: street=%s figures refused: %s", street, *why);
        return DS_EINVAL;
    }
    uint8_t *packed = NULL;
    size_t len = 0;
    wire_pack(&f->base, &packed, &len);
    uint8_t *val = xmalloc(len + 8);
    store_put_u64be(val, broker_now_ms(b));
    memcpy(val + 8, packed, len);
    struct skey k;
    figures_key(&k, street);
    struct eventlog_txn *txn = eventlog_begin(broker_log(b));
    store_batch_put(eventlog_txn_batch(txn), CF_META, &k, val, len + 8);
    int rc = eventlog_commit(&txn);
    free(val);
    free(packed);
    if (rc != DS_OK)
        log_error("report: street=%s figures not stored", street);
    return rc;
}

struct city_ctx {
    struct broker *b;
    json_t *streets;
    struct org_row totals;
    uint64_t units, communities, below, out, in;
};

static uint64_t overdue_of(const Dualsync__StreetFigures *f, enum duty_kind kind)
{
    for (size_t i = 0; i < f->n_overdue; i++)
        if (strcmp(f->overdue[i]->kind, duties_kind_name(kind)) == 0)
            return f->overdue[i]->count;
    return 0; /* a kind the street does not count (yet) */
}

/* One street's stored figures: a row like a report's, and into the totals. */
static void city_row(struct city_ctx *c, uint64_t received_ms, const Dualsync__StreetFigures *f)
{
    struct org_row r;
    memset(&r, 0, sizeof(r));
    r.registrations = f->registrations;
    r.reported = f->reported;
    r.report_due = f->report_due;
    r.feedback_members = f->feedback_members;
    for (size_t i = 0; i < N_OVERDUE; i++) {
        r.overdue[overdue_kinds[i]] = overdue_of(f, overdue_kinds[i]);
        c->totals.overdue[overdue_kinds[i]] += r.overdue[overdue_kinds[i]];
    }
    c->totals.registrations += r.registrations;
    c->totals.reported += r.reported;
    c->totals.report_due += r.report_due;
    c->totals.feedback_members += r.feedback_members;
    c->units += f->units;
    c->communities += f->communities;
    c->below += f->orgs_below_min;
    c->out += f->letters_out;
    c->in += f->letters_in;
    json_t *j = row_json(c->b, &r, false);
    uint64_t now = broker_now_ms(c->b);
    const struct peer *p = protocol_peer(c->b, f->street);
    json_object_set_new(j, "below_min", json_boolean(f->orgs_below_min > 0));
    json_object_set_new(j, "org", json_string(f->street));
    json_object_set_new(j, "name", json_string(f->name));
    json_object_set_new(j, "year", json_integer(f->year));
    json_object_set_new(j, "as_of", json_string(f->as_of));
    json_object_set_new(j, "received_ms_ago",
                        json_integer((json_int_t)(now > received_ms ? now - received_ms : 0)));
    json_object_set_new(j, "connected", json_boolean(p && p->welcomed));
    json_object_set_new(j, "units", json_integer((json_int_t)f->units));
    json_object_set_new(j, "communities", json_integer((json_int_t)f->communities));
    json_object_set_new(j, "orgs_below_min", json_integer((json_int_t)f->orgs_below_min));
    json_object_set_new(j, "letters_to_other_streets", json_integer((json_int_t)f->letters_out));
    json_object_set_new(j, "letters_from_other_streets", json_integer((json_int_t)f->letters_in));
    json_array_append_new(c->streets, j);
}

static int city_rows(struct city_ctx *c)
{
    struct skey prefix;
    figures_key(&prefix, NULL);
    struct store_iter *it =
        store_iter_new(eventlog_store(broker_log(c->b)), CF_META, &prefix, NULL);
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t vlen = 0;
        const uint8_t *v = store_iter_value(it, &vlen);
        Dualsync__StreetFigures *f = vlen > 8 ? wire_unpack_street_figures(v + 8, vlen - 8) : NULL;
        if (!f) {
            log_error("report: damaged street figures skipped");
            continue;
        }
        city_row(c, store_get_u64be(v), f);
        wire_msg_free(f);
    }
    int rc = store_iter_status(it);
    store_iter_destroy(&it);
    return rc;
}

/* The linked streets that sent no figures yet. */
static json_t *missing_streets(const struct broker *b, json_t *rows)
{
    json_t *linked = links_streets(b), *missing = json_array(), *s, *r;
    size_t i, k;
    json_array_foreach(linked, i, s)
    {
        bool found = false;
        json_array_foreach(rows, k, r) found |= json_equal(json_object_get(r, "org"), s) != 0;
        if (!found)
            json_array_append(missing, s);
    }
    json_decref(linked);
    return missing;
}

static void city_reply(struct broker *b, uint8_t **out, size_t *len)
{
    if (!broker_config(b)->hub) {
        ctl_reply_error(DS_EINVAL,
                        "只有中转 broker(hub)汇总全市:各街道把统计数字报送给与之连接的 hub",
                        "only a hub sums the city: the streets send their figures to the hubs they "
                        "link with",
                        0, out, len);
        return;
    }
    struct city_ctx c;
    memset(&c, 0, sizeof(c));
    c.b = b;
    c.streets = json_array();
    if (city_rows(&c) != DS_OK) {
        json_decref(c.streets);
        ctl_reply_error(DS_EIO, "读取失败", "read failure", 0, out, len);
        return;
    }
    json_t *totals = row_json(b, &c.totals, false);
    json_object_set_new(totals, "below_min", json_false());
    json_object_set_new(totals, "streets", json_integer((json_int_t)json_array_size(c.streets)));
    json_object_set_new(totals, "units", json_integer((json_int_t)c.units));
    json_object_set_new(totals, "communities", json_integer((json_int_t)c.communities));
    json_object_set_new(totals, "orgs_below_min", json_integer((json_int_t)c.below));
    json_object_set_new(totals, "letters_to_other_streets", json_integer((json_int_t)c.out));
    json_object_set_new(totals, "letters_from_other_streets", json_integer((json_int_t)c.in));
    json_t *missing = missing_streets(b, c.streets);
    ctl_reply_ok(json_pack("{s:s,s:s,s:o,s:o,s:o}", "city", broker_config(b)->street, "name",
                           broker_config(b)->name, "streets", c.streets, "totals", totals,
                           "not_reported", missing),
                 out, len);
}

void report_street_reply(struct broker *b, const Dualsync__CtlCommand *cmd, uint8_t **out,
                         size_t *len)
{
    char as_of[DUTIES_DATE_LEN];
    const char *given = ctl_arg(cmd, "as-of");
    struct street_ctx c;
    memset(&c, 0, sizeof(c));
    c.b = b;
    if (ctl_arg(cmd, "city")) {
        city_reply(b, out, len);
        return;
    }
    if (broker_config(b)->hub) {
        ctl_reply_error(DS_EINVAL, "中转 broker(hub)没有自己的组织:请用 report --city 查看全市汇总",
                        "a hub has no orgs of its own: report --city gives the city's figures", 0,
                        out, len);
        return;
    }
    if (!ctl_arg(cmd, "year")) {
        ctl_reply_error(DS_EINVAL, "须用 --year 指明年份(hub 上用 --city 看全市汇总)",
                        "--year is needed (on a hub, --city gives the city's figures)", 0, out,
                        len);
        return;
    }
    if (!year_valid(ctl_arg(cmd, "year"), &c.year)) {
        ctl_reply_error(DS_EINVAL, "--year 无效:须为四位年份(1949–9999)",
                        "invalid --year: a four-digit year (1949-9999)", 0, out, len);
        return;
    }
    if (given && !ids_date_valid(given)) {
        ctl_reply_error(DS_EINVAL, "--as-of 日期无效:格式为 YYYY-MM-DD,须为真实日期",
                        "invalid --as-of: use YYYY-MM-DD, a real calendar day", 0, out, len);
        return;
    }
    if (given)
        snprintf(as_of, sizeof(as_of), "%s", given);
    else
        today(as_of);
    c.as_of = as_of;
    int rc = street_count(&c);
    if (rc != DS_OK)
        ctl_reply_error(DS_EIO, "读取失败", "read failure", 0, out, len);
    else
        ctl_reply_ok(street_json(&c), out, len);
    strmap_destroy(&c.rows, free);
}

/* ---------------------------------------------------------------- joint meetings */

static void meeting_error(const char *zh, const char *en, uint8_t **out, size_t *len)
{
    ctl_reply_error(DS_EINVAL, zh, en, 0, out, len);
}

/* Splits the comma separated attendees into to[] (malloc'd strings). Every one must be a
 * unit or community of the directory, named once. False with an error reply otherwise. */
static bool attendees_arg(const struct broker *b, const char *list, char **to, size_t *n_to,
                          uint8_t **out, size_t *len)
{
    char zh[256], en[256];
    *n_to = 0;
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ",");
        char org[IDS_ORG_MAX];
        if (n == 0 || n >= sizeof(org) || *n_to == RULES_TO_MAX) {
            meeting_error("--attendees 无效:须为逗号分隔的组织 id,最多 256 个",
                          "invalid --attendees: comma separated org ids, at most 256", out, len);
            return false;
        }
        memcpy(org, p, n);
        org[n] = '\0';
        const struct org_entry *e = directory_find(b, org);
        /* another street's org is that street's to convene: a joint meeting does not cross */
        if (!e || (e->kind != ORG_UNIT && e->kind != ORG_COMMUNITY) || e->street[0] ||
            e->state == DUALSYNC__ORG_STATE__ORG_STATE_REMOVED) {
            snprintf(zh, sizeof(zh), "参会组织 %.64s 不是本街道目录中的单位或社区(见 org list)",
                     org);
            snprintf(en, sizeof(en),
                     "attendee %.64s is not a unit or community of this street's directory (see "
                     "org list)",
                     org);
            meeting_error(zh, en, out, len);
            return false;
        }
        for (size_t i = 0; i < *n_to; i++)
            if (strcmp(to[i], org) == 0) {
                snprintf(zh, sizeof(zh), "参会组织 %.64s 重复", org);
                snprintf(en, sizeof(en), "attendee %.64s is named twice", org);
                meeting_error(zh, en, out, len);
                return false;
            }
        to[(*n_to)++] = xstrdup(org);
        p += n;
        p += *p == ',';
        if (!*p && p[-1] == ',') {
            meeting_error("--attendees 无效:末尾多了逗号", "invalid --attendees: trailing comma",
                          out, len);
            return false;
        }
    }
    if (*n_to == 0) {
        meeting_error("须用 --attendees 指明参会的单位或社区",
                      "--attendees must name the units and communities that attended", out, len);
        return false;
    }
    return true;
}

static bool meeting_fields(const Dualsync__CtlCommand *cmd, const char **date, const char **title,
                           const char **decisions, uint8_t **out, size_t *len)
{
    *date = ctl_arg(cmd, "date");
    *title = ctl_arg(cmd, "title");
    *decisions = ctl_arg(cmd, "decisions");
    if (!*decisions)
        *decisions = "";
    if (!*date || !ids_date_valid(*date)) {
        meeting_error("--date 无效:格式为 YYYY-MM-DD,须为真实日期",
                      "invalid --date: use YYYY-MM-DD, a real calendar day", out, len);
        return false;
    }
    if (!*title || !ids_text_valid(*title, IDS_NAME_MAX, false)) {
        meeting_error("--title 无效:须为 1–128 字节的 UTF-8 文本,不含控制字符",
                      "invalid --title: 1-128 bytes of UTF-8 text without control characters", out,
                      len);
        return false;
    }
    if (!ids_text_valid(*decisions, IDS_TEXT_MAX, true)) {
        meeting_error("--decisions 无效:须为 UTF-8 文本,最多 4096 字节",
                      "invalid --decisions: UTF-8 text of at most 4096 bytes", out, len);
        return false;
    }
    return true;
}

void report_meeting_add_reply(struct broker *b, const Dualsync__CtlCommand *cmd, uint8_t **out,
                              size_t *len)
{
    const char *date, *title, *decisions;
    char **to = xcalloc(RULES_TO_MAX, sizeof(*to));
    size_t n_to = 0;
    if (!meeting_fields(cmd, &date, &title, &decisions, out, len) ||
        !attendees_arg(b, ctl_arg(cmd, "attendees"), to, &n_to, out, len))
        goto done;
    Dualsync__JointMeeting m = DUALSYNC__JOINT_MEETING__INIT;
    m.date = (char *)date;
    m.title = (char *)title;
    m.decisions = (char *)decisions;
    m.attendees = to;
    m.n_attendees = n_to;
    uint8_t *body = NULL;
    size_t body_len = 0;
    uint64_t seq = 0;
    wire_pack(&m.base, &body, &body_len);
    int rc = directory_author(b, T(JOINT_MEETING), body, body_len, to, n_to, &seq);
    free(body);
    if (rc == DS_EIO) {
        ctl_reply_error(rc, "存储失败,未作任何更改", "storage failure; nothing changed", 0, out,
                        len);
    } else if (rc != DS_OK) {
        ctl_reply_error(rc, "联席会议记录无效", "the joint meeting record is invalid", 0, out, len);
    } else {
        char id[IDS_EVENT_ID_MAX];
        ids_event_id(id, sizeof(id), broker_config(b)->street, seq);
        json_t *att = json_array();
        for (size_t i = 0; i < n_to; i++)
            json_array_append_new(att, json_string(to[i]));
        ctl_reply_ok(json_pack("{s:s,s:I,s:s,s:s,s:o}", "id", id, "seq", (json_int_t)seq, "date",
                               date, "title", title, "attendees", att),
                     out, len);
    }
done:
    for (size_t i = 0; i < n_to; i++)
        free(to[i]);
    free(to);
}

static bool meeting_json(const struct event *ev, void *arg)
{
    Dualsync__JointMeeting *m = (Dualsync__JointMeeting *)wire_unpack_body(
        &dualsync__joint_meeting__descriptor, ev->body, ev->body_len);
    if (m) {
        char id[IDS_EVENT_ID_MAX];
        ids_event_id(id, sizeof(id), ev->origin, ev->seq);
        json_t *j = fields_json(&m->base);
        json_object_set_new(j, "id", json_string(id));
        json_array_append_new(arg, j);
    }
    wire_msg_free(m);
    return true;
}

void report_meetings_reply(struct broker *b, uint8_t **out, size_t *len)
{
    json_t *arr = json_array();
    if (eventlog_type_events(broker_log(b), T(JOINT_MEETING), meeting_json, arr) != DS_OK) {
        json_decref(arr);
        ctl_reply_error(DS_EIO, "读取失败", "read failure", 0, out, len);
        return;
    }
    ctl_reply_ok(arr, out, len);
}

/* ---------------------------------------------------------------- CLI output */

static const char *js(json_t *j, const char *k)
{
    const char *s = json_string_value(json_object_get(j, k));
    return s ? s : "";
}

static long long ji(json_t *j, const char *k)
{
    return (long long)json_integer_value(json_object_get(j, k));
}

static void rate_text(json_t *v, char *buf, size_t size)
{
    if (json_is_number(v))
        snprintf(buf, size, "%.1f", json_number_value(v));
    else
        buf[0] = '\0';
}

/* The report as flat rows, one per org and one for the totals, for CSV and workbooks:
 * every figure of a row, its side, and the overdue counts as overdue_<kind>. */
const struct sheet_column report_street_columns[] = {
    {"side", "类别", "side"},
    {"org", "组织编号", "org"},
    {"name", "名称", "name"},
    {"registrations", "登记党员", "registrations"},
    {"reported", "已报到", "reported"},
    {"report_rate", "报到率%", "report rate %"},
    {"below_min", "低于下限", "below minimum"},
    {"feedback_members", "有反馈函党员", "members with feedback"},
    {"feedback_coverage", "反馈覆盖率%", "feedback coverage %"},
    {"overdue_total", "逾期合计", "overdue"},
    {"overdue_report-in", "逾期:报到", "overdue report-ins"},
    {"overdue_feedback", "逾期:反馈函", "overdue feedback"},
    {"overdue_handling", "逾期:查处结果", "overdue handling"},
    {"overdue_opinion-reply", "逾期:征求意见答复", "overdue opinion replies"},
    {"overdue_notice-post", "逾期:公示张贴", "overdue notice posting"},
    {"overdue_notice-objections", "逾期:公示结果", "overdue notice outcomes"},
    {"overdue_difficulty", "逾期:困难", "overdue difficulties"},
    {"overdue_claim-decision", "逾期:认领确认", "overdue claim decisions"},
    {"report_due", "应报到", "report-ins due"},
    {"due_report_rate", "应报到中已报到%", "reported of due %"},
    {NULL, NULL, NULL},
};

static json_t *flat_row(const char *side, const char *org, const char *name, json_t *r)
{
    const char *key;
    json_t *v, *row = json_deep_copy(r);
    char k[64];
    json_object_del(row, "overdue");
    json_object_set_new(row, "side", json_string(side));
    json_object_set_new(row, "org", json_string(org));
    json_object_set_new(row, "name", json_string(name));
    json_object_foreach(json_object_get(r, "overdue"), key, v)
    {
        snprintf(k, sizeof(k), "overdue_%s", key);
        json_object_set(row, k, v);
    }
    return row;
}

json_t *report_street_rows(json_t *j, const char *side)
{
    json_t *rows = json_array(), *r;
    size_t i;
    if (!side || strcmp(side, "unit") == 0)
        json_array_foreach(json_object_get(j, "units"), i, r)
            json_array_append_new(rows, flat_row("unit", js(r, "org"), js(r, "name"), r));
    if (!side || strcmp(side, "community") == 0)
        json_array_foreach(json_object_get(j, "communities"), i, r)
            json_array_append_new(rows, flat_row("community", js(r, "org"), js(r, "name"), r));
    if (!side || strcmp(side, "total") == 0)
        json_array_append_new(
            rows, flat_row("total", js(j, "street"), js(j, "name"), json_object_get(j, "totals")));
    return rows;
}

/* Every row in one CSV (scripts, or Excel with excel), or a workbook with a sheet each for
 * the units, the communities and the totals. */
static int print_table(json_t *j, const struct report_format *f)
{
    if (!f->xlsx) {
        json_t *rows = report_street_rows(j, NULL);
        sheet_csv(stdout, report_street_columns, rows, f->excel);
        json_decref(rows);
        return 0;
    }
    json_t *units = report_street_rows(j, "unit"), *comms = report_street_rows(j, "community");
    json_t *totals = report_street_rows(j, "total");
    struct sheet_table t[] = {{"单位 units", report_street_columns, units},
                              {"社区 communities", report_street_columns, comms},
                              {"合计 totals", report_street_columns, totals}};
    int rc = sheet_xlsx_cli(f->xlsx, t, 3);
    json_decref(units);
    json_decref(comms);
    json_decref(totals);
    return rc;
}

static void text_row(const char *org, const char *name, json_t *r)
{
    char rate[32], cover[32];
    rate_text(json_object_get(r, "report_rate"), rate, sizeof(rate));
    rate_text(json_object_get(r, "feedback_coverage"), cover, sizeof(cover));
    printf("%-28s %10lld %8lld %7s%s %8lld %7s %7lld  %s\n", org, ji(r, "registrations"),
           ji(r, "reported"), rate[0] ? rate : "-",
           json_is_true(json_object_get(r, "below_min")) ? "!" : " ", ji(r, "feedback_members"),
           cover[0] ? cover : "-", ji(r, "overdue_total"), name);
}

/* The column headers of text_row, padded by hand (printf's widths count bytes, and a CJK
 * character takes three bytes but two columns). */
static void text_header(void)
{
    puts(TR(
        "组织                               登记     报到 报到率%      反馈   覆盖%    逾期  名称",
        "org                          registered reported   rate%  feedback  cover% overdue  "
        "name"));
}

static void text_side(const char *zh, const char *en, json_t *rows)
{
    size_t i;
    json_t *r;
    printf("\n%s\n", TR(zh, en));
    text_header();
    json_array_foreach(rows, i, r) text_row(js(r, "org"), js(r, "name"), r);
}

int report_street_print(json_t *j, const struct report_format *f)
{
    if (f->csv || f->xlsx)
        return print_table(j, f);
    json_t *t = json_object_get(j, "totals");
    printf(TR("%lld 年双重管理督查报告 — %s (%s),截至 %s\n",
              "dual-management report %lld — %s (%s), as of %s\n"),
           ji(j, "year"), js(j, "street"), js(j, "name"), js(j, "as_of"));
    printf(TR("只含统计数字,不含党员信息。! = 报到率低于 %lld%%\n",
              "counts only, no member data. ! = report rate below %lld%%\n"),
           ji(j, "report_rate_min"));
    text_side("单位", "units", json_object_get(j, "units"));
    text_side("社区", "communities", json_object_get(j, "communities"));
    printf(TR("\n合计\n", "\ntotals\n"));
    text_header();
    text_row(js(j, "street"), js(j, "name"), t);
    printf(TR("报到率低于下限的组织: %lld\n逾期事项:",
              "orgs below the minimum: %lld\noverdue by kind:"),
           ji(t, "orgs_below_min"));
    for (size_t i = 0; i < N_OVERDUE; i++)
        printf(" %s=%lld", duties_kind_name(overdue_kinds[i]),
               ji(json_object_get(t, "overdue"), duties_kind_name(overdue_kinds[i])));
    printf("\n");
    if (ji(t, "letters_to_other_streets") || ji(t, "letters_from_other_streets"))
        printf(
            TR("跨街道信件: 送出 %lld,收到 %lld\n", "letters across streets: %lld out, %lld in\n"),
            ji(t, "letters_to_other_streets"), ji(t, "letters_from_other_streets"));
    return 0;
}

void report_meetings_print(json_t *j)
{
    size_t i, k;
    json_t *m, *a;
    if (json_is_object(j)) { /* the reply of meeting add */
        printf(TR("已记录联席会议: %s (%s %s)\n", "joint meeting recorded: %s (%s %s)\n"),
               js(j, "id"), js(j, "date"), js(j, "title"));
        return;
    }
    json_array_foreach(j, i, m)
    {
        printf(TR("%s  %s  %s\n  参会:", "%s  %s  %s\n  attendees:"), js(m, "id"), js(m, "date"),
               js(m, "title"));
        json_array_foreach(json_object_get(m, "attendees"), k, a)
            printf(" %s", json_string_value(a));
        printf("\n");
        if (js(m, "decisions")[0])
            printf(TR("  决定事项: %s\n", "  decisions: %s\n"), js(m, "decisions"));
    }
    if (json_array_size(j) == 0)
        printf(TR("尚无联席会议记录\n", "no joint meetings recorded\n"));
}

/* ---------------------------------------------------------------- the city, printed */

json_t *report_city_rows(json_t *j)
{
    json_t *rows = json_array(), *r;
    size_t i;
    json_array_foreach(json_object_get(j, "streets"), i, r)
        json_array_append_new(rows, flat_row("street", js(r, "org"), js(r, "name"), r));
    json_array_append_new(
        rows, flat_row("total", js(j, "city"), js(j, "name"), json_object_get(j, "totals")));
    return rows;
}

int report_city_print(json_t *j, const struct report_format *f)
{
    json_t *rows, *t = json_object_get(j, "totals"), *r;
    size_t i;
    if (f->csv || f->xlsx) {
        rows = report_city_rows(j);
        int rc = 0;
        if (f->xlsx) {
            struct sheet_table table = {"全市 city", report_street_columns, rows};
            rc = sheet_xlsx_cli(f->xlsx, &table, 1);
        } else {
            sheet_csv(stdout, report_street_columns, rows, f->excel);
        }
        json_decref(rows);
        return rc;
    }
    printf(TR("全市双重管理汇总 — %s (%s):%lld 个街道报送\n",
              "the city's dual-management figures — %s (%s): %lld streets reporting\n"),
           js(j, "city"), js(j, "name"), ji(t, "streets"));
    printf(TR("各街道报送的统计数字,不含党员信息;每条登记由其社区所在街道计一次。! = "
              "该街道有报到率低于下限的组织\n",
              "the streets' own counts, no member data; each registration is counted once, by "
              "its community's street. ! = the street has orgs below its minimum report rate\n"));
    text_header();
    json_array_foreach(json_object_get(j, "streets"), i, r)
        text_row(js(r, "org"), js(r, "name"), r);
    printf(TR("\n合计(单位 %lld,社区 %lld)\n", "\ntotals (%lld units, %lld communities)\n"),
           ji(t, "units"), ji(t, "communities"));
    text_header();
    text_row(js(j, "city"), js(j, "name"), t);
    printf(TR("报到率低于下限的组织: %lld\n跨街道信件: 送出 %lld,收到 %lld\n",
              "orgs below the minimum: %lld\nletters across streets: %lld out, %lld in\n"),
           ji(t, "orgs_below_min"), ji(t, "letters_to_other_streets"),
           ji(t, "letters_from_other_streets"));
    json_array_foreach(json_object_get(j, "streets"), i, r) printf(
        TR("%s: %lld 年,截至 %s,%lld 秒前收到%s\n",
           "%s: year %lld, as of %s, received %lld s ago%s\n"),
        js(r, "org"), ji(r, "year"), js(r, "as_of"), ji(r, "received_ms_ago") / 1000,
        json_is_true(json_object_get(r, "connected")) ? "" : TR("(未连接)", " (not connected)"));
    json_array_foreach(json_object_get(j, "not_reported"), i, r)
        printf(TR("%s: 尚未报送\n", "%s: no figures yet\n"), json_string_value(r));
    return 0;
}
