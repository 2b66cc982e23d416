/* sheet: see sheet.h. */
#include "sheet.h"

#include "cliargs.h"
#include "lang.h"

#include <stdint.h>
#include <string.h>
#include <xlsxwriter.h>

#define WIDTH_MAX 60.0 /* columns wider than this wrap in a spreadsheet anyway */

const char *sheet_value_text(json_t *v, bool excel, char *buf, size_t size)
{
    buf[0] = '\0';
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v))
        snprintf(buf, size, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, size, "%.1f", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, size, "%s", json_is_true(v) ? (excel ? "是" : "yes") : (excel ? "否" : "no"));
    else if (json_is_array(v)) {
        size_t i, used = 0;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            char one[64];
            const char *t = sheet_value_text(e, excel, one, sizeof(one));
            int n = snprintf(buf + used, size - used, "%s%s", i ? "," : "", t);
            if (n < 0 || (size_t)n >= size - used)
                break;
            used += (size_t)n;
        }
    }
    return buf;
}

/* Text a spreadsheet would run as a formula: it starts with = + - @ or a tab or CR. A name
 * like "=HYPERLINK(...)" typed into a roster must stay a name in the street's Excel. */
static bool formula_like(const char *s)
{
    return strchr("=+-@\t\r", s[0]) && s[0] != '\0';
}

void sheet_csv(FILE *out, const struct sheet_column *cols, json_t *rows, bool excel)
{
    size_t i;
    json_t *row;
    if (excel)
        fputs("\xef\xbb\xbf", out);
    for (size_t c = 0; cols[c].key; c++) {
        if (c)
            fputc(',', out);
        cli_csv_field(out, excel ? cols[c].zh : cols[c].key);
    }
    fputs("\r\n", out);
    json_array_foreach(rows, i, row)
    {
        for (size_t c = 0; cols[c].key; c++) {
            char buf[4200];
            if (c)
                fputc(',', out);
            json_t *v = json_object_get(row, cols[c].key);
            const char *text = sheet_value_text(v, excel, buf, sizeof(buf));
            if (json_is_string(v) && formula_like(text)) {
                char guarded[4200];
                snprintf(guarded, sizeof(guarded), "'%s", text); /* shown as text */
                cli_csv_field(out, guarded);
            } else {
                cli_csv_field(out, text);
            }
        }
        fputs("\r\n", out);
    }
}

/* Spreadsheet width of UTF-8 text: 1 per ASCII character, 2 per CJK (three-byte) one. */
static double text_width(const char *s)
{
    double w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x80)
            w += 1;
        else if ((*p & 0xc0) != 0x80) /* a lead byte: one character */
            w += *p >= 0xe0 ? 2 : 1;
    return w;
}

static void write_table(lxw_workbook *wb, lxw_format *bold, const struct sheet_table *t)
{
    lxw_worksheet *ws = workbook_add_worksheet(wb, t->title);
    size_t i;
    json_t *row;
    for (size_t c = 0; ws && t->cols[c].key; c++) {
        double width = text_width(t->cols[c].zh) + 2;
        worksheet_write_string(ws, 0, (lxw_col_t)c, t->cols[c].zh, bold);
        json_array_foreach(t->rows, i, row)
        {
            json_t *v = json_object_get(row, t->cols[c].key);
            char buf[4200];
            lxw_row_t r = (lxw_row_t)(i + 1);
            if (json_is_number(v)) {
                worksheet_write_number(ws, r, (lxw_col_t)c, json_number_value(v), NULL);
                sheet_value_text(v, true, buf, sizeof(buf));
            } else {
                const char *text = sheet_value_text(v, true, buf, sizeof(buf));
                worksheet_write_string(ws, r, (lxw_col_t)c, text, NULL);
                if (text != buf)
                    snprintf(buf, sizeof(buf), "%s", text);
            }
            if (text_width(buf) + 2 > width)
                width = text_width(buf) + 2;
        }
        worksheet_set_column(ws, (lxw_col_t)c, (lxw_col_t)c, width < WIDTH_MAX ? width : WIDTH_MAX,
                             NULL);
    }
    if (ws)
        worksheet_freeze_panes(ws, 1, 0); /* the header stays while scrolling */
}

int sheet_xlsx_cli(const char *path, const struct sheet_table *tables, size_t n)
{
    char err[512];
    if (sheet_xlsx(path, tables, n, err, sizeof(err)) != 0) {
        /* err names the path too, in English: libxlsxwriter's words */
        fprintf(
            stderr,
            TR("错误: 无法写入 Excel 文件 %s(%s)\n", "error: cannot write the workbook %s: %s\n"),
            path, err);
        return 1;
    }
    printf(TR("已写入: %s\n", "written: %s\n"), path);
    return 0;
}

int sheet_xlsx(const char *path, const struct sheet_table *tables, size_t n, char *err,
               size_t err_size)
{
    lxw_workbook *wb = workbook_new(path);
    if (!wb) {
        snprintf(err, err_size, "cannot create %s", path);
        return -1;
    }
    lxw_format *bold = workbook_add_format(wb);
    format_set_bold(bold);
    for (size_t i = 0; i < n; i++)
        write_table(wb, bold, &tables[i]);
    lxw_error e = workbook_close(wb);
    if (e != LXW_NO_ERROR) {
        snprintf(err, err_size, "%s: %s", path, lxw_strerror(e));
        return -1;
    }
    return 0;
}
