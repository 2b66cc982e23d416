/* Unit tests of audit: lines come back in the order they were appended, with the fields
 * given and a UTC time stamp; `limit` takes the tail (also across the reader's block
 * size); threads appending at once leave only whole lines; a corrupt or torn line is
 * skipped and counted; bad fields are refused with nothing written; the file is 0600
 * under umask 0; and the CLI's `audit` command. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "cliargs.h"
#include "testutil.h"

static void log_path(char *buf, const char *dir)
{
    snprintf(buf, TU_PATH_MAX, "%s/audit.log", dir);
}

static const char *field(json_t *list, size_t i, const char *key)
{
    const char *s = json_string_value(json_object_get(json_array_get(list, i), key));
    assert_non_null(s);
    return s;
}

static void append_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

static void test_audit_append_and_list_in_order(void **state)
{
    const char *dir = *state;
    json_t *list = NULL;
    size_t skipped = 99;
    assert_rc(audit_list(dir, 0, &list, &skipped), DS_OK); /* no file: empty */
    assert_int_equal(json_array_size(list), 0);
    assert_int_equal(skipped, 0);
    json_decref(list);

    assert_rc(audit_append(dir, "张伟", "intro send", "DY-0001", "ok"), DS_OK);
    assert_rc(audit_append(dir, "alice", "member view", "DY-0002", ""), DS_OK);
    assert_rc(audit_append(dir, "alice", "login", "", "refused: 密码错误 \"x\"\n"), DS_OK);
    assert_rc(audit_list(dir, 0, &list, NULL), DS_OK);
    assert_int_equal(json_array_size(list), 3);
    assert_string_equal(field(list, 0, "user"), "张伟");
    assert_string_equal(field(list, 0, "action"), "intro send");
    assert_string_equal(field(list, 0, "target"), "DY-0001");
    assert_string_equal(field(list, 0, "outcome"), "ok");
    assert_string_equal(field(list, 1, "outcome"), "");
    assert_string_equal(field(list, 2, "target"), "");
    assert_string_equal(field(list, 2, "outcome"), "refused: 密码错误 \"x\"\n");
    const char *ts = field(list, 0, "ts"); /* 2026-12-02T10:31:00Z */
    assert_int_equal(strlen(ts), 20);
    assert_true(ts[4] == '-' && ts[7] == '-' && ts[10] == 'T' && ts[13] == ':' && ts[16] == ':' &&
                ts[19] == 'Z');
    json_decref(list);

    /* One object per line, the fields in the documented order. */
    char path[TU_PATH_MAX], buf[2048];
    log_path(path, dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t lines = 0;
    while (fgets(buf, sizeof(buf), f)) {
        lines++;
        assert_int_equal(strncmp(buf, "{\"ts\":\"", 7), 0);
        assert_non_null(strstr(buf, "\",\"user\":\""));
        assert_non_null(strstr(buf, "\",\"action\":\""));
        assert_non_null(strstr(buf, "\",\"target\":\""));
        assert_non_null(strstr(buf, "\",\"outcome\":\""));
        assert_int_equal(buf[strlen(buf) - 1], '\n');
    }
    fclose(f);
    assert_int_equal(lines, 3);
}

static void test_audit_limit_takes_the_tail(void **state)
{
    const char *dir = *state;
    char target[32];
    json_t *list = NULL;
    for (int i = 0; i < 10; i++) {
        snprintf(target, sizeof(target), "DY-%04d", i);
        assert_rc(audit_append(dir, "alice", "member view", target, "ok"), DS_OK);
    }
    assert_rc(audit_list(dir, 3, &list, NULL), DS_OK);
    assert_int_equal(json_array_size(list), 3);
    assert_string_equal(field(list, 0, "target"), "DY-0007");
    assert_string_equal(field(list, 2, "target"), "DY-0009");
    json_decref(list);
    assert_rc(audit_list(dir, 10, &list, NULL), DS_OK);
    assert_int_equal(json_array_size(list), 10);
    assert_string_equal(field(list, 0, "target"), "DY-0000");
    json_decref(list);
    assert_rc(audit_list(dir, 1000, &list, NULL), DS_OK);
    assert_int_equal(json_array_size(list), 10);
    json_decref(list);
    /* Blank lines do not count, and a last line without its newline still does. */
    char path[TU_PATH_MAX];
    log_path(path, dir);
    append_file(path, "\n\n{\"ts\":\"t\",\"user\":\"u\",\"action\":\"a\",\"target\":\"DY-0010\","
                      "\"outcome\":\"\"}");
    assert_rc(audit_list(dir, 2, &list, NULL), DS_OK);
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(field(list, 0, "target"), "DY-0009");
    assert_string_equal(field(list, 1, "target"), "DY-0010");
    json_decref(list);
}

/* Lines long enough that the tail crosses the reader's 64 KiB blocks. */
static void test_audit_limit_across_blocks(void **state)
{
    const char *dir = *state;
    static char big[AUDIT_FIELD_MAX + 1];
    char target[32];
    json_t *list = NULL;
    memset(big, 'x', AUDIT_FIELD_MAX);
    big[AUDIT_FIELD_MAX] = '\0';
    for (int i = 0; i < 40; i++) {
        snprintf(target, sizeof(target), "T%02d", i);
        assert_rc(audit_append(dir, "alice", "import members", target, big), DS_OK);
    }
    assert_rc(audit_list(dir, 25, &list, NULL), DS_OK);
    assert_int_equal(json_array_size(list), 25);
    assert_string_equal(field(list, 0, "target"), "T15");
    assert_string_equal(field(list, 24, "target"), "T39");
    assert_int_equal(strlen(field(list, 24, "outcome")), AUDIT_FIELD_MAX);
    json_decref(list);
    assert_rc(audit_list(dir, 0, &list, NULL), DS_OK);
    assert_int_equal(json_array_size(list), 40);
    json_decref(list);
}

#define THREADS 8
#define PER_THREAD 50

struct appender {
    const char *dir;
    int id;
    int failures;
};

static void *append_many(void *arg)
{
    struct appender *a = arg;
    char user[16], target[32], outcome[600];
    snprintf(user, sizeof(user), "user%d", a->id);
    memset(outcome, 'a' + a->id, sizeof(outcome) - 1); /* long lines interleave more easily */
    outcome[sizeof(outcome) - 1] = '\0';
    for (int i = 0; i < PER_THREAD; i++) {
        snprintf(target, sizeof(target), "%d", i);
        if (audit_append(a->dir, user, "card set", target, outcome) != DS_OK)
            a->failures++;
    }
    return NULL;
}

static void test_audit_concurrent_appends_whole_lines(void **state)
{
    const char *dir = *state;
    struct appender a[THREADS];
    pthread_t th[THREADS];
    json_t *list = NULL, *e;
    size_t skipped = 99, i;
    int next[THREADS] = {0};
    for (int t = 0; t < THREADS; t++) {
        a[t] = (struct appender){dir, t, 0};
        assert_int_equal(pthread_create(&th[t], NULL, append_many, &a[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        assert_int_equal(a[t].failures, 0);
    }
    assert_rc(audit_list(dir, 0, &list, &skipped), DS_OK);
    assert_int_equal(skipped, 0);
    assert_int_equal(json_array_size(list), THREADS * PER_THREAD);
    /* Every line whole, and each thread's lines in its own order. */
    json_array_foreach(list, i, e)
    {
        int t = atoi(json_string_value(json_object_get(e, "user")) + 4);
        assert_true(t >= 0 && t < THREADS);
        assert_int_equal(atoi(json_string_value(json_object_get(e, "target"))), next[t]++);
        const char *o = json_string_value(json_object_get(e, "outcome"));
        assert_int_equal(strlen(o), 599);
        assert_int_equal(strspn(o, (char[]){(char)('a' + t), 0}), 599);
    }
    json_decref(list);
}

static void test_audit_corrupt_line_skipped_and_counted(void **state)
{
    const char *dir = *state;
    char path[TU_PATH_MAX];
    json_t *list = NULL;
    size_t skipped = 0;
    log_path(path, dir);
    assert_rc(audit_append(dir, "alice", "login", "", "ok"), DS_OK);
    append_file(path, "{\"ts\":\"2026-12-02T10:31:00Z\",\"user\":\"torn\n"); /* a torn line */
    append_file(path, "not json at all\n");
    append_file(path, "[1,2,3]\n");
    append_file(path,
                "{\"ts\":\"t\",\"user\":\"u\",\"action\":7,\"target\":\"\",\"outcome\":\"\"}\n");
    append_file(path, "{\"ts\":\"t\",\"user\":\"u\",\"action\":\"a\",\"target\":\"\"}\n");
    assert_rc(audit_append(dir, "bob", "logout", "", "ok"), DS_OK);
    assert_rc(audit_list(dir, 0, &list, &skipped), DS_OK);
    assert_int_equal(skipped, 5);
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(field(list, 0, "user"), "alice");
    assert_string_equal(field(list, 1, "user"), "bob");
    json_decref(list);
    /* limit counts lines, bad ones too: the last three hold one good entry. */
    assert_rc(audit_list(dir, 3, &list, &skipped), DS_OK);
    assert_int_equal(skipped, 2);
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);
    assert_rc(audit_list(dir, 3, &list, NULL), DS_OK); /* skipped_out may be NULL */
    json_decref(list);
}

static void test_audit_bad_fields_refused(void **state)
{
    const char *dir = *state;
    char path[TU_PATH_MAX];
    static char big[AUDIT_FIELD_MAX + 2];
    memset(big, 'x', AUDIT_FIELD_MAX + 1);
    assert_rc(audit_append(dir, "", "login", "", ""), DS_EINVAL);
    assert_rc(audit_append(dir, "alice", "", "", ""), DS_EINVAL);
    assert_rc(audit_append(dir, NULL, "login", "", ""), DS_EINVAL);
    assert_rc(audit_append(dir, "alice", "login", NULL, ""), DS_EINVAL);
    assert_rc(audit_append(dir, "alice", "login", "", NULL), DS_EINVAL);
    assert_rc(audit_append(dir, "alice\xff", "login", "", ""), DS_EINVAL);
    assert_rc(audit_append(dir, "alice", "login", "\xe5\xbc", ""), DS_EINVAL);
    assert_rc(audit_append(dir, "alice", "login", big, ""), DS_EINVAL);
    log_path(path, dir);
    assert_int_not_equal(access(path, F_OK), 0); /* nothing written */
    char missing[TU_PATH_MAX];
    snprintf(missing, sizeof(missing), "%s/no/such/dir", dir);
    assert_rc(audit_append(missing, "alice", "login", "", ""), DS_EIO);
}

static void test_audit_file_mode_0600(void **state)
{
    const char *dir = *state;
    char path[TU_PATH_MAX];
    struct stat st;
    mode_t old = umask(0);
    assert_rc(audit_append(dir, "alice", "login", "", "ok"), DS_OK);
    log_path(path, dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    /* A log put back with a wider mode is narrowed at the next append. */
    assert_int_equal(chmod(path, 0644), 0);
    assert_rc(audit_append(dir, "alice", "logout", "", "ok"), DS_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    umask(old);
}

static int run_cli(const char *dir, const char *args)
{
    static const struct cli_command table[] = {
        {"audit", "limit:", NULL, "", "", NULL},
        {NULL, NULL, NULL, NULL, NULL, NULL},
    };
    char buf[1024], *argv[16];
    int argc = 0;
    snprintf(buf, sizeof(buf), "dualsync --data %s audit %s", dir, args);
    for (char *tok = strtok(buf, " "); tok && argc < 16; tok = strtok(NULL, " "))
        argv[argc++] = tok;
    struct cli_parsed p;
    if (!cli_parse(argc, argv, table, &p))
        return 2;
    return audit_cli_main(&p);
}

static void test_audit_cli(void **state)
{
    const char *dir = *state;
    char path[TU_PATH_MAX];
    assert_int_equal(run_cli(dir, ""), 1); /* not an initialised data directory */
    snprintf(path, sizeof(path), "%s/node.conf", dir);
    tu_write_file(path, "[node]\n");
    assert_int_equal(run_cli(dir, ""), 0); /* no log yet */
    assert_rc(audit_append(dir, "张伟", "intro send", "DY-0001", "ok"), DS_OK);
    assert_rc(audit_append(dir, "alice", "view", "\x1b[31m", ""), DS_OK);
    assert_int_equal(run_cli(dir, ""), 0);
    assert_int_equal(run_cli(dir, "--limit 1"), 0);
    assert_int_equal(run_cli(dir, "--limit 0 --json"), 0);
    assert_int_equal(run_cli(dir, "--limit -1"), 2);
    assert_int_equal(run_cli(dir, "--limit x"), 2);
    assert_int_equal(run_cli(dir, "--limit"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        tu_test_tmpdir(test_audit_append_and_list_in_order),
        tu_test_tmpdir(test_audit_limit_takes_the_tail),
        tu_test_tmpdir(test_audit_limit_across_blocks),
        tu_test_tmpdir(test_audit_concurrent_appends_whole_lines),
        tu_test_tmpdir(test_audit_corrupt_line_skipped_and_counted),
        tu_test_tmpdir(test_audit_bad_fields_refused),
        tu_test_tmpdir(test_audit_file_mode_0600),
        tu_test_tmpdir(test_audit_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
