/* Unit tests of what a hub keeps of the letters it carries (broker/carry.c), on a bare
 * hub (bf_open_hub) with a real RocksDB: a letter the hub passed to two streets keeps its
 * personal part until both streets confirmed it, through a restart between; a letter it
 * passes to nobody loses it at once; a street broker's walk drops nothing; the scrub that
 * makes RocksDB forget is asked for once the walk is quiet, not on every walk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "broker.h"
#include "broker_fixture.h"
#include "btxn.h"
#include "carry.h"
#include "receipts.h"
#include "testutil.h"

#include "err.h"
#include "fold.h"
#include "wire.h"

#include <stdlib.h>
#include <string.h>

#define HUB "street:city"
#define TO_B "street:xinhua"
#define TO_C "street:heping"
#define UNIT "unit:school"

int __wrap_transport_send_peer(struct transport *t, const struct transport_peer *peer,
                               const uint8_t *data, size_t len);
int __wrap_transport_send_peer(struct transport *t, const struct transport_peer *peer,
                               const uint8_t *data, size_t len)
{
    (void)t, (void)peer, (void)data, (void)len;
    return 0;
}

static uint64_t now_ms = 1000000;
static uint64_t test_clock(void)
{
    return now_ms;
}

static struct keys unit_keys;

/* The unit's introduction of member, with a name: a letter with a personal part. */
static void letter(struct tu_event *e, uint64_t seq, const char *member)
{
    tu_event_intro(e, &unit_keys, UNIT, seq, (uint64_t)seq << 32, member, "community:far",
                   "carried-name", 30, "2026-03-01");
}

/* Stores e on b and passes it to the streets given (their inboxes at the hub). */
static void carried(struct broker *b, struct tu_event *e, const char *const *to, size_t n)
{
    struct btxn t;
    btxn_begin(b, &t);
    assert_rc(eventlog_txn_add(t.log, &e->ev, 0), DS_OK);
    for (size_t i = 0; i < n; i++)
        btxn_append(&t, to[i], e->ev.origin, e->ev.seq);
    if (!n)
        assert_rc(carry_nowhere(&t, e->ev.origin, e->ev.seq), DS_OK);
    assert_rc(btxn_commit(&t), DS_OK);
}

static bool has_part(struct broker *b, uint64_t seq)
{
    uint8_t *raw = NULL;
    size_t len = 0;
    struct event ev;
    assert_rc(eventlog_get_raw(broker_log(b), UNIT, seq, &raw, &len), DS_OK);
    assert_rc(wire_event_open(raw, len, false, &ev), DS_OK);
    bool part = ev.personal_len > 0;
    assert_true(wire_event_verify(&ev, unit_keys.sign_pk)); /* bare or not, it verifies */
    wire_event_release(&ev);
    free(raw);
    return part;
}

static void confirmed(struct broker *b, const char *street, uint64_t upto)
{
    receipts_confirmed(b, street, upto);
    receipts_tick(b);
}

static int64_t dropped(struct broker *b)
{
    json_t *j = carry_json(b);
    int64_t n = json_integer_value(json_object_get(j, "parts_dropped"));
    json_decref(j);
    return n;
}

/* Passed to two streets: whole until the second has it, then bare; the hub's record is
 * the full one with its personal fields empty. */
static void test_kept_until_every_street_has_it(void **state)
{
    const char *dir = *state;
    struct broker *b = bf_open_hub(dir, HUB, test_clock);
    struct tu_event e;
    letter(&e, 1, "DY-1");
    const char *to[] = {TO_B, TO_C};
    carried(b, &e, to, 2);
    Dualsync__MemberRecord *rec = NULL;
    char clear[65], after[65];
    assert_rc(eventlog_member(broker_log(b), "DY-1", &rec), DS_OK);
    fold_clear_digest_hex(rec, clear);
    fold_free(&rec);

    confirmed(b, TO_B, 1);
    assert_true(has_part(b, 1)); /* street C has not got it yet */
    confirmed(b, TO_C, 1);
    assert_false(has_part(b, 1));
    assert_int_equal(dropped(b), 1);
    assert_rc(eventlog_member(broker_log(b), "DY-1", &rec), DS_OK);
    assert_string_equal(rec->name, "");
    fold_digest_hex(rec, after);
    assert_string_equal(after, clear);
    fold_free(&rec);
    bf_close(&b);
    tu_event_free(&e);
}

/* The count of streets still to go is durable: a restart between the two confirmations. */
static void test_count_survives_restart(void **state)
{
    const char *dir = *state;
    struct broker *b = bf_open_hub(dir, HUB, test_clock);
    struct tu_event e1, e2;
    letter(&e1, 1, "DY-1");
    letter(&e2, 2, "DY-2");
    const char *to[] = {TO_B, TO_C};
    carried(b, &e1, to, 2);
    carried(b, &e2, to, 1); /* to B only */
    confirmed(b, TO_B, 2);
    assert_true(has_part(b, 1));
    assert_false(has_part(b, 2));
    bf_close(&b);

    b = bf_open_hub(dir, HUB, test_clock);
    assert_rc(carry_load(b), DS_OK);
    confirmed(b, TO_B, 2); /* B says it again after the restart: counted once */
    assert_true(has_part(b, 1));
    confirmed(b, TO_C, 1);
    assert_false(has_part(b, 1));
    bf_close(&b);
    tu_event_free(&e1);
    tu_event_free(&e2);
}

/* Passed to nobody: bare at once. On a street's broker (not a hub) a confirmed letter
 * keeps its part. */
static void test_nowhere_and_street_broker(void **state)
{
    const char *dir = *state;
    struct broker *b = bf_open_hub(dir, HUB, test_clock);
    struct tu_event e1, e2;
    letter(&e1, 1, "DY-1");
    letter(&e2, 2, "DY-2");
    carried(b, &e1, NULL, 0);
    assert_false(has_part(b, 1));
    assert_int_equal(dropped(b), 1);
    bf_close(&b);

    b = bf_open(dir, "street:jinyu", test_clock);
    const char *to[] = {TO_B};
    carried(b, &e2, to, 1);
    confirmed(b, TO_B, 1);
    assert_true(has_part(b, 2));
    bf_close(&b);
    tu_event_free(&e1);
    tu_event_free(&e2);
}

/* The scrub is asked for once the walk has been quiet CARRY_SCRUB_QUIET_MS, not at once. */
static void test_scrub_asked_when_quiet(void **state)
{
    const char *dir = *state;
    struct broker *b = bf_open_hub(dir, HUB, test_clock);
    struct tu_event e;
    letter(&e, 1, "DY-1");
    const char *to[] = {TO_B};
    carried(b, &e, to, 1);
    confirmed(b, TO_B, 1);
    carry_tick(b); /* the first scrub since the start: asked for at once */
    assert_true(eventlog_scrub_pending(broker_log(b)));
    assert_rc(eventlog_scrub_wait(broker_log(b)), DS_OK);
    assert_false(eventlog_scrub_pending(broker_log(b)));

    struct tu_event e2;
    letter(&e2, 2, "DY-2");
    carried(b, &e2, to, 1);
    confirmed(b, TO_B, 2);
    carry_tick(b); /* just dropped, and the last scrub was just now */
    assert_false(eventlog_scrub_pending(broker_log(b)));
    now_ms += CARRY_SCRUB_QUIET_MS;
    carry_tick(b);
    assert_true(eventlog_scrub_pending(broker_log(b)));
    assert_rc(eventlog_scrub_wait(broker_log(b)), DS_OK);
    bf_close(&b);
    tu_event_free(&e);
    tu_event_free(&e2);
}

static int setup_keys(void **state)
{
    (void)state;
    if (keys_crypto_init() != DS_OK)
        return -1;
    keys_generate(&unit_keys);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        tu_test_tmpdir(test_kept_until_every_street_has_it),
        tu_test_tmpdir(test_count_survives_restart),
        tu_test_tmpdir(test_nowhere_and_street_broker),
        tu_test_tmpdir(test_scrub_asked_when_quiet),
    };
    return cmocka_run_group_tests(tests, setup_keys, NULL);
}
