/* import: a unit's member roster (CSV) into introduction letters, through its daemon.
 *
 * Two passes over the file. The first only reads it (common/roster): it counts the rows
 * for the progress bar and finds what refuses the whole file (a bad header, a field too
 * long), so that such a file imports nothing rather than half. The second sends the good
 * rows as `intro send` commands with the flag skip-existing, IMPORT_CHUNK per request: one
 * request is one atomic append on the daemon, so a crash or a kill leaves whole chunks, and
 * because of skip-existing the operator simply runs the same command again.
 *
 * The daemon validates a request command by command and refuses all of it at the first bad
 * one (reply code, failed_index). That row is reported as refused and the request is sent
 * again without it, so one bad row never costs the good rows around it. A refusal that is
 * not about a row (not a unit, needs restore, not yet in session, storage) stops the
 * import instead: it would refuse every row the same way. */
#include "import.h"

#include "cliargs.h"
#include "ctl.h"
#include "err.h"
#include "roster.h"
#include "wire.h"
#include "xalloc.h"

#include <errno.h>
#include <jansson.h>
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
    bool json, progress;
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
    int stop_rc; /* non-zero: the import stopped early with this exit code */
    char stop_zh[ROSTER_REASON_MAX + ROSTER_COLUMN_MAX + 64];
    char stop_en[ROSTER_REASON_MAX + ROSTER_COLUMN_MAX + 64];
    struct timespec last_draw;
};

/* ---------------------------------------------------------------- reporting */

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

static void stop(struct import *im, int rc, const char *zh, const char *en)
{
    im->stop_rc = rc;
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
    stop(im, 2, zh, en);
}

static double since(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Redraws the progress bar on stderr, at most ten times a second unless final. */
static void draw_progress(struct import *im, bool final)
{
    struct timespec now;
    if (!im->progress)
        return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!final && since(&im->last_draw, &now) < 0.1)
        return;
    im->last_draw = now;
    long total = im->rows > 0 ? im->rows : 1;
    int pct = (int)(im->done * 100 / total), width = 30, filled = pct * width / 100;
    fprintf(stderr, "\r导入 importing [%.*s%*s] %ld/%ld %3d%%", filled,
            "##############################", width - filled, "", im->done, im->rows, pct);
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}

static int by_row(const void *a, const void *b)
{
    long x = ((const struct bad_row *)a)->row, y = ((const struct bad_row *)b)->row;
    return (x > y) - (x < y);
}

static void print_bad_text(const struct bad_row *b)
{
    const char *by_zh = b->refused ? "节点拒绝: " : "", *by_en = b->refused ? "refused: " : "";
    if (b->column)
        fprintf(stderr, "第 %ld 行,列「%s」: %s%s\nrow %ld, column \"%s\": %s%s\n", b->row,
                b->column, by_zh, b->zh, b->row, b->column, by_en, b->en);
    else
        fprintf(stderr, "第 %ld 行: %s%s\nrow %ld: %s%s\n", b->row, by_zh, b->zh, b->row, by_en,
                b->en);
}

static void print_text(const struct import *im)
{
    for (size_t i = 0; i < im->nbad_kept; i++)
        print_bad_text(&im->bad[i]);
    if ((long)im->nbad_kept < im->nbad)
        fprintf(stderr, "……另有 %ld 行有误未列出\n... and %ld more bad rows not listed\n",
                im->nbad - (long)im->nbad_kept, im->nbad - (long)im->nbad_kept);
    if (im->stop_rc)
        cli_error(im->stop_zh, im->stop_en);
    printf("名册导入: 读取 %ld 行,导入 %ld 行,已存在(跳过)%ld 行,有误 %ld 行\n"
           "roster import: %ld rows read, %ld imported, %ld already present (skipped), %ld bad\n",
           im->rows, im->imported, im->skipped, im->nbad, im->rows, im->imported, im->skipped,
           im->nbad);
    if (im->nbad > 0 || im->stop_rc == 1)
        printf("改正后重新运行同一命令即可:已导入的行会被跳过\n"
               "fix them and run the same command again: rows already imported are skipped\n");
}

static void print_json(const struct import *im)
{
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
    if (im->stop_rc)
        json_object_set_new(
            j, "error", json_pack("{s:s,s:s}", "reason_zh", im->stop_zh, "reason_en", im->stop_en));
    char *text = json_dumps(j, JSON_COMPACT);
    printf("%s\n", text);
    free(text);
    json_decref(j);
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
        stop(im, 3, "该数据目录的节点没有运行(先启动 dualsync-node --data DIR run)",
             "no node is running on this data directory (start dualsync-node --data DIR run)");
    else if (rc == DS_ETIMEDOUT)
        stop(im, 4, "节点没有及时应答", "the node did not answer in time");
    else
        stop(im, 1, "无法与节点通信", "cannot talk to the node");
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
        stop(im, 1, zh, en);
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
        draw_progress(im, false);
    }
    im->nchunk = 0;
    draw_progress(im, false);
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
            draw_progress(im, false);
        } else if (++im->nchunk == IMPORT_CHUNK) {
            rc = flush_chunk(im);
        }
    }
    if (rc == 0)
        rc = flush_chunk(im);
    roster_destroy(&r);
    return rc;
}

static int exit_code(const struct import *im)
{
    if (im->stop_rc)
        return im->stop_rc;
    return im->nbad > 0 ? 1 : 0;
}

static void import_free(struct import *im)
{
    for (size_t i = 0; i < im->nbad_kept; i++) {
        free(im->bad[i].column);
        free(im->bad[i].zh);
        free(im->bad[i].en);
    }
    free(im->bad);
    free(im);
}

int import_members(const char *data_dir, const char *csv_path, bool json)
{
    FILE *f = fopen(csv_path, "rb");
    if (!f) {
        fprintf(stderr, "错误: 无法打开名册文件 %s\nerror: cannot open the roster file %s: %s\n",
                csv_path, csv_path, strerror(errno));
        return 2;
    }
    struct import *im = xcalloc(1, sizeof(*im));
    im->dir = data_dir;
    im->json = json;
    im->progress = isatty(STDERR_FILENO);
    if (count_rows(im, f) == 0) {
        if (fseek(f, 0, SEEK_SET) != 0)
            stop(im, 2, "名册须为普通文件(不能是管道)",
                 "the roster must be a regular file, not a pipe");
        else
            send_rows(im, f);
        draw_progress(im, true);
    }
    fclose(f);
    if (im->nbad_kept > 1)
        qsort(im->bad, im->nbad_kept, sizeof(*im->bad), by_row);
    if (json)
        print_json(im);
    else
        print_text(im);
    int rc = exit_code(im);
    import_free(im);
    return rc;
}
