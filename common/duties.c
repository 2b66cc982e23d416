/* duties: deadlines derived from the records, the single source of truth for the node's
 * tasks and reports and the street's report.
 * Dates become day numbers (days since 1970-01-01, the proleptic Gregorian calendar of
 * H. Hinnant's days_from_civil) for arithmetic and go back to "YYYY-MM-DD" strings for
 * comparison and output; every result is checked to stay in 1900..9999, the range
 * ids_date_valid accepts, so no function here can produce a date the rest of the system
 * would refuse.
 * Each member rule is one small function reading the record; a rule that meets a date it
 * cannot parse (a record folded from a peer's bad input) emits nothing rather than a
 * wrong deadline. The org-level collector copies what it needs from each event, so the
 * caller may feed events in any order and free them at once. */
#include "duties.h"

#include "calendar.h"

#include "err.h"
#include "fields.h"
#include "rules.h"
#include "strmap.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MIN (-25567) /* 1900-01-01 */
#define DAY_MAX 2932896  /* 9999-12-31 */
#define MS_PER_DAY 86400000u

/* ---------------------------------------------------------------- dates */

static int days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

static bool parse_ymd(const char *date, int *y, int *m, int *d)
{
    if (!date || !ids_date_valid(date))
        return false;
    *y = (date[0] - '0') * 1000 + (date[1] - '0') * 100 + (date[2] - '0') * 10 + (date[3] - '0');
    *m = (date[5] - '0') * 10 + (date[6] - '0');
    *d = (date[8] - '0') * 10 + (date[9] - '0');
    return true;
}

/* Years here are >= 1899, so every intermediate is non-negative. */
static int32_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = y / 400;
    int yoe = y - era * 400;
    int doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int32_t z, int *y, int *m, int *d)
{
    z += 719468;
    int era = z / 146097; /* z > 0 for every day of 1900..9999 */
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static void put_digits(char *out, int v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

static void format_ymd(int y, int m, int d, char out[DUTIES_DATE_LEN])
{
    put_digits(out, y, 4);
    out[4] = '-';
    put_digits(out + 5, m, 2);
    out[7] = '-';
    put_digits(out + 8, d, 2);
    out[10] = '\0';
}

bool duties_date_days(const char *date, int32_t *days_out)
{
    int y, m, d;
    if (!parse_ymd(date, &y, &m, &d))
        return false;
    *days_out = days_from_civil(y, m, d);
    return true;
}

int duties_date_from_days(int32_t days, char out[DUTIES_DATE_LEN])
{
    int y, m, d;
    if (days < DAY_MIN || days > DAY_MAX)
        return DS_EINVAL;
    civil_from_days(days, &y, &m, &d);
    format_ymd(y, m, d, out);
    return DS_OK;
}

int duties_date_add(const char *date, int32_t days, char out[DUTIES_DATE_LEN])
{
    int32_t base;
    if (!duties_date_days(date, &base) || days < DAY_MIN - DAY_MAX || days > DAY_MAX - DAY_MIN)
        return DS_EINVAL;
    return duties_date_from_days(base + days, out);
}

int duties_date_add_months(const char *date, int32_t months, char out[DUTIES_DATE_LEN])
{
    int y, m, d;
    if (!parse_ymd(date, &y, &m, &d) || months < -120000 || months > 120000)
        return DS_EINVAL;
    int total = y * 12 + (m - 1) + months;
    int ny = total / 12, nm = total % 12 + 1;
    if (ny < 1900 || ny > 9999)
        return DS_EINVAL;
    int dim = days_in_month(ny, nm);
    format_ymd(ny, nm, d > dim ? dim : d, out);
    return DS_OK;
}

static int weekday_of(int32_t days)
{
    return (days % 7 + 7 + 3) % 7 + 1; /* 1970-01-01 was a Thursday (4) */
}

int duties_weekday(const char *date)
{
    int32_t days;
    return duties_date_days(date, &days) ? weekday_of(days) : 0;
}

bool duties_working_day(const char *date)
{
    int32_t days;
    return duties_date_days(date, &days) && calendar_working(days, weekday_of(days));
}

int duties_date_add_working(const char *date, uint32_t n, char out[DUTIES_DATE_LEN])
{
    int32_t days;
    if (!duties_date_days(date, &days) || n > DUTIES_WORKING_DAYS_MAX)
        return DS_EINVAL;
    /* Day by day: holidays and make-up days (calendar.c) leave no arithmetic shortcut, and
     * n is a notice's length, a few dozen days at most. */
    for (uint32_t rest = n; rest > 0;) {
        if (++days > DAY_MAX)
            return DS_EINVAL;
        if (calendar_working(days, weekday_of(days)))
            rest--;
    }
    return duties_date_from_days(days, out);
}

int duties_notice_end(const char *start, uint32_t n, char out[DUTIES_DATE_LEN])
{
    char first[DUTIES_DATE_LEN];
    if (duties_weekday(start) == 0 || n == 0)
        return DS_EINVAL;
    int rc = duties_working_day(start) ? duties_date_add(start, 0, first)
                                       : duties_date_add_working(start, 1, first);
    return rc == DS_OK ? duties_date_add_working(first, n - 1, out) : rc;
}

int duties_date_from_hlc(uint64_t hlc, char out[DUTIES_DATE_LEN])
{
    uint64_t days = (hlc >> 16) / MS_PER_DAY;
    return days > (uint64_t)DAY_MAX ? DS_EINVAL : duties_date_from_days((int32_t)days, out);
}

/* ---------------------------------------------------------------- feedback periods */

bool duties_per_year_valid(uint32_t per_year)
{
    return per_year == 1 || per_year == 2 || per_year == 4;
}

/* Months first..last of year y. */
static void set_range(struct duties_period *out, int y, int first, int last)
{
    format_ymd(y, first, 1, out->start);
    format_ymd(y, last, days_in_month(y, last), out->end);
}

static void set_label(struct duties_period *out, int y, int quarter)
{
    put_digits(out->label, y, 4);
    if (quarter == 0) {
        out->label[4] = '\0';
        return;
    }
    out->label[4] = '-';
    out->label[5] = 'Q';
    out->label[6] = (char)('0' + quarter);
    out->label[7] = '\0';
}

/* The period of year y that ends with quarter q (0: the year) under per_year. */
static void period_set(struct duties_period *out, int y, int q, uint32_t per_year)
{
    set_label(out, y, q);
    if (q == 0)
        set_range(out, y, 1, 12);
    else if (per_year == 2 && (q == 2 || q == 4))
        set_range(out, y, q == 2 ? 1 : 7, q * 3);
    else
        set_range(out, y, q * 3 - 2, q * 3);
}

int duties_period_of(const char *date, uint32_t per_year, struct duties_period *out)
{
    int y, m, d;
    if (!duties_per_year_valid(per_year) || !parse_ymd(date, &y, &m, &d))
        return DS_EINVAL;
    if (per_year == 1)
        period_set(out, y, 0, per_year);
    else if (per_year == 2)
        period_set(out, y, m <= 6 ? 2 : 4, per_year);
    else
        period_set(out, y, (m - 1) / 3 + 1, per_year);
    return DS_OK;
}

int duties_period_prev(const struct duties_period *p, uint32_t per_year, struct duties_period *out)
{
    char before[DUTIES_DATE_LEN];
    int rc = duties_date_add(p->start, -1, before);
    return rc == DS_OK ? duties_period_of(before, per_year, out) : rc;
}

int duties_period_parse(const char *label, uint32_t per_year, struct duties_period *out)
{
    if (!label || !duties_per_year_valid(per_year))
        return DS_EINVAL;
    size_t n = strlen(label);
    if (n != 4 && n != 7)
        return DS_EINVAL;
    int y = 0;
    for (size_t i = 0; i < 4; i++) {
        if (label[i] < '0' || label[i] > '9')
            return DS_EINVAL;
        y = y * 10 + (label[i] - '0');
    }
    if (y < 1900 || y > 9999)
        return DS_EINVAL;
    if (n == 4) {
        period_set(out, y, 0, per_year);
        return DS_OK;
    }
    if (label[4] != '-' || label[5] != 'Q' || label[6] < '1' || label[6] > '4')
        return DS_EINVAL;
    period_set(out, y, label[6] - '0', per_year);
    return DS_OK;
}

bool duties_period_overlaps(const struct duties_period *a, const struct duties_period *b)
{
    return strcmp(a->start, b->end) <= 0 && strcmp(b->start, a->end) <= 0;
}

int duties_feedback_period(const Dualsync__FeedbackEntry *f, uint32_t per_year,
                           struct duties_period *out)
{
    char year[8];
    if (f->period && f->period[0])
        return duties_period_parse(f->period, per_year, out);
    if (f->year < 1900 || f->year > 9999)
        return DS_EINVAL;
    snprintf(year, sizeof(year), "%04u", f->year);
    return duties_period_parse(year, per_year, out);
}

/* ---------------------------------------------------------------- record figures */

static bool given(const char *s)
{
    return s && s[0];
}

bool duties_report_in_due(const Dualsync__MemberRecord *rec, const char *as_of)
{
    char deadline[DUTIES_DATE_LEN];
    uint32_t days = rec->report_days ? rec->report_days : RULES_REPORT_DAYS_DEFAULT;
    if (rec->reported)
        return true;
    return duties_date_add(rec->intro_date, (int32_t)days, deadline) == DS_OK &&
           strcmp(as_of, deadline) > 0;
}

bool duties_open(const Dualsync__MemberRecord *rec)
{
    return given(rec->unit) && given(rec->community) &&
           rec->closed == DUALSYNC__CLOSE_REASON__CLOSE_UNSPECIFIED;
}

bool duties_card_complete(const Dualsync__MemberRecord *rec)
{
    return given(rec->occupation) && given(rec->willingness) && given(rec->rest_time) &&
           given(rec->contact);
}

bool duties_feedback_flagged(const Dualsync__FeedbackEntry *f)
{
    return f->rating == DUALSYNC__RATING__RATING_POOR || f->non_participation || f->poor_conduct;
}

bool duties_handled(const Dualsync__MemberRecord *rec, const char *feedback_id)
{
    for (size_t i = 0; i < rec->n_handling; i++)
        if (strcmp(rec->handling[i]->feedback_id, feedback_id) == 0)
            return true;
    return false;
}

uint32_t duties_feedback_count(const Dualsync__MemberRecord *rec, uint32_t year)
{
    uint32_t n = 0;
    for (size_t i = 0; i < rec->n_feedback; i++)
        n += rec->feedback[i]->year == year;
    return n;
}

void duties_participation(const Dualsync__MemberRecord *rec, const char *start, const char *end,
                          struct duties_figures *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < rec->n_attendance; i++) {
        const Dualsync__AttendanceEntry *a = rec->attendance[i];
        if (!ids_date_valid(a->date) || strcmp(a->date, start) < 0 || strcmp(a->date, end) > 0)
            continue;
        out->activities++;
        out->minutes += a->minutes;
        if (strcmp(a->date, out->last) > 0)
            snprintf(out->last, sizeof(out->last), "%s", a->date);
    }
}

/* ---------------------------------------------------------------- member duties */

static const char *const kind_names[DUTY_KIND_COUNT] = {
    "report-in",         "feedback",   "handling", "opinion-reply", "notice-post",
    "notice-objections", "difficulty", "group",    "participation", "long-non-participation",
    "claim-decision",    "need-open",
};

const char *duties_kind_name(enum duty_kind kind)
{
    return (unsigned)kind < DUTY_KIND_COUNT ? kind_names[kind] : "unknown";
}

/* Which viewers see a kind (the street sees all). */
#define SEEN_BY_UNIT 1u
#define SEEN_BY_COMMUNITY 2u

struct member_ctx {
    const Dualsync__MemberRecord *rec;
    enum org_kind viewer;
    const struct policy *p;
    const char *as_of;
    duties_emit_fn emit;
    void *arg;
};

static bool sees(const struct member_ctx *c, unsigned mask)
{
    return c->viewer == ORG_STREET || (c->viewer == ORG_UNIT && (mask & SEEN_BY_UNIT)) ||
           (c->viewer == ORG_COMMUNITY && (mask & SEEN_BY_COMMUNITY));
}

static void duty_init(struct duty *d, const struct member_ctx *c, enum duty_kind kind,
                      enum org_kind actor)
{
    memset(d, 0, sizeof(*d));
    d->kind = kind;
    d->member = c->rec->member;
    d->name = c->rec->name;
    d->actor = actor;
    d->org = actor == ORG_UNIT ? c->rec->unit : c->rec->community;
}

static void copy(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

static void duty_send(const struct member_ctx *c, struct duty *d)
{
    d->overdue = d->due[0] && strcmp(c->as_of, d->due) > 0;
    c->emit(d, c->arg);
}

static void rule_report_in(const struct member_ctx *c)
{
    const Dualsync__MemberRecord *r = c->rec;
    struct duty d;
    if (r->reported || !sees(c, SEEN_BY_UNIT | SEEN_BY_COMMUNITY))
        return;
    uint32_t days = r->report_days ? r->report_days : RULES_REPORT_DAYS_DEFAULT;
    duty_init(&d, c, DUTY_REPORT_IN, ORG_NONE);
    if (duties_date_add(r->intro_date, (int32_t)days, d.due) != DS_OK)
        return;
    copy(d.ref, sizeof(d.ref), r->intro_id);
    snprintf(d.zh, sizeof(d.zh), "党员报到:介绍函 %s 发出,须在 %u 日内(%s 前)到社区报到",
             r->intro_date, days, d.due);
    snprintf(d.en, sizeof(d.en),
             "report-in: introduced on %s, must report in to the community within %u days (by %s)",
             r->intro_date, days, d.due);
    if (r->n_claims) { /* the community must name the letter the member brings */
        size_t zl = strlen(d.zh), el = strlen(d.en);
        snprintf(d.zh + zl, sizeof(d.zh) - zl,
                 ";另有 %zu 个单位的介绍函认领该党员,报到时须核对党员所持介绍函(--intro)",
                 r->n_claims);
        snprintf(d.en + el, sizeof(d.en) - el,
                 "; %zu other unit(s) also introduced the member: at the report-in, check the "
                 "letter the member brings (--intro)",
                 r->n_claims);
    }
    duty_send(c, &d);
}

/* Whether some feedback letter of the record covers period. */
static bool feedback_covers(const Dualsync__MemberRecord *r, const struct duties_period *period,
                            uint32_t per_year)
{
    for (size_t i = 0; i < r->n_feedback; i++) {
        struct duties_period fp;
        if (duties_feedback_period(r->feedback[i], per_year, &fp) == DS_OK &&
            duties_period_overlaps(&fp, period))
            return true;
    }
    return false;
}

static void feedback_duty(const struct member_ctx *c, const struct duties_period *period)
{
    struct duty d;
    duty_init(&d, c, DUTY_FEEDBACK, ORG_COMMUNITY);
    copy(d.due, sizeof(d.due), period->end);
    copy(d.ref, sizeof(d.ref), period->label);
    snprintf(d.zh, sizeof(d.zh), "表现情况反馈函:%s 期间(%s 至 %s)须向单位发出反馈函",
             period->label, period->start, period->end);
    snprintf(d.en, sizeof(d.en),
             "feedback letter for %s (%s to %s) is due to the unit by the end of the period",
             period->label, period->start, period->end);
    duty_send(c, &d);
}

static void rule_feedback(const struct member_ctx *c)
{
    const Dualsync__MemberRecord *r = c->rec;
    struct duties_period cur, prev;
    uint32_t per_year = c->p->feedback_per_year;
    if (!r->reported || !sees(c, SEEN_BY_COMMUNITY) ||
        duties_period_of(c->as_of, per_year, &cur) != DS_OK)
        return;
    /* The community answers for the periods the member was registered with it in. */
    const char *since = given(r->report_date) ? r->report_date : r->intro_date;
    if (duties_period_prev(&cur, per_year, &prev) == DS_OK && strcmp(since, prev.end) <= 0 &&
        !feedback_covers(r, &prev, per_year))
        feedback_duty(c, &prev);
    if (!feedback_covers(r, &cur, per_year))
        feedback_duty(c, &cur);
}

static const char *rating_zh(Dualsync__Rating r)
{
    switch (r) {
    case DUALSYNC__RATING__RATING_EXCELLENT:
        return "优秀";
    case DUALSYNC__RATING__RATING_GOOD:
        return "好";
    case DUALSYNC__RATING__RATING_FAIR:
        return "一般";
    case DUALSYNC__RATING__RATING_POOR:
        return "差";
    default:
        return "未评";
    }
}

/* The day a feedback letter was written: its date, else its clock, else its period's end. */
static bool feedback_day(const Dualsync__FeedbackEntry *f, uint32_t per_year,
                         char out[DUTIES_DATE_LEN])
{
    struct duties_period fp;
    if (ids_date_valid(f->date)) {
        copy(out, DUTIES_DATE_LEN, f->date);
        return true;
    }
    if (f->hlc && duties_date_from_hlc(f->hlc, out) == DS_OK)
        return true;
    if (duties_feedback_period(f, per_year, &fp) != DS_OK)
        return false;
    copy(out, DUTIES_DATE_LEN, fp.end);
    return true;
}

static void rule_handling(const struct member_ctx *c)
{
    const Dualsync__MemberRecord *r = c->rec;
    if (!sees(c, SEEN_BY_UNIT))
        return;
    for (size_t i = 0; i < r->n_feedback; i++) {
        const Dualsync__FeedbackEntry *f = r->feedback[i];
        char day[DUTIES_DATE_LEN], rating[64];
        struct duty d;
        if (!duties_feedback_flagged(f) || duties_handled(r, f->event_id) ||
            !feedback_day(f, c->p->feedback_per_year, day))
            continue;
        duty_init(&d, c, DUTY_HANDLING, ORG_UNIT);
        if (duties_date_add(day, (int32_t)c->p->handling_days, d.due) != DS_OK)
            continue;
        copy(d.ref, sizeof(d.ref), f->event_id);
        fields_enum_name(&dualsync__rating__descriptor, (int)f->rating, rating);
        snprintf(d.zh, sizeof(d.zh), "查处结果:%s 的反馈函(评价%s%s%s)须在 %u 日内反馈查处结果",
                 day, rating_zh(f->rating), f->non_participation ? ",长期不参加活动" : "",
                 f->poor_conduct ? ",表现差" : "", c->p->handling_days);
        snprintf(d.en, sizeof(d.en),
                 "handling result: the feedback of %s (rating %s%s%s) must be answered within %u "
                 "days",
                 day, rating[0] ? rating : "none",
                 f->non_participation ? ", long non-participation" : "",
                 f->poor_conduct ? ", poor conduct" : "", c->p->handling_days);
        duty_send(c, &d);
    }
}

static const char *opinion_zh(Dualsync__OpinionKind k)
{
    switch (k) {
    case DUALSYNC__OPINION_KIND__OPINION_ADVANCED_ORG:
        return "先进基层党组织";
    case DUALSYNC__OPINION_KIND__OPINION_CIVILISED_UNIT:
        return "文明单位";
    case DUALSYNC__OPINION_KIND__OPINION_EXCELLENT_MEMBER:
        return "优秀共产党员";
    case DUALSYNC__OPINION_KIND__OPINION_ADVANCED_INDIVIDUAL:
        return "先进个人";
    case DUALSYNC__OPINION_KIND__OPINION_DEMOCRATIC_APPRAISAL:
        return "民主评议";
    case DUALSYNC__OPINION_KIND__OPINION_CADRE_PROMOTION:
        return "干部提拔";
    case DUALSYNC__OPINION_KIND__OPINION_NEW_MEMBER:
        return "发展党员";
    default:
        return "征求意见";
    }
}

/* The reply due date of an opinion request: its due, else its date + opinion_days. */
static bool opinion_due(const char *due, const char *date, const struct policy *p,
                        char out[DUTIES_DATE_LEN])
{
    if (ids_date_valid(due)) {
        copy(out, DUTIES_DATE_LEN, due);
        return true;
    }
    return duties_date_add(date, (int32_t)p->opinion_days, out) == DS_OK;
}

static void opinion_text(struct duty *d, Dualsync__OpinionKind kind, enum org_kind viewer)
{
    char en[64];
    fields_enum_name(&dualsync__opinion_kind__descriptor, (int)kind, en);
    if (viewer == ORG_UNIT) {
        snprintf(d->zh, sizeof(d->zh), "征求意见(%s):等待社区在 %s 前回复", opinion_zh(kind),
                 d->due);
        snprintf(d->en, sizeof(d->en),
                 "opinion request (%s): awaiting the community's reply, due %s",
                 en[0] ? en : "unspecified", d->due);
    } else {
        snprintf(d->zh, sizeof(d->zh), "征求意见(%s):须在 %s 前回复单位", opinion_zh(kind), d->due);
        snprintf(d->en, sizeof(d->en), "opinion request (%s): reply to the unit by %s",
                 en[0] ? en : "unspecified", d->due);
    }
}

static void rule_opinions(const struct member_ctx *c)
{
    const Dualsync__MemberRecord *r = c->rec;
    if (!sees(c, SEEN_BY_UNIT | SEEN_BY_COMMUNITY))
        return;
    for (size_t i = 0; i < r->n_opinions; i++) {
        const Dualsync__OpinionEntry *o = r->opinions[i];
        struct duty d;
        if (given(o->reply_id))
            continue;
        duty_init(&d, c, DUTY_OPINION_REPLY, ORG_COMMUNITY);
        if (!opinion_due(o->due, o->date, c->p, d.due))
            continue;
        copy(d.ref, sizeof(d.ref), o->event_id);
        opinion_text(&d, o->kind, c->viewer);
        duty_send(c, &d);
    }
}

static void rule_notices(const struct member_ctx *c)
{
    const Dualsync__MemberRecord *r = c->rec;
    if (!sees(c, SEEN_BY_COMMUNITY))
        return;
    for (size_t i = 0; i < r->n_notices; i++) {
        const Dualsync__NoticeEntry *n = r->notices[i];
        struct duty d;
        if (n->outcome != DUALSYNC__NOTICE_STATUS__NOTICE_UNSPECIFIED)
            continue; /* the outcome is reported: nothing left to do */
        if (!given(n->posted_date)) {
            duty_init(&d, c, DUTY_NOTICE_POST, ORG_COMMUNITY);
            if (!ids_date_valid(n->start))
                continue;
            copy(d.due, sizeof(d.due), n->start);
            snprintf(d.zh, sizeof(d.zh), "公示:须在 %s 公示开始前在社区张贴并确认(至 %s)", n->start,
                     n->end);
            snprintf(d.en, sizeof(d.en),
                     "public notice: post it in the community by its start %s (runs to %s) and "
                     "confirm",
                     n->start, n->end);
        } else {
            /* Objections are reported on the first working day after the notice ends. */
            duty_init(&d, c, DUTY_NOTICE_OBJECTIONS, ORG_COMMUNITY);
            if (duties_date_add_working(n->end, 1, d.due) != DS_OK)
                continue;
            snprintf(d.zh, sizeof(d.zh), "公示:%s 结束后,须在 %s 前向单位报告有无异议", n->end,
                     d.due);
            snprintf(d.en, sizeof(d.en),
                     "public notice: report objections or none to the unit by %s (notice ends %s)",
                     d.due, n->end);
        }
        copy(d.ref, sizeof(d.ref), n->event_id);
        duty_send(c, &d);
    }
}

static void rule_difficulties(const struct member_ctx *c)
{
    const Dualsync__MemberRecord *r = c->rec;
    if (!sees(c, SEEN_BY_COMMUNITY))
        return;
    for (size_t i = 0; i < r->n_difficulties; i++) {
        const Dualsync__DifficultyEntry *e = r->difficulties[i];
        struct duty d;
        if (given(e->resolved_id))
            continue;
        duty_init(&d, c, DUTY_DIFFICULTY, ORG_COMMUNITY);
        if (duties_date_add(e->date, (int32_t)c->p->handling_days, d.due) != DS_OK)
            continue;
        copy(d.ref, sizeof(d.ref), e->event_id);
        snprintf(d.zh, sizeof(d.zh), "困难帮扶:单位 %s 反映的困难尚未解决(期限 %s)", e->date,
                 d.due);
        snprintf(d.en, sizeof(d.en),
                 "difficulty raised by the unit on %s is not resolved yet (due %s)", e->date,
                 d.due);
        duty_send(c, &d);
    }
}

static void rule_group(const struct member_ctx *c)
{
    struct duty d;
    if (!c->rec->reported || given(c->rec->group) || !sees(c, SEEN_BY_COMMUNITY))
        return;
    duty_init(&d, c, DUTY_GROUP, ORG_COMMUNITY);
    snprintf(d.zh, sizeof(d.zh), "楼寓联络小组:已报到党员须编入一个楼寓联络小组");
    snprintf(d.en, sizeof(d.en), "building group: every registered member belongs to one group");
    duty_send(c, &d);
}

static void rule_participation(const struct member_ctx *c)
{
    const Dualsync__MemberRecord *r = c->rec;
    struct duties_period year;
    struct duties_figures fig;
    struct duty d;
    if (!r->reported || !sees(c, SEEN_BY_COMMUNITY) ||
        duties_period_of(c->as_of, 1, &year) != DS_OK)
        return;
    duties_participation(r, year.start, year.end, &fig);
    uint64_t want_minutes = (uint64_t)c->p->min_hours * 60u;
    if (fig.activities >= c->p->min_activities && fig.minutes >= want_minutes)
        return;
    duty_init(&d, c, DUTY_PARTICIPATION, ORG_COMMUNITY);
    copy(d.due, sizeof(d.due), year.end);
    copy(d.ref, sizeof(d.ref), year.label);
    snprintf(d.zh, sizeof(d.zh), "%s 年参加活动 %u/%u 次,志愿服务 %llu/%llu 分钟", year.label,
             fig.activities, c->p->min_activities, (unsigned long long)fig.minutes,
             (unsigned long long)want_minutes);
    snprintf(d.en, sizeof(d.en), "%s: %u of %u activities, %llu of %llu service minutes so far",
             year.label, fig.activities, c->p->min_activities, (unsigned long long)fig.minutes,
             (unsigned long long)want_minutes);
    duty_send(c, &d);
}

static void rule_idle(const struct member_ctx *c)
{
    const Dualsync__MemberRecord *r = c->rec;
    char cutoff[DUTIES_DATE_LEN], after[DUTIES_DATE_LEN];
    struct duties_figures fig;
    struct duty d;
    if (!r->reported || !sees(c, SEEN_BY_COMMUNITY) ||
        duties_date_add_months(c->as_of, -(int32_t)c->p->idle_months, cutoff) != DS_OK ||
        duties_date_add(cutoff, 1, after) != DS_OK)
        return;
    const char *since = given(r->report_date) ? r->report_date : r->intro_date;
    if (strcmp(since, cutoff) > 0)
        return; /* registered for less than idle_months */
    duties_participation(r, after, c->as_of, &fig);
    if (fig.activities > 0)
        return;
    for (size_t i = 0; i < r->n_feedback; i++)
        if (r->feedback[i]->non_participation && strcmp(r->feedback[i]->date, cutoff) > 0)
            return; /* already flagged to the unit */
    duty_init(&d, c, DUTY_LONG_NON_PARTICIPATION, ORG_COMMUNITY);
    snprintf(d.zh, sizeof(d.zh),
             "长期不参加活动:%s 以来(%u 个月)没有活动记录,可在反馈函中标注长期不参加活动", after,
             c->p->idle_months);
    snprintf(d.en, sizeof(d.en),
             "no activity since %s (%u months): consider flagging long non-participation in a "
             "feedback letter",
             after, c->p->idle_months);
    duty_send(c, &d);
}

static bool policy_valid(const struct policy *p)
{
    return p && duties_per_year_valid(p->feedback_per_year);
}

int duties_member(const Dualsync__MemberRecord *rec, enum org_kind viewer, const struct policy *p,
                  const char *as_of, duties_emit_fn emit, void *arg)
{
    if (!ids_date_valid(as_of) || !policy_valid(p) || !emit ||
        (viewer != ORG_UNIT && viewer != ORG_COMMUNITY && viewer != ORG_STREET))
        return DS_EINVAL;
    if (!duties_open(rec))
        return DS_OK;
    struct member_ctx c = {rec, viewer, p, as_of, emit, arg};
    rule_report_in(&c);
    rule_feedback(&c);
    rule_handling(&c);
    rule_opinions(&c);
    rule_notices(&c);
    rule_difficulties(&c);
    rule_group(&c);
    rule_participation(&c);
    rule_idle(&c);
    return DS_OK;
}

/* ---------------------------------------------------------------- org-level duties */

#define T(x) DUALSYNC__EVENT_TYPE__EVENT_##x

struct org_need {
    char id[IDS_EVENT_ID_MAX];
    char origin[IDS_ORG_MAX];
    char date[DUTIES_DATE_LEN];
};

struct org_claim {
    char id[IDS_EVENT_ID_MAX];
    char origin[IDS_ORG_MAX];
    char to[IDS_ORG_MAX];
    char need[IDS_EVENT_ID_MAX];
    char date[DUTIES_DATE_LEN];
};

struct org_request {
    char id[IDS_EVENT_ID_MAX];
    char origin[IDS_ORG_MAX];
    char **to;
    size_t n_to;
    Dualsync__OpinionKind kind;
    char due[DUTIES_DATE_LEN];
    char date[DUTIES_DATE_LEN];
};

/* A claim decision; the latest in (hlc, origin, seq) order wins. */
struct org_decision {
    uint64_t hlc;
    char origin[IDS_ORG_MAX];
    uint64_t seq;
    bool approved;
};

struct duties_org {
    struct org_need *needs;
    size_t n_needs;
    struct org_claim *claims;
    size_t n_claims;
    struct org_request *requests;
    size_t n_requests;
    struct strmap *need_index;  /* need id -> index + 1 */
    struct strmap *claim_index; /* claim id -> index + 1 */
    struct strmap *decisions;   /* claim id -> struct org_decision * */
    struct strmap *fulfilled;   /* need id -> non-NULL */
    struct strmap *replies;     /* request id "\n" community -> non-NULL */
};

struct duties_org *duties_org_new(void)
{
    struct duties_org *d = xcalloc(1, sizeof(*d));
    d->need_index = strmap_new();
    d->claim_index = strmap_new();
    d->decisions = strmap_new();
    d->fulfilled = strmap_new();
    d->replies = strmap_new();
    return d;
}

void duties_org_destroy(struct duties_org **dp)
{
    struct duties_org *d = *dp;
    if (!d)
        return;
    for (size_t i = 0; i < d->n_requests; i++) {
        for (size_t k = 0; k < d->requests[i].n_to; k++)
            free(d->requests[i].to[k]);
        free(d->requests[i].to);
    }
    free(d->needs);
    free(d->claims);
    free(d->requests);
    strmap_destroy(&d->need_index, NULL);
    strmap_destroy(&d->claim_index, NULL);
    strmap_destroy(&d->decisions, free);
    strmap_destroy(&d->fulfilled, NULL);
    strmap_destroy(&d->replies, NULL);
    free(d);
    *dp = NULL;
}

/* strmap values are pointers; indexes are stored as index + 1 so that 0 means absent. */
static void *index_value(size_t i)
{
    return (void *)(uintptr_t)(i + 1);
}

static void reply_key(char *buf, size_t size, const char *request, const char *community)
{
    snprintf(buf, size, "%s\n%s", request, community);
}

static void add_need(struct duties_org *d, const struct event *ev, const char *id)
{
    Dualsync__ServiceNeed *b = (Dualsync__ServiceNeed *)wire_unpack_body(
        &dualsync__service_need__descriptor, ev->body, ev->body_len);
    if (b && !strmap_get(d->need_index, id)) {
        d->needs = xrealloc(d->needs, (d->n_needs + 1) * sizeof(*d->needs));
        struct org_need *n = &d->needs[d->n_needs];
        copy(n->id, sizeof(n->id), id);
        copy(n->origin, sizeof(n->origin), ev->origin);
        copy(n->date, sizeof(n->date), ids_date_valid(b->date) ? b->date : "");
        strmap_put(d->need_index, id, index_value(d->n_needs++));
    }
    wire_msg_free(b);
}

static void add_claim(struct duties_org *d, const struct event *ev, const char *id)
{
    Dualsync__ServiceClaim *b = (Dualsync__ServiceClaim *)wire_unpack_body(
        &dualsync__service_claim__descriptor, ev->body, ev->body_len);
    if (b && !strmap_get(d->claim_index, id)) {
        d->claims = xrealloc(d->claims, (d->n_claims + 1) * sizeof(*d->claims));
        struct org_claim *c = &d->claims[d->n_claims];
        copy(c->id, sizeof(c->id), id);
        copy(c->origin, sizeof(c->origin), ev->origin);
        copy(c->to, sizeof(c->to), ev->msg->n_to ? ev->msg->to[0] : "");
        copy(c->need, sizeof(c->need), b->need);
        copy(c->date, sizeof(c->date), ids_date_valid(b->date) ? b->date : "");
        strmap_put(d->claim_index, id, index_value(d->n_claims++));
    }
    wire_msg_free(b);
}

static bool decision_later(const struct org_decision *a, const struct event *ev)
{
    if (a->hlc != ev->hlc)
        return ev->hlc > a->hlc;
    int o = strcmp(ev->origin, a->origin);
    return o != 0 ? o > 0 : ev->seq > a->seq;
}

static void add_decision(struct duties_org *d, const struct event *ev)
{
    Dualsync__ClaimDecision *b = (Dualsync__ClaimDecision *)wire_unpack_body(
        &dualsync__claim_decision__descriptor, ev->body, ev->body_len);
    if (b && given(b->claim)) {
        struct org_decision *old = strmap_get(d->decisions, b->claim);
        if (!old || decision_later(old, ev)) {
            struct org_decision *n = xcalloc(1, sizeof(*n));
            n->hlc = ev->hlc;
            copy(n->origin, sizeof(n->origin), ev->origin);
            n->seq = ev->seq;
            n->approved = b->approved;
            free(strmap_put(d->decisions, b->claim, n));
        }
    }
    wire_msg_free(b);
}

static void add_fulfilled(struct duties_org *d, const struct event *ev)
{
    Dualsync__ServiceFulfilled *b = (Dualsync__ServiceFulfilled *)wire_unpack_body(
        &dualsync__service_fulfilled__descriptor, ev->body, ev->body_len);
    if (b && given(b->need))
        strmap_put(d->fulfilled, b->need, index_value(0));
    wire_msg_free(b);
}

static void add_request(struct duties_org *d, const struct event *ev, const char *id)
{
    Dualsync__OpinionRequest *b = (Dualsync__OpinionRequest *)wire_unpack_body(
        &dualsync__opinion_request__descriptor, ev->body, ev->body_len);
    for (size_t i = 0; b && i < d->n_requests; i++)
        if (strcmp(d->requests[i].id, id) == 0)
            goto out; /* fed twice */
    if (b) {
        d->requests = xrealloc(d->requests, (d->n_requests + 1) * sizeof(*d->requests));
        struct org_request *r = &d->requests[d->n_requests++];
        memset(r, 0, sizeof(*r));
        copy(r->id, sizeof(r->id), id);
        copy(r->origin, sizeof(r->origin), ev->origin);
        r->kind = b->kind;
        copy(r->due, sizeof(r->due), ids_date_valid(b->due) ? b->due : "");
        copy(r->date, sizeof(r->date), ids_date_valid(b->date) ? b->date : "");
        r->to = xcalloc(ev->msg->n_to ? ev->msg->n_to : 1, sizeof(*r->to));
        for (size_t k = 0; k < ev->msg->n_to; k++)
            r->to[r->n_to++] = xstrdup(ev->msg->to[k]);
    }
out:
    wire_msg_free(b);
}

static void add_reply(struct duties_org *d, const struct event *ev)
{
    Dualsync__OpinionReply *b = (Dualsync__OpinionReply *)wire_unpack_body(
        &dualsync__opinion_reply__descriptor, ev->body, ev->body_len);
    if (b && given(b->request)) {
        char key[IDS_EVENT_ID_MAX + IDS_ORG_MAX + 2];
        reply_key(key, sizeof(key), b->request, ev->origin);
        strmap_put(d->replies, key, index_value(0));
    }
    wire_msg_free(b);
}

void duties_org_add(struct duties_org *d, const struct event *ev)
{
    char id[IDS_EVENT_ID_MAX];
    if (ev->member[0])
        return; /* member-level opinions live in the member's record */
    ids_event_id(id, sizeof(id), ev->origin, ev->seq);
    switch (ev->type) {
    case T(SERVICE_NEED):
        add_need(d, ev, id);
        break;
    case T(SERVICE_CLAIM):
        add_claim(d, ev, id);
        break;
    case T(CLAIM_DECISION):
        add_decision(d, ev);
        break;
    case T(SERVICE_FULFILLED):
        add_fulfilled(d, ev);
        break;
    case T(OPINION_REQUEST):
        add_request(d, ev, id);
        break;
    case T(OPINION_REPLY):
        add_reply(d, ev);
        break;
    default:
        break;
    }
}

static const char *claim_status(const struct duties_org *d, const struct org_claim *c)
{
    const struct org_decision *dec = strmap_get(d->decisions, c->id);
    return !dec ? "pending" : dec->approved ? "approved" : "declined";
}

const char *duties_org_status(const struct duties_org *d, const char *event_id)
{
    uintptr_t i = (uintptr_t)strmap_get(d->claim_index, event_id);
    if (i)
        return claim_status(d, &d->claims[i - 1]);
    if (!strmap_get(d->need_index, event_id))
        return "";
    if (strmap_get(d->fulfilled, event_id))
        return "fulfilled";
    for (size_t k = 0; k < d->n_claims; k++)
        if (strcmp(d->claims[k].need, event_id) == 0 &&
            strcmp(claim_status(d, &d->claims[k]), "declined") != 0)
            return "claimed";
    return "open";
}

struct org_ctx {
    const struct duties_org *d;
    enum org_kind viewer;
    const char *self;
    const struct policy *p;
    const char *as_of;
    duties_emit_fn emit;
    void *arg;
};

static void org_duty_init(struct duty *d, enum duty_kind kind, enum org_kind actor, const char *org,
                          const char *ref)
{
    memset(d, 0, sizeof(*d));
    d->kind = kind;
    d->member = "";
    d->name = "";
    d->actor = actor;
    d->org = org;
    copy(d->ref, sizeof(d->ref), ref);
}

static void org_send(const struct org_ctx *c, struct duty *d)
{
    d->overdue = d->due[0] && strcmp(c->as_of, d->due) > 0;
    c->emit(d, c->arg);
}

static bool is_self(const struct org_ctx *c, const char *org)
{
    return c->self && strcmp(c->self, org) == 0;
}

static void org_claims(const struct org_ctx *c)
{
    if (c->viewer != ORG_COMMUNITY && c->viewer != ORG_STREET)
        return;
    for (size_t i = 0; i < c->d->n_claims; i++) {
        const struct org_claim *cl = &c->d->claims[i];
        struct duty d;
        if (strmap_get(c->d->decisions, cl->id) ||
            (c->viewer == ORG_COMMUNITY && !is_self(c, cl->to)))
            continue;
        org_duty_init(&d, DUTY_CLAIM_DECISION, ORG_COMMUNITY, cl->to, cl->id);
        if (duties_date_add(cl->date, (int32_t)c->p->opinion_days, d.due) != DS_OK)
            continue;
        snprintf(d.zh, sizeof(d.zh), "服务认领:单位 %s 认领了需求,须在 %s 前决定批准或谢绝",
                 cl->date, d.due);
        snprintf(d.en, sizeof(d.en), "service claim of %s by a unit: approve or decline it by %s",
                 cl->date, d.due);
        org_send(c, &d);
    }
}

static void org_requests(const struct org_ctx *c)
{
    if (c->viewer != ORG_COMMUNITY && c->viewer != ORG_UNIT && c->viewer != ORG_STREET)
        return;
    for (size_t i = 0; i < c->d->n_requests; i++) {
        const struct org_request *r = &c->d->requests[i];
        if (c->viewer == ORG_UNIT && !is_self(c, r->origin))
            continue;
        for (size_t k = 0; k < r->n_to; k++) {
            char key[IDS_EVENT_ID_MAX + IDS_ORG_MAX + 2];
            struct duty d;
            if (c->viewer == ORG_COMMUNITY && !is_self(c, r->to[k]))
                continue;
            reply_key(key, sizeof(key), r->id, r->to[k]);
            if (strmap_get(c->d->replies, key))
                continue;
            org_duty_init(&d, DUTY_OPINION_REPLY, ORG_COMMUNITY, r->to[k], r->id);
            if (!opinion_due(r->due, r->date, c->p, d.due))
                continue;
            opinion_text(&d, r->kind, c->viewer);
            org_send(c, &d);
        }
    }
}

static void org_needs(const struct org_ctx *c)
{
    if (c->viewer != ORG_UNIT)
        return;
    for (size_t i = 0; i < c->d->n_needs; i++) {
        const struct org_need *n = &c->d->needs[i];
        struct duty d;
        if (strcmp(duties_org_status(c->d, n->id), "open") != 0)
            continue;
        org_duty_init(&d, DUTY_NEED_OPEN, ORG_UNIT, c->self ? c->self : "", n->id);
        snprintf(d.zh, sizeof(d.zh), "社区需求:社区 %s 发布的需求尚无人认领,可认领", n->date);
        snprintf(d.en, sizeof(d.en), "service need published by a community on %s is open to claim",
                 n->date);
        org_send(c, &d);
    }
}

int duties_org_each(const struct duties_org *d, enum org_kind viewer, const char *self,
                    const struct policy *p, const char *as_of, duties_emit_fn emit, void *arg)
{
    if (!ids_date_valid(as_of) || !policy_valid(p) || !emit ||
        (viewer != ORG_UNIT && viewer != ORG_COMMUNITY && viewer != ORG_STREET) ||
        (viewer != ORG_STREET && !self))
        return DS_EINVAL;
    struct org_ctx c = {d, viewer, self, p, as_of, emit, arg};
    org_claims(&c);
    org_requests(&c);
    org_needs(&c);
    return DS_OK;
}
