/* import: a unit's member roster (CSV) into introduction letters, through its daemon.
 *
 * Two passes over the file. The first only reads it (common/roster): it counts the rows
 * for the progress callback and finds what refuses the whole file (a bad header, a field
 * too long), so that such a file imports nothing rather than half. The second sends the
 * good rows as `intro send` commands with the flag skip-existing, IMPORT_CHUNK per request:
 * one request is one atomic append on the daemon, so a crash or a kill leaves whole chunks,
 * and because of skip-existing the operator simply imports the same file again.
 *
 * The daemon validates a request command by command and refuses all of it at the first bad
 * one (reply code, failed_index). That row is reported as refused and the request is sent
 * again without it, so one bad row never costs the good rows around it. A refusal that is
 * not about a row (not a unit, needs restore, not yet in session, storage) stops the
 * import instead: it would refuse every row the same way.
 *
 * import_roster prints nothing and keeps no global state, so the console's web threads can
 * run it side by side; its answer is the JSON document the CLI prints with --json. The
 * CLI's text (in the language of common/lang), progress bar and exit codes
 * (import_members) are made from that document. */
#include "import.h"

#include "cliargs.h"
#include "ctl.h"
#include "err.h"
#include "lang.h"
#include "roster.h"
#include "wire.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct bad_row {
    long row;
    char *column; /* NULL: about the whole row */
    char *zh, *en;
    bool refused; /* by the daemon, not by the file's checks */
};

struct import {
    const char *dir;
    import_progress_fn progress;
    void *progress_arg;
    long rows;     /* data rows in the file (first pass) */
    long done;     /* rows handled so far: imported, skipped or bad */
    long imported; /* written now */
    long skipped;  /* already introduced before: nothing written */
    long nbad;     /* bad or refused rows, described or not */
    struct bad_row *bad;
    size_t nbad_kept, bad_cap;
    struct roster_row chunk[IMPORT_CHUNK];
    bool sent[IMPORT_CHUNK]; /* a refused row is out of its chunk's next try */
    size_t nchunk;
    int stop; /* DS_OK, or why the import stopped early (import_roster's return) */
    char stop_zh[ROSTER_REASON_MAX + ROSTER_COLUMN_MAX + 64];
    char stop_en[ROSTER_REASON_MAX + ROSTER_COLUMN_MAX + 64];
};

/* ---------------------------------------------------------------- reporting */

static void tell_progress(struct import *im, bool final)
{
    if (im->progress)
        im->progress(im->progress_arg, im->done, im->rows, final);
}

static void add_bad(struct import *im, long row, const char *column, const char *zh, const char *en,
                    bool refused)
{
    im->nbad++;
    im->done++;
    if (im->nbad_kept == IMPORT_BAD_MAX)
        return; /* a hostile file must not fill memory with its complaints */
    if (im->nbad_kept == im->bad_cap) {
        im->bad_cap = im->bad_cap ? im->bad_cap * 2 : 64;
        im->bad = xrealloc(im->bad, im->bad_cap * sizeof(*im->bad));
    }
    struct bad_row *b = &im->bad[im->nbad_kept++];
    b->row = row;
    b->column = column && column[0] ? xstrdup(column) : NULL;
    b->zh = xstrdup(zh);
    b->en = xstrdup(en);
    b->refused = refused;
}

static void stop(struct import *im, int code, const char *zh, const char *en)
{
    im->stop = code;
    snprintf(im->stop_zh, sizeof(im->stop_zh), "%s", zh);
    snprintf(im->stop_en, sizeof(im->stop_en), "%s", en);
}

static void stop_file(struct import *im, const struct roster_error *e)
{
    char zh[sizeof(im->stop_zh)], en[sizeof(im->stop_en)];
    if (e->row > 0 && e->column[0]) {
        snprintf(zh, sizeof(zh), "第 %ld 行,列「%s」: %s", e->row, e->column, e->reason_zh);
        snprintf(en, sizeof(en), "row %ld, column \"%s\": %s", e->row, e->column, e->reason_en);
    } else if (e->row > 0) {
        snprintf(zh, sizeof(zh), "第 %ld 行: %s", e->row, e->reason_zh);
        snprintf(en, sizeof(en), "row %ld: %s", e->row, e->reason_en);
    } else {
        snprintf(zh, sizeof(zh), "%s", e->reason_zh);
        snprintf(en, sizeof(en), "%s", e->reason_en);
    }
    stop(im, DS_EINVAL, zh, en);
}

static int by_row(const void *a, const void *b)
{
    long x = ((const struct bad_row *)a)->row, y = ((const struct bad_row *)b)->row;
    return (x > y) - (x < y);
}

/* The result document (import.h); the bad rows sorted first. */
static json_t *result_of(struct import *im)
{
    if (im->nbad_kept > 1)
        qsort(im->bad, im->nbad_kept, sizeof(*im->bad), by_row);
    json_t *bad = json_array();
    for (size_t i = 0; i < im->nbad_kept; i++) {
        const struct bad_row *b = &im->bad[i];
        json_t *o = json_pack("{s:I,s:s?,s:s,s:s}", "row", (json_int_t)b->row, "column", b->column,
                              "reason_zh", b->zh, "reason_en", b->en);
        if (b->refused)
            json_object_set_new(o, "refused", json_true());
        json_array_append_new(bad, o);
    }
    json_t *j = json_pack("{s:I,s:I,s:I,s:o}", "rows", (json_int_t)im->rows, "imported",
                          (json_int_t)im->imported, "skipped", (json_int_t)im->skipped, "bad", bad);
    if ((long)im->nbad_kept < im->nbad)
        json_object_set_new(j, "bad_omitted", json_integer(im->nbad - (long)im->nbad_kept));
    if (im->stop != DS_OK)
        json_object_set_new(
            j, "error", json_pack("{s:s,s:s}", "reason_zh", im->stop_zh, "reason_en", im->stop_en));
    return j;
}

/* ---------------------------------------------------------------- sending */

static void add_intro(struct ctl_request *req, const struct roster_row *r)
{
    ctl_request_command(req, "intro send");
    ctl_request_arg(req, "member", r->member);
    ctl_request_arg(req, "name", r->name);
    ctl_request_arg(req, "community", r->community);
    if (r->contact[0])
        ctl_request_arg(req, "contact", r->contact);
    if (r->report_days) {
        char days[16];
        snprintf(days, sizeof(days), "%u", (unsigned)r->report_days);
        ctl_request_arg(req, "report-days", days);
    }
    if (r->date[0])
        ctl_request_arg(req, "date", r->date);
    ctl_request_arg(req, "skip-existing", ""); /* a flag: a re-run imports nothing twice */
}

/* Refusals that would hit every row alike: no point in retrying row by row. */
static bool refuses_all(int code)
{
    return code == DS_ESIDE || code == DS_ERESTORE || code == DS_EAGAIN || code == DS_EIO;
}

static void stop_call(struct import *im, int rc)
{
    if (rc == DS_ENOTRUNNING)
        stop(im, DS_ENOTRUNNING, "该数据目录的节点没有运行(先启动 dualsync-node --data DIR run)",
             "no node is running on this data directory (start dualsync-node --data DIR run)");
    else if (rc == DS_ETIMEDOUT)
        stop(im, DS_ETIMEDOUT, "节点没有及时应答", "the node did not answer in time");
    else
        stop(im, DS_EPROTO, "无法与节点通信", "cannot talk to the node");
}

/* Counts what an accepted request did: {"events":[...],"skipped":K}. */
static void count_accepted(struct import *im, const char *json, long sent)
{
    json_t *j = json_loads(json ? json : "null", JSON_DECODE_ANY, NULL);
    long written = (long)json_array_size(json_object_get(j, "events"));
    long skipped = (long)json_integer_value(json_object_get(j, "skipped"));
    im->imported += written;
    im->skipped += skipped;
    im->done += sent;
    json_decref(j);
}

/* Sends the rows of the chunk not yet refused. 1: accepted; 0: a row was refused and
 * taken out (try again); -1: the import stops. */
static int send_once(struct import *im)
{
    struct ctl_request *req = ctl_request_new();
    size_t index[IMPORT_CHUNK], n = 0;
    Dualsync__CtlReply *reply = NULL;
    for (size_t i = 0; i < im->nchunk; i++)
        if (im->sent[i]) {
            index[n++] = i;
            add_intro(req, &im->chunk[i]);
        }
    int rc = ctl_call(im->dir, req, CTL_TIMEOUT_MS, &reply), out = -1;
    ctl_request_destroy(&req);
    if (rc != DS_OK) {
        stop_call(im, rc);
    } else if (reply->code == 0) {
        count_accepted(im, reply->json, (long)n);
        out = 1;
    } else if (refuses_all(reply->code) || reply->failed_index >= n) {
        char zh[sizeof(im->stop_zh)], en[sizeof(im->stop_en)];
        snprintf(zh, sizeof(zh), "节点拒绝导入: %.400s", reply->error_zh);
        snprintf(en, sizeof(en), "the node refuses the import: %.400s", reply->error_en);
        /* a failed index outside the request breaks the control protocol */
        stop(im, refuses_all(reply->code) ? reply->code : DS_EPROTO, zh, en);
    } else {
        size_t i = index[reply->failed_index];
        im->sent[i] = false;
        add_bad(im, im->chunk[i].row, NULL, reply->error_zh, reply->error_en, true);
        out = 0;
    }
    wire_msg_free(reply);
    return out;
}

/* Sends the chunk until the daemon accepts what is left of it. */
static int flush_chunk(struct import *im)
{
    size_t left = im->nchunk;
    int rc = 1;
    for (size_t i = 0; i < im->nchunk; i++)
        im->sent[i] = true;
    while (left > 0 && (rc = send_once(im)) == 0) {
        left--;
        tell_progress(im, false);
    }
    im->nchunk = 0;
    tell_progress(im, false);
    return rc < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------- the two passes */

/* First pass: the number of rows, or the error that refuses the whole file. */
static int count_rows(struct import *im, FILE *f)
{
    struct roster *r = NULL;
    struct roster_error e;
    struct roster_row row;
    enum roster_next_result res;
    if (roster_open(f, &r, &e) != DS_OK) {
        stop_file(im, &e);
        return -1;
    }
    while ((res = roster_next(r, &row, &e)) == ROSTER_ROW || res == ROSTER_BAD_ROW)
        ;
    im->rows = roster_rows(r);
    roster_destroy(&r);
    if (res == ROSTER_FATAL) {
        stop_file(im, &e);
        return -1;
    }
    return 0;
}

static int send_rows(struct import *im, FILE *f)
{
    struct roster *r = NULL;
    struct roster_error e;
    enum roster_next_result res = ROSTER_END;
    int rc = 0;
    if (roster_open(f, &r, &e) != DS_OK) {
        stop_file(im, &e); /* the file changed since the first pass */
        return -1;
    }
    while (rc == 0 && (res = roster_next(r, &im->chunk[im->nchunk], &e)) != ROSTER_END) {
        if (res == ROSTER_FATAL) {
            stop_file(im, &e);
            rc = -1;
        } else if (res == ROSTER_BAD_ROW) {
            add_bad(im, e.row, e.column, e.reason_zh, e.reason_en, false);
            tell_progress(im, false);
        } else if (++im->nchunk == IMPORT_CHUNK) {
            rc = flush_chunk(im);
        }
    }
    if (rc == 0)
        rc = flush_chunk(im);
    roster_destroy(&r);
    return rc;
}

static void import_free(struct import **imp)
{
    struct import *im = *imp;
    if (!im)
        return;
    for (size_t i = 0; i < im->nbad_kept; i++) {
        free(im->bad[i].column);
        free(im->bad[i].zh);
        free(im->bad[i].en);
    }
    free(im->bad);
    free(im);
    *imp = NULL;
}

int import_roster(const char *data_dir, FILE *csv, import_progress_fn progress, void *progress_arg,
                  json_t **result_out)
{
    struct import *im = xcalloc(1, sizeof(*im));
    im->dir = data_dir;
    im->progress = progress;
    im->progress_arg = progress_arg;
    if (count_rows(im, csv) == 0) {
        if (fseek(csv, 0, SEEK_SET) != 0)
            stop(im, DS_EINVAL, "名册须为普通文件(不能是管道)",
                 "the roster must be a regular file, not a pipe");
        else
            send_rows(im, csv);
        tell_progress(im, true);
    }
    int rc = im->stop;
    *result_out = result_of(im);
    import_free(&im);
    return rc;
}

/* ---------------------------------------------------------------- the CLI */

struct bar {
    struct timespec last_draw;
};

static double since(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Redraws the progress bar on stderr, at most ten times a second unless final. */
static void draw_bar(void *arg, long done, long rows, bool final)
{
    struct bar *bar = arg;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!final && since(&bar->last_draw, &now) < 0.1)
        return;
    bar->last_draw = now;
    long total = rows > 0 ? rows : 1;
    int pct = (int)(done * 100 / total), width = 30, filled = pct * width / 100;
    fprintf(stderr, TR("\r导入 [%.*s%*s] %ld/%ld %3d%%", "\rimporting [%.*s%*s] %ld/%ld %3d%%"),
            filled, "##############################", width - filled, "", done, rows, pct);
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static long jlong(const json_t *o, const char *key)
{
    return (long)json_integer_value(json_object_get(o, key));
}

static void print_bad_text(const json_t *b)
{
    bool refused = json_is_true(json_object_get(b, "refused"));
    const char *by = refused ? TR("节点拒绝: ", "refused: ") : "";
    const char *reason = TR(jstr(b, "reason_zh"), jstr(b, "reason_en"));
    const char *column = json_string_value(json_object_get(b, "column"));
    long row = jlong(b, "row");
    if (column)
        fprintf(stderr, TR("第 %ld 行,列「%s」: %s%s\n", "row %ld, column \"%s\": %s%s\n"), row,
                column, by, reason);
    else
        fprintf(stderr, TR("第 %ld 行: %s%s\n", "row %ld: %s%s\n"), row, by, reason);
}

/* Did the daemon (or the way to it) stop the import, rather than the file or no daemon? */
static bool stopped_by_node(int rc)
{
    return rc != DS_OK && rc != DS_EINVAL && rc != DS_ENOTRUNNING && rc != DS_ETIMEDOUT;
}

static void print_text(const json_t *res, int rc)
{
    const json_t *bad = json_object_get(res, "bad");
    long omitted = jlong(res, "bad_omitted"), nbad = (long)json_array_size(bad) + omitted;
    long rows = jlong(res, "rows"), imported = jlong(res, "imported");
    long skipped = jlong(res, "skipped");
    for (size_t i = 0; i < json_array_size(bad); i++)
        print_bad_text(json_array_get(bad, i));
    if (omitted > 0)
        fprintf(stderr, TR("……另有 %ld 行有误未列出\n", "... and %ld more bad rows not listed\n"),
                omitted);
    if (rc != DS_OK) {
        const json_t *e = json_object_get(res, "error");
        cli_error(jstr(e, "reason_zh"), jstr(e, "reason_en"));
    }
    printf(TR("名册导入: 读取 %ld 行,导入 %ld 行,已存在(跳过)%ld 行,有误 %ld 行\n",
              "roster import: %ld rows read, %ld imported, %ld already present (skipped), %ld "
              "bad\n"),
           rows, imported, skipped, nbad);
    if (nbad > 0 || stopped_by_node(rc))
        printf(TR("改正后重新运行同一命令即可:已导入的行会被跳过\n",
                  "fix them and run the same command again: rows already imported are skipped\n"));
}

static int exit_code(int rc, const json_t *res)
{
    switch (rc) {
    case DS_OK:
        return json_array_size(json_object_get(res, "bad")) > 0 || jlong(res, "bad_omitted") > 0
                   ? 1
                   : 0;
    case DS_EINVAL:
        return 2;
    case DS_ENOTRUNNING:
        return 3;
    case DS_ETIMEDOUT:
        return 4;
    default:
        return 1;
    }
}

int import_members(const char *data_dir, const char *csv_path, bool json)
{
    FILE *f = fopen(csv_path, "rb");
    if (!f) {
        fprintf(
            stderr,
            TR("错误: 无法打开名册文件 %s(%s)\n", "error: cannot open the roster file %s: %s\n"),
            csv_path, strerror(errno));
        return 2;
    }
    struct bar bar = {{0, 0}};
    json_t *res = NULL;
    int rc = import_roster(data_dir, f, isatty(STDERR_FILENO) ? draw_bar : NULL, &bar, &res);
    fclose(f);
    if (json) {
        char *text = json_dumps(res, JSON_COMPACT);
        printf("%s\n", text);
        free(text);
    } else {
        print_text(res, rc);
    }
    int code = exit_code(rc, res);
    json_decref(res);
    return code;
}
