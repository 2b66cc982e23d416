/* Unit tests of eventlog on a real RocksDB in a temp directory per test.
 * Identity (duplicate vs fork), contiguity and persistence are tested scenario by scenario.
 * Member records are checked against the definition: after any sequence of commits, in
 * any arrival order, the stored record must equal fold_* applied from scratch to the
 * member's events in (hlc, origin, seq) order. A model test drives that with random
 * histories, random arrival orders, random transaction sizes and a reopen midway.
 * Commit latency is counted in its buckets under a driven clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "eventlog.h"
#include "fault.h"
#include "fold.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define UNIT "unit:tax-bureau"
#define UNIT2 "unit:school"
#define COMM "community:hy-03"
#define COMM2 "community:hy-07"
#define NAME "\xe5\xbc\xa0\xe4\xb8\x89"

static struct keys k;

static struct eventlog *open_log(const char *dir)
{
    struct eventlog *log = NULL;
    assert_rc(eventlog_open(dir, STORE_WAL, &log), DS_OK);
    assert_non_null(log);
    return log;
}

static int add_one(struct eventlog *log, const struct tu_event *e, unsigned flags)
{
    struct eventlog_txn *txn = eventlog_begin(log);
    int rc = eventlog_txn_add(txn, &e->ev, flags);
    if (rc != DS_OK) {
        eventlog_abort(&txn);
        return rc;
    }
    return eventlog_commit(&txn);
}

/* Digest of the member's events folded from scratch in fold order. */
static void scratch_digest(const struct event *const *events, size_t n, const char *member,
                           uint8_t out[KEYS_DIGEST_LEN])
{
    const struct event **sorted = calloc(n ? n : 1, sizeof(*sorted));
    size_t m = 0;
    assert_non_null(sorted);
    for (size_t i = 0; i < n; i++)
        if (strcmp(events[i]->member, member) == 0)
            sorted[m++] = events[i];
    qsort(sorted, m, sizeof(*sorted), tu_event_cmp);
    Dualsync__MemberRecord *rec = fold_new(member);
    for (size_t i = 0; i < m; i++)
        fold_apply(&rec, sorted[i]);
    fold_digest(rec, out);
    fold_free(&rec);
    free(sorted);
}

static void stored_digest(struct eventlog *log, const char *member, uint8_t out[KEYS_DIGEST_LEN])
{
    Dualsync__MemberRecord *rec = NULL;
    assert_rc(eventlog_member(log, member, &rec), DS_OK);
    fold_digest(rec, out);
    fold_free(&rec);
}

static bool collect_member_count(const Dualsync__MemberRecord *rec, void *arg)
{
    (void)rec;
    (*(size_t *)arg)++;
    return true;
}

/* ---------------------------------------------------------------- identity */

static void test_eventlog_add_commit_get_raw(void **state)
{
    const char *dir = *state;
    struct tu_event a, b;
    uint8_t *raw = NULL;
    size_t len = 0;
    struct eventlog *log = open_log(dir);
    assert_non_null(eventlog_store(log));
    assert_true(eventlog_hwm(log, UNIT) == 0);
    assert_true(eventlog_hlc_max(log) == 0);

    tu_event_intro(&a, &k, UNIT, 1, 5000, "M1", COMM, NAME, 30, "2026-11-28");
    tu_event_intro(&b, &k, UNIT, 2, 6000, "M2", COMM, NAME, 30, "2026-11-28");
    struct eventlog_txn *txn = eventlog_begin(log);
    assert_int_equal(eventlog_txn_count(txn), 0);
    assert_rc(eventlog_txn_add(txn, &a.ev, 0), DS_OK);
    assert_rc(eventlog_txn_add(txn, &b.ev, 0), DS_OK);
    assert_int_equal(eventlog_txn_count(txn), 2);
    /* Nothing is visible before the commit. */
    assert_rc(eventlog_get_raw(log, UNIT, 1, &raw, &len), DS_ENOTFOUND);
    assert_true(eventlog_hwm(log, UNIT) == 0);
    assert_rc(eventlog_commit(&txn), DS_OK);
    assert_null(txn);

    /* The stored bytes are the signed bytes, verbatim. */
    assert_rc(eventlog_get_raw(log, UNIT, 1, &raw, &len), DS_OK);
    assert_int_equal(len, a.len);
    assert_memory_equal(raw, a.raw, len);
    free(raw);
    assert_rc(eventlog_get_raw(log, UNIT, 2, &raw, &len), DS_OK);
    assert_int_equal(len, b.len);
    assert_memory_equal(raw, b.raw, len);
    free(raw);
    assert_rc(eventlog_get_raw(log, UNIT, 3, &raw, &len), DS_ENOTFOUND);
    assert_rc(eventlog_get_raw(log, COMM, 1, &raw, &len), DS_ENOTFOUND);
    assert_true(eventlog_hwm(log, UNIT) == 2);
    assert_true(eventlog_hwm(log, COMM) == 0);
    assert_true(eventlog_hlc_max(log) == 6000);

    tu_event_free(&a);
    tu_event_free(&b);
    eventlog_destroy(&log);
    assert_null(log);
    eventlog_destroy(&log); /* NULL-safe */
}

static void free_run(ProtobufCBinaryData *run, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(run[i].data);
}

/* A run is read by one range read: contiguous seqs of one origin only, stopping at a gap,
 * at max, or after the event that reaches the byte budget; its bytes are the stored ones. */
static void test_eventlog_origin_run_stops_at_gap_max_and_budget(void **state)
{
    const char *dir = *state;
    struct tu_event e[7], other;
    ProtobufCBinaryData run[8];
    size_t n = 99;
    struct eventlog *log = open_log(dir);
    for (uint64_t s = 1; s <= 6; s++)
        tu_event_report(&e[s], &k, COMM, s, 1000 * s, "M1", "2026-12-01");
    for (uint64_t s = 1; s <= 6; s++)
        if (s != 5) /* 5 never comes: a gap before 6 */
            assert_rc(add_one(log, &e[s], 0), DS_OK);
    /* an origin whose id extends this one's is not part of its run */
    tu_event_report(&other, &k, COMM "0", 1, 500, "M2", "2026-12-01");
    assert_rc(add_one(log, &other, 0), DS_OK);

    assert_rc(eventlog_origin_run(log, COMM, 1, 8, SIZE_MAX, run, &n), DS_OK);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(run[i].len, e[i + 1].len);
        assert_memory_equal(run[i].data, e[i + 1].raw, run[i].len);
    }
    free_run(run, n);
    assert_rc(eventlog_origin_run(log, COMM, 2, 2, SIZE_MAX, run, &n), DS_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(run[1].data, e[3].raw, e[3].len);
    free_run(run, n);
    /* the event that reaches the budget is the last one taken */
    assert_rc(eventlog_origin_run(log, COMM, 1, 8, e[1].len + 1, run, &n), DS_OK);
    assert_int_equal(n, 2);
    free_run(run, n);
    assert_rc(eventlog_origin_run(log, COMM, 6, 8, SIZE_MAX, run, &n), DS_OK);
    assert_int_equal(n, 1);
    free_run(run, n);
    assert_rc(eventlog_origin_run(log, COMM, 5, 8, SIZE_MAX, run, &n), DS_OK);
    assert_int_equal(n, 0);
    assert_rc(eventlog_origin_run(log, COMM, 7, 8, SIZE_MAX, run, &n), DS_OK);
    assert_int_equal(n, 0);
    assert_rc(eventlog_origin_run(log, UNIT, 1, 8, SIZE_MAX, run, &n), DS_OK);
    assert_int_equal(n, 0);
    for (int s = 1; s <= 6; s++)
        tu_event_free(&e[s]);
    tu_event_free(&other);
    eventlog_destroy(&log);
}

static void test_eventlog_duplicate_eexist(void **state)
{
    const char *dir = *state;
    struct tu_event a, again;
    struct eventlog *log = open_log(dir);
    tu_event_intro(&a, &k, UNIT, 1, 5000, "M1", COMM, NAME, 30, "2026-11-28");
    /* A second, independently opened copy of the same bytes. */
    memset(&again, 0, sizeof(again));
    again.raw = malloc(a.len);
    assert_non_null(again.raw);
    memcpy(again.raw, a.raw, a.len);
    again.len = a.len;
    assert_rc(wire_event_open(again.raw, again.len, false, &again.ev), DS_OK);

    /* Within one transaction. */
    struct eventlog_txn *txn = eventlog_begin(log);
    assert_rc(eventlog_txn_add(txn, &a.ev, 0), DS_OK);
    assert_rc(eventlog_txn_add(txn, &again.ev, 0), DS_EEXIST);
    assert_int_equal(eventlog_txn_count(txn), 1);
    assert_rc(eventlog_commit(&txn), DS_OK);

    /* Across commits. */
    assert_rc(add_one(log, &again, 0), DS_EEXIST);
    assert_rc(add_one(log, &a, EVENTLOG_CONTIGUOUS), DS_EEXIST); /* not ESEQ */

    /* Across a restart. */
    eventlog_destroy(&log);
    log = open_log(dir);
    assert_rc(add_one(log, &again, 0), DS_EEXIST);

    /* The duplicate added nothing: one event, counted once in the member record. */
    Dualsync__MemberRecord *rec = NULL;
    assert_rc(eventlog_member(log, "M1", &rec), DS_OK);
    assert_int_equal(rec->events, 1);
    fold_free(&rec);
    tu_event_free(&a);
    tu_event_free(&again);
    eventlog_destroy(&log);
}

static void test_eventlog_fork_efork(void **state)
{
    const char *dir = *state;
    struct tu_event a, fork1, fork2;
    uint8_t *raw = NULL;
    size_t len = 0;
    struct eventlog *log = open_log(dir);
    tu_event_intro(&a, &k, UNIT, 1, 5000, "M1", COMM, NAME, 30, "2026-11-28");
    /* Same (origin, seq), other bytes: another body, another hlc. */
    tu_event_intro(&fork1, &k, UNIT, 1, 5000, "M1", COMM2, NAME, 30, "2026-11-28");
    tu_event_intro(&fork2, &k, UNIT, 1, 7000, "M9", COMM, NAME, 30, "2026-11-28");

    /* Within one transaction. */
    struct eventlog_txn *txn = eventlog_begin(log);
    assert_rc(eventlog_txn_add(txn, &a.ev, 0), DS_OK);
    assert_rc(eventlog_txn_add(txn, &fork1.ev, 0), DS_EFORK);
    assert_rc(eventlog_txn_add(txn, &fork2.ev, 0), DS_EFORK);
    assert_int_equal(eventlog_txn_count(txn), 1);
    assert_rc(eventlog_commit(&txn), DS_OK);

    /* Across commits, and after a restart. */
    assert_rc(add_one(log, &fork1, 0), DS_EFORK);
    eventlog_destroy(&log);
    log = open_log(dir);
    assert_rc(add_one(log, &fork2, 0), DS_EFORK);

    /* The first bytes stay; the forks touched nothing. */
    assert_rc(eventlog_get_raw(log, UNIT, 1, &raw, &len), DS_OK);
    assert_int_equal(len, a.len);
    assert_memory_equal(raw, a.raw, len);
    free(raw);
    Dualsync__MemberRecord *rec = NULL;
    assert_rc(eventlog_member(log, "M9", &rec), DS_ENOTFOUND);
    assert_rc(eventlog_member(log, "M1", &rec), DS_OK);
    assert_string_equal(rec->community, COMM);
    fold_free(&rec);
    tu_event_free(&a);
    tu_event_free(&fork1);
    tu_event_free(&fork2);
    eventlog_destroy(&log);
}

static void test_eventlog_contiguous_gap_eseq(void **state)
{
    const char *dir = *state;
    struct tu_event e[5];
    struct eventlog *log = open_log(dir);
    for (uint64_t s = 1; s <= 4; s++)
        tu_event_report(&e[s], &k, COMM, s, 1000 * s, "M1", "2026-12-01");

    /* The first event of an origin must be seq 1. */
    assert_rc(add_one(log, &e[2], EVENTLOG_CONTIGUOUS), DS_ESEQ);
    /* Within one transaction: 1 then 3 is a gap; 2 then 3 is not. */
    struct eventlog_txn *txn = eventlog_begin(log);
    assert_rc(eventlog_txn_add(txn, &e[1].ev, EVENTLOG_CONTIGUOUS), DS_OK);
    assert_rc(eventlog_txn_add(txn, &e[3].ev, EVENTLOG_CONTIGUOUS), DS_ESEQ);
    assert_rc(eventlog_txn_add(txn, &e[2].ev, EVENTLOG_CONTIGUOUS), DS_OK);
    assert_rc(eventlog_commit(&txn), DS_OK);
    assert_true(eventlog_hwm(log, COMM) == 2);
    /* Across commits: hwm 2, so 4 is a gap and 3 is next. */
    assert_rc(add_one(log, &e[4], EVENTLOG_CONTIGUOUS), DS_ESEQ);
    assert_rc(add_one(log, &e[3], EVENTLOG_CONTIGUOUS), DS_OK);
    assert_rc(add_one(log, &e[4], EVENTLOG_CONTIGUOUS), DS_OK);
    assert_true(eventlog_hwm(log, COMM) == 4);
    for (int s = 1; s <= 4; s++)
        tu_event_free(&e[s]);

    /* A hole left by non-contiguous adds is not "next": contiguity means hwm + 1. */
    tu_event_report(&e[1], &k, UNIT2, 1, 100, "M1", "2026-12-01");
    tu_event_report(&e[2], &k, UNIT2, 2, 200, "M1", "2026-12-01");
    tu_event_report(&e[3], &k, UNIT2, 3, 300, "M1", "2026-12-01");
    assert_rc(add_one(log, &e[1], 0), DS_OK);
    assert_rc(add_one(log, &e[3], 0), DS_OK);
    assert_rc(add_one(log, &e[2], EVENTLOG_CONTIGUOUS), DS_ESEQ);
    for (int s = 1; s <= 3; s++)
        tu_event_free(&e[s]);
    eventlog_destroy(&log);
}

static void test_eventlog_without_contiguity_takes_any_order(void **state)
{
    const char *dir = *state;
    struct tu_event e[6];
    struct eventlog *log = open_log(dir);
    for (uint64_t s = 1; s <= 5; s++)
        tu_event_report(&e[s], &k, COMM, s, 1000 * s, "M1", "2026-12-01");
    assert_rc(add_one(log, &e[5], 0), DS_OK);
    assert_true(eventlog_hwm(log, COMM) == 5);
    /* Below the hwm but never stored: not a duplicate. */
    assert_rc(add_one(log, &e[2], 0), DS_OK);
    assert_true(eventlog_hwm(log, COMM) == 5); /* the hwm never goes down */
    assert_rc(add_one(log, &e[2], 0), DS_EEXIST);
    for (int s = 1; s <= 5; s++)
        tu_event_free(&e[s]);
    eventlog_destroy(&log);
}

static void test_eventlog_txn_check_answers_without_adding(void **state)
{
    const char *dir = *state;
    struct tu_event a, fork, gap;
    struct eventlog *log = open_log(dir);
    tu_event_intro(&a, &k, UNIT, 1, 5000, "M1", COMM, NAME, 30, "2026-11-28");
    tu_event_intro(&fork, &k, UNIT, 1, 5001, "M1", COMM, NAME, 30, "2026-11-28");
    tu_event_intro(&gap, &k, UNIT, 3, 5002, "M1", COMM, NAME, 30, "2026-11-28");

    struct eventlog_txn *txn = eventlog_begin(log);
    assert_rc(eventlog_txn_check(txn, &a.ev, EVENTLOG_CONTIGUOUS), DS_OK);
    assert_rc(eventlog_txn_check(txn, &a.ev, EVENTLOG_CONTIGUOUS), DS_OK); /* still not added */
    assert_int_equal(eventlog_txn_count(txn), 0);
    assert_rc(eventlog_txn_check(txn, &gap.ev, EVENTLOG_CONTIGUOUS), DS_ESEQ);
    assert_rc(eventlog_txn_check(txn, &gap.ev, 0), DS_OK);
    assert_rc(eventlog_txn_add(txn, &a.ev, EVENTLOG_CONTIGUOUS), DS_OK);
    /* Same answers as add, within the transaction ... */
    assert_rc(eventlog_txn_check(txn, &a.ev, 0), DS_EEXIST);
    assert_rc(eventlog_txn_check(txn, &fork.ev, 0), DS_EFORK);
    assert_int_equal(eventlog_txn_count(txn), 1);
    assert_rc(eventlog_commit(&txn), DS_OK);
    /* ... and against what is stored. */
    txn = eventlog_begin(log);
    assert_rc(eventlog_txn_check(txn, &a.ev, 0), DS_EEXIST);
    assert_rc(eventlog_txn_check(txn, &fork.ev, 0), DS_EFORK);
    assert_rc(eventlog_txn_check(txn, &gap.ev, EVENTLOG_CONTIGUOUS), DS_ESEQ);
    eventlog_abort(&txn);
    tu_event_free(&a);
    tu_event_free(&fork);
    tu_event_free(&gap);
    eventlog_destroy(&log);
}

static void test_eventlog_hwm_persists_reopen(void **state)
{
    const char *dir = *state;
    struct tu_event u[4], c[6];
    struct eventlog *log = open_log(dir);
    for (uint64_t s = 1; s <= 3; s++)
        tu_event_intro(&u[s], &k, UNIT, s, 100 * s, "M1", COMM, NAME, 30, "2026-11-28");
    for (uint64_t s = 1; s <= 5; s++)
        tu_event_report(&c[s], &k, COMM, s, 1000 + s, "M1", "2026-12-01");
    struct eventlog_txn *txn = eventlog_begin(log);
    for (int s = 1; s <= 3; s++)
        assert_rc(eventlog_txn_add(txn, &u[s].ev, EVENTLOG_CONTIGUOUS), DS_OK);
    assert_rc(eventlog_commit(&txn), DS_OK);
    txn = eventlog_begin(log);
    for (int s = 1; s <= 4; s++)
        assert_rc(eventlog_txn_add(txn, &c[s].ev, EVENTLOG_CONTIGUOUS), DS_OK);
    assert_rc(eventlog_commit(&txn), DS_OK);

    eventlog_destroy(&log);
    log = open_log(dir);
    assert_true(eventlog_hwm(log, UNIT) == 3);
    assert_true(eventlog_hwm(log, COMM) == 4);
    assert_true(eventlog_hwm(log, UNIT2) == 0);
    assert_true(eventlog_hlc_max(log) == 1004);
    /* Contiguity continues from the persisted hwm. */
    assert_rc(add_one(log, &c[5], EVENTLOG_CONTIGUOUS), DS_OK);
    assert_rc(add_one(log, &u[1], EVENTLOG_CONTIGUOUS), DS_EEXIST);

    eventlog_destroy(&log);
    log = open_log(dir);
    assert_true(eventlog_hwm(log, COMM) == 5);
    assert_true(eventlog_hlc_max(log) == 1005);
    for (int s = 1; s <= 3; s++)
        tu_event_free(&u[s]);
    for (int s = 1; s <= 5; s++)
        tu_event_free(&c[s]);
    eventlog_destroy(&log);
}

/* ---------------------------------------------------------------- member records */

static void test_eventlog_member_record_two_commits(void **state)
{
    const char *dir = *state;
    struct tu_event intro, report;
    Dualsync__MemberRecord *rec = NULL;
    struct eventlog *log = open_log(dir);
    assert_rc(eventlog_member(log, "M1", &rec), DS_ENOTFOUND);

    tu_event_intro(&intro, &k, UNIT, 1, 1000, "M1", COMM, NAME, 30, "2026-11-28");
    assert_rc(add_one(log, &intro, 0), DS_OK);
    assert_rc(eventlog_member(log, "M1", &rec), DS_OK);
    assert_string_equal(rec->member, "M1");
    assert_string_equal(rec->name, NAME);
    assert_string_equal(rec->community, COMM);
    assert_false(rec->reported);
    assert_int_equal(rec->events, 1);
    fold_free(&rec);

    tu_event_report(&report, &k, COMM, 1, 2000, "M1", "2026-12-01");
    assert_rc(add_one(log, &report, 0), DS_OK);
    assert_rc(eventlog_member(log, "M1", &rec), DS_OK);
    assert_true(rec->reported);
    assert_string_equal(rec->report_date, "2026-12-01");
    assert_int_equal(rec->events, 2);
    assert_true(rec->last_hlc == 2000);
    fold_free(&rec);

    /* Same after a restart. */
    eventlog_destroy(&log);
    log = open_log(dir);
    const struct event *all[] = {&intro.ev, &report.ev};
    uint8_t want[KEYS_DIGEST_LEN], got[KEYS_DIGEST_LEN];
    scratch_digest(all, 2, "M1", want);
    stored_digest(log, "M1", got);
    assert_memory_equal(want, got, KEYS_DIGEST_LEN);
    tu_event_free(&intro);
    tu_event_free(&report);
    eventlog_destroy(&log);
}

/* A late event (older hlc than what is folded) must be folded in its place, not on top. */
static void test_eventlog_late_event_refolds(void **state)
{
    const char *dir = *state;
    struct tu_event intro_a, report_b, move, intro_b, card_b;
    uint8_t want[KEYS_DIGEST_LEN], got[KEYS_DIGEST_LEN];
    Dualsync__MemberRecord *rec = NULL;
    struct eventlog *log = open_log(dir);
    /* The unit sends M1 to COMM (hlc 100), moves it out (150) and to COMM2 (hlc 200);
     * COMM2 reports at 300. The move arrives last. */
    tu_event_intro(&intro_a, &k, UNIT, 1, 100, "M1", COMM, NAME, 30, "2026-01-01");
    tu_event_move_out(&move, &k, UNIT, 2, 150, "M1", "2026-02-01");
    tu_event_intro(&intro_b, &k, UNIT, 3, 200, "M1", COMM2, NAME, 30, "2026-02-01");
    tu_event_report(&report_b, &k, COMM2, 1, 300, "M1", "2026-02-03");

    struct eventlog_txn *txn = eventlog_begin(log);
    assert_rc(eventlog_txn_add(txn, &intro_a.ev, 0), DS_OK);
    assert_rc(eventlog_txn_add(txn, &report_b.ev, 0), DS_OK);
    assert_rc(eventlog_commit(&txn), DS_OK);
    assert_rc(eventlog_member(log, "M1", &rec), DS_OK);
    assert_false(rec->reported); /* COMM2 is not M1's community yet */
    fold_free(&rec);

    txn = eventlog_begin(log);
    assert_rc(eventlog_txn_add(txn, &move.ev, 0), DS_OK);
    assert_rc(eventlog_txn_add(txn, &intro_b.ev, 0), DS_OK);
    assert_rc(eventlog_commit(&txn), DS_OK);
    assert_rc(eventlog_member(log, "M1", &rec), DS_OK);
    assert_string_equal(rec->community, COMM2);
    assert_true(rec->reported); /* in fold order the report follows the move */
    assert_string_equal(rec->report_date, "2026-02-03");
    assert_int_equal(rec->events, 2); /* the new registration: introduction and report */
    fold_free(&rec);
    const struct event *all[] = {&intro_a.ev, &report_b.ev, &move.ev, &intro_b.ev, NULL};
    scratch_digest(all, 4, "M1", want);
    stored_digest(log, "M1", got);
    assert_memory_equal(want, got, KEYS_DIGEST_LEN);

    /* A later event after the refold takes the incremental path and still agrees. */
    tu_event_card(&card_b, &k, COMM2, 2, 400, "M1", "teacher", "", "");
    assert_rc(add_one(log, &card_b, 0), DS_OK);
    all[4] = &card_b.ev;
    scratch_digest(all, 5, "M1", want);
    stored_digest(log, "M1", got);
    assert_memory_equal(want, got, KEYS_DIGEST_LEN);

    tu_event_free(&intro_a);
    tu_event_free(&move);
    tu_event_free(&intro_b);
    tu_event_free(&report_b);
    tu_event_free(&card_b);
    eventlog_destroy(&log);
}

/* A member with no record yet, whose first events arrive in one transaction out of fold
 * order: folded from scratch in (hlc, origin, seq) order, and its fold position is the
 * last of them, so a later late event refolds and a later on-time one applies on top. */
static void test_eventlog_new_member_out_of_order_txn(void **state)
{
    const char *dir = *state;
    struct tu_event e[7];
    uint8_t want[KEYS_DIGEST_LEN], got[KEYS_DIGEST_LEN];
    Dualsync__MemberRecord *rec = NULL;
    struct eventlog *log = open_log(dir);
    tu_event_intro(&e[0], &k, UNIT, 1, 100, "M1", COMM, NAME, 30, "2026-01-01");
    tu_event_move_out(&e[1], &k, UNIT, 2, 150, "M1", "2026-02-01");
    tu_event_intro(&e[2], &k, UNIT, 3, 200, "M1", COMM2, NAME, 30, "2026-02-01");
    tu_event_card(&e[3], &k, COMM2, 1, 250, "M1", "teacher", "", "");
    tu_event_report(&e[4], &k, COMM2, 2, 300, "M1", "2026-02-03");
    /* Later: one that sorts before the last folded position, one after it. */
    tu_event_card(&e[5], &k, COMM2, 3, 240, "M1", "late", "", "");
    tu_event_card(&e[6], &k, COMM2, 4, 400, "M1", "doctor", "", "");

    static const size_t arrival[] = {4, 2, 0, 3, 1};
    struct eventlog_txn *txn = eventlog_begin(log);
    for (size_t i = 0; i < 5; i++)
        assert_rc(eventlog_txn_add(txn, &e[arrival[i]].ev, 0), DS_OK);
    assert_rc(eventlog_commit(&txn), DS_OK);
    const struct event *all[7];
    for (size_t i = 0; i < 7; i++)
        all[i] = &e[i].ev;
    scratch_digest(all, 5, "M1", want);
    stored_digest(log, "M1", got);
    assert_memory_equal(want, got, KEYS_DIGEST_LEN);
    assert_rc(eventlog_member(log, "M1", &rec), DS_OK);
    assert_string_equal(rec->community, COMM2);
    assert_true(rec->reported);
    assert_true(rec->last_hlc == 300);
    fold_free(&rec);

    /* hlc 240 < 300: folded in its place (the card of hlc 250 stays the last word). */
    assert_rc(add_one(log, &e[5], 0), DS_OK);
    scratch_digest(all, 6, "M1", want);
    stored_digest(log, "M1", got);
    assert_memory_equal(want, got, KEYS_DIGEST_LEN);
    assert_rc(add_one(log, &e[6], 0), DS_OK);
    scratch_digest(all, 7, "M1", want);
    stored_digest(log, "M1", got);
    assert_memory_equal(want, got, KEYS_DIGEST_LEN);
    for (size_t i = 0; i < 7; i++)
        tu_event_free(&e[i]);
    eventlog_destroy(&log);
}

/* Model test: random histories of three members, delivered in random order in random
 * transactions, with duplicates and a reopen; after every commit each member's stored
 * record equals the scratch fold of the events delivered so far. */
#define MODEL_EVENTS 90
#define MODEL_MEMBERS 3

static void random_event(struct tu_event *out, uint64_t *rng, uint64_t seqs[4], size_t i)
{
    static const char *const members[MODEL_MEMBERS] = {"M1", "M2", "M10"};
    static const char *const units[2] = {UNIT, UNIT2};
    static const char *const comms[2] = {COMM, COMM2};
    const char *member = members[tu_rand_below(rng, MODEL_MEMBERS)];
    /* Few distinct hlcs, so ties across origins are common. */
    uint64_t hlc = 1000 + tu_rand_below(rng, 40);
    size_t u = tu_rand_below(rng, 2), c = tu_rand_below(rng, 2);
    char text[32];
    snprintf(text, sizeof(text), "e%zu", i);
    switch (tu_rand_below(rng, 9)) {
    case 0:
    case 1:
        tu_event_intro(out, &k, units[u], ++seqs[u], hlc, member, comms[c], NAME,
                       (uint32_t)(1 + tu_rand_below(rng, 60)), "2026-03-04");
        break;
    case 2:
        tu_event_report(out, &k, comms[c], ++seqs[2 + c], hlc, member, "2026-03-05");
        break;
    case 3:
        tu_event_card(out, &k, comms[c], ++seqs[2 + c], hlc, member, text, "", "x");
        break;
    case 4:
        tu_event_feedback(out, &k, comms[c], ++seqs[2 + c], hlc, member, 2026,
                          (Dualsync__Rating)(1 + tu_rand_below(rng, 4)), false, text);
        break;
    case 5:
        tu_event_handling(out, &k, units[u], ++seqs[u], hlc, member, comms[c], 1,
                          DUALSYNC__HANDLING_ACTION__HANDLING_NO_ACTION, text);
        break;
    case 6:
        tu_event_move_out(out, &k, units[u], ++seqs[u], hlc, member, "2026-04-01");
        break;
    case 7:
        tu_event_close(out, &k, comms[c], ++seqs[2 + c], hlc, member, "2026-04-02");
        break;
    default:
        tu_event_make(out, &k, units[u], ++seqs[u], hlc, member, 999, NULL);
        break;
    }
}

/* deferred: the broker's mode (eventlog_defer_folds): records are read only now and then,
 * so dirty marks pile up across commits and a restart, and after the restart odd seeds
 * reopen without the mode, as an offline command would, and must honour the marks. */
static void model_run(const char *dir, bool deferred)
{
    static const char *const members[MODEL_MEMBERS] = {"M1", "M2", "M10"};
    struct tu_event ev[MODEL_EVENTS];
    const struct event *delivered[MODEL_EVENTS];
    size_t order[MODEL_EVENTS];
    uint64_t seqs[4] = {0, 0, 0, 0};
    uint8_t want[KEYS_DIGEST_LEN], got[KEYS_DIGEST_LEN];

    for (uint64_t seed = 1; seed <= 4; seed++) {
        uint64_t rng = 0xabcdef0123456789ull * seed;
        memset(seqs, 0, sizeof(seqs));
        for (size_t i = 0; i < MODEL_EVENTS; i++) {
            random_event(&ev[i], &rng, seqs, i);
            order[i] = i;
        }
        for (size_t i = MODEL_EVENTS - 1; i > 0; i--) {
            size_t j = tu_rand_below(&rng, i + 1);
            size_t t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        char path[TU_PATH_MAX + 16];
        snprintf(path, sizeof(path), "%s/seed%llu", dir, (unsigned long long)seed);
        struct eventlog *log = open_log(path);
        if (deferred)
            eventlog_defer_folds(log);
        size_t n = 0, commits = 0;
        while (n < MODEL_EVENTS) {
            size_t batch = 1 + tu_rand_below(&rng, 6);
            struct eventlog_txn *txn = eventlog_begin(log);
            for (size_t b = 0; b < batch && n < MODEL_EVENTS; b++, n++) {
                assert_rc(eventlog_txn_add(txn, &ev[order[n]].ev, 0), DS_OK);
                delivered[n] = &ev[order[n]].ev;
                /* Redelivery of something already delivered is a no-op. */
                if (tu_rand_below(&rng, 4) == 0) {
                    size_t dup = tu_rand_below(&rng, n + 1);
                    assert_rc(eventlog_txn_add(txn, delivered[dup], 0), DS_EEXIST);
                }
            }
            assert_rc(eventlog_commit(&txn), DS_OK);
            if (++commits == 7) { /* a restart midway */
                eventlog_destroy(&log);
                log = open_log(path);
                if (deferred && seed % 2 == 0)
                    eventlog_defer_folds(log);
            }
            if (deferred && n < MODEL_EVENTS && tu_rand_below(&rng, 3) != 0)
                continue; /* not read now: the marks stay */
            for (size_t m = 0; m < MODEL_MEMBERS; m++) {
                Dualsync__MemberRecord *rec = NULL;
                bool any = false;
                for (size_t i = 0; i < n; i++)
                    any = any || strcmp(delivered[i]->member, members[m]) == 0;
                if (!any) {
                    assert_rc(eventlog_member(log, members[m], &rec), DS_ENOTFOUND);
                    continue;
                }
                scratch_digest(delivered, n, members[m], want);
                stored_digest(log, members[m], got);
                if (memcmp(want, got, KEYS_DIGEST_LEN) != 0)
                    fail_msg("seed %llu commit %zu member %s: stored record differs from "
                             "the scratch fold",
                             (unsigned long long)seed, commits, members[m]);
            }
        }
        assert_int_equal(eventlog_dirty_count(log), 0);
        eventlog_destroy(&log);
        for (size_t i = 0; i < MODEL_EVENTS; i++)
            tu_event_free(&ev[i]);
    }
}

static void test_eventlog_random_arrival_matches_scratch(void **state)
{
    model_run(*state, false);
}

static void test_eventlog_deferred_folds_match_scratch(void **state)
{
    model_run(*state, true);
}

/* Deferred folds: a commit leaves a dirty mark, not a record; the mark survives a restart
 * (a crash between the events and their fold loses nothing); settling refolds and clears
 * it; members_each sees every member. */
static void test_eventlog_deferred_marks_survive_and_settle(void **state)
{
    const char *dir = *state;
    struct tu_event a, b, c;
    tu_event_intro(&a, &k, UNIT, 1, 5000, "M1", COMM, NAME, 30, "2026-11-28");
    tu_event_intro(&b, &k, UNIT, 2, 5001, "M2", COMM, NAME, 30, "2026-11-28");
    tu_event_report(&c, &k, COMM, 1, 5002, "M1", "2026-11-29");
    struct eventlog *log = open_log(dir);
    eventlog_defer_folds(log);
    assert_rc(add_one(log, &a, 0), DS_OK);
    assert_rc(add_one(log, &b, 0), DS_OK);
    assert_int_equal(eventlog_dirty_count(log), 2);
    eventlog_destroy(&log); /* as after kill -9: nothing folded yet */

    log = open_log(dir);
    eventlog_defer_folds(log);
    assert_int_equal(eventlog_dirty_count(log), 2);
    size_t settled = 0;
    assert_rc(eventlog_settle(log, 1, EVENTLOG_NO_BUDGET, &settled), DS_OK);
    assert_int_equal(settled, 1);
    assert_int_equal(eventlog_dirty_count(log), 1);
    assert_rc(add_one(log, &c, 0), DS_OK); /* M1 again: dirty again, whichever was settled */
    assert_int_equal(eventlog_dirty_count(log), 2);
    uint8_t want[KEYS_DIGEST_LEN], got[KEYS_DIGEST_LEN];
    const struct event *all[3] = {&a.ev, &b.ev, &c.ev};
    scratch_digest(all, 3, "M1", want);
    stored_digest(log, "M1", got); /* a read refolds that member only */
    assert_memory_equal(want, got, KEYS_DIGEST_LEN);
    assert_int_equal(eventlog_dirty_count(log), 1);
    size_t count = 0;
    assert_rc(eventlog_members_each(log, collect_member_count, &count), DS_OK);
    assert_int_equal(count, 2);
    assert_int_equal(eventlog_dirty_count(log), 0);
    eventlog_destroy(&log);
    log = open_log(dir);
    assert_int_equal(eventlog_dirty_count(log), 0);
    scratch_digest(all, 3, "M2", want);
    stored_digest(log, "M2", got);
    assert_memory_equal(want, got, KEYS_DIGEST_LEN);
    eventlog_destroy(&log);
    tu_event_free(&a);
    tu_event_free(&b);
    tu_event_free(&c);
}

/* A clock that advances step ns at every read. */
static uint64_t stepping_ns(void *arg)
{
    uint64_t *t = arg;
    *t += 1000000; /* 1 ms */
    return *t;
}

/* eventlog_settle with a time budget: none spent, none settled; a budget shorter than one
 * transaction ends after that one instead of going on to max; without a budget, all. The
 * records come out the same either way. */
static void test_eventlog_settle_stops_at_its_budget(void **state)
{
    const char *dir = *state;
    enum { MEMBERS = 200 };
    struct tu_event ev[MEMBERS];
    char member[16];
    uint64_t t = 0;
    size_t settled = 0;
    struct eventlog *log = open_log(dir);
    eventlog_defer_folds(log);
    for (int i = 0; i < MEMBERS; i++) {
        snprintf(member, sizeof(member), "M%d", i);
        tu_event_intro(&ev[i], &k, UNIT, (uint64_t)i + 1, 5000 + (uint64_t)i, member, COMM, NAME,
                       30, "2026-11-28");
        assert_rc(add_one(log, &ev[i], 0), DS_OK);
    }
    assert_int_equal(eventlog_dirty_count(log), MEMBERS);
    eventlog_set_clock(log, stepping_ns, &t);
    assert_rc(eventlog_settle(log, SIZE_MAX, 0, &settled), DS_OK);
    assert_int_equal(settled, 0);
    assert_rc(eventlog_settle(log, SIZE_MAX, 1, &settled), DS_OK); /* 1 ns: one transaction */
    assert_true(settled >= 1 && settled < MEMBERS);
    assert_int_equal(eventlog_dirty_count(log), MEMBERS - settled);
    size_t first = settled;
    assert_rc(eventlog_settle(log, SIZE_MAX, EVENTLOG_NO_BUDGET, &settled), DS_OK);
    assert_int_equal(first + settled, MEMBERS);
    assert_int_equal(eventlog_dirty_count(log), 0);
    for (int i = 0; i < MEMBERS; i += 37) {
        uint8_t want[KEYS_DIGEST_LEN], got[KEYS_DIGEST_LEN];
        const struct event *one[1] = {&ev[i].ev};
        snprintf(member, sizeof(member), "M%d", i);
        scratch_digest(one, 1, member, want);
        stored_digest(log, member, got);
        assert_memory_equal(want, got, KEYS_DIGEST_LEN);
    }
    for (int i = 0; i < MEMBERS; i++)
        tu_event_free(&ev[i]);
    eventlog_destroy(&log);
}

struct position {
    uint64_t hlc;
    char origin[IDS_ORG_MAX];
    uint64_t seq;
};

struct timeline {
    struct position pos[16];
    size_t n, stop_after;
};

static bool collect_event(const struct event *ev, void *arg)
{
    struct timeline *t = arg;
    if (t->n < 16) {
        t->pos[t->n].hlc = ev->hlc;
        snprintf(t->pos[t->n].origin, IDS_ORG_MAX, "%s", ev->origin);
        t->pos[t->n].seq = ev->seq;
    }
    t->n++;
    return t->n != t->stop_after;
}

static void test_eventlog_member_events_in_fold_order(void **state)
{
    const char *dir = *state;
    struct tu_event e[6];
    struct eventlog *log = open_log(dir);
    tu_event_intro(&e[0], &k, UNIT, 1, 500, "M1", COMM, NAME, 30, "2026-01-01");
    tu_event_report(&e[1], &k, COMM, 2, 300, "M1", "2026-01-02");
    tu_event_report(&e[2], &k, COMM, 1, 300, "M1", "2026-01-02");  /* same hlc: seq order */
    tu_event_report(&e[3], &k, COMM2, 1, 300, "M1", "2026-01-02"); /* same hlc: origin */
    tu_event_card(&e[4], &k, COMM, 3, 0x10000, "M1", "a", "", ""); /* byte order != text */
    tu_event_report(&e[5], &k, COMM, 4, 400, "M10", "2026-01-02"); /* other member */
    assert_rc(add_one(log, &e[0], 0), DS_OK);
    struct eventlog_txn *txn = eventlog_begin(log);
    for (int i = 1; i < 6; i++)
        assert_rc(eventlog_txn_add(txn, &e[i].ev, 0), DS_OK);
    assert_rc(eventlog_commit(&txn), DS_OK);

    struct timeline t = {.n = 0, .stop_after = 0};
    assert_rc(eventlog_member_events(log, "M1", collect_event, &t), DS_OK);
    assert_int_equal(t.n, 5);
    static const struct {
        uint64_t hlc;
        const char *origin;
        uint64_t seq;
    } want[] = {
        {300, COMM, 1}, {300, COMM, 2}, {300, COMM2, 1}, {500, UNIT, 1}, {0x10000, COMM, 3}};
    for (size_t i = 0; i < 5; i++) {
        assert_true(t.pos[i].hlc == want[i].hlc);
        assert_string_equal(t.pos[i].origin, want[i].origin);
        assert_true(t.pos[i].seq == want[i].seq);
    }
    /* Stop early. */
    struct timeline first2 = {.n = 0, .stop_after = 2};
    assert_rc(eventlog_member_events(log, "M1", collect_event, &first2), DS_OK);
    assert_int_equal(first2.n, 2);
    /* A member with no events: nothing visited. */
    struct timeline none = {.n = 0, .stop_after = 0};
    assert_rc(eventlog_member_events(log, "M2", collect_event, &none), DS_OK);
    assert_int_equal(none.n, 0);
    for (int i = 0; i < 6; i++)
        tu_event_free(&e[i]);
    eventlog_destroy(&log);
}

struct member_list {
    char names[8][IDS_MEMBER_MAX + 1];
    size_t n, stop_after;
};

static bool collect_member(const Dualsync__MemberRecord *rec, void *arg)
{
    struct member_list *l = arg;
    if (l->n < 8)
        snprintf(l->names[l->n], sizeof(l->names[0]), "%s", rec->member);
    l->n++;
    return l->n != l->stop_after;
}

static void test_eventlog_members_each(void **state)
{
    const char *dir = *state;
    struct tu_event e[3];
    struct eventlog *log = open_log(dir);
    struct member_list none = {.n = 0, .stop_after = 0};
    assert_rc(eventlog_members_each(log, collect_member, &none), DS_OK);
    assert_int_equal(none.n, 0);

    tu_event_intro(&e[0], &k, UNIT, 1, 100, "M2", COMM, NAME, 30, "2026-01-01");
    tu_event_intro(&e[1], &k, UNIT, 2, 200, "M10", COMM, NAME, 30, "2026-01-01");
    tu_event_intro(&e[2], &k, UNIT, 3, 300, "M1", COMM, NAME, 30, "2026-01-01");
    struct eventlog_txn *txn = eventlog_begin(log);
    for (int i = 0; i < 3; i++)
        assert_rc(eventlog_txn_add(txn, &e[i].ev, 0), DS_OK);
    assert_rc(eventlog_commit(&txn), DS_OK);

    struct member_list all = {.n = 0, .stop_after = 0};
    assert_rc(eventlog_members_each(log, collect_member, &all), DS_OK);
    assert_int_equal(all.n, 3);
    assert_string_equal(all.names[0], "M1"); /* member order is byte order */
    assert_string_equal(all.names[1], "M10");
    assert_string_equal(all.names[2], "M2");
    struct member_list one = {.n = 0, .stop_after = 1};
    assert_rc(eventlog_members_each(log, collect_member, &one), DS_OK);
    assert_int_equal(one.n, 1);
    for (int i = 0; i < 3; i++)
        tu_event_free(&e[i]);
    eventlog_destroy(&log);
}

/* After a broker lost its disk, a node forgets the street's directory log (org-level
 * events only) and takes the new one under the same seqs without a fork; an origin with
 * member events is never forgotten. */
static void test_eventlog_forget_origin_only_org_level(void **state)
{
    const char *dir = *state;
    struct tu_event d1, d2, intro;
    Dualsync__DirectoryEntry d = DUALSYNC__DIRECTORY_ENTRY__INIT;
    struct eventlog *log = open_log(dir);
    d.org = (char *)COMM;
    d.kind = DUALSYNC__ORG_KIND__ORG_KIND_COMMUNITY;
    d.name = (char *)NAME;
    d.curve_key.data = k.curve_pk;
    d.curve_key.len = KEYS_PUB_LEN;
    d.sign_key.data = k.sign_pk;
    d.sign_key.len = KEYS_PUB_LEN;
    tu_event_make(&d1, &k, "street:s", 1, 100, NULL, DUALSYNC__EVENT_TYPE__EVENT_DIRECTORY_ENTRY,
                  &d.base);
    tu_event_make(&d2, &k, "street:s", 1, 999, NULL, DUALSYNC__EVENT_TYPE__EVENT_DIRECTORY_ENTRY,
                  &d.base); /* same id, other bytes: the rebuilt broker's entry */
    tu_event_intro(&intro, &k, UNIT, 1, 200, "M1", COMM, NAME, 30, "2026-01-08");
    assert_rc(add_one(log, &d1, EVENTLOG_CONTIGUOUS), DS_OK);
    assert_rc(add_one(log, &intro, EVENTLOG_CONTIGUOUS), DS_OK);
    assert_rc(add_one(log, &d2, EVENTLOG_CONTIGUOUS), DS_EFORK);

    struct eventlog_txn *txn = eventlog_begin(log);
    assert_rc(eventlog_txn_forget_origin(txn, UNIT), DS_EINVAL);
    eventlog_abort(&txn);
    txn = eventlog_begin(log);
    assert_rc(eventlog_txn_forget_origin(txn, "street:s"), DS_OK);
    assert_rc(eventlog_commit(&txn), DS_OK);
    assert_int_equal(eventlog_hwm(log, "street:s"), 0);
    assert_int_equal(eventlog_hwm(log, UNIT), 1);
    assert_rc(add_one(log, &d2, EVENTLOG_CONTIGUOUS), DS_OK);
    eventlog_destroy(&log);
    log = open_log(dir); /* the forgetting is durable, the new entry too */
    assert_int_equal(eventlog_hwm(log, "street:s"), 1);
    uint8_t *raw = NULL;
    size_t len = 0;
    assert_rc(eventlog_get_raw(log, "street:s", 1, &raw, &len), DS_OK);
    assert_int_equal(len, d2.len);
    assert_memory_equal(raw, d2.raw, len);
    free(raw);
    tu_event_free(&d1);
    tu_event_free(&d2);
    tu_event_free(&intro);
    eventlog_destroy(&log);
}

static void test_eventlog_org_level_event_has_no_member_record(void **state)
{
    const char *dir = *state;
    struct tu_event e;
    Dualsync__DirectoryEntry d = DUALSYNC__DIRECTORY_ENTRY__INIT;
    uint8_t *raw = NULL;
    size_t len = 0;
    struct eventlog *log = open_log(dir);
    d.org = (char *)COMM;
    d.kind = DUALSYNC__ORG_KIND__ORG_KIND_COMMUNITY;
    d.name = (char *)NAME;
    d.curve_key.data = k.curve_pk;
    d.curve_key.len = KEYS_PUB_LEN;
    d.sign_key.data = k.sign_pk;
    d.sign_key.len = KEYS_PUB_LEN;
    tu_event_make(&e, &k, "street:s", 1, 100, NULL, DUALSYNC__EVENT_TYPE__EVENT_DIRECTORY_ENTRY,
                  &d.base);
    assert_rc(add_one(log, &e, EVENTLOG_CONTIGUOUS), DS_OK);
    assert_rc(eventlog_get_raw(log, "street:s", 1, &raw, &len), DS_OK);
    free(raw);
    struct member_list none = {.n = 0, .stop_after = 0};
    assert_rc(eventlog_members_each(log, collect_member, &none), DS_OK);
    assert_int_equal(none.n, 0);
    tu_event_free(&e);
    eventlog_destroy(&log);
}

/* ---------------------------------------------------------------- transactions */

static void test_eventlog_abort_writes_nothing(void **state)
{
    const char *dir = *state;
    struct tu_event a;
    uint8_t *raw = NULL;
    size_t len = 0;
    uint64_t v = 0;
    Dualsync__MemberRecord *rec = NULL;
    struct eventlog *log = open_log(dir);
    tu_event_intro(&a, &k, UNIT, 1, 5000, "M1", COMM, NAME, 30, "2026-11-28");
    struct eventlog_txn *txn = eventlog_begin(log);
    assert_rc(eventlog_txn_add(txn, &a.ev, EVENTLOG_CONTIGUOUS), DS_OK);
    eventlog_txn_put_meta_u64(txn, "cursor", 17);
    eventlog_abort(&txn);
    assert_null(txn);
    eventlog_abort(&txn); /* NULL-safe */

    assert_rc(eventlog_get_raw(log, UNIT, 1, &raw, &len), DS_ENOTFOUND);
    assert_rc(eventlog_member(log, "M1", &rec), DS_ENOTFOUND);
    assert_true(eventlog_hwm(log, UNIT) == 0);
    assert_true(eventlog_hlc_max(log) == 0);
    assert_rc(eventlog_meta_u64(log, "cursor", 0, &v), DS_OK);
    assert_true(v == 0);
    eventlog_destroy(&log);
    log = open_log(dir);
    assert_rc(eventlog_get_raw(log, UNIT, 1, &raw, &len), DS_ENOTFOUND);
    assert_true(eventlog_hwm(log, UNIT) == 0);
    /* The aborted event can be added for real afterwards. */
    assert_rc(add_one(log, &a, EVENTLOG_CONTIGUOUS), DS_OK);
    tu_event_free(&a);
    eventlog_destroy(&log);
}

/* eventlog_abort keeps the emptied transaction for the next eventlog_begin: nothing an
 * aborted or committed transaction held (events, meta puts, pending hwm and hlc, the
 * written state) may reach the next one. Two transactions open at once stay apart. */
static void test_eventlog_kept_txn_starts_empty(void **state)
{
    const char *dir = *state;
    struct tu_event a, b;
    const uint8_t *raw = NULL;
    uint8_t *stored = NULL;
    size_t len = 0;
    uint64_t v = 0;
    struct eventlog *log = open_log(dir);
    tu_event_intro(&a, &k, UNIT, 1, 5000, "M1", COMM, NAME, 30, "2026-11-28");
    tu_event_intro(&b, &k, UNIT, 2, 6000, "M2", COMM, NAME, 31, "2026-11-29");
    struct eventlog_txn *txn = eventlog_begin(log);
    assert_rc(eventlog_txn_add(txn, &a.ev, EVENTLOG_CONTIGUOUS), DS_OK);
    eventlog_txn_put_meta_u64(txn, "cursor", 17);
    eventlog_abort(&txn);

    txn = eventlog_begin(log); /* the kept one */
    assert_int_equal(eventlog_txn_count(txn), 0);
    assert_int_equal(store_batch_count(eventlog_txn_batch(txn)), 0);
    assert_false(eventlog_txn_raw(txn, UNIT, 1, &raw, &len));
    assert_rc(eventlog_commit(&txn), DS_OK);
    assert_rc(eventlog_get_raw(log, UNIT, 1, &stored, &len), DS_ENOTFOUND);
    assert_rc(eventlog_meta_u64(log, "cursor", 0, &v), DS_OK);
    assert_true(v == 0);
    assert_true(eventlog_hwm(log, UNIT) == 0);
    assert_true(eventlog_hlc_max(log) == 0);

    /* After a commit: the next transaction takes letters again, from the right hwm. */
    assert_rc(add_one(log, &a, EVENTLOG_CONTIGUOUS), DS_OK);
    txn = eventlog_begin(log);
    assert_false(eventlog_txn_raw(txn, UNIT, 1, &raw, &len));
    assert_rc(eventlog_txn_add(txn, &a.ev, EVENTLOG_CONTIGUOUS), DS_EEXIST);
    assert_rc(eventlog_txn_add(txn, &b.ev, EVENTLOG_CONTIGUOUS), DS_OK);
    assert_rc(eventlog_commit(&txn), DS_OK);
    assert_true(eventlog_hwm(log, UNIT) == 2);

    /* Two open at once: each its own; both end, and the next begins empty. */
    struct eventlog_txn *t1 = eventlog_begin(log), *t2 = eventlog_begin(log);
    assert_ptr_not_equal(t1, t2);
    eventlog_txn_put_meta_u64(t1, "cursor", 1);
    assert_int_equal(store_batch_count(eventlog_txn_batch(t2)), 0);
    eventlog_abort(&t1);
    eventlog_abort(&t2);
    txn = eventlog_begin(log);
    assert_int_equal(store_batch_count(eventlog_txn_batch(txn)), 0);
    eventlog_abort(&txn);
    tu_event_free(&a);
    tu_event_free(&b);
    eventlog_destroy(&log);
}

static void test_eventlog_meta_put_get(void **state)
{
    const char *dir = *state;
    void *val = NULL;
    size_t len = 0;
    uint64_t v = 0;
    struct eventlog *log = open_log(dir);
    assert_rc(eventlog_meta_u64(log, "inbox_cursor", 42, &v), DS_OK);
    assert_true(v == 42); /* default when absent */
    assert_rc(eventlog_meta_get(log, "store_id", &val, &len), DS_ENOTFOUND);

    /* A transaction with no events still commits its meta puts. */
    struct eventlog_txn *txn = eventlog_begin(log);
    eventlog_txn_put_meta_u64(txn, "inbox_cursor", 0x0102030405ull);
    eventlog_txn_put_meta(txn, "store_id", "\x00\x01\x02\xff", 4);
    assert_rc(eventlog_commit(&txn), DS_OK);
    assert_rc(eventlog_meta_u64(log, "inbox_cursor", 0, &v), DS_OK);
    assert_true(v == 0x0102030405ull);
    assert_rc(eventlog_meta_get(log, "store_id", &val, &len), DS_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(val, "\x00\x01\x02\xff", 4);
    free(val);

    /* Persisted, and overwritten by a later put. */
    eventlog_destroy(&log);
    log = open_log(dir);
    txn = eventlog_begin(log);
    eventlog_txn_put_meta_u64(txn, "inbox_cursor", 7);
    assert_rc(eventlog_commit(&txn), DS_OK);
    assert_rc(eventlog_meta_u64(log, "inbox_cursor", 0, &v), DS_OK);
    assert_true(v == 7);
    assert_rc(eventlog_meta_get(log, "store_id", &val, &len), DS_OK);
    free(val);
    eventlog_destroy(&log);
}

static void test_eventlog_txn_batch_commits_with_events(void **state)
{
    const char *dir = *state;
    struct tu_event a;
    struct skey key;
    void *val = NULL;
    size_t len = 0;
    struct eventlog *log = open_log(dir);
    tu_event_intro(&a, &k, UNIT, 1, 5000, "M1", COMM, NAME, 30, "2026-11-28");
    skey_init(&key);
    skey_str(&key, "M1");

    /* The caller's puts ride in the same atomic write... */
    struct eventlog_txn *txn = eventlog_begin(log);
    assert_rc(eventlog_txn_add(txn, &a.ev, 0), DS_OK);
    store_batch_put(eventlog_txn_batch(txn), CF_ROUTES, &key, COMM, strlen(COMM));
    assert_rc(store_get(eventlog_store(log), CF_ROUTES, &key, &val, &len), DS_ENOTFOUND);
    assert_rc(eventlog_commit(&txn), DS_OK);
    assert_rc(store_get(eventlog_store(log), CF_ROUTES, &key, &val, &len), DS_OK);
    assert_int_equal(len, strlen(COMM));
    assert_memory_equal(val, COMM, len);
    free(val);

    /* ... and are dropped with an aborted transaction. */
    skey_init(&key);
    skey_str(&key, "M2");
    txn = eventlog_begin(log);
    store_batch_put(eventlog_txn_batch(txn), CF_ROUTES, &key, "x", 1);
    eventlog_abort(&txn);
    assert_rc(store_get(eventlog_store(log), CF_ROUTES, &key, &val, &len), DS_ENOTFOUND);
    tu_event_free(&a);
    eventlog_destroy(&log);
}

/* ---------------------------------------------------------------- commit latency */

/* A clock that makes commit i take durations[i] ns: a commit reads it twice, at its start
 * and at its end. */
struct fake_clock {
    uint64_t t;
    const uint64_t *durations;
    size_t calls;
};

static uint64_t fake_ns(void *arg)
{
    struct fake_clock *c = arg;
    size_t i = c->calls++;
    if (i % 2 == 1)
        c->t += c->durations[i / 2];
    return c->t;
}

static void test_eventlog_commit_latency_histogram(void **state)
{
    const char *dir = *state;
    static const uint64_t ms = 1000000;
    /* A bound holds what equals it; 1,500 ms is past the last one (+Inf only); the failed
     * commit and the one without events count too. */
    static const uint64_t durations[] = {ms / 2,    ms / 2 + 1, 7 * ms, 1000 * ms,
                                         1500 * ms, 3 * ms,     ms / 4};
    static const uint64_t want_le[HIST_BUCKETS] = {2, 3, 3, 4, 5, 5, 5, 5, 5, 5, 6};
    static const double bounds[HIST_BUCKETS] = {0.5, 1, 2, 5, 10, 20, 50, 100, 250, 500, 1000};
    struct fake_clock clock = {.t = 1000 * ms, .durations = durations, .calls = 0};
    struct hist_stats st0, st;
    struct tu_event e[6];
    struct eventlog *log = open_log(dir);
    hist_stats(eventlog_commits(log), &st0); /* opening may have committed (upgrades) */
    eventlog_set_clock(log, fake_ns, &clock);
    for (size_t i = 0; i < 6; i++) {
        char member[8];
        snprintf(member, sizeof(member), "M%zu", i + 1);
        tu_event_intro(&e[i], &k, UNIT, i + 1, 5000 + i, member, COMM, NAME, 30, "2026-11-28");
    }
    for (size_t i = 0; i < 5; i++)
        assert_rc(add_one(log, &e[i], EVENTLOG_CONTIGUOUS), DS_OK);
    fault_fail_commits(1);
    assert_rc(add_one(log, &e[5], EVENTLOG_CONTIGUOUS), DS_EIO);
    struct eventlog_txn *txn = eventlog_begin(log);
    eventlog_txn_put_meta_u64(txn, "cursor", 1);
    assert_rc(eventlog_commit(&txn), DS_OK);
    assert_int_equal(clock.calls, 2 * 7);

    hist_stats(eventlog_commits(log), &st);
    assert_true(st.count - st0.count == 7);
    uint64_t sum = 0;
    for (size_t i = 0; i < 7; i++)
        sum += durations[i];
    assert_true(st.sum_ns - st0.sum_ns == sum);
    assert_true(st.max_ns == 1500 * ms); /* the longest, past every bound */
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        assert_true(st.le_ms[i] == bounds[i]);
        assert_true(st.le[i] - st0.le[i] == want_le[i]);
    }

    /* The real clock: every commit counted, the buckets cumulative and within the count. */
    eventlog_destroy(&log);
    log = open_log(dir);
    hist_stats(eventlog_commits(log), &st0);
    assert_rc(add_one(log, &e[5], EVENTLOG_CONTIGUOUS), DS_OK);
    for (uint64_t v = 0; v < 9; v++) {
        txn = eventlog_begin(log);
        eventlog_txn_put_meta_u64(txn, "cursor", v);
        assert_rc(eventlog_commit(&txn), DS_OK);
    }
    hist_stats(eventlog_commits(log), &st);
    assert_true(st.count - st0.count == 10);
    assert_true(st.sum_ns > st0.sum_ns);
    for (size_t i = 1; i < HIST_BUCKETS; i++)
        assert_true(st.le[i] >= st.le[i - 1]);
    assert_true(st.le[HIST_BUCKETS - 1] <= st.count);
    eventlog_destroy(&log);
    for (size_t i = 0; i < 6; i++)
        tu_event_free(&e[i]);
}

static void test_eventlog_open_twice_eagain(void **state)
{
    const char *dir = *state;
    struct eventlog *second = NULL;
    struct eventlog *log = open_log(dir);
    assert_rc(eventlog_open(dir, STORE_WAL, &second), DS_EAGAIN);
    assert_null(second);
    eventlog_destroy(&log);
}

static int setup_keys(void **state)
{
    (void)state;
    if (keys_crypto_init() != DS_OK)
        return -1;
    keys_generate(&k);
    return 0;
}

static bool count_event(const struct event *ev, void *arg)
{
    (void)ev;
    (*(int *)arg)++;
    return true;
}

/* A letter is written once: its by_member entry is a reference (no bytes), and the record
 * folds from the rows it points at, also after a refold. */
static void test_eventlog_member_index_is_references(void **state)
{
    const char *dir = *state;
    struct tu_event intro, report;
    Dualsync__MemberRecord *rec = NULL;
    struct eventlog *log = open_log(dir);
    tu_event_intro(&intro, &k, UNIT, 1, 100, "M1", COMM, NAME, 30, "2026-01-01");
    tu_event_report(&report, &k, COMM, 1, 200, "M1", "2026-01-05");
    assert_rc(add_one(log, &report, 0), DS_OK);
    assert_rc(add_one(log, &intro, 0), DS_OK); /* sorts before the report: a refold */
    struct skey prefix;
    skey_init(&prefix);
    skey_str(&prefix, "M1");
    struct store_iter *it = store_iter_new(eventlog_store(log), CF_BY_MEMBER, &prefix, NULL);
    int n = 0;
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t vlen = 1;
        store_iter_value(it, &vlen);
        assert_int_equal(vlen, 0);
        n++;
    }
    store_iter_destroy(&it);
    assert_int_equal(n, 2);
    assert_rc(eventlog_member(log, "M1", &rec), DS_OK);
    assert_true(rec->reported);
    assert_int_equal(rec->events, 2);
    fold_free(&rec);
    eventlog_destroy(&log);
    tu_event_free(&intro);
    tu_event_free(&report);
}

/* eventlog_txn_adopt takes an event the caller opened over bytes it does not own: the
 * transaction keeps the event (the caller's is left empty, its buffer may go), stores it
 * byte for byte and folds it; a refused adopt (the same letter again) leaves the caller's
 * event as it was; one of a member erased in the same transaction is kept, and stored,
 * without its personal part. */
static void test_eventlog_adopt_takes_the_event(void **state)
{
    const char *dir = *state;
    struct tu_event intro, again, late;
    struct eventlog *log = open_log(dir);
    tu_event_intro(&intro, &k, UNIT, 1, 100, "M1", COMM, NAME, 30, "2026-01-01");
    uint8_t *buf = malloc(intro.len);
    assert_non_null(buf);
    memcpy(buf, intro.raw, intro.len);
    struct event ev;
    const struct event *kept = NULL;
    assert_rc(wire_event_open(buf, intro.len, false, &ev), DS_OK);
    struct eventlog_txn *txn = eventlog_begin(log);
    assert_rc(eventlog_txn_adopt(txn, &ev, EVENTLOG_CONTIGUOUS, &kept), DS_OK);
    assert_null(ev.msg); /* handed over */
    memset(buf, 0xAA, intro.len);
    free(buf);
    assert_string_equal(kept->member, "M1");
    assert_true(kept->seq == 1);
    const uint8_t *raw = NULL;
    size_t len = 0;
    assert_true(eventlog_txn_raw(txn, UNIT, 1, &raw, &len));
    assert_int_equal(len, intro.len);
    assert_memory_equal(raw, intro.raw, len);
    assert_rc(eventlog_commit(&txn), DS_OK);
    uint8_t *stored = NULL;
    assert_rc(eventlog_get_raw(log, UNIT, 1, &stored, &len), DS_OK);
    assert_int_equal(len, intro.len);
    assert_memory_equal(stored, intro.raw, len);
    free(stored);

    tu_event_intro(&again, &k, UNIT, 1, 100, "M1", COMM, NAME, 30, "2026-01-01");
    assert_rc(wire_event_open(again.raw, again.len, false, &ev), DS_OK);
    txn = eventlog_begin(log);
    assert_rc(eventlog_txn_adopt(txn, &ev, EVENTLOG_CONTIGUOUS, &kept), DS_EEXIST);
    assert_non_null(ev.msg); /* still the caller's */
    assert_true(ev.seq == 1);
    wire_event_release(&ev);

    tu_event_intro(&late, &k, UNIT, 2, 300, "M1", COMM, NAME, 30, "2026-01-01");
    assert_rc(eventlog_txn_redact_member(txn, "M1", UINT64_MAX, NULL), DS_OK);
    assert_rc(wire_event_open(late.raw, late.len, false, &ev), DS_OK);
    assert_true(ev.personal_len > 0);
    assert_rc(eventlog_txn_adopt(txn, &ev, EVENTLOG_CONTIGUOUS, &kept), DS_OK);
    assert_true(kept->personal_len == 0 && kept->redacted);
    assert_null(ev.msg);
    assert_rc(eventlog_commit(&txn), DS_OK);
    assert_rc(eventlog_get_raw(log, UNIT, 2, &stored, &len), DS_OK);
    assert_true(len < late.len); /* without the personal part */
    free(stored);
    Dualsync__MemberRecord *rec = NULL;
    assert_rc(eventlog_member(log, "M1", &rec), DS_OK);
    assert_int_equal(rec->events, 2);
    fold_free(&rec);
    eventlog_destroy(&log);
    tu_event_free(&intro);
    tu_event_free(&again);
    tu_event_free(&late);
}

/* A store written by an older version: records folded by an older fold, org-level events
 * not in by_type. Opening it refolds every record from the log and indexes the events. */
static void test_eventlog_upgrades_older_store(void **state)
{
    const char *dir = *state;
    struct tu_event intro, report, meeting;
    Dualsync__MemberRecord *rec = NULL;
    struct eventlog *log = open_log(dir);
    tu_event_intro(&intro, &k, UNIT, 1, 100, "M1", COMM, NAME, 30, "2026-01-01");
    tu_event_report(&report, &k, COMM, 1, 200, "M1", "2026-01-05");
    tu_event_make(&meeting, &k, "street:s", 1, 300, "", 40, NULL);
    assert_rc(add_one(log, &intro, 0), DS_OK);
    assert_rc(add_one(log, &report, 0), DS_OK);
    assert_rc(add_one(log, &meeting, 0), DS_OK);

    /* Make it look old: a stale record, no fold version, no type index, and by_member
     * entries that carry the event's bytes (stores of 2026-11-29..12-04; the others' are
     * references, as now). */
    struct store *st = eventlog_store(log);
    struct store_batch *b = store_batch_new(st);
    struct skey key;
    const struct tu_event *member_events[2] = {&intro, &report};
    for (int i = 0; i < 2; i++) {
        skey_init(&key);
        skey_str(&key, "M1");
        skey_u64(&key, member_events[i]->ev.hlc);
        skey_str(&key, member_events[i]->ev.origin);
        skey_u64(&key, member_events[i]->ev.seq);
        store_batch_put(b, CF_BY_MEMBER, &key, member_events[i]->raw, member_events[i]->len);
    }
    Dualsync__MemberRecord *stale = fold_new("M1");
    uint8_t *bytes = NULL;
    size_t len = 0;
    fold_encode(stale, &bytes, &len);
    uint8_t *val = malloc(len + 1);
    val[0] = 0; /* no fold position */
    memcpy(val + 1, bytes, len);
    skey_init(&key);
    skey_str(&key, "M1");
    store_batch_put(b, CF_MEMBERS, &key, val, len + 1);
    skey_init(&key);
    skey_str(&key, "fold_version");
    store_batch_delete(b, CF_META, &key);
    skey_init(&key);
    skey_str(&key, "type_index");
    store_batch_delete(b, CF_META, &key);
    skey_init(&key);
    skey_u64(&key, 40);
    skey_u64(&key, 300);
    skey_str(&key, "street:s");
    skey_u64(&key, 1);
    store_batch_delete(b, CF_BY_TYPE, &key);
    assert_rc(store_commit(st, b), DS_OK);
    store_batch_destroy(&b);
    free(val);
    free(bytes);
    fold_free(&stale);
    int n = 0;
    assert_rc(eventlog_type_events(log, 40, count_event, &n), DS_OK);
    assert_int_equal(n, 0);
    eventlog_destroy(&log);

    log = open_log(dir);
    assert_rc(eventlog_member(log, "M1", &rec), DS_OK);
    assert_true(rec->reported); /* refolded from the log */
    assert_int_equal(rec->events, 2);
    fold_free(&rec);
    struct timeline t = {.n = 0, .stop_after = 0};
    assert_rc(eventlog_member_events(log, "M1", collect_event, &t), DS_OK);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.pos[1].hlc, 200);
    assert_rc(eventlog_type_events(log, 40, count_event, &n), DS_OK);
    assert_int_equal(n, 1);
    uint64_t version = 0;
    assert_rc(eventlog_meta_u64(log, "fold_version", 0, &version), DS_OK);
    assert_true(version == FOLD_VERSION);
    eventlog_destroy(&log);
    tu_event_free(&intro);
    tu_event_free(&report);
    tu_event_free(&meeting);
}

static uint64_t memtable_bytes(struct eventlog *log)
{
    uint64_t sst = 0, mem = 0;
    assert_rc(store_size(eventlog_store(log), &sst, &mem), DS_OK);
    return mem;
}

/* An idle daemon gives its memtables back: not while it commits, not before
 * EVENTLOG_REST_AFTER_MS without a commit, then flushed (in the background) until they
 * hold almost nothing; a commit starts the idle clock again. */
static void test_eventlog_rest_flushes_after_idle(void **state)
{
    const char *dir = *state;
    struct eventlog *log = NULL;
    assert_rc(eventlog_open(dir, STORE_WAL, &log), DS_OK);
    static uint8_t blob[1 << 20];
    memset(blob, 'x', sizeof(blob));
    /* 8 MiB in the members family, whose memtable (32 MiB) RocksDB does not flush by
     * itself at that size */
    for (int i = 0; i < 8; i++) {
        struct skey key;
        skey_init(&key);
        skey_str(&key, "blob");
        skey_u64(&key, (uint64_t)i);
        blob[0] = (uint8_t)i; /* distinct values */
        struct eventlog_txn *txn = eventlog_begin(log);
        store_batch_put(eventlog_txn_batch(txn), CF_MEMBERS, &key, blob, sizeof(blob));
        assert_rc(eventlog_commit(&txn), DS_OK);
    }
    assert_true(memtable_bytes(log) > EVENTLOG_REST_MEMTABLE_BYTES);

    uint64_t t = 1000000;
    eventlog_rest(log, t);                              /* the idle clock starts */
    eventlog_rest(log, t + EVENTLOG_REST_AFTER_MS - 1); /* not yet */
    assert_true(memtable_bytes(log) > EVENTLOG_REST_MEMTABLE_BYTES);

    /* a commit meanwhile: idle only from the next call on */
    struct eventlog_txn *txn = eventlog_begin(log);
    eventlog_txn_put_meta_u64(txn, "cursor", 1);
    assert_rc(eventlog_commit(&txn), DS_OK);
    eventlog_rest(log, t + EVENTLOG_REST_AFTER_MS);
    eventlog_rest(log, t + 2 * EVENTLOG_REST_AFTER_MS - 1);
    assert_true(memtable_bytes(log) > EVENTLOG_REST_MEMTABLE_BYTES);

    /* idle long enough: flushed in the background; poll with a deadline */
    t += 2 * EVENTLOG_REST_AFTER_MS;
    for (int i = 0; i < 1000 && memtable_bytes(log) > EVENTLOG_REST_MEMTABLE_BYTES; i++) {
        eventlog_rest(log, t++);
        struct timespec ms = {0, 10 * 1000 * 1000};
        nanosleep(&ms, NULL);
    }
    assert_true(memtable_bytes(log) <= EVENTLOG_REST_MEMTABLE_BYTES);
    eventlog_rest(log, t);     /* the trim after the flush: nothing to check but that it runs */
    txn = eventlog_begin(log); /* the kept transaction went with the trim: a new one */
    eventlog_txn_put_meta_u64(txn, "cursor", 2);
    assert_rc(eventlog_commit(&txn), DS_OK);
    uint64_t cursor = 0;
    assert_rc(eventlog_meta_u64(log, "cursor", 0, &cursor), DS_OK);
    assert_true(cursor == 2);
    struct skey key;
    skey_init(&key);
    skey_str(&key, "blob");
    skey_u64(&key, 7);
    void *val = NULL;
    size_t len = 0;
    assert_rc(store_get(eventlog_store(log), CF_MEMBERS, &key, &val, &len), DS_OK); /* kept */
    assert_int_equal(len, sizeof(blob));
    assert_int_equal(((uint8_t *)val)[0], 7);
    free(val);
    eventlog_destroy(&log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        tu_test_tmpdir(test_eventlog_add_commit_get_raw),
        tu_test_tmpdir(test_eventlog_rest_flushes_after_idle),
        tu_test_tmpdir(test_eventlog_origin_run_stops_at_gap_max_and_budget),
        tu_test_tmpdir(test_eventlog_duplicate_eexist),
        tu_test_tmpdir(test_eventlog_fork_efork),
        tu_test_tmpdir(test_eventlog_contiguous_gap_eseq),
        tu_test_tmpdir(test_eventlog_without_contiguity_takes_any_order),
        tu_test_tmpdir(test_eventlog_txn_check_answers_without_adding),
        tu_test_tmpdir(test_eventlog_hwm_persists_reopen),
        tu_test_tmpdir(test_eventlog_member_record_two_commits),
        tu_test_tmpdir(test_eventlog_late_event_refolds),
        tu_test_tmpdir(test_eventlog_new_member_out_of_order_txn),
        tu_test_tmpdir(test_eventlog_random_arrival_matches_scratch),
        tu_test_tmpdir(test_eventlog_deferred_folds_match_scratch),
        tu_test_tmpdir(test_eventlog_deferred_marks_survive_and_settle),
        tu_test_tmpdir(test_eventlog_member_events_in_fold_order),
        tu_test_tmpdir(test_eventlog_members_each),
        tu_test_tmpdir(test_eventlog_org_level_event_has_no_member_record),
        tu_test_tmpdir(test_eventlog_forget_origin_only_org_level),
        tu_test_tmpdir(test_eventlog_abort_writes_nothing),
        tu_test_tmpdir(test_eventlog_kept_txn_starts_empty),
        tu_test_tmpdir(test_eventlog_settle_stops_at_its_budget),
        tu_test_tmpdir(test_eventlog_meta_put_get),
        tu_test_tmpdir(test_eventlog_txn_batch_commits_with_events),
        tu_test_tmpdir(test_eventlog_commit_latency_histogram),
        tu_test_tmpdir(test_eventlog_open_twice_eagain),
        tu_test_tmpdir(test_eventlog_upgrades_older_store),
        tu_test_tmpdir(test_eventlog_member_index_is_references),
        tu_test_tmpdir(test_eventlog_adopt_takes_the_event),
    };
    return cmocka_run_group_tests(tests, setup_keys, NULL);
}
