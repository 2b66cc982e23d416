/* accounts: console accounts in DIR/users and the login lockout.
 *
 * The file is small (a street has a handful of operators), so every call reads it whole and
 * every change rewrites it whole: temp file created 0600, fsync, rename, fsync of the
 * directory. A reader therefore sees the old file or the new one, never a mix, and needs no
 * lock. Writers (read-modify-write) take two locks: a process-wide mutex, because fcntl
 * locks are per process and would not keep two console threads apart, and an fcntl lock
 * on DIR/users.lock, which keeps the CLI and the daemon apart. Hashing (about 0.15 s) is
 * done before the locks are taken.
 *
 * The guard is a fixed table of tracked names under one mutex. A login marks its name busy
 * while it reads the file and verifies the hash outside the mutex; a second login of the
 * same name waits for the first, so N parallel guesses count as N failures in turn and the
 * fifth locks the rest out. A slot in use by a login is never evicted. Unknown names are
 * verified against a dummy hash made at start with the same parameters, so their answer
 * takes as long as a wrong password's. */
#include "accounts.h"

#include "cliargs.h"
#include "err.h"
#include "ids.h"
#include "lang.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define PATH_SIZE 4096
#define HASH_SIZE crypto_pwhash_STRBYTES
#define LINE_MAX_BYTES (ACCOUNT_NAME_MAX + 16 + HASH_SIZE)

struct account {
    char name[ACCOUNT_NAME_MAX];
    enum account_role role;
    char hash[HASH_SIZE];
};

struct account_table {
    struct account *v;
    size_t n, cap;
};

const char *account_role_name(enum account_role r)
{
    switch (r) {
    case ACCOUNT_VIEWER:
        return "viewer";
    case ACCOUNT_OPERATOR:
        return "operator";
    }
    return "unknown";
}

int account_role_parse(const char *text, enum account_role *out)
{
    if (text && strcmp(text, "viewer") == 0) {
        *out = ACCOUNT_VIEWER;
        return DS_OK;
    }
    if (text && strcmp(text, "operator") == 0) {
        *out = ACCOUNT_OPERATOR;
        return DS_OK;
    }
    return DS_EINVAL;
}

/* Decodes one code point of already validated UTF-8; advances *s. */
static uint32_t utf8_next(const unsigned char **s)
{
    const unsigned char *p = *s;
    uint32_t c = p[0];
    size_t n = 1;
    if (c >= 0xf0) {
        c &= 0x07;
        n = 4;
    } else if (c >= 0xe0) {
        c &= 0x0f;
        n = 3;
    } else if (c >= 0xc0) {
        c &= 0x1f;
        n = 2;
    }
    for (size_t i = 1; i < n; i++)
        c = (c << 6) | (p[i] & 0x3fu);
    *s = p + n;
    return c;
}

/* Whitespace, controls and invisible format characters: a name must look like what it is. */
static bool forbidden_in_name(uint32_t c)
{
    if (c < 0x20 || c == ' ' || (c >= 0x7f && c <= 0xa0))
        return true;
    if (c == ':' || c == '/' || c == '"' || c == '\'' || c == '`')
        return true;
    return c == 0x1680 || (c >= 0x2000 && c <= 0x200f) || (c >= 0x2028 && c <= 0x202f) ||
           (c >= 0x205f && c <= 0x206f) || c == 0x3000 || c == 0xfeff;
}

bool account_name_valid(const char *name)
{
    if (!name)
        return false;
    size_t len = strnlen(name, ACCOUNT_NAME_MAX);
    if (len == 0 || len >= ACCOUNT_NAME_MAX || !ids_utf8_valid(name, len))
        return false;
    const unsigned char *p = (const unsigned char *)name;
    while (*p)
        if (forbidden_in_name(utf8_next(&p)))
            return false;
    return true;
}

static bool password_ok(const char *password)
{
    size_t len = password ? strnlen(password, ACCOUNT_PASSWORD_MAX + 1) : 0;
    return len >= ACCOUNT_PASSWORD_MIN && len <= ACCOUNT_PASSWORD_MAX;
}

static int make_path(char *buf, const char *dir, const char *file)
{
    int n = snprintf(buf, PATH_SIZE, "%s/%s", dir, file);
    if (n < 0 || n >= PATH_SIZE) {
        log_error("accounts: path too long dir=%.200s", dir);
        return DS_EIO;
    }
    return DS_OK;
}

static int crypto_ready(void)
{
    if (sodium_init() < 0) {
        log_error("accounts: sodium_init failed");
        return DS_EIO;
    }
    return DS_OK;
}

static int hash_password(const char *password, char hash_out[HASH_SIZE])
{
    int rc = crypto_ready();
    if (rc != DS_OK)
        return rc;
    if (crypto_pwhash_str(hash_out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        log_error("accounts: crypto_pwhash_str failed (out of memory?)");
        return DS_EIO;
    }
    return DS_OK;
}

/* ---- DIR/users */

static void table_free(struct account_table *t)
{
    if (t->v)
        sodium_memzero(t->v, t->cap * sizeof(*t->v));
    free(t->v);
    memset(t, 0, sizeof(*t));
}

static struct account *table_find(struct account_table *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i].name, name) == 0)
            return &t->v[i];
    return NULL;
}

static struct account *table_push(struct account_table *t)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 8;
        t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
    }
    struct account *a = &t->v[t->n++];
    memset(a, 0, sizeof(*a));
    return a;
}

/* Parses "NAME ROLE HASH" (no line break) into a new entry of t. false if malformed. */
static bool parse_line(char *line, struct account_table *t)
{
    char *role = strchr(line, ' ');
    char *hash = role ? strchr(role + 1, ' ') : NULL;
    if (!hash)
        return false;
    *role++ = '\0';
    *hash++ = '\0';
    enum account_role r;
    if (!account_name_valid(line) || account_role_parse(role, &r) != DS_OK ||
        strlen(hash) >= HASH_SIZE || strncmp(hash, "$argon2", 7) != 0 || strchr(hash, ' ') ||
        table_find(t, line))
        return false;
    struct account *a = table_push(t);
    snprintf(a->name, sizeof(a->name), "%s", line);
    a->role = r;
    snprintf(a->hash, sizeof(a->hash), "%s", hash);
    return true;
}

/* Reads DIR/users into *t_out (caller frees with table_free). Missing file: empty.
 * Blank lines are tolerated (a hand edit); anything else must be an account. */
static int load_accounts(const char *dir, struct account_table *t_out)
{
    char path[PATH_SIZE];
    struct account_table t = {0};
    char *line = NULL;
    size_t size = 0, lineno = 0;
    int rc = make_path(path, dir, "users");
    if (rc != DS_OK)
        return rc;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) {
            *t_out = t;
            return DS_OK;
        }
        log_error("accounts: open path=%s: %s", path, strerror(errno));
        return DS_EIO;
    }
    ssize_t n;
    while ((n = getline(&line, &size, f)) > 0) {
        lineno++;
        size_t len = (size_t)n;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        /* strlen catches a NUL inside the line, which getline's count includes. */
        if (len > LINE_MAX_BYTES || strlen(line) != len || !parse_line(line, &t)) {
            log_error("accounts: malformed line path=%s line=%zu", path, lineno);
            rc = DS_EIO;
            break;
        }
    }
    if (rc == DS_OK && ferror(f)) {
        log_error("accounts: read path=%s: %s", path, strerror(errno));
        rc = DS_EIO;
    }
    fclose(f);
    if (line)
        sodium_memzero(line, size);
    free(line);
    if (rc != DS_OK) {
        table_free(&t);
        return rc;
    }
    *t_out = t;
    return DS_OK;
}

static bool write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        log_error("accounts: fsync dir=%s: %s", dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        return DS_EIO;
    }
    close(fd);
    return DS_OK;
}

/* Replaces DIR/users with t: temp file 0600, fsync, rename, fsync of the directory. */
static int save_accounts(const char *dir, const struct account_table *t)
{
    char path[PATH_SIZE], tmp[PATH_SIZE];
    int rc = make_path(path, dir, "users");
    if (rc == DS_OK)
        rc = make_path(tmp, dir, "users.tmp");
    if (rc != DS_OK)
        return rc;
    size_t cap = t->n * LINE_MAX_BYTES + 1, len = 0;
    char *text = xmalloc(cap);
    text[0] = '\0';
    for (size_t i = 0; i < t->n; i++)
        len += (size_t)snprintf(text + len, cap - len, "%s %s %s\n", t->v[i].name,
                                account_role_name(t->v[i].role), t->v[i].hash);
    rc = DS_EIO;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_error("accounts: create path=%s: %s", tmp, strerror(errno));
        goto out;
    }
    /* A temp file left by a crash keeps its old mode through O_TRUNC: set it again. */
    bool ok = fchmod(fd, 0600) == 0 && write_all(fd, text, len) && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        log_error("accounts: write path=%s: %s", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    rc = fsync_dir(dir);
out:
    free(text);
    return rc;
}

/* fcntl locks belong to the process, so threads of one process are kept apart by this. */
static pthread_mutex_t writers_mu = PTHREAD_MUTEX_INITIALIZER;

static int lock_accounts(const char *dir, int *fd_out)
{
    char path[PATH_SIZE];
    int rc = make_path(path, dir, "users.lock");
    if (rc != DS_OK)
        return rc;
    pthread_mutex_lock(&writers_mu);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    int r = fd < 0 ? -1 : fcntl(fd, F_SETLKW, &fl);
    while (r != 0 && fd >= 0 && errno == EINTR)
        r = fcntl(fd, F_SETLKW, &fl);
    if (r != 0) {
        log_error("accounts: lock path=%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        pthread_mutex_unlock(&writers_mu);
        return DS_EIO;
    }
    *fd_out = fd;
    return DS_OK;
}

static void unlock_accounts(int fd)
{
    close(fd); /* releases the fcntl lock */
    pthread_mutex_unlock(&writers_mu);
}

int accounts_add(const char *dir, const char *name, enum account_role role, const char *password)
{
    char hash[HASH_SIZE];
    struct account_table t = {0};
    int fd = -1;
    if (!account_name_valid(name) || (role != ACCOUNT_VIEWER && role != ACCOUNT_OPERATOR) ||
        !password_ok(password))
        return DS_EINVAL;
    int rc = hash_password(password, hash);
    if (rc != DS_OK)
        return rc;
    rc = lock_accounts(dir, &fd);
    if (rc != DS_OK)
        goto out;
    rc = load_accounts(dir, &t);
    if (rc != DS_OK)
        goto out;
    if (table_find(&t, name)) {
        rc = DS_EEXIST;
        goto out;
    }
    struct account *a = table_push(&t);
    snprintf(a->name, sizeof(a->name), "%s", name);
    a->role = role;
    memcpy(a->hash, hash, sizeof(hash));
    rc = save_accounts(dir, &t);
out:
    if (fd >= 0)
        unlock_accounts(fd);
    table_free(&t);
    sodium_memzero(hash, sizeof(hash));
    return rc;
}

int accounts_passwd(const char *dir, const char *name, const char *password)
{
    char hash[HASH_SIZE];
    struct account_table t = {0};
    int fd = -1;
    if (!account_name_valid(name))
        return DS_ENOTFOUND;
    if (!password_ok(password))
        return DS_EINVAL;
    int rc = hash_password(password, hash);
    if (rc != DS_OK)
        return rc;
    rc = lock_accounts(dir, &fd);
    if (rc != DS_OK)
        goto out;
    rc = load_accounts(dir, &t);
    if (rc != DS_OK)
        goto out;
    struct account *a = table_find(&t, name);
    if (!a) {
        rc = DS_ENOTFOUND;
        goto out;
    }
    memcpy(a->hash, hash, sizeof(hash));
    rc = save_accounts(dir, &t);
out:
    if (fd >= 0)
        unlock_accounts(fd);
    table_free(&t);
    sodium_memzero(hash, sizeof(hash));
    return rc;
}

int accounts_remove(const char *dir, const char *name)
{
    struct account_table t = {0};
    int fd = -1;
    if (!account_name_valid(name))
        return DS_ENOTFOUND;
    int rc = lock_accounts(dir, &fd);
    if (rc != DS_OK)
        return rc;
    rc = load_accounts(dir, &t);
    if (rc != DS_OK)
        goto out;
    struct account *a = table_find(&t, name);
    if (!a) {
        rc = DS_ENOTFOUND;
        goto out;
    }
    size_t i = (size_t)(a - t.v);
    memmove(&t.v[i], &t.v[i + 1], (t.n - i - 1) * sizeof(*t.v));
    t.n--;
    rc = save_accounts(dir, &t);
out:
    unlock_accounts(fd);
    table_free(&t);
    return rc;
}

int accounts_get(const char *dir, const char *name, enum account_role *role_out)
{
    struct account_table t = {0};
    if (!account_name_valid(name))
        return DS_ENOTFOUND;
    int rc = load_accounts(dir, &t);
    if (rc != DS_OK)
        return rc;
    struct account *a = table_find(&t, name);
    if (a)
        *role_out = a->role;
    else
        rc = DS_ENOTFOUND;
    table_free(&t);
    return rc;
}

int accounts_list(const char *dir, json_t **list_out)
{
    struct account_table t = {0};
    int rc = load_accounts(dir, &t);
    if (rc != DS_OK)
        return rc;
    json_t *list = json_array();
    for (size_t i = 0; i < t.n; i++)
        json_array_append_new(list, json_pack("{s:s,s:s}", "name", t.v[i].name, "role",
                                              account_role_name(t.v[i].role)));
    table_free(&t);
    *list_out = list;
    return DS_OK;
}

/* ---- the login guard */

struct tracked {
    char name[ACCOUNT_NAME_MAX]; /* "" = free slot */
    unsigned failures;           /* consecutive, since the last success or lock */
    uint64_t locked_until;       /* 0 = not locked */
    uint64_t last_used;          /* guard tick of the last attempt: LRU order */
    unsigned users;              /* logins holding or waiting for this slot */
    bool busy;                   /* a login is checking this name now */
};

struct accounts_guard {
    pthread_mutex_t mu;
    pthread_cond_t idle; /* some slot stopped being busy */
    struct tracked *slots;
    size_t cap;
    uint64_t tick;
    char dummy[HASH_SIZE]; /* hash of a random password, for unknown names */
};

struct accounts_guard *accounts_guard_new(void)
{
    return accounts_guard_new_with(ACCOUNT_GUARD_NAMES, NULL);
}

struct accounts_guard *accounts_guard_new_with(size_t max_names, const char *dummy_hash)
{
    struct accounts_guard *g = xcalloc(1, sizeof(*g));
    g->cap = max_names ? max_names : 1;
    g->slots = xcalloc(g->cap, sizeof(*g->slots));
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->idle, NULL);
    /* Like xalloc: the hash fails only when 64 MiB cannot be had, and a console that
     * cannot hash cannot log anyone in. */
    if (crypto_ready() != DS_OK)
        abort();
    if (dummy_hash) {
        snprintf(g->dummy, sizeof(g->dummy), "%s", dummy_hash);
        return g;
    }
    unsigned char secret[32];
    char secret_hex[2 * sizeof(secret) + 1];
    randombytes_buf(secret, sizeof(secret));
    sodium_bin2hex(secret_hex, sizeof(secret_hex), secret, sizeof(secret));
    if (hash_password(secret_hex, g->dummy) != DS_OK)
        abort();
    sodium_memzero(secret, sizeof(secret));
    sodium_memzero(secret_hex, sizeof(secret_hex));
    return g;
}

void accounts_guard_destroy(struct accounts_guard **gp)
{
    struct accounts_guard *g = gp ? *gp : NULL;
    if (!g)
        return;
    pthread_cond_destroy(&g->idle);
    pthread_mutex_destroy(&g->mu);
    free(g->slots);
    free(g);
    *gp = NULL;
}

static bool slot_locked(const struct tracked *t, uint64_t now_ms)
{
    return t->locked_until > now_ms;
}

/* The slot of name, claimed if new: a free slot, else the least recently used unlocked
 * one, else the least recently used locked one; never one a login holds. NULL if every
 * slot is held. Under g->mu. */
static struct tracked *track(struct accounts_guard *g, const char *name, uint64_t now_ms)
{
    struct tracked *best = NULL;
    for (size_t i = 0; i < g->cap; i++) {
        struct tracked *t = &g->slots[i];
        if (strcmp(t->name, name) == 0)
            return t;
        if (t->users > 0)
            continue;
        if (!best || (!t->name[0] && best->name[0]))
            best = t;
        else if (!best->name[0])
            continue;
        else if (slot_locked(best, now_ms) != slot_locked(t, now_ms))
            best = slot_locked(t, now_ms) ? best : t;
        else if (t->last_used < best->last_used)
            best = t;
    }
    if (best) {
        memset(best, 0, sizeof(*best));
        snprintf(best->name, sizeof(best->name), "%s", name);
    }
    return best;
}

/* Finds name in DIR/users; *found_out false and DS_OK when it is not there. */
static int lookup(const char *dir, const char *name, bool *found_out, enum account_role *role_out,
                  char hash_out[HASH_SIZE])
{
    struct account_table t = {0};
    int rc = load_accounts(dir, &t);
    if (rc != DS_OK)
        return rc;
    struct account *a = table_find(&t, name);
    *found_out = a != NULL;
    if (a) {
        *role_out = a->role;
        memcpy(hash_out, a->hash, HASH_SIZE);
    }
    table_free(&t);
    return DS_OK;
}

static bool verify(const char *hash, const char *password)
{
    if (!password)
        password = "";
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

int accounts_login(struct accounts_guard *g, const char *dir, const char *name,
                   const char *password, uint64_t now_ms, enum account_role *role_out,
                   uint64_t *retry_ms_out)
{
    if (crypto_ready() != DS_OK)
        return DS_EIO;
    if (!account_name_valid(name)) {
        (void)verify(g->dummy, password); /* same time as any other refusal */
        return DS_EAUTH;
    }
    pthread_mutex_lock(&g->mu);
    struct tracked *t = track(g, name, now_ms);
    if (!t) {
        pthread_mutex_unlock(&g->mu);
        *retry_ms_out = 1000;
        return DS_EAGAIN;
    }
    t->users++;
    while (t->busy)
        pthread_cond_wait(&g->idle, &g->mu);
    t->last_used = ++g->tick;
    if (slot_locked(t, now_ms)) {
        if (t->locked_until - now_ms > ACCOUNT_LOCK_MS) /* the clock went back */
            t->locked_until = now_ms + ACCOUNT_LOCK_MS;
        uint64_t left = t->locked_until - now_ms;
        t->users--;
        pthread_mutex_unlock(&g->mu);
        *retry_ms_out = left;
        return DS_EAGAIN;
    }
    t->locked_until = 0;
    t->busy = true;
    pthread_mutex_unlock(&g->mu);

    char hash[HASH_SIZE];
    enum account_role role = ACCOUNT_VIEWER;
    bool found = false;
    int rc = lookup(dir, name, &found, &role, hash);
    if (rc == DS_OK) {
        bool ok = verify(found ? hash : g->dummy, password);
        rc = ok && found ? DS_OK : DS_EAUTH;
    }
    sodium_memzero(hash, sizeof(hash));

    pthread_mutex_lock(&g->mu);
    if (rc == DS_OK) {
        t->failures = 0;
    } else if (rc == DS_EAUTH && ++t->failures >= ACCOUNT_LOCK_FAILURES) {
        t->failures = 0;
        t->locked_until = now_ms + ACCOUNT_LOCK_MS;
        log_warn("accounts: locked user=\"%s\" for_ms=%u", name, ACCOUNT_LOCK_MS);
    }
    t->busy = false;
    t->users--;
    pthread_cond_broadcast(&g->idle);
    pthread_mutex_unlock(&g->mu);
    if (rc == DS_OK)
        *role_out = role;
    return rc;
}

/* ---- the command line */

/* Set by the handler while a password is read with echo off: the read returns EINTR, the
 * terminal is restored, and the signal is raised again. The one static besides the lock. */
static volatile sig_atomic_t prompt_signal;

static void on_prompt_signal(int sig)
{
    prompt_signal = sig;
}

/* Reads one line from fd (without its CR/LF) into buf. DS_EINVAL: longer than
 * ACCOUNT_PASSWORD_MAX; DS_EIO: read error or interrupted by a signal. */
static int read_line(int fd, char *buf, size_t size)
{
    size_t len = 0;
    int rc = DS_OK;
    for (;;) {
        char c;
        ssize_t n = read(fd, &c, 1);
        if (n < 0 && errno == EINTR && !prompt_signal)
            continue;
        if (n < 0)
            rc = DS_EIO;
        if (n <= 0 || c == '\n')
            break;
        if (len + 1 >= size || len >= ACCOUNT_PASSWORD_MAX)
            rc = DS_EINVAL; /* keep reading to the end of the line, store nothing more */
        else
            buf[len++] = c;
    }
    while (len > 0 && buf[len - 1] == '\r')
        len--;
    buf[len] = '\0';
    return rc;
}

static int prompt_twice(char *buf, char *again, size_t size)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGTSTP};
    struct sigaction act, old[sizeof(sigs) / sizeof(sigs[0])];
    struct termios saved, quiet;
    if (tcgetattr(STDIN_FILENO, &saved) != 0)
        return DS_EIO;
    memset(&act, 0, sizeof(act));
    act.sa_handler = on_prompt_signal; /* no SA_RESTART: read() returns EINTR */
    sigemptyset(&act.sa_mask);
    prompt_signal = 0;
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &act, &old[i]);
    quiet = saved;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    quiet.c_lflag |= ECHONL;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    fputs(TR("新密码: ", "new password: "), stderr);
    int rc = read_line(STDIN_FILENO, buf, size);
    if (rc == DS_OK && !prompt_signal) {
        fputs(TR("再输入一次: ", "again: "), stderr);
        rc = read_line(STDIN_FILENO, again, size);
    }
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &old[i], NULL);
    if (prompt_signal) {
        fprintf(stderr, "\n");
        raise(prompt_signal);
        return DS_EIO;
    }
    return rc;
}

/* The new password of `user add` / `user passwd` into buf (size > ACCOUNT_PASSWORD_MAX).
 * Returns an exit code: 0, or 1 after printing the refusal. */
static int read_password(const char *file, char *buf, size_t size)
{
    char again[ACCOUNT_PASSWORD_MAX + 2];
    int rc, fd = STDIN_FILENO;
    if (file) {
        fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr,
                    TR("错误: 无法打开密码文件 %s(%s)\n",
                       "error: cannot open the password file %s: %s\n"),
                    file, strerror(errno));
            return 1;
        }
        rc = read_line(fd, buf, size);
        close(fd);
    } else if (isatty(STDIN_FILENO)) {
        rc = prompt_twice(buf, again, sizeof(again) < size ? sizeof(again) : size);
        if (rc == DS_OK && strcmp(buf, again) != 0) {
            cli_error("两次输入的密码不一致", "the two passwords do not match");
            rc = 1;
        }
        sodium_memzero(again, sizeof(again));
        if (rc == 1)
            return 1;
    } else {
        rc = read_line(STDIN_FILENO, buf, size);
    }
    if (rc == DS_EINVAL) {
        fprintf(stderr,
                TR("错误: 密码太长(最多 %d 字节)\n",
                   "error: the password is too long (at most %d bytes)\n"),
                ACCOUNT_PASSWORD_MAX);
        return 1;
    }
    if (rc != DS_OK) {
        cli_error("无法读取密码", "cannot read the password");
        return 1;
    }
    if (strlen(buf) < ACCOUNT_PASSWORD_MIN) {
        fprintf(stderr,
                TR("错误: 密码太短(至少 %d 个字符)\n",
                   "error: the password is too short (at least %d characters)\n"),
                ACCOUNT_PASSWORD_MIN);
        return 1;
    }
    return 0;
}

/* Prints the refusal for a code of the account functions; returns exit code 1. */
static int refuse(int rc, const char *dir, const char *name)
{
    char zh[400], en[400];
    switch (rc) {
    case DS_EEXIST:
        snprintf(zh, sizeof(zh), "账户 %s 已存在", name);
        snprintf(en, sizeof(en), "account %s already exists", name);
        break;
    case DS_ENOTFOUND:
        snprintf(zh, sizeof(zh), "没有账户 %s", name);
        snprintf(en, sizeof(en), "no account %s", name);
        break;
    case DS_EINVAL:
        snprintf(zh, sizeof(zh), "账户名或密码无效");
        snprintf(en, sizeof(en), "invalid account name or password");
        break;
    default:
        snprintf(zh, sizeof(zh), "无法读写 %.200s/users,或该文件已损坏(见上面的日志)", dir);
        snprintf(en, sizeof(en),
                 "cannot read or write %.200s/users, or it is corrupt (see the "
                 "log line above)",
                 dir);
        break;
    }
    cli_error(zh, en);
    return 1;
}

static int cli_list(const struct cli_parsed *p)
{
    json_t *list = NULL, *e;
    size_t i;
    int rc = accounts_list(p->data_dir, &list);
    if (rc != DS_OK)
        return refuse(rc, p->data_dir, "");
    if (p->json) {
        char *text = json_dumps(list, JSON_COMPACT);
        printf("%s\n", text);
        free(text);
    } else if (json_array_size(list) == 0) {
        printf(TR("没有账户(用 user add 添加)\n", "no accounts (add one with user add)\n"));
    } else {
        json_array_foreach(list, i, e)
        {
            cli_cell(json_string_value(json_object_get(e, "name")), 25);
            printf("%s\n", json_string_value(json_object_get(e, "role")));
        }
    }
    json_decref(list);
    return 0;
}

static void print_done(const struct cli_parsed *p, const char *zh, const char *en, const char *name,
                       const char *role)
{
    if (p->json) {
        json_t *j = role ? json_pack("{s:s,s:s}", "name", name, "role", role)
                         : json_pack("{s:s}", "name", name);
        char *text = json_dumps(j, JSON_COMPACT);
        printf("%s\n", text);
        free(text);
        json_decref(j);
    } else if (role) {
        printf(TR("%s %s(%s)\n", "%s %s (%s)\n"), TR(zh, en), name, role);
    } else {
        printf("%s %s\n", TR(zh, en), name);
    }
}

int accounts_cli_main(const struct cli_parsed *p)
{
    const char *cmd = p->cmd->name, *name = p->positional, *file = cli_get(p, "password-file");
    char password[ACCOUNT_PASSWORD_MAX + 2];
    enum account_role role = ACCOUNT_VIEWER;
    int rc;
    if (!cli_data_dir_initialised(p->data_dir)) {
        fprintf(stderr,
                TR("错误: %s 不是已初始化的数据目录(没有 node.conf 或 broker.conf)\n",
                   "error: %s is not an initialised data directory (no node.conf or "
                   "broker.conf)\n"),
                p->data_dir);
        return 1;
    }
    if (strcmp(cmd, "user list") == 0)
        return cli_list(p);
    if (strcmp(cmd, "user add") == 0 && account_role_parse(cli_get(p, "role"), &role) != DS_OK) {
        cli_error("--role 须为 operator 或 viewer", "--role must be operator or viewer");
        return 2;
    }
    if (!account_name_valid(name)) {
        cli_error("账户名须为 1 到 63 字节的 UTF-8,不含空白、控制字符、: / 和引号",
                  "an account name is 1..63 bytes of UTF-8 without whitespace, control "
                  "characters, ':', '/' or quotes");
        return 1;
    }
    if (strcmp(cmd, "user remove") == 0) {
        rc = accounts_remove(p->data_dir, name);
        if (rc != DS_OK)
            return refuse(rc, p->data_dir, name);
        print_done(p, "已删除账户", "account removed:", name, NULL);
        return 0;
    }
    /* add / passwd: refuse a taken or unknown name before asking for a password. */
    enum account_role existing;
    rc = accounts_get(p->data_dir, name, &existing);
    if (strcmp(cmd, "user add") == 0 ? rc != DS_ENOTFOUND : rc != DS_OK)
        return refuse(rc == DS_OK ? DS_EEXIST : rc, p->data_dir, name);
    int code = read_password(file, password, sizeof(password));
    if (code == 0) {
        bool add = strcmp(cmd, "user add") == 0;
        rc = add ? accounts_add(p->data_dir, name, role, password)
                 : accounts_passwd(p->data_dir, name, password);
        if (rc != DS_OK)
            code = refuse(rc, p->data_dir, name);
        else if (add)
            print_done(p, "已添加账户", "account added:", name, account_role_name(role));
        else
            print_done(p, "已修改密码,账户", "password changed:", name, NULL);
    }
    sodium_memzero(password, sizeof(password));
    return code;
}
