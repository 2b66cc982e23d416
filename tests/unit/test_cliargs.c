/* Unit tests of common/cliargs: the table-driven command-line parser shared by the three
 * tools. Multi-word commands, global options anywhere, flags vs values, required options,
 * positional arguments, and refusal of anything unknown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cliargs.h"
#include "lang.h"

#include <stdlib.h>
#include <string.h>

static const struct cli_command table[] = {
    {"org", "", NULL, "", "", NULL},
    {"org add", "card:,org:", NULL, "", "", NULL},
    {"intro send", "member:,name:,report-days:", "member,name", "", "", NULL},
    {"feedback send", "member:,non-participation,text:", "member", "", "", NULL},
    {"member show", "_", "_", "", "", NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};

static bool parse(struct cli_parsed *p, int argc, const char **argv)
{
    return cli_parse(argc, (char **)argv, table, p);
}

static void test_cliargs_longest_command_wins(void **state)
{
    (void)state;
    struct cli_parsed p;
    const char *argv[] = {"x", "org", "add", "--card", "f.card"};
    assert_true(parse(&p, 5, argv));
    assert_string_equal(p.cmd->name, "org add");
    assert_string_equal(cli_get(&p, "card"), "f.card");
    const char *argv2[] = {"x", "org"};
    assert_true(parse(&p, 2, argv2));
    assert_string_equal(p.cmd->name, "org");
}

static void test_cliargs_globals_anywhere(void **state)
{
    (void)state;
    struct cli_parsed p;
    const char *argv[] = {"x",        "intro", "--data", "d1",     "send",
                          "--member", "M1",    "--json", "--name", "张三"};
    assert_true(parse(&p, 10, argv));
    assert_string_equal(p.cmd->name, "intro send");
    assert_string_equal(p.data_dir, "d1");
    assert_true(p.json);
    assert_string_equal(cli_get(&p, "name"), "张三");
}

static void test_cliargs_flags_take_no_value(void **state)
{
    (void)state;
    struct cli_parsed p;
    const char *argv[] = {"x",      "feedback", "send", "--member", "M1", "--non-participation",
                          "--text", "t"};
    assert_true(parse(&p, 8, argv));
    assert_string_equal(cli_get(&p, "non-participation"), "");
    assert_string_equal(cli_get(&p, "text"), "t");
    assert_null(cli_get(&p, "year"));
}

static void test_cliargs_refuses_missing_required(void **state)
{
    (void)state;
    struct cli_parsed p;
    const char *argv[] = {"x", "intro", "send", "--member", "M1"};
    assert_false(parse(&p, 5, argv));
}

static void test_cliargs_refuses_unknown_option_and_command(void **state)
{
    (void)state;
    struct cli_parsed p;
    const char *argv[] = {"x", "intro", "send", "--member", "M1", "--name", "n", "--bogus", "1"};
    assert_false(parse(&p, 9, argv));
    const char *argv2[] = {"x", "launch", "rockets"};
    assert_false(parse(&p, 3, argv2));
    const char *argv3[] = {"x", "intro", "send", "--member"}; /* value missing */
    assert_false(parse(&p, 4, argv3));
}

static void test_cliargs_positional(void **state)
{
    (void)state;
    struct cli_parsed p;
    const char *argv[] = {"x", "member", "show", "M7"};
    assert_true(parse(&p, 4, argv));
    assert_string_equal(p.positional, "M7");
    const char *argv2[] = {"x", "member", "show"};
    assert_false(parse(&p, 3, argv2));
    const char *argv3[] = {"x", "org", "add", "extra"};
    assert_false(parse(&p, 4, argv3)); /* "org add" takes no positional */
}

static void test_cliargs_lang_is_a_global_option(void **state)
{
    (void)state;
    struct cli_parsed p;
    const char *argv[] = {"x", "--lang", "en", "org", "add", "--card", "f"};
    assert_true(parse(&p, 7, argv));
    assert_string_equal(p.cmd->name, "org add");
    assert_string_equal(p.lang, "en");
    const char *argv2[] = {"x", "org", "--lang", "zh"};
    assert_true(parse(&p, 4, argv2));
    assert_string_equal(p.lang, "zh");
    const char *argv3[] = {"x", "org", "--lang", "fr"};
    assert_false(parse(&p, 4, argv3));
}

/* cli_start sets the language from --lang wherever it stands, before it parses. */
static void test_cliargs_start_sets_the_language(void **state)
{
    (void)state;
    struct cli_parsed p;
    setenv("DUALSYNC_PARSE_ONLY", "1", 1);
    setenv("DUALSYNC_LANG", "zh", 1);
    const char *argv[] = {"x", "--lang", "en", "--data", "d", "org"};
    assert_int_equal(cli_start(6, (char **)argv, "x", "t / t", table, &p), 0);
    assert_true(ds_lang_is_en());
    const char *argv2[] = {"x", "--data", "d", "org", "--lang", "zh"};
    assert_int_equal(cli_start(6, (char **)argv2, "x", "t / t", table, &p), 0);
    assert_false(ds_lang_is_en());
    const char *argv3[] = {"x", "--data", "d", "org", "--lang", "fr"};
    assert_int_equal(cli_start(6, (char **)argv3, "x", "t / t", table, &p), 2);
    const char *argv4[] = {"x", "--data", "d", "org", "--lang"};
    assert_int_equal(cli_start(5, (char **)argv4, "x", "t / t", table, &p), 2);
    setenv("DUALSYNC_LANG", "en", 1);                       /* no --lang: the environment */
    const char *argv5[] = {"x", "--data", "--lang", "org"}; /* a data dir named --lang */
    assert_int_equal(cli_start(4, (char **)argv5, "x", "t / t", table, &p), 0);
    assert_string_equal(p.data_dir, "--lang");
    assert_true(ds_lang_is_en());
    unsetenv("DUALSYNC_PARSE_ONLY");
    unsetenv("DUALSYNC_LANG");
    ds_lang_set(DS_LANG_ZH);
}

static void test_cli_csv_field_quotes_only_when_needed(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    (void)state;
    FILE *f = open_memstream(&buf, &len);
    cli_csv_field(f, "和谐社区");
    fputc('|', f);
    cli_csv_field(f, "a,b");
    fputc('|', f);
    cli_csv_field(f, "say \"hi\"");
    fputc('|', f);
    cli_csv_field(f, "two\nlines");
    fclose(f);
    assert_string_equal(buf, "和谐社区|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"");
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cliargs_longest_command_wins),
        cmocka_unit_test(test_cliargs_globals_anywhere),
        cmocka_unit_test(test_cliargs_flags_take_no_value),
        cmocka_unit_test(test_cliargs_refuses_missing_required),
        cmocka_unit_test(test_cliargs_refuses_unknown_option_and_command),
        cmocka_unit_test(test_cliargs_positional),
        cmocka_unit_test(test_cliargs_lang_is_a_global_option),
        cmocka_unit_test(test_cliargs_start_sets_the_language),
        cmocka_unit_test(test_cli_csv_field_quotes_only_when_needed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
