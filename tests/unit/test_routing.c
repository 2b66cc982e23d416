/* Unit tests of the broker's routing in hlc order (broker/routing.c, "a late release"), on
 * a real RocksDB in a temp directory per test. The broker is a bare one (bf_open) with a
 * street, two units and two communities in its directory and no transport: no peer is
 * connected, so nothing is sent. Letters arrive as protocol.c's publish_events takes them
 * (routing_recipients, then the event and its inbox entries in the same btxn), in an
 * order the test chooses: the order a rebuilt broker may see them in.
 *
 * The story: unit A introduced member M to community C1, C1's report-in confirmed it, A
 * released M, and later unit B introduced M to C2 and wrote about M. A rebuilt broker
 * that gets B's letters before A's release refused them (M was still A's); once the
 * release arrives they must reach C2, and C2's letters must reach B. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "broker.h"
#include "broker_fixture.h"
#include "btxn.h"
#include "directory.h"
#include "inbox.h"
#include "protocol.h"
#include "receipts.h"
#include "routing.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STREET "street:jinyu"
#define UNIT_A "unit:tax"
#define UNIT_B "unit:school"
#define C1 "community:hexie"
#define C2 "community:xingfu"
#define MEMBER "DY-0001"
#define DATE "2026-03-01"

int __wrap_transport_send_peer(struct transport *t, const struct transport_peer *peer,
                               const uint8_t *data, size_t len);
int __wrap_transport_send_peer(struct transport *t, const struct transport_peer *peer,
                               const uint8_t *data, size_t len)
{
    (void)t;
    (void)data;
    (void)len;
    fail_msg("no peer is connected, yet the broker sent to %s", peer->org);
    return DS_EIO;
}

struct fixture {
    char dir[TU_PATH_MAX];
    struct broker *b;
    struct keys a, bk, c1, c2; /* unit A, unit B, the communities */
};

/* hlc of the i-th moment of the story (the wall clock's ms, counter 0). */
static uint64_t at(unsigned i)
{
    return (uint64_t)(1780000000000ull + 1000ull * i) << 16;
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    tu_tmpdir(fx->dir);
    fx->b = bf_open(fx->dir, STREET, NULL);
    struct broker *b = fx->b;
    keys_generate(&fx->a);
    keys_generate(&fx->bk);
    keys_generate(&fx->c1);
    keys_generate(&fx->c2);
    bf_add_org(b, UNIT_A, ORG_UNIT, &fx->a);
    bf_add_org(b, UNIT_B, ORG_UNIT, &fx->bk);
    bf_add_org(b, C1, ORG_COMMUNITY, &fx->c1);
    bf_add_org(b, C2, ORG_COMMUNITY, &fx->c2);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    bf_close(&fx->b);
    tu_rmtree(fx->dir);
    free(fx);
    return 0;
}

/* ---------------------------------------------------------------- the story's letters */

static void intro(struct tu_event *e, const struct keys *k, const char *unit, uint64_t seq,
                  unsigned when, const char *community)
{
    tu_event_intro(e, k, unit, seq, at(when), MEMBER, community, "张建国", 30, DATE);
}

static void release(struct tu_event *e, const struct keys *k, const char *unit, uint64_t seq,
                    unsigned when)
{
    Dualsync__UnitRelease body = DUALSYNC__UNIT_RELEASE__INIT;
    body.date = DATE;
    body.text = "调离";
    tu_event_make(e, k, unit, seq, at(when), MEMBER, DUALSYNC__EVENT_TYPE__EVENT_UNIT_RELEASE,
                  &body.base);
}

static void visit(struct tu_event *e, const struct keys *k, const char *unit, uint64_t seq,
                  unsigned when)
{
    Dualsync__UnitVisit body = DUALSYNC__UNIT_VISIT__INIT;
    body.date = DATE;
    body.text = "走访";
    tu_event_make(e, k, unit, seq, at(when), MEMBER, DUALSYNC__EVENT_TYPE__EVENT_UNIT_VISIT,
                  &body.base);
}

/* ---------------------------------------------------------------- arrival */

/* One letter taken as publish_events takes it, in t: its recipients, then the event and
 * one inbox entry per recipient. Returns how many recipients it had (0: refused). */
static size_t arrive(struct btxn *t, struct tu_event *e)
{
    struct recipients to;
    assert_rc(routing_recipients(t, &e->ev, &to), DS_OK);
    assert_rc(eventlog_txn_add(t->log, &e->ev, EVENTLOG_CONTIGUOUS), DS_OK);
    for (size_t k = 0; k < to.n; k++)
        btxn_append(t, to.org[k], e->ev.origin, e->ev.seq);
    assert_true(to.n > 0 || to.refused != NULL);
    tu_event_free(e);
    return to.n;
}

/* A letter alone in its own transaction, committed. */
static size_t arrive_alone(struct broker *b, struct tu_event *e)
{
    struct btxn t;
    btxn_begin(b, &t);
    size_t n = arrive(&t, e);
    assert_rc(btxn_commit(&t), DS_OK);
    return n;
}

/* The (origin, seq) of org's inbox entries, in inbox order, as "origin/seq" lines. */
static void inbox_of(struct broker *b, const char *org, char *out, size_t size)
{
    struct skey prefix;
    skey_init(&prefix);
    skey_str(&prefix, org);
    struct store_iter *it = store_iter_new(eventlog_store(broker_log(b)), CF_INBOX, &prefix, NULL);
    size_t used = 0;
    out[0] = '\0';
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t vlen;
        const uint8_t *v = store_iter_value(it, &vlen);
        const char *origin = (const char *)v;
        size_t olen = strnlen(origin, vlen);
        assert_true(olen + 1 + 8 <= vlen);
        if (strncmp(origin, "street:", 7) == 0)
            continue; /* the directory every inbox gets */
        used += (size_t)snprintf(out + used, size - used, "%s/%llu\n", origin,
                                 (unsigned long long)store_get_u64be(v + olen + 1));
        assert_true(used < size);
    }
    assert_rc(store_iter_status(it), DS_OK);
    store_iter_destroy(&it);
}

/* What C2 sends after the release is routed to the unit that now holds M. */
static void assert_c2_reaches_b(struct fixture *fx, uint64_t seq, unsigned when)
{
    struct tu_event e;
    tu_event_report(&e, &fx->c2, C2, seq, at(when), MEMBER, DATE);
    struct btxn t;
    btxn_begin(fx->b, &t);
    struct recipients to;
    assert_rc(routing_recipients(&t, &e.ev, &to), DS_OK);
    assert_null(to.refused);
    assert_int_equal(to.n, 1);
    assert_string_equal(to.org[0], UNIT_B);
    btxn_abort(&t);
    tu_event_free(&e);
}

/* A's registration, confirmed by C1: moments 1 and 2. */
static void a_registers(struct fixture *fx)
{
    struct tu_event e;
    intro(&e, &fx->a, UNIT_A, 1, 1, C1);
    assert_int_equal(arrive_alone(fx->b, &e), 1);
    tu_event_report(&e, &fx->c1, C1, 1, at(2), MEMBER, DATE);
    assert_int_equal(arrive_alone(fx->b, &e), 1);
}

/* ---------------------------------------------------------------- tests */

/* In hlc order nothing is routed twice: the release frees M before B's introduction
 * comes, which opens B's registration at once. */
static void test_routing_in_order(void **state)
{
    struct fixture *fx = *state;
    struct tu_event e;
    char inbox[512];
    a_registers(fx);
    release(&e, &fx->a, UNIT_A, 2, 3);
    assert_int_equal(arrive_alone(fx->b, &e), 1); /* to C1 */
    intro(&e, &fx->bk, UNIT_B, 1, 4, C2);
    assert_int_equal(arrive_alone(fx->b, &e), 1);
    visit(&e, &fx->bk, UNIT_B, 2, 5);
    assert_int_equal(arrive_alone(fx->b, &e), 1);
    inbox_of(fx->b, C2, inbox, sizeof(inbox));
    assert_string_equal(inbox, UNIT_B "/1\n" UNIT_B "/2\n");
    assert_int_equal(broker_counters(fx->b)->rerouted, 0);
    assert_c2_reaches_b(fx, 1, 6);
}

/* A rebuilt broker gets B's letters first: refused, as M is still A's. A's release, older
 * than them, then comes in a transaction of its own: they reach C2 in hlc order, C1 gets
 * only A's letters, and C2's next letter reaches B. */
static void test_routing_late_release_routes_later_letters(void **state)
{
    struct fixture *fx = *state;
    struct tu_event e;
    char inbox[512];
    a_registers(fx);
    intro(&e, &fx->bk, UNIT_B, 1, 4, C2);
    assert_int_equal(arrive_alone(fx->b, &e), 0);
    visit(&e, &fx->bk, UNIT_B, 2, 5);
    assert_int_equal(arrive_alone(fx->b, &e), 0);
    inbox_of(fx->b, C2, inbox, sizeof(inbox));
    assert_string_equal(inbox, ""); /* refused: nothing for C2 yet */

    release(&e, &fx->a, UNIT_A, 2, 3);
    assert_int_equal(arrive_alone(fx->b, &e), 1);
    inbox_of(fx->b, C2, inbox, sizeof(inbox));
    assert_string_equal(inbox, UNIT_B "/1\n" UNIT_B "/2\n");
    inbox_of(fx->b, C1, inbox, sizeof(inbox));
    assert_string_equal(inbox, UNIT_A "/1\n" UNIT_A "/2\n");
    assert_int_equal(broker_counters(fx->b)->rerouted, 2);
    assert_c2_reaches_b(fx, 1, 6);
}

/* The same when B's introduction and A's release are taken in one batch (one wake-up's
 * group commit): the introduction, added before the release, is seen uncommitted. */
static void test_routing_late_release_in_the_same_batch(void **state)
{
    struct fixture *fx = *state;
    struct tu_event e;
    char inbox[512];
    a_registers(fx);
    struct btxn t;
    btxn_begin(fx->b, &t);
    intro(&e, &fx->bk, UNIT_B, 1, 4, C2);
    assert_int_equal(arrive(&t, &e), 0);
    release(&e, &fx->a, UNIT_A, 2, 3);
    assert_int_equal(arrive(&t, &e), 1);
    assert_rc(btxn_commit(&t), DS_OK);
    inbox_of(fx->b, C2, inbox, sizeof(inbox));
    assert_string_equal(inbox, UNIT_B "/1\n");
    assert_int_equal(broker_counters(fx->b)->rerouted, 1);
    assert_c2_reaches_b(fx, 1, 6);
}

/* A release older than nothing that came changes nothing: a community's close of the
 * registration (not a release) leaves M with A, and B stays refused. */
static void test_routing_close_does_not_free_the_member(void **state)
{
    struct fixture *fx = *state;
    struct tu_event e;
    char inbox[512];
    a_registers(fx);
    intro(&e, &fx->bk, UNIT_B, 1, 4, C2);
    assert_int_equal(arrive_alone(fx->b, &e), 0);
    tu_event_close(&e, &fx->c1, C1, 2, at(3), MEMBER, DATE);
    assert_int_equal(arrive_alone(fx->b, &e), 1); /* to A */
    inbox_of(fx->b, C2, inbox, sizeof(inbox));
    assert_string_equal(inbox, "");
    assert_int_equal(broker_counters(fx->b)->rerouted, 0);
}

/* The street's count of open claims moves with each commit, without counting the route
 * table again (it was counted at most every 10 s, a scan of every member): B's
 * introduction of A's unconfirmed member opens a claim at its commit, an aborted one
 * opens none, and C1's report-in for A decides it. At each step the kept count is the
 * table's. */
static void test_routing_claims_count_follows_commits(void **state)
{
    struct fixture *fx = *state;
    struct broker *b = fx->b;
    struct tu_event e;
    assert_int_equal(protocol_claims_open(b), 0);
    intro(&e, &fx->a, UNIT_A, 1, 1, C1);
    assert_int_equal(arrive_alone(b, &e), 1);
    assert_int_equal(protocol_claims_open(b), 0);

    struct btxn t; /* B's claim, aborted: no claim */
    btxn_begin(b, &t);
    intro(&e, &fx->bk, UNIT_B, 1, 2, C2);
    assert_int_equal(arrive(&t, &e), 1);
    btxn_abort(&t);
    assert_int_equal(protocol_claims_open(b), 0);

    intro(&e, &fx->bk, UNIT_B, 1, 2, C2);
    assert_int_equal(arrive_alone(b, &e), 1); /* to C2, as a claim */
    assert_int_equal(protocol_claims_open(b), 1);
    assert_int_equal(routing_claims_count(b), 1);

    tu_event_report(&e, &fx->c1, C1, 1, at(3), MEMBER, DATE);
    assert_int_equal(arrive_alone(b, &e), 1);
    assert_int_equal(protocol_claims_open(b), routing_claims_count(b));
    assert_int_equal(protocol_claims_open(b), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_routing_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_routing_late_release_routes_later_letters, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_routing_late_release_in_the_same_batch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_routing_close_does_not_free_the_member, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_routing_claims_count_follows_commits, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
