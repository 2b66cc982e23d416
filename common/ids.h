/* ids: syntax of every identifier and text field that crosses a trust boundary.
 * Org ids are "unit:<code>", "community:<code>" or "street:<code>", code [a-z0-9-]{1,48}.
 * Member ids are [A-Za-z0-9-]{1,64} (a party membership number, never a national ID).
 * Event ids are "<org id>/<seq>". Dates are YYYY-MM-DD, real calendar days.
 * Pure functions; no allocation except where stated. */
#ifndef DUALSYNC_IDS_H
#define DUALSYNC_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum org_kind { ORG_NONE = 0, ORG_UNIT = 1, ORG_COMMUNITY = 2, ORG_STREET = 3 };

#define IDS_ORG_MAX 64 /* "community:" + 48 + NUL, rounded */
#define IDS_MEMBER_MAX 64
#define IDS_NAME_MAX 128  /* bytes of UTF-8 in a display or member name */
#define IDS_TEXT_MAX 4096 /* bytes of UTF-8 in a free-text field */
#define IDS_EVENT_ID_MAX 96

/* Kind of a syntactically valid org id, ORG_NONE if the id is malformed. */
enum org_kind ids_org_kind(const char *org);
bool ids_org_valid(const char *org);
/* "unit", "community", "street" (or "none"). */
const char *ids_kind_name(enum org_kind kind);
/* Parses "unit" / "community" / "street". ORG_NONE otherwise. */
enum org_kind ids_kind_parse(const char *name);

bool ids_member_valid(const char *member);

/* A code: [a-z0-9-]{1,48}, as after "unit:"; also names groups, teams and kinds. */
bool ids_code_valid(const char *code);

/* Well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF) of exactly len bytes. */
bool ids_utf8_valid(const char *s, size_t len);

/* A NUL-terminated UTF-8 text of 1..max bytes without control characters other than
 * newline and tab: no C0, DEL, C1, nor bidirectional controls (U+061C, U+200E/F,
 * U+202A–E, U+2066–9). Empty text is valid only when allow_empty. */
bool ids_text_valid(const char *s, size_t max, bool allow_empty);

/* YYYY-MM-DD with a real month and day (leap years included), years 1900..9999. */
bool ids_date_valid(const char *date);

/* A date as people write it: YYYY-MM-DD, YYYY-M-D or YYYY/M/D (as spreadsheets do), to
 * YYYY-MM-DD in out. False (out unspecified) when it is not a real date so written. The
 * one parser of the CLI, the consoles and the CSV import. */
bool ids_date_normalize(const char *text, char out[11]);

/* Levenshtein distance of two short words (bytes; ASCII case ignored), for "did you
 * mean" hints; 64 or more for words longer than 63 bytes. */
size_t ids_edit_distance(const char *a, const char *b);

/* Formats "<origin>/<seq>" into buf (size >= IDS_EVENT_ID_MAX). */
void ids_event_id(char *buf, size_t size, const char *origin, uint64_t seq);

/* Parses an event id. On true, origin_out (size >= IDS_ORG_MAX) and *seq_out are set. */
bool ids_event_id_parse(const char *id, char *origin_out, uint64_t *seq_out);

#endif
