/* Unit tests of common/err and common/log: every error code has a distinct name and a
 * text, unknown codes do not crash, and log levels parse (and reject) as documented. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "err.h"
#include "log.h"

#include <string.h>

static void test_err_every_code_named_once(void **state)
{
    (void)state;
    for (int a = DS_OK; a >= DS_EACCES; a--) {
        assert_string_not_equal(ds_errname(a), "EUNKNOWN");
        assert_string_not_equal(ds_strerror(a), "unknown error");
        for (int b = a - 1; b >= DS_EACCES; b--)
            assert_string_not_equal(ds_errname(a), ds_errname(b));
    }
}

static void test_err_unknown_code_is_safe(void **state)
{
    (void)state;
    assert_string_equal(ds_errname(-999), "EUNKNOWN");
    assert_string_equal(ds_strerror(42), "unknown error");
}

static void test_log_levels_parse(void **state)
{
    (void)state;
    enum log_level level = LOG_ERROR;
    assert_int_equal(log_parse_level("debug", &level), DS_OK);
    assert_int_equal(level, LOG_DEBUG);
    assert_int_equal(log_parse_level("warn", &level), DS_OK);
    assert_int_equal(level, LOG_WARN);
    assert_int_equal(log_parse_level("verbose", &level), DS_EINVAL);
    assert_int_equal(level, LOG_WARN); /* untouched on error */
    log_set_level(LOG_ERROR);
    log_info("not printed: %d", 1); /* below the threshold: must not even format */
    assert_int_equal(log_threshold, LOG_ERROR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_every_code_named_once),
        cmocka_unit_test(test_err_unknown_code_is_safe),
        cmocka_unit_test(test_log_levels_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
