/* Unit tests of strcopy: each result is compared with what snprintf, which it replaces,
 * writes and returns, at every buffer size from 1 up past the whole string. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "strcopy.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void test_strcopy_matches_snprintf_at_every_size(void **state)
{
    static const char *const srcs[] = {"", "u", "unit:acme-works", "社区:东风"};
    (void)state;
    for (size_t s = 0; s < sizeof(srcs) / sizeof(srcs[0]); s++)
        for (size_t size = 1; size <= strlen(srcs[s]) + 2; size++) {
            char got[64], want[64];
            memset(got, 'x', sizeof(got));
            memset(want, 'x', sizeof(want));
            int n = snprintf(want, size, "%s", srcs[s]);
            assert_int_equal(strcopy(got, size, srcs[s]), (size_t)n);
            assert_memory_equal(got, want, sizeof(got)); /* nothing written past size */
        }
}

static void test_strcopy_id_matches_snprintf_at_every_size(void **state)
{
    static const uint64_t seqs[] = {0, 7, 10, 1234567890, UINT64_MAX};
    static const char *const prefixes[] = {"", "unit:acme"};
    (void)state;
    for (size_t p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++)
        for (size_t q = 0; q < sizeof(seqs) / sizeof(seqs[0]); q++) {
            char whole[64];
            int len = snprintf(whole, sizeof(whole), "%s/%" PRIu64, prefixes[p], seqs[q]);
            for (size_t size = 1; size <= (size_t)len + 2; size++) {
                char got[64], want[64];
                memset(got, 'x', sizeof(got));
                memset(want, 'x', sizeof(want));
                snprintf(want, size, "%s/%" PRIu64, prefixes[p], seqs[q]);
                assert_int_equal(strcopy_id(got, size, prefixes[p], seqs[q]), (size_t)len);
                assert_memory_equal(got, want, sizeof(got));
            }
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strcopy_matches_snprintf_at_every_size),
        cmocka_unit_test(test_strcopy_id_matches_snprintf_at_every_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
