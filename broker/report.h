#ifndef DUALSYNC_BROKER_REPORT_H
#define DUALSYNC_BROKER_REPORT_H

#include "sheet.h"
#include "wire.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct broker;

/* report.c: the street's supervision report (counts per unit and per community, never a
 * member id or name), the city's (a hub's sum of the streets' figures) and the street's
 * joint meeting records. The *_reply functions answer control
 * commands ("report", "meeting add", "meetings"); the *_print functions are the CLI's text
 * (and CSV) for their JSON. */
/* `report` (year, as-of; with city: the city's, on a hub) */
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

/* The city (issue 13): a street sends each hub it links with its own figures (counts
 * only: StreetFigures), and a hub's `report --city` sums what each street sent.
 * report_figures_frame packs this street's figures, counted now, as a Frame. DS_OK, DS_EIO. */
int report_figures_frame(struct broker *b, uint8_t **out, size_t *len);
/* A hub stores street's figures (the last ones win). DS_OK; DS_EINVAL with *why when they
 * are not that street's or do not add up (nothing stored); DS_EIO. */
int report_figures_take(struct broker *b, const char *street, const Dualsync__StreetFigures *f,
                        const char **why);
/* The text (or CSV, or a workbook) of `report --city`'s JSON. 0, or 1 when the workbook
 * cannot be written. */
int report_city_print(json_t *j, const struct report_format *f);
/* The city's rows flat, as report_street_columns reads them: a row per street (side
 * "street"), then the totals (the console's CSV). */
json_t *report_city_rows(json_t *j);

#endif
