/* Unit tests of accounts: DIR/users round trips (add, list, passwd, remove), the names and
 * passwords refused, the file's mode under umask 0, a corrupt line as an error, and the
 * login guard driven by an injected clock: right and wrong passwords, unknown names, the
 * lockout after exactly ACCOUNT_LOCK_FAILURES failures and its end, the bound on tracked
 * names, parallel guesses that cannot outrun the count, and the CLI's `user` commands
 * with --password-file. Each hash costs about 0.15 s (Argon2id, interactive), so the
 * tests hash no more than they need. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "accounts.h"
#include "cliargs.h"
#include "testutil.h"

#define T0 1000000u /* any start time: the clock is injected */

/* Hashes at libsodium's minimum cost (8 KiB, 1 pass): for the tests of the lockout logic,
 * where the cost is not what is tested. Logins verify at whatever cost a hash names. */
static char cheap_dummy[crypto_pwhash_STRBYTES];

static void cheap_hash(const char *password, char *out)
{
    assert_int_equal(crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_MIN,
                                       crypto_pwhash_MEMLIMIT_MIN),
                     0);
}

static struct accounts_guard *cheap_guard(size_t max_names)
{
    return accounts_guard_new_with(max_names, cheap_dummy);
}

/* Writes DIR/users as accounts_add would, with cheap hashes; each entry is
 * {name, role, password}, ending with a NULL name. */
static void write_users(const char *dir, const char *const (*entries)[3])
{
    char path[TU_PATH_MAX], hash[crypto_pwhash_STRBYTES];
    snprintf(path, sizeof(path), "%s/users", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (; (*entries)[0]; entries++) {
        cheap_hash((*entries)[2], hash);
        fprintf(f, "%s %s %s\n", (*entries)[0], (*entries)[1], hash);
    }
    assert_int_equal(fclose(f), 0);
}

static void path_of(char *buf, const char *dir, const char *file)
{
    snprintf(buf, TU_PATH_MAX, "%s/%s", dir, file);
}

/* The list as "name:role,name:role" for one-line assertions. */
static void list_text(const char *dir, char *buf, size_t size)
{
    json_t *list = NULL, *e;
    size_t i;
    assert_rc(accounts_list(dir, &list), DS_OK);
    buf[0] = '\0';
    json_array_foreach(list, i, e)
    {
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%s%s:%s", i ? "," : "",
                 json_string_value(json_object_get(e, "name")),
                 json_string_value(json_object_get(e, "role")));
    }
    json_decref(list);
}

static void test_accounts_roles_parse_and_name(void **state)
{
    enum account_role r = ACCOUNT_VIEWER;
    (void)state;
    assert_rc(account_role_parse("operator", &r), DS_OK);
    assert_int_equal(r, ACCOUNT_OPERATOR);
    assert_rc(account_role_parse("viewer", &r), DS_OK);
    assert_int_equal(r, ACCOUNT_VIEWER);
    r = ACCOUNT_OPERATOR;
    assert_rc(account_role_parse("admin", &r), DS_EINVAL);
    assert_rc(account_role_parse("Operator", &r), DS_EINVAL);
    assert_rc(account_role_parse(NULL, &r), DS_EINVAL);
    assert_int_equal(r, ACCOUNT_OPERATOR); /* untouched on failure */
    assert_string_equal(account_role_name(ACCOUNT_OPERATOR), "operator");
    assert_string_equal(account_role_name(ACCOUNT_VIEWER), "viewer");
}

static void test_accounts_name_rules(void **state)
{
    char long_name[ACCOUNT_NAME_MAX + 1];
    (void)state;
    assert_true(account_name_valid("alice"));
    assert_true(account_name_valid("张伟"));
    assert_true(account_name_valid("王小红-2026_街道"));
    assert_true(account_name_valid("a.b@jinyu"));
    assert_false(account_name_valid(NULL));
    assert_false(account_name_valid(""));
    assert_false(account_name_valid("al ice"));
    assert_false(account_name_valid("al\tice"));
    assert_false(account_name_valid("al\nice"));
    assert_false(account_name_valid("al\x01ice"));
    assert_false(account_name_valid("al\x7f"));
    assert_false(account_name_valid("张\xe3\x80\x80伟")); /* U+3000 ideographic space */
    assert_false(account_name_valid("a\xc2\xa0"
                                    "b"));             /* U+00A0 no-break space */
    assert_false(account_name_valid("a\xe2\x80\x8b")); /* U+200B zero width space */
    assert_false(account_name_valid("a\xe2\x80\xae")); /* U+202E right-to-left override */
    assert_false(account_name_valid("a\xc2\x85"));     /* U+0085 (C1) */
    assert_false(account_name_valid("a:b"));
    assert_false(account_name_valid("a/b"));
    assert_false(account_name_valid("a\"b"));
    assert_false(account_name_valid("a'b"));
    assert_false(account_name_valid("a`b"));
    assert_false(account_name_valid("\xff\xfe"));     /* not UTF-8 */
    assert_false(account_name_valid("\xe5\xbc"));     /* truncated 张 */
    assert_false(account_name_valid("\xc0\xaf"));     /* overlong '/' */
    assert_false(account_name_valid("\xed\xa0\x80")); /* surrogate */
    memset(long_name, 'a', sizeof(long_name));
    long_name[ACCOUNT_NAME_MAX - 1] = '\0'; /* 63 bytes: the longest */
    assert_true(account_name_valid(long_name));
    long_name[ACCOUNT_NAME_MAX - 1] = 'a';
    long_name[ACCOUNT_NAME_MAX] = '\0'; /* 64 bytes */
    assert_false(account_name_valid(long_name));
    /* 21 × 张 = 63 bytes fits; one more does not. */
    char cjk[3 * 22 + 1] = "";
    for (int i = 0; i < 21; i++)
        strcat(cjk, "张");
    assert_true(account_name_valid(cjk));
    strcat(cjk, "张");
    assert_false(account_name_valid(cjk));
}

static void test_accounts_round_trip(void **state)
{
    const char *dir = *state;
    char text[512];
    enum account_role role = ACCOUNT_OPERATOR;
    list_text(dir, text, sizeof(text)); /* no file yet: empty list */
    assert_string_equal(text, "");
    assert_rc(accounts_get(dir, "alice", &role), DS_ENOTFOUND);

    assert_rc(accounts_add(dir, "alice", ACCOUNT_OPERATOR, "correct horse"), DS_OK);
    assert_rc(accounts_add(dir, "张伟", ACCOUNT_VIEWER, "battery staple"), DS_OK);
    list_text(dir, text, sizeof(text));
    assert_string_equal(text, "alice:operator,张伟:viewer");
    assert_rc(accounts_get(dir, "张伟", &role), DS_OK);
    assert_int_equal(role, ACCOUNT_VIEWER);

    assert_rc(accounts_passwd(dir, "张伟", "new password"), DS_OK);
    list_text(dir, text, sizeof(text)); /* the role stays */
    assert_string_equal(text, "alice:operator,张伟:viewer");

    assert_rc(accounts_remove(dir, "alice"), DS_OK);
    list_text(dir, text, sizeof(text));
    assert_string_equal(text, "张伟:viewer");
    assert_rc(accounts_remove(dir, "alice"), DS_ENOTFOUND);
    assert_rc(accounts_passwd(dir, "alice", "whatever1"), DS_ENOTFOUND);

    /* The file holds hashes, never the password. */
    char path[TU_PATH_MAX], buf[1024] = "";
    path_of(path, dir, "users");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_non_null(strstr(buf, "张伟 viewer $argon2id$"));
    assert_null(strstr(buf, "new password"));
    assert_null(strstr(buf, "battery"));
    path_of(path, dir, "users.tmp");
    assert_int_not_equal(access(path, F_OK), 0); /* no temp file left behind */
}

static void test_accounts_duplicate_refused(void **state)
{
    const char *dir = *state;
    char text[256];
    assert_rc(accounts_add(dir, "alice", ACCOUNT_OPERATOR, "password1"), DS_OK);
    assert_rc(accounts_add(dir, "alice", ACCOUNT_VIEWER, "password2"), DS_EEXIST);
    list_text(dir, text, sizeof(text));
    assert_string_equal(text, "alice:operator");
}

static void test_accounts_bad_input_refused(void **state)
{
    const char *dir = *state;
    char text[256], path[TU_PATH_MAX];
    char long_name[ACCOUNT_NAME_MAX + 1];
    memset(long_name, 'b', sizeof(long_name) - 1);
    long_name[ACCOUNT_NAME_MAX] = '\0';
    char long_pw[ACCOUNT_PASSWORD_MAX + 2];
    memset(long_pw, 'p', sizeof(long_pw) - 1);
    long_pw[ACCOUNT_PASSWORD_MAX + 1] = '\0';
    assert_rc(accounts_add(dir, "", ACCOUNT_VIEWER, "password1"), DS_EINVAL);
    assert_rc(accounts_add(dir, "al ice", ACCOUNT_VIEWER, "password1"), DS_EINVAL);
    assert_rc(accounts_add(dir, "al\x02ice", ACCOUNT_VIEWER, "password1"), DS_EINVAL);
    assert_rc(accounts_add(dir, long_name, ACCOUNT_VIEWER, "password1"), DS_EINVAL);
    assert_rc(accounts_add(dir, "\xe5\xbc\xa0\xff", ACCOUNT_VIEWER, "password1"), DS_EINVAL);
    assert_rc(accounts_add(dir, "alice", ACCOUNT_VIEWER, "1234567"), DS_EINVAL); /* 7 bytes */
    assert_rc(accounts_add(dir, "alice", ACCOUNT_VIEWER, ""), DS_EINVAL);
    assert_rc(accounts_add(dir, "alice", ACCOUNT_VIEWER, NULL), DS_EINVAL);
    assert_rc(accounts_add(dir, "alice", ACCOUNT_VIEWER, long_pw), DS_EINVAL);
    assert_rc(accounts_add(dir, "alice", (enum account_role)7, "password1"), DS_EINVAL);
    path_of(path, dir, "users");
    assert_int_not_equal(access(path, F_OK), 0);                             /* nothing written */
    assert_rc(accounts_add(dir, "张伟", ACCOUNT_VIEWER, "12345678"), DS_OK); /* 8 is enough */
    assert_rc(accounts_passwd(dir, "张伟", "short"), DS_EINVAL);
    list_text(dir, text, sizeof(text));
    assert_string_equal(text, "张伟:viewer");
}

static void test_accounts_file_mode_0600_under_umask_0(void **state)
{
    const char *dir = *state;
    char path[TU_PATH_MAX];
    struct stat st;
    mode_t old = umask(0);
    assert_rc(accounts_add(dir, "alice", ACCOUNT_OPERATOR, "password1"), DS_OK);
    path_of(path, dir, "users");
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    path_of(path, dir, "users.lock");
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    /* A temp file left with a wide mode by a crash does not widen the next users file. */
    path_of(path, dir, "users.tmp");
    tu_write_file(path, "junk");
    assert_int_equal(chmod(path, 0666), 0);
    assert_rc(accounts_remove(dir, "alice"), DS_OK);
    path_of(path, dir, "users");
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    umask(old);
}

static void test_accounts_corrupt_line_is_an_error(void **state)
{
    const char *dir = *state;
    static const char *const bad[] = {
        "alice operator\n",                                 /* two fields */
        "alice admin $argon2id$v=19$x\n",                   /* unknown role */
        "al:ice viewer $argon2id$v=19$x\n",                 /* bad name */
        "alice viewer plaintext\n",                         /* not a hash */
        "alice viewer $argon2id$a b\n",                     /* four fields */
        "bob viewer $argon2id$x\nbob viewer $argon2id$y\n", /* duplicate */
    };
    char path[TU_PATH_MAX];
    json_t *list = NULL;
    enum account_role role;
    uint64_t retry = 0;
    struct accounts_guard *g = cheap_guard(ACCOUNT_GUARD_NAMES);
    path_of(path, dir, "users");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tu_write_file(path, bad[i]);
        assert_rc(accounts_list(dir, &list), DS_EIO);
        assert_null(list);
        assert_rc(accounts_get(dir, "alice", &role), DS_EIO);
        assert_rc(accounts_remove(dir, "alice"), DS_EIO);
        assert_rc(accounts_login(g, dir, "alice", "password1", T0, &role, &retry), DS_EIO);
    }
    /* Not rewritten without the line it did not understand. */
    assert_rc(accounts_add(dir, "carol", ACCOUNT_VIEWER, "password1"), DS_EIO);
    tu_write_file(path, "\n\n"); /* blank lines are only blank */
    assert_rc(accounts_list(dir, &list), DS_OK);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    accounts_guard_destroy(&g);
    assert_null(g);
    accounts_guard_destroy(&g); /* NULL-safe */
    accounts_guard_destroy(NULL);
}

static void test_accounts_login_right_and_wrong(void **state)
{
    static const char *const users[][3] = {
        {"alice", "operator", "password1"}, {"张伟", "viewer", "密码密码密码"}, {NULL, NULL, NULL}};
    const char *dir = *state;
    struct accounts_guard *g = cheap_guard(ACCOUNT_GUARD_NAMES);
    enum account_role role = ACCOUNT_VIEWER;
    uint64_t retry = 42;
    write_users(dir, users);
    assert_rc(accounts_login(g, dir, "alice", "password1", T0, &role, &retry), DS_OK);
    assert_int_equal(role, ACCOUNT_OPERATOR);
    assert_rc(accounts_login(g, dir, "张伟", "密码密码密码", T0, &role, &retry), DS_OK);
    assert_int_equal(role, ACCOUNT_VIEWER);
    role = ACCOUNT_OPERATOR;
    assert_rc(accounts_login(g, dir, "alice", "password2", T0, &role, &retry), DS_EAUTH);
    assert_rc(accounts_login(g, dir, "alice", "", T0, &role, &retry), DS_EAUTH);
    assert_rc(accounts_login(g, dir, "alice", NULL, T0, &role, &retry), DS_EAUTH);
    /* Unknown names, invalid names and a missing file: the same answer. */
    assert_rc(accounts_login(g, dir, "mallory", "password1", T0, &role, &retry), DS_EAUTH);
    assert_rc(accounts_login(g, dir, "bad name", "password1", T0, &role, &retry), DS_EAUTH);
    assert_rc(accounts_login(g, dir, NULL, "password1", T0, &role, &retry), DS_EAUTH);
    assert_int_equal(role, ACCOUNT_OPERATOR); /* out-params untouched on failure */
    assert_int_equal(retry, 42);
    char other[TU_PATH_MAX];
    tu_tmpdir(other);
    assert_rc(accounts_login(g, other, "alice", "password1", T0, &role, &retry), DS_EAUTH);
    tu_rmtree(other);
    accounts_guard_destroy(&g);
}

static double elapsed_s(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* The real guard and a real account: an unknown name is refused after a hash verification
 * as costly as a wrong password's. Loose bounds (4x): only the skipped hash would fail it. */
static void test_accounts_unknown_name_takes_as_long(void **state)
{
    const char *dir = *state;
    struct accounts_guard *g = accounts_guard_new();
    struct timespec t0, t1, t2;
    enum account_role role;
    uint64_t retry;
    assert_rc(accounts_add(dir, "alice", ACCOUNT_OPERATOR, "password1"), DS_OK);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_rc(accounts_login(g, dir, "alice", "password2", T0, &role, &retry), DS_EAUTH);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_rc(accounts_login(g, dir, "mallory", "password2", T0, &role, &retry), DS_EAUTH);
    clock_gettime(CLOCK_MONOTONIC, &t2);
    double wrong = elapsed_s(&t0, &t1), unknown = elapsed_s(&t1, &t2);
    assert_true(unknown * 4 > wrong);
    assert_true(wrong * 4 > unknown);
    accounts_guard_destroy(&g);
}

static void fail_n(struct accounts_guard *g, const char *dir, const char *name, int n, uint64_t now)
{
    enum account_role role;
    uint64_t retry;
    for (int i = 0; i < n; i++)
        assert_rc(accounts_login(g, dir, name, "wrong password", now + (uint64_t)i, &role, &retry),
                  DS_EAUTH);
}

static void test_accounts_lockout_after_exactly_five(void **state)
{
    static const char *const users[][3] = {
        {"alice", "operator", "password1"}, {"bob", "viewer", "password2"}, {NULL, NULL, NULL}};
    const char *dir = *state;
    struct accounts_guard *g = cheap_guard(ACCOUNT_GUARD_NAMES);
    enum account_role role = ACCOUNT_VIEWER;
    uint64_t retry = 0;
    write_users(dir, users);
    fail_n(g, dir, "alice", ACCOUNT_LOCK_FAILURES - 1, T0);
    /* The fifth failure is still DS_EAUTH, and it locks: t5 is its time. */
    uint64_t t5 = T0 + 100;
    assert_rc(accounts_login(g, dir, "alice", "wrong", t5, &role, &retry), DS_EAUTH);
    assert_rc(accounts_login(g, dir, "alice", "wrong", t5 + 1, &role, &retry), DS_EAGAIN);
    assert_int_equal(retry, ACCOUNT_LOCK_MS - 1);
    /* Still locked with the right password. */
    assert_rc(accounts_login(g, dir, "alice", "password1", t5 + 30000, &role, &retry), DS_EAGAIN);
    assert_int_equal(retry, ACCOUNT_LOCK_MS - 30000);
    assert_rc(accounts_login(g, dir, "alice", "password1", t5 + ACCOUNT_LOCK_MS - 1, &role, &retry),
              DS_EAGAIN);
    assert_int_equal(retry, 1);
    /* Another account is not affected. */
    assert_rc(accounts_login(g, dir, "bob", "password2", t5 + 1, &role, &retry), DS_OK);
    assert_int_equal(role, ACCOUNT_VIEWER);
    /* The lock ends at t5 + ACCOUNT_LOCK_MS. */
    assert_rc(accounts_login(g, dir, "alice", "password1", t5 + ACCOUNT_LOCK_MS, &role, &retry),
              DS_OK);
    assert_int_equal(role, ACCOUNT_OPERATOR);
    /* After the lock the count starts from zero: four failures do not lock again. */
    uint64_t t = t5 + ACCOUNT_LOCK_MS + 10;
    fail_n(g, dir, "alice", ACCOUNT_LOCK_FAILURES - 1, t);
    assert_rc(accounts_login(g, dir, "alice", "password1", t + 10, &role, &retry), DS_OK);
    accounts_guard_destroy(&g);
}

static void test_accounts_lock_ends_without_success(void **state)
{
    const char *dir = *state;
    static const char *const users[][3] = {{"alice", "operator", "password1"}, {NULL, NULL, NULL}};
    struct accounts_guard *g = cheap_guard(ACCOUNT_GUARD_NAMES);
    enum account_role role;
    uint64_t retry = 0;
    write_users(dir, users);
    fail_n(g, dir, "alice", ACCOUNT_LOCK_FAILURES, T0);
    uint64_t t5 = T0 + ACCOUNT_LOCK_FAILURES - 1;
    assert_rc(accounts_login(g, dir, "alice", "wrong", t5 + 5, &role, &retry), DS_EAGAIN);
    /* A lock ends; the next failure is one of five again, not a new lock. */
    assert_rc(accounts_login(g, dir, "alice", "wrong", t5 + ACCOUNT_LOCK_MS, &role, &retry),
              DS_EAUTH);
    assert_rc(accounts_login(g, dir, "alice", "password1", t5 + ACCOUNT_LOCK_MS + 1, &role, &retry),
              DS_OK);
    /* A clock that jumps back does not stretch a lock beyond ACCOUNT_LOCK_MS. */
    fail_n(g, dir, "alice", ACCOUNT_LOCK_FAILURES, 10 * T0);
    assert_rc(accounts_login(g, dir, "alice", "password1", 5 * T0, &role, &retry), DS_EAGAIN);
    assert_int_equal(retry, ACCOUNT_LOCK_MS);
    assert_rc(accounts_login(g, dir, "alice", "password1", 5 * T0 + ACCOUNT_LOCK_MS, &role, &retry),
              DS_OK);
    accounts_guard_destroy(&g);
}

static void test_accounts_success_resets_the_count(void **state)
{
    const char *dir = *state;
    static const char *const users[][3] = {{"alice", "operator", "password1"}, {NULL, NULL, NULL}};
    struct accounts_guard *g = cheap_guard(ACCOUNT_GUARD_NAMES);
    enum account_role role;
    uint64_t retry;
    write_users(dir, users);
    fail_n(g, dir, "alice", ACCOUNT_LOCK_FAILURES - 1, T0);
    assert_rc(accounts_login(g, dir, "alice", "password1", T0 + 10, &role, &retry), DS_OK);
    fail_n(g, dir, "alice", ACCOUNT_LOCK_FAILURES - 1, T0 + 20);
    assert_rc(accounts_login(g, dir, "alice", "password1", T0 + 30, &role, &retry), DS_OK);
    accounts_guard_destroy(&g);
}

static void test_accounts_unknown_names_lock_too(void **state)
{
    const char *dir = *state;
    static const char *const users[][3] = {{"mallory", "viewer", "password1"}, {NULL, NULL, NULL}};
    struct accounts_guard *g = cheap_guard(ACCOUNT_GUARD_NAMES);
    enum account_role role;
    uint64_t retry = 0;
    fail_n(g, dir, "mallory", ACCOUNT_LOCK_FAILURES, T0);
    assert_rc(accounts_login(g, dir, "mallory", "x", T0 + 100, &role, &retry), DS_EAGAIN);
    assert_true(retry > 0 && retry <= ACCOUNT_LOCK_MS);
    /* An account added meanwhile under that name is locked all the same. */
    write_users(dir, users);
    assert_rc(accounts_login(g, dir, "mallory", "password1", T0 + 200, &role, &retry), DS_EAGAIN);
    accounts_guard_destroy(&g);
}

static void test_accounts_passwd_changes_the_password(void **state)
{
    const char *dir = *state;
    struct accounts_guard *g = cheap_guard(ACCOUNT_GUARD_NAMES);
    enum account_role role;
    uint64_t retry;
    assert_rc(accounts_add(dir, "alice", ACCOUNT_OPERATOR, "old password"), DS_OK);
    assert_rc(accounts_passwd(dir, "alice", "new password"), DS_OK);
    assert_rc(accounts_login(g, dir, "alice", "old password", T0, &role, &retry), DS_EAUTH);
    assert_rc(accounts_login(g, dir, "alice", "new password", T0 + 1, &role, &retry), DS_OK);
    assert_int_equal(role, ACCOUNT_OPERATOR);
    accounts_guard_destroy(&g);
}

static void test_accounts_removed_user_cannot_log_in(void **state)
{
    const char *dir = *state;
    struct accounts_guard *g = cheap_guard(ACCOUNT_GUARD_NAMES);
    enum account_role role;
    uint64_t retry;
    assert_rc(accounts_add(dir, "alice", ACCOUNT_OPERATOR, "password1"), DS_OK);
    assert_rc(accounts_login(g, dir, "alice", "password1", T0, &role, &retry), DS_OK);
    assert_rc(accounts_remove(dir, "alice"), DS_OK);
    assert_rc(accounts_login(g, dir, "alice", "password1", T0 + 1, &role, &retry), DS_EAUTH);
    /* Added again with another password: the file is re-read at each login. */
    assert_rc(accounts_add(dir, "alice", ACCOUNT_VIEWER, "password2"), DS_OK);
    assert_rc(accounts_login(g, dir, "alice", "password1", T0 + 2, &role, &retry), DS_EAUTH);
    assert_rc(accounts_login(g, dir, "alice", "password2", T0 + 3, &role, &retry), DS_OK);
    assert_int_equal(role, ACCOUNT_VIEWER);
    accounts_guard_destroy(&g);
}

/* A guard of 2 slots: other names push out unlocked names first, oldest first; a locked
 * name is only pushed out when every tracked name is locked. Unknown names, no file. */
static void test_accounts_guard_memory_is_bounded(void **state)
{
    const char *dir = *state;
    struct accounts_guard *g = cheap_guard(2);
    enum account_role role;
    uint64_t retry;
    fail_n(g, dir, "locked", ACCOUNT_LOCK_FAILURES, T0);
    fail_n(g, dir, "a", ACCOUNT_LOCK_FAILURES - 1, T0 + 10);
    fail_n(g, dir, "b", 1, T0 + 20); /* evicts "a" (unlocked), not "locked" */
    assert_rc(accounts_login(g, dir, "locked", "x", T0 + 30, &role, &retry), DS_EAGAIN);
    /* "a" was forgotten: four more failures do not lock it (a fresh count). */
    fail_n(g, dir, "a", ACCOUNT_LOCK_FAILURES - 1, T0 + 40);
    assert_rc(accounts_login(g, dir, "locked", "x", T0 + 50, &role, &retry), DS_EAGAIN);
    /* Lock "a" too; then a third name must evict a locked one: the least recent. */
    fail_n(g, dir, "a", 1, T0 + 60);
    assert_rc(accounts_login(g, dir, "a", "x", T0 + 70, &role, &retry), DS_EAGAIN);
    assert_rc(accounts_login(g, dir, "locked", "x", T0 + 80, &role, &retry), DS_EAGAIN);
    fail_n(g, dir, "c", 1, T0 + 90); /* "a" is the least recently used now */
    assert_rc(accounts_login(g, dir, "locked", "x", T0 + 100, &role, &retry), DS_EAGAIN);
    assert_rc(accounts_login(g, dir, "a", "x", T0 + 110, &role, &retry), DS_EAUTH);
    accounts_guard_destroy(&g);
}

struct guesser {
    struct accounts_guard *g;
    const char *dir;
    int rc;
};

static void *guess(void *arg)
{
    struct guesser *w = arg;
    enum account_role role;
    uint64_t retry;
    w->rc = accounts_login(w->g, w->dir, "alice", "wrong password", T0, &role, &retry);
    return NULL;
}

/* Eight guesses at once: exactly five are checked (and fail), three find the lock. */
static void test_accounts_parallel_guesses_cannot_outrun_the_lock(void **state)
{
    struct guesser w[8];
    pthread_t th[8];
    struct accounts_guard *g = cheap_guard(ACCOUNT_GUARD_NAMES);
    int eauth = 0, eagain = 0;
    for (int i = 0; i < 8; i++) {
        w[i] = (struct guesser){g, *state, 0};
        assert_int_equal(pthread_create(&th[i], NULL, guess, &w[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        eauth += w[i].rc == DS_EAUTH;
        eagain += w[i].rc == DS_EAGAIN;
    }
    assert_int_equal(eauth, ACCOUNT_LOCK_FAILURES);
    assert_int_equal(eagain, 8 - ACCOUNT_LOCK_FAILURES);
    accounts_guard_destroy(&g);
}

/* ---- the CLI: same table entries as the tools' */

static const struct cli_command cli_table[] = {
    {"user add", "_,role:,password-file:", "_,role", "", "", NULL},
    {"user passwd", "_,password-file:", "_", "", "", NULL},
    {"user remove", "_", "_", "", "", NULL},
    {"user list", "", NULL, "", "", NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};

static int run_cli(const char *dir, const char *line)
{
    char buf[1024], *argv[16];
    int argc = 0;
    snprintf(buf, sizeof(buf), "dualsync --data %s %s", dir, line);
    for (char *tok = strtok(buf, " "); tok && argc < 16; tok = strtok(NULL, " "))
        argv[argc++] = tok;
    struct cli_parsed p;
    if (!cli_parse(argc, argv, cli_table, &p))
        return 2;
    return accounts_cli_main(&p);
}

static void test_accounts_cli_user_commands(void **state)
{
    const char *dir = *state;
    char pw[TU_PATH_MAX], line[TU_PATH_MAX + 128], text[256];
    assert_int_equal(run_cli(dir, "user list"), 1); /* not an initialised data directory */
    path_of(pw, dir, "broker.conf");
    tu_write_file(pw, "[broker]\n");
    path_of(pw, dir, "pw");
    tu_write_file(pw, "password1\r\nsecond line ignored\n");
    snprintf(line, sizeof(line), "user add alice --role operator --password-file %s", pw);
    assert_int_equal(run_cli(dir, line), 0);
    assert_int_equal(run_cli(dir, line), 1); /* exists */
    snprintf(line, sizeof(line), "user add bob --role admin --password-file %s", pw);
    assert_int_equal(run_cli(dir, line), 2); /* bad role: usage */
    snprintf(line, sizeof(line), "user add b:ob --role viewer --password-file %s", pw);
    assert_int_equal(run_cli(dir, line), 1);
    snprintf(line, sizeof(line), "user add bob --role viewer --password-file %s/none", dir);
    assert_int_equal(run_cli(dir, line), 1);
    tu_write_file(pw, "short\n");
    snprintf(line, sizeof(line), "user add bob --role viewer --password-file %s", pw);
    assert_int_equal(run_cli(dir, line), 1);
    snprintf(line, sizeof(line), "user passwd alice --password-file %s", pw);
    assert_int_equal(run_cli(dir, line), 1);
    tu_write_file(pw, "password2");
    snprintf(line, sizeof(line), "user passwd nobody --password-file %s", pw);
    assert_int_equal(run_cli(dir, line), 1);
    snprintf(line, sizeof(line), "user passwd alice --password-file %s", pw);
    assert_int_equal(run_cli(dir, line), 0);
    assert_int_equal(run_cli(dir, "user list"), 0);
    assert_int_equal(run_cli(dir, "user list --json"), 0);
    list_text(dir, text, sizeof(text));
    assert_string_equal(text, "alice:operator");

    struct accounts_guard *g = cheap_guard(ACCOUNT_GUARD_NAMES);
    enum account_role role;
    uint64_t retry;
    assert_rc(accounts_login(g, dir, "alice", "password2", T0, &role, &retry), DS_OK);
    accounts_guard_destroy(&g);

    assert_int_equal(run_cli(dir, "user remove nobody"), 1);
    assert_int_equal(run_cli(dir, "user remove alice"), 0);
    list_text(dir, text, sizeof(text));
    assert_string_equal(text, "");
    snprintf(line, sizeof(line), "--data %s/missing user list", dir);
    assert_int_equal(run_cli(dir, line), 1); /* the last --data wins: no such directory */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accounts_roles_parse_and_name),
        cmocka_unit_test(test_accounts_name_rules),
        tu_test_tmpdir(test_accounts_round_trip),
        tu_test_tmpdir(test_accounts_duplicate_refused),
        tu_test_tmpdir(test_accounts_bad_input_refused),
        tu_test_tmpdir(test_accounts_file_mode_0600_under_umask_0),
        tu_test_tmpdir(test_accounts_corrupt_line_is_an_error),
        tu_test_tmpdir(test_accounts_login_right_and_wrong),
        tu_test_tmpdir(test_accounts_unknown_name_takes_as_long),
        tu_test_tmpdir(test_accounts_lockout_after_exactly_five),
        tu_test_tmpdir(test_accounts_lock_ends_without_success),
        tu_test_tmpdir(test_accounts_success_resets_the_count),
        tu_test_tmpdir(test_accounts_unknown_names_lock_too),
        tu_test_tmpdir(test_accounts_passwd_changes_the_password),
        tu_test_tmpdir(test_accounts_removed_user_cannot_log_in),
        tu_test_tmpdir(test_accounts_guard_memory_is_bounded),
        tu_test_tmpdir(test_accounts_parallel_guesses_cannot_outrun_the_lock),
        tu_test_tmpdir(test_accounts_cli_user_commands),
    };
    static const char dummy[] = "not the password of anyone";
    if (sodium_init() < 0 ||
        crypto_pwhash_str(cheap_dummy, dummy, strlen(dummy), crypto_pwhash_OPSLIMIT_MIN,
                          crypto_pwhash_MEMLIMIT_MIN) != 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
