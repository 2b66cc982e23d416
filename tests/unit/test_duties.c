/* Unit tests of duties: date arithmetic (leap years, working days across weekends, month
 * ends), feedback periods (yearly, half-yearly, quarterly), and every duty kind on
 * hand-built records at chosen "as of" dates: each appears exactly when it should, with
 * the right due date and overdue flag, for the right viewer; closed registrations yield
 * nothing. Org-level duties are fed real signed events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "calendar.h"
#include "duties.h"
#include "fold.h"
#include "testutil.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UNIT "unit:tax-bureau"
#define COMM "community:hy-03"
#define COMM2 "community:hy-07"
#define T(x) DUALSYNC__EVENT_TYPE__EVENT_##x

static struct keys k;

/* ---------------------------------------------------------------- helpers */

static void set(char **field, const char *value)
{
    if (*field && *field != protobuf_c_empty_string)
        free(*field);
    *field = xstrdup(value);
}

#define PUSH(arr, n, item)                                                                         \
    do {                                                                                           \
        (arr) = xrealloc((arr), ((n) + 1) * sizeof(*(arr)));                                       \
        (arr)[(n)++] = (item);                                                                     \
    } while (0)

/* An open registration of M1: introduced on intro_date with 30 days to report in. */
static Dualsync__MemberRecord *record(const char *intro_date)
{
    Dualsync__MemberRecord *rec = fold_new("M1");
    set(&rec->name, "\xe5\xbc\xa0\xe4\xb8\x89"); /* 张三 */
    set(&rec->unit, UNIT);
    set(&rec->community, COMM);
    set(&rec->intro_date, intro_date);
    set(&rec->intro_id, UNIT "/1");
    rec->report_days = 30;
    return rec;
}

static void report_in(Dualsync__MemberRecord *rec, const char *date)
{
    rec->reported = true;
    set(&rec->report_date, date);
    set(&rec->group, "b3"); /* most tests do not want the group duty */
}

static Dualsync__FeedbackEntry *feedback(Dualsync__MemberRecord *rec, const char *id, uint32_t year,
                                         const char *period, Dualsync__Rating r, const char *date)
{
    Dualsync__FeedbackEntry *f = xmalloc(sizeof(*f));
    dualsync__feedback_entry__init(f);
    set(&f->event_id, id);
    set(&f->period, period);
    set(&f->date, date);
    f->year = year;
    f->rating = r;
    PUSH(rec->feedback, rec->n_feedback, f);
    return f;
}

static void handling(Dualsync__MemberRecord *rec, const char *id, const char *feedback_id)
{
    Dualsync__HandlingEntry *h = xmalloc(sizeof(*h));
    dualsync__handling_entry__init(h);
    set(&h->event_id, id);
    set(&h->feedback_id, feedback_id);
    h->action = DUALSYNC__HANDLING_ACTION__HANDLING_CRITICISM;
    PUSH(rec->handling, rec->n_handling, h);
}

static void attend(Dualsync__MemberRecord *rec, const char *date, uint32_t minutes)
{
    Dualsync__AttendanceEntry *a = xmalloc(sizeof(*a));
    dualsync__attendance_entry__init(a);
    set(&a->event_id, COMM "/99");
    set(&a->activity, COMM "/5");
    set(&a->kind, "volunteer-service");
    set(&a->date, date);
    a->minutes = minutes;
    PUSH(rec->attendance, rec->n_attendance, a);
}

static Dualsync__OpinionEntry *opinion(Dualsync__MemberRecord *rec, const char *id,
                                       const char *date, const char *due)
{
    Dualsync__OpinionEntry *o = xmalloc(sizeof(*o));
    dualsync__opinion_entry__init(o);
    set(&o->event_id, id);
    set(&o->subject, "subject");
    set(&o->date, date);
    set(&o->due, due);
    o->kind = DUALSYNC__OPINION_KIND__OPINION_EXCELLENT_MEMBER;
    PUSH(rec->opinions, rec->n_opinions, o);
    return o;
}

static Dualsync__NoticeEntry *notice(Dualsync__MemberRecord *rec, const char *id, const char *start,
                                     const char *end)
{
    Dualsync__NoticeEntry *n = xmalloc(sizeof(*n));
    dualsync__notice_entry__init(n);
    set(&n->event_id, id);
    set(&n->title, "title");
    set(&n->matter, "matter");
    set(&n->start, start);
    set(&n->end, end);
    PUSH(rec->notices, rec->n_notices, n);
    return n;
}

static Dualsync__DifficultyEntry *difficulty(Dualsync__MemberRecord *rec, const char *id,
                                             const char *date)
{
    Dualsync__DifficultyEntry *d = xmalloc(sizeof(*d));
    dualsync__difficulty_entry__init(d);
    set(&d->event_id, id);
    set(&d->text, "text");
    set(&d->date, date);
    PUSH(rec->difficulties, rec->n_difficulties, d);
    return d;
}

/* What duties_member emitted. */
struct got_one {
    enum duty_kind kind;
    enum org_kind actor;
    char org[IDS_ORG_MAX];
    char member[IDS_MEMBER_MAX + 1];
    char ref[IDS_EVENT_ID_MAX];
    char due[DUTIES_DATE_LEN];
    bool overdue;
};

struct got {
    size_t n;
    struct got_one item[64];
};

static void collect(const struct duty *d, void *arg)
{
    struct got *g = arg;
    assert_true(g->n < 64);
    struct got_one *o = &g->item[g->n++];
    o->kind = d->kind;
    o->actor = d->actor;
    snprintf(o->org, sizeof(o->org), "%s", d->org);
    snprintf(o->member, sizeof(o->member), "%s", d->member);
    snprintf(o->ref, sizeof(o->ref), "%s", d->ref);
    snprintf(o->due, sizeof(o->due), "%s", d->due);
    o->overdue = d->overdue;
    assert_true(d->zh[0] != '\0');
    assert_true(d->en[0] != '\0');
}

static struct policy policy(void)
{
    struct policy p;
    config_policy_defaults(&p);
    return p;
}

static struct got run(const Dualsync__MemberRecord *rec, enum org_kind viewer,
                      const struct policy *p, const char *as_of)
{
    struct got g;
    memset(&g, 0, sizeof(g));
    assert_rc(duties_member(rec, viewer, p, as_of, collect, &g), DS_OK);
    return g;
}

static size_t count(const struct got *g, enum duty_kind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < g->n; i++)
        n += g->item[i].kind == kind;
    return n;
}

/* The only duty of a kind (the test fails unless there is exactly one). */
static const struct got_one *only(const struct got *g, enum duty_kind kind)
{
    const struct got_one *found = NULL;
    for (size_t i = 0; i < g->n; i++)
        if (g->item[i].kind == kind) {
            assert_null(found);
            found = &g->item[i];
        }
    assert_non_null(found);
    return found;
}

static void check_add(const char *date, int32_t days, const char *want)
{
    char out[DUTIES_DATE_LEN];
    assert_rc(duties_date_add(date, days, out), DS_OK);
    assert_string_equal(out, want);
}

static void check_working(const char *date, uint32_t n, const char *want)
{
    char out[DUTIES_DATE_LEN];
    assert_rc(duties_date_add_working(date, n, out), DS_OK);
    assert_string_equal(out, want);
}

static void check_months(const char *date, int32_t m, const char *want)
{
    char out[DUTIES_DATE_LEN];
    assert_rc(duties_date_add_months(date, m, out), DS_OK);
    assert_string_equal(out, want);
}

static void check_period(const char *date, uint32_t per_year, const char *label, const char *start,
                         const char *end)
{
    struct duties_period p;
    assert_rc(duties_period_of(date, per_year, &p), DS_OK);
    assert_string_equal(p.label, label);
    assert_string_equal(p.start, start);
    assert_string_equal(p.end, end);
}

/* ---------------------------------------------------------------- dates and periods */

static void test_duties_date_arithmetic(void **state)
{
    (void)state;
    char out[DUTIES_DATE_LEN];
    int32_t days;
    assert_true(duties_date_days("1970-01-01", &days));
    assert_int_equal(days, 0);
    assert_true(duties_date_days("2026-01-01", &days));
    assert_int_equal(days, 20454);
    assert_rc(duties_date_from_days(20454, out), DS_OK);
    assert_string_equal(out, "2026-01-01");
    check_add("2026-01-30", 30, "2026-03-01"); /* not a leap year */
    check_add("2024-01-30", 30, "2024-02-29"); /* leap year */
    check_add("2024-02-28", 1, "2024-02-29");
    check_add("2023-02-28", 1, "2023-03-01");
    check_add("2000-02-28", 1, "2000-02-29"); /* divisible by 400: leap */
    check_add("1900-02-28", 1, "1900-03-01"); /* divisible by 100: not leap */
    check_add("2026-12-31", 1, "2027-01-01");
    check_add("2026-03-01", -1, "2026-02-28");
    check_add("2026-02-01", 30, "2026-03-03");
    check_add("2026-05-05", 0, "2026-05-05");
    assert_rc(duties_date_add("9999-12-31", 1, out), DS_EINVAL);
    assert_rc(duties_date_add("1900-01-01", -1, out), DS_EINVAL);
    assert_rc(duties_date_add("2026-02-30", 1, out), DS_EINVAL);
    assert_rc(duties_date_add("2026-1-01", 1, out), DS_EINVAL);
    assert_rc(duties_date_add(NULL, 1, out), DS_EINVAL);
    assert_false(duties_date_days("", &days));
    /* every day of a leap year round-trips */
    assert_true(duties_date_days("2024-01-01", &days));
    for (int32_t i = 0; i < 366; i++) {
        int32_t back;
        assert_rc(duties_date_from_days(days + i, out), DS_OK);
        assert_true(duties_date_days(out, &back));
        assert_int_equal(back, days + i);
    }
    assert_string_equal(out, "2024-12-31");
    check_months("2026-03-31", -1, "2026-02-28");
    check_months("2024-03-31", -1, "2024-02-29");
    check_months("2026-08-31", -6, "2026-02-28");
    check_months("2026-01-15", -1, "2025-12-15");
    check_months("2026-11-30", 3, "2027-02-28");
    assert_rc(duties_date_add_months("1900-01-15", -1, out), DS_EINVAL);
    /* the day of a clock value, UTC */
    assert_rc(duties_date_from_hlc(((uint64_t)20454 * 86400000u + 3600000u) << 16 | 7, out), DS_OK);
    assert_string_equal(out, "2026-01-01");
}

static void test_duties_working_days(void **state)
{
    (void)state;
    char out[DUTIES_DATE_LEN];
    assert_int_equal(duties_weekday("2026-01-01"), 4); /* Thursday */
    assert_int_equal(duties_weekday("2026-01-03"), 6);
    assert_int_equal(duties_weekday("2026-01-04"), 7);
    assert_int_equal(duties_weekday("2026-01-05"), 1);
    assert_int_equal(duties_weekday("1900-01-01"), 1); /* a Monday */
    assert_int_equal(duties_weekday("bad"), 0);
    /* a March without holidays: Monday to Friday */
    check_working("2026-03-06", 1, "2026-03-09"); /* Friday + 1: Monday */
    check_working("2026-03-07", 1, "2026-03-09"); /* Saturday + 1: Monday */
    check_working("2026-03-07", 5, "2026-03-13"); /* Saturday + 5: Friday */
    check_working("2026-03-09", 5, "2026-03-16"); /* Monday + 5: next Monday */
    check_working("2026-03-12", 3, "2026-03-17"); /* Thursday + 3 crosses a weekend */
    check_working("2026-03-11", 0, "2026-03-11");
    check_working("2024-02-28", 2, "2024-03-01"); /* Wed + 2 across a leap day */
    /* public holidays and make-up working days (调休) of the built-in schedules */
    check_working("2026-12-31", 1, "2027-01-04"); /* New Year's Day is off */
    check_working("2026-01-02", 1, "2026-01-04"); /* Sunday 4 January is a working day */
    check_working("2026-09-30", 1, "2026-10-08"); /* the National Day week */
    check_working("2026-09-30", 3, "2026-10-10"); /* ... and Saturday 10 October works */
    check_working("2026-02-13", 1, "2026-02-14"); /* Saturday before the Spring Festival */
    check_working("2026-02-13", 2, "2026-02-24");
    assert_true(duties_working_day("2026-01-04"));
    assert_false(duties_working_day("2026-10-05"));
    assert_false(duties_working_day("2026-03-07"));
    /* a notice of 5 working days */
    assert_rc(duties_notice_end("2026-03-09", 5, out), DS_OK);
    assert_string_equal(out, "2026-03-13"); /* Monday to Friday */
    assert_rc(duties_notice_end("2026-03-07", 5, out), DS_OK);
    assert_string_equal(out, "2026-03-13"); /* from a Saturday: Monday to Friday */
    assert_rc(duties_notice_end("2026-03-11", 5, out), DS_OK);
    assert_string_equal(out, "2026-03-17"); /* Wednesday to the next Tuesday */
    assert_rc(duties_notice_end("2026-06-18", 5, out), DS_OK);
    assert_string_equal(out, "2026-06-25"); /* the Dragon Boat Festival weekend skipped */
    assert_rc(duties_notice_end("2026-10-01", 1, out), DS_OK);
    assert_string_equal(out, "2026-10-08"); /* posted on a holiday: starts after it */
    assert_rc(duties_notice_end("2026-03-11", 1, out), DS_OK);
    assert_string_equal(out, "2026-03-11");
    assert_rc(duties_notice_end("2026-03-11", 0, out), DS_EINVAL);
    assert_rc(duties_date_add_working("9999-12-31", 1, out), DS_EINVAL);
    assert_rc(duties_date_add_working("x", 1, out), DS_EINVAL);
}

/* A street's holidays.txt adds to and overrides the built-in days; a bad line changes
 * nothing and names its line; no file changes nothing. */
static void test_duties_calendar_file(void **state)
{
    char dir[64], path[128], err[256], out[DUTIES_DATE_LEN];
    (void)state;
    tu_tmpdir(dir);
    snprintf(path, sizeof(path), "%s/holidays.txt", dir);
    FILE *f = fopen(path, "w");
    fputs("# 测试街道的调整\n2026-03-09 off 街道活动日\n\n2026-03-07 班 调休\n", f);
    fclose(f);
    assert_rc(calendar_load(path, err, sizeof(err)), DS_OK);
    check_working("2026-03-06", 1, "2026-03-07"); /* the Saturday now works */
    check_working("2026-03-07", 1, "2026-03-10"); /* and Monday 9 is off */
    check_working("2026-09-30", 1, "2026-10-08"); /* the built-in days remain */
    f = fopen(path, "w");
    fputs("2026-03-10 off\n2026-13-01 off\n", f);
    fclose(f);
    assert_rc(calendar_load(path, err, sizeof(err)), DS_EINVAL);
    assert_non_null(strstr(err, "line 2"));
    check_working("2026-03-07", 1, "2026-03-10"); /* unchanged by the refused file */
    snprintf(path, sizeof(path), "%s/none.txt", dir);
    assert_rc(calendar_load(path, err, sizeof(err)), DS_ENOTFOUND);
    assert_rc(calendar_load_dir(dir), DS_EINVAL); /* the daemons refuse to start on it */
    snprintf(path, sizeof(path), "%s/holidays.txt", dir);
    unlink(path);
    assert_rc(calendar_load_dir(dir), DS_OK); /* no holidays.txt: fine */
    calendar_reset();
    check_working("2026-03-06", 1, "2026-03-09");
    assert_rc(duties_date_add_working("2026-03-06", DUTIES_WORKING_DAYS_MAX + 1, out), DS_EINVAL);
    tu_rmtree(dir);
}

static void test_duties_periods(void **state)
{
    (void)state;
    struct duties_period p, prev, q;
    check_period("2026-06-15", 1, "2026", "2026-01-01", "2026-12-31");
    check_period("2026-05-20", 4, "2026-Q2", "2026-04-01", "2026-06-30");
    check_period("2026-01-01", 4, "2026-Q1", "2026-01-01", "2026-03-31");
    check_period("2026-12-31", 4, "2026-Q4", "2026-10-01", "2026-12-31");
    check_period("2026-09-30", 4, "2026-Q3", "2026-07-01", "2026-09-30");
    check_period("2026-05-20", 2, "2026-Q2", "2026-01-01", "2026-06-30");
    check_period("2026-07-01", 2, "2026-Q4", "2026-07-01", "2026-12-31");
    assert_rc(duties_period_of("2026-05-20", 3, &p), DS_EINVAL);
    assert_rc(duties_period_of("2026-13-01", 1, &p), DS_EINVAL);

    assert_rc(duties_period_of("2026-02-10", 4, &p), DS_OK);
    assert_rc(duties_period_prev(&p, 4, &prev), DS_OK);
    assert_string_equal(prev.label, "2025-Q4");
    assert_string_equal(prev.start, "2025-10-01");
    assert_string_equal(prev.end, "2025-12-31");
    assert_rc(duties_period_of("2026-02-10", 2, &p), DS_OK);
    assert_rc(duties_period_prev(&p, 2, &prev), DS_OK);
    assert_string_equal(prev.label, "2025-Q4");
    assert_string_equal(prev.start, "2025-07-01");
    assert_rc(duties_period_of("2026-02-10", 1, &p), DS_OK);
    assert_rc(duties_period_prev(&p, 1, &prev), DS_OK);
    assert_string_equal(prev.label, "2025");

    assert_rc(duties_period_parse("2024-Q1", 4, &q), DS_OK);
    assert_string_equal(q.end, "2024-03-31");
    assert_rc(duties_period_parse("2024-Q1", 2, &q), DS_OK); /* still a quarter */
    assert_string_equal(q.end, "2024-03-31");
    assert_rc(duties_period_parse("2024-Q2", 2, &q), DS_OK); /* the first half-year */
    assert_string_equal(q.start, "2024-01-01");
    assert_rc(duties_period_parse("2026-Q5", 4, &q), DS_EINVAL);
    assert_rc(duties_period_parse("2026Q1", 4, &q), DS_EINVAL);
    assert_rc(duties_period_parse("26", 1, &q), DS_EINVAL);
    assert_rc(duties_period_parse("0999", 1, &q), DS_EINVAL);

    assert_rc(duties_period_parse("2026", 4, &p), DS_OK);
    assert_rc(duties_period_parse("2026-Q3", 4, &q), DS_OK);
    assert_true(duties_period_overlaps(&p, &q));
    assert_true(duties_period_overlaps(&q, &p));
    assert_rc(duties_period_parse("2025", 4, &p), DS_OK);
    assert_false(duties_period_overlaps(&p, &q));
}

static void test_duties_figures(void **state)
{
    (void)state;
    Dualsync__MemberRecord *rec = record("2025-01-10");
    struct duties_figures fig;
    assert_true(duties_open(rec));
    assert_false(duties_card_complete(rec));
    set(&rec->occupation, "teacher");
    set(&rec->willingness, "patrol");
    set(&rec->rest_time, "weekends");
    assert_false(duties_card_complete(rec));
    set(&rec->contact, "138");
    assert_true(duties_card_complete(rec));
    attend(rec, "2025-12-31", 60);
    attend(rec, "2026-01-01", 90);
    attend(rec, "2026-06-30", 30);
    attend(rec, "2027-01-01", 45);
    duties_participation(rec, "2026-01-01", "2026-12-31", &fig);
    assert_int_equal(fig.activities, 2);
    assert_int_equal(fig.minutes, 120);
    assert_string_equal(fig.last, "2026-06-30");
    duties_participation(rec, "2024-01-01", "2024-12-31", &fig);
    assert_int_equal(fig.activities, 0);
    assert_string_equal(fig.last, "");
    /* 9,000 attendances of a full year's minutes each: past 2^32, not wrapped */
    Dualsync__MemberRecord *busy = fold_new("M9");
    for (int i = 0; i < 9000; i++)
        attend(busy, "2024-06-01", 366u * 24u * 60u);
    duties_participation(busy, "2024-01-01", "2024-12-31", &fig);
    assert_true(fig.minutes == 9000ull * 366u * 24u * 60u);
    fold_free(&busy);
    feedback(rec, COMM "/1", 2025, "2025", DUALSYNC__RATING__RATING_GOOD, "2025-12-20");
    feedback(rec, COMM "/2", 2026, "2026-Q1", DUALSYNC__RATING__RATING_POOR, "2026-03-20");
    assert_int_equal(duties_feedback_count(rec, 2026), 1);
    assert_int_equal(duties_feedback_count(rec, 2024), 0);
    assert_false(duties_feedback_flagged(rec->feedback[0]));
    assert_true(duties_feedback_flagged(rec->feedback[1]));
    rec->feedback[0]->poor_conduct = true;
    assert_true(duties_feedback_flagged(rec->feedback[0]));
    assert_false(duties_handled(rec, COMM "/2"));
    handling(rec, UNIT "/9", COMM "/2");
    assert_true(duties_handled(rec, COMM "/2"));
    rec->closed = DUALSYNC__CLOSE_REASON__CLOSE_MOVED;
    assert_false(duties_open(rec));
    fold_free(&rec);
    assert_string_equal(duties_kind_name(DUTY_REPORT_IN), "report-in");
    assert_string_equal(duties_kind_name(DUTY_LONG_NON_PARTICIPATION), "long-non-participation");
    assert_string_equal(duties_kind_name(DUTY_NEED_OPEN), "need-open");
    assert_string_equal(duties_kind_name(DUTY_KIND_COUNT), "unknown");
}

/* ---------------------------------------------------------------- member duties */

static void test_duties_report_in(void **state)
{
    (void)state;
    struct policy p = policy();
    Dualsync__MemberRecord *rec = record("2026-01-30");
    struct got g = run(rec, ORG_COMMUNITY, &p, "2026-03-01");
    assert_int_equal(g.n, 1);
    const struct got_one *d = only(&g, DUTY_REPORT_IN);
    assert_string_equal(d->due, "2026-03-01");
    assert_false(d->overdue); /* the last day is still on time */
    assert_int_equal(d->actor, ORG_NONE);
    assert_string_equal(d->org, COMM);
    assert_string_equal(d->ref, UNIT "/1");
    assert_string_equal(d->member, "M1");
    g = run(rec, ORG_COMMUNITY, &p, "2026-03-02");
    assert_true(only(&g, DUTY_REPORT_IN)->overdue);
    g = run(rec, ORG_UNIT, &p, "2026-03-02");
    assert_int_equal(g.n, 1);
    assert_true(only(&g, DUTY_REPORT_IN)->overdue);
    g = run(rec, ORG_STREET, &p, "2026-02-01");
    assert_false(only(&g, DUTY_REPORT_IN)->overdue);
    /* the member's own report_days count, in a leap year */
    set(&rec->intro_date, "2024-01-30");
    g = run(rec, ORG_UNIT, &p, "2024-02-29");
    assert_string_equal(only(&g, DUTY_REPORT_IN)->due, "2024-02-29");
    assert_false(only(&g, DUTY_REPORT_IN)->overdue);
    rec->report_days = 10;
    g = run(rec, ORG_UNIT, &p, "2024-02-29");
    assert_string_equal(only(&g, DUTY_REPORT_IN)->due, "2024-02-09");
    assert_true(only(&g, DUTY_REPORT_IN)->overdue);
    /* reported: gone on both sides */
    report_in(rec, "2024-02-01");
    g = run(rec, ORG_UNIT, &p, "2024-02-29");
    assert_int_equal(count(&g, DUTY_REPORT_IN), 0);
    g = run(rec, ORG_COMMUNITY, &p, "2024-02-29");
    assert_int_equal(count(&g, DUTY_REPORT_IN), 0);
    fold_free(&rec);
}

static void test_duties_feedback_yearly(void **state)
{
    (void)state;
    struct policy p = policy();
    Dualsync__MemberRecord *rec = record("2025-02-01");
    report_in(rec, "2025-03-01");
    struct got g = run(rec, ORG_COMMUNITY, &p, "2026-02-10");
    assert_int_equal(count(&g, DUTY_FEEDBACK), 2);
    for (size_t i = 0; i < g.n; i++) {
        const struct got_one *d = &g.item[i];
        if (d->kind != DUTY_FEEDBACK)
            continue;
        if (strcmp(d->ref, "2025") == 0) {
            assert_string_equal(d->due, "2025-12-31");
            assert_true(d->overdue);
        } else {
            assert_string_equal(d->ref, "2026");
            assert_string_equal(d->due, "2026-12-31");
            assert_false(d->overdue);
        }
        assert_int_equal(d->actor, ORG_COMMUNITY);
    }
    /* the unit does not write feedback letters */
    g = run(rec, ORG_UNIT, &p, "2026-02-10");
    assert_int_equal(count(&g, DUTY_FEEDBACK), 0);
    /* the 2025 letter clears the overdue one */
    feedback(rec, COMM "/4", 2025, "2025", DUALSYNC__RATING__RATING_GOOD, "2025-12-20");
    g = run(rec, ORG_COMMUNITY, &p, "2026-02-10");
    assert_string_equal(only(&g, DUTY_FEEDBACK)->ref, "2026");
    /* a letter without a period counts for its year */
    feedback(rec, COMM "/5", 2026, "", DUALSYNC__RATING__RATING_GOOD, "2026-02-01");
    g = run(rec, ORG_COMMUNITY, &p, "2026-02-10");
    assert_int_equal(count(&g, DUTY_FEEDBACK), 0);
    /* at the turn of the year, the new year's letter is due */
    g = run(rec, ORG_COMMUNITY, &p, "2027-01-01");
    assert_string_equal(only(&g, DUTY_FEEDBACK)->ref, "2027");
    fold_free(&rec);

    /* a member who reported after the previous period ended owes nothing for it */
    rec = record("2025-12-20");
    report_in(rec, "2026-01-05");
    g = run(rec, ORG_COMMUNITY, &p, "2026-02-10");
    assert_string_equal(only(&g, DUTY_FEEDBACK)->ref, "2026");
    /* an unreported member owes no feedback yet */
    rec->reported = false;
    g = run(rec, ORG_COMMUNITY, &p, "2026-02-10");
    assert_int_equal(count(&g, DUTY_FEEDBACK), 0);
    fold_free(&rec);
}

static void test_duties_feedback_quarterly(void **state)
{
    (void)state;
    struct policy p = policy();
    p.feedback_per_year = 4;
    Dualsync__MemberRecord *rec = record("2025-11-01");
    report_in(rec, "2025-12-01");
    struct got g = run(rec, ORG_COMMUNITY, &p, "2026-05-20");
    assert_int_equal(count(&g, DUTY_FEEDBACK), 2);
    for (size_t i = 0; i < g.n; i++) {
        if (g.item[i].kind != DUTY_FEEDBACK)
            continue;
        if (strcmp(g.item[i].ref, "2026-Q1") == 0) {
            assert_string_equal(g.item[i].due, "2026-03-31");
            assert_true(g.item[i].overdue);
        } else {
            assert_string_equal(g.item[i].ref, "2026-Q2");
            assert_string_equal(g.item[i].due, "2026-06-30");
            assert_false(g.item[i].overdue);
        }
    }
    /* on the quarter's last day it is due, not overdue */
    g = run(rec, ORG_COMMUNITY, &p, "2026-06-30");
    assert_int_equal(count(&g, DUTY_FEEDBACK), 2);
    feedback(rec, COMM "/8", 2026, "2026-Q1", DUALSYNC__RATING__RATING_GOOD, "2026-03-30");
    g = run(rec, ORG_COMMUNITY, &p, "2026-05-20");
    assert_string_equal(only(&g, DUTY_FEEDBACK)->ref, "2026-Q2");
    /* a yearly letter covers every quarter of its year */
    feedback(rec, COMM "/9", 2026, "2026", DUALSYNC__RATING__RATING_GOOD, "2026-04-02");
    g = run(rec, ORG_COMMUNITY, &p, "2026-05-20");
    assert_int_equal(count(&g, DUTY_FEEDBACK), 0);
    /* after the year's turn the yearly letter still covers 2026-Q4: only 2027-Q1 is due */
    g = run(rec, ORG_COMMUNITY, &p, "2027-01-15");
    assert_string_equal(only(&g, DUTY_FEEDBACK)->ref, "2027-Q1");
    assert_string_equal(only(&g, DUTY_FEEDBACK)->due, "2027-03-31");
    fold_free(&rec);

    /* half-yearly: 2026-Q2 is January to June */
    p.feedback_per_year = 2;
    rec = record("2025-11-01");
    report_in(rec, "2025-12-01");
    feedback(rec, COMM "/3", 2025, "2025-Q4", DUALSYNC__RATING__RATING_GOOD, "2025-12-30");
    g = run(rec, ORG_COMMUNITY, &p, "2026-02-01");
    const struct got_one *d = only(&g, DUTY_FEEDBACK);
    assert_string_equal(d->ref, "2026-Q2");
    assert_string_equal(d->due, "2026-06-30");
    fold_free(&rec);
}

static void test_duties_handling(void **state)
{
    (void)state;
    struct policy p = policy();
    Dualsync__MemberRecord *rec = record("2025-02-01");
    report_in(rec, "2025-03-01");
    feedback(rec, COMM "/4", 2025, "2025", DUALSYNC__RATING__RATING_GOOD, "2025-12-20");
    feedback(rec, COMM "/6", 2026, "2026", DUALSYNC__RATING__RATING_POOR, "2026-03-10");
    Dualsync__FeedbackEntry *fair =
        feedback(rec, COMM "/7", 2026, "2026", DUALSYNC__RATING__RATING_FAIR, "2026-03-12");
    struct got g = run(rec, ORG_UNIT, &p, "2026-04-09");
    const struct got_one *d = only(&g, DUTY_HANDLING);
    assert_string_equal(d->ref, COMM "/6");
    assert_string_equal(d->due, "2026-04-09");
    assert_false(d->overdue);
    assert_int_equal(d->actor, ORG_UNIT);
    assert_string_equal(d->org, UNIT);
    g = run(rec, ORG_UNIT, &p, "2026-04-10");
    assert_true(only(&g, DUTY_HANDLING)->overdue);
    /* the community does not write handling results */
    g = run(rec, ORG_COMMUNITY, &p, "2026-04-10");
    assert_int_equal(count(&g, DUTY_HANDLING), 0);
    /* long non-participation with a fair rating needs handling too */
    fair->non_participation = true;
    g = run(rec, ORG_UNIT, &p, "2026-04-10");
    assert_int_equal(count(&g, DUTY_HANDLING), 2);
    handling(rec, UNIT "/20", COMM "/6");
    handling(rec, UNIT "/21", COMM "/7");
    g = run(rec, ORG_UNIT, &p, "2026-04-10");
    assert_int_equal(count(&g, DUTY_HANDLING), 0);
    /* a letter without a date is dated by its clock */
    Dualsync__FeedbackEntry *f =
        feedback(rec, COMM "/8", 2026, "2026", DUALSYNC__RATING__RATING_GOOD, "");
    f->poor_conduct = true;
    f->hlc = ((uint64_t)20454 * 86400000u) << 16; /* 2026-01-01 */
    p.handling_days = 10;
    g = run(rec, ORG_UNIT, &p, "2026-04-10");
    assert_string_equal(only(&g, DUTY_HANDLING)->due, "2026-01-11");
    fold_free(&rec);
}

static void test_duties_opinion(void **state)
{
    (void)state;
    struct policy p = policy();
    Dualsync__MemberRecord *rec = record("2025-02-01");
    report_in(rec, "2025-03-01");
    feedback(rec, COMM "/4", 2026, "2026", DUALSYNC__RATING__RATING_GOOD, "2026-01-20");
    Dualsync__OpinionEntry *o = opinion(rec, UNIT "/30", "2026-04-15", "2026-04-30");
    struct got g = run(rec, ORG_COMMUNITY, &p, "2026-04-30");
    const struct got_one *d = only(&g, DUTY_OPINION_REPLY);
    assert_string_equal(d->due, "2026-04-30");
    assert_string_equal(d->ref, UNIT "/30");
    assert_false(d->overdue);
    assert_int_equal(d->actor, ORG_COMMUNITY);
    g = run(rec, ORG_UNIT, &p, "2026-05-01"); /* awaited by the unit */
    assert_true(only(&g, DUTY_OPINION_REPLY)->overdue);
    /* without a due date: date + opinion_days */
    set(&o->due, "");
    g = run(rec, ORG_COMMUNITY, &p, "2026-04-20");
    assert_string_equal(only(&g, DUTY_OPINION_REPLY)->due, "2026-04-30");
    set(&o->reply_id, COMM "/31");
    g = run(rec, ORG_COMMUNITY, &p, "2026-05-01");
    assert_int_equal(count(&g, DUTY_OPINION_REPLY), 0);
    g = run(rec, ORG_UNIT, &p, "2026-05-01");
    assert_int_equal(count(&g, DUTY_OPINION_REPLY), 0);
    fold_free(&rec);
}

static void test_duties_notice(void **state)
{
    (void)state;
    struct policy p = policy();
    Dualsync__MemberRecord *rec = record("2025-02-01");
    report_in(rec, "2025-03-01");
    Dualsync__NoticeEntry *n = notice(rec, UNIT "/40", "2026-04-06", "2026-04-10");
    struct got g = run(rec, ORG_COMMUNITY, &p, "2026-04-06");
    const struct got_one *d = only(&g, DUTY_NOTICE_POST);
    assert_string_equal(d->due, "2026-04-06");
    assert_string_equal(d->ref, UNIT "/40");
    assert_false(d->overdue);
    assert_int_equal(count(&g, DUTY_NOTICE_OBJECTIONS), 0);
    g = run(rec, ORG_COMMUNITY, &p, "2026-04-07");
    assert_true(only(&g, DUTY_NOTICE_POST)->overdue);
    g = run(rec, ORG_UNIT, &p, "2026-04-07");
    assert_int_equal(count(&g, DUTY_NOTICE_POST), 0);
    /* posted: the outcome is due on the first working day after a Friday end */
    set(&n->posted_date, "2026-04-06");
    g = run(rec, ORG_COMMUNITY, &p, "2026-04-08");
    assert_int_equal(count(&g, DUTY_NOTICE_POST), 0);
    d = only(&g, DUTY_NOTICE_OBJECTIONS);
    assert_string_equal(d->due, "2026-04-13");
    assert_false(d->overdue);
    g = run(rec, ORG_COMMUNITY, &p, "2026-04-13");
    assert_false(only(&g, DUTY_NOTICE_OBJECTIONS)->overdue);
    g = run(rec, ORG_COMMUNITY, &p, "2026-04-14");
    assert_true(only(&g, DUTY_NOTICE_OBJECTIONS)->overdue);
    n->outcome = DUALSYNC__NOTICE_STATUS__NOTICE_NO_OBJECTIONS;
    g = run(rec, ORG_COMMUNITY, &p, "2026-04-14");
    assert_int_equal(count(&g, DUTY_NOTICE_OBJECTIONS), 0);
    assert_int_equal(count(&g, DUTY_NOTICE_POST), 0);
    fold_free(&rec);
}

static void test_duties_difficulty_and_group(void **state)
{
    (void)state;
    struct policy p = policy();
    Dualsync__MemberRecord *rec = record("2025-02-01");
    Dualsync__DifficultyEntry *e = difficulty(rec, UNIT "/50", "2026-02-01");
    struct got g = run(rec, ORG_COMMUNITY, &p, "2026-03-04");
    const struct got_one *d = only(&g, DUTY_DIFFICULTY);
    assert_string_equal(d->due, "2026-03-03");
    assert_true(d->overdue);
    assert_int_equal(count(&g, DUTY_GROUP), 0); /* not reported yet */
    g = run(rec, ORG_UNIT, &p, "2026-03-04");
    assert_int_equal(count(&g, DUTY_DIFFICULTY), 0);
    set(&e->resolved_id, COMM "/51");
    g = run(rec, ORG_COMMUNITY, &p, "2026-03-04");
    assert_int_equal(count(&g, DUTY_DIFFICULTY), 0);

    report_in(rec, "2025-03-01");
    set(&rec->group, "");
    g = run(rec, ORG_COMMUNITY, &p, "2026-03-04");
    d = only(&g, DUTY_GROUP);
    assert_string_equal(d->due, "");
    assert_false(d->overdue);
    g = run(rec, ORG_UNIT, &p, "2026-03-04");
    assert_int_equal(count(&g, DUTY_GROUP), 0);
    set(&rec->group, "b3");
    g = run(rec, ORG_COMMUNITY, &p, "2026-03-04");
    assert_int_equal(count(&g, DUTY_GROUP), 0);
    fold_free(&rec);
}

static void test_duties_participation(void **state)
{
    (void)state;
    struct policy p = policy(); /* 4 activities, 8 hours */
    Dualsync__MemberRecord *rec = record("2025-01-02");
    report_in(rec, "2025-01-10");
    attend(rec, "2025-12-01", 600); /* last year: does not count */
    attend(rec, "2026-02-01", 120);
    attend(rec, "2026-03-01", 120);
    attend(rec, "2026-04-01", 120);
    struct got g = run(rec, ORG_COMMUNITY, &p, "2026-05-01");
    const struct got_one *d = only(&g, DUTY_PARTICIPATION);
    assert_string_equal(d->due, "2026-12-31");
    assert_string_equal(d->ref, "2026");
    assert_false(d->overdue);
    g = run(rec, ORG_UNIT, &p, "2026-05-01");
    assert_int_equal(count(&g, DUTY_PARTICIPATION), 0);
    attend(rec, "2026-05-01", 120); /* 4 activities, 480 minutes: met */
    g = run(rec, ORG_COMMUNITY, &p, "2026-05-01");
    assert_int_equal(count(&g, DUTY_PARTICIPATION), 0);
    p.min_hours = 9;
    g = run(rec, ORG_COMMUNITY, &p, "2026-05-01");
    assert_int_equal(count(&g, DUTY_PARTICIPATION), 1);
    fold_free(&rec);
}

static void test_duties_long_non_participation(void **state)
{
    (void)state;
    struct policy p = policy(); /* idle_months 6 */
    p.min_activities = 0;
    p.min_hours = 0;
    Dualsync__MemberRecord *rec = record("2025-01-02");
    report_in(rec, "2025-01-10");
    feedback(rec, COMM "/4", 2025, "2025", DUALSYNC__RATING__RATING_GOOD, "2025-12-20");
    feedback(rec, COMM "/5", 2026, "2026", DUALSYNC__RATING__RATING_GOOD, "2026-01-20");
    attend(rec, "2025-09-15", 60); /* exactly at the cutoff: older than six months */
    struct got g = run(rec, ORG_COMMUNITY, &p, "2026-03-15");
    const struct got_one *d = only(&g, DUTY_LONG_NON_PARTICIPATION);
    assert_string_equal(d->due, "");
    assert_false(d->overdue);
    assert_int_equal(g.n, 1);
    g = run(rec, ORG_UNIT, &p, "2026-03-15");
    assert_int_equal(count(&g, DUTY_LONG_NON_PARTICIPATION), 0);
    attend(rec, "2025-09-16", 60);
    g = run(rec, ORG_COMMUNITY, &p, "2026-03-15");
    assert_int_equal(count(&g, DUTY_LONG_NON_PARTICIPATION), 0);
    fold_free(&rec);

    /* registered for less than idle_months: not flagged */
    rec = record("2025-11-01");
    report_in(rec, "2025-12-01");
    feedback(rec, COMM "/5", 2026, "2026", DUALSYNC__RATING__RATING_GOOD, "2026-01-20");
    g = run(rec, ORG_COMMUNITY, &p, "2026-03-15");
    assert_int_equal(count(&g, DUTY_LONG_NON_PARTICIPATION), 0);
    g = run(rec, ORG_COMMUNITY, &p, "2026-06-02");
    assert_int_equal(count(&g, DUTY_LONG_NON_PARTICIPATION), 1);
    /* already flagged to the unit in a feedback letter: not again */
    rec->feedback[0]->non_participation = true;
    g = run(rec, ORG_COMMUNITY, &p, "2026-06-02");
    assert_int_equal(count(&g, DUTY_LONG_NON_PARTICIPATION), 0);
    fold_free(&rec);
}

/* A record with one of everything pending: closing it, by either side, ends every duty. */
static void test_duties_closed_yields_nothing(void **state)
{
    (void)state;
    struct policy p = policy();
    static const Dualsync__CloseReason reasons[] = {
        DUALSYNC__CLOSE_REASON__CLOSE_MOVED, DUALSYNC__CLOSE_REASON__CLOSE_RETURNED,
        DUALSYNC__CLOSE_REASON__CLOSE_REVOKED, DUALSYNC__CLOSE_REASON__CLOSE_RELEASED};
    Dualsync__MemberRecord *rec = record("2025-01-02");
    report_in(rec, "2025-01-10");
    set(&rec->group, "");
    feedback(rec, COMM "/6", 2025, "2025", DUALSYNC__RATING__RATING_POOR, "2025-12-10");
    opinion(rec, UNIT "/30", "2026-04-15", "2026-04-30");
    notice(rec, UNIT "/40", "2026-04-06", "2026-04-10");
    difficulty(rec, UNIT "/50", "2026-02-01");
    struct got g = run(rec, ORG_STREET, &p, "2026-05-01");
    assert_true(g.n >= 8);
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
        rec->closed = reasons[i];
        g = run(rec, ORG_STREET, &p, "2026-05-01");
        assert_int_equal(g.n, 0);
        g = run(rec, ORG_UNIT, &p, "2026-05-01");
        assert_int_equal(g.n, 0);
        g = run(rec, ORG_COMMUNITY, &p, "2026-05-01");
        assert_int_equal(g.n, 0);
    }
    fold_free(&rec);
    /* a record never introduced (events from nobody) has no duties either */
    rec = fold_new("M2");
    g = run(rec, ORG_STREET, &p, "2026-05-01");
    assert_int_equal(g.n, 0);
    fold_free(&rec);
}

static void test_duties_bad_input(void **state)
{
    (void)state;
    struct policy p = policy();
    struct got g;
    memset(&g, 0, sizeof(g));
    Dualsync__MemberRecord *rec = record("2026-01-30");
    assert_rc(duties_member(rec, ORG_UNIT, &p, "2026-02-30", collect, &g), DS_EINVAL);
    assert_rc(duties_member(rec, ORG_UNIT, &p, "", collect, &g), DS_EINVAL);
    assert_rc(duties_member(rec, ORG_NONE, &p, "2026-02-01", collect, &g), DS_EINVAL);
    p.feedback_per_year = 3;
    assert_rc(duties_member(rec, ORG_UNIT, &p, "2026-02-01", collect, &g), DS_EINVAL);
    assert_int_equal(g.n, 0);
    /* a record with a date it cannot parse yields no wrong deadline */
    p.feedback_per_year = 1;
    set(&rec->intro_date, "garbage");
    assert_rc(duties_member(rec, ORG_UNIT, &p, "2026-02-01", collect, &g), DS_OK);
    assert_int_equal(g.n, 0);
    fold_free(&rec);
}

/* ---------------------------------------------------------------- org-level duties */

static void org_event(struct duties_org *d, const char *origin, uint64_t seq, uint64_t hlc,
                      uint32_t type, const ProtobufCMessage *body, const char *to0, const char *to1)
{
    char *to[2] = {(char *)to0, (char *)to1};
    size_t n_to = to1 ? 2 : to0 ? 1 : 0;
    uint8_t *buf = NULL, *raw = NULL;
    size_t len = 0, raw_len = 0;
    struct event ev;
    wire_pack(body, &buf, &len);
    wire_event_build_to(&k, origin, seq, hlc, "", type, buf, len, to, n_to, &raw, &raw_len);
    assert_rc(wire_event_open(raw, raw_len, false, &ev), DS_OK);
    duties_org_add(d, &ev);
    wire_event_release(&ev);
    free(raw);
    free(buf);
}

static void need(struct duties_org *d, uint64_t seq, const char *date)
{
    Dualsync__ServiceNeed b = DUALSYNC__SERVICE_NEED__INIT;
    b.kind = DUALSYNC__NEED_KIND__NEED_WISH;
    b.title = "wish";
    b.date = (char *)date;
    org_event(d, COMM, seq, seq, T(SERVICE_NEED), &b.base, NULL, NULL);
}

static void claim(struct duties_org *d, const char *unit, uint64_t seq, const char *need_id,
                  const char *date)
{
    Dualsync__ServiceClaim b = DUALSYNC__SERVICE_CLAIM__INIT;
    b.need = (char *)need_id;
    b.date = (char *)date;
    org_event(d, unit, seq, seq, T(SERVICE_CLAIM), &b.base, COMM, NULL);
}

static void decide(struct duties_org *d, uint64_t seq, const char *claim_id, bool approved,
                   const char *unit)
{
    Dualsync__ClaimDecision b = DUALSYNC__CLAIM_DECISION__INIT;
    b.claim = (char *)claim_id;
    b.approved = approved;
    b.date = "2026-03-05";
    org_event(d, COMM, seq, seq, T(CLAIM_DECISION), &b.base, unit, NULL);
}

static struct got org_run(const struct duties_org *d, enum org_kind viewer, const char *self,
                          const char *as_of)
{
    struct policy p = policy();
    struct got g;
    memset(&g, 0, sizeof(g));
    assert_rc(duties_org_each(d, viewer, self, &p, as_of, collect, &g), DS_OK);
    return g;
}

static void test_duties_org_claims_and_needs(void **state)
{
    (void)state;
    struct duties_org *d = duties_org_new();
    need(d, 1, "2026-03-01");
    need(d, 2, "2026-03-01");
    /* a decision may arrive before the claim it answers */
    decide(d, 10, UNIT "/7", false, UNIT);
    claim(d, UNIT, 5, COMM "/1", "2026-03-02");
    claim(d, UNIT, 7, COMM "/2", "2026-03-02");
    assert_string_equal(duties_org_status(d, UNIT "/5"), "pending");
    assert_string_equal(duties_org_status(d, UNIT "/7"), "declined");
    assert_string_equal(duties_org_status(d, COMM "/1"), "claimed");
    assert_string_equal(duties_org_status(d, COMM "/2"), "open"); /* its claim was declined */
    assert_string_equal(duties_org_status(d, "unit:x/1"), "");

    struct got g = org_run(d, ORG_COMMUNITY, COMM, "2026-03-17");
    const struct got_one *o = only(&g, DUTY_CLAIM_DECISION);
    assert_string_equal(o->ref, UNIT "/5");
    assert_string_equal(o->due, "2026-03-17"); /* claim date + opinion_days (15) */
    assert_false(o->overdue);
    assert_string_equal(o->member, "");
    assert_string_equal(o->org, COMM);
    g = org_run(d, ORG_COMMUNITY, COMM, "2026-03-18");
    assert_true(only(&g, DUTY_CLAIM_DECISION)->overdue);
    g = org_run(d, ORG_COMMUNITY, COMM2, "2026-03-18"); /* not addressed to it */
    assert_int_equal(count(&g, DUTY_CLAIM_DECISION), 0);
    g = org_run(d, ORG_STREET, NULL, "2026-03-18");
    assert_int_equal(count(&g, DUTY_CLAIM_DECISION), 1);
    assert_int_equal(count(&g, DUTY_NEED_OPEN), 0);
    /* the unit may still claim the need whose claim was declined */
    g = org_run(d, ORG_UNIT, UNIT, "2026-03-18");
    assert_string_equal(only(&g, DUTY_NEED_OPEN)->ref, COMM "/2");
    assert_int_equal(count(&g, DUTY_CLAIM_DECISION), 0);

    decide(d, 11, UNIT "/5", true, UNIT);
    assert_string_equal(duties_org_status(d, UNIT "/5"), "approved");
    g = org_run(d, ORG_COMMUNITY, COMM, "2026-03-18");
    assert_int_equal(count(&g, DUTY_CLAIM_DECISION), 0);
    /* a later decision wins */
    decide(d, 12, UNIT "/5", false, UNIT);
    assert_string_equal(duties_org_status(d, UNIT "/5"), "declined");

    Dualsync__ServiceFulfilled f = DUALSYNC__SERVICE_FULFILLED__INIT;
    f.need = COMM "/2";
    f.claim = UNIT "/7";
    f.date = "2026-03-20";
    org_event(d, COMM, 13, 13, T(SERVICE_FULFILLED), &f.base, UNIT, NULL);
    assert_string_equal(duties_org_status(d, COMM "/2"), "fulfilled");
    duties_org_destroy(&d);
    assert_null(d);
    duties_org_destroy(&d); /* NULL-safe */
}

static void test_duties_org_opinions(void **state)
{
    (void)state;
    struct duties_org *d = duties_org_new();
    Dualsync__OpinionRequest r = DUALSYNC__OPINION_REQUEST__INIT;
    r.kind = DUALSYNC__OPINION_KIND__OPINION_CIVILISED_UNIT;
    r.subject = "civilised unit";
    r.due = "2026-04-30";
    r.date = "2026-04-01";
    org_event(d, UNIT, 3, 3, T(OPINION_REQUEST), &r.base, COMM, COMM2);
    org_event(d, UNIT, 3, 3, T(OPINION_REQUEST), &r.base, COMM, COMM2); /* fed twice */

    struct got g = org_run(d, ORG_UNIT, UNIT, "2026-04-20");
    assert_int_equal(count(&g, DUTY_OPINION_REPLY), 2); /* one per community */
    g = org_run(d, ORG_UNIT, "unit:other", "2026-04-20");
    assert_int_equal(count(&g, DUTY_OPINION_REPLY), 0);
    g = org_run(d, ORG_COMMUNITY, COMM, "2026-05-01");
    const struct got_one *o = only(&g, DUTY_OPINION_REPLY);
    assert_string_equal(o->ref, UNIT "/3");
    assert_string_equal(o->due, "2026-04-30");
    assert_true(o->overdue);
    assert_string_equal(o->org, COMM);

    Dualsync__OpinionReply rep = DUALSYNC__OPINION_REPLY__INIT;
    rep.request = UNIT "/3";
    rep.verdict = DUALSYNC__OPINION_VERDICT__VERDICT_AGREE;
    rep.date = "2026-04-10";
    org_event(d, COMM, 4, 4, T(OPINION_REPLY), &rep.base, UNIT, NULL);
    g = org_run(d, ORG_COMMUNITY, COMM, "2026-05-01");
    assert_int_equal(count(&g, DUTY_OPINION_REPLY), 0);
    g = org_run(d, ORG_UNIT, UNIT, "2026-04-20");
    assert_string_equal(only(&g, DUTY_OPINION_REPLY)->org, COMM2);
    g = org_run(d, ORG_STREET, NULL, "2026-05-01");
    assert_true(only(&g, DUTY_OPINION_REPLY)->overdue);

    struct policy p = policy();
    assert_rc(duties_org_each(d, ORG_UNIT, NULL, &p, "2026-05-01", collect, &g), DS_EINVAL);
    assert_rc(duties_org_each(d, ORG_UNIT, UNIT, &p, "2026-5-1", collect, &g), DS_EINVAL);
    duties_org_destroy(&d);
}

static int setup(void **state)
{
    (void)state;
    if (keys_crypto_init() != DS_OK)
        return -1;
    keys_generate(&k);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duties_date_arithmetic),
        cmocka_unit_test(test_duties_working_days),
        cmocka_unit_test(test_duties_calendar_file),
        cmocka_unit_test(test_duties_periods),
        cmocka_unit_test(test_duties_figures),
        cmocka_unit_test(test_duties_report_in),
        cmocka_unit_test(test_duties_feedback_yearly),
        cmocka_unit_test(test_duties_feedback_quarterly),
        cmocka_unit_test(test_duties_handling),
        cmocka_unit_test(test_duties_opinion),
        cmocka_unit_test(test_duties_notice),
        cmocka_unit_test(test_duties_difficulty_and_group),
        cmocka_unit_test(test_duties_participation),
        cmocka_unit_test(test_duties_long_non_participation),
        cmocka_unit_test(test_duties_closed_yields_nothing),
        cmocka_unit_test(test_duties_bad_input),
        cmocka_unit_test(test_duties_org_claims_and_needs),
        cmocka_unit_test(test_duties_org_opinions),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
