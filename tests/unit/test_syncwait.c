/* Unit tests of sync-wait's decisions (node/syncwait.c): one probe per wait while its PONG
 * comes, a probe again when the node is not in session or the PONG is late, done only once
 * the PONG is in and both cursors reached its heads with nothing unacknowledged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "syncwait.h"

#include <jansson.h>

static json_t *probe_answer(long long nonce)
{
    return json_pack("{s:I}", "nonce", (json_int_t)nonce);
}

/* A node's status: in state, pong_nonce answered, and cursors behind the PONG's heads by
 * behind (inbox and directory both). */
static json_t *status(const char *state, long long pong_nonce, long long unacked, long long behind)
{
    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "state", state, "unacked",
                     (json_int_t)unacked, "pong_nonce", (json_int_t)pong_nonce, "inbox_cursor",
                     (json_int_t)(40 - behind), "pong_head", (json_int_t)40, "directory_cursor",
                     (json_int_t)(7 - behind), "pong_directory_head", (json_int_t)7);
}

static enum sync_wait_step step_with(struct sync_wait *w, json_t *reply, double now)
{
    enum sync_wait_step s = sync_wait_step(w, reply, now);
    json_decref(reply);
    return s;
}

/* The bug this module replaced: the loop probed again on every poll of the first 100 ms of
 * each second (its test was "tenths of elapsed % 10 == 0"), so an idle street's sync-wait
 * sent five or six probes and never returned before 0.12 s. One probe must be waited for. */
static void test_sync_wait_probes_once_while_the_pong_comes(void **state)
{
    (void)state;
    struct sync_wait w = {0};
    assert_int_equal(step_with(&w, probe_answer(8), 0.005), SYNC_WAIT_STATUS);
    for (double now = 0.03; now < 0.95; now += 0.02) /* the PONG not in yet */
        assert_int_equal(step_with(&w, status("ready", 7, 0, 0), now), SYNC_WAIT_STATUS);
    assert_int_equal(step_with(&w, status("ready", 8, 0, 0), 0.96), SYNC_WAIT_DONE);
}

static void test_sync_wait_idle_street_done_on_first_status(void **state)
{
    (void)state;
    struct sync_wait w = {0};
    assert_int_equal(step_with(&w, probe_answer(3), 0.01), SYNC_WAIT_STATUS);
    assert_int_equal(step_with(&w, status("ready", 3, 0, 0), 0.04), SYNC_WAIT_DONE);
}

static void test_sync_wait_not_done_before_cursors_and_acks(void **state)
{
    (void)state;
    struct sync_wait w = {0};
    assert_int_equal(step_with(&w, probe_answer(5), 0.0), SYNC_WAIT_STATUS);
    assert_int_equal(step_with(&w, status("ready", 5, 2, 0), 0.1), SYNC_WAIT_STATUS);
    assert_int_equal(step_with(&w, status("ready", 5, 0, 1), 0.2), SYNC_WAIT_STATUS);
    assert_int_equal(step_with(&w, status("ready", 4, 0, 0), 0.3), SYNC_WAIT_STATUS);
    assert_int_equal(step_with(&w, status("ready", 6, 0, 0), 0.4), SYNC_WAIT_DONE);
}

/* A probe sent while out of session is lost: probe again, on every poll until ready. */
static void test_sync_wait_reprobes_out_of_session(void **state)
{
    (void)state;
    struct sync_wait w = {0};
    assert_int_equal(step_with(&w, probe_answer(1), 0.0), SYNC_WAIT_STATUS);
    assert_int_equal(step_with(&w, status("connecting", 0, 0, 0), 0.02), SYNC_WAIT_PROBE);
    assert_int_equal(w.nonce, 0);
    assert_int_equal(step_with(&w, probe_answer(2), 0.04), SYNC_WAIT_STATUS);
    /* a stale PONG of the lost probe is not the answer to this one */
    assert_int_equal(step_with(&w, status("ready", 1, 0, 0), 0.06), SYNC_WAIT_STATUS);
    assert_int_equal(step_with(&w, status("ready", 2, 0, 0), 0.08), SYNC_WAIT_DONE);
}

/* A PONG that does not come within SYNC_WAIT_REPROBE_S of its probe: probe again, once. */
static void test_sync_wait_reprobes_a_late_pong(void **state)
{
    (void)state;
    struct sync_wait w = {0};
    assert_int_equal(step_with(&w, probe_answer(1), 2.0), SYNC_WAIT_STATUS);
    assert_int_equal(step_with(&w, status("ready", 0, 0, 0), 2.0 + SYNC_WAIT_REPROBE_S - 0.01),
                     SYNC_WAIT_STATUS);
    assert_int_equal(step_with(&w, status("ready", 0, 0, 0), 2.0 + SYNC_WAIT_REPROBE_S),
                     SYNC_WAIT_PROBE);
    assert_int_equal(step_with(&w, probe_answer(2), 3.1), SYNC_WAIT_STATUS);
    assert_int_equal(step_with(&w, status("ready", 0, 0, 0), 3.2), SYNC_WAIT_STATUS);
}

/* No node answering yet (still starting): probe again once one does. */
static void test_sync_wait_probes_a_node_that_was_not_up(void **state)
{
    (void)state;
    struct sync_wait w = {0};
    assert_int_equal(sync_wait_step(&w, NULL, 0.0), SYNC_WAIT_PROBE);
    assert_int_equal(step_with(&w, probe_answer(1), 0.5), SYNC_WAIT_STATUS);
    assert_int_equal(sync_wait_step(&w, NULL, 0.6), SYNC_WAIT_PROBE);
    assert_int_equal(w.nonce, 0);
    /* a probe answer without a nonce is no probe out */
    assert_int_equal(step_with(&w, json_object(), 0.7), SYNC_WAIT_PROBE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sync_wait_probes_once_while_the_pong_comes),
        cmocka_unit_test(test_sync_wait_idle_street_done_on_first_status),
        cmocka_unit_test(test_sync_wait_not_done_before_cursors_and_acks),
        cmocka_unit_test(test_sync_wait_reprobes_out_of_session),
        cmocka_unit_test(test_sync_wait_reprobes_a_late_pong),
        cmocka_unit_test(test_sync_wait_probes_a_node_that_was_not_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
