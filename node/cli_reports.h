/* cli_reports: how the operator CLI prints the results of the read commands of
 * node/reports.c ("tasks", "annual report", "list"): bilingual text (zh-CN first, English
 * second), or CSV (RFC 4180: CRLF line ends, fields with a comma, quote, CR or LF quoted,
 * quotes doubled) with a header row of stable English column names. */
#ifndef DUALSYNC_NODE_CLI_REPORTS_H
#define DUALSYNC_NODE_CLI_REPORTS_H

#include <jansson.h>
#include <stdbool.h>

/* Prints result (the daemon's JSON for cmd, borrowed) to stdout. cmd is the daemon's
 * command name: "tasks", "annual report" (or "report"), "list". csv: the task list, the
 * report's member rows or the list's items as CSV instead of text. Returns false, printing
 * nothing, when cmd is none of these. */
bool cli_reports_print(const char *cmd, json_t *result, bool csv);

#endif
