/* Unit tests of ids: the syntax of every identifier, text and date that crosses a trust
 * boundary. Validators are pure, so each test is a table of accepted and rejected inputs;
 * the UTF-8 cases are the classic decoder traps (overlongs, surrogates, truncation, values
 * above U+10FFFF). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "ids.h"
#include "testutil.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void fill(char *buf, const char *prefix, char c, size_t n)
{
    size_t p = strlen(prefix);
    memcpy(buf, prefix, p);
    memset(buf + p, c, n);
    buf[p + n] = '\0';
}

/* ---------------------------------------------------------------- org ids */

static void test_ids_org_valid_kinds(void **state)
{
    (void)state;
    assert_int_equal(ids_org_kind("unit:tax-bureau"), ORG_UNIT);
    assert_int_equal(ids_org_kind("community:hy-03"), ORG_COMMUNITY);
    assert_int_equal(ids_org_kind("street:huayuan"), ORG_STREET);
    assert_int_equal(ids_org_kind("unit:0"), ORG_UNIT);
    assert_int_equal(ids_org_kind("unit:-"), ORG_UNIT);
    assert_true(ids_org_valid("community:a1-b2"));
    assert_string_equal(ids_kind_name(ORG_UNIT), "unit");
    assert_string_equal(ids_kind_name(ORG_COMMUNITY), "community");
    assert_string_equal(ids_kind_name(ORG_STREET), "street");
    assert_string_equal(ids_kind_name(ORG_NONE), "none");
    for (int k = ORG_UNIT; k <= ORG_STREET; k++)
        assert_int_equal(ids_kind_parse(ids_kind_name((enum org_kind)k)), k);
    assert_int_equal(ids_kind_parse("none"), ORG_NONE);
    assert_int_equal(ids_kind_parse("Unit"), ORG_NONE);
    assert_int_equal(ids_kind_parse(""), ORG_NONE);
}

static void test_ids_org_bad_prefix(void **state)
{
    static const char *const bad[] = {
        "Unit:a", "UNIT:a", "units:a", "unit",       "unit-a", "unit;a",    ":a",
        "",       "city:a", " unit:a", "communit:a", "street", "streets:a", "unit::a",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(ids_org_kind(bad[i]), ORG_NONE);
        assert_false(ids_org_valid(bad[i]));
    }
    assert_false(ids_org_valid(NULL));
}

static void test_ids_org_code_length(void **state)
{
    char buf[128];
    (void)state;
    fill(buf, "unit:", 'a', 48);
    assert_int_equal(ids_org_kind(buf), ORG_UNIT);
    fill(buf, "community:", '9', 48);
    assert_int_equal(ids_org_kind(buf), ORG_COMMUNITY);
    assert_true(strlen(buf) < IDS_ORG_MAX);
    fill(buf, "unit:", 'a', 49);
    assert_int_equal(ids_org_kind(buf), ORG_NONE);
    fill(buf, "community:", 'a', 49);
    assert_false(ids_org_valid(buf));
    assert_false(ids_org_valid("unit:"));
    assert_false(ids_org_valid("community:"));
    assert_false(ids_org_valid("street:"));
}

static void test_ids_org_code_chars(void **state)
{
    static const char *const bad[] = {
        "unit:Tax", "unit:taX", "unit:a_b",          "unit:a b",       "unit:a/b",
        "unit:a.b", "unit:a:b", "unit:\xe7\xa8\x8e", "community:hy\n", "street:a\t",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(ids_org_valid(bad[i]));
}

/* ---------------------------------------------------------------- member ids */

static void test_ids_member_length(void **state)
{
    char buf[128];
    (void)state;
    fill(buf, "", 'A', IDS_MEMBER_MAX);
    assert_true(ids_member_valid(buf));
    fill(buf, "", 'A', IDS_MEMBER_MAX + 1);
    assert_false(ids_member_valid(buf));
    assert_true(ids_member_valid("1"));
    assert_false(ids_member_valid(""));
    assert_false(ids_member_valid(NULL));
}

static void test_ids_member_chars(void **state)
{
    static const char *const bad[] = {
        "a b", "a_b", "a/b", "a:b", "a.b", "M1\n", "\xe5\x85\x9a\xe5\x91\x98", "a\"b",
    };
    (void)state;
    assert_true(ids_member_valid("Az-09-zZ"));
    assert_true(ids_member_valid("2026-000123"));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(ids_member_valid(bad[i]));
}

/* ---------------------------------------------------------------- UTF-8 */

static bool utf8(const char *s)
{
    return ids_utf8_valid(s, strlen(s));
}

static void test_ids_utf8_valid_chinese(void **state)
{
    (void)state;
    assert_true(utf8("\xe7\xa4\xbe\xe5\x8c\xba\xe5\x85\x9a\xe5\x91\x98")); /* 社区党员 */
    assert_true(utf8("ascii only"));
    assert_true(ids_utf8_valid("", 0));
    assert_true(utf8("\xc2\x80"));         /* U+0080, smallest 2-byte */
    assert_true(utf8("\xe0\xa0\x80"));     /* U+0800, smallest 3-byte */
    assert_true(utf8("\xed\x9f\xbf"));     /* U+D7FF, just below the surrogates */
    assert_true(utf8("\xf0\x9f\x98\x80")); /* U+1F600 */
    assert_true(utf8("\xf4\x8f\xbf\xbf")); /* U+10FFFF, the last code point */
    assert_true(utf8("a\xe4\xb8\xad-z"));  /* 中 between ASCII */
}

static void test_ids_utf8_overlong_rejected(void **state)
{
    (void)state;
    assert_false(utf8("\xc0\x80"));
    assert_false(utf8("\xc1\xbf"));
    assert_false(utf8("\xe0\x80\x80"));
    assert_false(utf8("\xe0\x9f\xbf"));
    assert_false(utf8("\xf0\x80\x80\x80"));
    assert_false(utf8("\xf0\x8f\xbf\xbf"));
}

static void test_ids_utf8_surrogate_rejected(void **state)
{
    (void)state;
    assert_false(utf8("\xed\xa0\x80")); /* U+D800 */
    assert_false(utf8("\xed\xbf\xbf")); /* U+DFFF */
    assert_false(utf8("ok\xed\xb0\x80"));
}

static void test_ids_utf8_truncated_rejected(void **state)
{
    (void)state;
    assert_false(utf8("\xe4\xb8")); /* 中 without its last byte */
    assert_false(utf8("\xe4"));
    assert_false(utf8("\xf0\x9f\x98"));
    assert_false(utf8("\xc2"));
    assert_false(utf8("abc\xe5\x85"));
    assert_false(utf8("\x80"));      /* lone continuation */
    assert_false(utf8("\xe4\xb8z")); /* continuation replaced by ASCII */
    /* The length bounds the check: a valid prefix of a longer buffer passes. */
    assert_true(ids_utf8_valid("abc\xe4\xb8\xad", 3));
    assert_false(ids_utf8_valid("abc\xe4\xb8\xad", 5));
}

static void test_ids_utf8_above_max_rejected(void **state)
{
    (void)state;
    assert_false(utf8("\xf4\x90\x80\x80")); /* U+110000 */
    assert_false(utf8("\xf5\x80\x80\x80"));
    assert_false(utf8("\xf8\x88\x80\x80\x80"));
    assert_false(utf8("\xff"));
    assert_false(utf8("\xfe"));
}

/* ---------------------------------------------------------------- text */

static void test_ids_text_control_chars(void **state)
{
    (void)state;
    assert_true(ids_text_valid("line one\nline two\tend", 100, false));
    assert_false(ids_text_valid("a\001b", 100, false));
    assert_false(ids_text_valid("a\x1f", 100, false));
    assert_false(ids_text_valid("a\x7f", 100, false));
    assert_false(ids_text_valid("a\rb", 100, false));
    /* invisible controls: C1, and the bidirectional ones that reorder what is shown */
    assert_false(ids_text_valid("a\xc2\x85"
                                "b",
                                100, false));                                    /* U+0085 NEL */
    assert_false(ids_text_valid("\xe2\x80\xae\xe4\xb8\x89", 100, false));        /* U+202E RLO */
    assert_false(ids_text_valid("x\xe2\x81\xa6y", 100, false));                  /* U+2066 LRI */
    assert_false(ids_text_valid("x\xe2\x80\x8f", 100, false));                   /* U+200F RLM */
    assert_false(ids_text_valid("x\xd8\x9c", 100, false));                       /* U+061C ALM */
    assert_true(ids_text_valid("\xc2\xa0\xe2\x80\x94\xe2\x80\x9c", 100, false)); /* NBSP, — “ */
    assert_false(ids_text_valid("\x1b[31m", 100, false));
    assert_false(ids_text_valid("\xc0\x80", 100, false)); /* bad UTF-8 is bad text */
}

static void test_ids_text_max_length(void **state)
{
    char buf[IDS_TEXT_MAX + 2];
    (void)state;
    fill(buf, "", 'x', IDS_TEXT_MAX);
    assert_true(ids_text_valid(buf, IDS_TEXT_MAX, false));
    fill(buf, "", 'x', IDS_TEXT_MAX + 1);
    assert_false(ids_text_valid(buf, IDS_TEXT_MAX, false));
    /* The limit is in bytes, not characters: two CJK characters are six bytes. */
    assert_true(ids_text_valid("\xe4\xb8\xad\xe6\x96\x87", 6, false));
    assert_false(ids_text_valid("\xe4\xb8\xad\xe6\x96\x87", 5, false));
}

static void test_ids_text_empty(void **state)
{
    (void)state;
    assert_true(ids_text_valid("", 10, true));
    assert_false(ids_text_valid("", 10, false));
    assert_false(ids_text_valid(NULL, 10, true));
}

/* ---------------------------------------------------------------- dates */

static void test_ids_date_leap_years(void **state)
{
    (void)state;
    assert_true(ids_date_valid("2024-02-29"));
    assert_false(ids_date_valid("2023-02-29"));
    assert_true(ids_date_valid("2000-02-29"));  /* divisible by 400 */
    assert_false(ids_date_valid("2100-02-29")); /* divisible by 100 only */
    assert_false(ids_date_valid("1900-02-29"));
    assert_false(ids_date_valid("2024-02-30"));
    assert_true(ids_date_valid("2023-02-28"));
}

static void test_ids_date_month_day_range(void **state)
{
    (void)state;
    assert_false(ids_date_valid("2026-13-01"));
    assert_false(ids_date_valid("2026-00-10"));
    assert_false(ids_date_valid("2026-01-00"));
    assert_false(ids_date_valid("2026-01-32"));
    assert_false(ids_date_valid("2026-04-31"));
    assert_true(ids_date_valid("2026-12-31"));
    assert_true(ids_date_valid("2026-04-30"));
    assert_true(ids_date_valid("1900-01-01"));
    assert_true(ids_date_valid("9999-12-31"));
    assert_false(ids_date_valid("1899-12-31"));
}

static void test_ids_date_format(void **state)
{
    static const char *const bad[] = {
        "2026-1-01",   "2026-01-1",   "2026/01/01", "20260101",
        "2026-01-01 ", " 2026-01-01", "2026-0a-01", "+026-01-01",
        "2026-01-+1",  "26-01-01",    "",           "2026-01-01T",
        "2026--1-01",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(ids_date_valid(bad[i]));
    assert_false(ids_date_valid(NULL));
}

/* ---------------------------------------------------------------- event ids */

static void test_ids_event_id_round_trip(void **state)
{
    static const struct {
        const char *origin;
        uint64_t seq;
        const char *text;
    } cases[] = {
        {"unit:a", 1, "unit:a/1"},
        {"community:hy-03", 42, "community:hy-03/42"},
        {"street:huayuan", UINT64_MAX, "street:huayuan/18446744073709551615"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[IDS_EVENT_ID_MAX], origin[IDS_ORG_MAX];
        uint64_t seq = 0;
        ids_event_id(buf, sizeof(buf), cases[i].origin, cases[i].seq);
        assert_string_equal(buf, cases[i].text);
        assert_true(ids_event_id_parse(buf, origin, &seq));
        assert_string_equal(origin, cases[i].origin);
        assert_true(seq == cases[i].seq);
    }
    /* The longest origin fits the event id buffer. */
    char longest[IDS_ORG_MAX], buf[IDS_EVENT_ID_MAX], origin[IDS_ORG_MAX];
    uint64_t seq = 0;
    fill(longest, "community:", 'z', 48);
    ids_event_id(buf, sizeof(buf), longest, UINT64_MAX);
    assert_true(ids_event_id_parse(buf, origin, &seq));
    assert_string_equal(origin, longest);
    assert_true(seq == UINT64_MAX);
}

static void test_ids_event_id_parse_rejects(void **state)
{
    static const char *const bad[] = {
        "unit:a/0",  "unit:a/",    "x/1",        "unit:a/01", "unit:a",   "/1",
        "unit:a/1x", "unit:a/-1",  "unit:a/ 1",  "unit:a/+1", "unit:A/1", "",
        "unit:/1",   "unit:a/1/2", "unit:a/0x1", "unit:a//1",
    };
    char origin[IDS_ORG_MAX] = "untouched";
    uint64_t seq = 77;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (ids_event_id_parse(bad[i], origin, &seq))
            fail_msg("accepted bad event id \"%s\"", bad[i]);
    }
    /* Out-parameters are written only on success. */
    assert_string_equal(origin, "untouched");
    assert_true(seq == 77);
    assert_false(ids_event_id_parse(NULL, origin, &seq));

    char toolong[256];
    fill(toolong, "unit:", 'a', 100);
    strcat(toolong, "/1");
    assert_false(ids_event_id_parse(toolong, origin, &seq));
}

/* Regression (fixed; common/ids.c, ids_event_id_parse): the sequence is parsed with strtoull
 * without checking errno, so a 20-digit number above UINT64_MAX saturates to UINT64_MAX instead of
 * being rejected: "unit:a/18446744073709551616" parses as seq 18446744073709551615, a
 * different event. Expected: rejected (or at least not mapped onto another id). */
static void test_ids_event_id_parse_rejects_seq_overflow(void **state)
{
    static const char *const bad[] = {
        "unit:a/18446744073709551616", /* UINT64_MAX + 1 */
        "unit:a/99999999999999999999",
    };
    char origin[IDS_ORG_MAX];
    uint64_t seq = 0;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (ids_event_id_parse(bad[i], origin, &seq))
            fail_msg("regression: accepted out-of-range event id \"%s\" as seq %" PRIu64, bad[i],
                     seq);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_org_valid_kinds),
        cmocka_unit_test(test_ids_org_bad_prefix),
        cmocka_unit_test(test_ids_org_code_length),
        cmocka_unit_test(test_ids_org_code_chars),
        cmocka_unit_test(test_ids_member_length),
        cmocka_unit_test(test_ids_member_chars),
        cmocka_unit_test(test_ids_utf8_valid_chinese),
        cmocka_unit_test(test_ids_utf8_overlong_rejected),
        cmocka_unit_test(test_ids_utf8_surrogate_rejected),
        cmocka_unit_test(test_ids_utf8_truncated_rejected),
        cmocka_unit_test(test_ids_utf8_above_max_rejected),
        cmocka_unit_test(test_ids_text_control_chars),
        cmocka_unit_test(test_ids_text_max_length),
        cmocka_unit_test(test_ids_text_empty),
        cmocka_unit_test(test_ids_date_leap_years),
        cmocka_unit_test(test_ids_date_month_day_range),
        cmocka_unit_test(test_ids_date_format),
        cmocka_unit_test(test_ids_event_id_round_trip),
        cmocka_unit_test(test_ids_event_id_parse_rejects),
        cmocka_unit_test(test_ids_event_id_parse_rejects_seq_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
