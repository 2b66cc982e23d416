/* duties: the deadlines of dual management (DESIGN section 7), as pure functions of a
 * member record or of org-level events, a policy and an "as of" date. No I/O, no clock:
 * the caller names the date. The node's `tasks` and `report` and the street's report all
 * call these, so the three agree on what is due and what is overdue.
 *
 * Dates are "YYYY-MM-DD" strings (ids_date_valid: 1900..9999); YYYY-MM-DD sorts as text,
 * so strcmp compares them. Working days are Monday to Friday; public holidays and the
 * make-up working days of the State Council's holiday calendar are not modelled.
 *
 * Feedback periods follow policy.feedback_per_year (the rules accept the labels "YYYY"
 * and "YYYY-Qn" only):
 *   1  the calendar year, label "2026";
 *   2  half-years, labelled by their closing quarter: "2026-Q2" is January to June,
 *      "2026-Q4" July to December (Q1 and Q3 keep meaning a quarter);
 *   4  quarters, "2026-Q1" .. "2026-Q4".
 * A feedback letter counts for a period when the period it names (or, without a period,
 * its year) overlaps that period, so a yearly letter also answers a quarterly policy and
 * the other way round.
 *
 * Every function is reentrant; nothing here allocates except duties_org_*. */
#ifndef DUALSYNC_DUTIES_H
#define DUALSYNC_DUTIES_H

#include "config.h"
#include "ids.h"
#include "wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DUTIES_DATE_LEN 11  /* "YYYY-MM-DD" + NUL */
#define DUTIES_LABEL_MAX 8  /* "2026-Q3" + NUL */
#define DUTIES_TEXT_MAX 384 /* one description, zh or en */

/* ---------------------------------------------------------------- dates */

/* Days since 1970-01-01 of a valid date. False (nothing written) for an invalid one. */
bool duties_date_days(const char *date, int32_t *days_out);

/* The date of a day number; DS_OK, or DS_EINVAL (out untouched) outside 1900..9999. */
int duties_date_from_days(int32_t days, char out[DUTIES_DATE_LEN]);

/* date + days (days may be negative). DS_OK or DS_EINVAL (bad date or out of range). */
int duties_date_add(const char *date, int32_t days, char out[DUTIES_DATE_LEN]);

/* date + months, the day clamped to the end of the target month (03-31 - 1 month is
 * 02-28 or 02-29). DS_OK or DS_EINVAL. */
int duties_date_add_months(const char *date, int32_t months, char out[DUTIES_DATE_LEN]);

/* ISO weekday of a valid date: 1 Monday .. 7 Sunday; 0 for an invalid date. */
int duties_weekday(const char *date);

/* Working days are those of common/calendar.c: Monday to Friday without the public
 * holidays, plus the make-up working days (调休). */
bool duties_working_day(const char *date);

/* The n-th working day after date (date itself not counted; n == 0 gives date; n at most
 * DUTIES_WORKING_DAYS_MAX). Friday + 1 is the next Monday unless that is a holiday.
 * DS_OK or DS_EINVAL. */
#define DUTIES_WORKING_DAYS_MAX 3660u
int duties_date_add_working(const char *date, uint32_t n, char out[DUTIES_DATE_LEN]);

/* The last day of a public notice of n >= 1 working days that starts on start: start
 * counts as the first day when it is a working day (otherwise the next working day does).
 * Monday + 5 working days ends on Friday in a week without holidays. DS_OK or DS_EINVAL
 * (n == 0, bad date). */
int duties_notice_end(const char *start, uint32_t n, char out[DUTIES_DATE_LEN]);

/* The UTC day of a hybrid logical clock value (48-bit milliseconds << 16). */
int duties_date_from_hlc(uint64_t hlc, char out[DUTIES_DATE_LEN]);

/* ---------------------------------------------------------------- feedback periods */

struct duties_period {
    char label[DUTIES_LABEL_MAX]; /* "2026", "2026-Q2" */
    char start[DUTIES_DATE_LEN];  /* first day */
    char end[DUTIES_DATE_LEN];    /* last day */
};

/* Whether per_year is one the policy allows: 1, 2 or 4. */
bool duties_per_year_valid(uint32_t per_year);

/* The feedback period containing date. DS_OK or DS_EINVAL (bad date or per_year). */
int duties_period_of(const char *date, uint32_t per_year, struct duties_period *out);

/* The period before p. DS_OK or DS_EINVAL (before 1900). */
int duties_period_prev(const struct duties_period *p, uint32_t per_year, struct duties_period *out);

/* The days a period label names under per_year ("2026", "2026-Qn"; see the note at the
 * top for half-years). DS_OK or DS_EINVAL. */
int duties_period_parse(const char *label, uint32_t per_year, struct duties_period *out);

/* Whether two periods share at least one day. */
bool duties_period_overlaps(const struct duties_period *a, const struct duties_period *b);

/* The period a feedback letter covers: its period label, else its year. DS_EINVAL when
 * it names neither. */
int duties_feedback_period(const Dualsync__FeedbackEntry *f, uint32_t per_year,
                           struct duties_period *out);

/* ---------------------------------------------------------------- record figures */

/* Introduced and not closed: the registration is live. */
bool duties_open(const Dualsync__MemberRecord *rec);

/* Whether the member's report-in counts for a report rate as of that day: reported, or
 * its deadline (introduction date + report days) is before as_of. A member still within
 * the days to report in is not yet due, reported or not. */
bool duties_report_in_due(const Dualsync__MemberRecord *rec, const char *as_of);

/* Occupation, willingness, rest time and contact all filled in. */
bool duties_card_complete(const Dualsync__MemberRecord *rec);

/* A feedback letter that needs a handling result: rated poor, or flagged long
 * non-participation or poor conduct. */
bool duties_feedback_flagged(const Dualsync__FeedbackEntry *f);

/* Whether a handling result answers the feedback letter feedback_id. */
bool duties_handled(const Dualsync__MemberRecord *rec, const char *feedback_id);

/* Feedback letters of the given year (FeedbackEntry.year). */
uint32_t duties_feedback_count(const Dualsync__MemberRecord *rec, uint32_t year);

struct duties_figures {
    uint32_t activities;        /* attendance records in [start, end] */
    uint64_t minutes;           /* their service minutes (a year of attendances can pass 2^32) */
    char last[DUTIES_DATE_LEN]; /* last attendance in [start, end], "" when none */
};

/* Participation of the member between start and end (inclusive). */
void duties_participation(const Dualsync__MemberRecord *rec, const char *start, const char *end,
                          struct duties_figures *out);

/* ---------------------------------------------------------------- duties */

/* Stable kinds; duties_kind_name gives the string used in JSON and CSV. */
enum duty_kind {
    DUTY_REPORT_IN = 0,          /* "report-in" */
    DUTY_FEEDBACK,               /* "feedback" */
    DUTY_HANDLING,               /* "handling" */
    DUTY_OPINION_REPLY,          /* "opinion-reply" (member or org level) */
    DUTY_NOTICE_POST,            /* "notice-post" */
    DUTY_NOTICE_OBJECTIONS,      /* "notice-objections" */
    DUTY_DIFFICULTY,             /* "difficulty" */
    DUTY_GROUP,                  /* "group" (informational) */
    DUTY_PARTICIPATION,          /* "participation" */
    DUTY_LONG_NON_PARTICIPATION, /* "long-non-participation" (informational suggestion) */
    DUTY_CLAIM_DECISION,         /* "claim-decision" */
    DUTY_NEED_OPEN,              /* "need-open" (informational) */
    DUTY_KIND_COUNT
};

const char *duties_kind_name(enum duty_kind kind);

/* One thing that is due. The pointers borrow from the record or events being visited and
 * are valid only during the callback. */
struct duty {
    enum duty_kind kind;
    const char *member;         /* member id; "" for org-level duties */
    const char *name;           /* the member's name as introduced; "" for org-level */
    enum org_kind actor;        /* who must act: ORG_UNIT, ORG_COMMUNITY, or ORG_NONE for
                                   the member (report-in) */
    const char *org;            /* the org that must act (report-in: the community) */
    char ref[IDS_EVENT_ID_MAX]; /* the event it is about, or the period label for
                                   feedback and participation; "" otherwise */
    char due[DUTIES_DATE_LEN];  /* last day it is on time; "" when informational */
    bool overdue;               /* as_of is past due */
    char zh[DUTIES_TEXT_MAX];   /* description, no names or ids in it */
    char en[DUTIES_TEXT_MAX];
};

typedef void (*duties_emit_fn)(const struct duty *d, void *arg);

/* Emits the duties of one member record as of as_of, as seen by viewer (ORG_UNIT,
 * ORG_COMMUNITY, or ORG_STREET for all of them). A closed or never-introduced record
 * emits nothing. Which side sees which kind, and the due dates, are in
 * docs/TASKS-AND-REPORTS.md. DS_OK, or DS_EINVAL for a bad as_of, viewer or policy
 * (nothing emitted). */
int duties_member(const Dualsync__MemberRecord *rec, enum org_kind viewer, const struct policy *p,
                  const char *as_of, duties_emit_fn emit, void *arg);

/* Org-level duties come from org-level events (needs, claims, decisions, fulfilments,
 * org-level opinion requests and replies). The caller feeds the events it holds (a node:
 * its own and those addressed to it; the broker: all), in any order, then asks. */
struct duties_org;

/* A fresh collector. Caller owns; free with duties_org_destroy. */
struct duties_org *duties_org_new(void);
void duties_org_destroy(struct duties_org **dp);

/* Takes note of one org-level event; other types, member events and bodies that do not
 * decode are ignored. The event is not kept (its fields are copied). */
void duties_org_add(struct duties_org *d, const struct event *ev);

/* Derived status of an event id the collector has seen:
 *   a need:  "open", "claimed" (a claim not declined), "fulfilled";
 *   a claim: "pending", "approved", "declined".
 * "" for anything else. Borrowed static string. */
const char *duties_org_status(const struct duties_org *d, const char *event_id);

/* Emits the org-level duties as of as_of for viewer; self is the viewing org (NULL for the
 * street, which sees everyone's):
 *   community: claim-decision for claims addressed to it without a decision;
 *              opinion-reply for org-level requests addressed to it without its reply;
 *   unit:      opinion-reply (awaited) for its requests, per community not yet replied;
 *              need-open (informational) for needs it has not claimed, not fulfilled;
 *   street:    claim-decision and opinion-reply for every org.
 * DS_OK or DS_EINVAL (bad as_of or viewer). */
int duties_org_each(const struct duties_org *d, enum org_kind viewer, const char *self,
                    const struct policy *p, const char *as_of, duties_emit_fn emit, void *arg);

#endif
