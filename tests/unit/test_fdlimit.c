/* Unit tests of fdlimit: a store keeps half the descriptors for its table files, within
 * its bounds; a daemon raises its soft limit to the hard one (up to FDLIMIT_WANT) and
 * never lowers it; the broker's warning fires exactly when the other half cannot hold
 * one connection per org and the spare. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sys/resource.h>

#include "fdlimit.h"
#include "testutil.h"

static void test_fdlimit_store_takes_half_within_bounds(void **state)
{
    (void)state;
    assert_int_equal(fdlimit_store_files(1024), 512);
    assert_int_equal(fdlimit_store_files(20000), 10000);
    assert_int_equal(fdlimit_store_files(524288), FDLIMIT_STORE_FILES_MAX);
    assert_int_equal(fdlimit_store_files(UINT64_MAX), FDLIMIT_STORE_FILES_MAX);
    assert_int_equal(fdlimit_store_files(100), FDLIMIT_STORE_FILES_MIN);
    assert_int_equal(fdlimit_store_files(0), FDLIMIT_STORE_FILES_MIN);
}

static void test_fdlimit_enough_for_the_other_half(void **state)
{
    (void)state;
    /* 1024: 512 for the store, 512 for 256 connections and the spare */
    assert_true(fdlimit_enough_for(1024, 512 - FDLIMIT_SPARE));
    assert_false(fdlimit_enough_for(1024, 512 - FDLIMIT_SPARE + 1));
    assert_true(fdlimit_enough_for(65536, 2500)); /* a city's street */
    assert_false(fdlimit_enough_for(100, 0));     /* the store's minimum takes them all */
    assert_true(fdlimit_enough_for(UINT64_MAX, 100000));
}

static void test_fdlimit_raise_up_to_hard_never_down(void **state)
{
    (void)state;
    struct rlimit saved;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
    rlim_t hard = saved.rlim_max;
    rlim_t want = hard != RLIM_INFINITY && hard < FDLIMIT_WANT ? hard : FDLIMIT_WANT;
    if (want > 256) { /* lower the soft limit, as systemd's 1024 would be, then raise it */
        struct rlimit low = {256, hard};
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
        assert_true(fdlimit_current() == 256);
        assert_true(fdlimit_raise() == want);
        assert_true(fdlimit_current() == want);
    }
    /* Already at (or above) what it wants: raising again changes nothing. */
    uint64_t now = fdlimit_current();
    assert_true(fdlimit_raise() == now);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fdlimit_store_takes_half_within_bounds),
        cmocka_unit_test(test_fdlimit_enough_for_the_other_half),
        cmocka_unit_test(test_fdlimit_raise_up_to_hard_never_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
