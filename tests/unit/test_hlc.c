/* Unit tests of hlc: the clock is driven with made-up wall times (the module never reads
 * the clock itself), so backwards jumps, long stalls and remote clocks far ahead are all
 * deterministic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "hlc.h"
#include "testutil.h"

#define WALL0 1764300000000ull /* 2025-11-28 in ms */

static void test_hlc_tick_not_before_wall(void **state)
{
    struct hlc clock = {0};
    (void)state;
    uint64_t ts = hlc_tick(&clock, WALL0);
    assert_true(ts >= WALL0 << HLC_COUNTER_BITS);
    assert_true(hlc_ms(ts) == WALL0);
    assert_true(clock.last == ts);
    ts = hlc_tick(&clock, WALL0 + 5000);
    assert_true(ts >= (WALL0 + 5000) << HLC_COUNTER_BITS);
    assert_true(hlc_ms(ts) == WALL0 + 5000);
}

static void test_hlc_tick_monotonic_when_wall_goes_back(void **state)
{
    static const uint64_t walls[] = {
        WALL0, WALL0 + 2000, WALL0 + 1500, WALL0 - 60000, WALL0 + 2000, WALL0 + 2001, 0, WALL0,
    };
    struct hlc clock = {0};
    uint64_t prev = 0;
    (void)state;
    for (size_t i = 0; i < sizeof(walls) / sizeof(walls[0]); i++) {
        uint64_t ts = hlc_tick(&clock, walls[i]);
        assert_true(ts > prev);
        assert_true(ts >= walls[i] << HLC_COUNTER_BITS);
        prev = ts;
    }
    /* Never earlier than the highest wall time seen. */
    assert_true(hlc_ms(prev) >= WALL0 + 2001);
}

static void test_hlc_tick_same_ms_counts_up(void **state)
{
    struct hlc clock = {0};
    (void)state;
    uint64_t first = hlc_tick(&clock, WALL0);
    for (uint64_t i = 1; i <= 100; i++) {
        uint64_t ts = hlc_tick(&clock, WALL0);
        assert_true(ts == first + i);
        assert_true(hlc_ms(ts) == WALL0);
    }
}

static void test_hlc_observe_remote_ahead(void **state)
{
    struct hlc clock = {0};
    (void)state;
    uint64_t local = hlc_tick(&clock, WALL0);
    uint64_t remote = ((WALL0 + 3600000) << HLC_COUNTER_BITS) | 7; /* an hour ahead */
    hlc_observe(&clock, remote);
    uint64_t next = hlc_tick(&clock, WALL0 + 1);
    assert_true(next > remote);
    assert_true(next > local);
    /* An older remote timestamp does not move the clock back. */
    hlc_observe(&clock, local);
    assert_true(hlc_tick(&clock, WALL0 + 2) > next);
}

static void test_hlc_counter_overflow_monotonic(void **state)
{
    struct hlc clock = {0};
    uint64_t prev;
    (void)state;
    /* The counter is full: the next tick carries into the ms part. */
    clock.last = (WALL0 << HLC_COUNTER_BITS) | 0xFFFF;
    prev = clock.last;
    uint64_t ts = hlc_tick(&clock, WALL0);
    assert_true(ts > prev);
    assert_true(hlc_ms(ts) == WALL0 + 1);
    /* A stalled wall clock with more events than the counter holds. */
    clock.last = 0;
    prev = 0;
    for (uint32_t i = 0; i < 3u * 65536u; i++) {
        ts = hlc_tick(&clock, WALL0);
        if (ts <= prev)
            fail_msg("tick %u not monotonic: %llu after %llu", i, (unsigned long long)ts,
                     (unsigned long long)prev);
        prev = ts;
    }
    assert_true(hlc_ms(prev) >= WALL0 + 2);
}

static void test_hlc_wall_ms_plausible(void **state)
{
    (void)state;
    uint64_t a = hlc_wall_ms();
    uint64_t b = hlc_wall_ms();
    assert_true(a > 1600000000000ull); /* after 2020 */
    assert_true(b >= a - 1000);        /* no huge jumps between two reads */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hlc_tick_not_before_wall),
        cmocka_unit_test(test_hlc_tick_monotonic_when_wall_goes_back),
        cmocka_unit_test(test_hlc_tick_same_ms_counts_up),
        cmocka_unit_test(test_hlc_observe_remote_ahead),
        cmocka_unit_test(test_hlc_counter_overflow_monotonic),
        cmocka_unit_test(test_hlc_wall_ms_plausible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
