/* Unit tests of roster: the CSV member roster reader behind `dualsync import members`.
 * Header variants (Chinese names, any order, BOM, case, whitespace), CSV quoting, row
 * numbers as a spreadsheet shows them, one test per reason a row is bad (with its row and
 * column), duplicates, headers that refuse the file, the bound on a field's size, and a
 * loop of random mutations of a valid roster that must never break the reader's promises. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "err.h"
#include "ids.h"
#include "roster.h"
#include "testutil.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER "member,name,community,contact,report_days,date\n"

/* A FILE holding len bytes of data (NULs allowed), at its start. */
static FILE *file_of(const char *data, size_t len)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    rewind(f);
    return f;
}

/* An open reader over text; the test fails if the header is refused. */
struct fixture {
    FILE *f;
    struct roster *r;
};

static void open_ok(struct fixture *fx, const char *data, size_t len)
{
    struct roster_error e;
    fx->f = file_of(data, len);
    int rc = roster_open(fx->f, &fx->r, &e);
    if (rc != DS_OK)
        fail_msg("roster_open refused: %s", e.reason_en);
}

static void open_text(struct fixture *fx, const char *text)
{
    open_ok(fx, text, strlen(text));
}

static void close_fx(struct fixture *fx)
{
    roster_destroy(&fx->r);
    assert_null(fx->r);
    fclose(fx->f);
}

static void expect_row(struct fixture *fx, struct roster_row *row)
{
    struct roster_error e;
    int res = roster_next(fx->r, row, &e);
    if (res != ROSTER_ROW)
        fail_msg("expected a good row, got %d: row %ld column '%s': %s", res, e.row, e.column,
                 e.reason_en);
}

/* The next row is bad, at row and column, and its English reason contains what. */
static void expect_bad(struct fixture *fx, long row, const char *column, const char *what)
{
    struct roster_row r;
    struct roster_error e;
    int res = roster_next(fx->r, &r, &e);
    if (res != ROSTER_BAD_ROW)
        fail_msg("expected bad row %ld (%s), got %d (row %ld)", row, what, res,
                 res == ROSTER_ROW ? r.row : e.row);
    assert_int_equal(e.row, row);
    assert_string_equal(e.column, column);
    if (!strstr(e.reason_en, what))
        fail_msg("row %ld: reason '%s' lacks '%s'", row, e.reason_en, what);
    assert_true(e.reason_zh[0] != '\0');
    assert_true(ids_utf8_valid(e.reason_zh, strlen(e.reason_zh)));
}

static void expect_end(struct fixture *fx)
{
    struct roster_row r;
    struct roster_error e;
    assert_int_equal(roster_next(fx->r, &r, &e), ROSTER_END);
    assert_int_equal(roster_next(fx->r, &r, &e), ROSTER_END);
}

/* roster_open must refuse data with DS_EINVAL, at row, with an English reason holding what. */
static void expect_refused(const char *data, size_t len, long row, const char *what)
{
    struct roster *r = NULL;
    struct roster_error e;
    FILE *f = file_of(data, len);
    assert_int_equal(roster_open(f, &r, &e), DS_EINVAL);
    assert_null(r);
    assert_int_equal(e.row, row);
    if (!strstr(e.reason_en, what))
        fail_msg("reason '%s' lacks '%s'", e.reason_en, what);
    assert_true(ids_utf8_valid(e.reason_zh, strlen(e.reason_zh)));
    fclose(f);
}

static void expect_refused_text(const char *text, long row, const char *what)
{
    expect_refused(text, strlen(text), row, what);
}

/* ---------------------------------------------------------------- good files */

static void test_roster_reads_every_column(void **state)
{
    struct fixture fx;
    struct roster_row row;
    (void)state;
    open_text(&fx, HEADER "DY-0001,张建国,community:hexie,13800000000,30,2026-03-01\n"
                          "DY-0002,李四,community:hy-03,,,\n");
    expect_row(&fx, &row);
    assert_int_equal(row.row, 2);
    assert_string_equal(row.member, "DY-0001");
    assert_string_equal(row.name, "张建国");
    assert_string_equal(row.community, "community:hexie");
    assert_string_equal(row.contact, "13800000000");
    assert_int_equal(row.report_days, 30);
    assert_string_equal(row.date, "2026-03-01");
    expect_row(&fx, &row);
    assert_int_equal(row.row, 3);
    assert_string_equal(row.contact, "");
    assert_int_equal(row.report_days, 0); /* the node's default */
    assert_string_equal(row.date, "");    /* today */
    expect_end(&fx);
    assert_int_equal(roster_rows(fx.r), 2);
    close_fx(&fx);
}

static void test_roster_chinese_header_reordered_with_bom(void **state)
{
    static const char text[] = "\xEF\xBB\xBF"
                               " 日期 ,居住社区,姓名,报到期限,联系方式,党员编号\r\n"
                               "2026-01-02,community:hexie,王五,15,电话 1234,DY-9\r\n";
    struct fixture fx;
    struct roster_row row;
    (void)state;
    open_text(&fx, text);
    expect_row(&fx, &row);
    assert_int_equal(row.row, 2);
    assert_string_equal(row.member, "DY-9");
    assert_string_equal(row.name, "王五");
    assert_string_equal(row.community, "community:hexie");
    assert_string_equal(row.contact, "电话 1234");
    assert_int_equal(row.report_days, 15);
    assert_string_equal(row.date, "2026-01-02");
    expect_end(&fx);
    close_fx(&fx);
}

static void test_roster_header_alternatives_and_case(void **state)
{
    struct fixture fx;
    struct roster_row row;
    (void)state;
    open_text(&fx, "ID,Name,社区,Report-Days\nA1,甲,community:c1,7\n");
    expect_row(&fx, &row);
    assert_string_equal(row.member, "A1");
    assert_int_equal(row.report_days, 7);
    close_fx(&fx);
    open_text(&fx, "编号,姓名,COMMUNITY\nA2,乙,community:c1\n");
    expect_row(&fx, &row);
    assert_string_equal(row.member, "A2");
    close_fx(&fx);
}

static void test_roster_unnamed_column_ignored(void **state)
{
    struct fixture fx;
    struct roster_row row;
    (void)state;
    open_text(&fx, "member,,name,community,\nM1,whatever,甲,community:c1,\xff\n");
    expect_row(&fx, &row);
    assert_string_equal(row.member, "M1");
    assert_string_equal(row.name, "甲");
    expect_end(&fx);
    close_fx(&fx);
}

static void test_roster_quoted_fields(void **state)
{
    struct fixture fx;
    struct roster_row row;
    (void)state;
    open_text(&fx, HEADER "\"M1\",\"张,三\",community:c1,\"line 1\nline 2\",\"30\",\n"
                          "M2,\"say \"\"hi\"\"\",community:c1,\"a,\r\nb\",,\n"
                          "M3,丙,community:c1,,,\n");
    expect_row(&fx, &row);
    assert_int_equal(row.row, 2);
    assert_string_equal(row.name, "张,三");
    assert_string_equal(row.contact, "line 1\nline 2");
    assert_int_equal(row.report_days, 30);
    expect_row(&fx, &row);
    assert_int_equal(row.row, 3); /* one row although it spans two lines */
    assert_string_equal(row.name, "say \"hi\"");
    expect_row(&fx, &row);
    assert_int_equal(row.row, 4);
    expect_end(&fx);
    close_fx(&fx);
}

static void test_roster_rows_numbered_as_a_spreadsheet(void **state)
{
    struct fixture fx;
    struct roster_row row;
    (void)state;
    /* CRLF, a blank line, a row of empty cells, a line of spaces, no final newline. */
    open_text(&fx, "member,name,community\r\n"
                   "M1,甲,community:c1\r\n"
                   "\r\n"
                   ",,\r\n"
                   "   \r\n"
                   "M2,乙,community:c1\n"
                   "\n"
                   "M3,丙,community:c1");
    expect_row(&fx, &row);
    assert_int_equal(row.row, 2);
    expect_row(&fx, &row);
    assert_int_equal(row.row, 6);
    expect_row(&fx, &row);
    assert_int_equal(row.row, 8);
    expect_end(&fx);
    assert_int_equal(roster_rows(fx.r), 3); /* blank rows are not data rows */
    close_fx(&fx);
}

static void test_roster_header_after_blank_lines(void **state)
{
    struct fixture fx;
    struct roster_row row;
    (void)state;
    open_text(&fx, "\n\nmember,name,community\nM1,甲,community:c1\n");
    expect_row(&fx, &row);
    assert_int_equal(row.row, 4);
    close_fx(&fx);
}

static void test_roster_values_trimmed(void **state)
{
    struct fixture fx;
    struct roster_row row;
    (void)state;
    /* spaces, a tab, the ideographic space U+3000 and a no-break space U+00A0 */
    open_text(&fx, HEADER
              " M1 ,\"\xE3\x80\x80张三\xE3\x80\x80\",\tcommunity:c1,\xC2\xA0x\xC2\xA0, 9 ,\n");
    expect_row(&fx, &row);
    assert_string_equal(row.member, "M1");
    assert_string_equal(row.name, "张三");
    assert_string_equal(row.community, "community:c1");
    assert_string_equal(row.contact, "x");
    assert_int_equal(row.report_days, 9);
    close_fx(&fx);
}

static void test_roster_spreadsheet_dates_normalised(void **state)
{
    struct fixture fx;
    struct roster_row row;
    (void)state;
    open_text(&fx, "member,name,community,date\nM1,甲,community:c1,2026/3/1\n"
                   "M2,乙,community:c1,2024-2-29\n");
    expect_row(&fx, &row);
    assert_string_equal(row.date, "2026-03-01");
    expect_row(&fx, &row);
    assert_string_equal(row.date, "2024-02-29");
    close_fx(&fx);
}

static void test_roster_header_only(void **state)
{
    struct fixture fx;
    (void)state;
    open_text(&fx, HEADER);
    expect_end(&fx);
    assert_int_equal(roster_rows(fx.r), 0);
    close_fx(&fx);
}

/* ---------------------------------------------------------------- bad rows */

static void test_roster_bad_member(void **state)
{
    struct fixture fx;
    (void)state;
    open_text(&fx, "name,member,community\n"
                   "甲,,community:c1\n"
                   "乙,DY 01,community:c1\n"
                   "丙,DY_01,community:c1\n"
                   "丁,"
                   "M12345678901234567890123456789012345678901234567890123456789012345,community:"
                   "c1\n");
    expect_bad(&fx, 2, "member", "member id is missing");
    expect_bad(&fx, 3, "member", "member id \"DY 01\" is invalid");
    expect_bad(&fx, 4, "member", "is invalid");
    expect_bad(&fx, 5, "member", "is invalid");
    expect_end(&fx);
    close_fx(&fx);
}

static void test_roster_bad_name(void **state)
{
    char text[1024];
    char longname[IDS_NAME_MAX + 2];
    struct fixture fx;
    (void)state;
    memset(longname, 'x', IDS_NAME_MAX + 1);
    longname[IDS_NAME_MAX + 1] = '\0';
    snprintf(text, sizeof(text),
             "member,姓名,community\n"
             "M1,,community:c1\n"
             "M2,%s,community:c1\n"
             "M3,\"a\x01b\",community:c1\n",
             longname);
    open_text(&fx, text);
    expect_bad(&fx, 2, "姓名", "name is missing");
    expect_bad(&fx, 3, "姓名", "at most 128 bytes");
    expect_bad(&fx, 4, "姓名", "control characters");
    expect_end(&fx);
    close_fx(&fx);
}

static void test_roster_bad_community(void **state)
{
    struct fixture fx;
    (void)state;
    open_text(&fx, "member,name,社区\n"
                   "M1,甲,\n"
                   "M2,乙,hexie\n"
                   "M3,丙,unit:tax\n"
                   "M4,丁,community:Hexie\n");
    expect_bad(&fx, 2, "社区", "community is missing");
    expect_bad(&fx, 3, "社区", "community \"hexie\" must be written community:<code>");
    expect_bad(&fx, 4, "社区", "must be written");
    expect_bad(&fx, 5, "社区", "must be written");
    expect_end(&fx);
    close_fx(&fx);
}

static void test_roster_bad_contact(void **state)
{
    char text[1024], contact[ROSTER_CONTACT_MAX + 2];
    struct fixture fx;
    (void)state;
    memset(contact, '1', ROSTER_CONTACT_MAX + 1);
    contact[ROSTER_CONTACT_MAX + 1] = '\0';
    snprintf(text, sizeof(text), "member,name,community,联系方式\nM1,甲,community:c1,%s\n",
             contact);
    open_text(&fx, text);
    expect_bad(&fx, 2, "联系方式", "contact must be text of at most 256 bytes");
    expect_end(&fx);
    close_fx(&fx);
}

static void test_roster_bad_report_days(void **state)
{
    struct fixture fx;
    struct roster_row row;
    (void)state;
    open_text(&fx, "member,name,community,报到期限\n"
                   "M1,甲,community:c1,0\n"
                   "M2,乙,community:c1,366\n"
                   "M3,丙,community:c1,30天\n"
                   "M4,丁,community:c1,-5\n"
                   "M5,戊,community:c1,0030\n"
                   "M6,己,community:c1,365\n");
    for (long i = 2; i <= 6; i++)
        expect_bad(&fx, i, "报到期限", "1..365");
    expect_row(&fx, &row);
    assert_int_equal(row.report_days, 365);
    close_fx(&fx);
}

static void test_roster_bad_date(void **state)
{
    struct fixture fx;
    (void)state;
    open_text(&fx, "member,name,community,date\n"
                   "M1,甲,community:c1,2026-02-30\n"
                   "M2,乙,community:c1,3/1/2026\n"
                   "M3,丙,community:c1,2026-03-01x\n"
                   "M4,丁,community:c1,2026-3/1\n"
                   "M5,戊,community:c1,1899-12-31\n");
    for (long i = 2; i <= 6; i++)
        expect_bad(&fx, i, "date", "YYYY-MM-DD");
    expect_end(&fx);
    close_fx(&fx);
}

static void test_roster_bad_field_count(void **state)
{
    struct fixture fx;
    (void)state;
    open_text(&fx, "member,name,community\n"
                   "M1,甲\n"
                   "M2,乙,community:c1,extra\n"
                   "M3,\"open,community:c1\n"
                   "M4,丁,community:c1\n");
    expect_bad(&fx, 2, "", "the row has 2 fields, the header has 3");
    expect_bad(&fx, 3, "", "the row has 4 fields");
    /* the open quote swallows the next line: one row, with a hint */
    expect_bad(&fx, 4, "", "an unmatched quote?");
    expect_end(&fx);
    close_fx(&fx);
}

static void test_roster_bad_utf8_and_nul(void **state)
{
    static const char text[] = "member,name,community,contact\n"
                               "M1,\xD5\xC5\xC8\xFD,community:c1,\n" /* 张三 in GBK */
                               "M2,乙,community:c1,a\0b\n"
                               "M3,丙,community:c1,\xED\xA0\x80\n" /* a surrogate */
                               "M4,丁,community:c1,ok\n";
    struct fixture fx;
    struct roster_row row;
    (void)state;
    open_ok(&fx, text, sizeof(text) - 1);
    expect_bad(&fx, 2, "name", "not UTF-8");
    expect_bad(&fx, 3, "contact", "not UTF-8");
    expect_bad(&fx, 4, "contact", "not UTF-8");
    expect_row(&fx, &row);
    assert_string_equal(row.member, "M4");
    expect_end(&fx);
    close_fx(&fx);
}

static void test_roster_first_bad_cell_from_the_left(void **state)
{
    struct fixture fx;
    (void)state;
    open_text(&fx, "date,member,name,community\n2026-13-01,,,unit:x\n");
    expect_bad(&fx, 2, "date", "YYYY-MM-DD");
    close_fx(&fx);
}

static void test_roster_duplicate_member(void **state)
{
    struct fixture fx;
    struct roster_row row;
    (void)state;
    open_text(&fx, "党员编号,name,community\n"
                   "M1,甲,community:c1\n"
                   "M2,,community:c1\n"   /* bad: not counted as seen */
                   "M1,甲,community:c2\n" /* the same member again: bad */
                   "M2,乙,community:c1\n" /* the first good M2 */
                   "M1,甲,community:c1\n");
    expect_row(&fx, &row);
    expect_bad(&fx, 3, "name", "name is missing");
    expect_bad(&fx, 4, "党员编号", "member M1 already appears on row 2");
    expect_row(&fx, &row);
    assert_string_equal(row.member, "M2");
    assert_int_equal(row.row, 5);
    expect_bad(&fx, 6, "党员编号", "already appears on row 2");
    expect_end(&fx);
    assert_int_equal(roster_rows(fx.r), 5);
    close_fx(&fx);
}

/* ---------------------------------------------------------------- refused files */

static void test_roster_refuses_empty_file(void **state)
{
    (void)state;
    expect_refused("", 0, 0, "the file is empty");
    expect_refused_text("\n\r\n   \n", 0, "the file is empty");
    expect_refused_text(",,,\n", 0, "the file is empty");
}

static void test_roster_refuses_missing_required_column(void **state)
{
    (void)state;
    expect_refused_text("member,name\nM1,甲\n", 1, "lacks required columns: community");
    expect_refused_text("contact\n", 1, "member/党员编号, name/姓名, community/居住社区");
    expect_refused_text("\nname,community\n", 2, "lacks required columns: member");
}

static void test_roster_refuses_unknown_and_repeated_columns(void **state)
{
    (void)state;
    expect_refused_text("member,name,community,report_day\n", 1,
                        "header column 4 \"report_day\" is not a known column");
    expect_refused_text("member,name,community,姓名\n", 1, "header column 4 \"姓名\" repeats");
    expect_refused_text("member;name;community\nM1;甲;community:c1\n", 1, "comma-separated");
    expect_refused_text("member\tname\tcommunity\n", 1, "comma-separated");
}

static void test_roster_refuses_header_not_utf8(void **state)
{
    (void)state;
    /* 党员编号,姓名,社区 in GBK, as a Chinese Excel's plain "CSV" saves it */
    expect_refused_text("\xB5\xB3\xD4\xB1\xB1\xE0\xBA\xC5,\xD0\xD5\xC3\xFB,\xC9\xE7\xC7\xF8\n", 1,
                        "save the file as \"CSV UTF-8");
    /* UTF-16 (Excel's "Unicode text"): NUL bytes */
    expect_refused("m\0e\0m\0\n\0", 9, 1, "not UTF-8");
}

static void test_roster_refuses_too_many_columns(void **state)
{
    char text[512] = "member,name,community";
    (void)state;
    for (int i = 3; i < ROSTER_COLUMNS_MAX + 1; i++)
        strcat(text, ",");
    strcat(text, "\n");
    expect_refused_text(text, 1, "more than 64 columns");
}

static void test_roster_oversize_field_is_fatal(void **state)
{
    size_t n = ROSTER_FIELD_MAX + 100;
    char *text = malloc(128 + n);
    struct fixture fx;
    struct roster_row row;
    struct roster_error e;
    (void)state;
    int len = sprintf(text, "member,name,community\nM1,甲,community:c1\nM2,\"");
    memset(text + len, 'x', n);
    strcpy(text + len + n, "\",community:c1\nM3,丙,community:c1\n");
    open_text(&fx, text);
    expect_row(&fx, &row);
    assert_int_equal(roster_next(fx.r, &row, &e), ROSTER_FATAL);
    assert_int_equal(e.row, 3);
    assert_string_equal(e.column, "name");
    assert_non_null(strstr(e.reason_en, "longer than 4096 bytes"));
    /* sticky: the reader does not resume in the middle of a field */
    memset(&e, 0, sizeof(e));
    assert_int_equal(roster_next(fx.r, &row, &e), ROSTER_FATAL);
    assert_int_equal(e.row, 3);
    close_fx(&fx);
    free(text);
}

static void test_roster_oversize_header_is_refused(void **state)
{
    size_t n = ROSTER_FIELD_MAX + 1;
    char *text = malloc(n + 32);
    (void)state;
    memset(text, 'm', n);
    strcpy(text + n, ",name\n");
    expect_refused_text(text, 1, "longer than 4096 bytes");
    free(text);
}

static void test_roster_many_fields_are_counted_not_stored(void **state)
{
    size_t n = 100000;
    char *text = malloc(128 + n);
    struct fixture fx;
    (void)state;
    int len = sprintf(text, "member,name,community\nM1,甲,community:c1");
    memset(text + len, ',', n);
    strcpy(text + len + n, "\n");
    open_text(&fx, text);
    expect_bad(&fx, 2, "", "the row has 100003 fields, the header has 3");
    expect_end(&fx);
    close_fx(&fx);
    free(text);
}

/* ---------------------------------------------------------------- random mutations */

/* Whatever the bytes, the reader keeps its promises: good rows are valid, row numbers
 * grow, reasons are UTF-8, and the end (or a fatal error) comes. */
static void check_any_input(const char *data, size_t len)
{
    struct roster *r = NULL;
    struct roster_row row;
    struct roster_error e;
    FILE *f = file_of(data, len);
    long last = 0;
    int res;
    if (roster_open(f, &r, &e) != DS_OK) {
        assert_true(e.reason_en[0] != '\0');
        fclose(f);
        return;
    }
    while ((res = roster_next(r, &row, &e)) != ROSTER_END && res != ROSTER_FATAL) {
        long n = res == ROSTER_ROW ? row.row : e.row;
        assert_true(n > last);
        last = n;
        if (res == ROSTER_ROW) {
            assert_true(ids_member_valid(row.member));
            assert_true(ids_text_valid(row.name, IDS_NAME_MAX, false));
            assert_int_equal(ids_org_kind(row.community), ORG_COMMUNITY);
            assert_true(row.report_days <= 365);
            assert_true(!row.date[0] || ids_date_valid(row.date));
        } else {
            assert_true(ids_utf8_valid(e.reason_zh, strlen(e.reason_zh)));
            assert_true(ids_utf8_valid(e.column, strlen(e.column)));
        }
    }
    roster_destroy(&r);
    fclose(f);
}

static void test_roster_random_mutations_keep_promises(void **state)
{
    static const char seed[] = "\xEF\xBB\xBF党员编号,name,\"community\",contact,报到期限,date\r\n"
                               "M1,\"张,三\",community:c1,\"a\nb\",30,2026/3/1\r\n"
                               "M2,李四,community:c2,,,\r\n\r\n"
                               "M1,王五,community:c1,,7,2026-02-28\n";
    static const char alphabet[] = ",\"\r\n \t\0\xEF\xBB\xBF\xE3\x80\x80\xC2\xA0\xFF-:/0123aM";
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    char buf[512];
    (void)state;
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = sizeof(seed) - 1;
        memcpy(buf, seed, len);
        int edits = 1 + (int)tu_rand_below(&rng, 8);
        for (int k = 0; k < edits; k++) {
            size_t at = tu_rand_below(&rng, len + 1);
            char c = alphabet[tu_rand_below(&rng, sizeof(alphabet) - 1)];
            switch (tu_rand_below(&rng, 3)) {
            case 0: /* replace */
                if (at < len)
                    buf[at] = c;
                break;
            case 1: /* insert */
                if (len < sizeof(buf) - 1) {
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = c;
                    len++;
                }
                break;
            default: /* delete */
                if (at < len) {
                    memmove(buf + at, buf + at + 1, len - at - 1);
                    len--;
                }
            }
        }
        check_any_input(buf, len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roster_reads_every_column),
        cmocka_unit_test(test_roster_chinese_header_reordered_with_bom),
        cmocka_unit_test(test_roster_header_alternatives_and_case),
        cmocka_unit_test(test_roster_unnamed_column_ignored),
        cmocka_unit_test(test_roster_quoted_fields),
        cmocka_unit_test(test_roster_rows_numbered_as_a_spreadsheet),
        cmocka_unit_test(test_roster_header_after_blank_lines),
        cmocka_unit_test(test_roster_values_trimmed),
        cmocka_unit_test(test_roster_spreadsheet_dates_normalised),
        cmocka_unit_test(test_roster_header_only),
        cmocka_unit_test(test_roster_bad_member),
        cmocka_unit_test(test_roster_bad_name),
        cmocka_unit_test(test_roster_bad_community),
        cmocka_unit_test(test_roster_bad_contact),
        cmocka_unit_test(test_roster_bad_report_days),
        cmocka_unit_test(test_roster_bad_date),
        cmocka_unit_test(test_roster_bad_field_count),
        cmocka_unit_test(test_roster_bad_utf8_and_nul),
        cmocka_unit_test(test_roster_first_bad_cell_from_the_left),
        cmocka_unit_test(test_roster_duplicate_member),
        cmocka_unit_test(test_roster_refuses_empty_file),
        cmocka_unit_test(test_roster_refuses_missing_required_column),
        cmocka_unit_test(test_roster_refuses_unknown_and_repeated_columns),
        cmocka_unit_test(test_roster_refuses_header_not_utf8),
        cmocka_unit_test(test_roster_refuses_too_many_columns),
        cmocka_unit_test(test_roster_oversize_field_is_fatal),
        cmocka_unit_test(test_roster_oversize_header_is_refused),
        cmocka_unit_test(test_roster_many_fields_are_counted_not_stored),
        cmocka_unit_test(test_roster_random_mutations_keep_promises),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
