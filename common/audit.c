/* audit: the console's append-only log of who did what, DIR/audit.log.
 *
 * A line is built whole in memory (compact JSON has no raw line breaks: jansson escapes
 * them inside strings) and handed to the kernel in one write() on an O_APPEND descriptor:
 * on a regular file Linux takes the inode lock for the whole write, so concurrent lines
 * land one after the other, never mixed. fsync before DS_OK makes the line durable; when
 * this call created the file the directory is fsync'd too, or the file itself could vanish
 * in a crash. If a write comes up short (disk full) a line break is appended, so the torn
 * line stays alone and is skipped by readers instead of swallowing the next one.
 *
 * Reading the tail scans the file backwards in blocks only as far as the last `limit`
 * lines reach, so the console's audit page stays fast on a log of years. */
#include "audit.h"

#include "cliargs.h"
#include "err.h"
#include "ids.h"
#include "lang.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PATH_SIZE 4096
#define TAIL_BLOCK 65536

static int log_path(char *buf, const char *dir)
{
    int n = snprintf(buf, PATH_SIZE, "%s/audit.log", dir);
    if (n < 0 || n >= PATH_SIZE) {
        log_error("audit: path too long dir=%.200s", dir);
        return DS_EIO;
    }
    return DS_OK;
}

static bool field_ok(const char *s, bool allow_empty)
{
    if (!s)
        return false;
    size_t len = strnlen(s, AUDIT_FIELD_MAX + 1);
    if (len == 0)
        return allow_empty;
    return len <= AUDIT_FIELD_MAX && ids_utf8_valid(s, len);
}

/* "2026-12-02T10:31:00Z" of now. */
static void utc_now(char buf[32])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Opens DIR/audit.log for appending; *created_out tells whether this call made it. */
static int open_log(const char *path, bool *created_out)
{
    *created_out = false;
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        *created_out = fd >= 0;
    }
    if (fd < 0) {
        log_error("audit: open path=%s: %s", path, strerror(errno));
        return -1;
    }
    /* A file put back by hand (or by a restore) may have come with a wider mode. */
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 07777) != 0600 && fchmod(fd, 0600) != 0)
        log_warn("audit: chmod path=%s: %s", path, strerror(errno));
    return fd;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        log_error("audit: fsync dir=%s: %s", dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        return DS_EIO;
    }
    close(fd);
    return DS_OK;
}

int audit_append(const char *dir, const char *user, const char *action, const char *target,
                 const char *outcome)
{
    char path[PATH_SIZE], ts[32];
    if (!field_ok(user, false) || !field_ok(action, false) || !field_ok(target, true) ||
        !field_ok(outcome, true))
        return DS_EINVAL;
    int rc = log_path(path, dir);
    if (rc != DS_OK)
        return rc;
    utc_now(ts);
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s}", "ts", ts, "user", user, "action", action,
                          "target", target, "outcome", outcome);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text)
        return DS_EINVAL; /* unreachable: fields are checked UTF-8 */
    size_t len = strlen(text);
    char *line = xmalloc(len + 1);
    memcpy(line, text, len);
    line[len++] = '\n';
    free(text);

    bool created;
    rc = DS_EIO;
    int fd = open_log(path, &created);
    if (fd < 0)
        goto out;
    ssize_t n;
    do
        n = write(fd, line, len);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)len) {
        log_error("audit: write path=%s: %s", path, n < 0 ? strerror(errno) : "short write");
        if (n > 0 && write(fd, "\n", 1) != 1)
            log_error("audit: cannot end a torn line path=%s", path);
        close(fd);
        goto out;
    }
    if (fsync(fd) != 0) {
        log_error("audit: fsync path=%s: %s", path, strerror(errno));
        close(fd);
        goto out;
    }
    if (close(fd) != 0) {
        log_error("audit: close path=%s: %s", path, strerror(errno));
        goto out;
    }
    rc = created ? fsync_dir(dir) : DS_OK;
out:
    free(line);
    return rc;
}

/* Offset where the last `limit` non-blank lines of the file (size bytes) begin. */
static int tail_start(int fd, off_t size, size_t limit, off_t *start_out)
{
    char *block = xmalloc(TAIL_BLOCK);
    size_t lines = 0;
    bool in_line = false;
    off_t end = size, start = 0;
    int rc = DS_OK;
    while (end > 0) {
        size_t want = end > TAIL_BLOCK ? TAIL_BLOCK : (size_t)end;
        off_t at = end - (off_t)want;
        ssize_t n = pread(fd, block, want, at);
        if (n != (ssize_t)want) {
            rc = DS_EIO;
            break;
        }
        for (size_t i = want; i-- > 0;) {
            if (block[i] != '\n') {
                in_line = true;
            } else if (in_line) {
                in_line = false;
                if (++lines == limit) {
                    start = at + (off_t)i + 1;
                    end = 0;
                    break;
                }
            }
        }
        if (end != 0)
            end = at;
    }
    free(block);
    if (rc == DS_OK)
        *start_out = start;
    return rc;
}

static bool entry_ok(const json_t *e)
{
    static const char *const keys[] = {"ts", "user", "action", "target", "outcome"};
    if (!json_is_object(e))
        return false;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!json_is_string(json_object_get(e, keys[i])))
            return false;
    return true;
}

int audit_list(const char *dir, size_t limit, json_t **list_out, size_t *skipped_out)
{
    char path[PATH_SIZE];
    struct stat st;
    size_t skipped = 0;
    char *buf = NULL;
    int rc = log_path(path, dir);
    if (rc != DS_OK)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        *list_out = json_array();
        if (skipped_out)
            *skipped_out = 0;
        return DS_OK;
    }
    rc = DS_EIO;
    if (fd < 0 || fstat(fd, &st) != 0) {
        log_error("audit: open path=%s: %s", path, strerror(errno));
        goto out;
    }
    off_t start = 0;
    if (limit > 0 && tail_start(fd, st.st_size, limit, &start) != DS_OK) {
        log_error("audit: read path=%s: %s", path, strerror(errno));
        goto out;
    }
    size_t len = (size_t)(st.st_size - start);
    buf = xmalloc(len + 1);
    ssize_t n = pread(fd, buf, len, start);
    if (n != (ssize_t)len) {
        log_error("audit: read path=%s: %s", path, n < 0 ? strerror(errno) : "file shrank");
        goto out;
    }
    buf[len] = '\0';
    json_t *list = json_array();
    for (char *line = buf; line < buf + len;) {
        char *nl = memchr(line, '\n', (size_t)(buf + len - line));
        size_t llen = nl ? (size_t)(nl - line) : (size_t)(buf + len - line);
        if (llen > 0) {
            json_t *e = json_loadb(line, llen, JSON_REJECT_DUPLICATES, NULL);
            if (entry_ok(e))
                json_array_append(list, e);
            else
                skipped++;
            json_decref(e);
        }
        line += llen + 1;
    }
    *list_out = list;
    if (skipped_out)
        *skipped_out = skipped;
    rc = DS_OK;
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}

/* ---- the command line */

/* Prints a field for a terminal: "-" when empty, control characters as '?' (the fields
 * come from web forms, and an escape sequence must not reach the operator's terminal). */
static void print_field(const char *s)
{
    if (!s || !*s) {
        fputs("-", stdout);
        return;
    }
    for (; *s; s++)
        fputc(((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s, stdout);
}

int audit_cli_main(const struct cli_parsed *p)
{
    static const char *const fields[] = {"ts", "user", "action", "target", "outcome"};
    const char *text = cli_get(p, "limit");
    unsigned long long limit = 0;
    if (text) {
        char *end = NULL;
        errno = 0;
        limit = strtoull(text, &end, 10);
        if (!*text || *end || text[0] == '-' || errno != 0) {
            cli_error("--limit 须为非负整数(0 = 全部)",
                      "--limit must be a non-negative integer (0 = all)");
            return 2;
        }
    }
    if (!cli_data_dir_initialised(p->data_dir)) {
        fprintf(stderr,
                TR("错误: %s 不是已初始化的数据目录(没有 node.conf 或 broker.conf)\n",
                   "error: %s is not an initialised data directory (no node.conf or "
                   "broker.conf)\n"),
                p->data_dir);
        return 1;
    }
    json_t *list = NULL, *e;
    size_t skipped = 0, i;
    int rc = audit_list(p->data_dir, (size_t)limit, &list, &skipped);
    if (rc != DS_OK) {
        fprintf(stderr,
                TR("错误: 无法读取 %s/audit.log(见上面的日志)\n",
                   "error: cannot read %s/audit.log (see the log line above)\n"),
                p->data_dir);
        return 1;
    }
    if (p->json) {
        char *out = json_dumps(list, JSON_COMPACT);
        printf("%s\n", out);
        free(out);
    } else if (json_array_size(list) == 0) {
        printf(TR("没有审计记录\n", "no audit entries\n"));
    } else {
        json_array_foreach(list, i, e)
        {
            for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
                if (f)
                    fputs("  ", stdout);
                print_field(json_string_value(json_object_get(e, fields[f])));
            }
            fputc('\n', stdout);
        }
    }
    if (skipped)
        fprintf(stderr,
                TR("警告: 跳过了 %zu 行无法解析的审计记录\n",
                   "warning: skipped %zu audit lines that do not parse\n"),
                skipped);
    json_decref(list);
    return 0;
}
