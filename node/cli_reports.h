/* cli_reports: how the operator CLI prints the results of the read commands of
 * node/reports.c ("tasks", "annual report", "list"): bilingual text (zh-CN first, English
 * second), CSV (RFC 4180) with a header row of stable English column names or, for Excel,
 * the Chinese headers after a UTF-8 BOM, or an .xlsx workbook (common/sheet.c). */
#ifndef DUALSYNC_NODE_CLI_REPORTS_H
#define DUALSYNC_NODE_CLI_REPORTS_H

#include <jansson.h>
#include <stdbool.h>

/* How a table is wanted: text (all false/NULL), CSV for scripts (csv), CSV for Excel
 * (csv and excel: a UTF-8 BOM and Chinese headers), or an .xlsx workbook at xlsx. */
struct cli_report_format {
    bool csv, excel;
    const char *xlsx;
};

/* Prints result (the daemon's JSON for cmd, borrowed). cmd is the daemon's command name:
 * "tasks", "annual report", "list". As a table: the task list, the report's member rows
 * (and, in a workbook, its figures as a second sheet) or the list's items. Returns 0, 1
 * when the workbook cannot be written (said on stderr), or -1, printing nothing, when cmd
 * is none of these. */
int cli_reports_print(const char *cmd, json_t *result, const struct cli_report_format *f);

#endif
