/* annual: the member rows of the annual report (`report --year`, node/reports.c), kept
 * between calls.
 * A community of 100,000 members read all 100,000 records for every report. The node now
 * keeps one row per member for the year last asked for, and the log tells it which
 * records each commit rewrote (eventlog_on_member_change): annual_touch marks them, and
 * the next report reads only those records again (annual_refresh). The totals are summed
 * from the rows at each call, which costs no read.
 * What a row holds is the member's own record only; what depends on anything else (the
 * node's policy, org names) is applied when the report is written. A change that is not
 * in a record but changes who counts (a broker's refusal of an introduction) must drop
 * the kept rows (annual_free). One thread (the node's loop). */
#ifndef DUALSYNC_NODE_ANNUAL_H
#define DUALSYNC_NODE_ANNUAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct annual;

/* One member's figures of the year. The strings are copied by annual_put. */
struct annual_row {
    const char *member, *name, *report_date;
    const char *other; /* the community (at a unit) or the unit (at a community) */
    const char *group; /* the building group (at a community) */
    bool reported, card_complete;
    uint32_t letters; /* feedback letters of the year */
    uint32_t activities;
    uint64_t minutes;
    uint32_t flagged, handled, poor, non_participation;
    uint32_t opinions, replied;
};

/* Empty rows for year; annual_complete is false until annual_mark_complete. */
struct annual *annual_new(uint32_t year);
void annual_free(struct annual **ap);
uint32_t annual_year(const struct annual *a);
/* Whether every record was read once into these rows (the first report of the year). */
bool annual_complete(const struct annual *a);
void annual_mark_complete(struct annual *a);

/* The record of member changed: its row is read again at the next annual_refresh. */
void annual_touch(struct annual *a, const char *member);
/* Calls reread(member, arg) for each touched member and forgets the marks; reread puts
 * (annual_put) or removes (annual_remove) that member's row. Stops at the first non-DS_OK
 * and returns it; the members not reread yet stay marked. */
int annual_refresh(struct annual *a, int (*reread)(const char *member, void *arg), void *arg);

/* Puts row (a copy) in place of member's row, if any. */
void annual_put(struct annual *a, const struct annual_row *row);
/* Forgets member's row (no longer this node's, or closed). */
void annual_remove(struct annual *a, const char *member);
/* Calls fn for each row, in member order. */
void annual_each(struct annual *a, void (*fn)(const struct annual_row *row, void *arg), void *arg);

#endif
