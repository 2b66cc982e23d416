/* roster: reads a unit's member roster (党员名册), a CSV file with a header row, one row
 * per member to introduce to a community (住社区党员身份介绍函).
 *
 * The header names the columns, in any order, in English or Chinese (ASCII case and
 * surrounding whitespace ignored, a UTF-8 byte-order mark tolerated):
 *   member | id | 党员编号 | 编号          required  ids_member_valid
 *   name | 姓名                          required  text, 1..IDS_NAME_MAX bytes
 *   community | 居住社区 | 社区           required  "community:<code>"
 *   contact | 联系方式                    optional  text, 0..ROSTER_CONTACT_MAX bytes
 *   report_days | report-days | 报到期限   optional  1..365, empty = the node's default
 *   date | 日期                           optional  YYYY-MM-DD (also YYYY/M/D), empty = today
 * A header cell that is empty is an unnamed column: its values are ignored. Any other
 * unknown name refuses the file, so that a misspelt optional column is never silently
 * dropped. Rows are numbered as a spreadsheet shows them: the header is row 1 (when the
 * file starts with it), blank lines count, a quoted field spanning lines is one row.
 * A row whose fields are all empty is skipped without a word.
 *
 * Only this module includes libcsv's <csv.h>. Memory is bounded whatever the input: a
 * field longer than ROSTER_FIELD_MAX bytes or a header wider than ROSTER_COLUMNS_MAX
 * columns ends the reading (ROSTER_FATAL); fields past the header's width are counted,
 * not stored. One reader per thread; no globals. */
#ifndef DUALSYNC_ROSTER_H
#define DUALSYNC_ROSTER_H

#include "ids.h"

#include <stdint.h>
#include <stdio.h>

#define ROSTER_FIELD_MAX 4096  /* bytes of one field, as stored in the file */
#define ROSTER_COLUMNS_MAX 64  /* columns of the header */
#define ROSTER_CONTACT_MAX 256 /* bytes of UTF-8 in a contact field */
#define ROSTER_COLUMN_MAX 64   /* bytes of a column name in an error (UTF-8, NUL included) */
#define ROSTER_REASON_MAX 512  /* bytes of one reason (UTF-8, NUL included) */

/* One good row, every field validated. Optional fields not given are empty / 0. */
struct roster_row {
    long row; /* spreadsheet row number (header = 1) */
    char member[IDS_MEMBER_MAX + 1];
    char name[IDS_NAME_MAX + 1];
    char community[IDS_ORG_MAX];
    char contact[ROSTER_CONTACT_MAX + 1]; /* "" = not given */
    uint32_t report_days;                 /* 0 = not given: the node's default applies */
    char date[11];                        /* "" = not given: today applies */
};

/* Why a row (or the whole file) is refused. */
struct roster_error {
    long row;                       /* spreadsheet row number; 0 = not about one row */
    char column[ROSTER_COLUMN_MAX]; /* the column's name as the header writes it; "" = the row */
    char reason_zh[ROSTER_REASON_MAX];
    char reason_en[ROSTER_REASON_MAX];
};

/* What roster_next found. */
enum roster_next_result {
    ROSTER_ROW = 0,     /* *row_out is a good row */
    ROSTER_BAD_ROW = 1, /* *err_out says which row and why; reading goes on */
    ROSTER_END = 2,     /* no more rows */
    ROSTER_FATAL = -1,  /* *err_out says why; every later call returns ROSTER_FATAL again */
};

struct roster;

/* Starts reading f (borrowed: it must stay open until roster_destroy; the reader never
 * closes it) and reads its header. DS_OK with *roster_out owned by the caller (release
 * with roster_destroy); DS_EINVAL when the file is empty or its header is not usable
 * (missing, unknown or repeated column, not UTF-8, too wide, field too long) and DS_EIO on
 * a read error, both with *err_out filled in. */
int roster_open(FILE *f, struct roster **roster_out, struct roster_error *err_out);

/* Reads the next data row. ROSTER_ROW fills *row_out; ROSTER_BAD_ROW and ROSTER_FATAL fill
 * *err_out; ROSTER_END fills nothing. A member id already seen on an earlier good row makes
 * a bad row. Never allocates more than a bounded amount per call. */
enum roster_next_result roster_next(struct roster *r, struct roster_row *row_out,
                                    struct roster_error *err_out);

/* Data rows read so far (good and bad; blank rows and the header not counted). */
long roster_rows(const struct roster *r);

/* Frees the reader (not its FILE). NULL-safe; sets *rp to NULL. */
void roster_destroy(struct roster **rp);

#endif
