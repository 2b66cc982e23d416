/* Unit tests of fold: the member record as a pure function of the member's events. Field
 * tests apply hand-built events one by one; the order test shuffles one event set many
 * times, sorts it the way the event log does, and requires the same digest each time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "fold.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#define UNIT "unit:tax-bureau"
#define UNIT2 "unit:school"
#define COMM "community:hy-03"
#define COMM2 "community:hy-07"
#define NAME "\xe5\xbc\xa0\xe4\xb8\x89" /* 张三 */

static struct keys k;

static void apply_free(Dualsync__MemberRecord **recp, struct tu_event *e)
{
    fold_apply(recp, &e->ev);
    tu_event_free(e);
}

static void test_fold_new_is_empty(void **state)
{
    (void)state;
    Dualsync__MemberRecord *rec = fold_new("M1");
    assert_string_equal(rec->member, "M1");
    assert_string_equal(rec->name, "");
    assert_string_equal(rec->unit, "");
    assert_string_equal(rec->community, "");
    assert_false(rec->reported);
    assert_int_equal(rec->n_feedback, 0);
    assert_int_equal(rec->n_handling, 0);
    assert_int_equal(rec->events, 0);
    assert_true(rec->last_hlc == 0);
    fold_free(&rec);
    assert_null(rec);
    fold_free(&rec); /* NULL-safe */
}

static void test_fold_introduction_fields(void **state)
{
    struct tu_event e;
    (void)state;
    Dualsync__MemberRecord *rec = fold_new("M1");
    tu_event_intro(&e, &k, UNIT, 4, 1000, "M1", COMM, NAME, 30, "2026-11-28");
    apply_free(&rec, &e);
    assert_string_equal(rec->name, NAME);
    assert_string_equal(rec->unit, UNIT);
    assert_string_equal(rec->community, COMM);
    assert_string_equal(rec->intro_date, "2026-11-28");
    assert_int_equal(rec->report_days, 30);
    assert_string_equal(rec->intro_id, UNIT "/4");
    assert_false(rec->reported);
    assert_int_equal(rec->events, 1);
    assert_true(rec->last_hlc == 1000);
    fold_free(&rec);
}

static void test_fold_report_card_feedback_handling(void **state)
{
    struct tu_event e;
    (void)state;
    Dualsync__MemberRecord *rec = fold_new("M1");
    tu_event_intro(&e, &k, UNIT, 1, 1000, "M1", COMM, NAME, 30, "2026-11-28");
    apply_free(&rec, &e);
    tu_event_report(&e, &k, COMM, 1, 2000, "M1", "2026-12-01");
    apply_free(&rec, &e);
    assert_true(rec->reported);
    assert_string_equal(rec->report_date, "2026-12-01");

    tu_event_card(&e, &k, COMM, 2, 3000, "M1", "teacher", "tutoring", "weekends");
    apply_free(&rec, &e);
    assert_string_equal(rec->occupation, "teacher");
    assert_string_equal(rec->willingness, "tutoring");
    assert_string_equal(rec->rest_time, "weekends");

    tu_event_feedback(&e, &k, COMM, 3, 4000, "M1", 2026, DUALSYNC__RATING__RATING_POOR, true,
                      "absent");
    apply_free(&rec, &e);
    assert_int_equal(rec->n_feedback, 1);
    assert_string_equal(rec->feedback[0]->event_id, COMM "/3");
    assert_int_equal(rec->feedback[0]->year, 2026);
    assert_int_equal(rec->feedback[0]->rating, DUALSYNC__RATING__RATING_POOR);
    assert_true(rec->feedback[0]->non_participation);
    assert_string_equal(rec->feedback[0]->text, "absent");
    assert_true(rec->feedback[0]->hlc == 4000);

    tu_event_handling(&e, &k, UNIT, 2, 5000, "M1", COMM, 3,
                      DUALSYNC__HANDLING_ACTION__HANDLING_CRITICISM, "talked to");
    apply_free(&rec, &e);
    assert_int_equal(rec->n_handling, 1);
    assert_string_equal(rec->handling[0]->event_id, UNIT "/2");
    assert_string_equal(rec->handling[0]->feedback_id, COMM "/3");
    assert_int_equal(rec->handling[0]->action, DUALSYNC__HANDLING_ACTION__HANDLING_CRITICISM);
    assert_string_equal(rec->handling[0]->text, "talked to");
    assert_true(rec->handling[0]->hlc == 5000);

    /* A later card replaces the earlier one; feedback accumulates. */
    tu_event_card(&e, &k, COMM, 4, 6000, "M1", "retired", "", "");
    apply_free(&rec, &e);
    assert_string_equal(rec->occupation, "retired");
    assert_string_equal(rec->willingness, "");
    tu_event_feedback(&e, &k, COMM, 5, 7000, "M1", 2027, DUALSYNC__RATING__RATING_GOOD, false, "");
    apply_free(&rec, &e);
    assert_int_equal(rec->n_feedback, 2);
    assert_string_equal(rec->feedback[1]->event_id, COMM "/5");

    assert_int_equal(rec->events, 7);
    assert_true(rec->last_hlc == 7000);
    fold_free(&rec);
}

static void test_fold_event_from_other_side_changes_nothing(void **state)
{
    struct tu_event e;
    uint8_t before[KEYS_DIGEST_LEN], after[KEYS_DIGEST_LEN];
    (void)state;
    Dualsync__MemberRecord *rec = fold_new("M1");
    tu_event_intro(&e, &k, UNIT, 1, 1000, "M1", COMM, NAME, 30, "2026-11-28");
    apply_free(&rec, &e);

    /* Report-in, card and feedback from a community that is not the member's. */
    tu_event_report(&e, &k, COMM2, 1, 2000, "M1", "2026-12-01");
    apply_free(&rec, &e);
    assert_false(rec->reported);
    assert_string_equal(rec->report_date, "");
    tu_event_card(&e, &k, COMM2, 2, 2100, "M1", "teacher", "", "");
    apply_free(&rec, &e);
    assert_string_equal(rec->occupation, "");
    tu_event_feedback(&e, &k, COMM2, 3, 2200, "M1", 2026, DUALSYNC__RATING__RATING_GOOD, false, "");
    apply_free(&rec, &e);
    assert_int_equal(rec->n_feedback, 0);
    /* A handling result from a unit that is not the member's. */
    tu_event_handling(&e, &k, UNIT2, 1, 2300, "M1", COMM, 1,
                      DUALSYNC__HANDLING_ACTION__HANDLING_NO_ACTION, "");
    apply_free(&rec, &e);
    assert_int_equal(rec->n_handling, 0);
    /* Not even counted: every holder of the registration must fold the same, and only
     * the broker and the foreign org hold these. */
    assert_int_equal(rec->events, 1);
    assert_true(rec->last_hlc == 1000);
    assert_string_equal(rec->community, COMM);
    assert_string_equal(rec->unit, UNIT);

    /* An unknown type from the member's side is counted and changes nothing else. (From
     * the unit: the community's letters wait for a report-in.) */
    fold_digest(rec, before);
    tu_event_make(&e, &k, UNIT, 9, 2400, "M1", 999, NULL);
    apply_free(&rec, &e);
    assert_int_equal(rec->events, 2);
    rec->events--;
    rec->last_hlc = 1000;
    fold_digest(rec, after);
    assert_memory_equal(before, after, KEYS_DIGEST_LEN);
    fold_free(&rec);
}

static void test_fold_new_community_resets_registration(void **state)
{
    struct tu_event e;
    (void)state;
    Dualsync__MemberRecord *rec = fold_new("M1");
    tu_event_intro(&e, &k, UNIT, 1, 1000, "M1", COMM, NAME, 30, "2026-01-05");
    apply_free(&rec, &e);
    tu_event_report(&e, &k, COMM, 1, 2000, "M1", "2026-01-10");
    apply_free(&rec, &e);
    tu_event_card(&e, &k, COMM, 2, 3000, "M1", "teacher", "tutoring", "weekends");
    apply_free(&rec, &e);
    /* Same community again: the registration stands. */
    tu_event_intro(&e, &k, UNIT, 2, 4000, "M1", COMM, NAME, 15, "2026-02-01");
    apply_free(&rec, &e);
    assert_true(rec->reported);
    assert_string_equal(rec->occupation, "teacher");
    assert_int_equal(rec->report_days, 15);
    /* An introduction to another community while the registration is open is a
     * conflict the broker refuses: it changes nothing. */
    tu_event_intro(&e, &k, UNIT, 3, 4500, "M1", COMM2, NAME, 30, "2026-05-01");
    apply_free(&rec, &e);
    assert_string_equal(rec->community, COMM);
    assert_int_equal(rec->events, 4);
    /* The member moved: the move-out closes the registration, and the next introduction
     * starts a new record. */
    tu_event_move_out(&e, &k, UNIT, 4, 4800, "M1", "2026-06-01");
    apply_free(&rec, &e);
    assert_int_equal(rec->closed, DUALSYNC__CLOSE_REASON__CLOSE_MOVED);
    assert_string_equal(rec->closed_date, "2026-06-01");
    tu_event_report(&e, &k, COMM, 3, 4900, "M1", "2026-06-01"); /* closed: ignored */
    apply_free(&rec, &e);
    assert_int_equal(rec->events, 5);
    tu_event_intro(&e, &k, UNIT, 5, 5000, "M1", COMM2, NAME, 30, "2026-06-01");
    apply_free(&rec, &e);
    assert_string_equal(rec->community, COMM2);
    assert_string_equal(rec->intro_id, UNIT "/5");
    assert_int_equal(rec->closed, 0);
    assert_false(rec->reported);
    assert_string_equal(rec->report_date, "");
    assert_string_equal(rec->occupation, "");
    assert_string_equal(rec->willingness, "");
    assert_string_equal(rec->rest_time, "");
    assert_int_equal(rec->events, 1);
    /* ... and only the new community's events count from now on. */
    tu_event_report(&e, &k, COMM, 6, 6000, "M1", "2026-06-02");
    apply_free(&rec, &e);
    assert_false(rec->reported);
    tu_event_report(&e, &k, COMM2, 1, 7000, "M1", "2026-06-03");
    apply_free(&rec, &e);
    assert_true(rec->reported);
    assert_string_equal(rec->report_date, "2026-06-03");
    assert_int_equal(rec->events, 2);
    fold_free(&rec);
}

static void test_fold_community_return_then_reintroduction(void **state)
{
    struct tu_event e;
    (void)state;
    Dualsync__MemberRecord *rec = fold_new("M1");
    tu_event_intro(&e, &k, UNIT, 1, 1000, "M1", COMM, NAME, 30, "2026-01-05");
    apply_free(&rec, &e);
    tu_event_close(&e, &k, COMM, 1, 2000, "M1", "2026-01-20");
    apply_free(&rec, &e);
    assert_int_equal(rec->closed, DUALSYNC__CLOSE_REASON__CLOSE_RETURNED);
    tu_event_card(&e, &k, COMM, 2, 2500, "M1", "teacher", "", ""); /* after the close */
    apply_free(&rec, &e);
    assert_string_equal(rec->occupation, "");
    /* Another unit may not take the member over: only a release frees it. */
    tu_event_intro(&e, &k, UNIT2, 1, 3000, "M1", COMM2, NAME, 30, "2026-02-01");
    apply_free(&rec, &e);
    assert_string_equal(rec->unit, UNIT);
    /* The same unit introduces the member again, to the same community. */
    tu_event_intro(&e, &k, UNIT, 2, 4000, "M1", COMM, NAME, 30, "2026-03-01");
    apply_free(&rec, &e);
    assert_int_equal(rec->closed, 0);
    assert_string_equal(rec->intro_id, UNIT "/2");
    assert_int_equal(rec->events, 1);
    fold_free(&rec);
}

/* One member's history with hlc ties across origins, a community move and events that
 * only count in the right order. */
#define ORDER_EVENTS 13

static void make_history(struct tu_event *ev)
{
    tu_event_intro(&ev[0], &k, UNIT, 1, 1000, "M1", COMM, NAME, 30, "2026-01-05");
    tu_event_report(&ev[1], &k, COMM, 1, 2000, "M1", "2026-01-10");
    tu_event_card(&ev[2], &k, COMM, 2, 2000, "M1", "teacher", "", ""); /* hlc tie */
    tu_event_feedback(&ev[3], &k, COMM, 3, 3000, "M1", 2026, DUALSYNC__RATING__RATING_GOOD, false,
                      "a");
    tu_event_feedback(&ev[4], &k, COMM, 4, 3000, "M1", 2026, DUALSYNC__RATING__RATING_FAIR, false,
                      "b"); /* tie on hlc and origin: seq decides */
    tu_event_handling(&ev[5], &k, UNIT, 2, 3000, "M1", COMM, 4,
                      DUALSYNC__HANDLING_ACTION__HANDLING_CRITICISM, "c");
    tu_event_move_out(&ev[6], &k, UNIT, 3, 3500, "M1", "2026-03-01");
    tu_event_intro(&ev[7], &k, UNIT, 4, 4000, "M1", COMM2, NAME, 20, "2026-03-01");
    tu_event_report(&ev[8], &k, COMM2, 1, 4100, "M1", "2026-03-02");
    tu_event_card(&ev[9], &k, COMM2, 2, 5000, "M1", "retired", "gardening", "mornings");
    tu_event_report(&ev[10], &k, COMM, 5, 5500, "M1", "2026-03-05"); /* stale side */
    tu_event_feedback(&ev[11], &k, COMM2, 3, 6000, "M1", 2027, DUALSYNC__RATING__RATING_EXCELLENT,
                      true, "d");
    tu_event_make(&ev[12], &k, UNIT, 5, 6000, "M1", 999, NULL);
}

static void fold_sorted(const struct event **order, size_t n, uint8_t digest[KEYS_DIGEST_LEN])
{
    qsort(order, n, sizeof(*order), tu_event_cmp);
    Dualsync__MemberRecord *rec = fold_new("M1");
    for (size_t i = 0; i < n; i++)
        fold_apply(&rec, order[i]);
    fold_digest(rec, digest);
    fold_free(&rec);
}

/* Folds order in 200 shuffled arrival orders (sorted as the event log sorts them) and
 * requires the same digest each time. */
static void assert_order_independent(const struct event **order, size_t n, uint64_t rng)
{
    uint8_t first[KEYS_DIGEST_LEN], digest[KEYS_DIGEST_LEN];
    fold_sorted(order, n, first);
    for (int round = 0; round < 200; round++) {
        for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
            size_t j = tu_rand_below(&rng, i + 1);
            const struct event *t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        fold_sorted(order, n, digest);
        if (memcmp(first, digest, KEYS_DIGEST_LEN) != 0)
            fail_msg("round %d: digest differs for another arrival order", round);
    }
}

static void test_fold_order_independent_digest(void **state)
{
    struct tu_event ev[ORDER_EVENTS];
    const struct event *order[ORDER_EVENTS];
    (void)state;
    make_history(ev);
    for (size_t i = 0; i < ORDER_EVENTS; i++)
        order[i] = &ev[i].ev;
    assert_order_independent(order, ORDER_EVENTS, 0x0fd0fd0fd0fdull);
    /* And the history folds to what it should. */
    for (size_t i = 0; i < ORDER_EVENTS; i++)
        order[i] = &ev[i].ev;
    qsort(order, ORDER_EVENTS, sizeof(*order), tu_event_cmp);
    Dualsync__MemberRecord *rec = fold_new("M1");
    for (size_t i = 0; i < ORDER_EVENTS; i++)
        fold_apply(&rec, order[i]);
    assert_string_equal(rec->community, COMM2);
    /* The new record holds only the new registration: intro, report-in, card, feedback d,
     * unknown type; the old community's late report-in does not count. */
    assert_true(rec->reported);
    assert_string_equal(rec->report_date, "2026-03-02");
    assert_string_equal(rec->occupation, "retired");
    assert_int_equal(rec->n_feedback, 1);
    assert_string_equal(rec->feedback[0]->text, "d");
    assert_int_equal(rec->n_handling, 0);
    assert_int_equal(rec->events, 5);
    assert_true(rec->last_hlc == 6000);
    fold_free(&rec);
    for (size_t i = 0; i < ORDER_EVENTS; i++)
        tu_event_free(&ev[i]);
}

static void test_fold_encode_decode_round_trip(void **state)
{
    struct tu_event ev[ORDER_EVENTS];
    const struct event *order[ORDER_EVENTS];
    uint8_t d1[KEYS_DIGEST_LEN], d2[KEYS_DIGEST_LEN];
    char hex[2 * KEYS_DIGEST_LEN + 1], want_hex[2 * KEYS_DIGEST_LEN + 1];
    uint8_t *bytes = NULL, *bytes2 = NULL;
    size_t len = 0, len2 = 0;
    (void)state;
    make_history(ev);
    for (size_t i = 0; i < ORDER_EVENTS; i++)
        order[i] = &ev[i].ev;
    qsort(order, ORDER_EVENTS, sizeof(*order), tu_event_cmp);
    Dualsync__MemberRecord *rec = fold_new("M1");
    for (size_t i = 0; i < ORDER_EVENTS; i++)
        fold_apply(&rec, order[i]);

    fold_encode(rec, &bytes, &len);
    Dualsync__MemberRecord *back = fold_decode(bytes, len);
    assert_non_null(back);
    fold_digest(rec, d1);
    fold_digest(back, d2);
    assert_memory_equal(d1, d2, KEYS_DIGEST_LEN);
    /* Canonical: re-encoding the decoded record gives the same bytes. */
    fold_encode(back, &bytes2, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(bytes, bytes2, len);
    /* The digest is BLAKE2b-256 of the encoding, and its hex is lower-case hex. */
    keys_digest(bytes, len, d2);
    assert_memory_equal(d1, d2, KEYS_DIGEST_LEN);
    fold_digest_hex(rec, hex);
    keys_hex(d1, KEYS_DIGEST_LEN, want_hex);
    assert_string_equal(hex, want_hex);

    /* A decoded record keeps folding like the original. */
    struct tu_event more;
    tu_event_report(&more, &k, COMM2, 9, 9000, "M1", "2026-09-09");
    fold_apply(&rec, &more.ev);
    fold_apply(&back, &more.ev);
    tu_event_free(&more);
    fold_digest(rec, d1);
    fold_digest(back, d2);
    assert_memory_equal(d1, d2, KEYS_DIGEST_LEN);
    assert_string_equal(back->report_date, "2026-09-09");

    /* An empty record round-trips too. */
    Dualsync__MemberRecord *empty = fold_new("M2");
    uint8_t *eb = NULL;
    size_t elen = 0;
    fold_encode(empty, &eb, &elen);
    Dualsync__MemberRecord *eback = fold_decode(eb, elen);
    assert_non_null(eback);
    assert_string_equal(eback->member, "M2");
    fold_free(&eback);
    fold_free(&empty);
    free(eb);

    static const uint8_t garbage[] = {0xff, 0xff, 0xff};
    assert_null(fold_decode(garbage, sizeof(garbage)));

    free(bytes);
    free(bytes2);
    fold_free(&back);
    fold_free(&rec);
    for (size_t i = 0; i < ORDER_EVENTS; i++)
        tu_event_free(&ev[i]);
}

static int setup_keys(void **state)
{
    (void)state;
    if (keys_crypto_init() != DS_OK)
        return -1;
    keys_generate(&k);
    return 0;
}

static void correction(struct tu_event *out, const char *origin, uint64_t seq, uint64_t hlc,
                       const char *target, const char *name, Dualsync__Rating rating,
                       const char *text)
{
    Dualsync__Correction b = DUALSYNC__CORRECTION__INIT;
    b.target = (char *)target;
    b.reason = "typo";
    b.date = "2026-02-01";
    b.name = (char *)(name ? name : "");
    b.text = (char *)(text ? text : "");
    b.rating = rating;
    tu_event_make(out, &k, origin, seq, hlc, "M1", DUALSYNC__EVENT_TYPE__EVENT_CORRECTION, &b.base);
}

static void withdrawal(struct tu_event *out, const char *origin, uint64_t seq, uint64_t hlc,
                       const char *target)
{
    Dualsync__Withdrawal b = DUALSYNC__WITHDRAWAL__INIT;
    b.target = (char *)target;
    b.reason = "sent in error";
    b.date = "2026-02-01";
    tu_event_make(out, &k, origin, seq, hlc, "M1", DUALSYNC__EVENT_TYPE__EVENT_WITHDRAWAL, &b.base);
}

#define AMEND_EVENTS 12

/* One registration with corrections and withdrawals among its letters, including a
 * correction and a withdrawal aimed at another org's letter (ignored) and at a letter
 * already withdrawn (nothing left to change). */
static void make_amended_history(struct tu_event *ev)
{
    tu_event_intro(&ev[0], &k, UNIT, 1, 1000, "M1", COMM, "Zhang San", 30, "2026-01-05");
    tu_event_report(&ev[1], &k, COMM, 1, 1100, "M1", "2026-01-10");
    tu_event_feedback(&ev[2], &k, COMM, 2, 1200, "M1", 2026, DUALSYNC__RATING__RATING_POOR, false,
                      "late");
    tu_event_feedback(&ev[3], &k, COMM, 3, 1300, "M1", 2026, DUALSYNC__RATING__RATING_GOOD, false,
                      "fine");
    correction(&ev[4], UNIT, 2, 1400, "unit:tax-bureau/1", NAME, 0, NULL); /* the name */
    correction(&ev[5], COMM, 4, 1500, "community:hy-03/2", NULL, DUALSYNC__RATING__RATING_FAIR,
               "late twice");
    withdrawal(&ev[6], COMM, 5, 1600, "community:hy-03/1"); /* the report-in */
    withdrawal(&ev[7], COMM, 6, 1700, "community:hy-03/3"); /* feedback "fine" */
    correction(&ev[8], COMM, 7, 1800, "community:hy-03/3", NULL, 0, "too late"); /* withdrawn */
    correction(&ev[9], UNIT, 3, 1900, "community:hy-03/2", NULL, 0, "not yours");
    withdrawal(&ev[10], UNIT, 4, 2000, "community:hy-03/2");         /* not its letter */
    tu_event_report(&ev[11], &k, COMM, 8, 2100, "M1", "2026-02-03"); /* reported again */
}

/* ---------------------------------------------------------------- claims */

static void report_naming(struct tu_event *e, const char *community, uint64_t seq, uint64_t hlc,
                          const char *intro)
{
    Dualsync__ReportIn b = DUALSYNC__REPORT_IN__INIT;
    b.date = (char *)"2026-03-10";
    b.intro = (char *)intro;
    tu_event_make(e, &k, community, seq, hlc, "M1", DUALSYNC__EVENT_TYPE__EVENT_REPORT_IN, &b.base);
}

static void fold_some(const struct tu_event *ev, const int *which, size_t n,
                      uint8_t digest[KEYS_DIGEST_LEN], Dualsync__MemberRecord **keep)
{
    const struct event *order[16];
    for (size_t i = 0; i < n; i++)
        order[i] = &ev[which[i]].ev;
    qsort(order, n, sizeof(*order), tu_event_cmp);
    Dualsync__MemberRecord *rec = fold_new("M1");
    for (size_t i = 0; i < n; i++)
        fold_apply(&rec, order[i]);
    fold_digest(rec, digest);
    if (keep)
        *keep = rec;
    else
        fold_free(&rec);
}

/* The squatting case of issue 11: UNIT introduces M1 first without being the member's
 * unit; UNIT2, the member's unit, introduces M1 after. Until the report-in both are
 * introductions of M1 at the community (UNIT2's a claim) and the community's card waits;
 * the report-in names UNIT2's letter, and the community's record is then byte for byte
 * the one UNIT2 folds from what the broker delivers to it, in every arrival order. */
static void test_fold_claim_confirmed_by_report_in(void **state)
{
    struct tu_event ev[7];
    uint8_t community[KEYS_DIGEST_LEN], unit2[KEYS_DIGEST_LEN];
    Dualsync__MemberRecord *rec = NULL;
    (void)state;
    tu_event_intro(&ev[0], &k, UNIT, 1, 1000, "M1", COMM, "squatter", 30, "2026-03-01");
    tu_event_intro(&ev[1], &k, UNIT2, 1, 1100, "M1", COMM, NAME, 30, "2026-03-02");
    tu_event_handling(&ev[2], &k, UNIT2, 2, 1200, "M1", COMM, 9,
                      DUALSYNC__HANDLING_ACTION__HANDLING_NO_ACTION, "claimant's letter");
    tu_event_card(&ev[3], &k, COMM, 1, 1250, "M1", "early card", "", "");
    report_naming(&ev[4], COMM, 2, 1300, UNIT2 "/1");
    tu_event_card(&ev[5], &k, COMM, 3, 1400, "M1", "teacher", "", "");
    tu_event_handling(&ev[6], &k, UNIT, 2, 1500, "M1", COMM, 9,
                      DUALSYNC__HANDLING_ACTION__HANDLING_NO_ACTION, "squatter's letter");

    /* before the report-in: one registration, one claim, the card waiting */
    fold_some(ev, (int[]){0, 1, 2, 3}, 4, community, &rec);
    assert_string_equal(rec->unit, UNIT);
    assert_int_equal(rec->n_claims, 1);
    assert_string_equal(rec->claims[0]->unit, UNIT2);
    assert_int_equal(rec->claims[0]->n_handling, 1);
    assert_string_equal(rec->occupation, "");
    assert_false(rec->confirmed);
    fold_free(&rec);

    /* after it: the claim is the record, and equals UNIT2's own */
    fold_some(ev, (int[]){0, 1, 2, 3, 4, 5, 6}, 7, community, &rec);
    assert_string_equal(rec->unit, UNIT2);
    assert_string_equal(rec->name, NAME);
    assert_true(rec->reported && rec->confirmed);
    assert_int_equal(rec->n_claims, 0);
    assert_string_equal(rec->occupation, "teacher");
    assert_int_equal(rec->n_handling, 1);
    assert_string_equal(rec->handling[0]->text, "claimant's letter");
    fold_free(&rec);
    fold_some(ev, (int[]){1, 2, 4, 5}, 4, unit2, NULL);
    assert_memory_equal(community, unit2, KEYS_DIGEST_LEN);

    const struct event *order[7];
    for (size_t i = 0; i < 7; i++)
        order[i] = &ev[i].ev;
    assert_order_independent(order, 7, 0xc1a1c1a1ull);
    for (size_t i = 0; i < 7; i++)
        tu_event_free(&ev[i]);
}

/* The report-in names the first unit's letter: the claim lapses, and a return naming a
 * claim drops only that claim. */
static void test_fold_claim_lapses(void **state)
{
    struct tu_event ev[4];
    uint8_t community[KEYS_DIGEST_LEN], unit1[KEYS_DIGEST_LEN];
    Dualsync__MemberRecord *rec = NULL;
    Dualsync__RegistrationClose back = DUALSYNC__REGISTRATION_CLOSE__INIT;
    (void)state;
    tu_event_intro(&ev[0], &k, UNIT, 1, 1000, "M1", COMM, NAME, 30, "2026-03-01");
    tu_event_intro(&ev[1], &k, UNIT2, 1, 1100, "M1", COMM2, "other", 30, "2026-03-02");
    back.reason = DUALSYNC__CLOSE_REASON__CLOSE_RETURNED;
    back.date = (char *)"2026-03-03";
    back.intro = (char *)UNIT2 "/1";
    tu_event_make(&ev[2], &k, COMM2, 1, 1200, "M1", DUALSYNC__EVENT_TYPE__EVENT_REGISTRATION_CLOSE,
                  &back.base);
    report_naming(&ev[3], COMM, 1, 1300, UNIT "/1");

    fold_some(ev, (int[]){0, 1, 2}, 3, community, &rec);
    assert_int_equal(rec->n_claims, 0); /* returned by its community */
    assert_int_equal(rec->closed, 0);   /* the registration is untouched */
    fold_free(&rec);
    fold_some(ev, (int[]){0, 1, 3}, 3, community, &rec);
    assert_string_equal(rec->unit, UNIT);
    assert_int_equal(rec->n_claims, 0);
    assert_true(rec->confirmed);
    fold_free(&rec);
    fold_some(ev, (int[]){0, 3}, 2, unit1, NULL);
    assert_memory_equal(community, unit1, KEYS_DIGEST_LEN);
    for (size_t i = 0; i < 4; i++)
        tu_event_free(&ev[i]);
}

static void test_fold_corrections_and_withdrawals(void **state)
{
    struct tu_event ev[AMEND_EVENTS];
    const struct event *order[AMEND_EVENTS];
    (void)state;
    make_amended_history(ev);
    for (size_t i = 0; i < AMEND_EVENTS; i++)
        order[i] = &ev[i].ev;
    assert_order_independent(order, AMEND_EVENTS, 0xc0ffee);
    Dualsync__MemberRecord *rec = fold_new("M1");
    qsort(order, AMEND_EVENTS, sizeof(*order), tu_event_cmp);
    for (size_t i = 0; i < AMEND_EVENTS; i++)
        fold_apply(&rec, order[i]);
    assert_string_equal(rec->name, NAME);
    assert_int_equal(rec->n_feedback, 1);
    assert_string_equal(rec->feedback[0]->event_id, "community:hy-03/2");
    assert_int_equal(rec->feedback[0]->rating, DUALSYNC__RATING__RATING_FAIR);
    assert_string_equal(rec->feedback[0]->text, "late twice");
    assert_true(rec->reported); /* withdrawn, then reported again */
    assert_string_equal(rec->report_date, "2026-02-03");
    assert_string_equal(rec->report_id, "community:hy-03/8");
    assert_true(fold_holds(rec, "community:hy-03/2"));
    assert_false(fold_holds(rec, "community:hy-03/3"));
    assert_false(fold_holds(rec, "community:hy-03/1"));
    assert_true(fold_holds(rec, "unit:tax-bureau/1"));
    assert_int_equal(rec->events, AMEND_EVENTS); /* every one is from a side */
    fold_free(&rec);

    /* Without the last report-in, the withdrawal leaves the member not reported. */
    Dualsync__MemberRecord *r2 = fold_new("M1");
    for (size_t i = 0; i < AMEND_EVENTS - 1; i++)
        fold_apply(&r2, &ev[i].ev); /* built in fold order */
    assert_false(r2->reported);
    assert_string_equal(r2->report_date, "");
    assert_string_equal(r2->report_id, "");
    fold_free(&r2);
    for (size_t i = 0; i < AMEND_EVENTS; i++)
        tu_event_free(&ev[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold_new_is_empty),
        cmocka_unit_test(test_fold_introduction_fields),
        cmocka_unit_test(test_fold_report_card_feedback_handling),
        cmocka_unit_test(test_fold_event_from_other_side_changes_nothing),
        cmocka_unit_test(test_fold_new_community_resets_registration),
        cmocka_unit_test(test_fold_community_return_then_reintroduction),
        cmocka_unit_test(test_fold_order_independent_digest),
        cmocka_unit_test(test_fold_encode_decode_round_trip),
        cmocka_unit_test(test_fold_corrections_and_withdrawals),
        cmocka_unit_test(test_fold_claim_confirmed_by_report_in),
        cmocka_unit_test(test_fold_claim_lapses),
    };
    return cmocka_run_group_tests(tests, setup_keys, NULL);
}
