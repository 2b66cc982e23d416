/* sheet: tables for people to open in a spreadsheet, from the JSON rows the daemons send.
 *   CSV (RFC 4180, CRLF): the JSON keys as headers, for scripts; or, for Excel in a Chinese
 *     locale, a UTF-8 byte order mark, the Chinese headers and 是/否 (--csv --excel): without
 *     the mark Excel reads UTF-8 as GBK and shows garbage.
 *   XLSX (--xlsx FILE): one worksheet per table, Chinese headers in bold, numbers as
 *     numbers, columns as wide as their text. The only user of libxlsxwriter.
 * A column names a JSON key of the row; a value is written as the daemon sent it (strings,
 * integers, one-decimal reals, booleans, arrays joined by ","), never reinterpreted, with
 * one exception: a string a spreadsheet would run as a formula (= + - @ tab CR first) gets
 * a leading ' in CSV, and is written as a string cell in XLSX, so it stays text. */
#ifndef DUALSYNC_SHEET_H
#define DUALSYNC_SHEET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct sheet_column {
    const char *key; /* in each row object; NULL ends a column list */
    const char *zh;
    const char *en;
};

struct sheet_table {
    const char *title; /* the worksheet's name (at most 31 characters; no []:*?/\) */
    const struct sheet_column *cols;
    json_t *rows; /* an array of objects (borrowed) */
};

/* A JSON value as text into buf (size >= 64): "" for null or missing; excel: booleans as
 * 是/否, else yes/no. Returns buf or the string itself. */
const char *sheet_value_text(json_t *v, bool excel, char *buf, size_t size);

/* Writes rows as CSV to out: header and rows, CRLF. */
void sheet_csv(FILE *out, const struct sheet_column *cols, json_t *rows, bool excel);

/* Writes the tables as one workbook at path. 0, or -1 with a reason in err (English;
 * libxlsxwriter's words). */
int sheet_xlsx(const char *path, const struct sheet_table *tables, size_t n, char *err,
               size_t err_size);

/* sheet_xlsx for a CLI: says "已写入 written: PATH" on stdout, or the reason on stderr in
 * Chinese and English. 0, or 1 (the exit code of a file that could not be written). */
int sheet_xlsx_cli(const char *path, const struct sheet_table *tables, size_t n);

#endif
