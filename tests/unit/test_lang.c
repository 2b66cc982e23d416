/* Unit tests of lang: the one language of the human output. The resolver's order is --lang,
 * then DUALSYNC_LANG, then the first set of LC_ALL, LC_MESSAGES and LANG, then Chinese;
 * only zh and en are --lang values, and TR picks by the language set. The environment is
 * this process's own, set and cleared per test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "lang.h"

static const char *const vars[] = {"DUALSYNC_LANG", "LC_ALL", "LC_MESSAGES", "LANG"};

/* Every variable the resolver reads, unset; the language back at its default. */
static int clean_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
    ds_lang_set(DS_LANG_ZH);
    return 0;
}

static enum ds_lang resolved(const char *flag)
{
    enum ds_lang lang = flag && strcmp(flag, "zh") == 0 ? DS_LANG_EN : DS_LANG_ZH;
    assert_int_equal(ds_lang_resolve(flag, &lang), DS_OK);
    return lang;
}

static void test_lang_default_is_chinese(void **state)
{
    (void)state;
    assert_int_equal(resolved(NULL), DS_LANG_ZH);
    static const char *const neutral[] = {"C", "POSIX", "C.UTF-8", "de_DE.UTF-8", ""};
    for (size_t i = 0; i < sizeof(neutral) / sizeof(neutral[0]); i++) {
        setenv("LANG", neutral[i], 1);
        assert_int_equal(resolved(NULL), DS_LANG_ZH);
    }
}

static void test_lang_locale_prefix_decides(void **state)
{
    (void)state;
    setenv("LANG", "en_US.UTF-8", 1);
    assert_int_equal(resolved(NULL), DS_LANG_EN);
    setenv("LANG", "en", 1);
    assert_int_equal(resolved(NULL), DS_LANG_EN);
    setenv("LANG", "zh_CN.UTF-8", 1);
    assert_int_equal(resolved(NULL), DS_LANG_ZH);
}

static void test_lang_first_set_locale_variable_wins(void **state)
{
    (void)state;
    setenv("LANG", "zh_CN.UTF-8", 1);
    setenv("LC_MESSAGES", "en_GB.UTF-8", 1);
    assert_int_equal(resolved(NULL), DS_LANG_EN); /* LC_MESSAGES before LANG */
    setenv("LC_ALL", "C", 1);
    assert_int_equal(resolved(NULL), DS_LANG_ZH); /* LC_ALL before both, C is Chinese */
    setenv("LC_ALL", "", 1);
    assert_int_equal(resolved(NULL), DS_LANG_EN); /* empty counts as unset */
    setenv("LC_MESSAGES", "zh_TW.UTF-8", 1);
    setenv("LANG", "en_US.UTF-8", 1);
    assert_int_equal(resolved(NULL), DS_LANG_ZH);
}

static void test_lang_env_variable_before_locale(void **state)
{
    (void)state;
    setenv("LC_ALL", "en_US.UTF-8", 1);
    setenv("DUALSYNC_LANG", "zh", 1);
    assert_int_equal(resolved(NULL), DS_LANG_ZH);
    setenv("LC_ALL", "C", 1);
    setenv("DUALSYNC_LANG", "en", 1);
    assert_int_equal(resolved(NULL), DS_LANG_EN);
    setenv("DUALSYNC_LANG", "fr", 1); /* names neither: the locale decides */
    assert_int_equal(resolved(NULL), DS_LANG_ZH);
    setenv("LC_ALL", "en_US.UTF-8", 1);
    assert_int_equal(resolved(NULL), DS_LANG_EN);
}

static void test_lang_flag_before_everything(void **state)
{
    (void)state;
    setenv("DUALSYNC_LANG", "en", 1);
    setenv("LC_ALL", "en_US.UTF-8", 1);
    assert_int_equal(resolved("zh"), DS_LANG_ZH);
    setenv("DUALSYNC_LANG", "zh", 1);
    setenv("LC_ALL", "zh_CN.UTF-8", 1);
    assert_int_equal(resolved("en"), DS_LANG_EN);
}

static void test_lang_flag_takes_only_zh_and_en(void **state)
{
    (void)state;
    static const char *const bad[] = {"fr", "", "EN", "zh_CN", "english", "e"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum ds_lang lang = DS_LANG_EN;
        assert_int_equal(ds_lang_resolve(bad[i], &lang), DS_EINVAL);
        assert_int_equal(lang, DS_LANG_EN); /* untouched */
        assert_int_equal(ds_lang_parse(bad[i], &lang), DS_EINVAL);
    }
    enum ds_lang lang = DS_LANG_ZH;
    assert_int_equal(ds_lang_parse(NULL, &lang), DS_EINVAL);
}

static void test_lang_tr_follows_the_language_set(void **state)
{
    (void)state;
    assert_false(ds_lang_is_en());
    assert_string_equal(TR("成员", "member"), "成员");
    ds_lang_set(DS_LANG_EN);
    assert_int_equal(ds_lang_get(), DS_LANG_EN);
    assert_true(ds_lang_is_en());
    assert_string_equal(TR("成员", "member"), "member");
    ds_lang_set(DS_LANG_ZH);
    assert_string_equal(TR("成员", "member"), "成员");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_lang_default_is_chinese, clean_env),
        cmocka_unit_test_setup(test_lang_locale_prefix_decides, clean_env),
        cmocka_unit_test_setup(test_lang_first_set_locale_variable_wins, clean_env),
        cmocka_unit_test_setup(test_lang_env_variable_before_locale, clean_env),
        cmocka_unit_test_setup(test_lang_flag_before_everything, clean_env),
        cmocka_unit_test_setup(test_lang_flag_takes_only_zh_and_en, clean_env),
        cmocka_unit_test_setup(test_lang_tr_follows_the_language_set, clean_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
