/* roster: the member roster (CSV) reader behind `dualsync import members`.
 *
 * libcsv is a push parser: it calls back per field and per record for whatever bytes it is
 * given. The reader feeds it one byte at a time from the FILE (stdio does the buffering)
 * and stops as soon as a record is complete, so roster_next returns exactly one record per
 * call with no queue, and the length of the field being read can be checked after every
 * byte: libcsv alone would grow a field without limit. CSV_REPALL_NL makes libcsv report
 * blank lines too, which are counted so that row numbers are the spreadsheet's; the empty
 * record that the LF of a CRLF produces is recognised and not counted.
 *
 * Fields go into ROSTER_COLUMNS_MAX reusable buffers, trimmed of surrounding whitespace
 * (ASCII, no-break space and the ideographic space U+3000 that Chinese spreadsheets
 * leave behind); fields past the header's width are only counted. Every check is from
 * common/ids, so the file is held to the rules the daemon applies. The first bad cell from
 * the left decides a bad row's column and reason. */
#include "roster.h"

#include "err.h"
#include "strmap.h"
#include "xalloc.h"

#include <csv.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum column {
    COL_IGNORED = -1,
    COL_MEMBER,
    COL_NAME,
    COL_COMMUNITY,
    COL_CONTACT,
    COL_REPORT_DAYS,
    COL_DATE,
    COL_COUNT
};

static bool check_member(const char *v, size_t len, struct roster_row *row,
                         struct roster_error *err);
static bool check_name(const char *v, size_t len, struct roster_row *row, struct roster_error *err);
static bool check_community(const char *v, size_t len, struct roster_row *row,
                            struct roster_error *err);
static bool check_contact(const char *v, size_t len, struct roster_row *row,
                          struct roster_error *err);
static bool check_report_days(const char *v, size_t len, struct roster_row *row,
                              struct roster_error *err);
static bool check_date(const char *v, size_t len, struct roster_row *row, struct roster_error *err);

/* The columns: accepted header names (lower case for ASCII), and the check of a value. */
static const struct {
    const char *names[5];
    bool required;
    const char *label; /* in "missing column" messages */
    bool (*check)(const char *v, size_t len, struct roster_row *row, struct roster_error *err);
} columns[COL_COUNT] = {
    [COL_MEMBER] = {{"member", "id", "党员编号", "编号", NULL},
                    true,
                    "member/党员编号",
                    check_member},
    [COL_NAME] = {{"name", "姓名", NULL}, true, "name/姓名", check_name},
    [COL_COMMUNITY] = {{"community", "居住社区", "社区", NULL},
                       true,
                       "community/居住社区",
                       check_community},
    [COL_CONTACT] = {{"contact", "联系方式", NULL}, false, "contact/联系方式", check_contact},
    [COL_REPORT_DAYS] = {{"report_days", "report-days", "报到期限", NULL},
                         false,
                         "report_days/报到期限",
                         check_report_days},
    [COL_DATE] = {{"date", "日期", NULL}, false, "date/日期", check_date},
};

/* One field of the record being read, trimmed, NUL-terminated (it may hold other NULs). */
struct field {
    char *buf;
    size_t len, cap;
};

struct roster {
    FILE *f;
    struct csv_parser csv;
    unsigned char head[3]; /* the file's first bytes, read ahead to drop a BOM */
    size_t head_len, head_pos;
    bool eof;

    struct field fields[ROSTER_COLUMNS_MAX];
    size_t nfields;   /* fields of the record being read (stored or not) */
    bool any_text;    /* some field of the record is not blank */
    bool record_done; /* a record is complete: stop feeding libcsv */
    long next_row;    /* row number of the record being read */
    long record_row;  /* row number of the completed record */
    int last_term;    /* the byte that ended the last record */

    size_t width; /* columns of the header */
    enum column col_of[ROSTER_COLUMNS_MAX];
    size_t member_col; /* index of the member column */
    char names[ROSTER_COLUMNS_MAX][ROSTER_COLUMN_MAX];
    struct strmap *seen; /* member id -> row of its first good row, as a pointer */
    long rows;

    bool failed; /* sticky: every later call repeats 'fatal' */
    struct roster_error fatal;
};

/* ---------------------------------------------------------------- small helpers */

/* Bytes of the longest prefix of valid UTF-8 s[0..len) that fits in max bytes and does not
 * cut a character. */
static int utf8_prefix(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return (int)len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return (int)n;
}

/* Length of the whitespace at s[0..len) if it starts with one: ASCII space, tab, CR, LF,
 * U+00A0 or U+3000. */
static size_t space_at(const unsigned char *s, size_t len)
{
    if (len >= 1 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\r' || s[0] == '\n'))
        return 1;
    if (len >= 2 && s[0] == 0xC2 && s[1] == 0xA0)
        return 2;
    if (len >= 3 && s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80)
        return 3;
    return 0;
}

/* Length of the whitespace ending at s[len) (see space_at). */
static size_t space_before(const unsigned char *s, size_t len)
{
    if (len >= 1 &&
        (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' || s[len - 1] == '\n'))
        return 1;
    if (len >= 2 && s[len - 2] == 0xC2 && s[len - 1] == 0xA0)
        return 2;
    if (len >= 3 && s[len - 3] == 0xE3 && s[len - 2] == 0x80 && s[len - 1] == 0x80)
        return 3;
    return 0;
}

/* Narrows s[*start, *start + *len) to its text without surrounding whitespace. */
static void trim(const unsigned char *s, size_t *start, size_t *len)
{
    size_t n;
    while ((n = space_at(s + *start, *len)) > 0) {
        *start += n;
        *len -= n;
    }
    while ((n = space_before(s + *start, *len)) > 0)
        *len -= n;
}

/* Reads 1..max digits at *s into *out; advances *s. */
static bool digits(const char **s, int max, unsigned *out)
{
    int n = 0;
    *out = 0;
    while (n < max && **s >= '0' && **s <= '9') {
        *out = *out * 10 + (unsigned)(**s - '0');
        (*s)++;
        n++;
    }
    return n > 0;
}

static void set_where(struct roster_error *e, long row, const char *column)
{
    e->row = row;
    snprintf(e->column, sizeof(e->column), "%s", column);
    e->reason_zh[0] = e->reason_en[0] = '\0';
}

static void set_reason(struct roster_error *e, const char *zh, const char *en)
{
    snprintf(e->reason_zh, sizeof(e->reason_zh), "%s", zh);
    snprintf(e->reason_en, sizeof(e->reason_en), "%s", en);
}

/* Makes the reader fail for good with the error e already filled in. */
static int fail_with(struct roster *r, const struct roster_error *e)
{
    r->failed = true;
    r->fatal = *e;
    return -1;
}

static int fail(struct roster *r, long row, const char *column, const char *zh, const char *en)
{
    struct roster_error e;
    set_where(&e, row, column);
    set_reason(&e, zh, en);
    return fail_with(r, &e);
}

static const char *column_name(const struct roster *r, size_t i)
{
    return i < r->width ? r->names[i] : "";
}

/* ---------------------------------------------------------------- libcsv callbacks */

/* Copies len bytes to dst, each CRLF as LF: a cell with line breaks saved on Windows
 * holds the same text as one saved elsewhere. Returns the bytes written. */
static size_t copy_lines(char *dst, const unsigned char *src, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (!(src[i] == '\r' && i + 1 < len && src[i + 1] == '\n'))
            dst[n++] = (char)src[i];
    return n;
}

static void on_field(void *s, size_t len, void *data)
{
    struct roster *r = data;
    const unsigned char *bytes = s ? s : (const void *)""; /* NULL only with len 0 */
    size_t start = 0;
    trim(bytes, &start, &len);
    if (len > 0)
        r->any_text = true;
    if (r->nfields < ROSTER_COLUMNS_MAX) {
        struct field *f = &r->fields[r->nfields];
        if (f->cap < len + 1) {
            f->cap = len + 1;
            f->buf = xrealloc(f->buf, f->cap);
        }
        f->len = copy_lines(f->buf, bytes + start, len);
        f->buf[f->len] = '\0';
    }
    r->nfields++;
}

static void on_record(int term, void *data)
{
    struct roster *r = data;
    /* The LF of a CRLF ends an empty record of its own: not a row of the spreadsheet. */
    bool crlf_tail = r->nfields == 0 && term == '\n' && r->last_term == '\r';
    r->last_term = term;
    if (crlf_tail)
        return;
    r->record_row = r->next_row++;
    r->record_done = true;
}

/* ---------------------------------------------------------------- reading records */

static int next_byte(struct roster *r)
{
    if (r->head_pos < r->head_len)
        return r->head[r->head_pos++];
    return getc(r->f);
}

/* Feeds libcsv until one record is complete. 1: a record is in fields[0..nfields), its row
 * in record_row; 0: end of file; -1: failed (r->fatal). */
static int read_record(struct roster *r)
{
    r->record_done = false;
    r->nfields = 0;
    r->any_text = false;
    while (!r->record_done) {
        if (r->eof)
            return 0;
        int c = next_byte(r);
        if (c == EOF) {
            if (ferror(r->f))
                return fail(r, 0, "", "读取文件出错", "cannot read the file");
            r->eof = true;
            csv_fini(&r->csv, on_field, on_record, r);
            continue;
        }
        unsigned char b = (unsigned char)c;
        if (csv_parse(&r->csv, &b, 1, on_field, on_record, r) != 1)
            return fail(r, r->next_row, "", "无法解析 CSV", csv_strerror(csv_error(&r->csv)));
        /* entry_pos is public in csv.h: the length of the field being read. */
        if (r->csv.entry_pos > ROSTER_FIELD_MAX)
            return fail(r, r->next_row, column_name(r, r->nfields),
                        "字段超过 4096 字节(是否有未配对的引号?)",
                        "a field is longer than 4096 bytes (an unmatched quote?)");
    }
    return 1;
}

/* ---------------------------------------------------------------- the header */

static bool field_is_text(const struct field *f)
{
    return !memchr(f->buf, '\0', f->len) && ids_utf8_valid(f->buf, f->len);
}

static enum column column_of(const char *name, size_t len)
{
    char lower[32];
    if (len >= sizeof(lower))
        return COL_COUNT;
    for (size_t i = 0; i <= len; i++)
        lower[i] = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] - 'A' + 'a') : name[i];
    for (int c = 0; c < COL_COUNT; c++)
        for (const char *const *n = columns[c].names; *n; n++)
            if (strcmp(lower, *n) == 0)
                return (enum column)c;
    return COL_COUNT;
}

static int unknown_column(struct roster *r, long row, size_t i, const struct field *f)
{
    struct roster_error e;
    int n = utf8_prefix(f->buf, f->len, 48);
    set_where(&e, row, r->names[i]);
    if (strpbrk(f->buf, ";\t")) {
        set_reason(&e, "表头看起来不是用逗号分隔的:名册须为逗号分隔的 CSV",
                   "the header does not look comma-separated: the roster must be CSV with commas");
        return fail_with(r, &e);
    }
    snprintf(e.reason_zh, sizeof(e.reason_zh),
             "表头第 %zu 列「%.*s」不是可识别的列名;可用: member/党员编号, name/姓名, "
             "community/居住社区, contact/联系方式, report_days/报到期限, date/日期",
             i + 1, n, f->buf);
    snprintf(e.reason_en, sizeof(e.reason_en),
             "header column %zu \"%.*s\" is not a known column; known: member, name, community, "
             "contact, report_days, date (or their Chinese names)",
             i + 1, n, f->buf);
    return fail_with(r, &e);
}

static int missing_columns(struct roster *r, long row, const bool *present)
{
    struct roster_error e;
    char list[256] = "";
    for (int c = 0; c < COL_COUNT; c++)
        if (columns[c].required && !present[c]) {
            size_t used = strlen(list);
            snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "", columns[c].label);
        }
    set_where(&e, row, "");
    snprintf(e.reason_zh, sizeof(e.reason_zh), "表头缺少必需的列: %s", list);
    snprintf(e.reason_en, sizeof(e.reason_en), "the header lacks required columns: %s", list);
    return fail_with(r, &e);
}

/* Maps header cell i to its column; -1 (failed) on a bad name. */
static int header_cell(struct roster *r, long row, size_t i, bool *present)
{
    const struct field *f = &r->fields[i];
    if (!field_is_text(f))
        return fail(r, row, "", "表头不是 UTF-8 文字:请把文件另存为“CSV UTF-8(逗号分隔)”",
                    "the header is not UTF-8 text: save the file as \"CSV UTF-8 (comma "
                    "delimited)\"");
    snprintf(r->names[i], sizeof(r->names[i]), "%.*s",
             utf8_prefix(f->buf, f->len, ROSTER_COLUMN_MAX - 1), f->buf);
    r->col_of[i] = COL_IGNORED;
    if (f->len == 0)
        return 0; /* an unnamed column: its values are ignored */
    enum column c = column_of(f->buf, f->len);
    if (c == COL_COUNT)
        return unknown_column(r, row, i, f);
    if (present[c]) {
        struct roster_error e;
        set_where(&e, row, r->names[i]);
        snprintf(e.reason_zh, sizeof(e.reason_zh), "表头第 %zu 列「%s」与前面的列重复", i + 1,
                 r->names[i]);
        snprintf(e.reason_en, sizeof(e.reason_en), "header column %zu \"%s\" repeats a column",
                 i + 1, r->names[i]);
        return fail_with(r, &e);
    }
    present[c] = true;
    r->col_of[i] = c;
    if (c == COL_MEMBER)
        r->member_col = i;
    return 0;
}

static int read_header(struct roster *r)
{
    bool present[COL_COUNT] = {false};
    int rc;
    do
        rc = read_record(r);
    while (rc == 1 && !r->any_text);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return fail(r, 0, "", "文件是空的:没有表头行", "the file is empty: no header row");
    long row = r->record_row;
    if (r->nfields > ROSTER_COLUMNS_MAX)
        return fail(r, row, "", "表头超过 64 列", "the header has more than 64 columns");
    r->width = r->nfields;
    for (size_t i = 0; i < r->width; i++)
        if (header_cell(r, row, i, present) < 0)
            return -1;
    for (int c = 0; c < COL_COUNT; c++)
        if (columns[c].required && !present[c])
            return missing_columns(r, row, present);
    return 0;
}

int roster_open(FILE *f, struct roster **roster_out, struct roster_error *err_out)
{
    struct roster *r = xcalloc(1, sizeof(*r));
    static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};
    r->f = f;
    r->next_row = 1;
    r->seen = strmap_new();
    csv_init(&r->csv, CSV_REPALL_NL);
    csv_set_realloc_func(&r->csv, xrealloc); /* out of memory aborts, as everywhere */
    r->head_len = fread(r->head, 1, sizeof(r->head), f);
    if (r->head_len == sizeof(bom) && memcmp(r->head, bom, sizeof(bom)) == 0)
        r->head_len = 0;
    if (read_header(r) < 0) {
        *err_out = r->fatal;
        int rc = r->fatal.row == 0 && ferror(f) ? DS_EIO : DS_EINVAL;
        roster_destroy(&r);
        return rc;
    }
    *roster_out = r;
    return DS_OK;
}

/* ---------------------------------------------------------------- the checks of a row */

static void bad(struct roster_error *err, const char *zh, const char *en)
{
    set_reason(err, zh, en);
}

static bool check_member(const char *v, size_t len, struct roster_row *row,
                         struct roster_error *err)
{
    if (len == 0) {
        bad(err, "缺少党员编号", "the member id is missing");
        return false;
    }
    if (!ids_member_valid(v)) {
        int n = utf8_prefix(v, len, 64);
        snprintf(err->reason_zh, sizeof(err->reason_zh),
                 "党员编号「%.*s」无效:须为 1–64 个字母、数字或连字符", n, v);
        snprintf(err->reason_en, sizeof(err->reason_en),
                 "member id \"%.*s\" is invalid: 1..64 letters, digits or hyphens", n, v);
        return false;
    }
    memcpy(row->member, v, len + 1);
    return true;
}

static bool check_name(const char *v, size_t len, struct roster_row *row, struct roster_error *err)
{
    if (len == 0) {
        bad(err, "缺少姓名", "the name is missing");
        return false;
    }
    if (!ids_text_valid(v, IDS_NAME_MAX, false)) {
        bad(err, "姓名须为不超过 128 字节的文字,且不含控制字符",
            "the name must be text of at most 128 bytes without control characters");
        return false;
    }
    memcpy(row->name, v, len + 1);
    return true;
}

static bool check_community(const char *v, size_t len, struct roster_row *row,
                            struct roster_error *err)
{
    if (len == 0) {
        bad(err, "缺少居住社区", "the community is missing");
        return false;
    }
    if (ids_org_kind(v) != ORG_COMMUNITY) {
        int n = utf8_prefix(v, len, 64);
        snprintf(err->reason_zh, sizeof(err->reason_zh),
                 "居住社区「%.*s」须写作 community:<代码>,如 community:hexie", n, v);
        snprintf(err->reason_en, sizeof(err->reason_en),
                 "community \"%.*s\" must be written community:<code>, e.g. community:hexie", n, v);
        return false;
    }
    memcpy(row->community, v, len + 1);
    return true;
}

static bool check_contact(const char *v, size_t len, struct roster_row *row,
                          struct roster_error *err)
{
    if (!ids_text_valid(v, ROSTER_CONTACT_MAX, true)) {
        bad(err, "联系方式须为不超过 256 字节的文字,且不含控制字符",
            "the contact must be text of at most 256 bytes without control characters");
        return false;
    }
    memcpy(row->contact, v, len + 1);
    return true;
}

static bool check_report_days(const char *v, size_t len, struct roster_row *row,
                              struct roster_error *err)
{
    const char *s = v;
    unsigned days = 0;
    if (len == 0) {
        row->report_days = 0;
        return true;
    }
    if (!digits(&s, 3, &days) || *s || days < 1 || days > 365) {
        bad(err, "报到期限须为 1–365 的整数(天),或留空(用节点的默认值)",
            "report_days must be a whole number of days 1..365, or empty (the node's default)");
        return false;
    }
    row->report_days = days;
    return true;
}

static bool check_date(const char *v, size_t len, struct roster_row *row, struct roster_error *err)
{
    if (len == 0) {
        row->date[0] = '\0';
        return true;
    }
    if (!ids_date_normalize(v, row->date)) {
        bad(err, "日期须为真实的日期,写作 YYYY-MM-DD(如 2026-03-01),或留空(今天)",
            "the date must be a real date written YYYY-MM-DD (e.g. 2026-03-01), or empty (today)");
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------- rows */

static bool check_cells(struct roster *r, struct roster_row *row, struct roster_error *err)
{
    for (size_t i = 0; i < r->width; i++) {
        enum column c = r->col_of[i];
        const struct field *f = &r->fields[i];
        if (c == COL_IGNORED)
            continue;
        set_where(err, r->record_row, r->names[i]);
        if (!field_is_text(f)) {
            bad(err, "不是 UTF-8 文字(Excel 请另存为“CSV UTF-8(逗号分隔)”)",
                "not UTF-8 text (in Excel, save as \"CSV UTF-8 (comma delimited)\")");
            return false;
        }
        if (!columns[c].check(f->buf, f->len, row, err))
            return false;
    }
    return true;
}

static bool check_duplicate(struct roster *r, const struct roster_row *row,
                            struct roster_error *err)
{
    void *first = strmap_get(r->seen, row->member);
    if (!first) {
        /* The row number itself is the value: rows start at 1, so it is never NULL. */
        strmap_put(r->seen, row->member, (void *)(intptr_t)row->row);
        return true;
    }
    set_where(err, row->row, r->names[r->member_col]);
    snprintf(err->reason_zh, sizeof(err->reason_zh), "党员编号 %s 已在第 %ld 行出现", row->member,
             (long)(intptr_t)first);
    snprintf(err->reason_en, sizeof(err->reason_en), "member %s already appears on row %ld",
             row->member, (long)(intptr_t)first);
    return false;
}

/* A row with too few or too many fields. A field holding a line break hints at a quote
 * left open, which swallows the lines after it: say so. */
static void bad_width(const struct roster *r, struct roster_error *err)
{
    bool multiline = false;
    for (size_t i = 0; i < r->nfields && i < ROSTER_COLUMNS_MAX; i++)
        multiline = multiline || memchr(r->fields[i].buf, '\n', r->fields[i].len);
    set_where(err, r->record_row, "");
    snprintf(err->reason_zh, sizeof(err->reason_zh), "该行有 %zu 个字段,表头有 %zu 列%s",
             r->nfields, r->width, multiline ? "(是否有未配对的引号?)" : "");
    snprintf(err->reason_en, sizeof(err->reason_en), "the row has %zu fields, the header has %zu%s",
             r->nfields, r->width, multiline ? " (an unmatched quote?)" : "");
}

enum roster_next_result roster_next(struct roster *r, struct roster_row *row_out,
                                    struct roster_error *err_out)
{
    for (;;) {
        int rc = r->failed ? -1 : read_record(r);
        if (rc < 0) {
            *err_out = r->fatal;
            return ROSTER_FATAL;
        }
        if (rc == 0)
            return ROSTER_END;
        if (!r->any_text)
            continue; /* a blank row, or one of empty cells: a spreadsheet's filler */
        r->rows++;
        struct roster_row row = {.row = r->record_row};
        if (r->nfields != r->width) {
            bad_width(r, err_out);
            return ROSTER_BAD_ROW;
        }
        if (!check_cells(r, &row, err_out) || !check_duplicate(r, &row, err_out))
            return ROSTER_BAD_ROW;
        *row_out = row;
        return ROSTER_ROW;
    }
}

long roster_rows(const struct roster *r)
{
    return r->rows;
}

void roster_destroy(struct roster **rp)
{
    struct roster *r = *rp;
    if (!r)
        return;
    csv_free(&r->csv);
    for (size_t i = 0; i < ROSTER_COLUMNS_MAX; i++)
        free(r->fields[i].buf);
    strmap_destroy(&r->seen, NULL);
    free(r);
    *rp = NULL;
}
