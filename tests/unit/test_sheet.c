/* Unit tests of sheet: the CSV for scripts and for Excel, the formula guard, and a
 * workbook written to a temp directory and read back as the zip it is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "sheet.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct sheet_column cols[] = {{"name", "姓名", "name"},
                                           {"reported", "已报到", "reported"},
                                           {"n", "次数", "count"},
                                           {NULL, NULL, NULL}};

static json_t *rows(void)
{
    return json_pack("[{s:s,s:b,s:i},{s:s,s:b,s:i}]", "name", "张三", "reported", 1, "n", 3, "name",
                     "=HYPERLINK(\"http://x\",\"y\")", "reported", 0, "n", -1);
}

static char *csv_of(json_t *r, bool excel)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    sheet_csv(f, cols, r, excel);
    fclose(f);
    return text;
}

static void test_sheet_csv_for_scripts_and_excel(void **state)
{
    (void)state;
    json_t *r = rows();
    char *plain = csv_of(r, false), *excel = csv_of(r, true);
    assert_string_equal(plain, "name,reported,n\r\n张三,yes,3\r\n"
                               "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",no,-1\r\n");
    assert_memory_equal(excel, "\xef\xbb\xbf", 3);
    assert_non_null(strstr(excel, "姓名,已报到,次数\r\n张三,是,3\r\n"));
    assert_non_null(strstr(excel, "'=HYPERLINK")); /* a formula stays text; a number does not */
    assert_non_null(strstr(excel, ",否,-1\r\n"));
    free(plain);
    free(excel);
    json_decref(r);
}

static void test_sheet_xlsx_is_a_workbook(void **state)
{
    char dir[64], path[128], cmd[512], err[256];
    (void)state;
    tu_tmpdir(dir);
    snprintf(path, sizeof(path), "%s/r.xlsx", dir);
    json_t *r = rows();
    struct sheet_table t[] = {{"党员 members", cols, r}, {"汇总", cols, r}};
    assert_int_equal(sheet_xlsx(path, t, 2, err, sizeof(err)), 0);
    /* the sheets and the shared strings are in the zip, the formula as a string */
    snprintf(cmd, sizeof(cmd),
             "python3 -c 'import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); "
             "t=\"\".join(z.read(n).decode() for n in z.namelist()); "
             "sys.exit(0 if all(w in t for w in sys.argv[2:]) and \"<f>\" not in t else 1)' "
             "%s '党员 members' 汇总 张三 HYPERLINK 已报到",
             path);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof(path), "%s/missing/r.xlsx", dir);
    assert_int_equal(sheet_xlsx(path, t, 1, err, sizeof(err)), -1);
    assert_true(err[0] != '\0');
    json_decref(r);
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sheet_csv_for_scripts_and_excel),
        cmocka_unit_test(test_sheet_xlsx_is_a_workbook),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
