#ifndef DUALSYNC_BROKER_REPORT_H
#define DUALSYNC_BROKER_REPORT_H

#include "sheet.h"
#include "wire.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct broker;

/* report.c: the street's supervision report (counts per unit and per community, never a
 * member id or name) and its joint meeting records. The *_reply functions answer control
 * commands ("report", "meeting add", "meetings"); the *_print functions are the CLI's text
 * (and CSV) for their JSON. */
void report_street_reply(struct broker *b, const Dualsync__CtlCommand *cmd, uint8_t **out,
                         size_t *len);
void report_meeting_add_reply(struct broker *b, const Dualsync__CtlCommand *cmd, uint8_t **out,
                              size_t *len);
void report_meetings_reply(struct broker *b, uint8_t **out, size_t *len);
/* How the CLI prints the street report: text, CSV (csv; for Excel with excel: a BOM and
 * Chinese headers) or an .xlsx workbook (xlsx: a sheet each for units, communities and
 * totals). report_street_print returns 0, or 1 when the workbook cannot be written. */
struct report_format {
    bool csv, excel;
    const char *xlsx;
};
int report_street_print(json_t *j, const struct report_format *f);
/* The report's rows flat (overdue as overdue_<kind>; side unit/community/total), of one
 * side or (NULL) all, and their columns: what CSV and workbooks are made of. */
extern const struct sheet_column report_street_columns[];
json_t *report_street_rows(json_t *report, const char *side);
void report_meetings_print(json_t *j);

#endif
