/* Unit tests of backoff: the delays double from the base up to the cap, each drawn in
 * [step/2, step] and never above the cap; the same seed gives the same delay; different
 * seeds spread a crowd over the range; absurd attempts and zero inputs are safe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>

#include "backoff.h"
#include "testutil.h"

#define BEAT 1000u
#define CAP (8u * BEAT)

static void test_backoff_doubles_within_half_step_up_to_cap(void **state)
{
    static const uint64_t steps[] = {BEAT, 2 * BEAT, 4 * BEAT, 8 * BEAT, 8 * BEAT, 8 * BEAT};
    (void)state;
    for (uint32_t seed = 0; seed < 1000; seed++) {
        for (unsigned a = 0; a < sizeof(steps) / sizeof(steps[0]); a++) {
            uint64_t d = backoff_delay_ms(a, BEAT, CAP, seed);
            assert_true(d >= steps[a] - steps[a] / 2);
            assert_true(d <= steps[a]);
        }
    }
}

static void test_backoff_same_seed_same_delay(void **state)
{
    (void)state;
    for (unsigned a = 0; a < 10; a++)
        assert_int_equal(backoff_delay_ms(a, BEAT, CAP, 12345u),
                         backoff_delay_ms(a, BEAT, CAP, 12345u));
    assert_int_equal(backoff_seed("unit:u1", 7), backoff_seed("unit:u1", 7));
    assert_int_not_equal(backoff_seed("unit:u1", 7), backoff_seed("unit:u1", 8));
    assert_int_not_equal(backoff_seed("unit:u1", 7), backoff_seed("unit:u2", 7));
}

/* 2,500 nodes started together (the whole city) at their capped step: the draws must
 * cover the jitter range, not bunch up, or they would all ask in the same second again. */
static void test_backoff_seeds_spread_a_crowd(void **state)
{
    unsigned buckets[8] = {0};
    char org[32];
    (void)state;
    for (unsigned i = 0; i < 2500; i++) {
        snprintf(org, sizeof(org), "unit:u%04u", i);
        uint64_t d = backoff_delay_ms(5, BEAT, CAP, backoff_seed(org, 0));
        assert_true(d >= CAP / 2 && d <= CAP);
        buckets[(d - CAP / 2) * 8 / (CAP / 2 + 1)]++;
    }
    for (unsigned b = 0; b < 8; b++) /* uniform would be 312 per eighth */
        assert_true(buckets[b] > 200 && buckets[b] < 420);
}

static void test_backoff_edges_are_safe(void **state)
{
    (void)state;
    assert_int_equal(backoff_delay_ms(0, 0, CAP, 1), 0);
    assert_int_equal(backoff_delay_ms(3, BEAT, 0, 1), 0);
    /* 2^attempt overflows 64 bits long before this: the cap holds */
    assert_true(backoff_delay_ms(63, BEAT, CAP, 1) <= CAP);
    assert_true(backoff_delay_ms(64, BEAT, CAP, 1) >= CAP / 2);
    assert_true(backoff_delay_ms(4000000000u, UINT64_MAX, UINT64_MAX, 9) >= UINT64_MAX / 2);
    /* a base above the cap starts at the cap */
    assert_true(backoff_delay_ms(0, 10 * CAP, CAP, 1) <= CAP);
    /* a step of 1 ms has no room for jitter */
    assert_int_equal(backoff_delay_ms(0, 1, 1, 77), 1);
    assert_true(backoff_seed(NULL, 0) == backoff_seed("", 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_doubles_within_half_step_up_to_cap),
        cmocka_unit_test(test_backoff_same_seed_same_delay),
        cmocka_unit_test(test_backoff_seeds_spread_a_crowd),
        cmocka_unit_test(test_backoff_edges_are_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
