/* Unit tests of personal data (issue 11, item 5): the split of a member letter into its
 * signed clear part and its personal part (common/personal.c, wire.c), the rules that keep
 * personal fields out of the signed bytes, the fold of an erasure (fold.c), and a log's
 * redaction and scrub (eventlog.c): the dropped bytes are gone from every file of the
 * RocksDB directory, and the events still verify, deduplicate and detect forks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "eventlog.h"
#include "fold.h"
#include "personal.h"
#include "rules.h"
#include "testutil.h"
#include "xalloc.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNIT "unit:tax-bureau"
#define UNIT2 "unit:school"
#define COMM "community:hy-03"
#define NAME "\xe6\xac\xa7\xe9\x98\xb3\xe9\x93\x81\xe6\x9f\xb1" /* 欧阳铁柱 */
#define PHONE "13912340001"
#define JOB "occupation-unique-7f3a"

static struct keys k;

static bool contains(const uint8_t *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return true;
    return false;
}

static void intro_with_contact(struct tu_event *out, uint64_t seq, uint64_t hlc, const char *member)
{
    Dualsync__Introduction b = DUALSYNC__INTRODUCTION__INIT;
    b.community = (char *)COMM;
    b.name = (char *)NAME;
    b.contact = (char *)PHONE;
    b.report_days = 30;
    b.date = (char *)"2026-01-05";
    tu_event_make(out, &k, UNIT, seq, hlc, member, DUALSYNC__EVENT_TYPE__EVENT_INTRODUCTION,
                  &b.base);
}

static void erase_event(struct tu_event *out, const char *unit, uint64_t seq, uint64_t hlc,
                        const char *member)
{
    Dualsync__MemberErase b = DUALSYNC__MEMBER_ERASE__INIT;
    b.reason = DUALSYNC__ERASE_REASON__ERASE_REQUEST;
    b.date = (char *)"2026-12-03";
    tu_event_make(out, &k, unit, seq, hlc, member, DUALSYNC__EVENT_TYPE__EVENT_MEMBER_ERASE,
                  &b.base);
}

/* ---------------------------------------------------------------- the split */

static void test_personal_split_by_field(void **state)
{
    (void)state;
    assert_true(personal_field(DUALSYNC__EVENT_TYPE__EVENT_INTRODUCTION, "name"));
    assert_true(personal_field(DUALSYNC__EVENT_TYPE__EVENT_REGISTRATION_CARD, "categories"));
    assert_false(personal_field(DUALSYNC__EVENT_TYPE__EVENT_INTRODUCTION, "community"));
    assert_false(personal_field(DUALSYNC__EVENT_TYPE__EVENT_ACTIVITY, "title"));
    assert_false(personal_field(999, "name"));

    Dualsync__RegistrationCard c = DUALSYNC__REGISTRATION_CARD__INIT;
    char *cats[2] = {(char *)"a", (char *)"b"};
    c.occupation = (char *)JOB;
    c.categories = cats;
    c.n_categories = 2;
    uint8_t *body = NULL, *clear = NULL, *pers = NULL;
    size_t len = 0, clear_len = 0, pers_len = 0;
    wire_pack(&c.base, &body, &len);
    assert_rc(personal_split(DUALSYNC__EVENT_TYPE__EVENT_REGISTRATION_CARD, body, len, &clear,
                             &clear_len, &pers, &pers_len),
              DS_OK);
    assert_int_equal(clear_len, 0); /* every card field is personal */
    assert_null(clear);
    assert_int_equal(pers_len, len);
    assert_memory_equal(pers, body, len);
    free(pers);

    /* Not wire format: refused, nothing allocated. */
    uint8_t bad[] = {0x0a, 0x7f, 'x'};
    assert_rc(personal_split(DUALSYNC__EVENT_TYPE__EVENT_INTRODUCTION, bad, sizeof(bad), &clear,
                             &clear_len, &pers, &pers_len),
              DS_EINVAL);
    free(body);
}

static void test_personal_part_beside_the_signed_bytes(void **state)
{
    (void)state;
    struct tu_event e;
    intro_with_contact(&e, 1, 100, "M1");
    assert_true(e.ev.personal_len > 0);
    assert_false(e.ev.redacted);
    assert_false(contains(e.ev.envelope, e.ev.envelope_len, PHONE)); /* not signed directly */
    assert_true(contains(e.ev.personal, e.ev.personal_len, PHONE));
    Dualsync__Introduction *b = wire_unpack_introduction(e.ev.body, e.ev.body_len);
    assert_non_null(b);
    assert_string_equal(b->name, NAME); /* the body joins both parts */
    assert_string_equal(b->community, COMM);
    wire_msg_free(b);
    assert_true(wire_event_verify(&e.ev, k.sign_pk));

    /* Stripped: verifies, is the same event, and holds no personal byte. */
    uint8_t *bare = NULL;
    size_t bare_len = 0;
    struct event ev;
    wire_event_strip(&e.ev, &bare, &bare_len);
    assert_false(contains(bare, bare_len, PHONE) || contains(bare, bare_len, NAME));
    assert_rc(wire_event_open(bare, bare_len, false, &ev), DS_OK);
    assert_true(ev.redacted);
    assert_true(wire_event_verify(&ev, k.sign_pk));
    assert_true(wire_event_same(&ev, &e.ev));
    b = wire_unpack_introduction(ev.body, ev.body_len);
    assert_string_equal(b->name, "");
    assert_string_equal(b->community, COMM);
    wire_msg_free(b);
    assert_rc(rules_check(&ev), DS_OK); /* a name is required, but not of a redacted letter */
    wire_event_release(&ev);
    free(bare);

    /* A personal part that is not the one the signature names: refused. */
    uint8_t *copy = xmemdup(e.raw, e.len);
    size_t at = 0;
    for (at = e.len - 1; at > 0 && memcmp(copy + at, PHONE, 1) != 0; at--)
        ;
    copy[at] ^= 1;
    assert_rc(wire_event_open(copy, e.len, false, &ev), DS_EAUTH);
    free(copy);
    tu_event_free(&e);

    /* Org-level letters have no personal part. */
    Dualsync__Activity a = DUALSYNC__ACTIVITY__INIT;
    a.title = (char *)"title";
    tu_event_make(&e, &k, COMM, 1, 100, "", DUALSYNC__EVENT_TYPE__EVENT_ACTIVITY, &a.base);
    assert_int_equal(e.ev.personal_len, 0);
    tu_event_free(&e);
}

/* A letter of the split schema with a personal field inside its signed bytes could not be
 * erased: refused. One of schema 1 (written before the split) is taken as it was. */
static void test_personal_field_inside_signed_bytes_refused(void **state)
{
    (void)state;
    Dualsync__Introduction b = DUALSYNC__INTRODUCTION__INIT;
    b.community = (char *)COMM;
    b.name = (char *)NAME;
    b.report_days = 30;
    b.date = (char *)"2026-01-05";
    for (uint32_t schema = 1; schema <= WIRE_SCHEMA_SPLIT; schema++) {
        Dualsync__Event ev = DUALSYNC__EVENT__INIT;
        Dualsync__SignedEvent se = DUALSYNC__SIGNED_EVENT__INIT;
        uint8_t sig[KEYS_SIG_LEN], *body = NULL, *env = NULL, *raw = NULL;
        size_t body_len = 0, env_len = 0, raw_len = 0;
        wire_pack(&b.base, &body, &body_len);
        ev.origin = (char *)UNIT;
        ev.seq = 1;
        ev.hlc = 100;
        ev.member = (char *)"M1";
        ev.schema = schema;
        ev.type = DUALSYNC__EVENT_TYPE__EVENT_INTRODUCTION;
        ev.body.data = body;
        ev.body.len = body_len;
        wire_pack(&ev.base, &env, &env_len);
        keys_sign(&k, env, env_len, sig);
        se.event.data = env;
        se.event.len = env_len;
        se.sig.data = sig;
        se.sig.len = sizeof(sig);
        wire_pack(&se.base, &raw, &raw_len);
        struct event opened;
        assert_rc(wire_event_open(raw, raw_len, false, &opened), DS_OK);
        assert_rc(rules_check(&opened), schema == 1 ? DS_OK : DS_EINVAL);
        wire_event_release(&opened);
        free(raw);
        free(env);
        free(body);
    }
}

/* ---------------------------------------------------------------- the fold */

static void test_personal_erase_clears_and_freezes_the_record(void **state)
{
    (void)state;
    struct tu_event intro, card, other, erase, late;
    intro_with_contact(&intro, 1, 100, "M1");
    tu_event_card(&card, &k, COMM, 1, 101, "M1", JOB, "w", "r");
    erase_event(&other, UNIT2, 1, 102, "M1"); /* not the member's unit: changes nothing */
    erase_event(&erase, UNIT, 2, 103, "M1");
    tu_event_feedback(&late, &k, COMM, 2, 104, "M1", 2026, DUALSYNC__RATING__RATING_GOOD, false,
                      "text");
    Dualsync__MemberRecord *rec = fold_new("M1");
    fold_apply(&rec, &intro.ev);
    fold_apply(&rec, &card.ev);
    fold_apply(&rec, &other.ev);
    assert_false(rec->erased);
    assert_string_equal(rec->name, NAME);
    fold_apply(&rec, &erase.ev);
    assert_true(rec->erased);
    assert_int_equal(rec->erased_reason, DUALSYNC__ERASE_REASON__ERASE_REQUEST);
    assert_string_equal(rec->erased_date, "2026-12-03");
    assert_string_equal(rec->name, "");
    assert_string_equal(rec->intro_contact, "");
    assert_string_equal(rec->occupation, "");
    assert_string_equal(rec->community, COMM); /* ids and dates stay */
    assert_string_equal(rec->intro_date, "2026-01-05");
    uint32_t events = rec->events;
    fold_apply(&rec, &late.ev);
    assert_int_equal(rec->events, events); /* frozen */
    assert_int_equal(rec->n_feedback, 0);
    fold_free(&rec);
    tu_event_free(&intro);
    tu_event_free(&card);
    tu_event_free(&other);
    tu_event_free(&erase);
    tu_event_free(&late);
}

/* ---------------------------------------------------------------- the log */

/* Whether any file under dir holds needle (the way an auditor's grep -r would look). */
static bool dir_contains(const char *dir, const char *needle)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    bool found = false;
    assert_non_null(d);
    while (!found && (de = readdir(d)) != NULL) {
        char path[4096];
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
        size_t got = fread(buf, 1, n > 0 ? (size_t)n : 0, f);
        fclose(f);
        found = contains(buf, got, needle);
        free(buf);
    }
    closedir(d);
    return found;
}

static int add_all(struct eventlog *log, struct tu_event **events, size_t n, const char *erase)
{
    struct eventlog_txn *txn = eventlog_begin(log);
    int rc = DS_OK;
    for (size_t i = 0; i < n && rc == DS_OK; i++)
        rc = eventlog_txn_add(txn, &events[i]->ev, 0);
    if (rc == DS_OK && erase)
        rc = eventlog_txn_redact_member(txn, erase, UINT64_MAX, NULL);
    if (rc != DS_OK) {
        eventlog_abort(&txn);
        return rc;
    }
    return eventlog_commit(&txn);
}

static void test_personal_redact_and_scrub_leave_no_trace(void **state)
{
    const char *dir = *state;
    struct tu_event intro, card, keep, erase, late;
    intro_with_contact(&intro, 1, 100, "M1");
    tu_event_card(&card, &k, COMM, 1, 101, "M1", JOB, "w", "r");
    tu_event_intro(&keep, &k, UNIT, 2, 102, "M2", COMM, "keep-this-name", 30, "2026-01-05");
    erase_event(&erase, UNIT, 3, 103, "M1");
    tu_event_card(&late, &k, COMM, 2, 99, "M1", JOB, "w", "r"); /* arrives after, folds before */

    struct eventlog *log = NULL;
    assert_rc(eventlog_open(dir, STORE_WAL, &log), DS_OK);
    struct tu_event *first[] = {&intro, &card, &keep};
    assert_rc(add_all(log, first, 3, NULL), DS_OK);
    eventlog_destroy(&log); /* the letters reach the WAL and, at close, an SST */
    assert_true(dir_contains(dir, PHONE) || dir_contains(dir, JOB));

    assert_rc(eventlog_open(dir, STORE_WAL, &log), DS_OK);
    struct tu_event *second[] = {&erase};
    assert_rc(add_all(log, second, 1, "M1"), DS_OK);
    assert_true(eventlog_redacted_upto(log, "M1") == UINT64_MAX);
    assert_true(eventlog_redacted_upto(log, "M2") == 0);
    Dualsync__MemberRecord *rec = NULL;
    assert_rc(eventlog_member(log, "M1", &rec), DS_OK);
    assert_true(rec->erased);
    assert_string_equal(rec->name, "");
    fold_free(&rec);

    /* Still the same events: a resend of the full bytes is a duplicate. */
    struct tu_event *again[] = {&intro};
    assert_rc(add_all(log, again, 1, NULL), DS_EEXIST);
    /* A letter about the member arriving later is kept without its personal part. */
    struct tu_event *after[] = {&late};
    assert_rc(add_all(log, after, 1, NULL), DS_OK);
    uint8_t *raw = NULL;
    size_t len = 0;
    assert_rc(eventlog_get_raw(log, COMM, 2, &raw, &len), DS_OK);
    assert_false(contains(raw, len, JOB));
    free(raw);
    assert_rc(eventlog_get_raw(log, UNIT, 1, &raw, &len), DS_OK);
    assert_false(contains(raw, len, PHONE));
    struct event ev;
    assert_rc(wire_event_open(raw, len, false, &ev), DS_OK);
    assert_true(wire_event_verify(&ev, k.sign_pk));
    wire_event_release(&ev);
    free(raw);

    assert_rc(eventlog_scrub_wait(log), DS_OK);
    assert_false(eventlog_scrub_pending(log));
    eventlog_destroy(&log);
    assert_false(dir_contains(dir, PHONE));
    assert_false(dir_contains(dir, NAME));
    assert_false(dir_contains(dir, JOB));
    assert_true(dir_contains(dir, "keep-this-name")); /* the grep works; M2 is untouched */

    /* The mark survives a restart. */
    assert_rc(eventlog_open(dir, STORE_WAL, &log), DS_OK);
    assert_true(eventlog_redacted_upto(log, "M1") == UINT64_MAX);
    eventlog_destroy(&log);
    tu_event_free(&intro);
    tu_event_free(&card);
    tu_event_free(&keep);
    tu_event_free(&erase);
    tu_event_free(&late);
}

/* What a hub keeps of the letters it carried (broker/links.c): each letter stripped on its
 * own, the record refolded from the bare bytes, which is the full record with its personal
 * fields empty (fold_clear_digest_hex), and nothing of them left on disk after a scrub. */
static void test_personal_strip_keeps_the_clear_record(void **state)
{
    const char *dir = *state;
    struct tu_event ev[7];
    intro_with_contact(&ev[0], 1, 100, "M1");
    tu_event_intro(&ev[1], &k, UNIT2, 1, 101, "M1", COMM, "claim-name-5e1c", 30, "2026-01-06");
    tu_event_intro(&ev[2], &k, UNIT, 2, 102, "M2", COMM, "carried-name-9d2b", 30, "2026-01-05");
    tu_event_report(&ev[3], &k, COMM, 1, 103, "M2", "2026-01-09");
    tu_event_card(&ev[4], &k, COMM, 2, 104, "M2", JOB, "w", "r");
    tu_event_feedback(&ev[5], &k, COMM, 3, 105, "M2", 2026, DUALSYNC__RATING__RATING_GOOD, false,
                      "feedback-text-33aa");
    tu_event_handling(&ev[6], &k, UNIT, 3, 106, "M2", COMM, 3,
                      DUALSYNC__HANDLING_ACTION__HANDLING_NO_ACTION, "handling-text-41bd");
    struct tu_event *all[] = {&ev[0], &ev[1], &ev[2], &ev[3], &ev[4], &ev[5], &ev[6]};
    const char *members[] = {"M1", "M2"};
    char full[2][65], clear[2][65], after[2][65];

    struct eventlog *log = NULL;
    assert_rc(eventlog_open(dir, STORE_WAL, &log), DS_OK);
    struct eventlog_txn *txn = eventlog_begin(log);
    bool stripped = false;
    assert_rc(eventlog_txn_strip(txn, UNIT, 1, &stripped), DS_EINVAL); /* folds not deferred */
    eventlog_abort(&txn);
    eventlog_defer_folds(log);
    assert_rc(add_all(log, all, 7, NULL), DS_OK);
    for (size_t i = 0; i < 2; i++) {
        Dualsync__MemberRecord *rec = NULL;
        assert_rc(eventlog_member(log, members[i], &rec), DS_OK);
        fold_digest_hex(rec, full[i]);
        fold_clear_digest_hex(rec, clear[i]);
        assert_string_not_equal(full[i], clear[i]);
        fold_free(&rec);
    }
    txn = eventlog_begin(log);
    for (size_t i = 0; i < 7; i++) {
        assert_rc(eventlog_txn_strip(txn, all[i]->ev.origin, all[i]->ev.seq, &stripped), DS_OK);
        assert_true(stripped == (i != 3)); /* a report-in has no personal field */
    }
    assert_rc(eventlog_txn_strip(txn, UNIT, 99, &stripped), DS_ENOTFOUND);
    eventlog_txn_mark_scrub(txn);
    assert_rc(eventlog_commit(&txn), DS_OK);
    for (size_t i = 0; i < 2; i++) {
        Dualsync__MemberRecord *rec = NULL;
        assert_rc(eventlog_member(log, members[i], &rec), DS_OK);
        fold_digest_hex(rec, after[i]);
        assert_string_equal(after[i], clear[i]);
        fold_clear_digest_hex(rec, after[i]);
        assert_string_equal(after[i], clear[i]);
        fold_free(&rec);
    }
    txn = eventlog_begin(log); /* stripped once: nothing more to drop */
    assert_rc(eventlog_txn_strip(txn, UNIT, 1, &stripped), DS_OK);
    assert_false(stripped);
    eventlog_abort(&txn);
    struct tu_event *again[] = {&ev[0]}; /* the whole letter again: a duplicate */
    assert_rc(add_all(log, again, 1, NULL), DS_EEXIST);
    assert_true(eventlog_redacted_upto(log, "M1") == 0); /* no mark: not an erasure */

    assert_true(eventlog_scrub_pending(log));
    assert_rc(eventlog_scrub_wait(log), DS_OK);
    eventlog_destroy(&log);
    const char *gone[] = {PHONE,
                          NAME,
                          JOB,
                          "claim-name-5e1c",
                          "carried-name-9d2b",
                          "feedback-text-33aa",
                          "handling-text-41bd"};
    for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
        assert_false(dir_contains(dir, gone[i]));
    for (size_t i = 0; i < 7; i++)
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_personal_split_by_field),
        cmocka_unit_test(test_personal_part_beside_the_signed_bytes),
        cmocka_unit_test(test_personal_field_inside_signed_bytes_refused),
        cmocka_unit_test(test_personal_erase_clears_and_freezes_the_record),
        tu_test_tmpdir(test_personal_redact_and_scrub_leave_no_trace),
        tu_test_tmpdir(test_personal_strip_keeps_the_clear_record),
    };
    return cmocka_run_group_tests(tests, setup_keys, NULL);
}
